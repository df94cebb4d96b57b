#include "conf/lexer.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace lunet::conf {
namespace {

struct Tok {
  TokenKind kind;
  std::string value;
  bool quoted;
  int line;
  bool operator==(const Tok&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Tok& t) {
  return os << "{" << static_cast<int>(t.kind) << ", \"" << t.value << "\", " << t.quoted << ", "
            << t.line << "}";
}

std::vector<Tok> lexAll(const std::string& text, const std::string& file = "/t/lexer.conf") {
  Lexer lex(text, std::make_shared<const std::string>(file));
  std::vector<Tok> out;
  for (;;) {
    Token t = lex.next();
    out.push_back(Tok{t.kind, t.value, t.quoted, t.line});
    if (t.kind == TokenKind::kEnd) return out;
  }
}

// The words only (no punctuation, no end).
std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  for (const Tok& t : lexAll(text)) {
    if (t.kind == TokenKind::kWord) out.push_back(t.value);
  }
  return out;
}

std::string lexError(const std::string& text, const std::string& file = "/t/lexer.conf") {
  try {
    lexAll(text, file);
  } catch (const ConfError& e) {
    return e.full();
  }
  return "(no error)";
}

constexpr TokenKind W = TokenKind::kWord;
constexpr TokenKind S = TokenKind::kSemicolon;
constexpr TokenKind BS = TokenKind::kBlockStart;
constexpr TokenKind BE = TokenKind::kBlockEnd;
constexpr TokenKind E = TokenKind::kEnd;

TEST(LexerTest, PunctuationAndLines) {
  std::vector<Tok> want = {
      {W, "http", false, 1},   {BS, "", false, 1},  {W, "server", false, 2}, {BS, "", false, 2},
      {W, "listen", false, 3}, {W, "80", false, 3}, {S, "", false, 3},       {BE, "", false, 4},
      {BE, "", false, 5},      {E, "", false, 6},
  };
  EXPECT_EQ(lexAll("http {\n  server{\n\tlisten 80;\r\n  }\n}\n"), want);
}

TEST(LexerTest, WordEndsAtSemicolonAndBraceButNotCloseBrace) {
  std::vector<Tok> want = {{W, "a", false, 1}, {S, "", false, 1},   {W, "b", false, 1},
                           {BS, "", false, 1}, {W, "c}", false, 1}, {S, "", false, 1},
                           {E, "", false, 1}};
  EXPECT_EQ(lexAll("a;b{c};"), want);
}

TEST(LexerTest, Comments) {
  EXPECT_EQ(words("# whole line\na b; # trailing\n#x;\nc#notcomment;"),
            (std::vector<std::string>{"a", "b", "c#notcomment"}));
  std::vector<Tok> toks = lexAll("# one\n# two\nx;");
  EXPECT_EQ(toks[0], (Tok{W, "x", false, 3}));
}

TEST(LexerTest, QuotedStrings) {
  std::vector<Tok> want = {{W, "a b", true, 1}, {W, "c;d{e}", true, 1}, {W, "", true, 1},
                           {W, "", true, 1},    {S, "", false, 1},      {E, "", false, 1}};
  EXPECT_EQ(lexAll("\"a b\" 'c;d{e}' \"\" '';"), want);
}

TEST(LexerTest, QuotedStringSpanningLinesKeepsStartLine) {
  std::vector<Tok> toks = lexAll("x \"a\nb\"\n;");
  EXPECT_EQ(toks[1], (Tok{W, "a\nb", true, 1}));
  EXPECT_EQ(toks[2], (Tok{S, "", false, 3}));
}

TEST(LexerTest, QuoteInsideUnquotedWordIsLiteral) {
  EXPECT_EQ(words("a\"b\" c'd;"), (std::vector<std::string>{"a\"b\"", "c'd"}));
}

TEST(LexerTest, EscapesInQuotedStrings) {
  EXPECT_EQ(words(R"(x "a\"b" 'c\'d' "e\\f" "\t\r\n" "\x\$\q";)"),
            (std::vector<std::string>{"x", "a\"b", "c'd", "e\\f", "\t\r\n", "\\x\\$\\q"}));
  // A backslash-quote does not close the string.
  EXPECT_EQ(words(R"(x "say \"hi\"";)"), (std::vector<std::string>{"x", "say \"hi\""}));
  // The other quote character needs no escape.
  EXPECT_EQ(words(R"(x "it's" 'a "b"';)"), (std::vector<std::string>{"x", "it's", "a \"b\""}));
}

