// Finding a request's configuration: the server{} of a listen address for a
// Host (exact, wildcard and regex server_names), and the location{} for a
// URI (exact, ^~, longest prefix, then regexes in order, nested), as nginx.
#include <cstring>

#include "http/connection.h"
#include "http/core_module.h"
#include "http/filter.h"
#include "http/phases.h"
#include "http/request_internal.h"

namespace lunet::http {

namespace {

bool wildcardMatch(const std::string& pat, std::string_view host) {
  if (pat.size() > 1 && pat[0] == '*' && pat[1] == '.') {
    std::string_view suffix(pat.data() + 1, pat.size() - 1);  // ".example.com"
    return host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix;
  }
  if (pat.size() > 1 && pat[0] == '.') {  // ".example.com": both
    std::string_view bare(pat.data() + 1, pat.size() - 1);
    if (host == bare) return true;
    return host.size() > pat.size() && host.substr(host.size() - pat.size()) == pat;
  }
  if (pat.size() > 1 && pat.back() == '*' && pat[pat.size() - 2] == '.') {
    std::string_view prefix(pat.data(), pat.size() - 1);  // "mail."
    return host.size() > prefix.size() && host.substr(0, prefix.size()) == prefix;
  }
  return false;
}

}  // namespace

const HttpCoreSrv* findServer(const ListenAddr* addr, std::string_view host, Request* r) {
  if (host.empty() || addr->servers.size() == 1) {
    if (!host.empty() && addr->servers.size() == 1) {
      // still match regex captures for $1 in server_name? rarely needed
    }
    return addr->defaultServer;
  }
  for (HttpCoreSrv* s : addr->servers) {
    for (const ServerName& n : s->names) {
      if (!n.regex && n.name == host) return s;
    }
  }
  const HttpCoreSrv* best = nullptr;
  size_t bestLen = 0;
  for (HttpCoreSrv* s : addr->servers) {  // leading wildcards, longest first
    for (const ServerName& n : s->names) {
      if (!n.regex && (n.name[0] == '*' || n.name[0] == '.') && n.name.size() > bestLen &&
          wildcardMatch(n.name, host)) {
        best = s;
        bestLen = n.name.size();
      }
    }
  }
  if (best) return best;
  for (HttpCoreSrv* s : addr->servers) {  // trailing wildcards
    for (const ServerName& n : s->names) {
      if (!n.regex && n.name.size() > bestLen && n.name.back() == '*' &&
          wildcardMatch(n.name, host)) {
        best = s;
        bestLen = n.name.size();
      }
    }
  }
  if (best) return best;
  for (HttpCoreSrv* s : addr->servers) {
    for (const ServerName& n : s->names) {
      if (n.regex) {
        int caps[60];
        int rc = n.regex->exec(host, caps, 60);
        if (rc > 0) {
          if (r != nullptr && n.regex->captureCount() > 0) {
            r->captures = r->arena.array<int>(static_cast<size_t>(rc) * 2);
            std::memcpy(r->captures, caps, sizeof(int) * 2 * static_cast<size_t>(rc));
            r->ncaptures = rc;
            r->captureSubject = host;
          }
          return s;
        }
      }
    }
  }
  return addr->defaultServer;
}

// ---- location matching -------------------------------------------------------------

namespace {

// Returns kOk (exact or ^~: stop), kAgain (prefix match: regexes may follow),
// kDeclined (nothing).
int findStatic(Request& r, const HttpCoreLoc* parent, const HttpCoreLoc** out) {
  const HttpCoreLoc* best = nullptr;
  std::string_view uri = r.uri;
  for (const HttpCoreLoc* l : parent->prefixLocs) {
    if (l->match == LocMatch::kExact) {
      if (uri == l->name) {
        *out = l;
        return kOk;
      }
      continue;
    }
    if (uri.size() >= l->name.size() && uri.compare(0, l->name.size(), l->name) == 0 &&
        (best == nullptr || l->name.size() > best->name.size())) {
      best = l;
    }
  }
  if (best == nullptr) return kDeclined;
  *out = best;
  return kAgain;
}

int findLoc(Request& r, const HttpCoreLoc* parent) {
  const HttpCoreLoc* found = nullptr;
  int rc = findStatic(r, parent, &found);
  if (rc == kOk) {
    r.locConf = found->level;
    return kOk;
  }
  if (rc == kAgain) {
    r.locConf = found->level;
    if (!found->prefixLocs.empty() || !found->regexLocs.empty()) {
      int nrc = findLoc(r, found);
      if (nrc == kOk) return kOk;
    }
    if (found->match == LocMatch::kNoRegex && r.locConf == found->level) return kOk;
    if (found->match == LocMatch::kNoRegex) return kOk;
  }
  for (const HttpCoreLoc* l : parent->regexLocs) {
    int caps[60];
    int n = l->regex->exec(r.uri, caps, 60);
    if (n > 0) {
      r.captures = r.arena.array<int>(static_cast<size_t>(n) * 2);
      std::memcpy(r.captures, caps, sizeof(int) * 2 * static_cast<size_t>(n));
      r.ncaptures = n;
      r.captureSubject = r.uri;
      r.locConf = l->level;
      if (!l->prefixLocs.empty() || !l->regexLocs.empty()) findLoc(r, l);
      return kOk;
    }
  }
  return rc == kAgain ? kAgain : kDeclined;
}

}  // namespace

int findLocation(Request& r) noexcept {
  r.locConf = r.srvConf;
  int rc = findLoc(r, r.cscf()->rootLoc);
  return rc == kDeclined ? kDeclined : kOk;
}

}  // namespace lunet::http
