#define PCRE2_CODE_UNIT_WIDTH 8
#include "http/regex.h"

#include <pcre2.h>

namespace lunet::http {

namespace {
pcre2_match_data* matchData() {
  static pcre2_match_data* md = pcre2_match_data_create(64, nullptr);
  return md;
}
}  // namespace

Regex* Regex::compile(std::string_view pattern, bool caseless, std::string* err) {
  int ec = 0;
  PCRE2_SIZE off = 0;
  uint32_t opts = caseless ? PCRE2_CASELESS : 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   opts, &ec, &off, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(ec, buf, sizeof(buf));
    *err = "pcre2_compile() failed: " + std::string(reinterpret_cast<char*>(buf)) + " in \"" +
           std::string(pattern) + "\" at \"" + std::string(pattern.substr(off)) + "\"";
    return nullptr;
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  auto* r = new Regex();
  r->code_ = code;
  uint32_t n = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &n);
  r->ncaps_ = static_cast<int>(n);
  r->pattern_ = std::string(pattern);
  return r;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

int Regex::exec(std::string_view subject, int* caps, int capsLen) const noexcept {
  pcre2_match_data* md = matchData();
  int rc =
      pcre2_match(static_cast<pcre2_code*>(code_), reinterpret_cast<PCRE2_SPTR>(subject.data()),
                  subject.size(), 0, 0, md, nullptr);
  if (rc == PCRE2_ERROR_NOMATCH) return 0;
  if (rc < 0) return rc;
  if (rc == 0) rc = 64;
  if (caps != nullptr) {
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    int pairs = rc;
    if (pairs * 2 > capsLen) pairs = capsLen / 2;
    for (int i = 0; i < pairs * 2; i++) {
      caps[i] = ov[i] == PCRE2_UNSET ? -1 : static_cast<int>(ov[i]);
    }
    return pairs;
  }
  return rc;
}

int Regex::namedIndex(std::string_view name) const noexcept {
  std::string n(name);
  int rc = pcre2_substring_number_from_name(static_cast<pcre2_code*>(code_),
                                            reinterpret_cast<PCRE2_SPTR>(n.c_str()));
  return rc < 0 ? -1 : rc;
}

}  // namespace lunet::http
