#include "os/proctitle.h"

#include <sys/prctl.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "core/log.h"

extern char** environ;

namespace lunet::os {

namespace {
char* gArea = nullptr;
size_t gAreaLen = 0;
std::string gCommandLine;
}  // namespace

// The heap copy of the original environment: workers later point environ at
// a filtered list (the `env` directive), but the strings stay ours. External
// linkage so the pointer is kept (and leak checkers see it as reachable).
char** gOriginalEnviron = nullptr;

void initProctitle(int argc, char** argv) {
  if (argc == 0 || argv[0] == nullptr) return;
  for (int i = 0; i < argc; i++) {
    if (i) gCommandLine += ' ';
    gCommandLine += argv[i];
  }
  // The argv strings and then the environ strings are contiguous; take the
  // whole run as the title area after moving both to the heap.
  char* start = argv[0];
  char* end = argv[0] + std::strlen(argv[0]) + 1;
  for (int i = 1; i < argc; i++) {
    if (argv[i] == end) end = argv[i] + std::strlen(argv[i]) + 1;
  }
  size_t n = 0;
  while (environ[n]) n++;
  char** env = new char*[n + 1];
  for (size_t i = 0; i < n; i++) {
    if (environ[i] == end) end = environ[i] + std::strlen(environ[i]) + 1;
    env[i] = strdup(environ[i]);
  }
  env[n] = nullptr;
  gOriginalEnviron = env;
  environ = env;
  for (int i = 0; i < argc; i++) argv[i] = strdup(argv[i]);
  gArea = start;
  gAreaLen = static_cast<size_t>(end - start);
}

void setProctitle(const char* title) {
  std::string t = std::string(core::gProgramName) + ": " + title;
  ::prctl(PR_SET_NAME, t.c_str(), 0, 0, 0);
  if (gArea == nullptr || gAreaLen == 0) return;
  size_t n = std::min(t.size(), gAreaLen - 1);
  std::memcpy(gArea, t.data(), n);
  std::memset(gArea + n, 0, gAreaLen - n);
}

const char* originalCommandLine() { return gCommandLine.c_str(); }

}  // namespace lunet::os
