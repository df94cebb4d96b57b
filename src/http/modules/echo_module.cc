// The echo-nginx-module directives Test::Nginx files rely on: echo,
// echo_before_body/echo_after_body, echo_sleep, echo_flush, echo_duplicate,
// echo_status, echo_location(_async), echo_exec, echo_read_request_body,
// echo_request_body. Commands of a location run in order; waiting ones
// (sleep, sync subrequest, body read) suspend the content handler.
#include <cmath>
#include <cstring>

#include "event/loop.h"
#include "http/core_module.h"
#include "http/filter.h"
#include "http/modules/modules.h"

namespace lunet::http {

namespace {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;

const conf::Module& mod();

enum class Cmd {
  kEcho,
  kSleep,
  kFlush,
  kDuplicate,
  kLocation,
  kLocationAsync,
  kExec,
  kReadBody,
  kRequestBody
};

struct EchoCmd {
  Cmd cmd;
  std::vector<ComplexValue> args;
  bool newline = true;
};

struct EchoLoc : ConfBase {
  std::vector<EchoCmd> cmds;
  std::vector<EchoCmd> before, after;
  int64_t status = -1;
};

struct EchoCtx {
  size_t next = 0;
  bool waiting = false;
  bool async = false;  // content handler returned kDone
  uv_timer_t* timer = nullptr;
  bool beforeSent = false;
};

EchoLoc* el(ConfBase* c) { return static_cast<EchoLoc*>(c); }

int content(Request& r);

EchoCmd parseCmd(const ConfNode& n, Cmd cmd) {
  EchoCmd c;
  c.cmd = cmd;
  size_t i = 0;
  if (cmd == Cmd::kEcho) {
    for (; i < n.args.size(); i++) {
      const std::string& a = n.arg(i);
      if (a == "-n" && !n.args[i].quoted) {
        c.newline = false;
      } else if (a == "--" && !n.args[i].quoted) {
        i++;
        break;
      } else if (a.size() > 1 && a[0] == '-' && !n.args[i].quoted && a != "-") {
        // unknown option: treated as text like echo-nginx-module
        break;
      } else {
        break;
      }
    }
  }
  for (; i < n.args.size(); i++) {
    ComplexValue v;
    v.compile(n, n.arg(i));
    c.args.push_back(std::move(v));
  }
  return c;
}

void setContentCmd(Engine& e, const ConfNode& n, ConfBase* conf, const Directive& d) {
  Cmd cmd = static_cast<Cmd>(reinterpret_cast<uintptr_t>(d.data));
  el(conf)->cmds.push_back(parseCmd(n, cmd));
  // the location's content handler is echo's
  auto* clcf = const_cast<HttpCoreLoc*>(coreLoc(e.level()));
  clcf->handler = content;
}

void setFilterCmd(Engine&, const ConfNode& n, ConfBase* conf, const Directive& d) {
  EchoCmd c = parseCmd(n, Cmd::kEcho);
  if (d.name == "echo_before_body")
    el(conf)->before.push_back(std::move(c));
  else
    el(conf)->after.push_back(std::move(c));
}

void setStatus(Engine&, const ConfNode& n, ConfBase* conf, const Directive&) {
  el(conf)->status = conf::parseNumber(n, 0);
}

std::string_view render(Request& r, const EchoCmd& c) {
  std::string s;
  for (size_t i = 0; i < c.args.size(); i++) {
    if (i) s += ' ';
    s.append(c.args[i].eval(r));
  }
  if (c.newline) s += '\n';
  return r.arena.dup(s);
}

void prepareHeader(Request& r) {
  if (r.headerSent) return;
  const auto* l = r.loc<EchoLoc>(mod());
  if (r.headersOut.status == 0)
    r.headersOut.status = l->status > 0 ? static_cast<int>(l->status) : 200;
  setContentType(r);
}

int run(Request& r, EchoCtx* ctx);

void onSleep(uv_timer_t* t) {
  auto* r = static_cast<Request*>(t->data);
  auto* ctx = static_cast<EchoCtx*>(r->getCtx(mod()));
  ctx->waiting = false;
  int rc = run(*r, ctx);
  finalize(*r, rc);
}

void closeTimer(void* p) {
  auto* ctx = static_cast<EchoCtx*>(p);
  if (ctx->timer) {
    uv_timer_stop(ctx->timer);
    uv_close(reinterpret_cast<uv_handle_t*>(ctx->timer),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    ctx->timer = nullptr;
  }
}

int onSubDone(Request& sr, void* data, int rc) {
  (void)sr;
  auto* parent = static_cast<Request*>(data);
  auto* ctx = static_cast<EchoCtx*>(parent->getCtx(mod()));
  if (ctx != nullptr && ctx->waiting) {
    ctx->waiting = false;
    // Continue the parent once the subrequest's output was flushed.
    int prc = run(*parent, ctx);
    if (prc != kDone) finalize(*parent, prc);
  }
  return rc;
}

void onBodyRead(Request& r) {
  auto* ctx = static_cast<EchoCtx*>(r.getCtx(mod()));
  if (ctx == nullptr || !ctx->waiting) return;
  ctx->waiting = false;
  int rc = run(r, ctx);
  finalize(r, rc);
}

// Runs commands from ctx->next; returns kDone when waiting, else the final rc.
int run(Request& r, EchoCtx* ctx) {
  const auto* l = r.loc<EchoLoc>(mod());
  while (ctx->next < l->cmds.size()) {
    const EchoCmd& c = l->cmds[ctx->next++];
    switch (c.cmd) {
      case Cmd::kEcho: {
        prepareHeader(r);
        std::string_view s = render(r, c);
        if (!s.empty() && output(r, newBuf(r, s)) == kError) return kError;
        break;
      }
      case Cmd::kDuplicate: {
        prepareHeader(r);
        std::string_view ns = c.args[0].eval(r);
        std::string_view s = c.args.size() > 1 ? c.args[1].eval(r) : std::string_view();
        long n = std::strtol(std::string(ns).c_str(), nullptr, 10);
        std::string out;
        for (long i = 0; i < n; i++) out.append(s);
        if (!out.empty() && output(r, newBuf(r, r.arena.dup(out))) == kError) return kError;
        break;
      }
      case Cmd::kFlush: {
        prepareHeader(r);
        Buf* b = newBuf(r, {});
        b->flush = true;
        output(r, b);
        break;
      }
      case Cmd::kSleep: {
        double secs = std::atof(std::string(c.args[0].eval(r)).c_str());
        if (ctx->timer == nullptr) {
          ctx->timer = new uv_timer_t;
          uv_timer_init(event::loop(), ctx->timer);
          ctx->timer->data = &r;
          addCleanup(r, closeTimer, ctx);
        }
        ctx->waiting = true;
        uv_timer_start(ctx->timer, onSleep, static_cast<uint64_t>(std::llround(secs * 1000)), 0);
        return kDone;
      }
      case Cmd::kLocation:
      case Cmd::kLocationAsync: {
        prepareHeader(r);
        if (!r.headerSent) sendHeader(r);
        std::string_view uri = c.args[0].eval(r);
        std::string_view args = c.args.size() > 1 ? c.args[1].eval(r) : std::string_view();
        SubrequestOptions o;
        bool sync = c.cmd == Cmd::kLocation;
        o.done = onSubDone;
        o.data = &r;
        if (sync) ctx->waiting = true;
        if (subrequest(r, uri, args, o, nullptr) != kOk) return kError;
        if (sync && ctx->waiting) return kDone;
        break;
      }
      case Cmd::kExec: {
        std::string_view uri = c.args[0].eval(r);
        std::string_view args = c.args.size() > 1 ? c.args[1].eval(r) : std::string_view();
        if (!uri.empty() && uri[0] == '@') return namedLocation(r, uri);
        return internalRedirect(r, uri, args);
      }
      case Cmd::kReadBody: {
        ctx->waiting = true;
        int rc = readBody(r, onBodyRead);
        if (rc == kAgain) return kDone;
        ctx->waiting = false;
        if (rc != kOk) return rc;
        break;
      }
      case Cmd::kRequestBody: {
        prepareHeader(r);
        RequestBody* b = r.main->body;
        if (b == nullptr) break;
        for (Buf* x = b->bufs; x; x = x->next) {
          if (!x->data.empty()) output(r, newBuf(r, x->data));
        }
        break;
      }
    }
  }
  prepareHeader(r);
  return kOk;
}

int content(Request& r) {
  auto* ctx = static_cast<EchoCtx*>(r.getCtx(mod()));
  if (ctx == nullptr) {
    ctx = r.arena.make<EchoCtx>();
    r.setCtx(mod(), ctx);
  }
  // body-less echo locations discard the request body
  return run(r, ctx);
}

BodyFilter gNextBody = nullptr;
HeaderFilter gNextHeader = nullptr;

int headerFilter(Request& r) {
  const auto* l = r.loc<EchoLoc>(mod());
  if (!l->before.empty() || !l->after.empty()) r.headersOut.contentLength = -1;
  return gNextHeader(r);
}

int bodyFilter(Request& r, Buf* in) {
  const auto* l = r.loc<EchoLoc>(mod());
  if (l->before.empty() && l->after.empty()) return gNextBody(r, in);
  auto* ctx = static_cast<EchoCtx*>(r.getCtx(mod()));
  if (ctx == nullptr) {
    ctx = r.arena.make<EchoCtx>();
    r.setCtx(mod(), ctx);
  }
  Buf* head = in;
  if (!ctx->beforeSent && !l->before.empty()) {
    ctx->beforeSent = true;
    Buf* first = nullptr;
    Buf** tail = &first;
    for (const EchoCmd& c : l->before) {
      Buf* b = newBuf(r, render(r, c));
      *tail = b;
      tail = &b->next;
    }
    *tail = in;
    head = first;
  }
  if (!l->after.empty()) {
    for (Buf** pp = &head; *pp; pp = &(*pp)->next) {
      Buf* b = *pp;
      if (b->last || b->lastInChain) {
        bool last = b->last, lic = b->lastInChain;
        b->last = b->lastInChain = false;
        Buf* first = nullptr;
        Buf** tail = &first;
        for (const EchoCmd& c : l->after) {
          Buf* nb = newBuf(r, render(r, c));
          *tail = nb;
          tail = &nb->next;
        }
        Buf* end = newBuf(r, {});
        end->last = last;
        end->lastInChain = lic;
        *tail = end;
        end->next = b->next;
        b->next = first;
        break;
      }
    }
  }
  return gNextBody(r, head);
}

void postConf(Engine&) {
  gNextHeader = pushHeaderFilter(headerFilter);
  gNextBody = pushBodyFilter(bodyFilter);
}

void mergeLoc(Engine&, ConfBase* p, ConfBase* c) {
  auto* pa = el(p);
  auto* ch = el(c);
  if (ch->before.empty()) ch->before = pa->before;
  if (ch->after.empty()) ch->after = pa->after;
  if (ch->status < 0) ch->status = pa->status;
}

#define ECHO_CMD(name, cmd, args)                                                       \
  {                                                                                     \
    name, conf::kHttpLocCtx | conf::kHttpLifCtx, args, setContentCmd, conf::Slot::kLoc, \
        reinterpret_cast<const void*>(static_cast<uintptr_t>(cmd))                      \
  }

const Directive kDirectives[] = {
    ECHO_CMD("echo", Cmd::kEcho, conf::kAnyArgs),
    ECHO_CMD("echo_sleep", Cmd::kSleep, conf::kTake1),
    ECHO_CMD("echo_flush", Cmd::kFlush, conf::kNoArgs),
    ECHO_CMD("echo_duplicate", Cmd::kDuplicate, conf::kTake2),
    ECHO_CMD("echo_location", Cmd::kLocation, conf::kTake12),
    ECHO_CMD("echo_location_async", Cmd::kLocationAsync, conf::kTake12),
    ECHO_CMD("echo_exec", Cmd::kExec, conf::kTake12),
    ECHO_CMD("echo_read_request_body", Cmd::kReadBody, conf::kNoArgs),
    ECHO_CMD("echo_request_body", Cmd::kRequestBody, conf::kNoArgs),
    {"echo_before_body", conf::kHttpLocCtx | conf::kHttpLifCtx, conf::kAnyArgs, setFilterCmd,
     conf::Slot::kLoc},
    {"echo_after_body", conf::kHttpLocCtx | conf::kHttpLifCtx, conf::kAnyArgs, setFilterCmd,
     conf::Slot::kLoc},
    {"echo_status", conf::kHttpLocCtx | conf::kHttpLifCtx, conf::kTake1, setStatus,
     conf::Slot::kLoc},
};

const conf::Module kModule{
    .name = "http_echo",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .createLoc = [] { return conf::ConfPtr(std::make_unique<EchoLoc>()); },
    .mergeLoc = mergeLoc,
    .postConfiguration = postConf,
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& httpEchoModule() { return kModule; }

}  // namespace lunet::http
