// The keepalive pool and the resolver without Lua: connections are one end
// of a socketpair (the test holds the other end, playing the peer).
#include "net/pool.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "event/loop.h"
#include "net/connect.h"
#include "net/resolver.h"

namespace lunet::net {
namespace {

class PoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (event::loop() == nullptr) event::createLoop();
  }
  void TearDown() override {
    for (int fd : peers_) ::close(fd);
  }
  // A connected ClientConnection for `key`; the peer's end is kept.
  ClientConnection* make(const std::string& key, int* peer = nullptr) {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    auto* c = new ClientConnection;
    EXPECT_EQ(c->initPipe(), 0);
    EXPECT_EQ(c->stream().open(sv[0]), 0);
    c->poolKey = key;
    peers_.push_back(sv[1]);
    if (peer != nullptr) *peer = sv[1];
    return c;
  }
  static void spin(int turns = 5) {
    for (int i = 0; i < turns; i++) uv_run(event::loop(), UV_RUN_NOWAIT);
  }
  std::vector<int> peers_;
};

TEST_F(PoolTest, PutThenAdmitHandsTheSameConnectionBack) {
  KeepalivePool& p = KeepalivePool::get();
  ClientConnection* c = make("reuse");
  p.put(c, 4, 0);
  EXPECT_EQ(p.stats("reuse").idle, 1u);
  ClientConnection* got = nullptr;
  KeepalivePool::Waiter w;
  EXPECT_EQ(p.admit("reuse", 4, false, 0, &w, &got), KeepalivePool::Admit::kIdle);
  EXPECT_EQ(got, c);
  EXPECT_EQ(got->reusedTimes, 1u);
  EXPECT_EQ(p.stats("reuse").idle, 0u);
  EXPECT_EQ(p.stats("reuse").busy, 1u);
  p.closing(got);
  got->close();
  spin();
  EXPECT_EQ(p.stats("reuse").busy, 0u);
}

TEST_F(PoolTest, AnIdleConnectionThePeerClosesIsDropped) {
  KeepalivePool& p = KeepalivePool::get();
  int peer = -1;
  p.put(make("peer-closed", &peer), 4, 0);
  EXPECT_EQ(p.stats("peer-closed").idle, 1u);
  ::shutdown(peer, SHUT_WR);  // EOF on the pooled connection
  spin();
  EXPECT_EQ(p.stats("peer-closed").idle, 0u);
  ClientConnection* got = nullptr;
  KeepalivePool::Waiter w;
  EXPECT_EQ(p.admit("peer-closed", 4, false, 0, &w, &got), KeepalivePool::Admit::kGo);
  p.failed("peer-closed");
}

TEST_F(PoolTest, DataFromThePeerDropsAnIdleConnectionToo) {
  KeepalivePool& p = KeepalivePool::get();
  int peer = -1;
  p.put(make("peer-data", &peer), 4, 0);
  ASSERT_EQ(::write(peer, "x", 1), 1);
  spin();
  EXPECT_EQ(p.stats("peer-data").idle, 0u);
}

TEST_F(PoolTest, AFullPoolClosesItsLeastRecentlyUsed) {
  KeepalivePool& p = KeepalivePool::get();
  ClientConnection* a = make("lru");
  ClientConnection* b = make("lru");
  ClientConnection* c = make("lru");
  p.put(a, 2, 0);
  p.put(b, 2, 0);
  p.put(c, 2, 0);  // a goes
  EXPECT_EQ(p.stats("lru").idle, 2u);
  ClientConnection* got = nullptr;
  KeepalivePool::Waiter w;
  ASSERT_EQ(p.admit("lru", 2, false, 0, &w, &got), KeepalivePool::Admit::kIdle);
  EXPECT_EQ(got, c);  // most recent first
  ASSERT_EQ(p.admit("lru", 2, false, 0, &w, &got), KeepalivePool::Admit::kIdle);
  EXPECT_EQ(got, b);
  for (ClientConnection* x : {b, c}) {
    p.closing(x);
    x->close();
  }
  spin();
}

TEST_F(PoolTest, IdleTimeoutClosesTheConnection) {
  KeepalivePool& p = KeepalivePool::get();
  p.put(make("idle-timeout"), 2, 1);
  EXPECT_EQ(p.stats("idle-timeout").idle, 1u);
  for (int i = 0; i < 100 && p.stats("idle-timeout").idle > 0; i++) {
    uv_run(event::loop(), UV_RUN_ONCE);  // the 1 ms timer
  }
  EXPECT_EQ(p.stats("idle-timeout").idle, 0u);
}

struct Woken {
  int calls = 0;
  ClientConnection* conn = nullptr;
};

void onWake(KeepalivePool::Waiter* w, ClientConnection* c) noexcept {
  auto* r = static_cast<Woken*>(w->data);
  r->calls++;
  r->conn = c;
}

