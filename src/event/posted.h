// Posted calls: work that must run from the loop, before it polls again,
// rather than inside the call that caused it (nginx's posted events). A
// write that completed synchronously reports its completion this way, so a
// caller up the stack never sees its connection or request end under it.
//
// A Posted is an intrusive node owned by its user (no allocation): post()
// queues it once, cancel() takes it off (do that before freeing it). The
// queue of this thread's loop runs from an idle handle; calls posted while
// it runs wait for the next loop turn.
#pragma once

namespace lunet::event {

struct PostedList;

struct Posted {
  void (*fn)(void* data) = nullptr;  // runs once per post()
  void* data = nullptr;
  Posted* prev = nullptr;
  Posted* next = nullptr;
  PostedList* list = nullptr;  // non-null while queued

  bool queued() const noexcept { return list != nullptr; }
};

// Queues p on this thread's loop (event::loop()); a no-op if already queued.
void post(Posted* p) noexcept;
// Takes p off the queue; a no-op if it is not queued.
void cancel(Posted* p) noexcept;

}  // namespace lunet::event
