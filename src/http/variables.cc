// The variable registry and the built-in variables of the core.
#include "http/variables.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "core/time.h"
#include "http/connection.h"
#include "http/core_module.h"
#include "http/credentials.h"
#include "http/uri.h"

namespace lunet::http {

namespace {

std::vector<std::unique_ptr<Variable>> gVars;
std::vector<Variable*> gIndexed;

// Non-prefix variables by (lowercase) name: ngx.var.NAME reads and writes
// look names up at run time, where a scan of gVars costs ~100 ns for a
// variable defined late (a `set` in the config).
struct NameHash {
  size_t operator()(std::string_view s) const noexcept {
    uint32_t h = 2166136261u;
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    return h;
  }
};
std::unordered_map<std::string_view, Variable*, NameHash> gByName;

Variable* lookupName(std::string_view lowercase) noexcept {
  auto it = gByName.find(lowercase);
  return it != gByName.end() ? it->second : nullptr;
}

std::string lower(std::string_view s) {
  std::string o(s);
  for (char& c : o) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c | 0x20);
  }
  return o;
}

Variable* findVar(std::string_view name) { return lookupName(name); }

Variable* findPrefix(std::string_view name) {
  for (auto& v : gVars) {
    if ((v->flags & kVarPrefix) && name.size() > v->name.size() &&
        name.compare(0, v->name.size(), v->name) == 0) {
      return v.get();
    }
  }
  return nullptr;
}

std::string_view num(Request& r, int64_t n) {
  char* p = static_cast<char*>(r.arena.alloc(24, 1));
  int len = std::snprintf(p, 24, "%lld", static_cast<long long>(n));
  return {p, static_cast<size_t>(len)};
}

void set(VarValue* o, std::string_view v) {
  o->data = v;
  o->notFound = false;
}

// ---- getters ----
enum CoreVar : uintptr_t {
  kUri,
  kRequestUri,
  kArgs,
  kHost,
  kRemoteAddr,
  kRemotePort,
  kServerAddr,
  kServerPort,
  kScheme,
  kRequestMethod,
  kRequest,
  kStatus,
  kBodyBytesSent,
  kBytesSent,
  kRequestTime,
  kMsec,
  kTimeLocal,
  kTimeIso8601,
  kContentLength,
  kContentType,
  kServerName,
  kDocumentRoot,
  kRealpathRoot,
  kRequestLength,
  kConnection,
  kPid,
  kNginxVersion,
  kServerProtocol,
  kIsArgs,
  kDocumentUri,
  kRequestFilename,
  kConnectionRequests,
  kHostname,
  kRequestBody,
  kRequestCompletion,
  kHttpsVar,
  kQueryString,
  kRemoteUser,
};

