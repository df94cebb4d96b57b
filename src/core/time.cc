#include "core/time.h"

#include <sys/time.h>

#include <cstdio>
#include <cstring>

namespace lunet::core {

namespace {

struct TimeCache {
  char errlog[32] = {};
  size_t errlogLen = 0;
  char http[40] = {};
  size_t httpLen = 0;
  char logTime[40] = {};
  size_t logTimeLen = 0;
  char iso[40] = {};
  size_t isoLen = 0;
};

TimeCache gCache;

constexpr const char* kWeek[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void refreshStrings(time_t sec) {
  struct tm gmt, local;
  gmtime_r(&sec, &gmt);
  localtime_r(&sec, &local);
  gCache.errlogLen = static_cast<size_t>(std::snprintf(
      gCache.errlog, sizeof(gCache.errlog), "%04d/%02d/%02d %02d:%02d:%02d", local.tm_year + 1900,
      local.tm_mon + 1, local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec));
  gCache.httpLen = formatHttpTime(sec, gCache.http);
  long off = local.tm_gmtoff / 60;
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  gCache.logTimeLen = static_cast<size_t>(std::snprintf(
      gCache.logTime, sizeof(gCache.logTime), "%02d/%s/%04d:%02d:%02d:%02d %c%02ld%02ld",
      local.tm_mday, kMonths[local.tm_mon], local.tm_year + 1900, local.tm_hour, local.tm_min,
      local.tm_sec, sign, off / 60, off % 60));
  gCache.isoLen = static_cast<size_t>(
      std::snprintf(gCache.iso, sizeof(gCache.iso), "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
                    local.tm_year + 1900, local.tm_mon + 1, local.tm_mday, local.tm_hour,
                    local.tm_min, local.tm_sec, sign, off / 60, off % 60));
}

void ensure() {
  if (detail::gClock.sec == -1) updateTime();
}

}  // namespace

namespace detail {
Clock gClock;
}  // namespace detail

void updateTime() {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  detail::gClock.msec =
      static_cast<uint64_t>(tv.tv_sec) * 1000 + static_cast<uint64_t>(tv.tv_usec) / 1000;
  detail::gClock.ngxNow = static_cast<double>(detail::gClock.msec) / 1000.0;
  if (tv.tv_sec != detail::gClock.sec) {
    detail::gClock.sec = tv.tv_sec;
    detail::gClock.ngxTime = static_cast<double>(tv.tv_sec);
    refreshStrings(tv.tv_sec);
  }
}

std::string_view cachedErrorLogTime() {
  ensure();
  return {gCache.errlog, gCache.errlogLen};
}
std::string_view cachedHttpTime() {
  ensure();
  return {gCache.http, gCache.httpLen};
}
std::string_view cachedLogTime() {
  ensure();
  return {gCache.logTime, gCache.logTimeLen};
}
std::string_view cachedIso8601() {
  ensure();
  return {gCache.iso, gCache.isoLen};
}

size_t formatHttpTime(time_t t, char* buf) {
  struct tm g;
  gmtime_r(&t, &g);
  return static_cast<size_t>(std::snprintf(buf, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                                           kWeek[g.tm_wday], g.tm_mday, kMonths[g.tm_mon],
                                           g.tm_year + 1900, g.tm_hour, g.tm_min, g.tm_sec));
}

size_t formatCookieTime(time_t t, char* buf) {
  struct tm g;
  gmtime_r(&t, &g);
  return static_cast<size_t>(std::snprintf(buf, 32, "%s, %02d-%s-%02d %02d:%02d:%02d GMT",
                                           kWeek[g.tm_wday], g.tm_mday, kMonths[g.tm_mon],
                                           g.tm_year % 100, g.tm_hour, g.tm_min, g.tm_sec));
}

time_t parseHttpTime(std::string_view s) {
  char str[64];
  if (s.size() >= sizeof(str)) return -1;
  std::memcpy(str, s.data(), s.size());
  str[s.size()] = '\0';
  struct tm tm;
  std::memset(&tm, 0, sizeof(tm));
  const char* formats[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                           "%a %b %e %H:%M:%S %Y", "%a, %d-%b-%Y %H:%M:%S GMT"};
  for (const char* f : formats) {
    std::memset(&tm, 0, sizeof(tm));
    const char* end = strptime(str, f, &tm);
    if (end != nullptr && *end == '\0') return timegm(&tm);
  }
  return -1;
}

}  // namespace lunet::core
