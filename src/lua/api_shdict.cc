// ngx.shared.DICT: the lua_shared_dict directive, the dict objects handed to
// Lua, the FFI hot paths (lua/resty/core/shdict.lua) and the C functions of
// the rest of the API (lists, get_keys, flush_expired), plus lunet.shdict.
//
// A dict object is lua-nginx-module's shape: a table whose [1] is a light
// userdata (here the process-local shm::Dict view of the zone) with the
// shared methods table as its metatable's __index.
#include <cstring>
#include <string>
#include <vector>

#include "conf/cycle.h"
#include "core/time.h"
#include "lua/api.h"
#include "lua/context.h"
#include "lua/module.h"
#include "shm/dict.h"

namespace lunet::lua {

namespace {

constexpr char kMethodsKey[] = "lunet.shdict.methods";
constexpr int kZoneTag = 0;  // zone owner identity (its address)

using shm::Dict;
using shm::Rc;
using shm::ValueType;

// Size as nginx's ngx_parse_size: digits with an optional k/K/m/M.
int64_t parseDictSize(const std::string& v) {
  if (v.empty() || v.size() > 15) return -1;
  int64_t mul = 1;
  size_t n = v.size();
  switch (v.back()) {
    case 'k':
    case 'K':
      mul = 1024;
      n--;
      break;
    case 'm':
    case 'M':
      mul = 1024 * 1024;
      n--;
      break;
    default:
      break;
  }
  if (n == 0) return -1;
  int64_t r = 0;
  for (size_t i = 0; i < n; i++) {
    if (v[i] < '0' || v[i] > '9') return -1;
    r = r * 10 + (v[i] - '0');
  }
  return r * mul;
}

// ---- argument helpers for the C functions (lua-nginx-module's checks) ----

Dict* checkDict(lua_State* L) {
  if (lua_type(L, 1) != LUA_TTABLE) luaL_error(L, "bad \"zone\" argument");
  lua_rawgeti(L, 1, 1);
  auto* d = static_cast<Dict*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  if (d == nullptr) luaL_error(L, "bad \"zone\" argument");
  return d;
}

Dict* checkDictTable(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_rawgeti(L, 1, 1);
  auto* d = static_cast<Dict*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  if (d == nullptr) luaL_error(L, "bad user data for the ngx_shm_zone_t pointer");
  return d;
}

// Returns false after pushing nil, err for a nil/empty/too long key.
bool checkKey(lua_State* L, std::string_view* key) {
  if (lua_isnil(L, 2)) {
    lua_pushnil(L);
    lua_pushliteral(L, "nil key");
    return false;
  }
  size_t len;
  const char* k = luaL_checklstring(L, 2, &len);
  if (len == 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "empty key");
    return false;
  }
  if (len > 65535) {
    lua_pushnil(L);
    lua_pushliteral(L, "key too long");
    return false;
  }
  *key = std::string_view(k, len);
  return true;
}

int pushHelper(lua_State* L, bool left) {
  int n = lua_gettop(L);
  if (n != 3) return luaL_error(L, "expecting 3 arguments, but only seen %d", n);
  Dict* d = checkDict(L);
  std::string_view key;
  if (!checkKey(L, &key)) return 2;
  ValueType type;
  std::string_view str;
  double num = 0;
  switch (lua_type(L, 3)) {
    case LUA_TSTRING: {
      size_t len;
      const char* s = lua_tolstring(L, 3, &len);
      str = std::string_view(s, len);
      type = ValueType::kString;
      break;
    }
    case LUA_TNUMBER:
      num = lua_tonumber(L, 3);
      type = ValueType::kNumber;
      break;
    default:
      lua_pushnil(L);
      lua_pushliteral(L, "bad value type");
      return 2;
  }
  int64_t length = 0;
  Rc rc = d->push(key, left, type, str, num, &length, core::nowMsec());
  if (rc == Rc::kOk) {
    lua_pushnumber(L, static_cast<lua_Number>(length));
    return 1;
  }
  if (rc == Rc::kNotList) {
    lua_pushnil(L);
    lua_pushliteral(L, "value not a list");
    return 2;
  }
  lua_pushboolean(L, 0);
  lua_pushliteral(L, "no memory");
  return 2;
}

int lpush(lua_State* L) { return pushHelper(L, true); }
int rpush(lua_State* L) { return pushHelper(L, false); }

Rc popInto(Dict* d, std::string_view key, bool left, ValueType* type, std::string* s, double* num) {
  try {
    return d->pop(key, left, type, s, num, core::nowMsec());
  } catch (...) {
    return Rc::kNoMemory;
  }
}

int popHelper(lua_State* L, bool left) {
  int n = lua_gettop(L);
  if (n != 2) return luaL_error(L, "expecting 2 arguments, but only seen %d", n);
  Dict* d = checkDict(L);
  std::string_view key;
  if (!checkKey(L, &key)) return 2;
  ValueType type = ValueType::kNil;
  double num = 0;
  Rc rc;
  {
    std::string s;
    rc = popInto(d, key, left, &type, &s, &num);
    if (rc == Rc::kOk && type == ValueType::kString) {
      lua_pushlstring(L, s.data(), s.size());
      return 1;
    }
  }
  switch (rc) {
    case Rc::kOk:
      lua_pushnumber(L, num);
      return 1;
    case Rc::kNotFound:
      lua_pushnil(L);
      return 1;
    case Rc::kNotList:
      lua_pushnil(L);
      lua_pushliteral(L, "value not a list");
      return 2;
    default:
      lua_pushnil(L);
      lua_pushliteral(L, "no memory");
      return 2;
  }
}

int lpop(lua_State* L) { return popHelper(L, true); }
int rpop(lua_State* L) { return popHelper(L, false); }

int llen(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 2) return luaL_error(L, "expecting 2 arguments, but only seen %d", n);
  Dict* d = checkDict(L);
  std::string_view key;
  if (!checkKey(L, &key)) return 2;
  int64_t len = 0;
  if (d->llen(key, &len, core::nowMsec()) == Rc::kNotList) {
    lua_pushnil(L);
    lua_pushliteral(L, "value not a list");
    return 2;
  }
  lua_pushnumber(L, static_cast<lua_Number>(len));
  return 1;
}

