// return, rewrite, set, if, break — the rewrite module's small script,
// run in SERVER_REWRITE (server level) and REWRITE (location level).
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>

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

enum class OpKind { kReturn, kRewrite, kSet, kIf, kBreak, kCall };
enum class RwFlag { kNone, kLast, kBreak, kRedirect, kPermanent };
enum class CondKind { kTrue, kEq, kNe, kRe, kNre, kFile, kDir, kExists, kExec };

struct Op {
  OpKind kind;
  int code = 0;
  ComplexValue value;  // return text / rewrite replacement / set value / if operand
  bool hasValue = false;
  std::unique_ptr<Regex> regex;
  RwFlag flag = RwFlag::kNone;
  int varIndex = -1;
  std::string varName;
  // if
  CondKind cond = CondKind::kTrue;
  bool negate = false;
  ComplexValue left;
  ComplexValue right;
  const conf::ConfLevel* ifLevel = nullptr;
  const struct RewriteLoc* ifConf = nullptr;
  // call (addRewriteCallOp)
  RewriteCallOp call = nullptr;
  const void* callData = nullptr;
};

struct RewriteLoc : ConfBase {
  std::vector<std::unique_ptr<Op>> ops;
  int64_t log = -1;
  int64_t uninitWarn = -1;
};

RewriteLoc* rl(ConfBase* c) { return static_cast<RewriteLoc*>(c); }

void setReturn(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto op = std::make_unique<Op>();
  op->kind = OpKind::kReturn;
  const std::string& a0 = n.arg(0);
  bool isNum = !a0.empty() && std::all_of(a0.begin(), a0.end(), ::isdigit);
  if (!isNum) {
    if (n.args.size() != 1) fail(n, "invalid return code \"" + a0 + "\"");
    if (a0.rfind("http://", 0) != 0 && a0.rfind("https://", 0) != 0 &&
        a0.rfind("$scheme", 0) != 0) {
      fail(n, "invalid return code \"" + a0 + "\"");
    }
    op->code = 302;
    op->value.compile(n, a0);
    op->hasValue = true;
  } else {
    op->code = std::atoi(a0.c_str());
    if (op->code > 999) fail(n, "invalid return code \"" + a0 + "\"");
    if (n.args.size() > 1) {
      op->value.compile(n, n.arg(1));
      op->hasValue = true;
    }
  }
  rl(c)->ops.push_back(std::move(op));
}

void setRewrite(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto op = std::make_unique<Op>();
  op->kind = OpKind::kRewrite;
  std::string err;
  op->regex.reset(Regex::compile(n.arg(0), false, &err));
  if (!op->regex) fail(n, err);
  op->value.compile(n, n.arg(1));
  if (n.args.size() == 3) {
    const std::string& f = n.arg(2);
    if (f == "last")
      op->flag = RwFlag::kLast;
    else if (f == "break")
      op->flag = RwFlag::kBreak;
    else if (f == "redirect")
      op->flag = RwFlag::kRedirect;
    else if (f == "permanent")
      op->flag = RwFlag::kPermanent;
    else
      fail(n, "invalid parameter \"" + f + "\"");
  }
  const std::string& rep = n.arg(1);
  if (op->flag == RwFlag::kNone || op->flag == RwFlag::kLast || op->flag == RwFlag::kBreak) {
    if (rep.rfind("http://", 0) == 0 || rep.rfind("https://", 0) == 0 ||
        rep.rfind("$scheme", 0) == 0) {
      if (op->flag == RwFlag::kNone)
        op->flag = RwFlag::kRedirect;
      else
        op->flag = RwFlag::kRedirect;
    }
  }
  rl(c)->ops.push_back(std::move(op));
}

void setSet(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  std::string v = n.arg(0);
  if (v.size() < 2 || v[0] != '$') fail(n, "invalid variable name \"" + v + "\"");
  v = v.substr(1);
  auto op = std::make_unique<Op>();
  op->kind = OpKind::kSet;
  op->varName = v;
  op->varIndex = variableIndex(v, true);
  op->value.compile(n, n.arg(1));
  rl(c)->ops.push_back(std::move(op));
}

void setBreak(Engine&, const ConfNode&, ConfBase* c, const Directive&) {
  auto op = std::make_unique<Op>();
  op->kind = OpKind::kBreak;
  rl(c)->ops.push_back(std::move(op));
}

