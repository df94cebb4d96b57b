// stub_status: connection and request counters.
#include <cstdio>

#include "http/connection.h"
#include "http/core_module.h"
#include "http/modules/modules.h"

namespace lunet::http {

namespace {

int handler(Request& r) {
  if (!(r.method & (kGet | kHead))) return 405;
  const Stats s = stats();
  char* p = static_cast<char*>(r.arena.alloc(256, 1));
  int n =
      std::snprintf(p, 256,
                    "Active connections: %lld \nserver accepts handled requests\n %llu %llu "
                    "%llu \nReading: %lld Writing: %lld Waiting: %lld \n",
                    static_cast<long long>(s.active), static_cast<unsigned long long>(s.accepts),
                    static_cast<unsigned long long>(s.handled),
                    static_cast<unsigned long long>(s.requests), static_cast<long long>(s.reading),
                    static_cast<long long>(s.writing), static_cast<long long>(s.waiting));
  r.headersOut.list.add(r.arena, "Cache-Control", "no-cache");
  int rc = sendResponse(r, 200, "text/plain", {p, static_cast<size_t>(n)});
  return rc == kError ? kError : kOk;
}

void setStubStatus(conf::Engine& e, const conf::ConfNode&, conf::ConfBase*,
                   const conf::Directive&) {
  auto* clcf = const_cast<HttpCoreLoc*>(coreLoc(e.level()));
  clcf->handler = handler;
}

const conf::Directive kDirectives[] = {
    {"stub_status", conf::kHttpSrvCtx | conf::kHttpLocCtx, conf::kNoArgs | conf::kTake1,
     setStubStatus, conf::Slot::kNone},
};

const conf::Module kModule{
    .name = "http_stub_status",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .nginxModules = "http_stub_status_module",
};

}  // namespace

const conf::Module& httpStubStatusModule() { return kModule; }

}  // namespace lunet::http
