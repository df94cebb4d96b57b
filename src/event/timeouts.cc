#include "event/timeouts.h"

#include <uv.h>

#include "event/loop.h"

namespace lunet::event {

namespace {

struct TimeoutList {
  uint64_t ms = 0;
  Timeout* head = nullptr;
  Timeout* tail = nullptr;
};

struct Timeouts {
  TimeoutList lists[kTimeoutLists];
  int used = 0;
  uv_timer_t timer;
  uv_loop_t* loop = nullptr;
  uint64_t due = 0;  // when `timer` fires; 0: not started
};

Timeouts& timeouts() noexcept {
  static thread_local Timeouts t;
  return t;
}

void unlink(Timeout* t) noexcept {
  if (t->list == 0) return;
  TimeoutList& l = timeouts().lists[t->list - 1];
  if (t->prev) {
    t->prev->next = t->next;
  } else {
    l.head = t->next;
  }
  if (t->next) {
    t->next->prev = t->prev;
  } else {
    l.tail = t->prev;
  }
  t->prev = t->next = nullptr;
  t->list = 0;
}

void onTimer(uv_timer_t* timer);

void schedule(Timeouts& T, uint64_t now) noexcept {
  uint64_t next = 0;
  for (int i = 0; i < T.used; i++) {
    const Timeout* h = T.lists[i].head;
    if (h != nullptr && (next == 0 || h->deadline < next)) next = h->deadline;
  }
  if (next == 0) {
    T.due = 0;
    uv_timer_stop(&T.timer);
    return;
  }
  if (T.due == next) return;
  T.due = next;
  uv_timer_start(&T.timer, onTimer, next > now ? next - now : 0, 0);
}

void onTimer(uv_timer_t* timer) {
  Timeouts& T = timeouts();
  T.due = 0;
  uint64_t now = uv_now(timer->loop);
  for (int i = 0; i < T.used; i++) {
    TimeoutList& l = T.lists[i];
    // A callback may re-arm (its node goes to a tail, later than now) or
    // free other owners: the head is read again every time.
    while (l.head != nullptr && l.head->deadline <= now) {
      Timeout* t = l.head;
      unlink(t);
      t->deadline = 0;
      t->fn(t->data);
    }
  }
  schedule(T, now);
}

}  // namespace

// Re-arming moves the node to the tail of its duration's list; the timer is
// restarted only when the new deadline is the earliest.
void arm(Timeout* t, uint64_t ms, void (*fn)(void* data), void* data) noexcept {
  if (ms == 0) ms = 1;
  Timeouts& T = timeouts();
  uv_loop_t* l = loop();
  if (T.loop != l || uv_is_closing(reinterpret_cast<uv_handle_t*>(&T.timer))) {
    for (TimeoutList& x : T.lists) x = TimeoutList{};
    T.used = 0;
    T.due = 0;
    uv_timer_init(l, &T.timer);
    uv_unref(reinterpret_cast<uv_handle_t*>(&T.timer));  // the owners keep the loop alive
    T.loop = l;
  }
  unlink(t);
  uint64_t now = uv_now(l);
  uint64_t deadline = now + ms;
  t->deadline = deadline;
  t->fn = fn;
  t->data = data;
  int i = 0;
  while (i < T.used && T.lists[i].ms != ms) i++;
  if (i == T.used) {
    if (T.used < kTimeoutLists) {
      T.lists[T.used++].ms = ms;
    } else {
      i = kTimeoutLists - 1;  // shared: kept sorted below
    }
  }
  TimeoutList& list = T.lists[i];
  Timeout* after = list.tail;
  while (after != nullptr && after->deadline > deadline) after = after->prev;
  t->prev = after;
  t->next = after ? after->next : list.head;
  if (t->next) {
    t->next->prev = t;
  } else {
    list.tail = t;
  }
  if (after) {
    after->next = t;
  } else {
    list.head = t;
  }
  t->list = static_cast<uint8_t>(i + 1);
  if (T.due == 0 || deadline < T.due) {
    T.due = deadline;
    uv_timer_start(&T.timer, onTimer, ms, 0);
  }
}

void disarm(Timeout* t) noexcept {
  unlink(t);
  t->deadline = 0;
}

}  // namespace lunet::event
