// The directive engine: context and arity checks, generic setters, merging,
// with the core module's real directive table.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "conf/module.h"
#include "conf/parser.h"
#include "process/cycle.h"

namespace {

using lunet::conf::ConfError;
using lunet::process::loadCycle;
using lunet::process::Options;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lunet-engine-XXXXXX";
    dir_ = mkdtemp(tmpl);
    mkdir((dir_ + "/conf").c_str(), 0755);
    mkdir((dir_ + "/logs").c_str(), 0755);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  lunet::process::CyclePtr load(const std::string& text) {
    std::ofstream(dir_ + "/conf/nginx.conf") << text;
    Options o;
    o.prefix = dir_ + "/";
    o.confFile = dir_ + "/conf/nginx.conf";
    o.errorLog = dir_ + "/logs/error.log";
    return loadCycle(o);
  }
  // The nginx message ("... in FILE:LINE") a bad config produces.
  std::string error(const std::string& text) {
    try {
      load(text);
    } catch (const ConfError& e) {
      return e.full();
    }
    return "no error";
  }
  std::string at(int line) { return " in " + dir_ + "/conf/nginx.conf:" + std::to_string(line); }

  std::string dir_;
};

TEST_F(EngineTest, Defaults) {
  auto c = load("events {}\n");
  const auto& cc = c->core();
  EXPECT_EQ(cc.workerProcesses, 1);
  EXPECT_EQ(cc.daemon, 1);
  EXPECT_EQ(cc.masterProcess, 1);
  EXPECT_EQ(*cc.pid, "logs/nginx.pid");
  EXPECT_EQ(cc.workerConnections, 512);
}

TEST_F(EngineTest, CoreDirectives) {
  auto c = load(
      "worker_processes 3;\ndaemon off;\nmaster_process off;\npid logs/x.pid;\n"
      "env FOO;\nenv BAR=baz;\nworker_shutdown_timeout 1m30s;\nworker_rlimit_nofile 4096;\n"
      "events { worker_connections 64; accept_mutex off; use epoll; }\n");
  const auto& cc = c->core();
  EXPECT_EQ(cc.workerProcesses, 3);
  EXPECT_EQ(cc.daemon, 0);
  EXPECT_EQ(cc.masterProcess, 0);
  EXPECT_EQ(*cc.pid, "logs/x.pid");
  ASSERT_EQ(cc.env.size(), 2u);
  EXPECT_EQ(cc.env[0].first, "FOO");
  EXPECT_FALSE(cc.env[0].second.has_value());
  EXPECT_EQ(*cc.env[1].second, "baz");
  EXPECT_EQ(cc.shutdownTimeout, 90000);
  EXPECT_EQ(cc.rlimitNofile, 4096);
  EXPECT_EQ(cc.workerConnections, 64);
}

TEST_F(EngineTest, WorkerProcessesAuto) {
  auto c = load("worker_processes auto;\n");
  EXPECT_EQ(c->core().workerProcesses, sysconf(_SC_NPROCESSORS_ONLN));
}

TEST_F(EngineTest, UnknownDirective) {
  EXPECT_EQ(error("events {}\nfoo bar;\n"), "unknown directive \"foo\"" + at(2));
}

TEST_F(EngineTest, NotAllowedHere) {
  EXPECT_EQ(error("events { worker_processes 2; }\n"),
            "\"worker_processes\" directive is not allowed here" + at(1));
  EXPECT_EQ(error("worker_connections 5;\n"),
            "\"worker_connections\" directive is not allowed here" + at(1));
}

TEST_F(EngineTest, InvalidNumberOfArguments) {
  EXPECT_EQ(error("\ndaemon;\n"), "invalid number of arguments in \"daemon\" directive" + at(2));
  EXPECT_EQ(error("worker_processes 1 2;\n"),
            "invalid number of arguments in \"worker_processes\" directive" + at(1));
}

TEST_F(EngineTest, BlockShape) {
  EXPECT_EQ(error("events;\n"), "directive \"events\" has no opening \"{\"" + at(1));
  EXPECT_EQ(error("daemon off { }\n"), "directive \"daemon\" is not terminated by \";\"" + at(1));
}