void coreGet(Request& r, std::string_view, VarValue* o, uintptr_t d) {
  Connection* c = r.conn;
  switch (d) {
    case kUri:
    case kDocumentUri:
      set(o, r.uri);
      return;
    case kRequestUri:
      set(o, r.main->unparsedUri);
      return;
    case kArgs:
    case kQueryString:
      if (r.args.data() == nullptr) return;  // no '?' at all: not found, as nginx
      set(o, r.args);
      return;
    case kIsArgs:
      set(o, r.args.empty() ? "" : "?");
      return;
    case kHost: {
      std::string_view h = r.headersIn.server;
      if (h.empty()) h = r.cscf()->firstName;
      set(o, h);
      return;
    }
    case kRemoteAddr:
      set(o, c->peerText);
      return;
    case kRemotePort:
      // Empty for port 0 (realip took an address without a port), as nginx.
      set(o, c->peerPort != 0 ? num(r, c->peerPort) : std::string_view());
      return;
    case kServerAddr:
      set(o, c->localText);
      return;
    case kServerPort:
      set(o, num(r, c->localPort));
      return;
    case kScheme:
      set(o, "http");
      return;
    case kHttpsVar:
      set(o, "");
      return;
    case kRequestMethod:
      set(o, r.main->methodName);
      return;
    case kRequest:
      set(o, r.main->requestLine);
      return;
    case kStatus: {
      int st = r.main->status ? r.main->status : r.main->headersOut.status;
      char* p = static_cast<char*>(r.arena.alloc(4, 1));
      std::snprintf(p, 4, "%03d", st);
      set(o, {p, 3});
      return;
    }
    case kBodyBytesSent: {
      // bytes of the body: total written minus the header (approximation:
      // the header filter's first buf).
      int64_t n = r.main->bodyBytesSent - r.main->headerBytes;
      int64_t hdr = r.main->bodyBytesSent > 0 ? r.main->bodyBytesSent : 0;
      (void)hdr;
      set(o, num(r, n < 0 ? 0 : n));
      return;
    }
    case kBytesSent:
      set(o, num(r, r.main->bodyBytesSent));
      return;
    case kRequestTime: {
      int64_t ms = static_cast<int64_t>(core::nowMsec()) - r.main->startMsec;
      if (ms < 0) ms = 0;
      char* p = static_cast<char*>(r.arena.alloc(32, 1));
      int len = std::snprintf(p, 32, "%lld.%03lld", static_cast<long long>(ms / 1000),
                              static_cast<long long>(ms % 1000));
      set(o, {p, static_cast<size_t>(len)});
      return;
    }
    case kMsec: {
      uint64_t ms = core::nowMsec();
      char* p = static_cast<char*>(r.arena.alloc(32, 1));
      int len = std::snprintf(p, 32, "%llu.%03llu", static_cast<unsigned long long>(ms / 1000),
                              static_cast<unsigned long long>(ms % 1000));
      set(o, {p, static_cast<size_t>(len)});
      return;
    }
    case kTimeLocal:
      set(o, r.arena.dup(core::cachedLogTime()));
      return;
    case kTimeIso8601:
      set(o, r.arena.dup(core::cachedIso8601()));
      return;
    case kContentLength:
      if (r.headersIn.contentLength) set(o, r.headersIn.contentLength->value);
      return;
    case kContentType:
      if (r.headersIn.contentType) set(o, r.headersIn.contentType->value);
      return;
    case kServerName:
      set(o, r.cscf()->firstName);
      return;
    case kDocumentRoot:
    case kRealpathRoot: {
      size_t rootLen = 0;
      std::string_view p = mapUriToPath(r, &rootLen);
      std::string_view root = p.substr(0, rootLen);
      if (d == kRealpathRoot) {
        std::string z(root);
        char* real = ::realpath(z.c_str(), nullptr);
        if (real) {
          root = r.arena.dup(real);
          std::free(real);
        }
      }
      set(o, root);
      return;
    }
    case kRequestFilename: {
      size_t rootLen = 0;
      set(o, mapUriToPath(r, &rootLen));
      return;
    }
    case kRequestLength:
      set(o, num(r, r.main->requestLength + (r.main->body ? r.main->body->received : 0)));
      return;
    case kConnection:
      set(o, num(r, static_cast<int64_t>(c->number)));
      return;
    case kConnectionRequests:
      set(o, num(r, c->requests));
      return;
    case kPid:
      set(o, num(r, ::getpid()));
      return;
    case kNginxVersion:
      set(o, "1.27.0");
      return;
    case kServerProtocol: {
      // As the client wrote it ("HTTP/1.2" too): the request line's last word.
      int v = r.main->httpVersion;
      std::string_view line = r.main->requestLine;
      size_t sp = line.rfind(" HTTP/");
      if (v >= 1000 && sp != std::string_view::npos) {
        set(o, line.substr(sp + 1));
      } else {
        set(o, v >= 1001 ? "HTTP/1.1" : v == 1000 ? "HTTP/1.0" : "");
      }
      return;
    }
    case kHostname: {
      char hn[256] = {0};
      gethostname(hn, sizeof(hn) - 1);
      set(o, r.arena.dup(hn));
      return;
    }
    case kRequestBody: {
      RequestBody* b = r.main->body;
      if (b == nullptr || !b->done) return;
      size_t total = 0;
      for (Buf* x = b->bufs; x; x = x->next) total += x->data.size();
      if (b->bufs && !b->bufs->next) {
        set(o, b->bufs->data);
        return;
      }
      char* p = static_cast<char*>(r.arena.alloc(total + 1, 1));
      size_t off = 0;
      for (Buf* x = b->bufs; x; x = x->next) {
        if (!x->data.empty()) std::memcpy(p + off, x->data.data(), x->data.size());
        off += x->data.size();
      }
      set(o, {p, total});
      return;
    }
    case kRemoteUser: {
      std::string_view user, password;
      if (basicCredentials(r, &user, &password)) set(o, user);
      return;
    }
    case kRequestCompletion:
      set(o, r.main->finishing ? "OK" : "");
      return;
  }
}

