// access_log / log_format: one line per main request in the LOG phase,
// buffered per file when `buffer=` is given (flushed on a timer and at exit).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "conf/cycle.h"
#include "event/loop.h"
#include "http/core_module.h"
#include "http/modules/modules.h"

namespace lunet::http {

namespace {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;

const conf::Module& mod();

enum class Escape { kDefault, kJson, kNone };

struct LogFormat {
  std::vector<ComplexValue> parts;  // literal/variable pieces: escaped per variable
  std::vector<bool> isVar;
  Escape escape = Escape::kDefault;
};

struct LogFile {
  std::string path;
  int fd = -1;
  std::string buf;
  size_t bufSize = 0;
  int64_t flushMs = 0;
};

struct AccessLog {
  LogFile* file;
  LogFormat* format;
};

struct LogMain : ConfBase {
  std::map<std::string, std::unique_ptr<LogFormat>> formats;
  std::map<std::string, std::unique_ptr<LogFile>> files;
  event::UvHandle<uv_timer_t> timer;
  ~LogMain() override {
    for (auto& [k, f] : files) {
      if (f->fd >= 0) ::close(f->fd);
    }
  }
};

struct LogLoc : ConfBase {
  std::vector<AccessLog> logs;
  bool off = false;
  bool set = false;
};

LogMain* logMain() { return conf::currentCycle()->conf<LogMain>(mod()); }

void compileFormat(const ConfNode& n, LogFormat* f, size_t from) {
  // Each variable becomes its own part so its value can be escaped.
  std::string text;
  for (size_t i = from; i < n.args.size(); i++) text += n.arg(i);
  size_t i = 0;
  std::string lit;
  auto flushLit = [&] {
    if (lit.empty()) return;
    ComplexValue v;
    std::string esc;
    for (char ch : lit) {
      if (ch == '$')
        esc += "$";
      else
        esc += ch;
    }
    v.compile(n, "");
    // literal: compile a text without '$'
    ComplexValue lv;
    lv.compile(n, lit.find('$') == std::string::npos ? lit : lit);
    f->parts.push_back(std::move(lv));
    f->isVar.push_back(false);
    lit.clear();
  };
  while (i < text.size()) {
    if (text[i] == '$' && i + 1 < text.size()) {
      size_t j = i + 1;
      bool brace = text[j] == '{';
      if (brace) j++;
      size_t s = j;
      while (j < text.size() && (isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_'))
        j++;
      if (j > s) {
        flushLit();
        std::string var(1, '$');
        var.append(text, s, j - s);
        if (brace) j++;
        ComplexValue v;
        v.compile(n, var);
        f->parts.push_back(std::move(v));
        f->isVar.push_back(true);
        i = j;
        continue;
      }
    }
    lit += text[i++];
  }
  flushLit();
}

void setLogFormat(Engine&, const ConfNode& n, ConfBase*, const Directive&) {
  LogMain* m = logMain();
  const std::string& name = n.arg(0);
  if (m->formats.count(name)) fail(n, "duplicate \"log_format\" name \"" + name + "\"");
  auto f = std::make_unique<LogFormat>();
  size_t from = 1;
  if (n.args.size() > 1 && n.arg(1).rfind("escape=", 0) == 0) {
    std::string e = n.arg(1).substr(7);
    if (e == "json")
      f->escape = Escape::kJson;
    else if (e == "none")
      f->escape = Escape::kNone;
    else if (e == "default")
      f->escape = Escape::kDefault;
    else
      fail(n, "unknown log format escaping \"" + e + "\"");
    from = 2;
  }
  compileFormat(n, f.get(), from);
  m->formats[name] = std::move(f);
}

void ensureCombined(const ConfNode& n) {
  LogMain* m = logMain();
  if (m->formats.count("combined")) return;
  ConfNode c = n;
  c.args.clear();
  c.args.push_back({"combined", false});
  c.args.push_back(
      {"$remote_addr - $remote_user [$time_local] \"$request\" $status "
       "$body_bytes_sent \"$http_referer\" \"$http_user_agent\"",
       true});
  auto f = std::make_unique<LogFormat>();
  compileFormat(c, f.get(), 1);
  m->formats["combined"] = std::move(f);
}

void setAccessLog(Engine& e, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* l = static_cast<LogLoc*>(c);
  l->set = true;
  if (n.arg(0) == "off") {
    if (n.args.size() > 1) fail(n, "invalid parameter \"" + n.arg(1) + "\"");
    l->off = true;
    return;
  }
  ensureCombined(n);
  LogMain* m = logMain();
  std::string fmt =
      n.args.size() > 1 && n.arg(1).find('=') == std::string::npos ? n.arg(1) : "combined";
  auto it = m->formats.find(fmt);
  if (it == m->formats.end()) fail(n, "unknown log format \"" + fmt + "\"");
  std::string path = n.arg(0) == "stderr" ? "stderr" : e.cycle().fullPath(n.arg(0));
  auto& file = m->files[path];
  if (!file) {
    file = std::make_unique<LogFile>();
    file->path = path;
    if (path == "stderr") {
      file->fd = 2;
    } else {
      file->fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      if (file->fd < 0) {
        int err = errno;
        fail(n, "open() \"" + path + "\" failed (" + std::to_string(err) + ": " +
                    std::strerror(err) + ")");
      }
    }
  }
  for (size_t i = 1; i < n.args.size(); i++) {
    const std::string& a = n.arg(i);
    if (a.rfind("buffer=", 0) == 0) {
      ConfNode t = n;
      t.args = {{a.substr(7), false}};
      file->bufSize = static_cast<size_t>(conf::parseSize(t, 0));
    } else if (a.rfind("flush=", 0) == 0) {
      ConfNode t = n;
      t.args = {{a.substr(6), false}};
      file->flushMs = conf::parseMsec(t, 0);
    } else if (a.rfind("if=", 0) == 0 || a == "gzip" || a.rfind("gzip=", 0) == 0) {
      fail(n, "parameter \"" + a + "\" of \"access_log\" is not supported");
    } else if (i != 1) {
      fail(n, "invalid parameter \"" + a + "\"");
    }
  }
  l->logs.push_back(AccessLog{file.get(), it->second.get()});
}

void mergeLoc(Engine& e, ConfBase* p, ConfBase* c) {
  auto* pa = static_cast<LogLoc*>(p);
  auto* ch = static_cast<LogLoc*>(c);
  if (!ch->set) {
    ch->logs = pa->logs;
    ch->off = pa->off;
    ch->set = pa->set;
  }
  if (!ch->set) {
    // default: logs/access.log combined
    ConfNode n;
    n.name = "access_log";
    n.args = {{"logs/access.log", false}};
    static const Directive kDummy{"access_log", 0, 0, nullptr};
    setAccessLog(e, n, ch, kDummy);
  }
}

void flushFile(LogFile& f) {
  if (f.buf.empty() || f.fd < 0) return;
  ssize_t w = ::write(f.fd, f.buf.data(), f.buf.size());
  (void)w;
  f.buf.clear();
}

void escapeInto(std::string& out, std::string_view v, Escape e) {
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char ch : v) {
    if (e == Escape::kNone) {
      out += static_cast<char>(ch);
    } else if (e == Escape::kJson) {
      if (ch == '"' || ch == '\\') {
        out += '\\';
        out += static_cast<char>(ch);
      } else if (ch < 0x20) {
        out += "\\u00";
        out += kHex[ch >> 4];
        out += kHex[ch & 15];
      } else {
        out += static_cast<char>(ch);
      }
    } else if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f) {
      out += "\\x";
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    } else {
      out += static_cast<char>(ch);
    }
  }
}

int logHandler(Request& r) {
  const auto* l = r.loc<LogLoc>(mod());
  if (l->off || l->logs.empty()) return kOk;
  std::string line;
  for (const AccessLog& a : l->logs) {
    line.clear();
    const LogFormat& f = *a.format;
    for (size_t i = 0; i < f.parts.size(); i++) {
      std::string_view v = f.parts[i].eval(r);
      if (f.isVar[i]) {
        if (v.empty() && f.escape == Escape::kDefault) {
          line += '-';
        } else {
          escapeInto(line, v, f.escape);
        }
      } else {
        line.append(v);
      }
    }
    line += '\n';
    LogFile& file = *a.file;
    if (file.bufSize == 0) {
      ssize_t w = ::write(file.fd, line.data(), line.size());
      (void)w;
    } else {
      if (file.buf.size() + line.size() > file.bufSize) flushFile(file);
      file.buf += line;
    }
  }
  return kOk;
}

void postConf(Engine&) { addPhaseHandler(Phase::kLog, logHandler); }

// USR1: flush what is buffered, then reopen each file onto its old fd
// number (so the LogFile keeps working) — the old file may have been moved.
void reopenFiles(conf::Cycle& c, uid_t owner) {
  auto* m = c.conf<LogMain>(mod());
  if (m == nullptr) return;
  for (auto& [k, f] : m->files) {
    flushFile(*f);
    if (f->path == "stderr" || f->fd < 0) continue;
    int fd = ::open(f->path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      core::processLog().error(core::Level::kAlert, errno, "open() \"%s\" failed", f->path.c_str());
      continue;
    }
    if (owner != static_cast<uid_t>(-1) && ::geteuid() == 0 && ::fchown(fd, owner, -1) != 0) {
      core::processLog().error(core::Level::kAlert, errno, "fchown(\"%s\", %d) failed",
                               f->path.c_str(), static_cast<int>(owner));
    }
    ::dup3(fd, f->fd, O_CLOEXEC);
    ::close(fd);
  }
}

void initProcess(conf::Cycle& c) {
  auto* m = c.conf<LogMain>(mod());
  if (m == nullptr) return;
  int64_t every = 0;
  for (auto& [k, f] : m->files) {
    if (f->bufSize > 0) every = every == 0 ? (f->flushMs ? f->flushMs : 1000) : every;
  }
  if (every == 0) return;
  LUNET_UV_CHECK(uv_timer_init(event::loop(), m->timer.get()));
  m->timer.markInitialized();
  m->timer->data = m;
  LUNET_UV_CHECK(uv_timer_start(
      m->timer.get(),
      [](uv_timer_t* t) {
        auto* lm = static_cast<LogMain*>(t->data);
        for (auto& [k, f] : lm->files) flushFile(*f);
      },
      static_cast<uint64_t>(every), static_cast<uint64_t>(every)));
  uv_unref(m->timer.handle());
}

void flushAll(conf::Cycle& c) {
  auto* m = c.conf<LogMain>(mod());
  if (m == nullptr) return;
  for (auto& [k, f] : m->files) flushFile(*f);
}

void shutdownProcess(conf::Cycle& c) {
  flushAll(c);
  auto* m = c.conf<LogMain>(mod());
  if (m) m->timer.reset();
}

const Directive kDirectives[] = {
    {"log_format", conf::kHttpMainCtx, conf::k2More, setLogFormat, conf::Slot::kNone},
    {"access_log", conf::kAnyHttpCtx | conf::kHttpLifCtx, conf::k1More, setAccessLog,
     conf::Slot::kLoc},
    {"open_log_file_cache", conf::kAnyHttpCtx, conf::k1More, conf::setIgnored, conf::Slot::kNone},
    {"log_subrequest", conf::kAnyHttpCtx, conf::kFlag, conf::setIgnored, conf::Slot::kNone},
};

const conf::Module kModule{
    .name = "http_log",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .createMain = [] { return conf::ConfPtr(std::make_unique<LogMain>()); },
    .createLoc = [] { return conf::ConfPtr(std::make_unique<LogLoc>()); },
    .mergeLoc = mergeLoc,
    .postConfiguration = postConf,
    .initProcess = initProcess,
    .shutdownProcess = shutdownProcess,
    .exitProcess = flushAll,
    .reopenFiles = reopenFiles,
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& httpLogModule() { return kModule; }

}  // namespace lunet::http
