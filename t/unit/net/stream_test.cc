// The stream layer without HTTP: a SocketStream and a ChainWriter over one
// end of a socketpair, the test reading (or not reading) the other end.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/buf.h"
#include "core/log.h"
#include "event/loop.h"
#include "event/posted.h"
#include "net/chain_writer.h"
#include "net/socket_stream.h"

namespace lunet::net {
namespace {

// A stream that hides its fd, as a TLS stream will: the writer must read
// file regions with pread instead of sendfile.
class NoFdStream final : public Stream {
 public:
  explicit NoFdStream(Stream& inner) : inner_(inner) {}
  int readStart() noexcept override { return inner_.readStart(); }
  void readStop() noexcept override { inner_.readStop(); }
  int tryWrite(const uv_buf_t* b, unsigned n) noexcept override { return inner_.tryWrite(b, n); }
  int write(const uv_buf_t* b, unsigned n, StreamDone d, void* data) noexcept override {
    return inner_.write(b, n, d, data);
  }
  size_t queuedWrites() const noexcept override { return inner_.queuedWrites(); }
  int shutdown(StreamDone d, void* data) noexcept override { return inner_.shutdown(d, data); }
  void close() noexcept override { inner_.close(); }
  bool closing() const noexcept override { return inner_.closing(); }
  int fd() const noexcept override { return -1; }
  uv_loop_t* loop() const noexcept override { return inner_.loop(); }