// $http_NAME: request header (dashes as underscores, case-insensitive);
// several headers of that name are joined with ", " (";" for cookies).
void httpGet(Request& r, std::string_view name, VarValue* o, uintptr_t) {
  std::string_view h = name.substr(5);
  std::string_view first;
  size_t count = 0, total = 0;
  auto eqName = [&](std::string_view hn) {
    if (hn.size() != h.size()) return false;
    for (size_t i = 0; i < h.size(); i++) {
      char a = hn[i], b = h[i];
      if (a == '-') a = '_';
      if (a >= 'A' && a <= 'Z') a = static_cast<char>(a | 0x20);
      if (b >= 'A' && b <= 'Z') b = static_cast<char>(b | 0x20);
      if (a != b) return false;
    }
    return true;
  };
  const HeaderList& list = r.headersIn.list;  // a subrequest's own (a copy)
  for (const Header& x : list.all()) {
    if (eqName(x.name)) {
      if (count == 0) first = x.value;
      count++;
      total += x.value.size() + 2;
    }
  }
  if (count == 0) return;
  if (count == 1) {
    set(o, first);
    return;
  }
  bool cookie = h == "cookie";
  char* p = static_cast<char*>(r.arena.alloc(total, 1));
  size_t off = 0;
  for (const Header& x : list.all()) {
    if (!eqName(x.name)) continue;
    if (off) {
      if (cookie) {
        p[off++] = ';';
        p[off++] = ' ';
      } else {
        p[off++] = ',';
        p[off++] = ' ';
      }
    }
    if (!x.value.empty()) std::memcpy(p + off, x.value.data(), x.value.size());
    off += x.value.size();
  }
  set(o, {p, off});
}

void sentHttpGet(Request& r, std::string_view name, VarValue* o, uintptr_t) {
  std::string_view h = name.substr(10);
  std::string hn(h);
  for (char& ch : hn) {
    if (ch == '_') ch = '-';
  }
  if (ieq(hn, "content-type")) {
    if (!r.headersOut.contentType.empty()) set(o, r.headersOut.contentType);
    return;
  }
  if (ieq(hn, "content-length")) {
    if (r.headersOut.contentLength >= 0) set(o, num(r, r.headersOut.contentLength));
    return;
  }
  if (ieq(hn, "location")) {
    if (!r.headersOut.location.empty()) set(o, r.headersOut.location);
    return;
  }
  const Header* x = r.headersOut.list.find(hn);
  if (x) set(o, x->value);
}

