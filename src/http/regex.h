// PCRE2 regexes for locations, server names, rewrite and `if`.
#pragma once

#include <string>
#include <string_view>

namespace lunet::http {

class Regex {
 public:
  // Compiles; returns nullptr and sets *err on failure.
  static Regex* compile(std::string_view pattern, bool caseless, std::string* err);
  ~Regex();
  // Matches `subject`; fills caps with 2*(captures+1) offsets if non-null
  // (capsLen ints available). Returns number of pairs set, 0 no match, <0 error.
  int exec(std::string_view subject, int* caps, int capsLen) const noexcept;
  int captureCount() const { return ncaps_; }
  // Named captures: name → number.
  int namedIndex(std::string_view name) const noexcept;
  const std::string& pattern() const { return pattern_; }

 private:
  Regex() = default;
  void* code_ = nullptr;
  int ncaps_ = 0;
  std::string pattern_;
};

}  // namespace lunet::http
