// The buffer-chain writer: sends a chain of core::Bufs (memory and file
// regions) on a Stream — writev of up to 64 bufs, a synchronous try first,
// the rest queued; file regions with sendfile(2) when asked and the stream
// has an fd, else read with pread in 64 KiB steps. A sendfile step that
// meets EAGAIN waits for writability (net/readiness.h). Completion is never
// reported from inside write(): through the stream's callback, the
// readiness watch, or a posted call (event/posted.h). See docs/design/net.md.
#pragma once

#include <cstdint>

#include "core/buf.h"
#include "core/log.h"
#include "event/posted.h"
#include "net/readiness.h"
#include "net/stream.h"

namespace lunet::net {

class WriterUser {
 public:
  // Output left (a write or sendfile step completed, or a synchronous
  // write's completion came round): write more, or see that all drained.
  virtual void onWriterProgress() noexcept = 0;
  // Output now waits in flight: (re)arm the send timeout.
  virtual void onWriterWaiting() noexcept = 0;
  // The writer failed (the cause is logged). closeNow: close the stream
  // now; otherwise a pending completion reports again with closeNow.
  virtual void onWriterError(bool closeNow) noexcept = 0;
  // Where the writer logs its failures (the current request's log).
  virtual core::Log& writerLog() noexcept = 0;

 protected:
  ~WriterUser() = default;
};

class ChainWriter {
 public:
  // sendfile(2) sends at most this much per step (nginx's
  // sendfile_max_chunk default), so one big file cannot starve the loop.
  static constexpr int64_t kSendfileMaxChunk = 2 * 1024 * 1024;

  ChainWriter() noexcept = default;
  ChainWriter(const ChainWriter&) = delete;
  ChainWriter& operator=(const ChainWriter&) = delete;
  ~ChainWriter();

  void init(Stream* stream, WriterUser* user) noexcept {
    stream_ = stream;
    user_ = user;
  }

  // The chain being sent: `head` advances as bufs leave (and `*tail` is
  // reset when it empties); the bytes handed to the kernel are added to
  // `*sent`.
  struct Chain {
    core::Buf** head;
    core::Buf*** tail;
    int64_t* sent;
  };
  enum class Result {
    kWritten,  // every buf was handed to the stream (or is being read)
    kWaiting,  // stopped: waits for earlier output or writability
    kFailed,   // onWriterError(true) ran
  };
  // Sends from the chain; sendfile: file regions go out with sendfile(2).
  Result write(const Chain& chain, bool sendfile) noexcept;

  // Writes, sendfile waits and posted completions not reported yet.
  int pending() const noexcept { return pending_; }
  // Stops for good (the stream closes): the readiness watch goes, a posted
  // completion is dropped, stream callbacks that still come do nothing.
  void close() noexcept;

  struct WriteCtx;  // one queued write (chain_writer.cc)

 private:
  static void onWrite(void* data, int status);
  static void onWritable(void* data, int status, int events);
  static void onPosted(void* data);
  bool nothingInFlight() const noexcept;
  void postDone() noexcept;
  bool armWritable() noexcept;
  int sendfileStep(core::Buf* b, int64_t* sent) noexcept;

  Stream* stream_ = nullptr;
  WriterUser* user_ = nullptr;
  ReadinessWatch* watch_ = nullptr;  // made on the first sendfile EAGAIN
  event::Posted posted_;
  int pending_ = 0;
  bool sendfileWait_ = false;  // a sendfile step waits: counts as pending
  bool failed_ = false;
  bool closed_ = false;
};

}  // namespace lunet::net
