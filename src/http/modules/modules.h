// The HTTP modules of src/http/modules (registered in src/modules.cc).
#pragma once

#include "conf/module.h"
#include "http/request.h"

namespace lunet::http {

const conf::Module& httpRewriteModule();
const conf::Module& httpStaticModule();
const conf::Module& httpHeadersModule();
const conf::Module& httpLogModule();
const conf::Module& httpEchoModule();
const conf::Module& httpStubStatusModule();
const conf::Module& httpNotModifiedModule();
const conf::Module& httpAccessModule();
const conf::Module& httpMapModule();
const conf::Module& httpAuthBasicModule();
const conf::Module& httpGeoModule();
const conf::Module& httpSplitClientsModule();
const conf::Module& httpRefererModule();
const conf::Module& httpSecureLinkModule();
const conf::Module& httpRealipModule();
const conf::Module& httpGzipModule();

// A rewrite-module script op run in config order among set/rewrite/return/if
// (nginx modules such as set_by_lua append ops to the rewrite script).
// fn returns kDeclined to go on with the next op, anything else stops the
// script with that result (an HTTP status or kError finalizes the request).
using RewriteCallOp = int (*)(Request& r, const void* data);
// Appends a call op to the op list of the block being parsed (server,
// location or if); call it from a directive's setter.
void addRewriteCallOp(conf::Engine& e, RewriteCallOp fn, const void* data);

}  // namespace lunet::http
