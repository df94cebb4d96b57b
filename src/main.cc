// The `lunet` command line — nginx's: lunet [-?hvVtTq] [-s signal] [-p prefix]
// [-e error_log] [-c conf] [-g directives]. Also runs as `nginx` (symlink).
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <set>
#include <string>

#include "cli/resty.h"
#include "conf/configure_args.h"
#include "core/log.h"
#include "core/time.h"
#include "lunet/version.h"
#include "os/proctitle.h"
#include "process/cmdline.h"
#include "process/process.h"

using lunet::core::Level;
using lunet::core::stderrMessage;

namespace {

void printVersion(bool full) {
  std::fprintf(stderr, "lunet version: lunet/%s\n", LUNET_VERSION);
  std::fprintf(stderr, "nginx version: nginx/%s\n", LUNET_NGINX_VERSION);
  if (!full) return;
  std::fprintf(stderr, "built by gcc %s\n", __VERSION__);
  std::fprintf(stderr, "built with %s\n", OpenSSL_version(OPENSSL_VERSION));
  auto modules = lunet::conf::allModules();
  // nginx-tests read this line as "has SNI"; it is true only with TLS.
  if (lunet::conf::provides(modules, "http_ssl_module")) {
    std::fprintf(stderr, "TLS SNI support enabled\n");
  }
  // Test harnesses read this line to learn which standard modules exist; it
  // is generated from the module table (conf/configure_args.h).
  std::fprintf(stderr, "configure arguments: %s\n",
               lunet::conf::configureArguments(modules, LUNET_DEFAULT_PREFIX).c_str());
}

void printUsage() {
  std::fprintf(stderr,
               "Usage: %s [-?hvVtTq] [-s signal] [-p prefix]\n"
               "             [-e filename] [-c filename] [-g directives]\n\n"
               "Options:\n"
               "  -?,-h         : this help\n"
               "  -v            : show version and exit\n"
               "  -V            : show version and configure options then exit\n"
               "  -t            : test configuration and exit\n"
               "  -T            : test configuration, dump it and exit\n"
               "  -q            : suppress non-error messages during configuration testing\n"
               "  -s signal     : send signal to a master process: stop, quit, reopen, reload\n"
               "  -p prefix     : set prefix path (default: %s)\n"
               "  -e filename   : set error log file (default: logs/error.log)\n"
               "  -c filename   : set configuration file (default: conf/nginx.conf)\n"
               "  -g directives : set global directives out of configuration file\n\n",
               lunet::core::gProgramName, LUNET_DEFAULT_PREFIX);
}

std::string cwd() {
  char buf[4096];
  if (::getcwd(buf, sizeof(buf)) == nullptr) return "/";
  std::string s = buf;
  if (s.back() != '/') s += '/';
  return s;
}

int sendSignal(const lunet::process::Cycle& cycle, const std::string& name) {
  int sig = 0;
  if (name == "stop") {
    sig = SIGTERM;
  } else if (name == "quit") {
    sig = SIGQUIT;
  } else if (name == "reopen") {
    sig = SIGUSR1;
  } else if (name == "reload") {
    sig = SIGHUP;
  }
  std::string path = cycle.fullPath(*cycle.core().pid);
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) {
    int e = errno;
    lunet::core::processLog().error(Level::kError, e ? e : ENOENT, "open() \"%s\" failed",
                                    path.c_str());
    return 1;
  }
  if (::kill(static_cast<pid_t>(pid), sig) != 0) {
    lunet::core::processLog().error(Level::kAlert, errno, "kill(%ld, %d) failed", pid, sig);
    return 1;
  }
  return 0;
}

void dumpConfig(const lunet::process::Cycle& cycle) {
  std::set<std::string> seen;
  std::vector<std::string> order;
  std::function<void(const std::vector<lunet::conf::ConfNode>&)> walk =
      [&](const std::vector<lunet::conf::ConfNode>& nodes) {
        for (const auto& n : nodes) {
          if (n.file && seen.insert(*n.file).second) order.push_back(*n.file);
          walk(n.children);
        }
      };
  seen.insert(cycle.options.confFile);
  order.push_back(cycle.options.confFile);
  walk(cycle.tree);
  for (const auto& f : order) {
    if (f == "command line") continue;
    std::printf("# configuration file %s:\n", f.c_str());
    std::ifstream in(f);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fwrite(content.data(), 1, content.size(), stdout);
    if (content.empty() || content.back() != '\n') std::printf("\n");
    std::printf("\n");
  }
}

bool daemonize() {
  pid_t pid = ::fork();
  if (pid < 0) {
    lunet::core::processLog().error(Level::kEmerg, errno, "fork() failed");
    return false;
  }
  if (pid > 0) ::_exit(0);
  if (::setsid() < 0) return false;
  ::umask(0);
  return true;
}

