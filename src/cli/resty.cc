// The `resty` command: resty-cli's options and behaviour on a Lunet server
// of one process. It writes a configuration (master_process off, no
// listeners, error_log stderr, the shared dicts, package paths and conf
// snippets asked for), loads it, and runs it; the code runs in
// ngx.timer.at(0) from init_worker_by_lua (lua/lunet/resty.lua). Unlike
// resty-cli there is no wrapper process: the server is this process, so the
// script's exit code is ours and startup costs one config load.
#include "cli/resty.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/time.h"
#include "lua/api.h"
#include "lua/resty.h"
#include "lunet/version.h"
#include "process/cycle.h"
#include "process/process.h"

extern char** environ;

namespace lunet::resty {

namespace {

constexpr const char* kRestyVersion = "0.29";

const char kUsage[] =
    "resty [options] [lua-file [args]]\n"
    "\n"
    "Options:\n"
    "    -c NUM              Maximum number of connections (worker_connections, default 64).\n"
    "    -e PROG             Run the Lua code PROG (several -e are joined with \"; \").\n"
    "    -h, --help          Print this help.\n"
    "    -I DIR              Add DIR to the search paths for Lua libraries (repeatable).\n"
    "    -j dump|off|v       LuaJIT: dump the compiled code (jit.dump), turn the JIT\n"
    "                        compiler off, or print a line per trace (jit.v).\n"
    "    -l LIB              require \"LIB\" before the code runs (repeatable).\n"
    "    -V, -v              Print the versions of resty and lunet, and lunet's build.\n"
    "\n"
    "    --errlog-level LEVEL\n"
    "                        The error log level (error_log stderr LEVEL): debug, info,\n"
    "                        notice, warn (the default), error, crit, alert or emerg.\n"
    "    --http-conf CONF    Put CONF into the http {} block (repeatable).\n"
    "    --http-include PATH Include the file PATH in the http {} block (repeatable).\n"
    "    --main-conf CONF    Put CONF into the main context (repeatable).\n"
    "    --main-include PATH Include the file PATH in the main context (repeatable).\n"
    "    --shdict 'NAME SIZE'\n"
    "                        Add lua_shared_dict NAME SIZE (repeatable).\n"
    "    --ns IP             A name server for the resolver (repeatable).\n"
    "    --resolve-ipv6      Let the resolver look up IPv6 addresses too.\n"
    "    --nginx PATH        Accepted for compatibility and ignored: Lunet is the server.\n"
    "    --no-stream         Accepted: Lunet has no stream {} block to leave out.\n"
    "\n"
    "Not available in Lunet (refused): --stream-conf, --load-module, --gdb, --rr,\n"
    "--valgrind, --valgrind-opts.\n"
    "\n"
    "The exit code is the script's (os.exit(N), ngx.exit(N)); 0 when it returns,\n"
    "1 after a Lua error (printed as \"ERROR: ...\" with a traceback), 130 on Ctrl-C.\n";

struct Cli {
  std::vector<std::string> code;
  std::optional<std::string> file;
  std::vector<std::string> args;  // after FILE
  std::vector<std::string> pre;   // everything before FILE (and its args)
  std::vector<std::string> httpConf, httpInclude, mainConf, mainInclude, shdicts, incs, libs, ns;
  std::string jit;
  std::string errlogLevel = "warn";
  long conns = 64;
  bool help = false, version = false, resolveIpv6 = false;
};

// A failed command line: message to stderr, exit `code`.
struct CliError {
  std::string msg;
  int code;
  bool usage;
};

bool optionArg(const std::vector<std::string>& a, size_t& i, const std::string& name,
               const std::string& inlineValue, bool hasInline, std::string* out, CliError* err) {
  if (hasInline) {
    *out = inlineValue;
    return true;
  }
  if (i + 1 >= a.size()) {
    *err = {"Option " + name + " requires an argument", 1, true};
    return false;
  }
  *out = a[++i];
  return true;
}

// "NAME SIZE": [_a-zA-Z0-9]+, blanks, digits, an optional k/K/m/M.
bool validShdict(const std::string& v) {
  size_t i = 0, n = v.size();
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; };
  while (i < n && word(v[i])) i++;
  if (i == 0 || i == n || !std::isspace(static_cast<unsigned char>(v[i]))) return false;
  while (i < n && std::isspace(static_cast<unsigned char>(v[i]))) i++;
  size_t d = i;
  while (i < n && std::isdigit(static_cast<unsigned char>(v[i]))) i++;
  if (i == d) return false;
  if (i < n && std::strchr("kKmM", v[i]) != nullptr) i++;
  return i == n;
}

// An IPv4 address (four dotted groups of 1-3 digits) or [IPv6].
bool validNameServer(const std::string& v) {
  if (v.size() > 2 && v.front() == '[' && v.back() == ']') {
    return v.find_first_not_of("0123456789abcdefABCDEF:", 1) == v.size() - 1;
  }
  int groups = 0;
  size_t i = 0;
  while (i < v.size()) {
    size_t d = i;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) i++;
    if (i == d || i - d > 3) return false;
    groups++;
    if (i == v.size()) break;
    if (v[i] != '.' || groups == 4) return false;
    i++;
    if (i == v.size()) return false;
  }
  return groups == 4;
}

