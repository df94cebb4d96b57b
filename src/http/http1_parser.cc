// The llhttp adapter: llhttp frames and de-chunks request bodies after the
// head was checked (it is given a canonical head, see docs/design/http.md).
#include <cstdio>
#include <cstring>

#include "http/connection.h"

namespace lunet::http {

namespace {

// ---- llhttp callbacks --------------------------------------------------------
//
// llhttp sees a canonical head (see startRequest) and then the body bytes:
// only body framing and the end of the message come back from it.

Connection* connOf(llhttp_t* p) { return static_cast<Connection*>(p->data); }

int onBody(llhttp_t* p, const char* at, size_t len);
// A chunk bigger than client_max_body_size allows is refused on its size
// line, before its data arrives, as nginx does.
int onChunkHeader(llhttp_t* p) {
  Connection* c = connOf(p);
  Request* r = c->req;
  if (r == nullptr || r->discardBody || r->locConf == nullptr) return 0;
  int64_t max = r->clcf()->clientMaxBodySize;
  int64_t received = r->body != nullptr ? r->body->received : 0;
  auto size = static_cast<int64_t>(p->content_length);
  if (max > 0 && (size > max || received + size > max)) {
    LUNET_LOG(r->log, core::Level::kError, 0,
              "client intended to send too large chunked body: %lld+%lld bytes",
              static_cast<long long>(received), static_cast<long long>(size));
    c->parseError = 413;
    return -1;
  }
  return 0;
}
int onMessageComplete(llhttp_t* p) {
  Connection* c = connOf(p);
  c->messageDone = true;
  if (c->req && c->req->body) c->req->body->done = true;
  return HPE_PAUSED;
}

llhttp_settings_t makeSettings() {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_body = onBody;
  s.on_chunk_header = onChunkHeader;
  s.on_message_complete = onMessageComplete;
  return s;
}

}  // namespace

const llhttp_settings_t gSettings = makeSettings();

void initParser(Connection* c) {
  llhttp_init(c->parser, HTTP_REQUEST, &gSettings);
  c->parser->data = c;
}

namespace {

int onBody(llhttp_t* p, const char* at, size_t len) {
  Connection* c = connOf(p);
  Request* r = c->req;
  if (r == nullptr || r->discardBody) return 0;
  if (r->body == nullptr) r->body = r->arena.make<RequestBody>();
  RequestBody* b = r->body;
  b->received += static_cast<int64_t>(len);
  if (r->locConf != nullptr) {
    int64_t max = r->clcf()->clientMaxBodySize;
    if (max > 0 && b->received > max) {
      c->parseError = 413;
      return -1;
    }
  }
  Buf* buf = newBuf(*r, {at, len});
  *b->tail = buf;
  b->tail = &buf->next;
  return 0;
}

}  // namespace

// Feeds [data, data+len) to llhttp. Returns the llhttp error code.
llhttp_errno_t feed(Connection* c, const char* data, size_t len) {
  if (llhttp_get_errno(c->parser) == HPE_PAUSED) llhttp_resume(c->parser);
  llhttp_errno_t e = llhttp_execute(c->parser, data, len);
  if (e == HPE_PAUSED) {
    const char* pos = llhttp_get_error_pos(c->parser);
    c->rest = pos;
    c->restLen = static_cast<size_t>(data + len - pos);
  } else if (e == HPE_OK) {
    c->rest = nullptr;
    c->restLen = 0;
  }
  return e;
}

// The head of the request being read is gone: the next one starts afresh.

size_t canonicalHead(const Request& r, char* out) {
  static constexpr std::string_view kLine = "GET / HTTP/1.1\r\n";
  static constexpr std::string_view kChunked = "Transfer-Encoding: chunked\r\n";
  static constexpr std::string_view kLength = "Content-Length: ";
  size_t n = kLine.size();
  std::memcpy(out, kLine.data(), n);
  if (r.headersIn.chunked) {
    std::memcpy(out + n, kChunked.data(), kChunked.size());
    n += kChunked.size();
  } else if (r.headersIn.contentLengthN > 0) {
    std::memcpy(out + n, kLength.data(), kLength.size());
    n += kLength.size();
    char digits[24];
    size_t d = 0;
    for (uint64_t v = static_cast<uint64_t>(r.headersIn.contentLengthN); v != 0; v /= 10) {
      digits[d++] = static_cast<char>('0' + v % 10);
    }
    while (d > 0) out[n++] = digits[--d];
    out[n++] = '\r';
    out[n++] = '\n';
  }
  out[n++] = '\r';
  out[n++] = '\n';
  return n;
}

// The head is complete (its empty line ends at bodyStart), or ended by an
// invalid header line (c->badAt): build and check the Request, then let
// llhttp frame the body. Returns 0 or an HTTP status to answer with.

}  // namespace lunet::http

// ---- Responses (http1_parser.h) ---------------------------------------------

#include "http/http1_parser.h"

namespace lunet::http {

namespace {

llhttp_settings_t makeResponseSettings() {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  return s;
}

}  // namespace

int ResponseBody::onBody(llhttp_t* p, const char* at, size_t len) {
  auto* self = static_cast<ResponseBody*>(p->data);
  self->sink_(self->data_, at, len);
  return 0;
}

int ResponseBody::onComplete(llhttp_t* p) {
  static_cast<ResponseBody*>(p->data)->done_ = true;
  return HPE_PAUSED;
}

void ResponseBody::init(Framing f, int64_t length, Sink sink, void* data) noexcept {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s = makeResponseSettings();
    s.on_body = onBody;
    s.on_message_complete = onComplete;
    return s;
  }();
  framing_ = f;
  sink_ = sink;
  data_ = data;
  done_ = f == Framing::kNone || (f == Framing::kLength && length == 0);
  if (done_) return;
  llhttp_init(&parser_, HTTP_RESPONSE, &settings);
  parser_.data = this;
  char head[96];
  static constexpr char kLine[] = "HTTP/1.1 200 OK\r\n";
  size_t n = sizeof kLine - 1;
  std::memcpy(head, kLine, n);
  if (f == Framing::kChunked) {
    static constexpr char kTe[] = "Transfer-Encoding: chunked\r\n";
    std::memcpy(head + n, kTe, sizeof kTe - 1);
    n += sizeof kTe - 1;
  } else if (f == Framing::kLength) {
    n += static_cast<size_t>(std::snprintf(head + n, sizeof head - n, "Content-Length: %lld\r\n",
                                           static_cast<long long>(length)));
  }
  head[n++] = '\r';
  head[n++] = '\n';
  llhttp_execute(&parser_, head, n);
}

long ResponseBody::feed(const char* at, size_t len) noexcept {
  if (done_) return 0;
  llhttp_errno_t e = llhttp_execute(&parser_, at, len);
  if (e == HPE_OK) return static_cast<long>(len);
  if (e == HPE_PAUSED) return static_cast<long>(llhttp_get_error_pos(&parser_) - at);
  return -1;
}

bool ResponseBody::finish() noexcept {
  if (done_) return true;
  if (framing_ != Framing::kClose) return false;
  done_ = llhttp_finish(&parser_) == HPE_OK || done_;
  return true;
}

}  // namespace lunet::http
