// Tokenizer for nginx configuration text.
//
// The rules follow nginx's ngx_conf_read_token: whitespace-separated words,
// `;`, `{`, `}`, `#` comments at the start of a token, single/double quotes,
// backslash escapes (also in unquoted words) and `${var}` inside words. The
// parser (parser.cc) decides which token sequences are valid; the lexer only
// reports errors that are visible at the character level.
//
// readLuaBlock() is the second scanner: once the parser has seen the `{` of a
// `*_by_lua_block` directive it asks for the raw Lua source up to the matching
// `}`, skipping braces inside Lua strings, long strings and comments.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "conf/ast.h"

namespace lunet::conf {

enum class TokenKind {
  kWord,        // a directive name or argument (value/quoted filled)
  kSemicolon,   // `;`
  kBlockStart,  // `{`
  kBlockEnd,    // `}`
  kEnd,         // end of input
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string value;    // kWord only: after escape processing
  bool quoted = false;  // kWord only: written in '...' or "..."
  int line = 0;         // line of the token's first character
};

class Lexer {
 public:
  // `text` must outlive the lexer. `file` names the source in errors; the
  // pseudo-file "command line" (nginx's -g) switches the end-of-input message
  // to nginx's "unexpected end of parameter" wording.
  Lexer(std::string_view text, std::shared_ptr<const std::string> file);

  // The next token. Throws ConfError for character-level errors: end of input
  // inside a word or quoted string, or a quoted string followed by something
  // other than whitespace, `;`, `{`, `}` or `)`.
  Token next();

  // Call right after next() returned the `{` of a `*_by_lua_block`
  // directive. Returns the Lua source between that `{` and its matching `}`
  // verbatim and consumes the `}`. Throws ConfError at end of input.
  std::string readLuaBlock();

  // Current line (1-based): where the lexer is now, as nginx reports errors.
  int line() const { return line_; }
  const std::shared_ptr<const std::string>& file() const { return file_; }
  bool isCommandLine() const { return commandLine_; }

  // Throws the "end of input in the middle of a directive" error at the
  // current line (wording depends on isCommandLine()).
  [[noreturn]] void failUnexpectedEnd() const;
  // Throws ConfError(msg) at the current line of this lexer's file.
  [[noreturn]] void failHere(const std::string& msg) const;

 private:
  bool atEnd() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  // Consumes one character, counting lines.
  char advance();
  Token readWord();
  Token readQuoted();

  // Lua scanner helpers; positioned on the first character of the construct.
  // Returns the level of a long bracket `[==[` starting at pos_, or -1.
  int longBracketLevel() const;
  // Skips a long bracket of `level` (opening included); throws at EOF.
  void skipLongBracket(int level);
  void skipLuaString();
  void skipLuaComment();

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  std::shared_ptr<const std::string> file_;
  bool commandLine_ = false;
};

// nginx's escape processing for a raw token (without its quotes): `\"`, `\'`
// and `\\` become the character, `\t` `\r` `\n` become TAB/CR/LF, any other
// backslash pair is kept as both characters.
std::string unescapeToken(std::string_view raw);

// True for the characters nginx treats as token separators.
inline bool isConfSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace lunet::conf
