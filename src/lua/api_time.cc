// ngx.now, ngx.time, ngx.update_time, ngx.today, ngx.localtime, ngx.utctime,
// ngx.http_time, ngx.cookie_time, ngx.parse_http_time, monotonic_msec: the
// FFI side of lua/resty/core/time.lua.
#include <cstddef>
#include <cstdio>
#include <ctime>

#include "core/time.h"
#include "event/loop.h"
#include "lua/api.h"

namespace lunet::lua {

namespace {

// "2010-11-19" or "2010-11-19 20:56:31" (the cached second) into buf.
void formatTm(char* buf, bool utc, bool withTime) noexcept {
  time_t t = core::nowSec();
  struct tm tm;
  if (utc) {
    gmtime_r(&t, &tm);
  } else {
    localtime_r(&t, &tm);
  }
  auto put = [](char* p, int v, int width) {
    for (int i = width - 1; i >= 0; i--) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(buf, tm.tm_year + 1900, 4);
  buf[4] = '-';
  put(buf + 5, tm.tm_mon + 1, 2);
  buf[7] = '-';
  put(buf + 8, tm.tm_mday, 2);
  if (!withTime) return;
  buf[10] = ' ';
  put(buf + 11, tm.tm_hour, 2);
  buf[13] = ':';
  put(buf + 14, tm.tm_min, 2);
  buf[16] = ':';
  put(buf + 17, tm.tm_sec, 2);
}

}  // namespace

// ---- FFI (lua/resty/core/time.lua) ----

// The cached clock itself: ngx.now() and ngx.time() read its fields (loads,
// not calls; lua-resty-core calls C for each).
static_assert(offsetof(core::detail::Clock, sec) == 8 &&
                  offsetof(core::detail::Clock, ngxNow) == 16 &&
                  offsetof(core::detail::Clock, ngxTime) == 24,
              "lua/resty/core/time.lua's lunet_ffi_clock_t");
extern "C" const core::detail::Clock* lunet_ffi_clock() noexcept {
  core::nowSec();  // set it on first use
  return &core::detail::gClock;
}

// The loop's cached monotonic clock, as nginx's ngx_current_msec.
extern "C" long lunet_ffi_monotonic_msec() noexcept {
  uv_loop_t* loop = event::loop();
  return loop != nullptr ? static_cast<long>(uv_now(loop))
                         : static_cast<long>(uv_hrtime() / 1000000);
}

extern "C" void lunet_ffi_update_time() noexcept {
  core::updateTime();
  uv_loop_t* loop = event::loop();
  if (loop != nullptr) uv_update_time(loop);
}

extern "C" void lunet_ffi_today(char* buf) noexcept { formatTm(buf, false, false); }
extern "C" void lunet_ffi_localtime(char* buf) noexcept { formatTm(buf, false, true); }
extern "C" void lunet_ffi_utctime(char* buf) noexcept { formatTm(buf, true, true); }

// buf: >= 30 bytes. Return the length written.
extern "C" int lunet_ffi_http_time(char* buf, long t) noexcept {
  return static_cast<int>(core::formatHttpTime(static_cast<time_t>(t), buf));
}
extern "C" int lunet_ffi_cookie_time(char* buf, long t) noexcept {
  return static_cast<int>(core::formatCookieTime(static_cast<time_t>(t), buf));
}

// -1 (FFI_ERROR) when s is not an HTTP date.
extern "C" long lunet_ffi_parse_http_time(const char* s, size_t len) noexcept {
  return static_cast<long>(core::parseHttpTime({s, len}));
}

}  // namespace lunet::lua
