#include "conf/parser.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace lunet::conf {
namespace {

constexpr const char* kFile = "/t/nginx.conf";

std::vector<ConfNode> parse(const std::string& text, const ParseOptions& opts = {}) {
  return parseString(text, kFile, opts);
}

std::string parseError(const std::string& text, const std::string& name = kFile,
                       const ParseOptions& opts = {}) {
  try {
    parseString(text, name, opts);
  } catch (const ConfError& e) {
    return e.full();
  }
  return "(no error)";
}

std::vector<std::string> argValues(const ConfNode& n) {
  std::vector<std::string> out;
  for (const ConfArg& a : n.args) out.push_back(a.value);
  return out;
}

std::vector<std::string> names(const std::vector<ConfNode>& nodes) {
  std::vector<std::string> out;
  for (const ConfNode& n : nodes) out.push_back(n.name);
  return out;
}

using Strings = std::vector<std::string>;

// --- structure ----------------------------------------------------------------

TEST(ParserTest, DirectivesAndArgs) {
  auto nodes = parse("worker_processes 2;\nerror_log logs/error.log  debug;\ndaemon off;");
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].name, "worker_processes");
  EXPECT_EQ(argValues(nodes[0]), Strings{"2"});
  EXPECT_EQ(nodes[0].line, 1);
  EXPECT_EQ(argValues(nodes[1]), (Strings{"logs/error.log", "debug"}));
  EXPECT_EQ(nodes[1].line, 2);
  EXPECT_EQ(nodes[2].line, 3);
  EXPECT_FALSE(nodes[0].block);
  ASSERT_TRUE(nodes[0].file);
  EXPECT_EQ(*nodes[0].file, kFile);
  EXPECT_EQ(nodes[1].where(), "/t/nginx.conf:2");
  EXPECT_EQ(nodes[1].arg(1), "debug");
}

TEST(ParserTest, EmptyInput) {
  EXPECT_TRUE(parse("").empty());
  EXPECT_TRUE(parse("  \n\t# only a comment\n").empty());
}

TEST(ParserTest, NestedBlocks) {
  auto nodes = parse(
      "events { worker_connections 64; }\n"
      "http {\n"
      "  server {\n"
      "    listen 8080;\n"
      "    location = /t {\n"
      "      return 200 ok;\n"
      "    }\n"
      "    location / { }\n"
      "  }\n"
      "}\n");
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_TRUE(nodes[0].block);
  EXPECT_TRUE(nodes[0].args.empty());
  ASSERT_EQ(nodes[0].children.size(), 1u);
  EXPECT_EQ(nodes[0].children[0].name, "worker_connections");
  const ConfNode& server = nodes[1].children.at(0);
  EXPECT_EQ(server.name, "server");
  EXPECT_EQ(server.line, 3);
  EXPECT_EQ(names(server.children), (Strings{"listen", "location", "location"}));
  const ConfNode& loc = server.children[1];
  EXPECT_TRUE(loc.block);
  EXPECT_EQ(argValues(loc), (Strings{"=", "/t"}));
  EXPECT_EQ(loc.line, 5);
  ASSERT_EQ(loc.children.size(), 1u);
  EXPECT_EQ(argValues(loc.children[0]), (Strings{"200", "ok"}));
  EXPECT_EQ(loc.children[0].line, 6);
  EXPECT_TRUE(server.children[2].block);
  EXPECT_TRUE(server.children[2].children.empty());
}

TEST(ParserTest, QuotedArgs) {
  auto nodes = parse("return 200 \"a b\";\nset $x '';\nadd_header X \"\\\"q\\\"\\n\";");
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].args[1].value, "a b");
  EXPECT_TRUE(nodes[0].args[1].quoted);
  EXPECT_FALSE(nodes[0].args[0].quoted);
  ASSERT_EQ(nodes[1].args.size(), 2u);
  EXPECT_EQ(nodes[1].args[1].value, "");
  EXPECT_TRUE(nodes[1].args[1].quoted);
  EXPECT_EQ(nodes[2].arg(1), "\"q\"\n");
}