bool parse(const std::vector<std::string>& a, Cli* cli, CliError* err) {
  size_t i = 0;
  for (; i < a.size(); i++) {
    const std::string& s = a[i];
    if (s == "--") {
      i++;
      break;
    }
    if (s.size() < 2 || s[0] != '-') break;  // the Lua file
    std::string name, value;
    bool hasInline = false;
    if (s[1] == '-') {
      size_t eq = s.find('=');
      name = s.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      if (eq != std::string::npos) {
        value = s.substr(eq + 1);
        hasInline = true;
      }
    } else {
      name = s.substr(1, 1);
      if (s.size() > 2) {
        value = s.substr(2);
        hasInline = true;
      }
    }
    std::string v;
    auto need = [&](std::vector<std::string>* to) {
      if (!optionArg(a, i, name, value, hasInline, &v, err)) return false;
      if (to != nullptr) to->push_back(v);
      return true;
    };
    if (name == "e") {
      if (!need(&cli->code)) return false;
    } else if (name == "c") {
      if (!need(nullptr)) return false;
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n <= 0) {
        *err = {"Value \"" + v + "\" invalid for option c (number expected)", 1, true};
        return false;
      }
      cli->conns = n;
    } else if (name == "h" || name == "help") {
      cli->help = true;
    } else if (name == "V" || name == "v") {
      cli->version = true;
    } else if (name == "I") {
      if (!need(&cli->incs)) return false;
    } else if (name == "l") {
      if (!need(&cli->libs)) return false;
    } else if (name == "j") {
      if (!need(nullptr)) return false;
      if (v != "v" && v != "dump" && v != "off") {
        *err = {"Invalid value for -j option. Expected: dump, off or v", 2, false};
        return false;
      }
      cli->jit = v;
    } else if (name == "errlog-level") {
      if (!need(nullptr)) return false;
      core::Level l;
      if (!core::parseLevel(v, &l)) {
        *err = {
            "Invalid value for --errlog-level option. Expected: debug, info, notice, warn, "
            "error, crit, alert or emerg",
            2, false};
        return false;
      }
      cli->errlogLevel = v;
    } else if (name == "http-conf") {
      if (!need(&cli->httpConf)) return false;
    } else if (name == "http-include") {
      if (!need(&cli->httpInclude)) return false;
    } else if (name == "main-conf") {
      if (!need(&cli->mainConf)) return false;
    } else if (name == "main-include") {
      if (!need(&cli->mainInclude)) return false;
    } else if (name == "shdict") {
      if (!need(&cli->shdicts)) return false;
      if (!validShdict(v)) {
        *err = {"Invalid value for --shdict option. Expected: NAME SIZE", 2, false};
        return false;
      }
    } else if (name == "ns") {
      if (!need(&cli->ns)) return false;
      if (!validNameServer(v)) {
        *err = {"Invalid value for --ns option. Expected: IP", 2, false};
        return false;
      }
    } else if (name == "resolve-ipv6") {
      cli->resolveIpv6 = true;
    } else if (name == "nginx") {
      if (!need(nullptr)) return false;  // ignored: this binary is the server
    } else if (name == "no-stream") {
      // nothing to leave out
    } else if (name == "stream-conf") {
      *err = {"ERROR: --stream-conf is not supported: Lunet has no stream subsystem", 2, false};
      return false;
    } else if (name == "load-module") {
      *err = {
          "ERROR: --load-module is not supported: Lunet does not load nginx modules "
          "(its modules are built in)",
          2, false};
      return false;
    } else if (name == "gdb" || name == "rr" || name == "valgrind" || name == "valgrind-opts") {
      *err = {"ERROR: --" + name + " is not supported by Lunet's resty", 2, false};
      return false;
    } else {
      *err = {"Unknown option: " + name, 1, true};
      return false;
    }
  }
  cli->pre.assign(a.begin(), a.begin() + static_cast<long>(i));
  if (i < a.size()) {
    cli->file = a[i];
    cli->args.assign(a.begin() + static_cast<long>(i) + 1, a.end());
  }
  return true;
}

