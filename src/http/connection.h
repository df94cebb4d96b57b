// One client connection (internal to src/http): socket, read buffer,
// llhttp parser, timers and the write queue. Requests on a connection are
// processed strictly one at a time (pipelined ones wait in the buffer).
#pragma once

#include <llhttp.h>
#include <netinet/in.h>
#include <uv.h>

#include <cstdint>
#include <vector>

#include "event/timeouts.h"
#include "http/core_module.h"
#include "http/filter.h"
#include "http/request.h"
#include "net/chain_writer.h"
#include "net/socket_stream.h"

namespace lunet::http {

struct ListenAddr;

enum class ConnState : uint8_t { kIdle, kHeader, kRequest, kLinger, kClosing };

struct HdrOff {
  uint32_t nameOff, nameLen, valOff, valLen;
};

// Header-line offsets of the request being parsed. Storage is taken from a
// per-worker list of blocks when the first header line arrives and given
// back once the Request is built, so idle connections hold none and a
// warmed-up request makes no heap call (connection.cc).
class HdrVec {
 public:
  HdrVec() = default;
  HdrVec(const HdrVec&) = delete;
  HdrVec& operator=(const HdrVec&) = delete;
  ~HdrVec() { release(); }
  void push_back(const HdrOff& h) noexcept {
    if (size_ == cap_) grow();
    data_[size_++] = h;
  }
  HdrOff& back() { return data_[size_ - 1]; }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  void clear() { size_ = 0; }
  const HdrOff* begin() const { return data_; }
  const HdrOff* end() const { return data_ + size_; }
  void release() noexcept;  // frees the storage

 private:
  void grow() noexcept;
  HdrOff* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t cap_ = 0;
};

union SockAddr {
  sockaddr sa;
  sockaddr_in in4;
  sockaddr_in6 in6;
};

// The connection is its stream's and its writer's user (connection.cc):
// reads go into the header buffer or the request's body buffers, the
// writer sends the request's output chain.
struct Connection final : net::StreamUser, net::WriterUser {
  uv_buf_t readBuffer(net::Stream& s) noexcept override;
  void onRead(net::Stream& s, ssize_t nread) noexcept override;
  void onClosed(net::Stream& s) noexcept override;
  void onWriterProgress() noexcept override;
  void onWriterWaiting() noexcept override;
  void onWriterError(bool closeNow) noexcept override;
  core::Log& writerLog() noexcept override;

  uint64_t number = 0;
  net::SocketStream stream;  // closed with closeConnection()
  net::ChainWriter writer;
  ListenAddr* addr = nullptr;
  HttpCoreSrv* defaultSrv = nullptr;
  core::Log log;
  SockAddr peer{};
  uint16_t peerPort = 0;
  uint16_t localPort = 0;
  char peerText[48] = {0};     // INET6_ADDRSTRLEN
  const char* localText = "";  // shared per local address (connection.cc)

  llhttp_t* parser = nullptr;  // with hbuf (connection.cc's list); idle: none

  // Header buffer (connection.cc's buffer list): request header bytes, then
  // preread body and pipelined requests.
  char* hbuf = nullptr;
  size_t hcap = 0;
  size_t hlen = 0;     // bytes in hbuf
  size_t hparsed = 0;  // bytes fed to llhttp
  size_t reqStart = 0;
  // The head as parse.h tokenized it (offsets into hbuf, valid until the
  // Request is built): hparsed is the end of the last complete line.
  uint32_t urlOff = 0, urlLen = 0;
  uint32_t methodOff = 0, methodLen = 0;
  uint32_t lineEnd = 0;                     // end of the request line's text
  uint32_t hostOff = 0, hostLen = 0;        // an absolute URI's host[:port]
  uint32_t prereadOff = 0, prereadLen = 0;  // body bytes in hbuf not parsed yet
  bool absUri = false;
  uint32_t curLineStart = 0;  // start of the header line being parsed
  uint32_t badLine = 0;       // an invalid header line: its start ...
  uint32_t badAt = 0;         // ... and its offending byte (badAt > 0)
  uint16_t version = 0;       // major * 1000 + minor
  bool inRequestLine = true;
  HdrVec hdrs;
  bool headersDone = false;
  bool messageDone = false;
  int parseError = 0;  // HTTP status to answer a body parse error with