void argGet(Request& r, std::string_view name, VarValue* o, uintptr_t) {
  std::string_view key = name.substr(4);
  std::string_view a = r.args;
  while (!a.empty()) {
    size_t amp = a.find('&');
    std::string_view pair = a.substr(0, amp);
    size_t eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    if (ieq(k, key)) {
      set(o, eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
      return;
    }
    if (amp == std::string_view::npos) break;
    a = a.substr(amp + 1);
  }
}

void cookieGet(Request& r, std::string_view name, VarValue* o, uintptr_t) {
  std::string_view key = name.substr(7);
  for (const Header& x : r.main->headersIn.list.all()) {
    if (!ieq(x.name, "Cookie")) continue;
    std::string_view v = x.value;
    while (!v.empty()) {
      size_t semi = v.find(';');
      std::string_view pair = v.substr(0, semi);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && ieq(pair.substr(0, eq), key)) {
        set(o, pair.substr(eq + 1));
        return;
      }
      if (semi == std::string_view::npos) break;
      v = v.substr(semi + 1);
    }
  }
}

void setUri(Request& r, std::string_view v, uintptr_t d) {
  if (d == kArgs) r.args = r.arena.dup(v);
  if (d == kUri) r.uri = r.arena.dup(v);
}

}  // namespace

Variable* addVariable(std::string_view name, VarGetter get, uintptr_t data, uint32_t flags) {
  std::string n = lower(name);
  for (auto& v : gVars) {
    if (v->name == n && ((v->flags & kVarPrefix) == (flags & kVarPrefix))) {
      if (get && !v->get) {
        v->get = get;
        v->data = data;
      }
      v->flags |= flags & ~kVarIndexed;
      return v.get();
    }
  }
  auto v = std::make_unique<Variable>();
  v->name = n;
  v->get = get;
  v->data = data;
  v->flags = flags;
  gVars.push_back(std::move(v));
  Variable* added = gVars.back().get();
  if (!(flags & kVarPrefix)) gByName.emplace(added->name, added);
  return added;
}

int variableIndex(std::string_view name, bool create) {
  std::string n = lower(name);
  Variable* v = findVar(n);
  if (v == nullptr) {
    if (!create) return -1;
    v = addVariable(n, nullptr, 0, kVarChangeable);
  }
  if (create) v->flags |= kVarDeclared;
  if (v->index < 0) {
    v->index = static_cast<int>(gIndexed.size());
    v->flags |= kVarIndexed;
    gIndexed.push_back(v);
  }
  return v->index;
}

void checkUndefinedVariables() {
  for (Variable* v : gIndexed) {
    if ((v->flags & kVarReferenced) && !(v->flags & kVarDeclared) && v->get == nullptr) {
      auto colon = v->firstUse.rfind(':');
      std::string file = colon == std::string::npos ? v->firstUse : v->firstUse.substr(0, colon);
      int line = colon == std::string::npos ? 0 : std::atoi(v->firstUse.c_str() + colon + 1);
      throw conf::ConfError("unknown \"" + v->name + "\" variable", file, line);
    }
  }
}

bool variableExists(std::string_view name) {
  std::string n = lower(name);
  return findVar(n) != nullptr || findPrefix(n) != nullptr;
}

size_t indexedCount() { return gIndexed.size(); }

namespace {
UninitializedVariableHook gUninitHook = nullptr;
}

void setUninitializedVariableHook(UninitializedVariableHook h) noexcept { gUninitHook = h; }

VarValue getIndexed(Request& r, int index) noexcept {
  VarValue out;
  Request::VarSlot& s = r.variables[index];
  if (s.valid) {
    out.data = s.value;
    out.notFound = s.notFound;
    return out;
  }
  Variable* v = gIndexed[static_cast<size_t>(index)];
  if (v->get) {
    v->get(r, v->name, &out, v->data);
    return out;
  }
  if (gUninitHook != nullptr) gUninitHook(r, v->name);
  out.notFound = false;  // nginx's ngx_http_variable_null_value: ""
  return out;
}