TEST(LexerTest, EscapesInUnquotedWords) {
  EXPECT_EQ(words(R"(a\"b c\tx d\\e f\zg;)"),
            (std::vector<std::string>{"a\"b", "c\tx", "d\\e", "f\\zg"}));
  // An escaped separator stays in the word, backslash included.
  EXPECT_EQ(words(R"(a\ b c\;d;)"), (std::vector<std::string>{"a\\ b", "c\\;d"}));
  // A leading backslash escapes the first character.
  EXPECT_EQ(words(R"(\"x \{;)"), (std::vector<std::string>{"\"x", "\\{"}));
}

TEST(LexerTest, UnescapeToken) {
  EXPECT_EQ(unescapeToken(R"(\"\'\\)"), "\"'\\");
  EXPECT_EQ(unescapeToken(R"(\t\r\n)"), "\t\r\n");
  EXPECT_EQ(unescapeToken(R"(\a\0\$)"), "\\a\\0\\$");
  EXPECT_EQ(unescapeToken("tail\\"), "tail\\");
  EXPECT_EQ(unescapeToken(R"(\\n)"), "\\n");
}

TEST(LexerTest, VariableBracesStayInWord) {
  std::vector<Tok> want = {{W, "set", false, 1}, {W, "$a", false, 1}, {W, "${b}c${d}", false, 1},
                           {S, "", false, 1},    {W, "x", false, 1},  {W, "${y}", false, 1},
                           {BS, "", false, 1},   {BE, "", false, 1},  {E, "", false, 1}};
  EXPECT_EQ(lexAll("set $a ${b}c${d}; x ${y}{}"), want);
  // Only a `{` right after `$` belongs to the word.
  EXPECT_EQ(lexAll("a$x{")[1].kind, BS);
  EXPECT_EQ(words("\"${a}{b}\";"), (std::vector<std::string>{"${a}{b}"}));
}

TEST(LexerTest, ParenAfterQuotedStringStartsNextWord) {
  EXPECT_EQ(words("if ($a = \"b\") {"), (std::vector<std::string>{"if", "($a", "=", "b", ")"}));
}

TEST(LexerTest, QuotedStringMustBeFollowedBySeparator) {
  EXPECT_EQ(lexError("a \"b\"c;"), "unexpected \"c\" in /t/lexer.conf:1");
  EXPECT_EQ(lexError("a\n'b'x;"), "unexpected \"x\" in /t/lexer.conf:2");
  EXPECT_EQ(lexError("a \"b\"\"c\";"), "unexpected \"\"\" in /t/lexer.conf:1");
  // Accepted separators.
  EXPECT_EQ(words("a \"b\";c 'd'{ e \"f\"\tg 'h'\n;"),
            (std::vector<std::string>{"a", "b", "c", "d", "e", "f", "g", "h"}));
}

TEST(LexerTest, EndOfInputInsideToken) {
  EXPECT_EQ(lexError("a"), "unexpected end of file, expecting \";\" or \"}\" in /t/lexer.conf:1");
  EXPECT_EQ(lexError("a \"b\n\n"),
            "unexpected end of file, expecting \";\" or \"}\" in /t/lexer.conf:3");
  EXPECT_EQ(lexError("a 'b"),
            "unexpected end of file, expecting \";\" or \"}\" in /t/lexer.conf:1");
  EXPECT_EQ(lexError("daemon off", "command line"),
            "unexpected end of parameter, expecting \";\" in command line");
}

// --- Lua blocks ---------------------------------------------------------------

// Lexes `text`, which must start with `name {`, and returns the Lua code.
std::string luaCode(const std::string& text, int* endLine = nullptr) {
  Lexer lex(text, std::make_shared<const std::string>("/t/lua.conf"));
  EXPECT_EQ(lex.next().kind, TokenKind::kWord);
  EXPECT_EQ(lex.next().kind, TokenKind::kBlockStart);
  std::string code = lex.readLuaBlock();
  if (endLine) *endLine = lex.line();
  Token after = lex.next();
  EXPECT_EQ(after.kind, TokenKind::kWord);
  EXPECT_EQ(after.value, "after");
  return code;
}

