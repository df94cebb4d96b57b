#include "conf/parser.h"

#include <fcntl.h>
#include <glob.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#include "conf/lexer.h"

namespace lunet::conf {

namespace {

// nginx has no limit and would run out of descriptors or stack on an include
// loop; a clear message is kinder.
constexpr int kMaxIncludeDepth = 64;
// Real configs nest a handful of levels; the limit keeps hostile input (the
// fuzzer) from overflowing the stack through recursion.
constexpr int kMaxBlockDepth = 256;

constexpr std::string_view kLuaBlockSuffix = "_by_lua_block";

bool isLuaBlockDirective(const std::string& name) {
  return name.size() > kLuaBlockSuffix.size() &&
         std::string_view(name).substr(name.size() - kLuaBlockSuffix.size()) == kLuaBlockSuffix;
}

std::string errnoText(int err) {
  return "(" + std::to_string(err) + ": " + std::strerror(err) + ")";
}

// Reads the whole file; errors are nginx's, located at file/line (the
// include directive, or nowhere for the main file).
std::string readFile(const std::string& path, const std::string& errFile, int errLine) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw ConfError("open() \"" + path + "\" failed " + errnoText(errno), errFile, errLine);
  }
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      throw ConfError("pread() \"" + path + "\" failed " + errnoText(err), errFile, errLine);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

std::string joinPrefix(const std::string& prefix, const std::string& path) {
  if (prefix.empty() || (!path.empty() && path[0] == '/')) return path;
  if (prefix.back() == '/') return prefix + path;
  return prefix + "/" + path;
}

class Parser {
 public:
  explicit Parser(const ParseOptions& opts) : opts_(opts) {}

  std::vector<ConfNode> parseText(std::string_view text, std::shared_ptr<const std::string> file,
                                  int includeDepth) {
    Lexer lex(text, std::move(file));
    std::vector<ConfNode> out;
    parseBlock(lex, false, 0, includeDepth, out);
    return out;
  }

 private:
  // Reads directives until the end of input (top level) or the `}` closing
  // the current block, appending them to `out`.
  void parseBlock(Lexer& lex, bool inBlock, int blockDepth, int includeDepth,
                  std::vector<ConfNode>& out) {
    for (;;) {
      Token tok = lex.next();
      switch (tok.kind) {
        case TokenKind::kEnd:
          if (inBlock) lex.failHere("unexpected end of file, expecting \"}\"");
          return;
        case TokenKind::kBlockEnd:
          if (!inBlock) lex.failHere("unexpected \"}\"");
          return;
        case TokenKind::kSemicolon:
          lex.failHere("unexpected \";\"");
        case TokenKind::kBlockStart:
          lex.failHere("unexpected \"{\"");
        case TokenKind::kWord:
          parseDirective(lex, std::move(tok), blockDepth, includeDepth, out);
          break;
      }
    }
  }

  // `name` has been read; reads the arguments and the terminator.
  void parseDirective(Lexer& lex, Token name, int blockDepth, int includeDepth,
                      std::vector<ConfNode>& out) {
    ConfNode node;
    node.name = std::move(name.value);
    node.file = lex.file();
    node.line = name.line;
    for (;;) {
      Token tok = lex.next();
      switch (tok.kind) {
        case TokenKind::kWord:
          node.args.push_back(ConfArg{std::move(tok.value), tok.quoted});
          continue;
        case TokenKind::kEnd:
          lex.failUnexpectedEnd();
        case TokenKind::kBlockEnd:
          lex.failHere("unexpected \"}\"");
        case TokenKind::kSemicolon:
          if (node.name == "include" && opts_.expandIncludes) {
            expandInclude(node, tok.line, includeDepth, out);
          } else {
            out.push_back(std::move(node));
          }
          return;
        case TokenKind::kBlockStart:
          if (isLuaBlockDirective(node.name)) {
            node.luaLine = tok.line;
            node.args.push_back(ConfArg{lex.readLuaBlock(), false});
            out.push_back(std::move(node));
            return;
          }
          if (node.name == "include" && opts_.expandIncludes) {
            lex.failHere("directive \"include\" is not terminated by \";\"");
          }
          if (blockDepth + 1 > kMaxBlockDepth) {
            lex.failHere("blocks nested deeper than " + std::to_string(kMaxBlockDepth) + " levels");
          }
          node.block = true;
          parseBlock(lex, true, blockDepth + 1, includeDepth, node.children);
          out.push_back(std::move(node));
          return;
      }
    }
  }

  // Replaces `include PATH;` by the directives of the file(s) it names.
  // Errors are located where nginx reports them: the line of the `;`.
  void expandInclude(const ConfNode& node, int line, int includeDepth, std::vector<ConfNode>& out) {
    const std::string& where = *node.file;
    if (node.args.size() != 1) {
      throw ConfError("invalid number of arguments in \"include\" directive", where, line);
    }
    if (includeDepth + 1 > kMaxIncludeDepth) {
      throw ConfError("include nested deeper than " + std::to_string(kMaxIncludeDepth) +
                          " levels (recursive include?)",
                      where, line);
    }
    std::string path = joinPrefix(opts_.confPrefix, node.arg(0));

    if (path.find_first_of("*?[") == std::string::npos) {
      includeFile(path, where, line, includeDepth, out);
      return;
    }

    glob_t gl{};
    int rc = ::glob(path.c_str(), 0, nullptr, &gl);
    if (rc != 0 && rc != GLOB_NOMATCH) {
      ::globfree(&gl);
      throw ConfError("glob() \"" + path + "\" failed", where, line);
    }
    // glob(3) sorts its results unless GLOB_NOSORT is given.
    std::vector<std::string> files;
    for (size_t i = 0; i < gl.gl_pathc; ++i) files.emplace_back(gl.gl_pathv[i]);
    ::globfree(&gl);
    for (const std::string& file : files) includeFile(file, where, line, includeDepth, out);
  }

  void includeFile(const std::string& path, const std::string& where, int line, int includeDepth,
                   std::vector<ConfNode>& out) {
    std::string text = readFile(path, where, line);
    std::vector<ConfNode> nodes =
        parseText(text, std::make_shared<const std::string>(path), includeDepth + 1);
    for (ConfNode& n : nodes) out.push_back(std::move(n));
  }

  const ParseOptions& opts_;
};

}  // namespace

std::vector<ConfNode> parseFile(const std::string& path, const ParseOptions& opts) {
  std::string text = readFile(path, {}, 0);
  return Parser(opts).parseText(text, std::make_shared<const std::string>(path), 0);
}

std::vector<ConfNode> parseString(const std::string& text, const std::string& name,
                                  const ParseOptions& opts) {
  return Parser(opts).parseText(text, std::make_shared<const std::string>(name), 0);
}

}  // namespace lunet::conf