void redirectStdio(const lunet::process::Cycle& cycle) {
  int fd = ::open("/dev/null", O_RDWR);
  if (fd < 0) return;
  ::dup2(fd, STDIN_FILENO);
  ::dup2(fd, STDOUT_FILENO);
  ::close(fd);
  // Anything a library prints to stderr ends up in the error log.
  for (const auto& s : cycle.errorLog.sinks()) {
    if (s.fd >= 0 && s.fd != STDERR_FILENO) {
      ::dup2(s.fd, STDERR_FILENO);
      break;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  {
    const char* base = std::strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    if (std::strcmp(base, "nginx") == 0) lunet::core::gProgramName = "nginx";
    // The same binary is the `resty` command (a link named resty).
    if (std::strcmp(base, "resty") == 0) {
      lunet::core::gProgramName = "resty";
      lunet::core::updateTime();
      return lunet::resty::main(argc, argv);
    }
  }
  lunet::os::initProctitle(argc, argv);
  lunet::core::updateTime();

  std::vector<std::string> args(argv + 1, argv + argc);
  lunet::process::CommandLine cl =
      lunet::process::parseCommandLine(args, cwd(), LUNET_DEFAULT_PREFIX);
  if (!cl.error.empty()) {
    stderrMessage(Level::kEmerg, "%s", cl.error.c_str());
    return 1;
  }
  if (cl.showVersion) {
    printVersion(cl.showConfigure);
    if (cl.help) printUsage();
    return 0;
  }
  lunet::process::Options& opts = cl.options;
  const std::string& signalName = cl.signal;
  bool dump = cl.dump;

  if (!signalName.empty()) lunet::process::setProcessType(lunet::process::ProcessType::kSignaller);

  // The startup log, as nginx's ngx_log_init: the -e file, else the
  // compiled-in logs/error.log under the prefix. Everything found while
  // reading the config goes there (and, at warn or above, to stderr as
  // "lunet: [emerg] ..."); from the moment the config is loaded the
  // configured error_log takes over (bind failures, pid file).
  auto startupLog = std::make_unique<lunet::core::ErrorLog>();
  {
    std::string path = opts.errorLog.empty() ? opts.prefix + "logs/error.log" : opts.errorLog;
    int err = startupLog->add(path, Level::kNotice);
    if (err != 0) {
      stderrMessage(Level::kAlert, "could not open error log file: open() \"%s\" failed (%d: %s)",
                    path.c_str(), err, std::strerror(err));
      startupLog->add("stderr", Level::kNotice);
    }
  }
  lunet::core::setProcessLog(startupLog.get());
  lunet::core::setStartupEcho(true);

  lunet::process::CyclePtr cycle;
  try {
    cycle = lunet::process::loadCycle(opts);
  } catch (const lunet::conf::ConfError& e) {
    lunet::core::processLog().error(e.level(), 0, "%s", e.full().c_str());
    if (opts.testOnly) {
      stderrMessage(Level::kStderr, "configuration file %s test failed", opts.confFile.c_str());
    }
    return 1;
  } catch (const std::exception& e) {
    lunet::core::processLog().error(Level::kEmerg, 0, "%s", e.what());
    if (opts.testOnly) {
      stderrMessage(Level::kStderr, "configuration file %s test failed", opts.confFile.c_str());
    }
    return 1;
  }

  if (opts.testOnly) {
    if (!opts.quiet) {
      stderrMessage(Level::kStderr, "the configuration file %s syntax is ok",
                    opts.confFile.c_str());
      stderrMessage(Level::kStderr, "configuration file %s test is successful",
                    opts.confFile.c_str());
    }
    if (dump) dumpConfig(*cycle);
    return 0;
  }
  // A signaller reports to the startup log, as nginx's does.
  if (!signalName.empty()) return sendSignal(*cycle, signalName);
  lunet::core::setProcessLog(&cycle->errorLog);
  startupLog.reset();

  const auto& cc = cycle->core();
  bool master = cc.masterProcess != 0;
  if (!lunet::process::openListeningSockets(*cycle, nullptr)) return 1;
  if (cc.daemon != 0 && !daemonize()) return 1;
  if (!lunet::process::writePidFile(*cycle)) return 1;
  // Started: from here on errors go to the error log only (a daemon's stderr
  // becomes the error log too).
  lunet::core::setStartupEcho(false);
  if (cc.daemon != 0) redirectStdio(*cycle);
  return master ? lunet::process::runMaster(std::move(cycle))
                : lunet::process::runSingle(std::move(cycle));
}
