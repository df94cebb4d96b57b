// Timeout lists: many timeouts of a few distinct durations (the HTTP
// client_header_timeout, send_timeout, keepalive_timeout...), on one libuv
// timer per thread.
//
// nginx keeps every timeout in one tree with one timer; here each distinct
// duration has a list ordered by deadline. A deadline is now + duration, so
// re-arming is an append at the tail: O(1), no heap operation, and no
// uv_timer_t per owner (152 bytes an idle connection does not pay). The
// timer fires at the earliest head. Durations beyond kTimeoutLists share
// the last list (sorted insertion from the tail).
//
// A Timeout is an intrusive node owned by its user; disarm it before freeing
// it. The timer does not keep the loop alive (the owners' handles do).
#pragma once

#include <cstdint>

namespace lunet::event {

struct Timeout {
  void (*fn)(void* data) = nullptr;  // runs once when the deadline passes
  void* data = nullptr;
  uint64_t deadline = 0;  // loop time (ms) of the armed timeout; 0 none
  Timeout* prev = nullptr;
  Timeout* next = nullptr;
  uint8_t list = 0;  // 1 + index of the list holding it; 0 none

  bool armed() const noexcept { return list != 0; }
};

inline constexpr int kTimeoutLists = 32;

// (Re)arms t to call fn(data) in ms milliseconds (at least 1) on this
// thread's loop (event::loop()), replacing what it was armed for.
void arm(Timeout* t, uint64_t ms, void (*fn)(void* data), void* data) noexcept;
// Takes t off its list; a no-op if it is not armed.
void disarm(Timeout* t) noexcept;

}  // namespace lunet::event
