// The compiled-in modules, in order. Like nginx's objs/ngx_modules.c: the
// order decides the module index, the order of phase handlers registered in
// postConfiguration, and the order of filters.
#include "http/modules/modules.h"

#include "conf/module.h"
#include "http/core_module.h"
#include "lua/module.h"
#include "process/core_module.h"
#include "upstream/upstream.h"

namespace lunet::conf {

std::span<const Module* const> allModules() {
  static const Module* const kModules[] = {
      &process::coreModule(),          &process::eventsModule(),
      &http::httpCoreModule(),         &http::httpLogModule(),
      &http::httpStaticModule(),       &http::httpRewriteModule(),
      &http::httpGzipModule(),         &http::httpHeadersModule(),
      &http::httpEchoModule(),         &http::httpStubStatusModule(),
      &http::httpNotModifiedModule(),  &http::httpRealipModule(),
      &http::httpAccessModule(),       &http::httpAuthBasicModule(),
      &http::httpMapModule(),          &http::httpGeoModule(),
      &http::httpSplitClientsModule(), &http::httpRefererModule(),
      &http::httpSecureLinkModule(),   &upstream::httpUpstreamModule(),
      &upstream::proxyModule(),        &lua::luaModule(),
      &lua::luaBalancerModule(),
  };
  static const bool indexed = [] {
    for (size_t i = 0; i < std::size(kModules); i++) kModules[i]->index = i;
    return true;
  }();
  (void)indexed;
  return kModules;
}

}  // namespace lunet::conf