int flushExpired(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 1 && n != 2) return luaL_error(L, "expecting 1 or 2 argument(s), but saw %d", n);
  Dict* d = checkDictTable(L);
  int max = n == 2 ? luaL_checkint(L, 2) : 0;
  lua_pushnumber(L, d->flushExpired(max, core::nowMsec()));
  return 1;
}

bool collectKeys(Dict* d, int max, std::vector<std::string>* out) {
  try {
    *out = d->keys(max, core::nowMsec());
    return true;
  } catch (...) {
    return false;
  }
}

int getKeys(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 1 && n != 2) return luaL_error(L, "expecting 1 or 2 argument(s), but saw %d", n);
  Dict* d = checkDictTable(L);
  int max = n == 2 ? luaL_checkint(L, 2) : 1024;
  bool ok;
  {
    std::vector<std::string> keys;
    ok = collectKeys(d, max, &keys);
    if (ok) {
      lua_createtable(L, static_cast<int>(keys.size()), 0);
      int i = 0;
      for (const std::string& k : keys) {
        lua_pushlstring(L, k.data(), k.size());
        lua_rawseti(L, -2, ++i);
      }
      return 1;
    }
  }
  return luaL_error(L, "no memory");
}

// ---- lunet.shdict (extension) ----

Dict* dictByName(lua_State* L) {
  size_t len;
  const char* name = luaL_checklstring(L, 1, &len);
  LuaMainConf* mc = luaMainConf();
  if (mc == nullptr) return nullptr;
  for (const SharedDictConf& sd : mc->dicts) {
    if (sd.name.size() == len && std::memcmp(sd.name.data(), name, len) == 0) {
      return sd.dict.get();
    }
  }
  return nullptr;
}

void setField(lua_State* L, const char* k, uint64_t v) {
  lua_pushnumber(L, static_cast<lua_Number>(v));
  lua_setfield(L, -2, k);
}

int stats(lua_State* L) {
  Dict* d = dictByName(L);
  if (d == nullptr) {
    lua_pushnil(L);
    lua_pushliteral(L, "not found");
    return 2;
  }
  shm::DictStats s = d->stats();
  lua_createtable(L, 0, 10);
  setField(L, "items", s.items);
  setField(L, "bytes_used", s.bytesUsed);
  setField(L, "evictions", s.evictions);
  setField(L, "expired_reclaimed", s.expiredReclaimed);
  setField(L, "lock_waits", s.lockWaits);
  setField(L, "repairs", s.repairs);
  setField(L, "locks", s.locks);
  setField(L, "capacity", s.capacity);
  setField(L, "free_space", s.freeSpace);
  setField(L, "blocks", s.blocks);
  setField(L, "free_blocks", s.freeBlocks);
  setField(L, "buckets", s.buckets);
  setField(L, "slice_buckets", s.sliceBuckets);
  return 1;
}