VarValue getVariable(Request& r, std::string_view name) noexcept {
  VarValue out;
  char buf[128];
  if (name.size() >= sizeof(buf)) return out;
  for (size_t i = 0; i < name.size(); i++) {
    char ch = name[i];
    buf[i] = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch | 0x20) : ch;
  }
  std::string_view n(buf, name.size());
  if (Variable* v = lookupName(n)) {
    if (v->index >= 0) return getIndexed(r, v->index);
    if (v->get) v->get(r, name, &out, v->data);
    return out;
  }
  if (!n.empty() && n[0] >= '1' && n[0] <= '9' && n.size() == 1) {
    int k = n[0] - '0';
    if (k < r.ncaptures && r.captures && r.captures[2 * k] >= 0) {
      set(&out,
          r.captureSubject.substr(static_cast<size_t>(r.captures[2 * k]),
                                  static_cast<size_t>(r.captures[2 * k + 1] - r.captures[2 * k])));
    }
    return out;
  }
  for (auto& v : gVars) {
    if ((v->flags & kVarPrefix) && n.size() > v->name.size() &&
        n.compare(0, v->name.size(), v->name) == 0) {
      std::string_view nn(buf, name.size());
      v->get(r, nn, &out, v->data);
      return out;
    }
  }
  return out;
}

void setIndexed(Request& r, int index, std::string_view value) noexcept {
  Request::VarSlot& s = r.variables[index];
  s.value = value;
  s.valid = true;
  s.notFound = false;
}

SetVarResult trySetVariable(Request& r, std::string_view name, std::string_view value) noexcept {
  char buf[128];
  if (name.size() >= sizeof(buf)) return SetVarResult::kNotFound;
  for (size_t i = 0; i < name.size(); i++) {
    char ch = name[i];
    buf[i] = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch | 0x20) : ch;
  }
  Variable* v = lookupName({buf, name.size()});
  if (v == nullptr) return SetVarResult::kNotFound;
  if (v->set) {
    v->set(r, value, v->data);
    return SetVarResult::kOk;
  }
  if (v->index >= 0) {
    setIndexed(r, v->index, r.arena.dup(value));
    return SetVarResult::kOk;
  }
  return SetVarResult::kNotChangeable;
}

bool setVariable(Request& r, std::string_view name, std::string_view value) noexcept {
  return trySetVariable(r, name, value) == SetVarResult::kOk;
}

void registerCoreVariables() {
  gByName.clear();
  gVars.clear();
  gIndexed.clear();
  struct {
    const char* name;
    CoreVar id;
  } const kCore[] = {
      {"uri", kUri},
      {"document_uri", kDocumentUri},
      {"request_uri", kRequestUri},
      {"args", kArgs},
      {"query_string", kQueryString},
      {"is_args", kIsArgs},
      {"host", kHost},
      {"remote_addr", kRemoteAddr},
      {"remote_port", kRemotePort},
      {"server_addr", kServerAddr},
      {"server_port", kServerPort},
      {"scheme", kScheme},
      {"https", kHttpsVar},
      {"request_method", kRequestMethod},
      {"request", kRequest},
      {"status", kStatus},
      {"body_bytes_sent", kBodyBytesSent},
      {"bytes_sent", kBytesSent},
      {"request_time", kRequestTime},
      {"msec", kMsec},
      {"time_local", kTimeLocal},
      {"time_iso8601", kTimeIso8601},
      {"content_length", kContentLength},
      {"content_type", kContentType},
      {"server_name", kServerName},
      {"document_root", kDocumentRoot},
      {"realpath_root", kRealpathRoot},
      {"request_length", kRequestLength},
      {"connection", kConnection},
      {"connection_requests", kConnectionRequests},
      {"pid", kPid},
      {"nginx_version", kNginxVersion},
      {"server_protocol", kServerProtocol},
      {"request_filename", kRequestFilename},
      {"hostname", kHostname},
      {"request_body", kRequestBody},
      {"request_completion", kRequestCompletion},
      {"remote_user", kRemoteUser},
  };
  for (const auto& v : kCore) addVariable(v.name, coreGet, v.id, 0);
  findVar("args")->set = setUri;
  findVar("args")->flags |= kVarChangeable;
  addVariable("http_", httpGet, 0, kVarPrefix);
  addVariable("sent_http_", sentHttpGet, 0, kVarPrefix);
  addVariable("arg_", argGet, 0, kVarPrefix);
  addVariable("cookie_", cookieGet, 0, kVarPrefix);
}

