// gzip (nginx's ngx_http_gzip_filter_module, with the gzip_* directives
// nginx keeps in its core module: gzip_vary, gzip_http_version,
// gzip_proxied, gzip_disable).
//
// The header filter decides (status, Content-Encoding, length, type, the
// client's Accept-Encoding, Via/gzip_proxied, gzip_disable), adds
// Content-Encoding and drops Content-Length and Accept-Ranges, weakens the
// ETag. The body filter sits below postponement (pushMainBodyFilter), so
// it compresses the main request's whole body in order, subrequests'
// output included, and streams: input is deflated as it comes into at most
// gzip_buffers output buffers; when they are all queued the filter keeps
// the rest of its input (r.buffered) and goes on once the queue drained,
// so a body of any size costs the buffers, one file read buffer and the
// zlib state. File bufs are read here (filterNeedInMemory keeps them off
// sendfile). zlib streams are reused per worker (deflateReset).
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "conf/cycle.h"
#include "core/time.h"
#include "http/filter.h"
#include "http/modules/modules.h"
#include "http/regex.h"
#include "http/variables.h"

namespace lunet::http {

namespace {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;

const conf::Module& mod();

// gzip_proxied bits (nginx's NGX_HTTP_GZIP_PROXIED_*).
enum : uint32_t {
  kProxiedOff = 1 << 1,
  kProxiedExpired = 1 << 2,
  kProxiedNoCache = 1 << 3,
  kProxiedNoStore = 1 << 4,
  kProxiedPrivate = 1 << 5,
  kProxiedNoLm = 1 << 6,
  kProxiedNoEtag = 1 << 7,
  kProxiedAuth = 1 << 8,
  kProxiedAny = 1 << 9,
};

struct GzipLoc : ConfBase {
  int64_t enable = -1;
  int64_t bufNum = -1;
  int64_t bufSize = -1;
  int64_t level = -1;
  int64_t wbits = -1;     // gzip_window as log2
  int64_t memlevel = -1;  // gzip_hash as memLevel
  int64_t minLength = -1;
  int64_t vary = -1;
  int64_t httpVersion = -1;  // 1000 | 1001
  int64_t proxied = -1;      // bits, -1 unset
  bool typesSet = false;
  bool anyType = false;
  std::vector<std::string> types;  // lowercase
  bool disableSet = false;
  bool disableMsie6 = false;
  std::vector<std::shared_ptr<Regex>> disable;
};

struct GzipMain : ConfBase {
  bool used = false;
};

// ---- configuration ----------------------------------------------------------------------

void markUsed(Engine& e) {
  auto* m = static_cast<GzipMain*>(e.cycle().confs[mod().index].get());
  if (m != nullptr) m->used = true;
}

void setEnable(Engine& e, const ConfNode& n, ConfBase* c, const Directive& d) {
  conf::setFlag<&GzipLoc::enable>(e, n, c, d);
  if (static_cast<GzipLoc*>(c)->enable == 1) markUsed(e);
}

void setBuffers(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* g = static_cast<GzipLoc*>(c);
  if (g->bufNum != -1) fail(n, "\"" + n.name + "\" directive is duplicate");
  int64_t num = 0;
  std::string bad = "\"" + n.name + "\" directive invalid value";
  if (!conf::tryParseNumber(n.arg(0), &num) || num == 0) fail(n, bad);
  int64_t size = 0;
  try {
    size = conf::parseSize(n, 1);
  } catch (const conf::ConfError&) {
    fail(n, bad);
  }
  if (size == 0) fail(n, bad);
  g->bufNum = num;
  g->bufSize = size;
}

void setLevel(Engine& e, const ConfNode& n, ConfBase* c, const Directive& d) {
  conf::setNumber<&GzipLoc::level>(e, n, c, d);
  auto* g = static_cast<GzipLoc*>(c);
  if (g->level < 1 || g->level > 9) fail(n, "value must be between 1 and 9");
}

// gzip_window 512..32k and gzip_hash 512..128k: powers of two, as log2.
int64_t log2Size(const ConfNode& n, int64_t min, int64_t max, int shift, const char* allowed) {
  int64_t v = -1;
  try {
    v = conf::parseSize(n, 0);
  } catch (const conf::ConfError&) {
  }
  if (v < min || v > max || (v & (v - 1)) != 0) {
    fail(n, "\"" + n.name + "\" directive must be " + allowed);
  }
  int bits = 0;
  while ((int64_t{1} << bits) < v) bits++;
  return bits - shift;
}

void setWindow(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* g = static_cast<GzipLoc*>(c);
  if (g->wbits != -1) fail(n, "\"" + n.name + "\" directive is duplicate");
  g->wbits = log2Size(n, 512, 32768, 0, "512, 1k, 2k, 4k, 8k, 16k, or 32k");
}

void setHash(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* g = static_cast<GzipLoc*>(c);
  if (g->memlevel != -1) fail(n, "\"" + n.name + "\" directive is duplicate");
  g->memlevel =
      log2Size(n, 512, 131072, 8,
               "512, 1k, 2k, 4k, 8k, 16k, 32k, 64k, or 128k");  // 512 → memLevel 1 ... 128k → 9
}

void setMinLength(Engine& e, const ConfNode& n, ConfBase* c, const Directive& d) {
  conf::setSize<&GzipLoc::minLength>(e, n, c, d);
}

void setHttpVersion(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* g = static_cast<GzipLoc*>(c);
  if (g->httpVersion != -1) fail(n, "\"" + n.name + "\" directive is duplicate");
  if (n.arg(0) == "1.0") {
    g->httpVersion = 1000;
  } else if (n.arg(0) == "1.1") {
    g->httpVersion = 1001;
  } else {
    fail(n, "invalid value \"" + n.arg(0) + "\"");
  }
}

void setProxied(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* g = static_cast<GzipLoc*>(c);
  if (g->proxied != -1) fail(n, "\"" + n.name + "\" directive is duplicate");
  static const struct {
    std::string_view name;
    uint32_t bit;
  } kNames[] = {{"off", kProxiedOff},          {"expired", kProxiedExpired},
                {"no-cache", kProxiedNoCache}, {"no-store", kProxiedNoStore},
                {"private", kProxiedPrivate},  {"no_last_modified", kProxiedNoLm},
                {"no_etag", kProxiedNoEtag},   {"auth", kProxiedAuth},
                {"any", kProxiedAny}};
  int64_t bits = 0;
  for (size_t i = 0; i < n.args.size(); i++) {
    bool found = false;
    for (const auto& k : kNames) {
      if (n.arg(i) == k.name) {
        bits |= k.bit;
        found = true;
      }
    }
    if (!found) fail(n, "invalid value \"" + n.arg(i) + "\"");
  }
  g->proxied = bits;
}

void setTypes(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* g = static_cast<GzipLoc*>(c);
  if (g->typesSet) fail(n, "\"" + n.name + "\" directive is duplicate");
  g->typesSet = true;
  for (size_t i = 0; i < n.args.size(); i++) {
    std::string t = n.arg(i);
    if (t == "*") {
      g->anyType = true;
      continue;
    }
    for (char& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    g->types.push_back(std::move(t));
  }
}

void setDisable(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* g = static_cast<GzipLoc*>(c);
  g->disableSet = true;
  for (size_t i = 0; i < n.args.size(); i++) {
    if (n.arg(i) == "msie6") {
      g->disableMsie6 = true;
      continue;
    }
    if (n.arg(i) == "degradation") fail(n, "\"degradation\" is not supported");
    std::string err;
    std::shared_ptr<Regex> re(Regex::compile(n.arg(i), true, &err));
    if (!re) fail(n, err);
    g->disable.push_back(std::move(re));
  }
}

void mergeLoc(Engine&, ConfBase* p, ConfBase* ch) {
  auto* pa = static_cast<GzipLoc*>(p);
  auto* c = static_cast<GzipLoc*>(ch);
  conf::mergeValue(c->enable, pa->enable, int64_t{0});
  if (c->bufNum == -1) {
    c->bufNum = pa->bufNum == -1 ? 32 : pa->bufNum;
    c->bufSize = pa->bufSize == -1 ? 4096 : pa->bufSize;
  }
  conf::mergeValue(c->level, pa->level, int64_t{1});
  conf::mergeValue(c->wbits, pa->wbits, int64_t{MAX_WBITS});
  conf::mergeValue(c->memlevel, pa->memlevel, int64_t{MAX_MEM_LEVEL - 1});
  conf::mergeValue(c->minLength, pa->minLength, int64_t{20});
  conf::mergeValue(c->vary, pa->vary, int64_t{0});
  conf::mergeValue(c->httpVersion, pa->httpVersion, int64_t{1001});
  conf::mergeValue(c->proxied, pa->proxied, int64_t{kProxiedOff});
  if (!c->typesSet && pa->typesSet) {
    c->typesSet = true;
    c->anyType = pa->anyType;
    c->types = pa->types;
  }
  if (!c->disableSet && pa->disableSet) {
    c->disableSet = true;
    c->disableMsie6 = pa->disableMsie6;
    c->disable = pa->disable;
  }
}

// ---- the decision -------------------------------------------------------------------------

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A q= value of zero ("0", "0.", "0.000") refuses the coding.
bool zeroQuality(std::string_view q) {
  if (q.empty() || q[0] != '0') return false;
  q.remove_prefix(1);
  if (q.empty()) return true;
  if (q[0] != '.') return false;
  q.remove_prefix(1);
  for (char ch : q) {
    if (ch != '0') return false;
  }
  return true;
}

// Accept-Encoding lists gzip with a non-zero quality.
bool acceptsGzip(std::string_view v) {
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view item = v.substr(0, comma);
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    size_t semi = item.find(';');
    std::string_view coding = trim(item.substr(0, semi));
    if (!ieq(coding, "gzip")) continue;
    if (semi == std::string_view::npos) return true;
    std::string_view params = item.substr(semi + 1);
    bool refused = false;
    while (!params.empty()) {
      size_t s2 = params.find(';');
      std::string_view p = trim(params.substr(0, s2));
      params = s2 == std::string_view::npos ? std::string_view() : params.substr(s2 + 1);
      if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
        refused = zeroQuality(trim(p.substr(2)));
      }
    }
    if (!refused) return true;
  }
  return false;
}

// nginx's r->headers_in.msie6: MSIE 4.x/5.x, and 6.x without "SV1"; Opera
// pretending to be MSIE is not.
bool isMsie6(std::string_view ua) {
  size_t m = ua.find("MSIE ");
  if (m == std::string_view::npos || m + 7 >= ua.size()) return false;
  if (ua.find("Opera") != std::string_view::npos) return false;
  if (ua[m + 6] != '.') return false;
  char v = ua[m + 5];
  if (v == '4' || v == '5') return true;
  return v == '6' && ua.substr(m + 8).find("SV1") == std::string_view::npos;
}

bool headerHasToken(const HeaderList& list, std::string_view name, std::string_view token) {
  for (const Header& h : list.all()) {
    if (h.hash == 0 || !ieq(h.name, name)) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view t = trim(v.substr(0, comma));
      size_t eq = t.find('=');
      if (ieq(trim(t.substr(0, eq)), token)) return true;
      v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    }
  }
  return false;
}

