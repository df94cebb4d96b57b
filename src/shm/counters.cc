#include "shm/counters.h"

#include <cstdio>
#include <cstdlib>
#include <new>

namespace lunet::shm {

namespace {

constexpr char kZoneName[] = "lunet:http_counters";
constexpr int kTag = 0;  // the counters' owner identity (its address)

Counters* gCounters = nullptr;

}  // namespace

bool bindCounters(ZoneTable& zones, std::string* err) {
  ZonePtr z = zones.add(kZoneName, 4096, &kTag, err);
  if (!z) return false;
  static_assert(sizeof(Counters) <= 4096);
  // A fresh mapping is zero-filled; construct the atomics in place anyway.
  if (!z->reused()) new (z->addr()) Counters{};
  gCounters = static_cast<Counters*>(z->addr());
  return true;
}

Counters& counters() noexcept {
  if (gCounters == nullptr) {
    // Kept for the life of the process.
    static ZonePtr own = [] {
      std::string err;
      ZonePtr z = createZone(kZoneName, 4096, &kTag, &err);
      if (!z) {
        std::fprintf(stderr, "%s\n", err.c_str());
        std::abort();
      }
      new (z->addr()) Counters{};
      return z;
    }();
    gCounters = static_cast<Counters*>(own->addr());
  }
  return *gCounters;
}

}  // namespace lunet::shm