std::string absPath(const std::string& p) {
  if (!p.empty() && p[0] == '/') return p;
  char buf[4096];
  if (::getcwd(buf, sizeof(buf)) == nullptr) return p;
  return std::string(buf) + "/" + p;
}

bool isDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool isFile(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// A value in an nginx config string: double-quoted with \ and " escaped.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string buildConf(const Cli& cli) {
  std::string c;
  c += "daemon off;\nmaster_process off;\nworker_processes 1;\n";
  c += "error_log stderr " + cli.errlogLevel + ";\n";
  c += "events {\n    worker_connections " + std::to_string(cli.conns) + ";\n}\n";
  for (const auto& m : cli.mainConf) c += m + "\n";
  for (const auto& m : cli.mainInclude) c += "include " + quoted(absPath(m)) + ";\n";
  c += "http {\n    access_log off;\n";
  for (const auto& d : cli.shdicts) c += "    lua_shared_dict " + d + ";\n";
  if (!cli.incs.empty()) {
    std::string path, cpath;
    for (const auto& d : cli.incs) {
      std::string a = absPath(d);
      path += a + "/?.lua;" + a + "/?/init.lua;";
      cpath += a + "/?.so;";
    }
    c += "    lua_package_path " + quoted(path + ";") + ";\n";
    c += "    lua_package_cpath " + quoted(cpath + ";") + ";\n";
  }
  for (const auto& h : cli.httpConf) c += "    " + h + "\n";
  for (const auto& h : cli.httpInclude) c += "    include " + quoted(absPath(h)) + ";\n";
  c += "    init_by_lua_block { require(\"lunet.resty\").init() }\n";
  c += "    init_worker_by_lua_block { require(\"lunet.resty\").start() }\n";
  c += "}\n";
  return c;
}

void printVersion() {
  std::fprintf(stderr, "resty %s\n", kRestyVersion);
  std::fprintf(stderr, "lunet version: lunet/%s\n", LUNET_VERSION);
  std::fprintf(stderr, "nginx version: nginx/%s\n", LUNET_NGINX_VERSION);
}