TEST(ParserTest, QuotedDirectiveName) {
  auto nodes = parse("\"daemon\" off;");
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].name, "daemon");
}

TEST(ParserTest, VariablesWithBraces) {
  auto nodes = parse("location / { set $a ${b}x; return 200 \"${a}\"; }");
  ASSERT_EQ(nodes.size(), 1u);
  ASSERT_EQ(nodes[0].children.size(), 2u);
  EXPECT_EQ(argValues(nodes[0].children[0]), (Strings{"$a", "${b}x"}));
  EXPECT_EQ(nodes[0].children[1].arg(1), "${a}");
}

TEST(ParserTest, IfCondition) {
  auto nodes = parse("if ($request_method = \"POST\") { return 405; }");
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_TRUE(nodes[0].block);
  EXPECT_EQ(argValues(nodes[0]), (Strings{"($request_method", "=", "POST", ")"}));
  EXPECT_TRUE(nodes[0].args[2].quoted);
}

TEST(ParserTest, CommentsAnywhere) {
  auto nodes = parse(
      "# header\n"
      "http { # open\n"
      "  # inside\n"
      "  a 1; # after\n"
      "  b \"# not a comment\" c#d;\n"
      "} # close\n");
  ASSERT_EQ(nodes.size(), 1u);
  ASSERT_EQ(nodes[0].children.size(), 2u);
  EXPECT_EQ(nodes[0].line, 2);
  EXPECT_EQ(nodes[0].children[1].line, 5);
  EXPECT_EQ(argValues(nodes[0].children[1]), (Strings{"# not a comment", "c#d"}));
}

TEST(ParserTest, MultiLineDirectiveLineIsNameLine) {
  auto nodes = parse("\n\nlog_format main\n  '$remote_addr'\n  '$status';\n");
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].line, 3);
  EXPECT_EQ(argValues(nodes[0]), (Strings{"main", "$remote_addr", "$status"}));
}

// --- errors -------------------------------------------------------------------

TEST(ParserErrorTest, UnexpectedCloseBrace) {
  EXPECT_EQ(parseError("a 1;\n}\n"), "unexpected \"}\" in /t/nginx.conf:2");
  EXPECT_EQ(parseError("http { }\n\n}"), "unexpected \"}\" in /t/nginx.conf:3");
  // A `}` ending a directive that has no `;`.
  EXPECT_EQ(parseError("http {\n a 1 }"), "unexpected \"}\" in /t/nginx.conf:2");
  EXPECT_EQ(parseError("http {\n a \"1\"}"), "unexpected \"}\" in /t/nginx.conf:2");
}

TEST(ParserErrorTest, EndOfFileInBlock) {
  EXPECT_EQ(parseError("http {\n  server {\n  }\n"),
            "unexpected end of file, expecting \"}\" in /t/nginx.conf:4");
  EXPECT_EQ(parseError("events {"), "unexpected end of file, expecting \"}\" in /t/nginx.conf:1");
  // `}` glued to a word is part of the word, so the block stays open.
  EXPECT_EQ(parseError("http {\n return 200 ok}\n"),
            "unexpected end of file, expecting \";\" or \"}\" in /t/nginx.conf:3");
}

TEST(ParserErrorTest, EndOfFileInDirective) {
  EXPECT_EQ(parseError("daemon off"),
            "unexpected end of file, expecting \";\" or \"}\" in /t/nginx.conf:1");
  EXPECT_EQ(parseError("http {\n  daemon off\n\n"),
            "unexpected end of file, expecting \";\" or \"}\" in /t/nginx.conf:4");
  EXPECT_EQ(parseError("a \"unterminated;\n"),
            "unexpected end of file, expecting \";\" or \"}\" in /t/nginx.conf:2");
}

TEST(ParserErrorTest, UnexpectedOpenBrace) {
  EXPECT_EQ(parseError("{ a; }"), "unexpected \"{\" in /t/nginx.conf:1");
  EXPECT_EQ(parseError("http {\n\n  { }\n}"), "unexpected \"{\" in /t/nginx.conf:3");
}

