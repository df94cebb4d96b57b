// libFuzzer target for the HTTP adapter: the nginx-grammar head parser
// (parse.h: request line, header lines, Host validation, with the same
// offsets checks the connection relies on), llhttp with arbitrary bytes,
// then URI parsing and normalisation, and the header lookups built from the
// slices.
#include <llhttp.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/arena.h"
#include "http/parse.h"
#include "http/request.h"
#include "http/uri.h"

namespace {

struct State {
  const char* base;
  std::string_view url;
  std::vector<std::pair<std::string_view, std::string_view>> hdrs;
  bool lastValue = false;
  size_t body = 0;
  bool done = false;
};

int onUrl(llhttp_t* p, const char* at, size_t len) {
  auto* s = static_cast<State*>(p->data);
  if (s->url.empty())
    s->url = {at, len};
  else
    s->url = {s->url.data(), static_cast<size_t>(at + len - s->url.data())};
  return 0;
}
int onField(llhttp_t* p, const char* at, size_t len) {
  auto* s = static_cast<State*>(p->data);
  if (s->hdrs.empty() || s->lastValue) s->hdrs.push_back({{at, len}, {}});
  s->lastValue = false;
  return 0;
}
int onValue(llhttp_t* p, const char* at, size_t len) {
  auto* s = static_cast<State*>(p->data);
  s->lastValue = true;
  if (!s->hdrs.empty()) s->hdrs.back().second = {at, len};
  return 0;
}
int onBody(llhttp_t* p, const char*, size_t len) {
  static_cast<State*>(p->data)->body += len;
  return 0;
}
int onDone(llhttp_t* p) {
  static_cast<State*>(p->data)->done = true;
  return HPE_PAUSED;
}

}  // namespace

namespace {

// The head as connection.cc tokenizes it: every offset must stay inside the
// bytes seen, and a complete line must end after where it started.
void fuzzHead(const char* b, size_t size) {
  lunet::http::RequestLineParse rl;
  const char* err = nullptr;
  int rc = lunet::http::parseRequestLine(b, 0, size, &rl, &err);
  if (rc > 0 && err == nullptr) __builtin_trap();
  if (rc != lunet::http::kHeadOk) return;
  if (rl.next > size || rl.uriOff + rl.uriLen > size || rl.end > rl.next || rl.start > rl.end ||
      rl.hostOff + rl.hostLen > size) {
    __builtin_trap();
  }
  std::string host(rl.hostLen + 1, '\0');
  long hn = lunet::http::validateHost({b + rl.hostOff, rl.hostLen}, host.data());
  if (hn > static_cast<long>(rl.hostLen)) __builtin_trap();
  size_t at = rl.next;
  for (int i = 0; i < 200; i++) {
    lunet::http::HeaderLineParse h;
    size_t bad = 0;
    rc = lunet::http::parseHeaderLine(b, at, size, &h, &bad);
    if (rc == 400 && (bad < at || bad >= size)) __builtin_trap();
    if (rc != lunet::http::kHeadOk) return;
    if (h.next <= at || h.next > size || h.nameOff + h.nameLen > size ||
        h.valOff + h.valLen > size) {
      __builtin_trap();
    }
    if (h.last) return;
    std::string v(h.valLen + 1, '\0');
    (void)lunet::http::validateHost({b + h.valOff, h.valLen}, v.data());
    at = h.next;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzzHead(reinterpret_cast<const char*>(data), size);
  llhttp_settings_t st;
  llhttp_settings_init(&st);
  st.on_url = onUrl;
  st.on_header_field = onField;
  st.on_header_value = onValue;
  st.on_body = onBody;
  st.on_message_complete = onDone;
  const char* p = reinterpret_cast<const char*>(data);
  size_t left = size;
  llhttp_t parser;
  llhttp_init(&parser, HTTP_REQUEST, &st);
  // Pipelined requests: parse, pause at message end, resume.
  for (int i = 0; i < 16 && left > 0; i++) {
    State s;
    s.base = p;
    parser.data = &s;
    llhttp_errno_t e = llhttp_execute(&parser, p, left);
    if (!s.url.empty()) {
      lunet::http::ParsedTarget t;
      if (lunet::http::parseTarget(s.url, &t)) {
        std::string out(t.path.size() + 1, '\0');
        long n = lunet::http::normalizePath(t.path, out.data(), (size & 1) != 0);
        if (n > static_cast<long>(t.path.size())) __builtin_trap();
      }
    }
    lunet::core::Arena arena;
    lunet::http::HeaderList list;
    for (auto& [k, v] : s.hdrs) list.add(arena, k, v);
    (void)list.find("Host");
    list.remove("content-length");
    if (e != HPE_PAUSED) break;
    const char* pos = llhttp_get_error_pos(&parser);
    left -= static_cast<size_t>(pos - p);
    p = pos;
    llhttp_resume(&parser);
  }
  return 0;
}