// Removes the temporary prefix once the configuration is loaded (nothing
// under it is used afterwards: the log is stderr, there is no pid file).
void removeTree(const std::string& dir, const std::string& conf) {
  ::unlink(conf.c_str());
  ::rmdir((dir + "/conf").c_str());
  ::rmdir((dir + "/logs").c_str());
  ::rmdir(dir.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  Cli cli;
  CliError err;
  if (!parse(a, &cli, &err)) {
    std::fprintf(stderr, "%s\n", err.msg.c_str());
    if (err.usage) std::fputs(kUsage, stderr);
    return err.code;
  }
  if (cli.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cli.version) {
    printVersion();
    return 0;
  }
  for (const auto& d : cli.incs) {
    if (!isDir(d)) {
      std::fprintf(stderr, "Search directory %s is not found.\n", d.c_str());
      return 2;
    }
  }
  for (const auto& f : cli.mainInclude) {
    if (!isFile(absPath(f))) {
      std::fprintf(stderr, "Could not find main include '%s'\n", absPath(f).c_str());
      return 2;
    }
  }
  for (const auto& f : cli.httpInclude) {
    if (!isFile(absPath(f))) {
      std::fprintf(stderr, "Could not find http include '%s'\n", absPath(f).c_str());
      return 2;
    }
  }
  if (cli.code.empty() && !cli.file) {
    std::fprintf(stderr, "Neither Lua input file nor -e \"\" option specified.\n");
    return 2;
  }
  if (cli.file && !isFile(*cli.file)) {
    std::fprintf(stderr, "Lua input file %s not found.\n", cli.file->c_str());
    return 2;
  }

  lua::RestyParams p;
  if (!cli.code.empty()) {
    p.hasCode = true;
    for (size_t i = 0; i < cli.code.size(); i++) {
      if (i > 0) p.code += "; ";
      p.code += cli.code[i];
    }
  }
  if (cli.file) p.file = *cli.file;
  p.args = cli.args;
  p.pre = cli.pre;
  p.program = argv[0];
  p.libs = cli.libs;
  p.jit = cli.jit;
  p.exitNow = process::exitNow;
  p.done = process::requestGracefulExit;
  lua::setRestyParams(std::move(p));

  char tmpl[] = "/tmp/resty_XXXXXX";
  const char* dir = ::mkdtemp(tmpl);
  if (dir == nullptr) {
    std::fprintf(stderr, "ERROR: mkdtemp(/tmp/resty_XXXXXX) failed: %s\n", std::strerror(errno));
    return 1;
  }
  std::string prefix = std::string(dir) + "/";
  ::mkdir((prefix + "conf").c_str(), 0700);
  ::mkdir((prefix + "logs").c_str(), 0700);
  std::string confFile = prefix + "conf/nginx.conf";
  {
    std::ofstream out(confFile);
    out << buildConf(cli);
  }

  // Everything goes to stderr, from the first message on.
  auto startupLog = std::make_unique<core::ErrorLog>();
  startupLog->add("stderr", core::Level::kNotice);
  core::setProcessLog(startupLog.get());
  process::Options opts;
  opts.prefix = prefix;
  opts.confFile = confFile;
  process::CyclePtr cycle;
  try {
    cycle = process::loadCycle(opts);
  } catch (const conf::ConfError& e) {
    core::processLog().error(e.level(), 0, "%s", e.full().c_str());
    removeTree(dir, confFile);
    return 1;
  } catch (const std::exception& e) {
    core::processLog().error(core::Level::kEmerg, 0, "%s", e.what());
    removeTree(dir, confFile);
    return 1;
  }
  removeTree(dir, confFile);
  // Every environment variable reaches the script (as resty-cli's `env`
  // line per variable).
  for (char** e = environ; *e != nullptr; e++) {
    const char* eq = std::strchr(*e, '=');
    if (eq == nullptr) continue;
    cycle->core().env.emplace_back(std::string(*e, static_cast<size_t>(eq - *e)), std::nullopt);
  }
  core::setProcessLog(&cycle->errorLog);
  startupLog.reset();
  process::setCommandLineMode(lua::killAllPipes);
  return process::runSingle(std::move(cycle));
}

}  // namespace lunet::resty
