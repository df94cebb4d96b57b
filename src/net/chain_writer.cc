#include "net/chain_writer.h"

#include <sys/sendfile.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "core/arena.h"

namespace lunet::net {

// What a queued write needs back in its callback: the writer and the file
// bytes read for it (malloc'd, freed when the write is done).
struct ChainWriter::WriteCtx {
  ChainWriter* writer;
  char* heap;
};

namespace {

core::FreeList& ctxPool() noexcept {
  static thread_local core::FreeList pool(sizeof(ChainWriter::WriteCtx), 256);
  return pool;
}

constexpr unsigned kMaxBufs = 64;
constexpr size_t kPreadChunk = 65536;

}  // namespace

ChainWriter::~ChainWriter() {
  if (!closed_) close();
}

void ChainWriter::close() noexcept {
  closed_ = true;
  if (watch_ != nullptr) {
    watch_->close();
    watch_ = nullptr;
  }
  if (sendfileWait_) {
    sendfileWait_ = false;
    pending_--;
  }
  if (posted_.queued()) {
    event::cancel(&posted_);
    pending_--;
  }
}

// No write is in flight in the stream or waiting for writability: bytes
// written now keep their order (a posted completion's bytes are in the
// kernel already).
bool ChainWriter::nothingInFlight() const noexcept {
  return pending_ == (posted_.queued() ? 1 : 0);
}

// A write that went out synchronously still reports from the loop: the
// caller up the stack (a filter, a handler running subrequests nested in
// its parent's) must not see its output drain — and its request end —
// under it. Unlike a queued uv_write this costs no epoll_ctl.
void ChainWriter::postDone() noexcept {
  if (posted_.queued()) return;
  pending_++;
  posted_.fn = onPosted;
  posted_.data = this;
  event::post(&posted_);
}

void ChainWriter::onPosted(void* data) {
  auto* w = static_cast<ChainWriter*>(data);
  w->pending_--;
  if (w->closed_) return;
  w->user_->onWriterProgress();
}

void ChainWriter::onWrite(void* data, int status) {
  auto* ctx = static_cast<WriteCtx*>(data);
  ChainWriter* w = ctx->writer;
  std::free(ctx->heap);
  ctxPool().put(ctx);
  w->pending_--;
  if (status != 0) {
    if (status != UV_ECANCELED && !w->failed_) {
      w->failed_ = true;
      LUNET_LOG(w->user_->writerLog(), core::Level::kInfo, -status, "writev() failed");
      w->user_->onWriterError(false);
    }
    if (!w->closed_ && w->pending_ == 0) w->user_->onWriterError(true);
    return;
  }
  if (w->closed_) return;
  w->user_->onWriterProgress();
}

bool ChainWriter::armWritable() noexcept {
  if (watch_ == nullptr) {
    watch_ = ReadinessWatch::create(stream_->loop(), stream_->fd());
    if (watch_ == nullptr) return false;
  }
  if (watch_->start(UV_WRITABLE, onWritable, this) != 0) return false;
  if (!sendfileWait_) {
    sendfileWait_ = true;
    pending_++;
  }
  return true;
}

void ChainWriter::onWritable(void* data, int status, int) {
  auto* w = static_cast<ChainWriter*>(data);
  w->watch_->stop();
  if (w->sendfileWait_) {
    w->sendfileWait_ = false;
    w->pending_--;
  }
  if (w->closed_) return;
  if (status < 0 || w->failed_) {
    if (!w->failed_) {
      LUNET_LOG(w->user_->writerLog(), core::Level::kInfo, -status, "sendfile() failed");
    }
    w->failed_ = true;
    w->user_->onWriterError(true);
    return;
  }
  w->user_->onWriterProgress();
}

// Sends from the file buf b. Returns 1 when b is done, 0 to wait for
// writability, -1 on error (the writable callback closes).
int ChainWriter::sendfileStep(core::Buf* b, int64_t* sent) noexcept {
  int sock = stream_->fd();
  if (sock < 0) return -1;
  int64_t budget = kSendfileMaxChunk;
  while (b->fileLen > 0 && budget > 0) {
    int64_t want = b->fileLen < budget ? b->fileLen : budget;
    off_t off = static_cast<off_t>(b->fileOffset);
    ssize_t n = ::sendfile(sock, b->file->fd, &off, static_cast<size_t>(want));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0;
    if (n <= 0) {
      if (n < 0) {
        LUNET_LOG(user_->writerLog(), core::Level::kInfo, errno, "sendfile() failed");
      } else {
        LUNET_LOG(user_->writerLog(), core::Level::kAlert, 0,
                  "sendfile() reported that the file was truncated");
      }
      failed_ = true;
      user_->onWriterError(false);
      return -1;
    }
    b->fileOffset += n;
    b->fileLen -= n;
    budget -= n;
    *sent += n;
  }
  return b->fileLen == 0 ? 1 : 0;
}

ChainWriter::Result ChainWriter::write(const Chain& chain, bool sendfile) noexcept {
  core::Buf*& out = *chain.head;
  auto advance = [&](core::Buf* next) {
    out = next;
    if (out == nullptr) *chain.tail = &out;
  };
  const bool sf = sendfile && stream_->fd() >= 0;
  bool stepped = false;  // a sendfile step ran: report the drain from the loop
  while (out != nullptr) {
    core::Buf* head = out;
    if (sf && head->file != nullptr && head->fileLen > 0) {
      // After every byte queued before it (the stream's callbacks come back).
      if (!nothingInFlight()) return Result::kWaiting;
      int rc = sendfileStep(head, chain.sent);
      stepped = true;
      if (rc != 1) {
        if (!armWritable()) {
          failed_ = true;
          user_->onWriterError(true);
          return Result::kFailed;
        }
        user_->onWriterWaiting();
        return Result::kWaiting;
      }
      advance(head->next);
      continue;
    }
    uv_buf_t bufs[kMaxBufs];
    unsigned n = 0;
    char* heap = nullptr;
    size_t bytes = 0;
    while (out != nullptr && n < kMaxBufs) {
      core::Buf* b = out;
      if (b->file != nullptr && b->fileLen > 0) {
        if (sf) break;  // write what precedes it first (the head is never a file here)
        if (heap != nullptr) break;
        size_t chunk = b->fileLen > static_cast<int64_t>(kPreadChunk)
                           ? kPreadChunk
                           : static_cast<size_t>(b->fileLen);
        heap = static_cast<char*>(std::malloc(chunk));
        if (heap == nullptr) std::abort();
        ssize_t got = ::pread(b->file->fd, heap, chunk, b->fileOffset);
        if (got <= 0) {
          LUNET_LOG(user_->writerLog(), core::Level::kCrit, got < 0 ? errno : 0, "pread() failed");
          std::free(heap);
          failed_ = true;
          user_->onWriterError(true);
          return Result::kFailed;
        }
        bufs[n++] = uv_buf_init(heap, static_cast<unsigned>(got));
        bytes += static_cast<size_t>(got);
        b->fileOffset += got;
        b->fileLen -= got;
        if (b->fileLen > 0) break;  // more of this file after this write
      } else if (!b->data.empty()) {
        bufs[n++] =
            uv_buf_init(const_cast<char*>(b->data.data()), static_cast<unsigned>(b->data.size()));
        bytes += b->data.size();
      }
      advance(b->next);
    }
    if (n == 0) continue;
    uv_buf_t* wbufs = bufs;
    if (nothingInFlight()) {
      // Usually the socket takes it all: nothing queued, no epoll_ctl.
      int w = stream_->tryWrite(bufs, n);
      if (w > 0 && static_cast<size_t>(w) == bytes) {
        std::free(heap);
        *chain.sent += static_cast<int64_t>(bytes);
        postDone();
        if (heap != nullptr) break;  // the posted completion reads more file
        continue;
      }
      if (w > 0) {  // the rest is queued
        size_t done = static_cast<size_t>(w);
        while (done >= wbufs->len) {
          done -= wbufs->len;
          wbufs++;
          n--;
        }
        wbufs->base += done;
        wbufs->len -= done;
      }
      // An error (EPIPE...) is reported by the queued write's callback.
    }
    auto* ctx = static_cast<WriteCtx*>(ctxPool().get());
    ctx->writer = this;
    ctx->heap = heap;
    if (stream_->write(wbufs, n, onWrite, ctx) != 0) {
      std::free(heap);
      ctxPool().put(ctx);
      failed_ = true;
      user_->onWriterError(true);
      return Result::kFailed;
    }
    pending_++;
    *chain.sent += static_cast<int64_t>(bytes);
    user_->onWriterWaiting();
    if (heap != nullptr) break;  // wait for this chunk before reading more file
  }
  // Everything went out synchronously through sendfile: the drain is still
  // reported from the loop, never from inside this call.
  if (stepped && out == nullptr && pending_ == 0) postDone();
  return Result::kWritten;
}

}  // namespace lunet::net
