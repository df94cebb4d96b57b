// `-V`'s "configure arguments:" line, generated from the module table.
//
// Test harnesses (nginx's own test suite, Test::Nginx) decide which tests to
// run from this line: a default nginx module they see as `--without-X` is
// skipped, an optional one counts only when `--with-X` is there. So the line
// must say exactly what this binary has. Every standard nginx module is listed
// in kNginxModules (configure_args.cc) with its kind; a Lunet module claims the
// ones it implements in Module::nginxModules. Nothing else decides the line.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "conf/module.h"

namespace lunet::conf {

// How nginx's configure treats a module or feature.
enum class NginxModuleKind : uint8_t {
  kDefault,   // built unless `--without-NAME`
  kOptional,  // built only with `--with-NAME`
};

struct NginxModule {
  std::string_view name;  // as in the option: "http_proxy_module", "http-cache", "stream"
  NginxModuleKind kind;
};

// Every standard module and feature of nginx 1.27's configure that a harness
// may look for, in configure's order.
std::span<const NginxModule> standardNginxModules();

// True when one of `modules` claims `name` in its nginxModules list.
bool provides(std::span<const Module* const> modules, std::string_view name);

// The options after "configure arguments: " for `modules`: `--prefix=PREFIX`,
// then `--with-NAME` for each optional entry some module provides, then
// `--without-NAME` for each default entry none provides.
std::string configureArguments(std::span<const Module* const> modules, std::string_view prefix);

// Names in the modules' nginxModules lists that kNginxModules lacks (typos);
// empty when the table and the modules agree.
std::vector<std::string> unknownNginxModules(std::span<const Module* const> modules);

}  // namespace lunet::conf
