// The request head with nginx's grammar (src/http/parse.h).
#include "http/parse.h"

#include <gtest/gtest.h>

#include <string>

namespace lunet::http {
namespace {

struct Line {
  int rc;
  RequestLineParse p;
  const char* err = nullptr;
};
Line line(const std::string& s) {
  Line l;
  l.rc = parseRequestLine(s.data(), 0, s.size(), &l.p, &l.err);
  return l;
}
std::string uri(const std::string& s, const Line& l) { return s.substr(l.p.uriOff, l.p.uriLen); }

TEST(ParseRequestLine, Basic) {
  std::string s = "GET /a?b HTTP/1.1\r\nHost: x\r\n";
  Line l = line(s);
  ASSERT_EQ(l.rc, kHeadOk);
  EXPECT_EQ(l.p.methodLen, 3u);
  EXPECT_EQ(uri(s, l), "/a?b");
  EXPECT_EQ(l.p.version, 1001);
  EXPECT_EQ(s.substr(l.p.start, l.p.end - l.p.start), "GET /a?b HTTP/1.1");
  EXPECT_EQ(s.substr(l.p.next), "Host: x\r\n");
}

TEST(ParseRequestLine, NginxLeniency) {
  EXPECT_EQ(line("GET / HTTP/1.1\n").rc, kHeadOk);          // bare LF
  EXPECT_EQ(line("\r\n\nGET / HTTP/1.0\r\n").rc, kHeadOk);  // empty lines before
  EXPECT_EQ(line("GET  /  HTTP/1.1 \r\n").rc, kHeadOk);     // extra spaces
  EXPECT_EQ(line("FOO / HTTP/1.1\r\n").rc, kHeadOk);
  EXPECT_EQ(line("MY_METH-OD / HTTP/1.1\r\n").rc, kHeadOk);
  EXPECT_EQ(line("GET / HTTP/1.2\r\n").p.version, 1002);
  EXPECT_EQ(line("GET / HTTP/1.999\r\n").p.version, 1999);
  EXPECT_EQ(line("GET /\r\n").p.version, 9);
  EXPECT_EQ(line("GET /\xff HTTP/1.1\r\n").rc, kHeadOk);
}

TEST(ParseRequestLine, Errors) {
  EXPECT_EQ(line("get / HTTP/1.1\r\n").rc, 400);
  EXPECT_STREQ(line("get / HTTP/1.1\r\n").err, "client sent invalid method");
  EXPECT_EQ(line("M1 / HTTP/1.1\r\n").rc, 400);
  EXPECT_EQ(line("GET /a b HTTP/1.1\r\n").rc, 400);
  EXPECT_EQ(line("GET /a\tb HTTP/1.1\r\n").rc, 400);
  EXPECT_EQ(line("GET /a\x7f HTTP/1.1\r\n").rc, 400);
  EXPECT_EQ(line("GET / HTTP/1.1000\r\n").rc, 400);
  EXPECT_EQ(line("GET / http/1.1\r\n").rc, 400);
  EXPECT_EQ(line("GET / HTTP/0.9\r\n").rc, 400);
  EXPECT_EQ(line("GET / HTTP/2.0\r\n").rc, 505);
  EXPECT_STREQ(line("GET / HTTP/2.0\r\n").err, "client sent invalid version");
  EXPECT_EQ(line("GET / HTTP/10.0\r\n").rc, 505);
  EXPECT_EQ(line("GET / HTTP/1.1\rx").rc, 400);
  EXPECT_EQ(line("CONNECT host:80 HTTP/1.1\r\n").rc, 400);
}

TEST(ParseRequestLine, AgainUntilDecided) {
  std::string s = "GET /abc HTTP/1.1\r\n";
  for (size_t n = 0; n < s.size(); n++) {
    RequestLineParse p;
    const char* err = nullptr;
    EXPECT_EQ(parseRequestLine(s.data(), 0, n, &p, &err), kHeadAgain) << n;
  }
  // An invalid method is known before the line ends.
  RequestLineParse p;
  const char* err = nullptr;
  EXPECT_EQ(parseRequestLine("ge", 0, 2, &p, &err), 400);
}

TEST(ParseRequestLine, AbsoluteUri) {
  std::string s = "GET http://Example.com:8080/p?q HTTP/1.1\r\n";
  Line l = line(s);
  ASSERT_EQ(l.rc, kHeadOk);
  EXPECT_TRUE(l.p.absolute);
  EXPECT_EQ(uri(s, l), "/p?q");
  EXPECT_EQ(s.substr(l.p.hostOff, l.p.hostLen), "Example.com:8080");
  EXPECT_EQ(line("GET http://u@h/ HTTP/1.1\r\n").rc, 400);
  EXPECT_EQ(line("GET http:/h/ HTTP/1.1\r\n").rc, 400);
  EXPECT_EQ(line("GET http://[::1]/ HTTP/1.1\r\n").rc, kHeadOk);
}

struct Hdr {
  int rc;
  HeaderLineParse h;
  size_t bad = 0;
};
Hdr header(const std::string& s) {
  Hdr r;
  r.rc = parseHeaderLine(s.data(), 0, s.size(), &r.h, &r.bad);
  return r;
}

TEST(ParseHeaderLine, Lines) {
  std::string s = "Name:   a b  \r\n";
  Hdr h = header(s);
  ASSERT_EQ(h.rc, kHeadOk);
  EXPECT_EQ(s.substr(h.h.nameOff, h.h.nameLen), "Name");
  EXPECT_EQ(s.substr(h.h.valOff, h.h.valLen), "a b");
  EXPECT_EQ(h.h.next, s.size());
  EXPECT_TRUE(header("\r\n").h.last);
  EXPECT_TRUE(header("\n").h.last);
  EXPECT_EQ(header("A: b\n").rc, kHeadOk);         // bare LF
  EXPECT_EQ(header("A: b\r\r\n").rc, kHeadOk);     // CRs before the LF
  EXPECT_EQ(header("A: \x01\xff\n").rc, kHeadOk);  // any byte but NUL and CR
  Hdr bare = header("Foo\r\n");
  ASSERT_EQ(bare.rc, kHeadOk);
  EXPECT_EQ(bare.h.nameLen, 3u);
  EXPECT_EQ(bare.h.valLen, 0u);
  EXPECT_EQ(header("Foo(x): y\r\n").rc, kHeadOk);  // invalid name: the caller ignores it
  EXPECT_EQ(header("A: b").rc, kHeadAgain);
  EXPECT_EQ(header("A: b\r").rc, kHeadAgain);
}

TEST(ParseHeaderLine, Invalid) {
  EXPECT_EQ(header("Foo bar\r\n").rc, 400);
  EXPECT_EQ(header("Foo bar\r\n").bad, 3u);
  EXPECT_EQ(header(" folded\r\n").rc, 400);
  EXPECT_EQ(header("\tfolded\r\n").bad, 0u);
  EXPECT_EQ(header(": v\r\n").rc, 400);
  EXPECT_EQ(header("Foo : v\r\n").rc, 400);
  EXPECT_EQ(header(std::string("A: a\0b\r\n", 8)).bad, 4u);
  EXPECT_EQ(header("A: a\rb\r\n").rc, 400);
  EXPECT_EQ(header("Fo\ro: v\r\n").rc, 400);
  EXPECT_EQ(header("Foo ba").rc, 400);  // known before the line ends
  EXPECT_EQ(header("\r\r\n").rc, 400);  // the empty line is CRLF or LF only
}

long host(const std::string& h, std::string* out) {
  out->assign(h.size(), '\0');
  long n = validateHost(h, out->data());
  if (n >= 0) out->resize(static_cast<size_t>(n));
  return n;
}

TEST(ValidateHost, AsNginx) {
  std::string o;
  EXPECT_EQ(host("Example.COM", &o), 11);
  EXPECT_EQ(o, "example.com");
  EXPECT_EQ(host("example.com.:80", &o), 11);
  EXPECT_EQ(o, "example.com");
  EXPECT_EQ(host("[::1]:80", &o), 5);
  EXPECT_EQ(o, "[::1]");
  EXPECT_EQ(host("[::1", &o), 4);
  EXPECT_EQ(host(".a", &o), 2);
  EXPECT_EQ(host("a\\b", &o), 3);
  EXPECT_EQ(host("h\xc3\xa9", &o), 3);
  EXPECT_EQ(host("", &o), -1);
  EXPECT_EQ(host(".", &o), -1);
  EXPECT_EQ(host("..", &o), -1);
  EXPECT_EQ(host("a..b", &o), -1);
  EXPECT_EQ(host(":80", &o), -1);
  EXPECT_EQ(host("a/b", &o), -1);
  EXPECT_EQ(host("a b", &o), -1);
  EXPECT_EQ(host(std::string("a\0b", 3), &o), -1);
  EXPECT_EQ(host("a\x7f", &o), -1);
}

}  // namespace
}  // namespace lunet::http