bool runCheck(Dict* d, std::string* out) {
  try {
    *out = d->check();
    return true;
  } catch (...) {
    return false;
  }
}

int check(lua_State* L) {
  Dict* d = dictByName(L);
  if (d == nullptr) {
    lua_pushnil(L);
    lua_pushliteral(L, "not found");
    return 2;
  }
  {
    std::string problem;
    if (!runCheck(d, &problem)) problem = "no memory";
    if (!problem.empty()) {
      lua_pushnil(L);
      lua_pushlstring(L, problem.data(), problem.size());
      return 2;
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

int openLunetShdict(lua_State* L) {
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, stats);
  lua_setfield(L, -2, "stats");
  lua_pushcfunction(L, check);
  lua_setfield(L, -2, "check");
  return 1;
}

}  // namespace

void setLuaSharedDict(conf::Engine& e, const conf::ConfNode& n, conf::ConfBase* c,
                      const conf::Directive&) {
  auto* mc = static_cast<LuaMainConf*>(c);
  const std::string& name = n.arg(0);
  if (name.empty()) conf::fail(n, "invalid lua shared dict name \"" + name + "\"");
  int64_t size = parseDictSize(n.arg(1));
  if (size <= 8191) conf::fail(n, "invalid lua shared dict size \"" + n.arg(1) + "\"");
  for (const SharedDictConf& sd : mc->dicts) {
    if (sd.name == name) {
      conf::fail(n, "lua_shared_dict \"" + name + "\" is already defined as \"" + sd.name + "\"");
    }
  }
  std::string err;
  shm::ZonePtr zone = e.cycle().zones.add(name, static_cast<size_t>(size), &kZoneTag, &err);
  if (!zone) conf::fail(n, err);
  auto dict = std::make_unique<Dict>();
  if (!dict->attach(zone->addr(), zone->size(), zone->reused(), &err)) conf::fail(n, err);
  mc->dicts.push_back(SharedDictConf{name, std::move(zone), std::move(dict)});
}

void injectShdictApi(lua_State* L) {
  // The methods shared by every dict; resty/core/shdict.lua adds the FFI ones.
  lua_createtable(L, 0, 24);
  lua_pushcfunction(L, lpush);
  lua_setfield(L, -2, "lpush");
  lua_pushcfunction(L, rpush);
  lua_setfield(L, -2, "rpush");
  lua_pushcfunction(L, lpop);
  lua_setfield(L, -2, "lpop");
  lua_pushcfunction(L, rpop);
  lua_setfield(L, -2, "rpop");
  lua_pushcfunction(L, llen);
  lua_setfield(L, -2, "llen");
  lua_pushcfunction(L, flushExpired);
  lua_setfield(L, -2, "flush_expired");
  lua_pushcfunction(L, getKeys);
  lua_setfield(L, -2, "get_keys");
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "__index");
  lua_setfield(L, LUA_REGISTRYINDEX, kMethodsKey);

  lua_newtable(L);
  lua_setfield(L, -2, "shared");

  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, openLunetShdict);
  lua_setfield(L, -2, "lunet.shdict");
  lua_pop(L, 2);
}

void addSharedDicts(lua_State* L, const LuaMainConf& mc) {
  lua_getglobal(L, "ngx");
  lua_getfield(L, -1, "shared");
  lua_getfield(L, LUA_REGISTRYINDEX, kMethodsKey);
  for (const SharedDictConf& sd : mc.dicts) {
    lua_pushlstring(L, sd.name.data(), sd.name.size());
    lua_createtable(L, 1, 0);
    lua_pushlightuserdata(L, sd.dict.get());
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, -3);
    lua_setmetatable(L, -2);
    lua_rawset(L, -4);
  }
  lua_pop(L, 3);
}

}  // namespace lunet::lua

// ---- FFI (lua/resty/core/shdict.lua) ----

using lunet::lua::kFfiDeclined;
using lunet::lua::kFfiError;
using lunet::lua::kFfiOk;

namespace {
constexpr int kFfiAgain = -2;

std::string_view keyOf(const unsigned char* key, size_t len) {
  return std::string_view(reinterpret_cast<const char*>(key), len);
}
}  // namespace

