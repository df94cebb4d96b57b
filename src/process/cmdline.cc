#include "process/cmdline.h"

namespace lunet::process {

namespace {

std::string absolute(const std::string& p, const std::string& base) {
  if (!p.empty() && p[0] == '/') return p;
  return base + p;
}

}  // namespace

CommandLine parseCommandLine(const std::vector<std::string>& args, const std::string& cwd,
                             const std::string& defaultPrefix) {
  CommandLine cl;
  Options& o = cl.options;
  std::string confFile;
  bool prefixSet = false;
  for (size_t i = 0; i < args.size(); i++) {
    const std::string& a = args[i];
    if (a.empty() || a[0] != '-') {
      cl.error = "invalid option: \"" + a + "\"";
      return cl;
    }
    for (size_t j = 1; j < a.size(); j++) {
      char opt = a[j];
      // An option's value is the rest of this word or the next word.
      auto value = [&](const char* what, std::string* out) -> bool {
        if (j + 1 < a.size()) {
          *out = a.substr(j + 1);
          j = a.size();
          return true;
        }
        if (i + 1 < args.size()) {
          *out = args[++i];
          j = a.size();
          return true;
        }
        cl.error = std::string("option \"-") + opt + "\" requires " + what;
        return false;
      };
      switch (opt) {
        case '?':
        case 'h':
          cl.help = cl.showVersion = true;
          break;
        case 'v':
          cl.showVersion = true;
          break;
        case 'V':
          cl.showVersion = cl.showConfigure = true;
          break;
        case 't':
          o.testOnly = true;
          break;
        case 'T':
          o.testOnly = cl.dump = true;
          break;
        case 'q':
          o.quiet = true;
          break;
        case 'p':
          if (!value("directory name", &o.prefix)) return cl;
          prefixSet = true;
          break;
        case 'e':
          if (!value("file name", &o.errorLog)) return cl;
          break;
        case 'c':
          if (!value("file name", &confFile)) return cl;
          break;
        case 'g':
          if (!value("directives", &o.directives)) return cl;
          break;
        case 's':
          if (!value("signal", &cl.signal)) return cl;
          if (cl.signal != "stop" && cl.signal != "quit" && cl.signal != "reopen" &&
              cl.signal != "reload") {
            cl.error = "invalid option: \"-s " + cl.signal + "\"";
            return cl;
          }
          break;
        default:
          cl.error = std::string("invalid option: \"") + opt + "\"";
          return cl;
      }
    }
  }
  if (!prefixSet) o.prefix = defaultPrefix;
  o.prefix = absolute(o.prefix, cwd);
  if (o.prefix.back() != '/') o.prefix += '/';
  // nginx resolves a relative -c against the prefix, not the working directory.
  o.confFile = confFile.empty() ? o.prefix + "conf/nginx.conf" : absolute(confFile, o.prefix);
  if (!o.errorLog.empty() && o.errorLog != "stderr") o.errorLog = absolute(o.errorLog, o.prefix);
  return cl;
}

}  // namespace lunet::process
