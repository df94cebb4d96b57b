// ngx.re.* on PCRE2 (JIT): the C side of lua/resty/core/regex.lua and
// lua/ngx/re.lua. A compiled regex owns its match data and match context, so
// a match allocates nothing; the `o` cache lives in the worker's Lua VM.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "lua/api.h"
#include "lua/module.h"

namespace lunet::lua {

namespace {

// Must match the cdef in lua/resty/core/regex.lua.
struct FfiRegex {
  pcre2_code* code;
  pcre2_match_data* md;
  pcre2_match_context* mctx;
  int ncaptures;
  int nameCount;
  int nameEntrySize;
  const unsigned char* nameTable;
  int flags;
};

constexpr int kFlagDfa = 1;
constexpr int kFlagJit = 2;
constexpr int kFlagNoUtfCheck = 4;

// The JIT stack set by ngx.re.opt("jit_stack_size", N); one per process.
pcre2_jit_stack* jitStack(pcre2_jit_stack* replace, bool set) {
  static pcre2_jit_stack* stack = nullptr;
  if (set) {
    if (stack != nullptr) pcre2_jit_stack_free(stack);
    stack = replace;
  }
  return stack;
}

void copyError(char* buf, size_t len, const char* msg) {
  if (len == 0) return;
  snprintf(buf, len, "%s", msg);
}

}  // namespace

// ---- FFI (lua/resty/core/regex.lua, lua/ngx/re.lua) ----

// Returns the compiled regex, or null with the message (lua-nginx-module's
// wording) in errbuf.
extern "C" FfiRegex* lunet_ffi_re_compile(const char* pat, size_t len, int flags, uint32_t opts,
                                          char* errbuf, size_t errlen) noexcept {
  int ec = 0;
  PCRE2_SIZE off = 0;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pat), len, opts, &ec, &off, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(ec, msg, sizeof(msg));
    snprintf(errbuf, errlen, "pcre2_compile() failed: %s in \"%.*s\"", reinterpret_cast<char*>(msg),
             static_cast<int>(len), pat);
    return nullptr;
  }
  if ((flags & kFlagJit) != 0 && (flags & kFlagDfa) == 0) {
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  }
  auto* re = static_cast<FfiRegex*>(calloc(1, sizeof(FfiRegex)));
  if (re == nullptr) {
    pcre2_code_free(code);
    copyError(errbuf, errlen, "no memory");
    return nullptr;
  }
  re->code = code;
  uint32_t n = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &n);
  re->ncaptures = static_cast<int>(n);
  pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &n);
  re->nameCount = static_cast<int>(n);
  pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &n);
  re->nameEntrySize = static_cast<int>(n);
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
  re->nameTable = table;
  re->flags = flags;
  // DFA matching fills the ovector with alternative matches, longest first.
  re->md = (flags & kFlagDfa) != 0 ? pcre2_match_data_create(re->ncaptures + 1, nullptr)
                                   : pcre2_match_data_create_from_pattern(code, nullptr);
  re->mctx = pcre2_match_context_create(nullptr);
  if (re->md == nullptr || re->mctx == nullptr) {
    pcre2_match_data_free(re->md);
    pcre2_match_context_free(re->mctx);
    pcre2_code_free(code);
    free(re);
    copyError(errbuf, errlen, "no memory");
    return nullptr;
  }
  LuaMainConf* mc = luaMainConf();
  if (mc != nullptr && mc->regexMatchLimit > 0) {
    pcre2_set_match_limit(re->mctx, static_cast<uint32_t>(mc->regexMatchLimit));
  }
  if (pcre2_jit_stack* js = jitStack(nullptr, false); js != nullptr) {
    pcre2_jit_stack_assign(re->mctx, nullptr, js);
  }
  return re;
}

extern "C" void lunet_ffi_re_free(FfiRegex* re) noexcept {
  if (re == nullptr) return;
  pcre2_match_data_free(re->md);
  pcre2_match_context_free(re->mctx);
  pcre2_code_free(re->code);
  free(re);
}

// Matches subject from byte offset pos. caps gets capsLen ints: start/end
// byte offsets per group (-1 unset). Returns the number of pairs set (> 0),
// PCRE2_ERROR_NOMATCH (-1), or another PCRE2 error code (< 0).
extern "C" int lunet_ffi_re_exec(FfiRegex* re, const char* subject, size_t len, int pos, int* caps,
                                 int capsLen) noexcept {
  uint32_t mopts = (re->flags & kFlagNoUtfCheck) != 0 ? PCRE2_NO_UTF_CHECK : 0;
  int rc;
  if ((re->flags & kFlagDfa) != 0) {
    int ws[100];
    rc = pcre2_dfa_match(re->code, reinterpret_cast<PCRE2_SPTR>(subject), len,
                         static_cast<PCRE2_SIZE>(pos), mopts, re->md, re->mctx, ws, 100);
    if (rc == 0) rc = 1;  // ovector too small for all alternatives: keep the longest
    if (rc > 1) rc = 1;
  } else {
    rc = pcre2_match(re->code, reinterpret_cast<PCRE2_SPTR>(subject), len,
                     static_cast<PCRE2_SIZE>(pos), mopts, re->md, re->mctx);
    if (rc == 0) rc = re->ncaptures + 1;
  }
  if (rc < 0) return rc;
  PCRE2_SIZE* ov = pcre2_get_ovector_pointer(re->md);
  int pairs = rc;
  if (pairs * 2 > capsLen) pairs = capsLen / 2;
  for (int i = 0; i < pairs * 2; i++) {
    caps[i] = ov[i] == PCRE2_UNSET ? -1 : static_cast<int>(ov[i]);
  }
  // Groups after the last one set are unset.
  int all = re->ncaptures + 1;
  if ((re->flags & kFlagDfa) != 0) all = 1;
  for (int i = pairs * 2; i < all * 2 && i < capsLen; i++) caps[i] = -1;
  return pairs;
}

extern "C" int lunet_ffi_re_max_cache_entries() noexcept {
  LuaMainConf* mc = luaMainConf();
  if (mc == nullptr || mc->regexCacheMaxEntries < 0) return 1024;
  return static_cast<int>(mc->regexCacheMaxEntries);
}

// ngx.re.opt("jit_stack_size", size). Returns 0, or -1 with errbuf set.
extern "C" int lunet_ffi_re_set_jit_stack_size(int size, char* errbuf, size_t errlen) noexcept {
  pcre2_jit_stack* js =
      pcre2_jit_stack_create(size < 32 * 1024 ? static_cast<PCRE2_SIZE>(size) : 32 * 1024,
                             static_cast<PCRE2_SIZE>(size), nullptr);
  if (js == nullptr) {
    copyError(errbuf, errlen, "pcre jit stack allocation failed");
    return -1;
  }
  jitStack(js, true);
  return 0;
}

}  // namespace lunet::lua
