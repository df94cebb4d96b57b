#include <cerrno>
#include <cstdlib>

#include "conf/cycle.h"
#include "conf/module.h"

namespace lunet::conf {

Engine::Engine(Cycle& cycle) : cycle_(cycle) {}

const Directive* Engine::find(std::string_view name, const Module** owner) const {
  // A name may be declared by several modules for different contexts
  // (error_log: core for main, http core for http levels): prefer the one
  // allowed here.
  const Directive* any = nullptr;
  const Module* anyOwner = nullptr;
  for (const Module* m : allModules()) {
    for (const Directive& d : m->directives) {
      if (d.name != name) continue;
      if (d.contexts & ctx_) {
        *owner = m;
        return &d;
      }
      if (any == nullptr) {
        any = &d;
        anyOwner = m;
      }
    }
  }
  *owner = anyOwner;
  return any;
}

namespace {

bool argsOk(uint32_t spec, size_t n) {
  if (spec & kAnyArgs) return true;
  if ((spec & kFlag) && n == 1) return true;
  if ((spec & k1More) && n >= 1) return true;
  if ((spec & k2More) && n >= 2) return true;
  if (n <= 7 && (spec & (1u << n))) return true;
  return false;
}

}  // namespace

void Engine::processBlock(const std::vector<ConfNode>& nodes, uint32_t ctx, ConfLevel* level) {
  uint32_t savedCtx = ctx_;
  ConfLevel* savedLevel = level_;
  ctx_ = ctx;
  level_ = level;
  for (const ConfNode& node : nodes) {
    const Module* owner = nullptr;
    const Directive* d = find(node.name, &owner);
    if (d == nullptr) fail(node, "unknown directive \"" + node.name + "\"");
    if (!(d->contexts & ctx)) fail(node, "\"" + node.name + "\" directive is not allowed here");
    if ((d->args & kBlock) && !node.block) {
      fail(node, "directive \"" + node.name + "\" has no opening \"{\"");
    }
    if (!(d->args & kBlock) && node.block) {
      fail(node, "directive \"" + node.name + "\" is not terminated by \";\"");
    }
    if (!argsOk(d->args & ~kBlock, node.args.size()) &&
        !((d->args & kBlock) && (d->args & ~kBlock) == 0 && node.args.empty())) {
      fail(node, "invalid number of arguments in \"" + node.name + "\" directive");
    }
    ConfBase* conf = nullptr;
    switch (d->slot) {
      case Slot::kNone:
        break;
      case Slot::kMain:
        conf = level->main.size() > owner->index ? level->main[owner->index] : nullptr;
        break;
      case Slot::kSrv:
        conf = level->srv.size() > owner->index ? level->srv[owner->index].get() : nullptr;
        break;
      case Slot::kLoc:
        conf = level->loc.size() > owner->index ? level->loc[owner->index].get() : nullptr;
        break;
    }
    if (d->slot != Slot::kNone && conf == nullptr) {
      fail(node, "\"" + node.name + "\" directive is not allowed here");
    }
    d->set(*this, node, conf, *d);
  }
  ctx_ = savedCtx;
  level_ = savedLevel;
}

std::unique_ptr<ConfLevel> Engine::newHttpLevel(const ConfLevel& parent, bool withSrv) {
  auto lvl = std::make_unique<ConfLevel>();
  size_t n = allModules().size();
  lvl->main = parent.main;
  lvl->srv.resize(n);
  lvl->loc.resize(n);
  for (const Module* m : allModules()) {
    if (m->type != ModuleType::kHttp) continue;
    if (withSrv && m->createSrv) lvl->srv[m->index] = m->createSrv();
    if (m->createLoc) lvl->loc[m->index] = m->createLoc();
  }
  return lvl;
}

// ---- value parsers ----------------------------------------------------------

bool parseFlag(const ConfNode& node) {
  const std::string& v = node.arg(0);
  if (v == "on") return true;
  if (v == "off") return false;
  fail(node, "invalid value \"" + v + "\" in \"" + node.name +
                 "\" directive, it must be \"on\" or \"off\"");
}

bool tryParseNumber(const std::string& v, int64_t* out) {
  if (v.empty() || v.size() > 18) return false;
  int64_t r = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    r = r * 10 + (c - '0');
  }
  *out = r;
  return true;
}

int64_t parseNumber(const ConfNode& n, size_t arg) {
  const std::string& v = n.arg(arg);
  int64_t r = 0;
  if (!tryParseNumber(v, &r)) fail(n, "invalid number \"" + v + "\"");
  return r;
}

int64_t parseSize(const ConfNode& n, size_t arg) {
  std::string v = n.arg(arg);
  int64_t mul = 1;
  if (!v.empty()) {
    switch (v.back()) {
      case 'k':
      case 'K':
        mul = 1024;
        break;
      case 'm':
      case 'M':
        mul = 1024 * 1024;
        break;
      case 'g':
      case 'G':
        mul = 1024LL * 1024 * 1024;
        break;
    }
    if (mul != 1) v.pop_back();
  }
  if (v.empty() || v.size() > 15) fail(n, "\"" + n.name + "\" directive invalid value");
  int64_t r = 0;
  for (char c : v) {
    if (c < '0' || c > '9') fail(n, "\"" + n.name + "\" directive invalid value");
    r = r * 10 + (c - '0');
  }
  return r * mul;
}

int64_t parseMsec(const ConfNode& n, size_t arg) {
  // nginx's ngx_parse_time: sequences of NUMBER[unit], units y M w d h m s ms;
  // no unit means seconds.
  const std::string& v = n.arg(arg);
  if (v.empty()) fail(n, "\"" + n.name + "\" directive invalid value");
  int64_t total = 0;
  size_t i = 0;
  while (i < v.size()) {
    if (v[i] < '0' || v[i] > '9') fail(n, "\"" + n.name + "\" directive invalid value");
    int64_t num = 0;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
      num = num * 10 + (v[i] - '0');
      if (num > (int64_t{1} << 40)) fail(n, "\"" + n.name + "\" directive invalid value");
      i++;
    }
    int64_t mul = 1000;
    if (i < v.size()) {
      char u = v[i++];
      switch (u) {
        case 'y':
          mul = 365LL * 24 * 3600 * 1000;
          break;
        case 'M':
          mul = 30LL * 24 * 3600 * 1000;
          break;
        case 'w':
          mul = 7LL * 24 * 3600 * 1000;
          break;
        case 'd':
          mul = 24LL * 3600 * 1000;
          break;
        case 'h':
          mul = 3600LL * 1000;
          break;
        case 'm':
          if (i < v.size() && v[i] == 's') {
            mul = 1;
            i++;
          } else {
            mul = 60LL * 1000;
          }
          break;
        case 's':
          mul = 1000;
          break;
        default:
          fail(n, "\"" + n.name + "\" directive invalid value");
      }
    }
    total += num * mul;
  }
  return total;
}

void setIgnored(Engine&, const ConfNode&, ConfBase*, const Directive&) {}

}  // namespace lunet::conf
