#include "event/posted.h"

#include <uv.h>

#include "event/loop.h"

namespace lunet::event {

struct PostedList {
  Posted* head = nullptr;
  Posted* tail = nullptr;

  void push(Posted* p) noexcept {
    p->list = this;
    p->next = nullptr;
    p->prev = tail;
    if (tail != nullptr) {
      tail->next = p;
    } else {
      head = p;
    }
    tail = p;
  }
  void unlink(Posted* p) noexcept {
    if (p->prev != nullptr) {
      p->prev->next = p->next;
    } else {
      head = p->next;
    }
    if (p->next != nullptr) {
      p->next->prev = p->prev;
    } else {
      tail = p->prev;
    }
    p->prev = p->next = nullptr;
    p->list = nullptr;
  }
};

namespace {

struct PostedQueue {
  PostedList waiting;  // posted since the last run
  PostedList running;  // taken by the run in progress
  uv_idle_t idle;
  uv_loop_t* loop = nullptr;
};

PostedQueue& queue() noexcept {
  static thread_local PostedQueue q;
  return q;
}

void runPosted(uv_idle_t*) {
  PostedQueue& q = queue();
  // What the calls post now runs on the next turn: a call that posts itself
  // again cannot starve the loop.
  q.running = q.waiting;
  q.waiting = PostedList{};
  for (Posted* p = q.running.head; p != nullptr; p = p->next) p->list = &q.running;
  while (q.running.head != nullptr) {
    Posted* p = q.running.head;
    q.running.unlink(p);
    p->fn(p->data);
  }
  if (q.waiting.head == nullptr) uv_idle_stop(&q.idle);
}

}  // namespace

void post(Posted* p) noexcept {
  if (p->list != nullptr) return;
  PostedQueue& q = queue();
  uv_loop_t* l = loop();
  if (q.loop != l || uv_is_closing(reinterpret_cast<uv_handle_t*>(&q.idle))) {
    // A new loop in this thread (a worker after fork, a unit test): nothing
    // of the old one is queued any more.
    uv_idle_init(l, &q.idle);
    q.loop = l;
    q.waiting = PostedList{};
    q.running = PostedList{};
  }
  q.waiting.push(p);
  uv_idle_start(&q.idle, runPosted);
}

void cancel(Posted* p) noexcept {
  if (p->list == nullptr) return;
  p->list->unlink(p);
  PostedQueue& q = queue();
  if (q.waiting.head == nullptr && q.running.head == nullptr && q.loop != nullptr &&
      !uv_is_closing(reinterpret_cast<uv_handle_t*>(&q.idle))) {
    uv_idle_stop(&q.idle);
  }
}

}  // namespace lunet::event
