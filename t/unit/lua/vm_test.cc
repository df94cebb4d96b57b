// The VM: package paths, embedded modules, cjson, and the request-independent
// ngx API (time, encoding, hashes, args, constants, sleep through the loop).
#include "lua/vm.h"

#include <gtest/gtest.h>

#include <string>

#include "event/loop.h"
#include "lua/context.h"

namespace lunet::lua {
namespace {

class VmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (event::loop() == nullptr) event::createLoop();
    std::string err;
    VmOptions opts;
    opts.prefix = "/srv/";
    vm = Vm::create(opts, &err);
    ASSERT_TRUE(vm) << err;
    L = vm->state();
  }
  void TearDown() override {
    vm.reset();
    uv_run(event::loop(), UV_RUN_NOWAIT);
  }

  // Runs `code` in the init context and returns its string result.
  std::string eval(const std::string& code) {
    ScopedRunCtx ctx(kInit, nullptr);
    if (luaL_loadstring(L, code.c_str()) != 0 || lua_pcall(L, 0, 1, 0) != 0) {
      std::string e = "ERROR: " + std::string(lua_tostring(L, -1));
      lua_pop(L, 1);
      return e;
    }
    std::string r = lua_isstring(L, -1) ? lua_tostring(L, -1) : luaL_typename(L, -1);
    lua_pop(L, 1);
    return r;
  }

  std::unique_ptr<Vm> vm;
  lua_State* L = nullptr;
};

TEST(PackagePath, DoubleSemicolonMeansDefault) {
  EXPECT_EQ("/a/?.lua;/d/?.lua;", expandPackagePath("/a/?.lua;;", "/d/?.lua", "/p/"));
  EXPECT_EQ("/p/lib/?.lua;/p/x/?.lua",
            expandPackagePath("$prefix/lib/?.lua;${prefix}/x/?.lua", "", "/p"));
}

TEST(ChunkName, OpenRestyStyle) {
  EXPECT_EQ("=content_by_lua(nginx.conf:45)",
            inlineChunkName("content_by_lua", "/x/conf/nginx.conf", 45));
  EXPECT_EQ("=content_by_lua(../html/a.conf:2)",
            inlineChunkName("content_by_lua", "/x/conf/../html/a.conf", 2, "/x/conf/"));
  EXPECT_EQ("=set_by_lua(/y/b.conf:7)", inlineChunkName("set_by_lua", "/y/b.conf", 7, "/x/conf/"));
  // Too long for short_src: the tail of the file name is kept.
  std::string name = inlineChunkName(
      "content_by_lua", "/x/conf/../html/a_very_long_configuration_file_name_that_goes_on.conf", 12,
      "/x/conf/");
  EXPECT_EQ("=content_by_lua(...iguration_file_name_that_goes_on.conf:12)", name);
  EXPECT_EQ(static_cast<size_t>(LUA_IDSIZE), name.size());
}

TEST_F(VmTest, EmbeddedModulesAndCjson) {
  EXPECT_EQ("table", eval("return type(require 'resty.core')"));
  EXPECT_EQ("0", eval("return require('resty.core.base').FFI_OK"));
  EXPECT_EQ("{\"a\":1}", eval("return require('cjson').encode({a = 1})"));
  EXPECT_EQ("table", eval("return type(package.loaded.ngx)"));
}

TEST_F(VmTest, Constants) {
  EXPECT_EQ("0 -1 -2 -4 -5", eval("return table.concat({ngx.OK, ngx.ERROR, ngx.AGAIN, ngx.DONE, "
                                  "ngx.DECLINED}, ' ')"));
  EXPECT_EQ("404 500 4 8", eval("return table.concat({ngx.HTTP_NOT_FOUND, "
                                "ngx.HTTP_INTERNAL_SERVER_ERROR, ngx.ERR, ngx.DEBUG}, ' ')"));
  EXPECT_EQ("userdata", eval("return type(ngx.null)"));
  EXPECT_EQ("http 1027000 /srv/",
            eval("return ngx.config.subsystem .. ' ' .. ngx.config.nginx_version .. ' ' .. "
                 "ngx.config.prefix()"));
  EXPECT_EQ("init", eval("return ngx.get_phase()"));
}

