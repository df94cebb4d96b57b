// map STRING $var { ... } (nginx's ngx_http_map_module): a variable whose
// value is looked up in a table by the value of STRING — exact keys, then
// (with `hostnames`) wildcard names, then regexes in config order, else
// `default`. Evaluated lazily on first read and cached for the request
// unless the map is `volatile`.
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "conf/cycle.h"
#include "http/modules/modules.h"
#include "http/regex.h"
#include "http/variables.h"

namespace lunet::http {

namespace {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;

struct Hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct RegexEntry {
  std::unique_ptr<Regex> regex;
  const ComplexValue* value;
};

struct Wildcard {
  std::string part;   // ".example.com" (head) or "www.example." (tail)
  bool bare = false;  // ".example.com": the name itself matches too
  const ComplexValue* value;
};

struct Map {
  ComplexValue source;
  std::vector<std::unique_ptr<ComplexValue>> values;
  std::unordered_map<std::string, const ComplexValue*, Hash, std::equal_to<>> exact;
  std::vector<Wildcard> heads, tails;
  std::vector<RegexEntry> regexes;
  const ComplexValue* dflt = nullptr;
  bool hostnames = false;
  bool isVolatile = false;
  int index = -1;
};

struct MapMain : ConfBase {
  std::vector<std::unique_ptr<Map>> maps;
  int64_t hashMaxSize = -1;
  int64_t hashBucketSize = -1;
};

const conf::Module& mod();

bool endsWith(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

const ComplexValue* findHost(const Map& m, std::string_view name) {
  const Wildcard* best = nullptr;
  for (const Wildcard& w : m.heads) {
    bool hit = (name.size() > w.part.size() && endsWith(name, w.part)) ||
               (w.bare && name == std::string_view(w.part).substr(1));
    if (hit && (best == nullptr || w.part.size() > best->part.size())) best = &w;
  }
  if (best != nullptr) return best->value;
  for (const Wildcard& w : m.tails) {
    bool hit = name.size() > w.part.size() && name.compare(0, w.part.size(), w.part) == 0;
    if (hit && (best == nullptr || w.part.size() > best->part.size())) best = &w;
  }
  return best != nullptr ? best->value : nullptr;
}

const ComplexValue* find(Request& r, const Map& m, std::string_view v) {
  // Keys were lowercased at load; the value is looked up lowercased too
  // (case-insensitive, as nginx), regexes see it as it is.
  char* low = static_cast<char*>(r.arena.alloc(v.size() + 1, 1));
  for (size_t i = 0; i < v.size(); i++) {
    char ch = v[i];
    low[i] = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch | 0x20) : ch;
  }
  std::string_view lv(low, v.size());
  auto it = m.exact.find(lv);
  if (it != m.exact.end()) return it->second;
  if (m.hostnames) {
    if (const ComplexValue* h = findHost(m, lv)) return h;
  }
  if (v.empty()) return nullptr;
  for (const RegexEntry& e : m.regexes) {
    int caps[60];
    int rc = e.regex->exec(v, caps, 60);
    if (rc <= 0) continue;
    // As nginx's ngx_http_regex_exec: the match's captures become the
    // request's $1..$9 (the value may use them).
    r.captures = r.arena.array<int>(static_cast<size_t>(rc) * 2);
    std::memcpy(r.captures, caps, sizeof(int) * 2 * static_cast<size_t>(rc));
    r.ncaptures = rc;
    r.captureSubject = v;
    return e.value;
  }
  return nullptr;
}

void mapGet(Request& r, std::string_view, VarValue* out, uintptr_t data) {
  const auto* m = reinterpret_cast<const Map*>(data);
  std::string_view v = m->source.eval(r);
  if (m->hostnames && !v.empty() && v.back() == '.') v.remove_suffix(1);
  const ComplexValue* val = find(r, *m, v);
  if (val == nullptr) val = m->dflt;
  out->data = val != nullptr ? val->eval(r) : std::string_view();
  out->notFound = false;
  if (!m->isVolatile) setIndexed(r, m->index, out->data);
}

std::string lowered(std::string_view s) {
  std::string o(s);
  for (char& c : o) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c | 0x20);
  }
  return o;
}

