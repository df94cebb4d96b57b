#include "core/arena.h"

#include <gtest/gtest.h>

#include <cstring>

namespace lunet::core {
namespace {

TEST(FreeList, ReusesReleasedBlocksUpToTheLimit) {
  FreeList fl(64, 2);
  void* a = fl.get();
  void* b = fl.get();
  void* c = fl.get();
  std::memset(a, 1, 64);
  fl.put(a);
  fl.put(b);
  fl.put(c);  // over the limit: freed
  EXPECT_EQ(fl.kept(), 2u);
  void* d = fl.get();
  void* e = fl.get();
  EXPECT_TRUE((d == a && e == b) || (d == b && e == a));
  EXPECT_EQ(fl.kept(), 0u);
  fl.put(d);
  fl.put(e);
  fl.trim(0);
  EXPECT_EQ(fl.kept(), 0u);
}

TEST(Arena, DefaultBlocksAreRecycled) {
  void* first = nullptr;
  {
    Arena a;
    first = a.alloc(100);
    ASSERT_NE(first, nullptr);
  }
  // The block of the arena above comes back to the next arena.
  Arena b;
  void* again = b.alloc(100);
  EXPECT_EQ(again, first);
}

TEST(Arena, BigAllocationsAndCleanups) {
  int runs = 0;
  {
    Arena a;
    char* small = static_cast<char*>(a.alloc(10, 1));
    char* big = static_cast<char*>(a.alloc(100000, 1));
    std::memset(big, 'x', 100000);
    char* small2 = static_cast<char*>(a.alloc(10, 1));
    EXPECT_EQ(small2, small + 10);  // the big one did not replace the current block
    a.addCleanup([](void* p) { ++*static_cast<int*>(p); }, &runs);
    a.reset();
    EXPECT_EQ(runs, 1);
    EXPECT_EQ(a.allocated(), 0u);
    EXPECT_NE(a.alloc(8), nullptr);
  }
  EXPECT_EQ(runs, 1);
}

}  // namespace
}  // namespace lunet::core