void setIf(Engine& e, const ConfNode& n, ConfBase* c, const Directive&) {
  auto op = std::make_unique<Op>();
  op->kind = OpKind::kIf;
  std::vector<std::string> a;
  std::vector<bool> quoted;
  for (const auto& x : n.args) {
    a.push_back(x.value);
    quoted.push_back(x.quoted);
  }
  if (a.front().empty() || a.front()[0] != '(') fail(n, "invalid condition \"" + a.front() + "\"");
  a.front().erase(0, 1);
  if (a.back().empty() || a.back().back() != ')') fail(n, "invalid condition \"" + a.back() + "\"");
  a.back().pop_back();
  // Drop what only the parentheses made empty; a quoted "" is an operand
  // (`if ($secure_link = "")`).
  std::vector<std::string> kept;
  for (size_t i = 0; i < a.size(); i++) {
    if (!a[i].empty() || (quoted[i] && i != 0 && i + 1 != a.size())) kept.push_back(a[i]);
  }
  a = std::move(kept);
  if (a.empty()) fail(n, "invalid condition");
  if (a.size() == 1) {
    if (a[0][0] != '$') fail(n, "invalid condition \"" + a[0] + "\"");
    op->cond = CondKind::kTrue;
    op->left.compile(n, a[0]);
  } else if (a.size() == 2) {
    std::string f = a[0];
    if (f[0] == '!') {
      op->negate = true;
      f = f.substr(1);
    }
    if (f == "-f")
      op->cond = CondKind::kFile;
    else if (f == "-d")
      op->cond = CondKind::kDir;
    else if (f == "-e")
      op->cond = CondKind::kExists;
    else if (f == "-x")
      op->cond = CondKind::kExec;
    else
      fail(n, "invalid condition \"" + a[0] + "\"");
    op->left.compile(n, a[1]);
  } else if (a.size() == 3) {
    op->left.compile(n, a[0]);
    const std::string& o = a[1];
    if (o == "=") {
      op->cond = CondKind::kEq;
      op->right.compile(n, a[2]);
    } else if (o == "!=") {
      op->cond = CondKind::kNe;
      op->right.compile(n, a[2]);
    } else if (o == "~" || o == "~*" || o == "!~" || o == "!~*") {
      op->cond = o[0] == '!' ? CondKind::kNre : CondKind::kRe;
      std::string err;
      op->regex.reset(Regex::compile(a[2], o.back() == '*', &err));
      if (!op->regex) fail(n, err);
    } else {
      fail(n, "unexpected \"" + o + "\" in condition");
    }
  } else {
    fail(n, "invalid condition");
  }
  uint32_t ctx = e.ctx() == conf::kHttpSrvCtx ? conf::kHttpSifCtx : conf::kHttpLifCtx;
  if (e.ctx() == conf::kHttpSifCtx) ctx = conf::kHttpSifCtx;
  Op* raw = op.get();
  rl(c)->ops.push_back(std::move(op));
  HttpCoreLoc* loc = newIfLevel(e, n, ctx);
  raw->ifLevel = loc->level;
  raw->ifConf = loc->level->locConf<RewriteLoc>(mod());
}

// ---- run time ----

// rewrite_log: nginx's notice lines for each regex test.
// Like nginx, also when the error log takes debug lines.
void logMatch(Request& r, const RewriteLoc* conf, const Regex& re, std::string_view subject,
              bool matched) {
  if (conf->log != 1 && !r.log.enabled(core::Level::kDebug)) return;
  LUNET_LOG(r.log, core::Level::kNotice, 0, "\"%s\" %s \"%.*s\"", re.pattern().c_str(),
            matched ? "matches" : "does not match", static_cast<int>(subject.size()),
            subject.data());
}

bool testCond(Request& r, const RewriteLoc* conf, const Op& op) {
  switch (op.cond) {
    case CondKind::kTrue: {
      std::string_view v = op.left.eval(r);
      return !(v.empty() || v == "0");
    }
    case CondKind::kEq:
      return op.left.eval(r) == op.right.eval(r);
    case CondKind::kNe:
      return op.left.eval(r) != op.right.eval(r);
    case CondKind::kRe:
    case CondKind::kNre: {
      std::string_view v = op.left.eval(r);
      int caps[60];
      int rc = op.regex->exec(v, caps, 60);
      bool m = rc > 0;
      logMatch(r, conf, *op.regex, v, m);
      if (m && op.cond == CondKind::kRe) {
        r.captures = r.arena.array<int>(static_cast<size_t>(rc) * 2);
        std::memcpy(r.captures, caps, sizeof(int) * 2 * static_cast<size_t>(rc));
        r.ncaptures = rc;
        r.captureSubject = v;
      }
      return op.cond == CondKind::kRe ? m : !m;
    }
    default: {
      std::string_view p = op.left.eval(r);  // NUL-terminated by eval
      struct stat st;
      bool ok = ::stat(std::string(p).c_str(), &st) == 0;
      bool res = false;
      if (op.cond == CondKind::kFile) res = ok && S_ISREG(st.st_mode);
      if (op.cond == CondKind::kDir) res = ok && S_ISDIR(st.st_mode);
      if (op.cond == CondKind::kExists) res = ok;
      if (op.cond == CondKind::kExec) res = ok && (st.st_mode & S_IXUSR);
      return op.negate ? !res : res;
    }
  }
}

