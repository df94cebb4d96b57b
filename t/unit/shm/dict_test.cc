#include "shm/dict.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <random>
#include <string>

#include "shm/zone.h"

namespace lunet::shm {
namespace {

constexpr uint64_t kNow = 1'700'000'000'000ULL;

struct Fixture {
  explicit Fixture(size_t size) {
    std::string err;
    zone = createZone("test", size, this, &err);
    EXPECT_TRUE(zone) << err;
    EXPECT_TRUE(dict.attach(zone->addr(), zone->size(), false, &err)) << err;
  }
  ZonePtr zone;
  Dict dict;
};

std::string getStr(Dict& d, const std::string& key, uint64_t now = kNow, bool stale = false,
                   bool* isStale = nullptr, uint32_t* flagsOut = nullptr) {
  std::string buf(64, '\0');
  size_t len = buf.size();
  ValueType t;
  double num;
  uint32_t flags = 0;
  bool st;
  Rc rc = d.get(key, stale, &t, buf.data(), &len, &num, &flags, &st, now);
  if (rc == Rc::kTooSmall) {
    buf.resize(len);
    rc = d.get(key, stale, &t, buf.data(), &len, &num, &flags, &st, now);
  }
  if (isStale) *isStale = st;
  if (flagsOut) *flagsOut = flags;
  if (rc != Rc::kOk) return "<rc>";
  if (t == ValueType::kNil) return "<nil>";
  if (t == ValueType::kNumber) return "#" + std::to_string(num);
  if (t == ValueType::kBoolean) return buf[0] ? "<true>" : "<false>";
  return buf.substr(0, len);
}

Rc set(Dict& d, const std::string& k, const std::string& v, int op = 0, int64_t ttl = 0,
       bool* forcible = nullptr, uint64_t now = kNow) {
  bool f;
  return d.store(op, k, ValueType::kString, v, 0, ttl, 0, forcible ? forcible : &f, now);
}

TEST(Dict, StoresAndReadsEveryType) {
  Fixture fx(64 * 1024);
  Dict& d = fx.dict;
  bool f;
  EXPECT_EQ(set(d, "s", "hello"), Rc::kOk);
  EXPECT_EQ(d.store(0, "n", ValueType::kNumber, {}, 2.5, 0, 0, &f, kNow), Rc::kOk);
  EXPECT_EQ(d.store(0, "b", ValueType::kBoolean, {}, 1, 0, 9, &f, kNow), Rc::kOk);
  EXPECT_EQ(getStr(d, "s"), "hello");
  EXPECT_EQ(getStr(d, "n"), "#2.500000");
  uint32_t flags = 0;
  EXPECT_EQ(getStr(d, "b", kNow, false, nullptr, &flags), "<true>");
  EXPECT_EQ(flags, 9u);
  EXPECT_EQ(getStr(d, "none"), "<nil>");
  EXPECT_EQ(set(d, "s", "x", Dict::kOpAdd), Rc::kExists);
  EXPECT_EQ(set(d, "t", "x", Dict::kOpReplace), Rc::kNotFound);
  EXPECT_EQ(d.check(), "");
}

TEST(Dict, SmallBufferAsksForTheLength) {
  Fixture fx(64 * 1024);
  Dict& d = fx.dict;
  std::string v(1000, 'q');
  set(d, "k", v);
  char small[10];
  size_t len = sizeof(small);
  ValueType t;
  double num;
  uint32_t flags;
  bool st;
  EXPECT_EQ(d.get("k", false, &t, small, &len, &num, &flags, &st, kNow), Rc::kTooSmall);
  EXPECT_EQ(len, 1000u);
}

TEST(Dict, ExpiryAndStale) {
  Fixture fx(64 * 1024);
  Dict& d = fx.dict;
  set(d, "k", "v", 0, 100);
  EXPECT_EQ(getStr(d, "k", kNow + 100), "v");
  EXPECT_EQ(getStr(d, "k", kNow + 101), "<nil>");
  bool stale = false;
  EXPECT_EQ(getStr(d, "k", kNow + 101, true, &stale), "v");
  EXPECT_TRUE(stale);
  int64_t ms;
  EXPECT_EQ(d.ttl("k", &ms, kNow + 40), Rc::kOk);
  EXPECT_EQ(ms, 60);
  EXPECT_EQ(d.flushExpired(0, kNow + 200), 1);
  EXPECT_EQ(getStr(d, "k", kNow + 200, true), "<nil>");
  EXPECT_EQ(d.check(), "");
}

TEST(Dict, FillEvictsOldestAndSafeWritesRefuse) {
  Fixture fx(64 * 1024);
  Dict& d = fx.dict;
  std::string v(200, 'v');
  int n = 0;
  while (set(d, "k" + std::to_string(n), v, Dict::kOpSafe) == Rc::kOk) n++;
  EXPECT_GT(n, 100);
  EXPECT_EQ(set(d, "more", v, Dict::kOpSafe), Rc::kNoMemory);
  EXPECT_EQ(getStr(d, "k0"), v);  // referenced: survives the next eviction
  bool forcible = false;
  EXPECT_EQ(set(d, "more", v, 0, 0, &forcible), Rc::kOk);
  EXPECT_TRUE(forcible);
  EXPECT_EQ(getStr(d, "k0"), v);
  EXPECT_EQ(getStr(d, "k1"), "<nil>");
  EXPECT_EQ(d.stats().evictions, 1u);
  EXPECT_EQ(d.check(), "");
}

TEST(Dict, WriteThatFitsFreeSpaceSucceedsAfterFragmentation) {
  Fixture fx(1024 * 1024);
  Dict& d = fx.dict;
  std::string v(100, 'v');
  int n = 0;
  while (set(d, "key" + std::to_string(n), v, Dict::kOpSafe) == Rc::kOk) n++;
  for (int i = 0; i < n; i += 2) {
    bool f;
    d.store(0, "key" + std::to_string(i), ValueType::kNil, {}, 0, 0, 0, &f, kNow);
  }
  size_t free = d.freeSpace();
  EXPECT_GT(free, 400000u);
  std::string big(free - 3, 'B');  // key "big" + value == free space
  EXPECT_EQ(set(d, "big", big, Dict::kOpSafe), Rc::kOk);
  EXPECT_EQ(d.freeSpace(), 0u);
  EXPECT_TRUE(getStr(d, "big") == big);
  EXPECT_EQ(d.check(), "");
}

TEST(Dict, ListsPushPopInPlace) {
  Fixture fx(64 * 1024);
  Dict& d = fx.dict;
  int64_t len;
  for (int i = 0; i < 50; i++) {
    ASSERT_EQ(d.push("q", false, ValueType::kString, "item" + std::to_string(i), 0, &len, kNow),
              Rc::kOk);
  }
  EXPECT_EQ(len, 50);
  ValueType t;
  std::string s;
  double num;
  EXPECT_EQ(d.pop("q", true, &t, &s, &num, kNow), Rc::kOk);
  EXPECT_EQ(s, "item0");
  EXPECT_EQ(d.pop("q", false, &t, &s, &num, kNow), Rc::kOk);
  EXPECT_EQ(s, "item49");
  EXPECT_EQ(d.llen("q", &len, kNow), Rc::kOk);
  EXPECT_EQ(len, 48);
  EXPECT_EQ(d.check(), "");
  set(d, "v", "x");
  EXPECT_EQ(d.push("v", true, ValueType::kNumber, {}, 1, &len, kNow), Rc::kNotList);
}

// A queue used forever (rpush + lpop, a few items live) stays small: the
// popped-off prefix is compacted away, pushes append in place.
TEST(Dict, QueueDoesNotGrow) {
  Fixture fx(64 * 1024);
  Dict& d = fx.dict;
  int64_t len;
  ValueType t;
  std::string s;
  double num;
  for (int i = 0; i < 10; i++) d.push("q", false, ValueType::kString, "x", 0, &len, kNow);
  size_t free0 = d.freeSpace();
  for (int i = 0; i < 100000; i++) {
    ASSERT_EQ(d.push("q", false, ValueType::kString, std::string(40, 'a' + i % 26), 0, &len, kNow),
              Rc::kOk)
        << i;
    ASSERT_EQ(d.pop("q", true, &t, &s, &num, kNow), Rc::kOk);
  }
  EXPECT_EQ(len, 11);
  EXPECT_GT(d.freeSpace() + 8192, free0);  // at most the 4 KiB compaction slack and a block
  EXPECT_EQ(d.check(), "");
  EXPECT_EQ(d.llen("q", &len, kNow), Rc::kOk);
  EXPECT_EQ(len, 10);
}

// A process killed inside a write (lock held, blocks taken, LRU half
// relinked) leaves the dict usable: the next locker repairs it.
TEST(Dict, SurvivesAWriterKilledMidWrite) {
  Fixture fx(256 * 1024);
  Dict& d = fx.dict;
  for (int i = 0; i < 200; i++) set(d, "k" + std::to_string(i), std::string(i, 'x'));
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    d.debugBeginWrite();
    d.debugScribble("torn");
    ::raise(SIGKILL);
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(set(d, "after", "crash"), Rc::kOk);  // repairs first
  EXPECT_EQ(d.stats().repairs, 1u);
  EXPECT_EQ(d.check(), "");
  for (int i = 0; i < 200; i++) EXPECT_EQ(getStr(d, "k" + std::to_string(i)), std::string(i, 'x'));
  EXPECT_EQ(getStr(d, "torn"), "<nil>");
  EXPECT_EQ(getStr(d, "after"), "crash");
}

// Reused zone memory keeps its contents (HUP with the same name and size).
TEST(Dict, AttachWithReuseKeepsContents) {
  Fixture fx(64 * 1024);
  set(fx.dict, "k", "kept");
  Dict again;
  std::string err;
  ASSERT_TRUE(again.attach(fx.zone->addr(), fx.zone->size(), true, &err));
  EXPECT_EQ(getStr(again, "k"), "kept");
  Dict fresh;
  ASSERT_TRUE(fresh.attach(fx.zone->addr(), fx.zone->size(), false, &err));
  EXPECT_EQ(getStr(fresh, "k"), "<nil>");
}

TEST(ZoneTable, ReusesSameNameAndSizeOnly) {
  ZoneTable first;
  std::string err;
  int tag = 0;
  ZonePtr a = first.add("a", 8192, &tag, &err);
  ZonePtr b = first.add("b", 8192, &tag, &err);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(first.add("a", 16384, &tag, &err), nullptr);
  EXPECT_EQ(err,
            "the size 16384 of shared memory zone \"a\" conflicts with already declared size 8192");
  int other = 0;
  EXPECT_EQ(first.add("a", 8192, &other, &err), nullptr);
  EXPECT_EQ(err, "the shared memory zone \"a\" is already declared for a different use");
  ZoneTable second;
  second.inheritFrom(&first);
  ZonePtr a2 = second.add("a", 8192, &tag, &err);
  ZonePtr b2 = second.add("b", 16384, &tag, &err);
  EXPECT_EQ(a2, a);
  EXPECT_TRUE(a2->reused());
  EXPECT_NE(b2, b);
  EXPECT_FALSE(b2->reused());
}

// Random operations against a model map; the structure is checked after
// every step. Evictions (reported by forcible) may drop model keys.
struct ModelValue {
  ValueType type;
  std::string str;
  double num;
  uint64_t expires;
};

TEST(Dict, RandomOperationsMatchAModel) {
  for (size_t size : {16u * 1024, 64u * 1024}) {
    Fixture fx(size);
    Dict& d = fx.dict;
    std::map<std::string, ModelValue> model;
    std::mt19937 rng(size);
    uint64_t now = kNow;
    auto live = [&](const std::string& k) {
      auto it = model.find(k);
      return it != model.end() && (it->second.expires == 0 || it->second.expires >= now);
    };
    for (int step = 0; step < 6000; step++) {
      std::string key = "k" + std::to_string(rng() % 60);
      int op = static_cast<int>(rng() % 10);
      bool forcible = false;
      now += rng() % 3;
      if (op <= 2) {  // set / safe_set / add of a string
        std::string v(rng() % (op == 0 ? 900 : 300), static_cast<char>('a' + rng() % 26));
        int sop = op == 0 ? 0 : op == 1 ? Dict::kOpSafe : Dict::kOpAdd;
        int64_t ttl = rng() % 4 == 0 ? static_cast<int64_t>(rng() % 20) + 1 : 0;
        Rc rc = set(d, key, v, sop, ttl, &forcible, now);
        if (sop == Dict::kOpAdd && live(key)) {
          ASSERT_EQ(rc, Rc::kExists);
        } else if (rc == Rc::kOk) {
          model[key] = {ValueType::kString, v, 0, ttl ? now + ttl : 0};
        } else {
          ASSERT_EQ(rc, Rc::kNoMemory);
          model.erase(key);  // the old item made room first, or is gone
        }
      } else if (op == 3) {  // delete
        d.store(0, key, ValueType::kNil, {}, 0, 0, 0, &forcible, now);
        model.erase(key);
      } else if (op == 4) {  // incr with init
        double v = static_cast<double>(rng() % 10);
        bool wasNumber = live(key) && model[key].type == ValueType::kNumber;
        bool wasOther = live(key) && !wasNumber;
        Rc rc = d.incr(key, &v, true, 1, 0, &forcible, now);
        if (wasOther) {
          ASSERT_EQ(rc, Rc::kNotNumber);
        } else if (rc == Rc::kOk) {
          double expect = wasNumber ? model[key].num : 1;
          ASSERT_EQ(v, expect + (v - expect));
          uint64_t exp = wasNumber ? model[key].expires : 0;
          model[key] = {ValueType::kNumber, "", v, exp};
        } else {
          ASSERT_EQ(rc, Rc::kNoMemory);
          model.erase(key);
        }
      } else if (op == 5) {  // rpush / lpop
        std::string lkey = "list" + std::to_string(rng() % 3);
        int64_t len;
        int r = static_cast<int>(rng() % 4);
        if (r < 2) {
          d.push(lkey, r == 1, ValueType::kString, std::string(rng() % 300, 'l'), 0, &len, now);
        } else if (r == 2 && rng() % 2) {
          ValueType t;
          std::string s;
          double num;
          d.pop(lkey, false, &t, &s, &num, now);
        } else {
          ValueType t;
          std::string s;
          double num;
          d.pop(lkey, true, &t, &s, &num, now);
        }
      } else if (op == 6) {
        int64_t ms = static_cast<int64_t>(rng() % 10);
        if (d.expire(key, ms, now) == Rc::kOk && model.count(key)) {
          model[key].expires = ms ? now + ms : 0;
        }
      } else if (op == 7 && rng() % 20 == 0) {
        d.flushExpired(static_cast<int>(rng() % 5), now);
        for (auto it = model.begin(); it != model.end();) {
          // flush_expired may have freed some expired items
          bool st;
          bool gone = getStr(d, it->first, now, true, &st) == "<nil>";
          ASSERT_TRUE(!gone || (it->second.expires != 0 && it->second.expires <= now));
          it = gone ? model.erase(it) : ++it;
        }
      }
      if (forcible) {
        // Evicted items leave the model.
        for (auto it = model.begin(); it != model.end();) {
          bool st;
          std::string got = getStr(d, it->first, now, true, &st);
          it = got == "<nil>" ? model.erase(it) : ++it;
        }
      }
      std::string problem = d.check();
      ASSERT_EQ(problem, "") << "after step " << step << " op " << op;
      // Every live model key reads back; expired ones do not.
      for (auto& [k, mv] : model) {
        std::string got = getStr(d, k, now);
        bool expired = mv.expires != 0 && mv.expires < now;
        if (expired) {
          // may be reclaimed already; never visible
          ASSERT_EQ(got, "<nil>") << k;
          continue;
        }
        if (got == "<nil>" && forcible) continue;
        if (mv.type == ValueType::kString) {
          ASSERT_EQ(got, mv.str) << "key " << k << " step " << step;
        } else {
          ASSERT_EQ(got, "#" + std::to_string(mv.num)) << "key " << k << " step " << step;
        }
      }
    }
  }
}

}  // namespace
}  // namespace lunet::shm