// nginx's ngx_http_gzip_ok: the main request, the client, the proxy rules.
bool gzipOk(Request& r, const GzipLoc& g) {
  if (r.main != &r) return false;
  const Header* ae = r.headersIn.list.find("Accept-Encoding");
  if (ae == nullptr || !acceptsGzip(ae->value)) return false;
  const Header* ua = r.headersIn.userAgent;
  if (g.disableMsie6 && ua != nullptr && isMsie6(ua->value)) return false;
  if (r.httpVersion < g.httpVersion) return false;
  bool ok = r.headersIn.list.find("Via") == nullptr;
  if (!ok) {
    const auto p = static_cast<uint32_t>(g.proxied);
    const HeadersOut& h = r.headersOut;
    const Header* expires = h.list.find("Expires");
    const Header* cc = h.list.find("Cache-Control");
    bool etag = !h.etag.empty() || h.list.find("ETag") != nullptr;
    if (p & kProxiedOff) return false;
    if (p & kProxiedAny) {
      ok = true;
    } else if ((p & kProxiedAuth) && r.headersIn.list.find("Authorization") != nullptr) {
      ok = true;
    } else if (expires != nullptr) {
      if (!(p & kProxiedExpired)) return false;
      time_t e = core::parseHttpTime(expires->value);
      if (e == -1) return false;
      const Header* d = h.list.find("Date");
      time_t date = d != nullptr ? core::parseHttpTime(d->value) : core::nowSec();
      if (e >= date) return false;
      ok = true;
    } else if (cc != nullptr) {
      ok = ((p & kProxiedNoCache) && headerHasToken(h.list, "Cache-Control", "no-cache")) ||
           ((p & kProxiedNoStore) && headerHasToken(h.list, "Cache-Control", "no-store")) ||
           ((p & kProxiedPrivate) && headerHasToken(h.list, "Cache-Control", "private"));
      if (!ok) return false;
    } else {
      // no_last_modified / no_etag refuse a response that has one; what
      // no rule refused is compressed (nginx's order)
      if ((p & kProxiedNoLm) && h.list.find("Last-Modified") != nullptr) return false;
      if ((p & kProxiedNoEtag) && etag) return false;
      ok = true;
    }
    if (!ok) return false;
  }
  if (!g.disable.empty() && ua != nullptr) {
    for (const auto& re : g.disable) {
      if (re->exec(ua->value, nullptr, 0) > 0) return false;
    }
  }
  return true;
}