TEST_F(EngineTest, FlagValues) {
  EXPECT_EQ(
      error("daemon maybe;\n"),
      "invalid value \"maybe\" in \"daemon\" directive, it must be \"on\" or \"off\"" + at(1));
}

TEST_F(EngineTest, Duplicates) {
  EXPECT_EQ(error("daemon on;\ndaemon off;\n"), "\"daemon\" directive is duplicate" + at(2));
  EXPECT_EQ(error("events {}\nevents {}\n"), "\"events\" directive is duplicate" + at(2));
}

TEST_F(EngineTest, CommandLineDirectives) {
  std::ofstream(dir_ + "/conf/nginx.conf") << "worker_processes 2;\n";
  Options o;
  o.prefix = dir_ + "/";
  o.confFile = dir_ + "/conf/nginx.conf";
  o.directives = "daemon off; master_process off;";
  auto c = loadCycle(o);
  EXPECT_EQ(c->core().daemon, 0);
  EXPECT_EQ(c->core().masterProcess, 0);
  o.directives = "daemon off";
  try {
    loadCycle(o);
    FAIL() << "expected an error";
  } catch (const ConfError& e) {
    EXPECT_EQ(e.full(), "unexpected end of parameter, expecting \";\" in command line");
  }
  o.directives = "daemon off; daemon on;";
  try {
    loadCycle(o);
    FAIL() << "expected an error";
  } catch (const ConfError& e) {
    EXPECT_EQ(e.full(), "\"daemon\" directive is duplicate in command line");
  }
}

TEST_F(EngineTest, ErrorLogLevels) {
  auto c = load("error_log logs/a.log debug;\nerror_log stderr warn;\n");
  ASSERT_EQ(c->errorLog.sinks().size(), 2u);
  EXPECT_EQ(c->errorLog.sinks()[0].path, dir_ + "/logs/a.log");
  EXPECT_EQ(c->errorLog.sinks()[0].level, lunet::core::Level::kDebug);
  EXPECT_EQ(c->errorLog.maxLevel(), lunet::core::Level::kDebug);
  EXPECT_EQ(error("error_log logs/a.log loud;\n"), "invalid log level \"loud\"" + at(1));
}

TEST(ValueParsers, Times) {
  lunet::conf::ConfNode n;
  n.name = "t";
  auto ms = [&](const char* v) {
    n.args = {{v, false}};
    return lunet::conf::parseMsec(n, 0);
  };
  EXPECT_EQ(ms("68000ms"), 68000);
  EXPECT_EQ(ms("60"), 60000);
  EXPECT_EQ(ms("1m30s"), 90000);
  EXPECT_EQ(ms("2h"), 7200000);
  EXPECT_EQ(ms("1d"), 86400000);
  EXPECT_THROW(ms("abc"), ConfError);
  EXPECT_THROW(ms("5x"), ConfError);
}

TEST(ValueParsers, Sizes) {
  lunet::conf::ConfNode n;
  n.name = "s";
  auto sz = [&](const char* v) {
    n.args = {{v, false}};
    return lunet::conf::parseSize(n, 0);
  };
  EXPECT_EQ(sz("30M"), 30 * 1024 * 1024);
  EXPECT_EQ(sz("4k"), 4096);
  EXPECT_EQ(sz("100"), 100);
  EXPECT_EQ(sz("1g"), 1024LL * 1024 * 1024);
  EXPECT_THROW(sz("k"), ConfError);
  EXPECT_THROW(sz("1.5m"), ConfError);
}

TEST(Merge, ValuesAndOptionals) {
  int64_t child = -1, parent = 5;
  lunet::conf::mergeValue<int64_t>(child, parent, 7);
  EXPECT_EQ(child, 5);
  child = -1;
  parent = -1;
  lunet::conf::mergeValue<int64_t>(child, parent, 7);
  EXPECT_EQ(child, 7);
  child = 3;
  lunet::conf::mergeValue<int64_t>(child, 5, 7);
  EXPECT_EQ(child, 3);
  std::optional<std::string> c, p = "x";
  lunet::conf::mergeOpt(c, p, "d");
  EXPECT_EQ(*c, "x");
  std::optional<std::string> c2, p2;
  lunet::conf::mergeOpt(c2, p2, "d");
  EXPECT_EQ(*c2, "d");
}

}  // namespace
