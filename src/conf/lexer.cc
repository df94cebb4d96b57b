#include "conf/lexer.h"

#include <utility>

namespace lunet::conf {

namespace {

constexpr const char* kCommandLine = "command line";

}  // namespace

std::string unescapeToken(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      char n = raw[i + 1];
      switch (n) {
        case '"':
        case '\'':
        case '\\':
          out += n;
          ++i;
          continue;
        case 't':
          out += '\t';
          ++i;
          continue;
        case 'r':
          out += '\r';
          ++i;
          continue;
        case 'n':
          out += '\n';
          ++i;
          continue;
        default:
          break;  // kept verbatim, backslash included
      }
    }
    out += c;
  }
  return out;
}

Lexer::Lexer(std::string_view text, std::shared_ptr<const std::string> file)
    : text_(text), file_(std::move(file)) {
  commandLine_ = file_ && *file_ == kCommandLine;
}

void Lexer::failHere(const std::string& msg) const {
  throw ConfError(msg, file_ ? *file_ : std::string(), line_);
}

void Lexer::failUnexpectedEnd() const {
  // nginx only knows `-g` text has no file behind it; its wording differs.
  if (commandLine_) failHere("unexpected end of parameter, expecting \";\"");
  failHere("unexpected end of file, expecting \";\" or \"}\"");
}

char Lexer::advance() {
  char c = text_[pos_++];
  if (c == '\n') ++line_;
  return c;
}

Token Lexer::next() {
  for (;;) {
    if (atEnd()) return Token{TokenKind::kEnd, {}, false, line_};
    char c = peek();
    if (isConfSpace(c)) {
      advance();
      continue;
    }
    if (c == '#') {
      while (!atEnd() && peek() != '\n') advance();
      continue;
    }
    break;
  }

  Token tok;
  tok.line = line_;
  switch (peek()) {
    case ';':
      advance();
      tok.kind = TokenKind::kSemicolon;
      return tok;
    case '{':
      advance();
      tok.kind = TokenKind::kBlockStart;
      return tok;
    case '}':
      advance();
      tok.kind = TokenKind::kBlockEnd;
      return tok;
    case '"':
    case '\'':
      return readQuoted();
    default:
      return readWord();
  }
}

Token Lexer::readWord() {
  Token tok;
  tok.kind = TokenKind::kWord;
  tok.line = line_;
  size_t start = pos_;
  // `escaped`: the previous character was a backslash, so this one is taken
  // literally. `variable`: just after `$` (or `${`), where a `{` belongs to
  // the word instead of opening a block.
  bool escaped = false;
  bool variable = false;
  for (;;) {
    if (atEnd()) failUnexpectedEnd();
    char c = peek();
    if (escaped) {
      escaped = false;
      advance();
      continue;
    }
    if (c == '{' && variable) {
      advance();
      continue;
    }
    variable = false;
    if (c == '\\') {
      escaped = true;
    } else if (c == '$') {
      variable = true;
    } else if (isConfSpace(c) || c == ';' || c == '{') {
      break;  // the terminator is left for the next call
    }
    advance();
  }
  tok.value = unescapeToken(text_.substr(start, pos_ - start));
  return tok;
}

Token Lexer::readQuoted() {
  Token tok;
  tok.kind = TokenKind::kWord;
  tok.quoted = true;
  tok.line = line_;
  char quote = advance();
  size_t start = pos_;
  bool escaped = false;
  for (;;) {
    if (atEnd()) failUnexpectedEnd();
    char c = advance();
    if (escaped) {
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else if (c == quote) {
      break;
    }
  }
  tok.value = unescapeToken(text_.substr(start, pos_ - 1 - start));

  // nginx requires a separator after a closing quote. `)` is allowed so that
  // `if ($a = "b")` works; it then starts the next word. A `}` is rejected by
  // the parser ("unexpected "}"" since the directive has arguments), and end
  // of input likewise.
  if (!atEnd()) {
    char c = peek();
    if (!isConfSpace(c) && c != ';' && c != '{' && c != '}' && c != ')') {
      failHere(std::string("unexpected \"") + c + "\"");
    }
  }
  return tok;
}

// --- Lua-aware scanning ------------------------------------------------------

int Lexer::longBracketLevel() const {
  if (peek() != '[') return -1;
  size_t i = 1;
  while (peek(i) == '=') ++i;
  if (peek(i) != '[') return -1;
  return static_cast<int>(i - 1);
}

void Lexer::skipLongBracket(int level) {
  pos_ += static_cast<size_t>(level) + 2;  // `[`, `=`*level, `[`
  for (;;) {
    if (atEnd()) failHere("unexpected end of file, expecting \"}\"");
    char c = advance();
    if (c != ']') continue;
    size_t i = 0;
    while (peek(i) == '=') ++i;
    if (static_cast<int>(i) == level && peek(i) == ']') {
      pos_ += i + 1;
      return;
    }
  }
}

void Lexer::skipLuaString() {
  char quote = advance();
  for (;;) {
    if (atEnd()) failHere("unexpected end of file, expecting \"}\"");
    char c = peek();
    // An unescaped newline ends a short string in Lua (as an error Lua
    // reports later); stopping here keeps one stray quote from hiding the
    // rest of the block's braces.
    if (c == '\n') return;
    advance();
    if (c == quote) return;
    if (c == '\\' && !atEnd()) advance();
  }
}

void Lexer::skipLuaComment() {
  pos_ += 2;  // `--`
  int level = longBracketLevel();
  if (level >= 0) {
    skipLongBracket(level);
    return;
  }
  while (!atEnd() && peek() != '\n') advance();
}

std::string Lexer::readLuaBlock() {
  size_t start = pos_;
  int depth = 1;
  for (;;) {
    if (atEnd()) failHere("unexpected end of file, expecting \"}\"");
    char c = peek();
    if (c == '-' && peek(1) == '-') {
      skipLuaComment();
    } else if (c == '[') {
      int level = longBracketLevel();
      if (level >= 0) {
        skipLongBracket(level);
      } else {
        advance();
      }
    } else if (c == '"' || c == '\'') {
      skipLuaString();
    } else if (c == '{') {
      ++depth;
      advance();
    } else if (c == '}') {
      if (--depth == 0) {
        std::string code(text_.substr(start, pos_ - start));
        advance();
        return code;
      }
      advance();
    } else {
      advance();
    }
  }
}

}  // namespace lunet::conf
