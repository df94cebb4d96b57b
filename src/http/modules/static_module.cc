// Static files (with ETag, If-Modified-Since, byte ranges: single and
// multipart/byteranges, If-Range), index, try_files.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/time.h"
#include "http/core_module.h"
#include "http/filter.h"
#include "http/modules/modules.h"
#include "shm/counters.h"

namespace lunet::http {

namespace {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;

const conf::Module& mod();

struct StaticLoc : ConfBase {
  std::vector<ComplexValue> index;
  bool indexSet = false;
  std::vector<TryFile> tryFiles;
};

StaticLoc* sl(ConfBase* c) { return static_cast<StaticLoc*>(c); }

void setIndex(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  StaticLoc* s = sl(c);
  if (s->indexSet) fail(n, "\"index\" directive is duplicate");
  s->indexSet = true;
  for (const auto& a : n.args) {
    if (a.value.empty()) fail(n, "index \"\" in \"index\" directive is invalid");
    ComplexValue v;
    v.compile(n, a.value);
    s->index.push_back(std::move(v));
  }
}

void setTryFiles(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  StaticLoc* s = sl(c);
  if (!s->tryFiles.empty()) fail(n, "\"try_files\" directive is duplicate");
  for (size_t i = 0; i < n.args.size(); i++) {
    TryFile t;
    const std::string& a = n.arg(i);
    bool last = i + 1 == n.args.size();
    if (last && a.size() > 1 && a[0] == '=') {
      t.isCode = true;
      t.code = std::atoi(a.c_str() + 1);
      if (t.code < 100 || t.code > 999) fail(n, "invalid code \"" + a + "\"");
    } else {
      t.value.compile(n, a);
      t.isUri = last;
    }
    s->tryFiles.push_back(std::move(t));
  }
}

void mergeLoc(Engine&, ConfBase* p, ConfBase* c) {
  StaticLoc* pa = sl(p);
  StaticLoc* ch = sl(c);
  if (!ch->indexSet) {
    if (pa->indexSet) {
      ch->index = pa->index;
    } else {
      ComplexValue v;
      ConfNode dummy;
      v.compile(dummy, "index.html");
      ch->index.push_back(std::move(v));
    }
    ch->indexSet = true;
  }
}

// Lowercase hex of v without leading zeros ("0" for 0); returns the end.
char* appendHex(char* p, uint64_t v) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  char digits[16];
  int nd = 0;
  do {
    digits[nd++] = kHex[v & 0xf];
    v >>= 4;
  } while (v != 0);
  while (nd > 0) *p++ = digits[--nd];
  return p;
}

// nginx's "\"%xT-%xO\"" by hand: snprintf cost ~1,200 instructions a request.
std::string_view etagOf(Request& r, const struct stat& st) {
  char* p = static_cast<char*>(r.arena.alloc(40, 1));
  char* e = p;
  *e++ = '"';
  e = appendHex(e, static_cast<uint64_t>(st.st_mtime));
  *e++ = '-';
  e = appendHex(e, static_cast<uint64_t>(st.st_size));
  *e++ = '"';
  return {p, static_cast<size_t>(e - p)};
}

bool etagMatches(std::string_view header, std::string_view etag, bool weak) {
  if (header == "*") return true;
  while (!header.empty()) {
    while (!header.empty() && (header[0] == ' ' || header[0] == ',')) header.remove_prefix(1);
    size_t end = header.find(',');
    std::string_view tok = header.substr(0, end);
    while (!tok.empty() && tok.back() == ' ') tok.remove_suffix(1);
    if (weak && tok.size() > 2 && tok[0] == 'W' && tok[1] == '/') tok.remove_prefix(2);
    if (tok == etag) return true;
    if (end == std::string_view::npos) break;
    header.remove_prefix(end + 1);
  }
  return false;
}

void closeFile(void* p) {
  auto* f = static_cast<FileRef*>(p);
  if (f->fd >= 0) ::close(f->fd);
}

// ---- byte ranges (nginx's ngx_http_range_filter_module) -----------------------

struct Range {
  int64_t start, end;  // [start, end)
};
constexpr int kMaxRanges = 64;
constexpr int kRangeUnsatisfiable = -1;

// Parses "bytes=…" as ngx_http_range_parse does. Returns the number of
// ranges; 0 to send the whole file (not "bytes=", ranges covering more than
// the file, a "0-" style range of an empty file, too many ranges), or
// kRangeUnsatisfiable (syntax error, or no range inside the file) for 416.
int parseRanges(std::string_view v, int64_t length, Range* out) {
  if (v.size() < 6 || !ieq(v.substr(0, 6), "bytes=")) return 0;
  size_t i = 6;
  auto at = [&](size_t k) { return k < v.size() ? v[k] : '\0'; };
  auto digit = [](char ch) { return ch >= '0' && ch <= '9'; };
  constexpr int64_t kCutoff = INT64_MAX / 10;
  int n = 0;
  int64_t size = 0;
  for (;;) {
    int64_t start = 0, end = 0;
    bool suffix = false;
    while (at(i) == ' ') i++;
    bool found = false;
    if (at(i) != '-') {
      if (!digit(at(i))) return kRangeUnsatisfiable;
      while (digit(at(i))) {
        if (start >= kCutoff) return kRangeUnsatisfiable;
        start = start * 10 + (at(i++) - '0');
      }
      while (at(i) == ' ') i++;
      if (at(i++) != '-') return kRangeUnsatisfiable;
      while (at(i) == ' ') i++;
      if (at(i) == ',' || at(i) == '\0') {
        end = length;
        found = true;
      }
    } else {
      suffix = true;
      i++;
    }
    if (!found) {
      if (!digit(at(i))) return kRangeUnsatisfiable;
      while (digit(at(i))) {
        if (end >= kCutoff) return kRangeUnsatisfiable;
        end = end * 10 + (at(i++) - '0');
      }
      while (at(i) == ' ') i++;
      if (at(i) != ',' && at(i) != '\0') return kRangeUnsatisfiable;
      if (suffix) {
        start = end < length ? length - end : 0;
        end = length - 1;
      }
      end = end >= length ? length : end + 1;
    }
    if (start < end) {
      if (n == kMaxRanges) return 0;
      out[n++] = {start, end};
      size += end - start;
    } else if (start == 0) {
      return 0;
    }
    if (at(i++) != ',') break;
  }
  if (n == 0) return kRangeUnsatisfiable;
  if (size > length) return 0;
  return n;
}

// 206: one range as Content-Range, several as multipart/byteranges with
// nginx's exact framing and its 20-digit boundary.
int sendRanges(Request& r, FileRef* f, const Range* ranges, int n) {
  HeadersOut& h = r.headersOut;
  h.status = 206;
  const int64_t length = f->size;
  if (n == 1) {
    char* p = static_cast<char*>(r.arena.alloc(80, 1));
    int len =
        std::snprintf(p, 80, "bytes %lld-%lld/%lld", static_cast<long long>(ranges[0].start),
                      static_cast<long long>(ranges[0].end - 1), static_cast<long long>(length));
    h.list.add(r.arena, "Content-Range", {p, static_cast<size_t>(len)});
    h.contentLength = ranges[0].end - ranges[0].start;
    int rc = sendHeader(r);
    if (rc == kError) return kError;
    if (rc == kDone || r.headerOnly) return kOk;
    Buf* b = r.arena.make<Buf>();
    b->file = f;
    b->fileOffset = ranges[0].start;
    b->fileLen = ranges[0].end - ranges[0].start;
    b->last = true;
    b->lastInChain = true;
    return output(r, b) == kError ? kError : kOk;
  }

  uint64_t boundary = shm::counters().boundary.fetch_add(1, std::memory_order_relaxed) + 1;
  char bnd[24];
  std::snprintf(bnd, sizeof(bnd), "%020llu", static_cast<unsigned long long>(boundary));
  // "\r\n--B\r\nContent-Type: T[; charset=C]\r\nContent-Range: bytes "
  std::string head = "\r\n--";
  head += bnd;
  head += "\r\nContent-Type: ";
  head.append(h.contentType);
  if (!h.charset.empty()) {
    head += "; charset=";
    head.append(h.charset);
  }
  head += "\r\nContent-Range: bytes ";
  std::string tail = "\r\n--";
  tail += bnd;
  tail += "--\r\n";

  Buf* first = nullptr;
  Buf** link = &first;
  int64_t total = 0;
  for (int i = 0; i < n; i++) {
    char num[80];
    int len = std::snprintf(
        num, sizeof(num), "%lld-%lld/%lld\r\n\r\n", static_cast<long long>(ranges[i].start),
        static_cast<long long>(ranges[i].end - 1), static_cast<long long>(length));
    size_t hlen = head.size() + static_cast<size_t>(len);
    char* p = static_cast<char*>(r.arena.alloc(hlen, 1));
    std::memcpy(p, head.data(), head.size());
    std::memcpy(p + head.size(), num, static_cast<size_t>(len));
    Buf* hb = newBuf(r, {p, hlen});
    Buf* fb = r.arena.make<Buf>();
    fb->file = f;
    fb->fileOffset = ranges[i].start;
    fb->fileLen = ranges[i].end - ranges[i].start;
    *link = hb;
    hb->next = fb;
    link = &fb->next;
    total += static_cast<int64_t>(hlen) + fb->fileLen;
  }
  Buf* tb = newBufCopy(r, tail);
  tb->last = true;
  tb->lastInChain = true;
  *link = tb;
  total += static_cast<int64_t>(tail.size());

  std::string ct = "multipart/byteranges; boundary=";
  ct += bnd;
  h.contentType = r.arena.dup(ct);
  h.charset = {};
  h.contentLength = total;
  int rc = sendHeader(r);
  if (rc == kError) return kError;
  if (rc == kDone || r.headerOnly) return kOk;
  return output(r, first) == kError ? kError : kOk;
}

int staticHandler(Request& r) {
  if (!(r.method & (kGet | kHead | kPost))) return 405;
  if (!r.uri.empty() && r.uri.back() == '/') return kDeclined;
  size_t rootLen = 0;
  std::string_view path = mapUriToPath(r, &rootLen);
  int fd = ::open(path.data(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  const HttpCoreLoc* clcf = r.clcf();
  if (fd < 0) {
    int err = errno;
    int status = (err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG) ? 404
                 : err == EACCES                                          ? 403
                                                                          : 500;
    if (status != 404 || clcf->logNotFound != 0) {
      LUNET_LOG(r.log, status == 500 ? core::Level::kCrit : core::Level::kError, err,
                "open() \"%s\" failed", path.data());
    }
    return status;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return 500;
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    std::string loc(r.uri);
    loc += '/';
    if (!r.args.empty()) {
      loc += '?';
      loc.append(r.args);
    }
    r.headersOut.location = r.arena.dup(loc);
    return 301;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return 404;
  }
  if (r.method == kPost) {
    ::close(fd);
    return 405;
  }
  if (int rc = discardRequestBody(r); rc != kOk) {  // as nginx, before the answer
    ::close(fd);
    return rc;
  }
  auto* f = r.arena.make<FileRef>();
  f->fd = fd;
  f->size = st.st_size;
  r.arena.addCleanup(closeFile, f);

  HeadersOut& h = r.headersOut;
  h.status = 200;
  h.contentLength = st.st_size;
  h.lastModified = st.st_mtime;
  setContentType(r);
  std::string_view etag;
  if (clcf->etag != 0) {
    etag = etagOf(r, st);
    h.list.add(r.arena, "ETag", etag);
  }
  // Conditionals (nginx's not_modified filter).
  const HeadersIn& in = r.headersIn;
  if (in.ifUnmodifiedSince) {
    time_t t = core::parseHttpTime(in.ifUnmodifiedSince->value);
    if (t != -1 && st.st_mtime > t) return 412;
  }
  if (in.ifMatch && !etag.empty() && !etagMatches(in.ifMatch->value, etag, false)) return 412;
  bool notModified = false;
  if (in.ifNoneMatch && !etag.empty()) {
    notModified = etagMatches(in.ifNoneMatch->value, etag, true);
  } else if (in.ifModifiedSince && clcf->ifModifiedSince != 0) {
    time_t t = core::parseHttpTime(in.ifModifiedSince->value);
    if (t != -1) {
      notModified = clcf->ifModifiedSince == 1 ? t == st.st_mtime : st.st_mtime <= t;
    }
  }
  if (notModified) {
    h.status = 304;
    h.contentLength = -1;
    h.contentType = {};
    sendHeader(r);
    return kOk;
  }
  if (in.range && r.main == &r) {
    bool useRange = true;
    if (in.ifRange) {
      // nginx: an entity tag must match exactly, a date must equal Last-Modified.
      std::string_view v = in.ifRange->value;
      if (!v.empty() && v[0] == '"') {
        useRange = v == etag;
      } else {
        useRange = core::parseHttpTime(v) == st.st_mtime;
      }
    }
    if (useRange) {
      Range ranges[kMaxRanges];
      int n = parseRanges(in.range->value, st.st_size, ranges);
      if (n == kRangeUnsatisfiable) {
        char* p = static_cast<char*>(r.arena.alloc(48, 1));
        int len = std::snprintf(p, 48, "bytes */%lld", static_cast<long long>(st.st_size));
        h.list.add(r.arena, "Content-Range", {p, static_cast<size_t>(len)});
        h.lastModified = -1;
        return 416;
      }
      if (n > 0) return sendRanges(r, f, ranges, n);
    }
  }
  // nginx's range filter: main requests only
  if (r.main == &r) h.list.add(r.arena, "Accept-Ranges", "bytes");
  int rc = sendHeader(r);
  if (rc == kError) return kError;
  if (rc == kDone || r.headerOnly) return kOk;
  Buf* b = r.arena.make<Buf>();
  b->file = f;
  b->fileOffset = 0;
  b->fileLen = st.st_size;
  b->last = r.main == &r;
  b->lastInChain = true;
  return output(r, b) == kError ? kError : kOk;
}

int indexHandler(Request& r) {
  if (r.uri.empty() || r.uri.back() != '/') return kDeclined;
  if (!(r.method & (kGet | kHead | kPost))) return kDeclined;
  const StaticLoc* s = r.loc<StaticLoc>(mod());
  size_t rootLen = 0;
  bool dirChecked = false;
  for (const ComplexValue& v : s->index) {
    std::string_view name = v.eval(r);
    if (!name.empty() && name[0] == '/') return internalRedirect(r, name, r.args);
    std::string_view path = mapUriToPath(r, &rootLen, name.size() + 1);
    std::string full(path);
    full.append(name);
    struct stat st;
    if (::stat(full.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) continue;
      std::string uri(r.uri);
      uri.append(name);
      return internalRedirect(r, r.arena.dup(uri), r.args);
    }
    int err = errno;
    if (!dirChecked) {
      dirChecked = true;
      struct stat dst;
      if (::stat(std::string(path).c_str(), &dst) != 0) {
        if (r.clcf()->logNotFound != 0) {
          LUNET_LOG(r.log, core::Level::kError, errno, "\"%s\" is not found",
                    std::string(path).c_str());
        }
        return 404;
      }
    }
    (void)err;
  }
  std::string dir(mapUriToPath(r, &rootLen));
  LUNET_LOG(r.log, core::Level::kError, 0, "directory index of \"%s\" is forbidden", dir.c_str());
  return 403;
}

int tryFilesHandler(Request& r) {
  const StaticLoc* s = r.loc<StaticLoc>(mod());
  if (s->tryFiles.empty()) return kDeclined;
  const HttpCoreLoc* clcf = r.clcf();
  for (const TryFile& t : s->tryFiles) {
    if (t.isCode) return t.code;
    std::string_view name = t.value.eval(r);
    if (t.isUri) {
      if (!name.empty() && name[0] == '@') return namedLocation(r, name);
      return internalRedirect(r, name, {});
    }
    bool wantDir = !name.empty() && name.back() == '/';
    // map name (a uri) to a path with this location's root/alias
    std::string_view saved = r.uri;
    r.uri = name;
    size_t rootLen = 0;
    std::string_view path = mapUriToPath(r, &rootLen);
    r.uri = saved;
    std::string p(path);
    if (wantDir && p.size() > 1) p.pop_back();
    struct stat st;
    if (::stat(p.c_str(), &st) != 0) continue;
    if (wantDir ? !S_ISDIR(st.st_mode) : S_ISDIR(st.st_mode)) continue;
    (void)clcf;
    std::string_view uri = name;
    size_t q = uri.find('?');
    if (q != std::string_view::npos) {
      r.args = uri.substr(q + 1);
      uri = uri.substr(0, q);
    }
    r.uri = uri;
    r.exten = {};
    for (size_t i = r.uri.size(); i-- > 0;) {
      if (r.uri[i] == '/') break;
      if (r.uri[i] == '.') {
        r.exten = r.uri.substr(i + 1);
        break;
      }
    }
    return kDeclined;
  }
  return kDeclined;
}

void postConf(Engine&) {
  addPhaseHandler(Phase::kPreContent, tryFilesHandler);
  addPhaseHandler(Phase::kContent, indexHandler);
  addPhaseHandler(Phase::kContent, staticHandler);
}

constexpr uint32_t kMSL = conf::kHttpMainCtx | conf::kHttpSrvCtx | conf::kHttpLocCtx;

const Directive kDirectives[] = {
    {"index", kMSL, conf::k1More, setIndex, conf::Slot::kLoc},
    {"try_files", conf::kHttpSrvCtx | conf::kHttpLocCtx, conf::k2More, setTryFiles,
     conf::Slot::kLoc},
};

const conf::Module kModule{
    .name = "http_static",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .createLoc = [] { return conf::ConfPtr(std::make_unique<StaticLoc>()); },
    .mergeLoc = mergeLoc,
    .postConfiguration = postConf,
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& httpStaticModule() { return kModule; }

}  // namespace lunet::http
