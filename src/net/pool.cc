#include "net/pool.h"

namespace lunet::net {

// An idle connection: the pool is its user (any byte or close from the peer
// drops it) and its idle timer's owner.
struct KeepalivePool::Idle final : ClientConnection::User {
  KeepalivePool* owner = nullptr;
  Pool* pool = nullptr;
  ClientConnection* conn = nullptr;
  Idle* prev = nullptr;  // towards the most recently put
  Idle* next = nullptr;  // towards the least recently put
  event::UvHandle<uv_timer_t> timer;
  char probe[1];

  uv_buf_t readBuffer() noexcept override { return uv_buf_init(probe, sizeof(probe)); }
  void onRead(ssize_t nread) noexcept override {
    if (nread != 0) owner->dropIdle(this);  // data, EOF or an error: unusable
  }
};

struct KeepalivePool::Pool {
  std::string key;
  size_t size = 0;
  size_t backlog = 0;
  size_t connections = 0;  // counted: idle + busy + reserved slots
  size_t idle = 0;
  Idle* head = nullptr;  // most recently put
  Idle* tail = nullptr;
  Waiter* qHead = nullptr;
  Waiter* qTail = nullptr;
  size_t queued = 0;
};

KeepalivePool::~KeepalivePool() {
  for (auto& [key, p] : pools_) {
    while (p->head != nullptr) dropIdle(p->head);
  }
}

KeepalivePool& KeepalivePool::get() noexcept {
  // One per process, on its loop; lives as long as the process.
  static KeepalivePool* p = new KeepalivePool;
  return *p;
}

KeepalivePool::Pool* KeepalivePool::find(std::string_view key) const noexcept {
  auto it = pools_.find(std::string(key));
  return it == pools_.end() ? nullptr : it->second.get();
}

KeepalivePool::Pool* KeepalivePool::pool(std::string_view key, size_t size,
                                         size_t backlog) noexcept {
  Pool* p = find(key);
  if (p != nullptr) {
    // A backlog asked for later still applies (lua-nginx-module sets it
    // whenever a connect passes one).
    if (backlog > 0 && p->backlog == 0) p->backlog = backlog;
    return p;
  }
  auto np = std::make_unique<Pool>();
  np->key.assign(key);
  np->size = size > 0 ? size : 1;
  np->backlog = backlog;
  p = np.get();
  pools_.emplace(np->key, std::move(np));
  return p;
}

KeepalivePool::Admit KeepalivePool::admit(std::string_view key, size_t size, bool sizeGiven,
                                          size_t backlog, Waiter* w,
                                          ClientConnection** conn) noexcept {
  Pool* p = sizeGiven || backlog > 0 ? pool(key, size, backlog) : find(key);
  if (p == nullptr) return Admit::kGoFree;  // not counted until put() makes the pool
  if (p->head != nullptr) {
    Idle* i = p->head;
    ClientConnection* c = i->conn;
    p->head = i->next;
    if (p->head != nullptr) {
      p->head->prev = nullptr;
    } else {
      p->tail = nullptr;
    }
    p->idle--;
    c->stream().readStop();
    c->setUser(nullptr);
    c->reusedTimes++;
    delete i;
    *conn = c;
    return Admit::kIdle;
  }
  if (p->backlog == 0 || p->connections < p->size) {
    p->connections++;
    return Admit::kGo;
  }
  if (p->queued >= p->backlog) return Admit::kFull;
  w->pool = p;
  w->woken = false;
  w->handed = nullptr;
  w->next = nullptr;
  w->prev = p->qTail;
  if (p->qTail != nullptr) {
    p->qTail->next = w;
  } else {
    p->qHead = w;
  }
  p->qTail = w;
  p->queued++;
  return Admit::kQueued;
}

void KeepalivePool::counted(std::string_view key, ClientConnection* conn) noexcept {
  conn->poolKey.assign(key);
  conn->counted = true;
}

void KeepalivePool::failed(std::string_view key) noexcept {
  if (Pool* p = find(key); p != nullptr) release(p);
}

void KeepalivePool::release(Pool* p) noexcept {
  if (p->connections > 0) p->connections--;
  // A slot is free: the first waiter gets it (counted on its behalf).
  if (p->qHead != nullptr && (p->backlog == 0 || p->connections < p->size)) {
    Waiter* w = p->qHead;
    leave(w);
    p->connections++;
    wakeLater(w, p);
  }
}

void KeepalivePool::leave(Waiter* w) noexcept {
  if (w->pool == nullptr) return;
  if (w->woken) {
    // On the woken list: a handed connection goes back, a reserved slot is
    // given up.
    if (w->prev != nullptr) {
      w->prev->next = w->next;
    } else {
      wokenHead_ = w->next;
    }
    if (w->next != nullptr) {
      w->next->prev = w->prev;
    } else {
      wokenTail_ = w->prev;
    }
    Pool* p = w->pool;
    ClientConnection* c = w->handed;
    w->pool = nullptr;
    w->prev = w->next = nullptr;
    w->handed = nullptr;
    w->woken = false;
    if (c != nullptr) {
      closing(c);
      c->close();
    } else {
      release(p);
    }
    return;
  }
  Pool* p = w->pool;
  if (w->prev != nullptr) {
    w->prev->next = w->next;
  } else {
    p->qHead = w->next;
  }
  if (w->next != nullptr) {
    w->next->prev = w->prev;
  } else {
    p->qTail = w->prev;
  }
  p->queued--;
  w->pool = nullptr;
  w->prev = w->next = nullptr;
}

void KeepalivePool::wakeLater(Waiter* w, Pool* p) noexcept {
  w->woken = true;
  w->pool = p;
  w->next = nullptr;
  w->prev = wokenTail_;
  if (wokenTail_ != nullptr) {
    wokenTail_->next = w;
  } else {
    wokenHead_ = w;
  }
  wokenTail_ = w;
  if (!wakeTimer_.initialized()) {
    LUNET_UV_CHECK(uv_timer_init(event::loop(), wakeTimer_.get()));
    wakeTimer_.markInitialized();
    wakeTimer_->data = this;
  }
  if (!uv_is_active(wakeTimer_.handle())) {
    LUNET_UV_CHECK(uv_timer_start(wakeTimer_.get(), onWakeTimer, 0, 0));
  }
}

void KeepalivePool::onWakeTimer(uv_timer_t* t) {
  auto* self = static_cast<KeepalivePool*>(t->data);
  while (self->wokenHead_ != nullptr) {
    Waiter* w = self->wokenHead_;
    self->wokenHead_ = w->next;
    if (self->wokenHead_ != nullptr) {
      self->wokenHead_->prev = nullptr;
    } else {
      self->wokenTail_ = nullptr;
    }
    ClientConnection* c = w->handed;
    w->pool = nullptr;
    w->prev = w->next = nullptr;
    w->handed = nullptr;
    w->woken = false;
    w->wake(w, c);
  }
}

void KeepalivePool::closing(ClientConnection* conn) noexcept {
  if (!conn->counted) return;
  conn->counted = false;
  if (Pool* p = find(conn->poolKey); p != nullptr) release(p);
}

void KeepalivePool::shutdown() noexcept {
  shutdown_ = true;
  for (auto& [key, p] : pools_) {
    while (p->head != nullptr) dropIdle(p->head);
  }
}

void KeepalivePool::put(ClientConnection* conn, size_t size, uint64_t timeoutMs) noexcept {
  if (shutdown_) {
    closing(conn);
    conn->close();
    return;
  }
  Pool* p = pool(conn->poolKey, size, 0);
  if (!conn->counted) {  // made before the pool counted (or counted elsewhere)
    conn->counted = true;
    p->connections++;
  }
  if (p->qHead != nullptr) {
    // A connect waits for this pool: it gets this connection.
    Waiter* w = p->qHead;
    leave(w);
    conn->reusedTimes++;
    conn->setUser(nullptr);
    w->handed = conn;
    wakeLater(w, p);
    return;
  }
  if (p->idle >= p->size) dropIdle(p->tail);  // least recently used goes
  auto* i = new Idle;
  i->owner = this;
  i->pool = p;
  i->conn = conn;
  i->next = p->head;
  if (p->head != nullptr) p->head->prev = i;
  p->head = i;
  if (p->tail == nullptr) p->tail = i;
  p->idle++;
  conn->setUser(i);
  if (conn->stream().readStart() != 0) {
    dropIdle(i);
    return;
  }
  if (timeoutMs > 0) {
    LUNET_UV_CHECK(uv_timer_init(event::loop(), i->timer.get()));
    i->timer.markInitialized();
    i->timer->data = i;
    LUNET_UV_CHECK(uv_timer_start(
        i->timer.get(),
        [](uv_timer_t* t) {
          auto* idle = static_cast<Idle*>(t->data);
          idle->owner->dropIdle(idle);
        },
        timeoutMs, 0));
  }
}

void KeepalivePool::dropIdle(Idle* i) noexcept {
  Pool* p = i->pool;
  if (i->prev != nullptr) {
    i->prev->next = i->next;
  } else {
    p->head = i->next;
  }
  if (i->next != nullptr) {
    i->next->prev = i->prev;
  } else {
    p->tail = i->prev;
  }
  p->idle--;
  ClientConnection* c = i->conn;
  delete i;
  closing(c);
  c->close();
}

KeepalivePool::Stats KeepalivePool::statsOf(const Pool& p) noexcept {
  Stats s;
  s.idle = p.idle;
  s.busy = p.connections > p.idle ? p.connections - p.idle : 0;
  s.waiting = p.queued;
  s.size = p.size;
  s.backlog = p.backlog;
  return s;
}

KeepalivePool::Stats KeepalivePool::stats(std::string_view key) const noexcept {
  const Pool* p = find(key);
  return p != nullptr ? statsOf(*p) : Stats{};
}

}  // namespace lunet::net