TEST(ParserErrorTest, UnexpectedSemicolon) {
  EXPECT_EQ(parseError("a 1;\n;"), "unexpected \";\" in /t/nginx.conf:2");
  EXPECT_EQ(parseError("a 1;;"), "unexpected \";\" in /t/nginx.conf:1");
  EXPECT_EQ(parseError("http {\n}\n;"), "unexpected \";\" in /t/nginx.conf:3");
}

TEST(ParserErrorTest, QuotedStringNotFollowedBySeparator) {
  EXPECT_EQ(parseError("a\n \"b\"c;"), "unexpected \"c\" in /t/nginx.conf:2");
}

TEST(ParserErrorTest, CommandLine) {
  EXPECT_EQ(parseError("daemon off", "command line"),
            "unexpected end of parameter, expecting \";\" in command line");
  EXPECT_EQ(parseError("daemon off; }", "command line"), "unexpected \"}\" in command line");
  EXPECT_EQ(parseError("events {", "command line"),
            "unexpected end of file, expecting \"}\" in command line");
  auto nodes = parseString("daemon off; master_process off;", "command line", {});
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[1].where(), "command line");
}

TEST(ParserErrorTest, ErrorLocationAccessors) {
  try {
    parse("a;\n\n}");
    FAIL() << "no error";
  } catch (const ConfError& e) {
    EXPECT_STREQ(e.what(), "unexpected \"}\"");
    EXPECT_EQ(e.file(), kFile);
    EXPECT_EQ(e.line(), 3);
  }
}

TEST(ConfErrorTest, FullAndFail) {
  EXPECT_EQ(ConfError("boom").full(), "boom");
  EXPECT_EQ(ConfError("boom", "/a.conf", 7).full(), "boom in /a.conf:7");
  EXPECT_EQ(ConfError("boom", "command line", 1).full(), "boom in command line");
  auto nodes = parse("\nworker_processes x;");
  try {
    fail(nodes[0], "invalid value \"x\"");
    FAIL() << "no throw";
  } catch (const ConfError& e) {
    EXPECT_EQ(e.full(), "invalid value \"x\" in /t/nginx.conf:2");
  }
  ConfNode bare;
  EXPECT_EQ(bare.where(), "");
}

// --- Lua blocks ---------------------------------------------------------------

TEST(ParserLuaTest, ContentByLuaBlock) {
  auto nodes = parse(
      "location /t {\n"
      "  content_by_lua_block {\n"
      "    local t = { a = { 1, 2 }, b = \"}\" }\n"
      "    ngx.say('{', t.b, [[}]], [=[ ]] } ]=], [==[ ]=] ]==])  -- }\n"
      "    --[[ } ]] --[==[ { ]==]\n"
      "  }\n"
      "  more 1;\n"
      "}\n");
  ASSERT_EQ(nodes.size(), 1u);
  const auto& kids = nodes[0].children;
  ASSERT_EQ(kids.size(), 2u);
  const ConfNode& lua = kids[0];
  EXPECT_EQ(lua.name, "content_by_lua_block");
  EXPECT_FALSE(lua.block);
  EXPECT_TRUE(lua.children.empty());
  EXPECT_EQ(lua.line, 2);
  EXPECT_EQ(lua.luaLine, 2);
  ASSERT_EQ(lua.args.size(), 1u);
  EXPECT_FALSE(lua.args[0].quoted);
  EXPECT_EQ(lua.arg(0),
            "\n"
            "    local t = { a = { 1, 2 }, b = \"}\" }\n"
            "    ngx.say('{', t.b, [[}]], [=[ ]] } ]=], [==[ ]=] ]==])  -- }\n"
            "    --[[ } ]] --[==[ { ]==]\n"
            "  ");
  EXPECT_EQ(kids[1].name, "more");
  EXPECT_EQ(kids[1].line, 7);
}

TEST(ParserLuaTest, SetByLuaBlockWithArg) {
  auto nodes = parse("set_by_lua_block $res { return 1 }\nnext;");
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(argValues(nodes[0]), (Strings{"$res", " return 1 "}));
  EXPECT_FALSE(nodes[0].block);
  EXPECT_EQ(nodes[1].name, "next");
}

