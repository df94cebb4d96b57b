// split_clients STRING $var { N% value; ... * value; } (nginx's
// ngx_http_split_clients_module): MurmurHash2 of STRING picks a bucket, so
// a key lands in the same bucket as with nginx.
#include <memory>
#include <string>
#include <vector>

#include "conf/cycle.h"
#include "http/modules/modules.h"
#include "http/variables.h"

namespace lunet::http {

namespace {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;

struct Part {
  uint32_t upTo = 0;     // hash < upTo picks it; 0 for "*" (the rest)
  uint32_t percent = 0;  // in 1/100 %
  std::string value;
};

struct Split {
  ComplexValue source;
  std::vector<Part> parts;
  int index = -1;
};

struct SplitMain : ConfBase {
  std::vector<std::unique_ptr<Split>> splits;
};

const conf::Module& mod();

// nginx's ngx_murmur_hash2.
uint32_t murmur2(std::string_view s) {
  const auto* d = reinterpret_cast<const unsigned char*>(s.data());
  size_t len = s.size();
  uint32_t h = static_cast<uint32_t>(len);
  while (len >= 4) {
    uint32_t k = d[0] | (uint32_t{d[1]} << 8) | (uint32_t{d[2]} << 16) | (uint32_t{d[3]} << 24);
    k *= 0x5bd1e995;
    k ^= k >> 24;
    k *= 0x5bd1e995;
    h *= 0x5bd1e995;
    h ^= k;
    d += 4;
    len -= 4;
  }
  switch (len) {
    case 3:
      h ^= uint32_t{d[2]} << 16;
      [[fallthrough]];
    case 2:
      h ^= uint32_t{d[1]} << 8;
      [[fallthrough]];
    case 1:
      h ^= d[0];
      h *= 0x5bd1e995;
  }
  h ^= h >> 13;
  h *= 0x5bd1e995;
  h ^= h >> 15;
  return h;
}

void splitGet(Request& r, std::string_view, VarValue* out, uintptr_t data) {
  const auto* s = reinterpret_cast<const Split*>(data);
  uint32_t h = murmur2(s->source.eval(r));
  out->data = {};
  for (const Part& p : s->parts) {
    if (h < p.upTo || p.upTo == 0) {
      out->data = p.value;
      break;
    }
  }
  out->notFound = false;
  setIndexed(r, s->index, out->data);
}

// nginx's ngx_atofp(s, len, 2): "12.5" → 1250; at most 2 decimals.
bool parsePercent(std::string_view s, uint32_t* out) {
  uint64_t v = 0;
  int decimals = -1;
  if (s.empty()) return false;
  for (char c : s) {
    if (c == '.') {
      if (decimals >= 0) return false;
      decimals = 0;
      continue;
    }
    if (c < '0' || c > '9') return false;
    if (decimals >= 2) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (decimals >= 0) decimals++;
    if (v > 1000000) return false;
  }
  for (int d = decimals < 0 ? 0 : decimals; d < 2; d++) v *= 10;
  *out = static_cast<uint32_t>(v);
  return true;
}

void setSplit(Engine& e, const ConfNode& n, ConfBase*, const Directive&) {
  auto* main = static_cast<SplitMain*>(e.cycle().confs[mod().index].get());
  const std::string& name = n.arg(1);
  if (name.size() < 2 || name[0] != '$') fail(n, "invalid variable name \"" + name + "\"");
  auto s = std::make_unique<Split>();
  s->source.compile(n, n.arg(0));
  for (const ConfNode& c : n.children) {
    if (c.block || c.args.size() != 1) fail(c, "invalid number of arguments in split_clients");
    Part p;
    p.value = c.arg(0);
    if (c.name != "*") {
      if (c.name.empty() || c.name.back() != '%' ||
          !parsePercent(std::string_view(c.name).substr(0, c.name.size() - 1), &p.percent) ||
          p.percent == 0) {
        fail(c, "invalid percent value \"" + c.name + "\"");
      }
    }
    s->parts.push_back(std::move(p));
  }
  uint32_t sum = 0;
  uint64_t last = 0;
  for (Part& p : s->parts) {
    sum = p.percent ? sum + p.percent : 10000;
    if (sum > 10000) fail(n, "percent total is greater than 100%");
    if (p.percent) {
      last += p.percent * uint64_t{0xffffffff} / 10000;
      p.upTo = static_cast<uint32_t>(last);
    }
  }
  std::string var = name.substr(1);
  Variable* v = addVariable(var, splitGet, reinterpret_cast<uintptr_t>(s.get()), 0);
  if (v->get != splitGet && !(v->flags & kVarChangeable)) {
    fail(n, "the duplicate \"" + var + "\" variable");
  }
  v->get = splitGet;
  v->data = reinterpret_cast<uintptr_t>(s.get());
  v->flags |= kVarChangeable;
  s->index = variableIndex(var, false);
  main->splits.push_back(std::move(s));
}

const Directive kDirectives[] = {
    {"split_clients", conf::kHttpMainCtx, conf::kBlock | conf::kTake2, setSplit, conf::Slot::kNone},
};

const conf::Module kModule{
    .name = "http_split_clients",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .nginxModules = "http_split_clients_module",
    .createMain = [] { return conf::ConfPtr(std::make_unique<SplitMain>()); },
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& httpSplitClientsModule() { return kModule; }

}  // namespace lunet::http