bool typeMatches(const GzipLoc& g, std::string_view ct) {
  if (g.anyType) return true;
  size_t semi = ct.find(';');
  ct = trim(ct.substr(0, semi));
  if (ct.empty()) return false;
  if (ieq(ct, "text/html")) return true;
  for (const std::string& t : g.types) {
    if (ieq(ct, t)) return true;
  }
  return false;
}

// ---- zlib streams, reused per worker ----------------------------------------------------

struct StreamCache {
  struct Entry {
    z_stream* zs;
    int level, wbits, memlevel;
  };
  std::vector<Entry> free;
  ~StreamCache() {
    for (Entry& e : free) {
      deflateEnd(e.zs);
      std::free(e.zs);
    }
  }
};

StreamCache& streamCache() {
  static thread_local StreamCache cache;
  return cache;
}

z_stream* takeStream(int level, int wbits, int memlevel) {
  StreamCache& c = streamCache();
  for (size_t i = c.free.size(); i-- > 0;) {
    StreamCache::Entry e = c.free[i];
    if (e.level == level && e.wbits == wbits && e.memlevel == memlevel) {
      c.free.erase(c.free.begin() + static_cast<std::ptrdiff_t>(i));
      if (deflateReset(e.zs) == Z_OK) return e.zs;
      deflateEnd(e.zs);
      std::free(e.zs);
      break;
    }
  }
  // malloc, not new: operator new may be counted (debug builds) or replaced
  auto* zs = static_cast<z_stream*>(std::calloc(1, sizeof(z_stream)));
  if (zs == nullptr) return nullptr;
  // windowBits + 16: zlib writes the gzip header and trailer (crc32, size).
  if (deflateInit2(zs, level, Z_DEFLATED, wbits + 16, memlevel, Z_DEFAULT_STRATEGY) != Z_OK) {
    std::free(zs);
    return nullptr;
  }
  return zs;
}

