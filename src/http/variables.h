// Variables: the named values of the config language ($uri, $http_host ...).
//
// Modules register variables at config time (addVariable, usually from a
// `preconfiguration`-like hook — here: the http core calls registerCore*;
// other modules call addVariable from their directive setters or
// postConfiguration). Prefix variables ($http_*, $arg_*, $cookie_*,
// $sent_http_*) resolve any name with that prefix. `set $x ...` and other
// writable variables are *indexed*: their value lives in r.variables[index].
//
// Complex values ("text $var ${var}text $1") are compiled once at config time
// and evaluated per request into the request arena.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"

namespace lunet::http {

struct VarValue {
  std::string_view data;
  bool notFound = true;
};

// Getter: fills *out for `name` (the full name, for prefix variables).
using VarGetter = void (*)(Request& r, std::string_view name, VarValue* out, uintptr_t data);
using VarSetter = void (*)(Request& r, std::string_view value, uintptr_t data);

enum VarFlags : uint32_t {
  kVarChangeable = 1,   // `set` may redefine it
  kVarNoCache = 2,      // re-evaluate on every read
  kVarPrefix = 4,       // matches every name starting with `name`
  kVarIndexed = 8,      // value stored in r.variables[index]
  kVarDeclared = 16,    // defined by `set`/`set_by_lua` (variableIndex(..., true))
  kVarReferenced = 32,  // used in a value before anything defined it
};

struct Variable {
  std::string name;  // lowercase, without '$'
  VarGetter get = nullptr;
  VarSetter set = nullptr;
  uintptr_t data = 0;
  uint32_t flags = 0;
  int index = -1;
  std::string firstUse;  // kVarReferenced: "FILE:LINE" of the first use
};

// nginx resolves variable names once the whole http{} block is read, so a
// value may use a variable that a later `set` defines. Throws ConfError
// ("unknown "x" variable") for a name that was used but never defined.
void checkUndefinedVariables();

// Registers (or returns the existing) variable. Config time only; throws
// nothing. Prefix names end in '_' ("http_").
Variable* addVariable(std::string_view name, VarGetter get, uintptr_t data, uint32_t flags);
// Index of an indexed variable, creating it when `create` (for `set`):
// returns -1 if unknown. Config time only.
int variableIndex(std::string_view name, bool create);
// Known at all (exact or prefix)? Config time.
bool variableExists(std::string_view name);

// Reads a variable by name at run time (Lua's ngx.var.NAME).
VarValue getVariable(Request& r, std::string_view name) noexcept;
// Reads an indexed variable.
VarValue getIndexed(Request& r, int index) noexcept;
// Called when a variable that only `set` defines is read before being set
// (the rewrite module warns, as nginx's uninitialized_variable_warn).
using UninitializedVariableHook = void (*)(Request& r, std::string_view name) noexcept;
void setUninitializedVariableHook(UninitializedVariableHook h) noexcept;
// Writes an indexed / settable variable. Returns false if not writable.
bool setVariable(Request& r, std::string_view name, std::string_view value) noexcept;
// As setVariable, telling apart a name that is no variable (kNotFound; prefix
// variables such as $http_* count as not found, as in nginx) from a built-in
// one that cannot be written (kNotChangeable).
enum class SetVarResult { kOk, kNotFound, kNotChangeable };
SetVarResult trySetVariable(Request& r, std::string_view name, std::string_view value) noexcept;
void setIndexed(Request& r, int index, std::string_view value) noexcept;
size_t indexedCount();

// A string with variables, compiled at config time.
class ComplexValue {
 public:
  // Compiles `text`; throws conf::ConfError via fail() on unknown variables.
  void compile(const conf::ConfNode& node, std::string_view text);
  bool isLiteral() const { return parts_.size() <= 1 && (parts_.empty() || parts_[0].kind == 0); }
  std::string_view literal() const { return literal_; }
  // Evaluates into r's arena.
  std::string_view eval(Request& r) const noexcept;
  const std::string& source() const { return source_; }

 private:
  struct Part {
    int kind = 0;      // 0 literal, 1 variable, 2 capture $N
    std::string text;  // literal or variable name
    int index = -1;    // variable index (indexed) or capture number
  };
  std::vector<Part> parts_;
  std::string literal_;
  std::string source_;
};

// The variables an `access_log`/`return` can use that describe the request
// line; registered by the core module at http{} start.
void registerCoreVariables();

}  // namespace lunet::http
