// The llhttp adapter's response side: frames and de-chunks the body of an
// upstream's response, as the server side does for request bodies (see
// http1_parser.cc and docs/design/http.md). The head itself is read with
// parse.h (parseStatusLine, parseHeaderLine); llhttp is given a canonical
// head carrying only the framing the caller decided on, then the body bytes.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>

namespace lunet::http {

class ResponseBody {
 public:
  enum class Framing : uint8_t {
    kNone,     // no body (HEAD, 1xx, 204, 304, Content-Length: 0)
    kLength,   // Content-Length bytes
    kChunked,  // Transfer-Encoding: chunked
    kClose,    // until the peer closes
  };
  // Data of the body (de-chunked): a slice of the bytes given to feed().
  using Sink = void (*)(void* data, const char* at, size_t len) noexcept;

  ResponseBody() noexcept = default;
  ResponseBody(const ResponseBody&) = delete;
  ResponseBody& operator=(const ResponseBody&) = delete;

  void init(Framing f, int64_t length, Sink sink, void* data) noexcept;
  // Feeds bytes. Returns the bytes taken (fewer than len once the body
  // ended: the rest is not part of it), or -1 for an invalid chunked body.
  long feed(const char* at, size_t len) noexcept;
  // The peer closed: true when that ends the body (kClose, or it was done).
  bool finish() noexcept;
  bool done() const noexcept { return done_; }
  Framing framing() const noexcept { return framing_; }

 private:
  static int onBody(llhttp_t* p, const char* at, size_t len);
  static int onComplete(llhttp_t* p);

  llhttp_t parser_{};
  Sink sink_ = nullptr;
  void* data_ = nullptr;
  Framing framing_ = Framing::kNone;
  bool done_ = true;
};

}  // namespace lunet::http