void releaseStream(z_stream* zs, int level, int wbits, int memlevel) {
  StreamCache& c = streamCache();
  if (c.free.size() >= 8) {
    deflateEnd(zs);
    std::free(zs);
    return;
  }
  c.free.push_back({zs, level, wbits, memlevel});
}

// ---- the filters ----------------------------------------------------------------------------

constexpr size_t kFileReadSize = 32768;

struct GzipCtx {
  z_stream* zs = nullptr;
  int level = 1, wbits = MAX_WBITS, memlevel = 8;
  // Input not yet given to zlib (copies of the bufs passed in).
  Buf* pending = nullptr;
  Buf** pendingTail = &pending;
  char* fileBuf = nullptr;  // file bufs are read here
  // Output buffers: made as needed, reused once the queue drained.
  char** bufs = nullptr;
  Buf* bufStructs = nullptr;
  int64_t num = 0, size = 0;
  int64_t used = 0;  // handed down since the queue last drained
  Buf* cur = nullptr;
  bool flushSeen = false, lastSeen = false, done = false;
  uint64_t zin = 0, zout = 0;
};

void ctxCleanup(void* p) {
  auto* ctx = static_cast<GzipCtx*>(p);
  if (ctx->zs != nullptr) {
    releaseStream(ctx->zs, ctx->level, ctx->wbits, ctx->memlevel);
    ctx->zs = nullptr;
  }
}

