#include "shm/zone.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

namespace lunet::shm {

Zone::~Zone() {
  if (addr_ != nullptr) ::munmap(addr_, size_);
}

ZonePtr createZone(const std::string& name, size_t size, const void* tag, std::string* err) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    int e = errno;
    *err = "mmap(MAP_ANONYMOUS|MAP_SHARED, " + std::to_string(size) + ") failed (" +
           std::to_string(e) + ": " + std::strerror(e) + ")";
    return nullptr;
  }
  return std::make_shared<Zone>(name, size, tag, p);
}

ZonePtr ZoneTable::find(const std::string& name) const {
  for (const ZonePtr& z : zones_) {
    if (z->name() == name) return z;
  }
  return nullptr;
}

ZonePtr ZoneTable::add(const std::string& name, size_t size, const void* tag, std::string* err) {
  if (ZonePtr z = find(name)) {
    if (z->tag() != tag) {
      *err = "the shared memory zone \"" + name + "\" is already declared for a different use";
      return nullptr;
    }
    if (z->size() != size) {
      *err = "the size " + std::to_string(size) + " of shared memory zone \"" + name +
             "\" conflicts with already declared size " + std::to_string(z->size());
      return nullptr;
    }
    return z;
  }
  ZonePtr z;
  if (previous_ != nullptr) {
    ZonePtr old = previous_->find(name);
    if (old && old->size() == size && old->tag() == tag) {
      z = old;
      z->setReused(true);
    }
  }
  if (!z) {
    z = createZone(name, size, tag, err);
    if (!z) return nullptr;
  }
  zones_.push_back(z);
  return z;
}

}  // namespace lunet::shm