TEST(ParserLuaTest, LuaLineIsLineOfOpeningBrace) {
  auto nodes = parse("\ninit_by_lua_block\n\n{\n  x = 1\n}");
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].line, 2);
  EXPECT_EQ(nodes[0].luaLine, 4);
  EXPECT_EQ(nodes[0].arg(0), "\n  x = 1\n");
}

TEST(ParserLuaTest, AnySuffixedDirectiveAndClosingOuterBlock) {
  auto nodes = parse(
      "upstream b { server 0.0.0.1; balancer_by_lua_block { f{} }}\n"
      "server { ssl_certificate_by_lua_block {\"}\"}}");
  ASSERT_EQ(nodes.size(), 2u);
  ASSERT_EQ(nodes[0].children.size(), 2u);
  EXPECT_EQ(nodes[0].children[1].arg(0), " f{} ");
  EXPECT_EQ(nodes[1].children.at(0).arg(0), "\"}\"");
}

TEST(ParserLuaTest, NoEscapeProcessingAndNoSemicolonNeeded) {
  auto nodes = parse("content_by_lua_block { ngx.say(\"a\\tb\\\\\") } log_by_lua_block {}");
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0].arg(0), " ngx.say(\"a\\tb\\\\\") ");
  EXPECT_EQ(nodes[1].arg(0), "");
  // A `;` after the block is a stray one, as in OpenResty.
  EXPECT_EQ(parseError("content_by_lua_block { }\n;"), "unexpected \";\" in /t/nginx.conf:2");
}

TEST(ParserLuaTest, QuotedAndFileFormsAreOrdinary) {
  auto nodes = parse("content_by_lua 'ngx.say(\"{\")';\naccess_by_lua_file /a/b.lua;");
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0].arg(0), "ngx.say(\"{\")");
  EXPECT_TRUE(nodes[0].args[0].quoted);
  EXPECT_EQ(nodes[0].luaLine, 0);
  EXPECT_EQ(nodes[1].arg(0), "/a/b.lua");
}

TEST(ParserLuaTest, EndOfFileInsideLua) {
  EXPECT_EQ(parseError("content_by_lua_block {\n  ngx.say('}')\n"),
            "unexpected end of file, expecting \"}\" in /t/nginx.conf:3");
  EXPECT_EQ(parseError("http { content_by_lua_block { s = [[ }} ]] }"),
            "unexpected end of file, expecting \"}\" in /t/nginx.conf:1");
}

// --- include ------------------------------------------------------------------

class ConfIncludeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lunet-conf-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    opts_.confPrefix = dir_ + "/";
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  std::string write(const std::string& rel, const std::string& content) {
    std::filesystem::path p = std::filesystem::path(dir_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << content;
    return p.string();
  }

  std::string error(const std::string& text) {
    try {
      parseString(text, dir_ + "/nginx.conf", opts_);
    } catch (const ConfError& e) {
      return e.full();
    }
    return "(no error)";
  }

  std::string dir_;
  ParseOptions opts_;
};

TEST_F(ConfIncludeTest, SingleFileRelativeToPrefix) {
  std::string inc = write("conf.d/extra.conf", "a 1;\nb { c 2; }\n");
  std::string main =
      write("nginx.conf", "first;\nhttp {\n  include conf.d/extra.conf;\n  last;\n}");
  auto nodes = parseFile(main, opts_);
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(*nodes[0].file, main);
  EXPECT_EQ(names(nodes[1].children), (Strings{"a", "b", "last"}));
  const ConfNode& a = nodes[1].children[0];
  EXPECT_EQ(*a.file, inc);
  EXPECT_EQ(a.line, 1);
  EXPECT_EQ(a.where(), inc + ":1");
  EXPECT_EQ(nodes[1].children[1].children.at(0).name, "c");
  EXPECT_EQ(*nodes[1].children[2].file, main);
  EXPECT_EQ(nodes[1].children[2].line, 4);
}