 private:
  Stream& inner_;
};

class StreamTest : public ::testing::Test, public StreamUser, public WriterUser {
 protected:
  void SetUp() override {
    if (event::loop() == nullptr) event::createLoop();
    loop_ = event::loop();
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    peer_ = sv[1];
    ::fcntl(peer_, F_SETFL, ::fcntl(peer_, F_GETFL) | O_NONBLOCK);
    // A small send buffer: writes go partial and meet EAGAIN soon.
    int small = 4096;
    ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    ::setsockopt(peer_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    ASSERT_EQ(stream_.initPipe(loop_), 0);
    ASSERT_EQ(stream_.open(sv[0]), 0);
    stream_.setUser(this);
    writer_.init(&stream_, this);
  }

  void TearDown() override {
    if (!closed_) {
      writer_.close();
      stream_.close();
      while (!closed_) uv_run(loop_, UV_RUN_ONCE);
    }
    uv_run(loop_, UV_RUN_NOWAIT);
    if (peer_ >= 0) ::close(peer_);
    for (const std::string& p : files_) ::unlink(p.c_str());
    for (core::Buf* b : bufs_) delete b;
    for (core::FileRef* f : refs_) {
      ::close(f->fd);
      delete f;
    }
  }

  // StreamUser
  uv_buf_t readBuffer(Stream&) noexcept override { return uv_buf_init(rbuf_, sizeof(rbuf_)); }
  void onRead(Stream&, ssize_t n) noexcept override {
    if (n > 0) read_.append(rbuf_, static_cast<size_t>(n));
    if (n < 0) readErr_ = static_cast<int>(n);
  }
  void onClosed(Stream&) noexcept override { closed_ = true; }

  // WriterUser: continue the chain as the HTTP connection does.
  void onWriterProgress() noexcept override {
    progress_++;
    if (out_ != nullptr) writer_.write(chain(), sendfile_);
  }
  void onWriterWaiting() noexcept override { waiting_++; }
  void onWriterError(bool closeNow) noexcept override {
    errors_++;
    if (closeNow) {
      writer_.close();
      stream_.close();
    }
  }
  core::Log& writerLog() noexcept override { return log_; }

  ChainWriter::Chain chain() { return {&out_, &tail_, &sent_}; }

  void append(core::Buf* b) {
    bufs_.push_back(b);
    *tail_ = b;
    tail_ = &b->next;
  }
  void appendMem(const std::string& s) {
    strings_.push_back(std::make_unique<std::string>(s));
    auto* b = new core::Buf;
    b->data = *strings_.back();
    append(b);
  }
  // A file of `size` bytes of a known pattern, appended as one file buf.
  std::string appendFile(size_t size) {
    std::string path = ::testing::TempDir() + "lunet_stream_test_XXXXXX";
    std::vector<char> tmpl(path.begin(), path.end());
    tmpl.push_back('\0');
    int fd = ::mkstemp(tmpl.data());
    EXPECT_GE(fd, 0);
    files_.push_back(tmpl.data());
    std::string content(size, '\0');
    for (size_t i = 0; i < size; i++) content[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    EXPECT_EQ(::write(fd, content.data(), size), static_cast<ssize_t>(size));
    auto* ref = new core::FileRef{fd, static_cast<int64_t>(size)};
    refs_.push_back(ref);
    auto* b = new core::Buf;
    b->file = ref;
    b->fileOffset = 0;
    b->fileLen = static_cast<int64_t>(size);
    append(b);
    return content;
  }

  // Reads what the peer end has now.
  void drainPeer() {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(peer_, buf, sizeof(buf));
      if (n <= 0) return;
      got_.append(buf, static_cast<size_t>(n));
    }
  }
  // Runs the loop, reading the peer end, until the writer has nothing left.
  void pumpUntilDrained(size_t expectBytes) {
    for (int i = 0;
         i < 100000 && (out_ != nullptr || writer_.pending() > 0 || got_.size() < expectBytes);
         i++) {
      drainPeer();
      uv_run(loop_, UV_RUN_NOWAIT);
    }
    drainPeer();
  }

  uv_loop_t* loop_ = nullptr;
  SocketStream stream_;
  ChainWriter writer_;
  int peer_ = -1;
  core::Buf* out_ = nullptr;
  core::Buf** tail_ = &out_;
  int64_t sent_ = 0;
  bool sendfile_ = false;
  int progress_ = 0, waiting_ = 0, errors_ = 0, readErr_ = 0;
  bool closed_ = false;
  char rbuf_[4096];
  std::string read_, got_;
  core::Log log_;
  std::vector<std::unique_ptr<std::string>> strings_;
  std::vector<core::Buf*> bufs_;
  std::vector<core::FileRef*> refs_;
  std::vector<std::string> files_;
};

TEST_F(StreamTest, ReadsIntoTheUsersBuffer) {
  ASSERT_EQ(stream_.readStart(), 0);
  ASSERT_EQ(::write(peer_, "hello", 5), 5);
  for (int i = 0; i < 1000 && read_.size() < 5; i++) uv_run(loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(read_, "hello");
  ::shutdown(peer_, SHUT_WR);
  for (int i = 0; i < 1000 && readErr_ == 0; i++) uv_run(loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(readErr_, UV_EOF);
}

TEST_F(StreamTest, SynchronousWriteReportsFromTheLoop) {
  appendMem("HTTP/1.1 200 OK\r\n\r\n");
  appendMem("hello");
  EXPECT_EQ(writer_.write(chain(), false), ChainWriter::Result::kWritten);
  EXPECT_EQ(out_, nullptr);
  EXPECT_EQ(tail_, &out_);
  EXPECT_EQ(sent_, 24);
  // Completion is posted, not reported inside write().
  EXPECT_EQ(progress_, 0);
  EXPECT_EQ(writer_.pending(), 1);
  uv_run(loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(progress_, 1);
  EXPECT_EQ(writer_.pending(), 0);
  drainPeer();
  EXPECT_EQ(got_, "HTTP/1.1 200 OK\r\n\r\nhello");
}

TEST_F(StreamTest, PartialWritesAndEagainKeepOrder) {
  std::string expect;
  for (int i = 0; i < 200; i++) {
    std::string piece(1000 + i, static_cast<char>('A' + i % 26));
    appendMem(piece);
    expect += piece;
  }
  // The peer reads nothing yet: the try-write is partial, the rest queued.
  EXPECT_EQ(writer_.write(chain(), false), ChainWriter::Result::kWritten);
  EXPECT_GT(writer_.pending(), 0);
  EXPECT_GT(stream_.queuedWrites(), 0u);
  EXPECT_GE(waiting_, 1);
  // The socket is full: a try-write now meets EAGAIN.
  uv_buf_t one = uv_buf_init(const_cast<char*>("x"), 1);
  EXPECT_EQ(stream_.tryWrite(&one, 1), UV_EAGAIN);
  pumpUntilDrained(expect.size());
  EXPECT_EQ(got_, expect);
  EXPECT_EQ(sent_, static_cast<int64_t>(expect.size()));
  EXPECT_EQ(writer_.pending(), 0);
  EXPECT_EQ(errors_, 0);
}

TEST_F(StreamTest, SendfileWaitsForWritability) {
  sendfile_ = true;
  appendMem("head;");
  std::string file = appendFile(3 * 1024 * 1024 + 17);  // more than one sendfile step
  appendMem(";tail");
  EXPECT_EQ(writer_.write(chain(), true), ChainWriter::Result::kWaiting);
  // Waiting: for the header's completion or for writability (EAGAIN).
  EXPECT_GT(writer_.pending(), 0);
  pumpUntilDrained(file.size() + 10);
  EXPECT_EQ(got_, "head;" + file + ";tail");
  EXPECT_EQ(sent_, static_cast<int64_t>(file.size() + 10));
  EXPECT_EQ(errors_, 0);
  EXPECT_GE(waiting_, 1);  // at least one EAGAIN armed the readiness watch
}

TEST_F(StreamTest, PreadFallbackWithoutFd) {
  NoFdStream nofd(stream_);
  writer_.init(&nofd, this);
  sendfile_ = true;  // asked for, but the stream offers no fd
  appendMem("<");
  std::string file = appendFile(200 * 1024 + 5);  // several 64 KiB pread steps
  appendMem(">");
  writer_.write(chain(), true);
  pumpUntilDrained(file.size() + 2);
  EXPECT_EQ(got_, "<" + file + ">");
  EXPECT_EQ(sent_, static_cast<int64_t>(file.size() + 2));
  EXPECT_EQ(errors_, 0);
}

TEST_F(StreamTest, PreadWhenSendfileIsOff) {
  std::string file = appendFile(100 * 1024);
  writer_.write(chain(), false);
  pumpUntilDrained(file.size());
  EXPECT_EQ(got_, file);
}

TEST_F(StreamTest, CloseDuringAWriteReportsNothingMore) {
  std::string big(512 * 1024, 'z');
  appendMem(big);
  writer_.write(chain(), false);
  ASSERT_GT(stream_.queuedWrites(), 0u);  // the peer reads nothing: stuck
  int progress = progress_;
  writer_.close();
  stream_.close();
  while (!closed_) uv_run(loop_, UV_RUN_ONCE);
  // The queued write was cancelled; the writer reported neither progress
  // nor an error for it.
  EXPECT_EQ(stream_.queuedWrites(), 0u);
  EXPECT_EQ(progress_, progress);
  EXPECT_EQ(errors_, 0);
  EXPECT_EQ(writer_.pending(), 0);
}

TEST_F(StreamTest, CloseWhileSendfileWaits) {
  sendfile_ = true;
  appendFile(4 * 1024 * 1024);
  EXPECT_EQ(writer_.write(chain(), true), ChainWriter::Result::kWaiting);
  ASSERT_EQ(writer_.pending(), 1);  // the readiness watch
  writer_.close();
  EXPECT_EQ(writer_.pending(), 0);
  stream_.close();
  drainPeer();  // writable now, but the watch is gone
  while (!closed_) uv_run(loop_, UV_RUN_ONCE);
  uv_run(loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(progress_, 0);
  EXPECT_EQ(errors_, 0);
}

TEST_F(StreamTest, CloseCancelsAPostedCompletion) {
  appendMem("small");
  writer_.write(chain(), false);
  ASSERT_EQ(writer_.pending(), 1);  // the posted completion
  writer_.close();
  EXPECT_EQ(writer_.pending(), 0);
  uv_run(loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(progress_, 0);
}

TEST_F(StreamTest, WriteErrorIsReportedOnce) {
  ::signal(SIGPIPE, SIG_IGN);  // as the server processes run
  ::close(peer_);
  peer_ = -1;
  std::string big(256 * 1024, 'e');
  appendMem(big);
  writer_.write(chain(), false);
  for (int i = 0; i < 1000 && !closed_; i++) uv_run(loop_, UV_RUN_NOWAIT);
  // EPIPE: the failure (logged once), then the close once nothing is pending.
  EXPECT_EQ(errors_, 2);
  EXPECT_TRUE(closed_);
}

TEST(PostedTest, RunsInOrderAndCancels) {
  if (event::loop() == nullptr) event::createLoop();
  std::vector<int> order;
  struct Item {
    event::Posted p;
    std::vector<int>* order;
    int id;
  };
  Item items[3];
  for (int i = 0; i < 3; i++) {
    items[i].order = &order;
    items[i].id = i;
    items[i].p.fn = [](void* d) {
      auto* it = static_cast<Item*>(d);
      it->order->push_back(it->id);
    };
    items[i].p.data = &items[i];
    event::post(&items[i].p);
  }
  event::post(&items[0].p);  // already queued: once
  event::cancel(&items[1].p);
  EXPECT_FALSE(items[1].p.queued());
  uv_run(event::loop(), UV_RUN_NOWAIT);
  EXPECT_EQ(order, (std::vector<int>{0, 2}));
}

}  // namespace
}  // namespace lunet::net