HeaderFilter gNextHeader = nullptr;
BodyFilter gNextBody = nullptr;

// nginx's ngx_http_weak_etag.
void weakenEtag(Request& r) {
  HeadersOut& h = r.headersOut;
  auto weak = [&r](std::string_view e) -> std::string_view {
    if (e.size() > 2 && e[0] == 'W' && e[1] == '/') return e;
    if (!e.empty() && e[0] == '"') {
      char* p = static_cast<char*>(r.arena.alloc(e.size() + 2, 1));
      p[0] = 'W';
      p[1] = '/';
      std::memcpy(p + 2, e.data(), e.size());
      return {p, e.size() + 2};
    }
    return {};
  };
  if (!h.etag.empty()) h.etag = weak(h.etag);
  if (Header* e = h.list.find("ETag"); e != nullptr) {
    std::string_view w = weak(e->value);
    if (w.empty()) {
      h.list.remove("ETag");
    } else {
      e->value = w;
    }
  }
}

int headerFilter(Request& r) {
  const GzipLoc* g = r.loc<GzipLoc>(mod());
  if (g->enable != 1 || r.main != &r) return gNextHeader(r);
  HeadersOut& h = r.headersOut;
  int st = h.status;
  if (st != 200 && st != 403 && st != 404) return gNextHeader(r);
  if (const Header* ce = h.list.find("Content-Encoding"); ce != nullptr && !ce->value.empty()) {
    return gNextHeader(r);
  }
  if (h.contentLength >= 0 && h.contentLength < g->minLength) return gNextHeader(r);
  if (!typeMatches(*g, h.contentType)) return gNextHeader(r);
  if (g->vary == 1 && h.list.find("Vary") == nullptr) {
    h.list.add(r.arena, "Vary", "Accept-Encoding");
  }
  if (!gzipOk(r, *g)) return gNextHeader(r);

  auto* ctx = r.arena.make<GzipCtx>();
  ctx->level = static_cast<int>(g->level);
  ctx->wbits = static_cast<int>(g->wbits);
  ctx->memlevel = static_cast<int>(g->memlevel);
  if (h.contentLength > 0) {
    // A small body needs no big window (zlib's window is 262 bytes shorter).
    while (ctx->wbits > 9 && h.contentLength < (int64_t{1} << (ctx->wbits - 1)) - 262) {
      ctx->wbits--;
      ctx->memlevel--;
    }
    if (ctx->memlevel < 1) ctx->memlevel = 1;
  }
  ctx->num = g->bufNum;
  ctx->size = g->bufSize;
  r.setCtx(mod(), ctx);
  r.arena.addCleanup(ctxCleanup, ctx);

  h.list.add(r.arena, "Content-Encoding", "gzip");
  r.filterNeedInMemory = true;
  h.contentLength = -1;
  h.list.remove("Content-Length");
  h.list.remove("Accept-Ranges");
  weakenEtag(r);
  return gNextHeader(r);
}