// ---- complex values ------------------------------------------------------------------

void ComplexValue::compile(const conf::ConfNode& node, std::string_view text) {
  parts_.clear();
  source_ = std::string(text);
  size_t i = 0;
  std::string lit;
  while (i < text.size()) {
    char ch = text[i];
    if (ch != '$' || i + 1 >= text.size()) {
      lit += ch;
      i++;
      continue;
    }
    size_t start = i + 1;
    bool brace = text[start] == '{';
    if (brace) start++;
    size_t j = start;
    if (j < text.size() && text[j] >= '1' && text[j] <= '9' && !brace) {
      if (!lit.empty()) parts_.push_back(Part{0, lit, -1});
      lit.clear();
      parts_.push_back(Part{2, "", text[j] - '0'});
      i = j + 1;
      continue;
    }
    while (j < text.size()) {
      char c = text[j];
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
        j++;
      } else {
        break;
      }
    }
    if (brace) {
      if (j >= text.size() || text[j] != '}') {
        conf::fail(node, "the closing bracket in \"" + std::string(text.substr(start)) +
                             "\" variable is missing");
      }
    }
    std::string name(text.substr(start, j - start));
    if (name.empty()) {
      if (brace) conf::fail(node, "invalid variable name");
      lit += '$';
      i++;
      continue;
    }
    if (!lit.empty()) parts_.push_back(Part{0, lit, -1});
    lit.clear();
    bool digits = std::all_of(name.begin(), name.end(), ::isdigit);
    if (digits) {
      parts_.push_back(Part{2, "", std::atoi(name.c_str())});
    } else {
      std::string ln = lower(name);
      if (!variableExists(ln)) {
        // Maybe a later `set` defines it: checked by checkUndefinedVariables().
        Variable* nv = addVariable(ln, nullptr, 0, kVarChangeable);
        if (!(nv->flags & kVarReferenced)) {
          nv->flags |= kVarReferenced;
          nv->firstUse = node.where();
        }
      }
      Variable* v = findVar(ln);
      int idx = -1;
      if (v && (v->flags & kVarChangeable)) idx = variableIndex(ln, false);
      parts_.push_back(Part{1, ln, idx});
    }
    i = brace ? j + 1 : j;
  }
  if (!lit.empty() || parts_.empty()) parts_.push_back(Part{0, lit, -1});
  literal_ = parts_.size() == 1 && parts_[0].kind == 0 ? parts_[0].text : std::string();
}

std::string_view ComplexValue::eval(Request& r) const noexcept {
  if (isLiteral()) return literal_;
  std::string_view vals[32];
  size_t total = 0;
  size_t n = parts_.size() < 32 ? parts_.size() : 32;
  for (size_t k = 0; k < n; k++) {
    const Part& p = parts_[k];
    if (p.kind == 0) {
      vals[k] = p.text;
    } else if (p.kind == 1) {
      VarValue v = p.index >= 0 ? getIndexed(r, p.index) : getVariable(r, p.text);
      vals[k] = v.notFound ? std::string_view() : v.data;
    } else {
      int c = p.index;
      if (c < r.ncaptures && r.captures && r.captures[2 * c] >= 0) {
        vals[k] =
            r.captureSubject.substr(static_cast<size_t>(r.captures[2 * c]),
                                    static_cast<size_t>(r.captures[2 * c + 1] - r.captures[2 * c]));
      }
    }
    total += vals[k].size();
  }
  char* out = static_cast<char*>(r.arena.alloc(total + 1, 1));
  size_t off = 0;
  for (size_t k = 0; k < n; k++) {
    if (!vals[k].empty()) std::memcpy(out + off, vals[k].data(), vals[k].size());
    off += vals[k].size();
  }
  out[off] = '\0';
  return {out, total};
}

}  // namespace lunet::http
