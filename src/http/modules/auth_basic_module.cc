// auth_basic / auth_basic_user_file (nginx's ngx_http_auth_basic_module):
// HTTP Basic authentication against an htpasswd-style file, read on each
// check as nginx does. Password formats are nginx's ngx_crypt: crypt(3)
// through libcrypt ($1$, $5$, $6$, $y$, DES...), $apr1$, {PLAIN}, {SHA},
// {SSHA}.
#include <crypt.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "conf/cycle.h"
#include "http/core_module.h"
#include "http/credentials.h"
#include "http/modules/modules.h"
#include "http/phases.h"

namespace lunet::http {

namespace {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;

const conf::Module& mod();

struct AuthMain : ConfBase {
  bool used = false;
};

struct AuthLoc : ConfBase {
  std::unique_ptr<ComplexValue> realm;  // null: unset
  bool realmSet = false;
  std::unique_ptr<ComplexValue> userFile;
  bool userFileSet = false;
  std::string confPrefix;  // relative user files are found from the conf dir
};

void markUsed(Engine& e) {
  static_cast<AuthMain*>(e.cycle().confs[mod().index].get())->used = true;
}

void setRealm(Engine& e, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* a = static_cast<AuthLoc*>(c);
  if (a->realmSet) fail(n, "\"auth_basic\" directive is duplicate");
  a->realmSet = true;
  markUsed(e);
  a->realm = std::make_unique<ComplexValue>();
  a->realm->compile(n, n.arg(0));
}

void setUserFile(Engine& e, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* a = static_cast<AuthLoc*>(c);
  if (a->userFileSet) fail(n, "\"auth_basic_user_file\" directive is duplicate");
  a->userFileSet = true;
  a->userFile = std::make_unique<ComplexValue>();
  a->userFile->compile(n, n.arg(0));
  a->confPrefix = e.cycle().confPrefix;
}

void mergeLoc(Engine&, ConfBase* p, ConfBase* c) {
  auto* pa = static_cast<AuthLoc*>(p);
  auto* ch = static_cast<AuthLoc*>(c);
  if (!ch->realmSet && pa->realmSet) {
    ch->realm = std::make_unique<ComplexValue>(*pa->realm);
    ch->realmSet = true;
  }
  if (!ch->userFileSet && pa->userFileSet) {
    ch->userFile = std::make_unique<ComplexValue>(*pa->userFile);
    ch->confPrefix = pa->confPrefix;
    ch->userFileSet = true;
  }
}

int setRealmHeader(Request& r, std::string_view realm) {
  static constexpr std::string_view kPre = "Basic realm=\"";
  size_t len = kPre.size() + realm.size() + 1;
  char* p = static_cast<char*>(r.arena.alloc(len, 1));
  std::memcpy(p, kPre.data(), kPre.size());
  std::memcpy(p + kPre.size(), realm.data(), realm.size());
  p[len - 1] = '"';
  r.headersOut.list.add(r.arena, "WWW-Authenticate", {p, len});
  return 401;
}

bool digest(const EVP_MD* md, std::initializer_list<std::string_view> parts, unsigned char* out) {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return false;
  for (std::string_view p : parts) {
    if (EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) return false;
  }
  return EVP_DigestFinal_ex(ctx.get(), out, nullptr) == 1;
}

// Apache's MD5-based "$apr1$salt$hash" (the BSD MD5-crypt with its own magic).
std::optional<std::string> apr1(std::string_view pw, std::string_view setting) {
  static constexpr std::string_view kMagic = "$apr1$";
  std::string_view salt = setting.substr(kMagic.size());
  size_t end = salt.find('$');
  if (end != std::string_view::npos) salt = salt.substr(0, end);
  if (salt.size() > 8) salt = salt.substr(0, 8);
  const EVP_MD* md5 = EVP_md5();
  unsigned char fin[16];
  if (!digest(md5, {pw, salt, pw}, fin)) return std::nullopt;
  std::string ctx;  // the bytes hashed for the first digest
  ctx.append(pw).append(kMagic).append(salt);
  for (size_t left = pw.size(); left > 0; left -= left > 16 ? 16 : left) {
    ctx.append(reinterpret_cast<char*>(fin), left > 16 ? 16 : left);
  }
  for (size_t i = pw.size(); i != 0; i >>= 1)
    ctx.push_back((i & 1) ? '\0' : (pw.empty() ? '\0' : pw[0]));
  if (!digest(md5, {ctx}, fin)) return std::nullopt;
  std::string_view f(reinterpret_cast<char*>(fin), 16);
  for (int i = 0; i < 1000; i++) {
    std::string_view a = (i & 1) ? pw : f;
    std::string_view b = (i % 3) ? salt : std::string_view();
    std::string_view c = (i % 7) ? pw : std::string_view();
    std::string_view d = (i & 1) ? f : pw;
    unsigned char next[16];
    if (!digest(md5, {a, b, c, d}, next)) return std::nullopt;
    std::memcpy(fin, next, 16);
  }
  static const char kItoa64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out(kMagic);
  out.append(salt).push_back('$');
  auto to64 = [&](uint32_t v, int n) {
    while (n-- > 0) {
      out.push_back(kItoa64[v & 0x3f]);
      v >>= 6;
    }
  };
  static constexpr int kOrder[5][3] = {{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}};
  for (const auto& o : kOrder)
    to64((uint32_t{fin[o[0]]} << 16) | (uint32_t{fin[o[1]]} << 8) | fin[o[2]], 4);
  to64(fin[11], 2);
  return out;
}

// nginx's ngx_crypt + strcmp: does `pw` match the stored `hash`?
// kError: the scheme failed to run (crypt() error), a 500 in nginx.
enum class Check { kMatch, kMismatch, kError };

Check checkPassword(Request& r, std::string_view pw, const std::string& hash) {
  auto eq = [](std::string_view a, std::string_view b) {
    return a == b ? Check::kMatch : Check::kMismatch;
  };
  std::string_view h = hash;
  if (h.starts_with("$apr1$")) {
    std::optional<std::string> got = apr1(pw, h);
    return got ? eq(*got, h) : Check::kError;
  }
  if (h.starts_with("{PLAIN}")) return eq(pw, h.substr(7));
  if (h.starts_with("{SHA}")) {
    unsigned char d[20];
    if (!digest(EVP_sha1(), {pw}, d)) return Check::kError;
    char b64[32];
    size_t n = encodeBase64({reinterpret_cast<char*>(d), 20}, b64);
    return eq({b64, n}, h.substr(5));
  }
  if (h.starts_with("{SSHA}")) {
    std::string_view enc = h.substr(6);
    std::string raw((enc.size() + 3) / 4 * 3 + 1, '\0');
    size_t n = 0;
    if (!decodeBase64(enc, raw.data(), &n, false) || n < 20) return Check::kMismatch;
    unsigned char d[20];
    if (!digest(EVP_sha1(), {pw, std::string_view(raw.data() + 20, n - 20)}, d)) {
      return Check::kError;
    }
    return std::memcmp(d, raw.data(), 20) == 0 ? Check::kMatch : Check::kMismatch;
  }
  // crypt(3): the stored hash is the setting (salt) and the expected output.
  auto data = std::make_unique<crypt_data>();
  std::string key(pw);
  const char* out = crypt_r(key.c_str(), hash.c_str(), data.get());
  if (out == nullptr) {
    LUNET_LOG(r.log, core::Level::kCrit, errno, "crypt_r() failed");
    return Check::kError;
  }
  return eq(out, h);
}

// The password field of `user` in the file's text, as nginx's parser reads
// it: "user:password[:comment]" lines, '#' lines skipped.
bool findUser(std::string_view text, std::string_view user, std::string* out) {
  size_t i = 0;
  while (i < text.size()) {
    size_t eol = text.find('\n', i);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(i, eol - i);
    i = eol + 1;
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (line.substr(0, colon) != user) continue;
    std::string_view pw = line.substr(colon + 1);
    size_t stop = pw.find_first_of(":\r");
    if (stop != std::string_view::npos) pw = pw.substr(0, stop);
    out->assign(pw);
    return true;
  }
  return false;
}

int handler(Request& r) {
  const auto* a = r.loc<AuthLoc>(mod());
  if (!a->realmSet || !a->userFileSet) return kDeclined;
  std::string_view realm = a->realm->eval(r);
  if (realm == "off") return kDeclined;
  std::string_view user, password;
  if (!basicCredentials(r, &user, &password)) {
    LUNET_LOG(r.log, core::Level::kInfo, 0,
              "no user/password was provided for basic authentication");
    return setRealmHeader(r, realm);
  }
  std::string path(a->userFile->eval(r));
  if (path.empty() || path[0] != '/') path = a->confPrefix + path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    bool missing = err == ENOENT;
    LUNET_LOG(r.log, missing ? core::Level::kError : core::Level::kCrit, err,
              "open() \"%s\" failed", path.c_str());
    return missing ? 403 : 500;
  }
  std::string text;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      LUNET_LOG(r.log, core::Level::kCrit, err, "read() \"%s\" failed", path.c_str());
      return 500;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  std::string stored;
  if (!findUser(text, user, &stored)) {
    LUNET_LOG(r.log, core::Level::kError, 0, "user \"%.*s\" was not found in \"%s\"",
              static_cast<int>(user.size()), user.data(), path.c_str());
    return setRealmHeader(r, realm);
  }
  switch (checkPassword(r, password, stored)) {
    case Check::kMatch:
      return kOk;
    case Check::kError:
      return 500;
    case Check::kMismatch:
      break;
  }
  LUNET_LOG(r.log, core::Level::kError, 0, "user \"%.*s\": password mismatch",
            static_cast<int>(user.size()), user.data());
  return setRealmHeader(r, realm);
}

void postConf(Engine& e) {
  auto* m = static_cast<AuthMain*>(e.cycle().confs[mod().index].get());
  if (m != nullptr && m->used) addPhaseHandler(Phase::kAccess, handler);
}

constexpr uint32_t kCtx = conf::kAnyHttpCtx | conf::kHttpLmtCtx;

const Directive kDirectives[] = {
    {"auth_basic", kCtx, conf::kTake1, setRealm, conf::Slot::kLoc},
    {"auth_basic_user_file", kCtx, conf::kTake1, setUserFile, conf::Slot::kLoc},
};

const conf::Module kModule{
    .name = "http_auth_basic",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .nginxModules = "http_auth_basic_module",
    .createMain = [] { return conf::ConfPtr(std::make_unique<AuthMain>()); },
    .createLoc = [] { return conf::ConfPtr(std::make_unique<AuthLoc>()); },
    .mergeLoc = mergeLoc,
    .postConfiguration = postConf,
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& httpAuthBasicModule() { return kModule; }

}  // namespace lunet::http
