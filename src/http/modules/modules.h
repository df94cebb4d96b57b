// The HTTP modules of src/http/modules (registered in src/modules.cc).
#pragma once

#include "conf/module.h"

namespace lunet::http {

const conf::Module& httpRewriteModule();
const conf::Module& httpStaticModule();
const conf::Module& httpHeadersModule();
const conf::Module& httpLogModule();
const conf::Module& httpEchoModule();
const conf::Module& httpStubStatusModule();

}  // namespace lunet::http
