#include "net/connect.h"

#include <cctype>
#include <cstring>

#include "event/loop.h"

namespace lunet::net {

std::string errorText(int uvErr) {
  if (uvErr == UV_EOF) return "closed";
  if (uvErr == UV_ETIMEDOUT) return "timeout";
  std::string s = uvErr < 0 ? strerror(-uvErr) : "unknown error";
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void ClientConnection::close() noexcept {
  if (closed_) return;
  closed_ = true;
  user_ = nullptr;
  if (!opened_) {  // libuv has no handle to close
    delete this;
    return;
  }
  stream_.close();
}

int ClientConnection::initTcp() noexcept {
  int rc = stream_.initTcp(event::loop());
  opened_ = rc == 0;
  return rc;
}

int ClientConnection::initPipe() noexcept {
  int rc = stream_.initPipe(event::loop());
  opened_ = rc == 0;
  return rc;
}

uv_buf_t ClientConnection::readBuffer(Stream&) noexcept {
  if (user_ == nullptr) return uv_buf_init(nullptr, 0);
  return user_->readBuffer();
}

void ClientConnection::onRead(Stream&, ssize_t nread) noexcept {
  if (user_ != nullptr) {
    user_->onRead(nread);
  } else if (nread != 0) {
    stream_.readStop();
  }
}

void ClientConnection::onClosed(Stream&) noexcept { delete this; }

Connect* Connect::start(const Target& t, Done done, void* data, std::string* err,
                        int* sysErr) noexcept {
  auto* c = new Connect;
  c->target_ = t;
  c->done_ = done;
  c->data_ = data;
  if (t.isUnix()) {
    c->conn_ = new ClientConnection;
    c->conn_->peerText = "unix:" + t.path;
    int rc = c->conn_->initPipe();
    if (rc == 0) rc = c->conn_->stream().connectPipe(c->target_.path.c_str(), onConnected, c);
    if (rc != 0) {
      *err = errorText(rc);
      *sysErr = rc;
      c->conn_->close();
      delete c;
      return nullptr;
    }
    return c;
  }
  SockAddr a;
  if (parseNumeric(t.host, t.port, &a) || Resolver::get().cached(t.host, t.port, &a)) {
    int rc = c->connectTo(a);
    if (rc != 0) {
      *sysErr = rc;
      *err = errorText(rc);
      delete c;
      return nullptr;
    }
    return c;
  }
  c->lookup_ = Resolver::get().resolve(t.host, t.port, onResolved, c);
  return c;
}

int Connect::connectTo(const SockAddr& a) noexcept {
  conn_ = new ClientConnection;
  conn_->peerText = a.text();
  int rc = conn_->initTcp();
  if (rc == 0) rc = conn_->stream().connect(a.get(), onConnected, this);
  if (rc != 0) {
    conn_->close();
    conn_ = nullptr;
  }
  return rc;
}

void Connect::onResolved(void* data, int code, const SockAddr* addr) noexcept {
  auto* c = static_cast<Connect*>(data);
  c->lookup_ = nullptr;
  if (code != kResolveOk) {
    c->fail(c->target_.host + " could not be resolved (" + std::to_string(code) + ": " +
            resolveErrorText(code) + ")");
    return;
  }
  int rc = c->connectTo(*addr);
  if (rc != 0) {
    c->sysErrno_ = rc;
    c->fail(errorText(rc));
  }
}

void Connect::onConnected(void* data, int status) {
  auto* c = static_cast<Connect*>(data);
  ClientConnection* conn = c->conn_;
  c->conn_ = nullptr;
  if (c->done_ == nullptr) {  // cancelled: conn was closed by cancel()
    delete c;
    return;
  }
  if (status != 0) {
    c->sysErrno_ = status;
    conn->close();
    c->fail(errorText(status));
    return;
  }
  Done done = c->done_;
  void* d = c->data_;
  delete c;
  done(d, conn, std::string(), 0);
}

void Connect::fail(const std::string& err) noexcept {
  Done done = done_;
  void* d = data_;
  int sys = sysErrno_;
  delete this;
  done(d, nullptr, err, sys);
}

void Connect::cancel() noexcept {
  done_ = nullptr;
  if (lookup_ != nullptr) {
    Resolver::cancel(lookup_);
    delete this;
    return;
  }
  if (conn_ != nullptr) {
    conn_->close();  // the connect callback follows with UV_ECANCELED
    return;
  }
  delete this;
}

}  // namespace lunet::net
