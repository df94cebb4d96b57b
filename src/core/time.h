// Cached wall-clock time, refreshed once per event-loop iteration (and by
// ngx.update_time), so hot paths never call gettimeofday or format dates.
#pragma once

#include <cstdint>
#include <ctime>
#include <string_view>

namespace lunet::core {

// Refreshes the cache from the system clock.
void updateTime();

// Milliseconds since the epoch, as of the last updateTime().
uint64_t nowMsec();
// Seconds since the epoch.
time_t nowSec();

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