  // Where the parser stopped (pause at message complete): unparsed bytes.
  const char* rest = nullptr;
  size_t restLen = 0;
  // Body read buffer currently handed to libuv (request arena).
  char* bbuf = nullptr;
  size_t bcap = 0;

  Request* req = nullptr;  // the request being processed
  uint32_t requests = 0;
  // While startWriting runs: the send timeout and log of the request whose
  // output goes (the writer's callbacks from the loop use c->req's).
  int64_t sendTimeout = 0;
  core::Log* writingLog = nullptr;
  ConnState state = ConnState::kIdle;
  bool reading = false;
  bool eof = false;
  bool error = false;  // write/read error: close after the request
  bool closeAfter = false;
  bool shuttingDown = false;
  bool linger = false;
  bool nodelay = false;    // TCP_NODELAY set (first keep-alive, as nginx)
  event::Timeout timeout;  // the one armed timeout (armTimer)
  // Lingering close: each read re-arms lingerTimeout (lingering_timeout),
  // never past lingerDeadline (start + lingering_time), as nginx.
  uint64_t lingerDeadline = 0;
  int64_t lingerTimeout = 0;
  Connection* prev = nullptr;  // all-connections list
  Connection* next = nullptr;
};

// Accept path (core_module.cc listeners → here).
void acceptConnection(uv_stream_t* server, ListenAddr* addr) noexcept;
// worker_connections for this worker: `listening` sockets it polls take a
// slot each, as in nginx; a client connection beyond the limit is closed
// after reusable (idle) ones were drained (connection.cc).
void setConnectionLimit(int64_t workerConnections, int64_t listening) noexcept;
// Graceful shutdown: close idle connections, mark the rest.
void shutdownConnections() noexcept;
void closeConnection(Connection* c) noexcept;

// Request internals shared by request.cc and connection.cc.
Request* createRequest(Connection* c) noexcept;
void freeRequest(Request* r) noexcept;
void requestDone(Connection* c) noexcept;  // the main request is over
void startWriting(Request& r) noexcept;
// Bottom of the body filter chain: queue for the socket.
int writeFilter(Request& r, Buf* in) noexcept;
// Start body reading on the connection (request.cc readBody).
void startBodyRead(Connection* c) noexcept;
// Parses the body bytes that came with the head. Returns 0 or an HTTP
// status (invalid chunked body, too large).
int processPreread(Connection* c) noexcept;
void armTimer(Connection* c, uint64_t ms, void (*cb)(void* conn)) noexcept;
void stopTimer(Connection* c) noexcept;
// Called by the write path when the queue drained.
void onWriteDrained(Connection* c) noexcept;

// ---- Shared by the connection's files ---------------------------------------
// connection.cc: buffers, state, reading, the connection's timeouts.
// How long an exiting worker keeps an idle keep-alive connection open for a
// request the client may already be sending (see shutdownConnections).
inline constexpr int64_t kExitIdleGraceMsec = 1000;
char* allocHbuf(size_t size) noexcept;
void freeHbuf(char* p, size_t size) noexcept;
void releaseHbuf(Connection* c) noexcept;  // the header buffer and the parser go
void ensureHbuf(Connection* c);
void setState(Connection* c, ConnState s);
void startReading(Connection* c);
void stopReading(Connection* c);
void onHeaderTimeout(void* conn);
void onLingerTimeout(void* conn);
void onKeepaliveTimeout(void* conn);
// http1_parser.cc: llhttp for the body.
void initParser(Connection* c);  // (re)initialises c->parser for a request
// Feeds [data, data+len) to llhttp. Returns the llhttp error code.
llhttp_errno_t feed(Connection* c, const char* data, size_t len);
size_t canonicalHead(const Request& r, char* out);
// request_head.cc: the head.
void resetHead(Connection* c);
void processHeader(Connection* c);
void sendErrorAndClose(Connection* c, int status);
// request_body.cc
void processBody(Connection* c, const char* data, size_t len);

// A snapshot of the shared counters (shm/counters.h) for stub_status.
struct Stats {
  uint64_t accepts = 0, handled = 0, requests = 0;
  int64_t active = 0, reading = 0, writing = 0, waiting = 0;
};
Stats stats();

}  // namespace lunet::http