TEST_F(VmTest, Encoding) {
  EXPECT_EQ("a%20b%2Fc~", eval("return ngx.escape_uri('a b/c~')"));
  EXPECT_EQ("a b/c d", eval("return ngx.unescape_uri('a%20b%2Fc+d')"));
  EXPECT_EQ("aGVsbG8=", eval("return ngx.encode_base64('hello')"));
  EXPECT_EQ("aGVsbG8", eval("return ngx.encode_base64('hello', true)"));
  EXPECT_EQ("hello", eval("return ngx.decode_base64('aGVsbG8=')"));
  EXPECT_EQ("nil", eval("return tostring(ngx.decode_base64('a#'))"));
  EXPECT_EQ("5d41402abc4b2a76b9719d911017c592", eval("return ngx.md5('hello')"));
  EXPECT_EQ("16", eval("return #ngx.md5_bin('hello')"));
  EXPECT_EQ("20", eval("return #ngx.sha1_bin('hello')"));
  EXPECT_EQ("20", eval("return #ngx.hmac_sha1('k', 'hello')"));
  EXPECT_EQ("907060870", eval("return string.format('%d', ngx.crc32_short('hello'))"));
  EXPECT_EQ("'a\\'b\\\\c\\n'", eval("return ngx.quote_sql_str(\"a'b\\\\c\\n\")"));
}

TEST_F(VmTest, Args) {
  EXPECT_EQ("b%20r=hello%20world", eval("return ngx.encode_args({['b r'] = 'hello world'})"));
  EXPECT_EQ("a=1&a=2", eval("return ngx.encode_args({a = {1, 2}})"));
  EXPECT_EQ("flag", eval("return ngx.encode_args({flag = true, off = false})"));
  EXPECT_EQ("1 2 true x y",
            eval("local t = ngx.decode_args('a=1&a=2&b&c=x+y') "
                 "return t.a[1] .. ' ' .. t.a[2] .. ' ' .. tostring(t.b) .. ' ' .. t.c"));
  EXPECT_EQ("1", eval("local n = 0 for _ in pairs(ngx.decode_args('a=1&b=2', 1)) do n = n + 1 "
                      "end return n"));
}

TEST_F(VmTest, Time) {
  EXPECT_EQ("Thu, 01 Jan 1970 00:00:00 GMT", eval("return ngx.http_time(0)"));
  EXPECT_EQ("Thu, 01-Jan-70 00:00:00 GMT", eval("return ngx.cookie_time(0)"));
  EXPECT_EQ("784111777", eval("return string.format('%d', "
                              "ngx.parse_http_time('Sun, 06 Nov 1994 08:49:37 GMT'))"));
  EXPECT_EQ("true", eval("return tostring(math.abs(ngx.now() - ngx.time()) < 2)"));
  EXPECT_EQ("19", eval("return #ngx.localtime()"));
  EXPECT_EQ("10", eval("return #ngx.today()"));
}

TEST_F(VmTest, PhaseRules) {
  EXPECT_EQ("ERROR: no request found", eval("return ngx.sleep(1)"));
  // Outside any phase there is no (fake) request for a timer either.
  EXPECT_EQ("ERROR: no request", eval("return ngx.timer.at(0, function() end)"));
}

TEST_F(VmTest, SleepYieldsToTheLoop) {
  Scheduler& s = vm->scheduler();
  EntryThread* t = s.acquire();
  t->phase = kContent;
  static int finished = 0;
  finished = 0;
  t->onFinish = [](EntryThread*, RunStatus st) noexcept {
    if (st == RunStatus::kDone) finished++;
  };
  ASSERT_EQ(0, luaL_loadstring(t->state(), "local t0 = ngx.now() ngx.sleep(0.01) return 1"));
  EXPECT_EQ(RunStatus::kSuspended, s.run(t, 0));
  uv_run(event::loop(), UV_RUN_DEFAULT);
  EXPECT_EQ(1, finished);
  s.release(t);
}

}  // namespace
}  // namespace lunet::lua
