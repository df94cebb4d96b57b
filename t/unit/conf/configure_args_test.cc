#include "conf/configure_args.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

using lunet::conf::allModules;
using lunet::conf::configureArguments;
using lunet::conf::Module;
using lunet::conf::NginxModuleKind;
using lunet::conf::provides;
using lunet::conf::standardNginxModules;
using lunet::conf::unknownNginxModules;

namespace {

std::set<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::set<std::string> out;
  std::string w;
  while (in >> w) out.insert(w);
  return out;
}

// The real line, checked entry by entry against the real module table.
TEST(ConfigureArgs, MatchesModuleTable) {
  auto modules = allModules();
  std::set<std::string> got = words(configureArguments(modules, "/usr/local/lunet/"));
  std::set<std::string> want = {"--prefix=/usr/local/lunet/"};
  for (const auto& nm : standardNginxModules()) {
    bool has = provides(modules, nm.name);
    if (nm.kind == NginxModuleKind::kOptional && has) want.insert("--with-" + std::string(nm.name));
    if (nm.kind == NginxModuleKind::kDefault && !has) {
      want.insert("--without-" + std::string(nm.name));
    }
  }
  EXPECT_EQ(got, want);
}

// Every name a module claims is a real configure name (a typo would make a
// module silently count as missing).
TEST(ConfigureArgs, ModulesClaimOnlyKnownNames) {
  EXPECT_EQ(unknownNginxModules(allModules()), std::vector<std::string>{});
}

// What harnesses look for today, spelled out: stub_status is claimed, TLS is
// not, and modules Lunet lacks say --without-.
TEST(ConfigureArgs, TellsTheTruthToday) {
  std::set<std::string> got = words(configureArguments(allModules(), "/p/"));
  EXPECT_TRUE(got.count("--with-http_stub_status_module"));
  EXPECT_TRUE(got.count("--with-pcre-jit"));
  EXPECT_FALSE(got.count("--with-http_ssl_module"));
  EXPECT_FALSE(got.count("--with-threads"));
  EXPECT_FALSE(got.count("--without-http_rewrite_module"));
  EXPECT_FALSE(got.count("--without-http_access_module"));
  EXPECT_FALSE(got.count("--without-http_map_module"));
  EXPECT_FALSE(got.count("--without-http_auth_basic_module"));
  EXPECT_FALSE(got.count("--without-http_geo_module"));
  EXPECT_FALSE(got.count("--without-http_split_clients_module"));
  EXPECT_FALSE(got.count("--without-http_referer_module"));
  EXPECT_TRUE(got.count("--with-http_secure_link_module"));
  EXPECT_TRUE(got.count("--with-http_realip_module"));
  EXPECT_FALSE(got.count("--without-http"));
  EXPECT_FALSE(got.count("--without-pcre"));
  EXPECT_FALSE(got.count("--without-http_proxy_module"));
  EXPECT_FALSE(got.count("--without-http_upstream_keepalive_module"));
  for (const char* w : {"--without-http_upstream_hash_module", "--without-http_autoindex_module",
                        "--without-http_charset_module",
                        "--without-http-cache", "--without-http_fastcgi_module"}) {
    EXPECT_TRUE(got.count(w)) << w;
  }
}

// A module flips its own entry by naming it.
TEST(ConfigureArgs, ModuleFlipsItsEntry) {
  const Module proxy{.name = "fake_proxy",
                     .type = lunet::conf::ModuleType::kHttp,
                     .directives = {},
                     .nginxModules = "http_proxy_module http_upstream_keepalive_module"};
  const Module tls{.name = "fake_tls",
                   .type = lunet::conf::ModuleType::kHttp,
                   .directives = {},
                   .nginxModules = "http_ssl_module"};
  const Module* none[] = {&proxy};
  std::set<std::string> before = words(configureArguments({}, "/p/"));
  EXPECT_TRUE(before.count("--without-http_proxy_module"));
  EXPECT_TRUE(before.count("--without-http"));
  std::set<std::string> after = words(configureArguments(none, "/p/"));
  EXPECT_FALSE(after.count("--without-http_proxy_module"));
  EXPECT_FALSE(after.count("--without-http_upstream_keepalive_module"));
  EXPECT_TRUE(after.count("--without-http_upstream_hash_module"));
  const Module* withTls[] = {&proxy, &tls};
  EXPECT_TRUE(words(configureArguments(withTls, "/p/")).count("--with-http_ssl_module"));
  const Module typo{.name = "typo",
                    .type = lunet::conf::ModuleType::kHttp,
                    .directives = {},
                    .nginxModules = "http_prxy_module"};
  const Module* bad[] = {&typo};
  EXPECT_EQ(unknownNginxModules(bad), std::vector<std::string>{"http_prxy_module"});
}

}  // namespace