void addHostname(const ConfNode& n, Map& m, const std::string& key, const ComplexValue* v) {
  size_t star = key.find('*');
  bool head = key.size() > 1 && key[0] == '.' && star == std::string::npos;
  bool headStar = key.size() > 2 && key[0] == '*' && key[1] == '.' && star == 0 &&
                  key.find('*', 1) == std::string::npos;
  bool tailStar =
      key.size() > 2 && key.back() == '*' && key[key.size() - 2] == '.' && star == key.size() - 1;
  if (star != std::string::npos && !headStar && !tailStar) {
    fail(n, "invalid hostname or wildcard \"" + n.name + "\"");
  }
  if (head || headStar) {
    std::string part = headStar ? key.substr(1) : key;
    for (const Wildcard& w : m.heads) {
      if (w.part == part) fail(n, "conflicting parameter \"" + n.name + "\"");
    }
    m.heads.push_back({part, head, v});
  } else if (tailStar) {
    std::string part = key.substr(0, key.size() - 1);
    for (const Wildcard& w : m.tails) {
      if (w.part == part) fail(n, "conflicting parameter \"" + n.name + "\"");
    }
    m.tails.push_back({part, false, v});
  } else if (!m.exact.emplace(key, v).second) {
    fail(n, "conflicting parameter \"" + n.name + "\"");
  }
}

void addEntry(const ConfNode& n, Map& m) {
  if (n.block) fail(n, "unexpected \"{\"");
  if (n.args.empty() && n.name == "hostnames") {
    m.hostnames = true;
    return;
  }
  if (n.args.empty() && n.name == "volatile") {
    m.isVolatile = true;
    return;
  }
  if (n.args.size() != 1) fail(n, "invalid number of the map parameters");
  auto value = std::make_unique<ComplexValue>();
  value->compile(n, n.arg(0));
  const ComplexValue* v = value.get();
  m.values.push_back(std::move(value));
  const std::string& key = n.name;
  if (key == "default") {
    if (m.dflt != nullptr) fail(n, "duplicate default map parameter");
    m.dflt = v;
    return;
  }
  if (!key.empty() && key[0] == '~') {
    bool caseless = key.size() > 1 && key[1] == '*';
    std::string err;
    std::unique_ptr<Regex> re(Regex::compile(key.substr(caseless ? 2 : 1), caseless, &err));
    if (!re) fail(n, err);
    m.regexes.push_back({std::move(re), v});
    return;
  }
  std::string_view k = key;
  if (!k.empty() && k[0] == '\\') k.remove_prefix(1);
  std::string lk = lowered(k);
  if (m.hostnames) {
    addHostname(n, m, lk, v);
  } else if (!m.exact.emplace(std::move(lk), v).second) {
    fail(n, "conflicting parameter \"" + std::string(k) + "\"");
  }
}

// map STRING $var { ... }
void setMap(Engine& e, const ConfNode& n, ConfBase*, const Directive&) {
  auto* main = static_cast<MapMain*>(e.cycle().confs[mod().index].get());
  const std::string& name = n.arg(1);
  if (name.size() < 2 || name[0] != '$') fail(n, "invalid variable name \"" + name + "\"");
  auto m = std::make_unique<Map>();
  m->source.compile(n, n.arg(0));
  for (const ConfNode& c : n.children) addEntry(c, *m);
  std::string var = name.substr(1);
  Variable* v = addVariable(var, mapGet, reinterpret_cast<uintptr_t>(m.get()), 0);
  // As ngx_http_add_variable: a built-in that cannot change is a duplicate;
  // a changeable one (set, another map) gets this map as its getter.
  if (v->get != mapGet && !(v->flags & kVarChangeable)) {
    fail(n, "the duplicate \"" + var + "\" variable");
  }
  v->get = mapGet;
  v->data = reinterpret_cast<uintptr_t>(m.get());
  v->flags |= kVarChangeable;
  m->index = variableIndex(var, false);
  main->maps.push_back(std::move(m));
}

const Directive kDirectives[] = {
    {"map", conf::kHttpMainCtx, conf::kBlock | conf::kTake2, setMap, conf::Slot::kNone},
    {"map_hash_max_size", conf::kHttpMainCtx, conf::kTake1, conf::setNumber<&MapMain::hashMaxSize>,
     conf::Slot::kMain},
    {"map_hash_bucket_size", conf::kHttpMainCtx, conf::kTake1,
     conf::setNumber<&MapMain::hashBucketSize>, conf::Slot::kMain},
};

const conf::Module kModule{
    .name = "http_map",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .nginxModules = "http_map_module",
    .createMain = [] { return conf::ConfPtr(std::make_unique<MapMain>()); },
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& httpMapModule() { return kModule; }

}  // namespace lunet::http