// Puts the next piece of input in front of zlib; false when none is left.
// Returns -1 on a read error.
int fetchInput(Request& r, GzipCtx& ctx) {
  while (ctx.pending != nullptr) {
    Buf* b = ctx.pending;
    if (b->file != nullptr && b->fileLen > 0) {
      if (ctx.fileBuf == nullptr) ctx.fileBuf = static_cast<char*>(r.arena.alloc(kFileReadSize, 1));
      size_t want = static_cast<size_t>(std::min<int64_t>(b->fileLen, kFileReadSize));
      ssize_t got = ::pread(b->file->fd, ctx.fileBuf, want, b->fileOffset);
      if (got <= 0) {
        LUNET_LOG(r.log, core::Level::kCrit, got < 0 ? errno : 0, "pread() failed");
        return -1;
      }
      b->fileOffset += got;
      b->fileLen -= got;
      ctx.zs->next_in = reinterpret_cast<Bytef*>(ctx.fileBuf);
      ctx.zs->avail_in = static_cast<uInt>(got);
      if (b->fileLen > 0) return 1;
    } else if (!b->data.empty()) {
      ctx.zs->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(b->data.data()));
      ctx.zs->avail_in = static_cast<uInt>(b->data.size());
    }
    ctx.flushSeen |= b->flush;
    ctx.lastSeen |= b->last;
    ctx.pending = b->next;
    if (ctx.pending == nullptr) ctx.pendingTail = &ctx.pending;
    if (ctx.zs->avail_in > 0) return 1;
  }
  return 0;
}

int bodyFilter(Request& r, Buf* in) {
  auto* ctx = static_cast<GzipCtx*>(r.getCtx(mod()));
  if (ctx == nullptr || ctx->done) return gNextBody(r, in);
  if (r.headerOnly) {
    ctxCleanup(ctx);
    r.setCtx(mod(), nullptr);
    return gNextBody(r, in);
  }
  for (Buf* b = in; b != nullptr; b = b->next) {
    if (b->size() == 0 && !b->flush && !b->last) continue;
    Buf* copy = r.arena.make<Buf>();
    *copy = *b;
    copy->next = nullptr;
    *ctx->pendingTail = copy;
    ctx->pendingTail = &copy->next;
  }
  if (ctx->zs == nullptr) {
    ctx->zs = takeStream(ctx->level, ctx->wbits, ctx->memlevel);
    if (ctx->zs == nullptr) {
      LUNET_LOG(r.log, core::Level::kAlert, 0, "deflateInit2() failed");
      return kError;
    }
    ctx->bufs = r.arena.array<char*>(static_cast<size_t>(ctx->num));
    ctx->bufStructs = r.arena.array<Buf>(static_cast<size_t>(ctx->num));
    for (int64_t i = 0; i < ctx->num; i++) ctx->bufs[i] = nullptr;
  }
  if (ctx->cur == nullptr && outputDrained(r, kBufferedGzip)) ctx->used = 0;

  z_stream& zs = *ctx->zs;
  Buf* out = nullptr;
  Buf** outTail = &out;
  Buf* lastOut = nullptr;
  bool stalled = false;
  auto emit = [&](bool flush, bool last) {
    Buf* b = ctx->cur;
    b->data = {b->data.data(), static_cast<size_t>(ctx->size) - zs.avail_out};
    b->flush = flush;
    b->last = last;
    b->lastInChain = last;
    *outTail = b;
    outTail = &b->next;
    lastOut = b;
    ctx->cur = nullptr;
  };
  for (;;) {
    int mode = Z_NO_FLUSH;
    if (zs.avail_in == 0) {
      int got = fetchInput(r, *ctx);
      if (got < 0) return kError;
      if (got == 0) {
        if (ctx->lastSeen) {
          mode = Z_FINISH;
        } else if (ctx->flushSeen) {
          mode = Z_SYNC_FLUSH;
        } else {
          break;
        }
      }
    }
    if (ctx->cur == nullptr) {
      if (ctx->used == ctx->num) {
        stalled = true;
        break;
      }
      int64_t i = ctx->used++;
      if (ctx->bufs[i] == nullptr) {
        ctx->bufs[i] = static_cast<char*>(r.arena.alloc(static_cast<size_t>(ctx->size), 1));
      }
      Buf* b = &ctx->bufStructs[i];
      *b = Buf{};
      b->data = {ctx->bufs[i], 0};
      ctx->cur = b;
      zs.next_out = reinterpret_cast<Bytef*>(ctx->bufs[i]);
      zs.avail_out = static_cast<uInt>(ctx->size);
    }
    int rc = deflate(&zs, mode);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      LUNET_LOG(r.log, core::Level::kAlert, 0, "deflate() failed: %d, %d", mode, rc);
      return kError;
    }
    if (rc == Z_STREAM_END) {
      emit(false, true);
      ctx->done = true;
      ctx->zin = zs.total_in;
      ctx->zout = zs.total_out;
      releaseStream(ctx->zs, ctx->level, ctx->wbits, ctx->memlevel);
      ctx->zs = nullptr;
      break;
    }
    if (zs.avail_out == 0) {
      emit(false, false);
      continue;
    }
    if (mode == Z_SYNC_FLUSH) {
      emit(true, false);
      ctx->flushSeen = false;
    }
  }
  if (stalled) {
    r.buffered |= kBufferedGzip;
    // what is queued must go out for the queue to drain and call us again
    if (lastOut == nullptr) {
      lastOut = newBuf(r, {});
      *outTail = lastOut;
    }
    lastOut->flush = true;
  } else {
    r.buffered &= static_cast<uint8_t>(~kBufferedGzip);
  }
  if (out == nullptr) return kOk;
  return gNextBody(r, out);
}

