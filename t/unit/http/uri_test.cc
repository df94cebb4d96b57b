#include "http/uri.h"

#include <gtest/gtest.h>

#include <string>

namespace lunet::http {
namespace {

std::string norm(std::string_view in, bool merge = true) {
  std::string out(in.size() + 1, '\0');
  long n = normalizePath(in, out.data(), merge);
  if (n < 0) return "<400>";
  out.resize(static_cast<size_t>(n));
  return out;
}

TEST(UriNormalize, Table) {
  struct {
    const char* in;
    const char* out;
  } const cases[] = {
      {"/", "/"},
      {"/a/b", "/a/b"},
      {"/aaa/../bbb", "/bbb"},
      {"/../a", "<400>"},
      {"/..", "<400>"},
      {"/a/..", "/"},
      {"/a/b/..", "/a/"},
      {"/a/./b", "/a/b"},
      {"/a/.", "/a/"},
      {"//a///b", "/a/b"},
      {"/a%20b", "/a b"},
      {"/%2e%2e/x", "<400>"},
      {"/a/%2e%2e/x", "/x"},
      {"/a%2Fb", "/a/b"},
      {"/a%zz", "<400>"},
      {"/a%2", "<400>"},
      {"/a%00b", "<400>"},
      {"/...", "/..."},
      {"/a/..b", "/a/..b"},
      {"/a/b/../../..", "<400>"},
      {"noslash", "<400>"},
      {"/%25", "/%"},
  };
  for (const auto& c : cases) EXPECT_EQ(norm(c.in), c.out) << c.in;
}

TEST(UriNormalize, MergeSlashesOff) {
  EXPECT_EQ(norm("//a//b", false), "//a//b");
  EXPECT_EQ(norm("/a//../b", false), "/a/b");
}

TEST(UriTarget, Split) {
  ParsedTarget t;
  ASSERT_TRUE(parseTarget("/a?b=1#frag", &t));
  EXPECT_EQ(t.path, "/a");
  EXPECT_EQ(t.args, "b=1");
  ASSERT_TRUE(parseTarget("http://host:80/p?q", &t));
  EXPECT_EQ(t.host, "host:80");
  EXPECT_EQ(t.path, "/p");
  EXPECT_EQ(t.args, "q");
  EXPECT_FALSE(parseTarget("", &t));
  EXPECT_FALSE(parseTarget("*x", &t));
}

TEST(UriUnescape, Args) {
  char buf[32];
  size_t n = unescape("a%20b+c", buf, true);
  EXPECT_EQ(std::string(buf, n), "a b c");
}

}  // namespace
}  // namespace lunet::http