TEST(LexerLuaTest, SimpleAndNestedTables) {
  EXPECT_EQ(luaCode("x { ngx.say(1) } after;"), " ngx.say(1) ");
  EXPECT_EQ(luaCode("x {local t = {a = {1, {2}}, b = {}}}after;"),
            "local t = {a = {1, {2}}, b = {}}");
  EXPECT_EQ(luaCode("x {} after;"), "");
}

TEST(LexerLuaTest, BracesInShortStrings) {
  EXPECT_EQ(luaCode(R"(x { ngx.say("}") ngx.say('{') } after;)"), R"( ngx.say("}") ngx.say('{') )");
  EXPECT_EQ(luaCode(R"(x { s = "a\"}" t = 'b\'{' u = "\\" v = "}" } after;)"),
            R"( s = "a\"}" t = 'b\'{' u = "\\" v = "}" )");
  EXPECT_EQ(luaCode(R"(x { s = "it's }" t = '"{' } after;)"), R"( s = "it's }" t = '"{' )");
}

TEST(LexerLuaTest, LongStrings) {
  EXPECT_EQ(luaCode("x { s = [[ } ]] } after;"), " s = [[ } ]] ");
  EXPECT_EQ(luaCode("x { s = [=[ ]] } ]=] } after;"), " s = [=[ ]] } ]=] ");
  EXPECT_EQ(luaCode("x { s = [==[ ]=] ]] } ]==] } after;"), " s = [==[ ]=] ]] } ]==] ");
  // `[` not forming a long bracket is ordinary code.
  EXPECT_EQ(luaCode("x { t[1] = {} t[ [[}]] ] = 1 a = b[=c] } after;"),
            " t[1] = {} t[ [[}]] ] = 1 a = b[=c] ");
}

TEST(LexerLuaTest, Comments) {
  EXPECT_EQ(luaCode("x {\n -- a } in a comment\n f() \n} after;"),
            "\n -- a } in a comment\n f() \n");
  EXPECT_EQ(luaCode("x { --[[ } \n { ]] f() } after;"), " --[[ } \n { ]] f() ");
  EXPECT_EQ(luaCode("x { --[==[ ]] } ]==] f() } after;"), " --[==[ ]] } ]==] f() ");
  // `--[` that is not a long bracket is a line comment.
  EXPECT_EQ(luaCode("x { --[ } \n f() } after;"), " --[ } \n f() ");
  // A quote inside a comment does not start a string.
  EXPECT_EQ(luaCode("x { -- don't\n f() } after;"), " -- don't\n f() ");
  // A single `-` is subtraction.
  EXPECT_EQ(luaCode("x { a = 1 - {2}[1] } after;"), " a = 1 - {2}[1] ");
}

TEST(LexerLuaTest, LineCounting) {
  int endLine = 0;
  std::string code = luaCode("x {\n s = [[\n]]\n t = 'a\\\nb'\n --[[\n]]\n} after;", &endLine);
  EXPECT_EQ(endLine, 8);
  EXPECT_EQ(code, "\n s = [[\n]]\n t = 'a\\\nb'\n --[[\n]]\n");
}

TEST(LexerLuaTest, NoEscapeProcessing) {
  EXPECT_EQ(luaCode(R"(x { s = "\t\n" } after;)"), R"( s = "\t\n" )");
}

TEST(LexerLuaTest, EndOfInput) {
  auto err = [](const std::string& text) -> std::string {
    Lexer lex(text, std::make_shared<const std::string>("/t/lua.conf"));
    lex.next();
    lex.next();
    try {
      lex.readLuaBlock();
    } catch (const ConfError& e) {
      return e.full();
    }
    return "(no error)";
  };
  EXPECT_EQ(err("x { f() \n"), "unexpected end of file, expecting \"}\" in /t/lua.conf:2");
  EXPECT_EQ(err("x { s = \"}\n"), "unexpected end of file, expecting \"}\" in /t/lua.conf:2");
  EXPECT_EQ(err("x { s = [[ }\n\n"), "unexpected end of file, expecting \"}\" in /t/lua.conf:3");
  EXPECT_EQ(err("x { --[=[ } ]] \n"), "unexpected end of file, expecting \"}\" in /t/lua.conf:2");
  EXPECT_EQ(err("x { {} "), "unexpected end of file, expecting \"}\" in /t/lua.conf:1");
}

}  // namespace
}  // namespace lunet::conf
