// Cached wall-clock time, refreshed once per event-loop iteration (and by
// ngx.update_time), so hot paths never call gettimeofday or format dates.
#pragma once

#include <cstdint>
#include <ctime>
#include <string_view>

namespace lunet::core {

// Refreshes the cache from the system clock.
void updateTime();

namespace detail {
// lua/resty/core/time.lua reads this struct through FFI (lunet_ffi_clock),
// so ngx.now() and ngx.time() are loads: keep the layout.
struct Clock {
  uint64_t msec = 0;
  int64_t sec = -1;    // -1: never updated
  double ngxNow = 0;   // msec / 1000, as ngx.now() answers
  double ngxTime = 0;  // sec, as ngx.time() answers
};
// Inline readers below: ngx.now() through FFI is one call, not two.
extern Clock gClock;
}  // namespace detail

// Milliseconds since the epoch, as of the last updateTime().
inline uint64_t nowMsec() {
  if (detail::gClock.sec == -1) updateTime();
  return detail::gClock.msec;
}
// Seconds since the epoch.
inline time_t nowSec() {
  if (detail::gClock.sec == -1) updateTime();
  return detail::gClock.sec;
}

// Formatted forms of the cached time (valid until the next updateTime()).
std::string_view cachedErrorLogTime();  // 2026/11/22 11:27:41 (local)
std::string_view cachedHttpTime();      // Sun, 22 Nov 2026 11:27:41 GMT
std::string_view cachedLogTime();       // 22/Nov/2026:11:27:41 +0000 ($time_local)
std::string_view cachedIso8601();       // 2026-11-22T11:27:41+00:00

// Formats t as an HTTP date into buf (>= 30 bytes); returns the length.
size_t formatHttpTime(time_t t, char* buf);
// Formats t as a cookie expiry date: "Sun, 22-Nov-26 11:27:41 GMT".
size_t formatCookieTime(time_t t, char* buf);
// Parses an HTTP date (RFC 1123, RFC 850, asctime); returns -1 on error.
time_t parseHttpTime(std::string_view s);

}  // namespace lunet::core