TEST_F(PoolTest, BacklogQueuesRefusesAndHandsOver) {
  KeepalivePool& p = KeepalivePool::get();
  ClientConnection* got = nullptr;
  KeepalivePool::Waiter w1, w2, w3;
  Woken r2, r3;
  w2.wake = w3.wake = onWake;
  w2.data = &r2;
  w3.data = &r3;
  ASSERT_EQ(p.admit("bl", 1, true, 1, &w1, &got), KeepalivePool::Admit::kGo);
  ClientConnection* c = make("bl");
  p.counted("bl", c);
  EXPECT_EQ(p.admit("bl", 1, true, 1, &w2, &got), KeepalivePool::Admit::kQueued);
  EXPECT_EQ(p.admit("bl", 1, true, 1, &w3, &got), KeepalivePool::Admit::kFull);
  EXPECT_EQ(p.stats("bl").waiting, 1u);
  p.put(c, 1, 0);  // goes to the waiter, from the loop
  EXPECT_EQ(r2.calls, 0);
  spin();
  EXPECT_EQ(r2.calls, 1);
  EXPECT_EQ(r2.conn, c);
  EXPECT_EQ(c->reusedTimes, 1u);
  EXPECT_EQ(p.stats("bl").idle, 0u);
  EXPECT_EQ(p.stats("bl").busy, 1u);
  // Its close frees the slot for the next waiter (a fresh connect).
  EXPECT_EQ(p.admit("bl", 1, true, 1, &w3, &got), KeepalivePool::Admit::kQueued);
  p.closing(c);
  c->close();
  spin();
  EXPECT_EQ(r3.calls, 1);
  EXPECT_EQ(r3.conn, nullptr);
  EXPECT_EQ(p.stats("bl").busy, 1u);  // the reserved slot
  p.failed("bl");
  EXPECT_EQ(p.stats("bl").busy, 0u);
}

TEST_F(PoolTest, AWaiterThatLeavesIsNotWoken) {
  KeepalivePool& p = KeepalivePool::get();
  ClientConnection* got = nullptr;
  KeepalivePool::Waiter w1, w2;
  Woken r2;
  w2.wake = onWake;
  w2.data = &r2;
  ASSERT_EQ(p.admit("leave", 1, true, 4, &w1, &got), KeepalivePool::Admit::kGo);
  ASSERT_EQ(p.admit("leave", 1, true, 4, &w2, &got), KeepalivePool::Admit::kQueued);
  p.leave(&w2);
  EXPECT_EQ(p.stats("leave").waiting, 0u);
  p.failed("leave");
  spin();
  EXPECT_EQ(r2.calls, 0);
  EXPECT_EQ(p.stats("leave").busy, 0u);
}

TEST(Resolver, NumericAddresses) {
  SockAddr a;
  ASSERT_TRUE(parseNumeric("127.0.0.1", 80, &a));
  EXPECT_EQ(a.text(), "127.0.0.1:80");
  ASSERT_TRUE(parseNumeric("[::1]", 443, &a));
  EXPECT_EQ(a.text(), "[::1]:443");
  EXPECT_FALSE(parseNumeric("localhost", 80, &a));
  EXPECT_FALSE(parseNumeric("", 80, &a));
  EXPECT_STREQ(resolveErrorText(kResolveNxDomain), "Host not found");
  EXPECT_STREQ(resolveErrorText(kResolveTimedOut), "Operation timed out");
}

struct Answer {
  int calls = 0;
  int code = -1;
  std::string text;
};

void onAnswer(void* data, int code, const SockAddr* addr) noexcept {
  auto* a = static_cast<Answer*>(data);
  a->calls++;
  a->code = code;
  if (addr != nullptr) a->text = addr->text();
}

TEST(Resolver, LooksUpOffTheLoopCachesAndCancels) {
  if (event::loop() == nullptr) event::createLoop();
  Resolver r(event::loop());
  Answer ans;
  r.resolve("localhost", 8080, onAnswer, &ans);
  EXPECT_EQ(ans.calls, 0);  // never from inside resolve()
  while (ans.calls == 0) uv_run(event::loop(), UV_RUN_ONCE);
  EXPECT_EQ(ans.code, kResolveOk);
  EXPECT_NE(ans.text.find(":8080"), std::string::npos);
  SockAddr cached;
  EXPECT_TRUE(r.cached("localhost", 81, &cached));
  EXPECT_EQ(r.cacheSize(), 1u);

  Answer none;
  Resolver::Lookup* l = r.resolve("localhost.localdomain", 80, onAnswer, &none);
  Resolver::cancel(l);
  for (int i = 0; i < 20; i++) uv_run(event::loop(), UV_RUN_NOWAIT);
  EXPECT_EQ(none.calls, 0);

  Answer bad;
  r.resolve("no-such-host.invalid", 80, onAnswer, &bad);
  while (bad.calls == 0) uv_run(event::loop(), UV_RUN_ONCE);
  EXPECT_EQ(bad.code, kResolveNxDomain);
}

}  // namespace
}  // namespace lunet::net