int doReturn(Request& r, const Op& op) {
  int code = op.code;
  if (code == 444) return 444;
  // nginx answers these with ngx_http_send_response, which discards the
  // body first (and so answers "Expect: 100-continue"); a bare error code
  // goes to the error page, which does not.
  if (code < 400 || op.hasValue) {
    if (int rc = discardRequestBody(r); rc != kOk) return rc;
  }
  if (code == 301 || code == 302 || code == 303 || code == 307 || code == 308) {
    if (op.hasValue) r.headersOut.location = op.value.eval(r);
    return code;
  }
  if (!op.hasValue) {
    if (code >= 300) return code;
    r.headersOut.status = code;
    r.headersOut.contentLength = 0;
    if (code != 204) r.headersOut.contentType = *r.clcf()->defaultType;
    return kOk;
  }
  std::string_view text = op.value.eval(r);
  setContentType(r);
  r.headersOut.contentType = *r.clcf()->defaultType;
  int rc = sendResponse(r, code, r.headersOut.contentType, text);
  return rc == kError ? kError : kDone == rc ? kDone : kOk;
}

// Runs ops; returns kDeclined to continue phases, or a result to finalize.
int runOps(Request& r, const RewriteLoc* conf, bool* stop) {
  for (const auto& up : conf->ops) {
    const Op& op = *up;
    switch (op.kind) {
      case OpKind::kReturn: {
        *stop = true;
        int rc = doReturn(r, op);
        if (rc == kOk) {
          // sent (or empty 2xx): finalize as done
          return r.headerSent ? kOk : kOk;
        }
        return rc;
      }
      case OpKind::kBreak:
        *stop = true;
        return kDeclined;
      case OpKind::kSet: {
        std::string_view v = op.value.eval(r);
        if (!setVariable(r, op.varName, v)) setIndexed(r, op.varIndex, v);
        break;
      }
      case OpKind::kCall: {
        int rc = op.call(r, op.callData);
        if (rc != kDeclined) {
          *stop = true;
          return rc;
        }
        break;
      }
      case OpKind::kIf:
        if (testCond(r, conf, op)) {
          r.locConf = op.ifLevel;
          int rc = runOps(r, op.ifConf, stop);
          if (*stop || rc != kDeclined) return rc;
        }
        break;
      case OpKind::kRewrite: {
        int caps[60];
        int n = op.regex->exec(r.uri, caps, 60);
        logMatch(r, conf, *op.regex, r.uri, n > 0);
        if (n <= 0) break;
        r.captures = r.arena.array<int>(static_cast<size_t>(n) * 2);
        std::memcpy(r.captures, caps, sizeof(int) * 2 * static_cast<size_t>(n));
        r.ncaptures = n;
        r.captureSubject = r.arena.dup(r.uri);
        std::string_view rep = op.value.eval(r);
        if (op.flag == RwFlag::kRedirect || op.flag == RwFlag::kPermanent) {
          std::string_view loc = rep;
          if (rep.find('?') == std::string_view::npos && !r.args.empty() &&
              (op.value.source().empty() || op.value.source().back() != '?')) {
            std::string s(rep);
            s += '?';
            s.append(r.args);
            loc = r.arena.dup(s);
          } else if (!rep.empty() && rep.back() == '?') {
            loc = rep.substr(0, rep.size() - 1);
          }
          r.headersOut.location = loc;
          if (conf->log == 1 || r.log.enabled(core::Level::kDebug)) {
            LUNET_LOG(r.log, core::Level::kNotice, 0, "rewritten redirect: \"%.*s\"",
                      static_cast<int>(loc.size()), loc.data());
          }
          *stop = true;
          return op.flag == RwFlag::kPermanent ? 301 : 302;
        }
        std::string_view newUri = rep;
        std::string_view newArgs = r.args;
        size_t q = rep.find('?');
        if (q != std::string_view::npos) {
          newUri = rep.substr(0, q);
          std::string_view a = rep.substr(q + 1);
          if (a.empty()) {
            newArgs = {};
          } else if (!r.args.empty() && op.value.source().back() != '?') {
            std::string s(a);
            s += '&';
            s.append(r.args);
            newArgs = r.arena.dup(s);
          } else {
            newArgs = a;
          }
        }
        r.uri = newUri;
        r.args = newArgs;
        r.validUnparsedUri = false;
        if (op.flag == RwFlag::kBreak) r.validLocation = false;
        if (conf->log == 1 || r.log.enabled(core::Level::kDebug)) {
          LUNET_LOG(r.log, core::Level::kNotice, 0, "rewritten data: \"%.*s\", args: \"%.*s\"",
                    static_cast<int>(newUri.size()), newUri.data(),
                    static_cast<int>(newArgs.size()), newArgs.data());
        }
        r.exten = {};
        for (size_t i = r.uri.size(); i-- > 0;) {
          if (r.uri[i] == '/') break;
          if (r.uri[i] == '.') {
            r.exten = r.uri.substr(i + 1);
            break;
          }
        }
        if (op.flag == RwFlag::kLast) {
          r.uriChanged = true;
          *stop = true;
          return kDeclined;
        }
        if (op.flag == RwFlag::kBreak) {
          *stop = true;
          return kDeclined;
        }
        r.uriChanged = true;
        break;
      }
    }
  }
  return kDeclined;
}