void ratioGet(Request& r, std::string_view, VarValue* out, uintptr_t) {
  auto* ctx = static_cast<GzipCtx*>(r.main->getCtx(mod()));
  if (ctx == nullptr || ctx->zout == 0) return;
  // nginx: two decimals, the third rounds the second.
  uint64_t zint = ctx->zin / ctx->zout;
  uint64_t zfrac = ctx->zin * 100 / ctx->zout % 100;
  if (ctx->zin * 1000 / ctx->zout % 10 > 4) {
    if (++zfrac > 99) {
      zint++;
      zfrac = 0;
    }
  }
  char* p = static_cast<char*>(r.arena.alloc(32, 1));
  int n = std::snprintf(p, 32, "%llu.%02llu", static_cast<unsigned long long>(zint),
                        static_cast<unsigned long long>(zfrac));
  out->data = {p, static_cast<size_t>(n)};
  out->notFound = false;
}

void initMain(Engine&, ConfBase*) { addVariable("gzip_ratio", ratioGet, 0, kVarNoCache); }

void postConf(Engine& e) {
  auto* m = static_cast<GzipMain*>(e.cycle().confs[mod().index].get());
  if (m == nullptr || !m->used) return;
  gNextHeader = pushHeaderFilter(headerFilter);
  gNextBody = pushMainBodyFilter(bodyFilter);
}

constexpr uint32_t kCtx = conf::kAnyHttpCtx;

const Directive kDirectives[] = {
    {"gzip", kCtx | conf::kHttpLifCtx, conf::kFlag, setEnable, conf::Slot::kLoc},
    {"gzip_buffers", kCtx, conf::kTake2, setBuffers, conf::Slot::kLoc},
    {"gzip_comp_level", kCtx, conf::kTake1, setLevel, conf::Slot::kLoc},
    {"gzip_window", kCtx, conf::kTake1, setWindow, conf::Slot::kLoc},
    {"gzip_hash", kCtx, conf::kTake1, setHash, conf::Slot::kLoc},
    {"gzip_min_length", kCtx, conf::kTake1, setMinLength, conf::Slot::kLoc},
    {"gzip_types", kCtx, conf::k1More, setTypes, conf::Slot::kLoc},
    {"gzip_vary", kCtx, conf::kFlag, conf::setFlag<&GzipLoc::vary>, conf::Slot::kLoc},
    {"gzip_http_version", kCtx, conf::kTake1, setHttpVersion, conf::Slot::kLoc},
    {"gzip_proxied", kCtx, conf::k1More, setProxied, conf::Slot::kLoc},
    {"gzip_disable", kCtx, conf::k1More, setDisable, conf::Slot::kLoc},
};

const conf::Module kModule{
    .name = "http_gzip",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .nginxModules = "http_gzip_module",
    .createMain = [] { return conf::ConfPtr(std::make_unique<GzipMain>()); },
    .createLoc = [] { return conf::ConfPtr(std::make_unique<GzipLoc>()); },
    .initMain = initMain,
    .mergeLoc = mergeLoc,
    .postConfiguration = postConf,
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& httpGzipModule() { return kModule; }

}  // namespace lunet::http
