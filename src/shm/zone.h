// Named shared-memory zones, as nginx's ngx_shm_zone_t.
//
// A module asks for a zone by name and size while the configuration is read
// (in the master, before any fork); the zone is one MAP_SHARED|MAP_ANONYMOUS
// mapping that every worker forked afterwards inherits at the same address.
// A reload builds a new ZoneTable that takes over the previous generation's
// zone of the same name, size and owner (contents kept); zones the new
// configuration no longer names are unmapped in the master when the old
// generation's table goes away (old workers keep their own mapping until
// they exit). Zone memory holds only offsets and plain data.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace lunet::shm {

class Zone {
 public:
  Zone(std::string name, size_t size, const void* tag, void* addr) noexcept
      : name_(std::move(name)), size_(size), tag_(tag), addr_(addr) {}
  ~Zone();
  Zone(const Zone&) = delete;
  Zone& operator=(const Zone&) = delete;

  const std::string& name() const { return name_; }
  size_t size() const { return size_; }
  const void* tag() const { return tag_; }  // owner (module) identity
  void* addr() const { return addr_; }
  // True when the zone was taken over from the previous generation.
  bool reused() const { return reused_; }
  void setReused(bool r) { reused_ = r; }

 private:
  std::string name_;
  size_t size_;
  const void* tag_;
  void* addr_;
  bool reused_ = false;
};
using ZonePtr = std::shared_ptr<Zone>;

// The zones of one configuration generation.
class ZoneTable {
 public:
  // Zones of the generation being replaced; add() takes over matching ones.
  void inheritFrom(const ZoneTable* previous) { previous_ = previous; }

  // Declares (or finds) the zone `name`. Returns null with *err in nginx's
  // words when it conflicts with an earlier declaration (another owner, or
  // another size), or when mmap fails.
  ZonePtr add(const std::string& name, size_t size, const void* tag, std::string* err);

  ZonePtr find(const std::string& name) const;
  const std::vector<ZonePtr>& zones() const { return zones_; }

  // Forgets the previous generation (after the load finished).
  void dropPrevious() { previous_ = nullptr; }

 private:
  std::vector<ZonePtr> zones_;
  const ZoneTable* previous_ = nullptr;
};

// Maps a fresh zero-filled region; null with *err on failure.
ZonePtr createZone(const std::string& name, size_t size, const void* tag, std::string* err);

}  // namespace lunet::shm
