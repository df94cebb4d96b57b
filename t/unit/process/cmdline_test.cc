#include "process/cmdline.h"

#include <gtest/gtest.h>

using lunet::process::CommandLine;
using lunet::process::parseCommandLine;

namespace {

CommandLine parse(std::vector<std::string> args) {
  return parseCommandLine(args, "/home/u/", "/usr/local/lunet/");
}

TEST(CommandLine, Defaults) {
  auto cl = parse({});
  EXPECT_TRUE(cl.error.empty());
  EXPECT_EQ(cl.options.prefix, "/usr/local/lunet/");
  EXPECT_EQ(cl.options.confFile, "/usr/local/lunet/conf/nginx.conf");
  EXPECT_FALSE(cl.options.testOnly);
  EXPECT_TRUE(cl.signal.empty());
}

TEST(CommandLine, PrefixRelativeToCwdConfRelativeToPrefix) {
  auto cl = parse({"-p", "servroot", "-c", "conf/a.conf"});
  EXPECT_EQ(cl.options.prefix, "/home/u/servroot/");
  EXPECT_EQ(cl.options.confFile, "/home/u/servroot/conf/a.conf");
  cl = parse({"-p", "/srv/x", "-c", "/etc/lunet.conf"});
  EXPECT_EQ(cl.options.confFile, "/etc/lunet.conf");
}

TEST(CommandLine, ConfDefaultsUnderPrefix) {
  auto cl = parse({"-p", "/srv/x/"});
  EXPECT_EQ(cl.options.confFile, "/srv/x/conf/nginx.conf");
}

TEST(CommandLine, GluedValues) {
  auto cl = parse({"-p/srv/x", "-cconf/a.conf", "-gdaemon off;"});
  EXPECT_TRUE(cl.error.empty());
  EXPECT_EQ(cl.options.prefix, "/srv/x/");
  EXPECT_EQ(cl.options.confFile, "/srv/x/conf/a.conf");
  EXPECT_EQ(cl.options.directives, "daemon off;");
}

TEST(CommandLine, ErrorLogRelativeToPrefix) {
  auto cl = parse({"-p", "/srv/x", "-e", "logs/e.log"});
  EXPECT_EQ(cl.options.errorLog, "/srv/x/logs/e.log");
  EXPECT_EQ(parse({"-e", "stderr"}).options.errorLog, "stderr");
}

TEST(CommandLine, Flags) {
  auto cl = parse({"-tq"});
  EXPECT_TRUE(cl.options.testOnly);
  EXPECT_TRUE(cl.options.quiet);
  EXPECT_FALSE(cl.dump);
  cl = parse({"-T"});
  EXPECT_TRUE(cl.options.testOnly);
  EXPECT_TRUE(cl.dump);
  cl = parse({"-v"});
  EXPECT_TRUE(cl.showVersion);
  EXPECT_FALSE(cl.showConfigure);
  cl = parse({"-V"});
  EXPECT_TRUE(cl.showConfigure);
  cl = parse({"-h"});
  EXPECT_TRUE(cl.help);
  cl = parse({"-?"});
  EXPECT_TRUE(cl.help);
}

TEST(CommandLine, Signals) {
  for (const char* s : {"stop", "quit", "reopen", "reload"}) {
    auto cl = parse({"-s", s});
    EXPECT_TRUE(cl.error.empty()) << s;
    EXPECT_EQ(cl.signal, s);
  }
  EXPECT_EQ(parse({"-s", "restart"}).error, "invalid option: \"-s restart\"");
}

TEST(CommandLine, Errors) {
  EXPECT_EQ(parse({"-x"}).error, "invalid option: \"x\"");
  EXPECT_EQ(parse({"foo"}).error, "invalid option: \"foo\"");
  EXPECT_EQ(parse({"-c"}).error, "option \"-c\" requires file name");
  EXPECT_EQ(parse({"-p"}).error, "option \"-p\" requires directory name");
  EXPECT_EQ(parse({"-g"}).error, "option \"-g\" requires directives");
  EXPECT_EQ(parse({"-s"}).error, "option \"-s\" requires signal");
}

}  // namespace