int serverRewrite(Request& r) {
  const auto* c = r.srvConf->locConf<RewriteLoc>(mod());
  if (c->ops.empty()) return kDeclined;
  bool stop = false;
  int rc = runOps(r, c, &stop);
  if (r.uriChanged) {
    r.uriChanged = false;  // server-level: location is found next anyway
  }
  if (rc == kOk) {
    finalize(r, kOk);
    return kDone;
  }
  return rc;
}

int locRewrite(Request& r) {
  const auto* c = r.locConf->locConf<RewriteLoc>(mod());
  if (c->ops.empty()) return kDeclined;
  bool stop = false;
  int rc = runOps(r, c, &stop);
  if (rc == kOk) {
    finalize(r, kOk);
    return kDone;
  }
  if (rc == kDeclined && r.uriChanged) {
    return kOk;  // next phase: POST_REWRITE re-matches
  }
  return rc;
}

// A `set` variable read before any `set` ran in this request.
void warnUninitialized(Request& r, std::string_view name) noexcept {
  const auto* c = r.locConf ? r.locConf->locConf<RewriteLoc>(mod()) : nullptr;
  if (c != nullptr && c->uninitWarn == 0) return;
  LUNET_LOG(r.log, core::Level::kWarn, 0, "using uninitialized \"%.*s\" variable",
            static_cast<int>(name.size()), name.data());
}

void postConf(Engine&) {
  setUninitializedVariableHook(warnUninitialized);
  addPhaseHandler(Phase::kServerRewrite, serverRewrite);
  addPhaseHandler(Phase::kRewrite, locRewrite);
}

constexpr uint32_t kSrvLocIf =
    conf::kHttpSrvCtx | conf::kHttpLocCtx | conf::kHttpSifCtx | conf::kHttpLifCtx;

const Directive kDirectives[] = {
    {"return", kSrvLocIf, conf::kTake12, setReturn, conf::Slot::kLoc},
    {"rewrite", kSrvLocIf, conf::kTake23, setRewrite, conf::Slot::kLoc},
    {"set", kSrvLocIf, conf::kTake2, setSet, conf::Slot::kLoc},
    {"break", kSrvLocIf, conf::kNoArgs, setBreak, conf::Slot::kLoc},
    {"if", conf::kHttpSrvCtx | conf::kHttpLocCtx, conf::kBlock | conf::k1More, setIf,
     conf::Slot::kLoc},
    {"rewrite_log", conf::kAnyHttpCtx | conf::kHttpSifCtx | conf::kHttpLifCtx, conf::kFlag,
     conf::setFlag<&RewriteLoc::log>, conf::Slot::kLoc},
    {"uninitialized_variable_warn", conf::kAnyHttpCtx | conf::kHttpSifCtx | conf::kHttpLifCtx,
     conf::kFlag, conf::setFlag<&RewriteLoc::uninitWarn>, conf::Slot::kLoc},
};

// The ops of each level are its own (not inherited); the two flags are.
void mergeLoc(Engine&, ConfBase* parent, ConfBase* child) {
  conf::mergeValue(rl(child)->log, rl(parent)->log, int64_t{0});
  conf::mergeValue(rl(child)->uninitWarn, rl(parent)->uninitWarn, int64_t{1});
}

const conf::Module kModule{
    .name = "http_rewrite",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .nginxModules = "http_rewrite_module",
    .createLoc = [] { return conf::ConfPtr(std::make_unique<RewriteLoc>()); },
    .mergeLoc = mergeLoc,
    .postConfiguration = postConf,
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& httpRewriteModule() { return kModule; }

void addRewriteCallOp(conf::Engine& e, RewriteCallOp fn, const void* data) {
  auto* c = e.level()->locConf<RewriteLoc>(kModule);
  auto op = std::make_unique<Op>();
  op->kind = OpKind::kCall;
  op->call = fn;
  op->callData = data;
  c->ops.push_back(std::move(op));
}

}  // namespace lunet::http
