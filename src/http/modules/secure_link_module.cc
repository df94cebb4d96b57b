// secure_link, secure_link_md5, secure_link_secret (nginx's
// ngx_http_secure_link_module): $secure_link says whether a link carries
// the right MD5 (and has not expired); $secure_link_expires its expiry.
#include <openssl/evp.h>

#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "conf/cycle.h"
#include "core/time.h"
#include "http/credentials.h"
#include "http/modules/modules.h"
#include "http/variables.h"

namespace lunet::http {

namespace {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;

const conf::Module& mod();

struct SecureLoc : ConfBase {
  std::shared_ptr<ComplexValue> variable;  // secure_link
  std::shared_ptr<ComplexValue> md5;       // secure_link_md5
  std::optional<std::string> secret;       // secure_link_secret
  bool variableSet = false, md5Set = false;
};

struct SecureMain : ConfBase {};

// Per request: where the expiry text of the link is (for the variable).
struct Ctx {
  std::string_view expires;
};

bool md5(std::string_view a, std::string_view b, unsigned char* out) {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return ctx && EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) == 1 &&
         EVP_DigestUpdate(ctx.get(), a.data(), a.size()) == 1 &&
         EVP_DigestUpdate(ctx.get(), b.data(), b.size()) == 1 &&
         EVP_DigestFinal_ex(ctx.get(), out, nullptr) == 1;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(c | 0x20);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// secure_link_secret: /prefix/MD5HEX/link, MD5HEX = md5(link + secret);
// the value is `link`.
void oldVariable(Request& r, const SecureLoc& c, VarValue* out) {
  std::string_view u = r.unparsedUri;
  if (u.size() < 2) return;
  size_t a = u.find('/', 1);
  if (a == std::string_view::npos) return;
  size_t b = u.find('/', a + 1);
  if (b == std::string_view::npos) return;
  std::string_view hex = u.substr(a + 1, b - a - 1);
  std::string_view link = u.substr(b + 1);
  if (hex.size() != 32 || link.empty()) return;
  unsigned char h[16];
  if (!md5(link, *c.secret, h)) return;
  for (int i = 0; i < 16; i++) {
    int hi = hexValue(hex[2 * i]), lo = hexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0 || ((hi << 4) | lo) != h[i]) return;
  }
  out->data = link;
  out->notFound = false;
}

void linkGet(Request& r, std::string_view, VarValue* out, uintptr_t) {
  const auto* c = r.loc<SecureLoc>(mod());
  out->notFound = true;
  if (c->secret) {
    oldVariable(r, *c, out);
    return;
  }
  if (!c->variable || !c->md5) return;
  std::string_view v = c->variable->eval(r);
  time_t expires = 0;
  size_t comma = v.find(',');
  if (comma != std::string_view::npos) {
    std::string_view e = v.substr(comma + 1);
    v = v.substr(0, comma);
    // nginx's ngx_atotm: digits only, else invalid.
    if (e.empty()) return;
    for (char ch : e) {
      if (ch < '0' || ch > '9' || expires > (INT64_MAX - 9) / 10) return;
      expires = expires * 10 + (ch - '0');
    }
    if (expires <= 0) return;
    auto* ctx = static_cast<Ctx*>(r.getCtx(mod()));
    if (ctx == nullptr) {
      ctx = r.arena.make<Ctx>();
      r.setCtx(mod(), ctx);
    }
    ctx->expires = e;
  }
  if (v.size() > 24) return;
  char hash[24];
  size_t n = 0;
  if (!decodeBase64(v, hash, &n, true) || n != 16) return;
  std::string_view text = c->md5->eval(r);
  unsigned char want[16];
  if (!md5(text, {}, want)) return;
  if (std::memcmp(hash, want, 16) != 0) return;
  out->data = expires != 0 && expires < core::nowSec() ? "0" : "1";
  out->notFound = false;
}

void expiresGet(Request& r, std::string_view name, VarValue* out, uintptr_t) {
  out->notFound = true;
  // nginx fills the context while evaluating $secure_link.
  auto* ctx = static_cast<Ctx*>(r.getCtx(mod()));
  if (ctx == nullptr) {
    VarValue ignored;
    linkGet(r, name, &ignored, 0);
    ctx = static_cast<Ctx*>(r.getCtx(mod()));
  }
  if (ctx != nullptr) {
    out->data = ctx->expires;
    out->notFound = false;
  }
}

void setLink(Engine&, const ConfNode& n, ConfBase* conf, const Directive&) {
  auto* c = static_cast<SecureLoc*>(conf);
  if (c->variableSet) fail(n, "\"secure_link\" directive is duplicate");
  c->variableSet = true;
  c->variable = std::make_shared<ComplexValue>();
  c->variable->compile(n, n.arg(0));
}

void setMd5(Engine&, const ConfNode& n, ConfBase* conf, const Directive&) {
  auto* c = static_cast<SecureLoc*>(conf);
  if (c->md5Set) fail(n, "\"secure_link_md5\" directive is duplicate");
  c->md5Set = true;
  c->md5 = std::make_shared<ComplexValue>();
  c->md5->compile(n, n.arg(0));
}

void mergeLoc(Engine&, ConfBase* p, ConfBase* ch) {
  auto* pa = static_cast<SecureLoc*>(p);
  auto* c = static_cast<SecureLoc*>(ch);
  if (c->secret) {
    if (c->variable || c->md5) {
      throw conf::ConfError(
          "\"secure_link_secret\" cannot be mixed with \"secure_link\" and \"secure_link_md5\"");
    }
    return;
  }
  if (!c->variable) c->variable = pa->variable;
  if (!c->md5) c->md5 = pa->md5;
  if (!c->variable && !c->md5) c->secret = pa->secret;
}

void initMain(Engine&, ConfBase*) {
  addVariable("secure_link", linkGet, 0, kVarNoCache);
  addVariable("secure_link_expires", expiresGet, 0, kVarNoCache);
}

const Directive kDirectives[] = {
    {"secure_link", conf::kAnyHttpCtx, conf::kTake1, setLink, conf::Slot::kLoc},
    {"secure_link_md5", conf::kAnyHttpCtx, conf::kTake1, setMd5, conf::Slot::kLoc},
    {"secure_link_secret", conf::kAnyHttpCtx, conf::kTake1, conf::setString<&SecureLoc::secret>,
     conf::Slot::kLoc},
};

const conf::Module kModule{
    .name = "http_secure_link",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .nginxModules = "http_secure_link_module",
    .createMain = [] { return conf::ConfPtr(std::make_unique<SecureMain>()); },
    .createLoc = [] { return conf::ConfPtr(std::make_unique<SecureLoc>()); },
    .initMain = initMain,
    .mergeLoc = mergeLoc,
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& httpSecureLinkModule() { return kModule; }

}  // namespace lunet::http