TEST_F(ConfIncludeTest, PrefixWithoutTrailingSlashAndAbsolutePath) {
  std::string inc = write("x.conf", "x;");
  opts_.confPrefix = dir_;
  EXPECT_EQ(names(parseString("include x.conf;", "t", opts_)), Strings{"x"});
  opts_.confPrefix = "/nonexistent";
  EXPECT_EQ(names(parseString("include " + inc + ";", "t", opts_)), Strings{"x"});
}

TEST_F(ConfIncludeTest, GlobSortedAndNested) {
  write("sites/b.conf", "b;");
  write("sites/a.conf", "a; include inner/*.conf;");
  write("sites/c.conf", "c;");
  write("sites/skip.txt", "skip;");
  write("inner/z.conf", "z;");
  write("inner/y.conf", "y;");
  auto nodes = parseString("http { include sites/*.conf; }", "/t/main.conf", opts_);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(names(nodes[0].children), (Strings{"a", "y", "z", "b", "c"}));
  EXPECT_EQ(*nodes[0].children[1].file, dir_ + "/inner/y.conf");
}

TEST_F(ConfIncludeTest, GlobMatchingNothing) {
  auto nodes = parseString("a; include none/*.conf; include x?.conf; b;", "/t/main.conf", opts_);
  EXPECT_EQ(names(nodes), (Strings{"a", "b"}));
}

TEST_F(ConfIncludeTest, MissingFile) {
  EXPECT_EQ(error("a;\n\ninclude missing.conf;"), "open() \"" + dir_ +
                                                      "/missing.conf\" failed (2: No such file "
                                                      "or directory) in " +
                                                      dir_ + "/nginx.conf:3");
}

TEST_F(ConfIncludeTest, WrongArgumentCount) {
  EXPECT_EQ(error("include;"),
            "invalid number of arguments in \"include\" directive in " + dir_ + "/nginx.conf:1");
  EXPECT_EQ(error("\ninclude a b;"),
            "invalid number of arguments in \"include\" directive in " + dir_ + "/nginx.conf:2");
}

TEST_F(ConfIncludeTest, ErrorsInsideIncludedFileAreLocatedThere) {
  write("bad.conf", "ok;\n}\n");
  EXPECT_EQ(error("http { include bad.conf; }"), "unexpected \"}\" in " + dir_ + "/bad.conf:2");
  // A block cannot be left open across files.
  write("open.conf", "http {\n");
  EXPECT_EQ(error("include open.conf; }"),
            "unexpected end of file, expecting \"}\" in " + dir_ + "/open.conf:2");
}

TEST_F(ConfIncludeTest, Recursion) {
  write("loop.conf", "x;\ninclude loop.conf;\n");
  std::string msg = error("include loop.conf;");
  EXPECT_NE(msg.find("include nested deeper than 64 levels"), std::string::npos) << msg;
  EXPECT_NE(msg.find("loop.conf:2"), std::string::npos) << msg;
}

TEST_F(ConfIncludeTest, NotExpandedWhenDisabled) {
  opts_.expandIncludes = false;
  auto nodes = parseString("include missing.conf;", "t", opts_);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].name, "include");
  EXPECT_EQ(nodes[0].arg(0), "missing.conf");
}

TEST_F(ConfIncludeTest, ParseFileMissing) {
  try {
    parseFile(dir_ + "/nope.conf", opts_);
    FAIL() << "no error";
  } catch (const ConfError& e) {
    EXPECT_EQ(e.full(), "open() \"" + dir_ + "/nope.conf\" failed (2: No such file or directory)");
    EXPECT_EQ(e.file(), "");
    EXPECT_EQ(e.line(), 0);
  }
}

TEST_F(ConfIncludeTest, LuaBlockInIncludedFile) {
  write("lua.conf", "\ncontent_by_lua_block {\n  ngx.say(\"}\")\n}\n");
  auto nodes = parseString("location / { include lua.conf; }", "/t/main.conf", opts_);
  const ConfNode& lua = nodes.at(0).children.at(0);
  EXPECT_EQ(lua.luaLine, 2);
  EXPECT_EQ(*lua.file, dir_ + "/lua.conf");
  EXPECT_EQ(lua.arg(0), "\n  ngx.say(\"}\")\n");
}

}  // namespace
}  // namespace lunet::conf
