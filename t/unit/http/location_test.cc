// Location matcher: loads a real configuration and checks which location a
// URI selects (the precedence table of nginx's docs).
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "http/connection.h"
#include "http/core_module.h"
#include "process/cycle.h"

namespace lunet::http {
namespace {

class LocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/lunet_loc_test_" + std::to_string(::getpid());
    std::string cmd = "mkdir -p " + dir_ + "/conf " + dir_ + "/logs";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::ofstream(dir_ + "/conf/nginx.conf") << R"(
events {}
http {
  access_log off;
  server {
    listen 127.0.0.1:1;
    location = / { root exact_root; }
    location / { root prefix_root; }
    location /documents/ { root docs; }
    location ^~ /images/ { root images; }
    location ~* \.(gif|jpg|jpeg)$ { root regex; }
    location /nest/ {
      root nest;
      location ~ \.txt$ { root nest_regex; }
    }
    location @named { root named; }
  }
}
)";
    process::Options o;
    o.prefix = dir_ + "/";
    o.confFile = dir_ + "/conf/nginx.conf";
    cycle_ = process::loadCycle(o);
    process::setCurrentCycle(cycle_.get());
    auto* cmcf = cycle_->conf<HttpCoreMain>(httpCoreModule());
    srv_ = cmcf->servers.at(0);
  }
  void TearDown() override {
    process::setCurrentCycle(nullptr);
    cycle_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }
  std::string match(std::string_view uri) {
    Request r(nullptr);
    r.srvConf = srv_->level;
    r.uri = uri;
    findLocation(r);
    return *r.clcf()->root;
  }
  std::string dir_;
  process::CyclePtr cycle_;
  HttpCoreSrv* srv_ = nullptr;
};

TEST_F(LocationTest, NginxDocsTable) {
  EXPECT_EQ(match("/"), "exact_root");
  EXPECT_EQ(match("/index.html"), "prefix_root");
  EXPECT_EQ(match("/documents/document.html"), "docs");
  EXPECT_EQ(match("/images/1.gif"), "images");
  EXPECT_EQ(match("/documents/1.jpg"), "regex");
  EXPECT_EQ(match("/nest/a.txt"), "nest_regex");
  EXPECT_EQ(match("/nest/a.html"), "nest");
  EXPECT_EQ(match("/@named"), "prefix_root");  // named locations never match a uri
}

}  // namespace
}  // namespace lunet::http