extern "C" int lunet_ffi_shdict_get(void* zone, const unsigned char* key, size_t key_len,
                                    int* value_type, char* buf, size_t* value_len,
                                    double* num_value, int* user_flags, int get_stale,
                                    int* is_stale, const char** err) noexcept {
  auto* d = static_cast<lunet::shm::Dict*>(zone);
  lunet::shm::ValueType type;
  uint32_t flags = 0;
  bool stale = false;
  *err = nullptr;
  lunet::shm::Rc rc = d->get(keyOf(key, key_len), get_stale != 0, &type, buf, value_len, num_value,
                             &flags, &stale, lunet::core::nowMsec());
  if (rc == lunet::shm::Rc::kTooSmall) return kFfiAgain;
  if (rc == lunet::shm::Rc::kIsList) {
    *err = "value is a list";
    return kFfiError;
  }
  *value_type = static_cast<int>(type);
  *user_flags = static_cast<int>(flags);
  *is_stale = stale ? 1 : 0;
  return kFfiOk;
}

extern "C" int lunet_ffi_shdict_store(void* zone, int op, const unsigned char* key, size_t key_len,
                                      int value_type, const unsigned char* str, size_t str_len,
                                      double num, long exptime, int user_flags, const char** err,
                                      int* forcible) noexcept {
  using lunet::shm::Rc;
  auto* d = static_cast<lunet::shm::Dict*>(zone);
  *forcible = 0;
  auto type = static_cast<lunet::shm::ValueType>(value_type);
  std::string_view s;
  if (type == lunet::shm::ValueType::kString) {
    s = std::string_view(reinterpret_cast<const char*>(str), str_len);
  }
  bool forced = false;
  Rc rc = d->store(op, keyOf(key, key_len), type, s, num, exptime,
                   static_cast<uint32_t>(user_flags), &forced, lunet::core::nowMsec());
  *forcible = forced ? 1 : 0;
  switch (rc) {
    case Rc::kOk:
      return kFfiOk;
    case Rc::kExists:
      *err = "exists";
      return kFfiDeclined;
    case Rc::kNotFound:
      *err = "not found";
      return kFfiDeclined;
    case Rc::kNilValue:
      *err = "attempt to add or replace nil values";
      return kFfiError;
    default:
      *err = "no memory";
      return kFfiError;
  }
}

extern "C" int lunet_ffi_shdict_incr(void* zone, const unsigned char* key, size_t key_len,
                                     double* value, const char** err, int has_init, double init,
                                     long init_ttl, int* forcible) noexcept {
  using lunet::shm::Rc;
  auto* d = static_cast<lunet::shm::Dict*>(zone);
  bool forced = false;
  Rc rc = d->incr(keyOf(key, key_len), value, has_init != 0, init, init_ttl, &forced,
                  lunet::core::nowMsec());
  *forcible = forced ? 1 : 0;
  switch (rc) {
    case Rc::kOk:
      return kFfiOk;
    case Rc::kNotFound:
      *err = "not found";
      return kFfiError;
    case Rc::kNotNumber:
      *err = "not a number";
      return kFfiError;
    default:
      *err = "no memory";
      return kFfiError;
  }
}

extern "C" int lunet_ffi_shdict_flush_all(void* zone) noexcept {
  static_cast<lunet::shm::Dict*>(zone)->flushAll(lunet::core::nowMsec());
  return kFfiOk;
}

extern "C" long lunet_ffi_shdict_get_ttl(void* zone, const unsigned char* key,
                                         size_t key_len) noexcept {
  int64_t ms = 0;
  auto* d = static_cast<lunet::shm::Dict*>(zone);
  if (d->ttl(keyOf(key, key_len), &ms, lunet::core::nowMsec()) != lunet::shm::Rc::kOk) {
    return kFfiDeclined;
  }
  // Negative for an expired item not yet reclaimed, as nginx.
  return static_cast<long>(ms);
}

extern "C" int lunet_ffi_shdict_set_expire(void* zone, const unsigned char* key, size_t key_len,
                                           long exptime) noexcept {
  auto* d = static_cast<lunet::shm::Dict*>(zone);
  if (d->expire(keyOf(key, key_len), exptime, lunet::core::nowMsec()) != lunet::shm::Rc::kOk) {
    return kFfiDeclined;
  }
  return kFfiOk;
}

extern "C" size_t lunet_ffi_shdict_capacity(void* zone) noexcept {
  return static_cast<lunet::shm::Dict*>(zone)->capacity();
}

extern "C" size_t lunet_ffi_shdict_free_space(void* zone) noexcept {
  return static_cast<lunet::shm::Dict*>(zone)->freeSpace();
}
