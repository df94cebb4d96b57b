// The phase engine (nginx's phase handlers, run in order per request) and
// the filter chains' registry (per cycle, with trampolines for "next").
#include "http/phases.h"

#include <array>
#include <utility>

#include "http/connection.h"
#include "http/core_module.h"
#include "http/filter.h"
#include "http/request_internal.h"

namespace lunet::http {

namespace {

using PhEntry = PhaseEntry;

// The tables requests of this process run with (installTables), and the
// cycle whose tables are being built (config time, in the master).
HttpTables* gActive = nullptr;
HttpCoreMain* gLoading = nullptr;

// Filter functions get a slot the first time they are pushed; the same
// function always has the same slot, so the "next" a module keeps in a
// static (a trampoline bound to its slot) is right for every cycle: the
// trampoline looks the real next filter up in the active tables.
HeaderFilter gHeaderSlots[kMaxFilters] = {};
BodyFilter gBodySlots[kMaxFilters] = {};

template <size_t N>
int headerTrampoline(Request& r) {
  return gActive->headerNext[N](r);
}
template <size_t N>
int bodyTrampoline(Request& r, Buf* in) {
  return gActive->bodyNext[N](r, in);
}
template <size_t... I>
constexpr auto headerTrampolines(std::index_sequence<I...>) {
  return std::array<HeaderFilter, sizeof...(I)>{&headerTrampoline<I>...};
}
template <size_t... I>
constexpr auto bodyTrampolines(std::index_sequence<I...>) {
  return std::array<BodyFilter, sizeof...(I)>{&bodyTrampoline<I>...};
}
constexpr auto kHeaderTramps = headerTrampolines(std::make_index_sequence<kMaxFilters>());
constexpr auto kBodyTramps = bodyTrampolines(std::make_index_sequence<kMaxFilters>());

template <typename F>
size_t filterSlot(F (&slots)[kMaxFilters], F f) {
  for (size_t i = 0; i < kMaxFilters; i++) {
    if (slots[i] == f) return i;
    if (slots[i] == nullptr) {
      slots[i] = f;
      return i;
    }
  }
  throw conf::ConfError("too many filters");
}

HttpTables& loadingTables() {
  HttpCoreMain* m = gLoading != nullptr ? gLoading : coreMain();
  if (m == nullptr) throw conf::ConfError("filters pushed outside of http{}");
  return m->tables;
}

}  // namespace

// ---- phase engine ---------------------------------------------------------------

void addPhaseHandler(Phase p, PhaseHandler h) {
  HttpCoreMain* m = gLoading != nullptr ? gLoading : coreMain();
  m->phases[static_cast<int>(p)].push_back(h);
}

void buildPhaseEngine(HttpCoreMain& m) {
  HttpTables& t = m.tables;
  std::vector<PhEntry>& engine = t.engine;
  engine.clear();
  for (int p = 0; p < static_cast<int>(Phase::kLog); p++) {
    auto phase = static_cast<Phase>(p);
    int start = static_cast<int>(engine.size());
    if (phase == Phase::kServerRewrite) t.serverRewriteIdx = start;
    if (phase == Phase::kRewrite) t.rewriteIdx = start;
    if (phase == Phase::kFindConfig) t.findConfigIdx = start;
    if (phase == Phase::kFindConfig || phase == Phase::kPostRewrite ||
        phase == Phase::kPostAccess || phase == Phase::kContent) {
      engine.push_back({phase, nullptr, 0});
    }
    if (phase != Phase::kFindConfig && phase != Phase::kPostRewrite &&
        phase != Phase::kPostAccess) {
      for (PhaseHandler h : m.phases[p]) engine.push_back({phase, h, 0});
    }
    int end = static_cast<int>(engine.size());
    for (int i = start; i < end; i++) engine[i].next = end;
  }
  engine.push_back({Phase::kLog, nullptr, static_cast<int>(engine.size())});
}

void resetFilters() {
  HttpTables& t = loadingTables();
  t.topHeader = headerFilterBottom;
  t.topBody = bodyFilterBottom;
  t.topMain = chunkedFilter;
}

void setLoadingMain(HttpCoreMain* m) noexcept { gLoading = m; }
void installTables(HttpCoreMain* m) noexcept { gActive = m ? &m->tables : nullptr; }

HeaderFilter pushHeaderFilter(HeaderFilter f) {
  HttpTables& t = loadingTables();
  size_t slot = filterSlot(gHeaderSlots, f);
  t.headerNext[slot] = std::exchange(t.topHeader, f);
  return kHeaderTramps[slot];
}
BodyFilter pushBodyFilter(BodyFilter f) {
  HttpTables& t = loadingTables();
  size_t slot = filterSlot(gBodySlots, f);
  t.bodyNext[slot] = std::exchange(t.topBody, f);
  return kBodyTramps[slot];
}
BodyFilter pushMainBodyFilter(BodyFilter f) {
  HttpTables& t = loadingTables();
  size_t slot = filterSlot(gBodySlots, f);
  t.bodyNext[slot] = std::exchange(t.topMain, f);
  return kBodyTramps[slot];
}
HeaderFilter topHeaderFilter() { return gActive ? gActive->topHeader : loadingTables().topHeader; }
BodyFilter topBodyFilter() { return gActive ? gActive->topBody : loadingTables().topBody; }

Phase currentPhase(const Request& r) noexcept {
  const std::vector<PhEntry>& engine = gActive->engine;
  if (r.phaseHandler < 0 || r.phaseHandler >= static_cast<int>(engine.size())) return Phase::kLog;
  return engine[r.phaseHandler].phase;
}

namespace {

// Handles one handler result; returns true to keep running phases.
bool handleResult(Request& r, const PhEntry& e, int rc) {
  if (rc == kDeclined) {
    r.phaseHandler++;
    return true;
  }
  if (rc == kOk) {
    r.phaseHandler = e.next;
    return true;
  }
  if (rc == kAgain || rc == kDone) return false;
  finalize(r, rc);
  return false;
}

int contentPhase(Request& r, const PhEntry& e) {
  (void)e;
  const HttpCoreLoc* clcf = r.clcf();
  const std::vector<PhEntry>& engine = gActive->engine;
  if (clcf->handler != nullptr && engine[r.phaseHandler].h == nullptr) {
    r.phaseHandler = static_cast<int>(engine.size()) - 1;  // nothing after content
    finalize(r, clcf->handler(r));
    return kDone;
  }
  return kDeclined;
}

}  // namespace

void runPhases(Request& r) noexcept {
  while (true) {
    const PhEntry& e = gActive->engine[r.phaseHandler];
    switch (e.phase) {
      case Phase::kFindConfig: {
        r.locConf = r.srvConf;
        findLocation(r);
        const HttpCoreLoc* clcf = r.clcf();
        if (clcf->internal && !r.internal) {
          finalize(r, 404);
          return;
        }
        if (clcf->limitExcept != 0 && !(r.method & clcf->limitExcept) && clcf->limitExceptDeny) {
          // nginx switches to the limit_except block's configuration here;
          // with "deny all" nothing of the location runs: 403.
          LUNET_LOG(r.log, core::Level::kError, 0, "access forbidden by rule");
          finalize(r, 403);
          return;
        }
        r.log.setSinks(clcf->ownErrorLog ? clcf->ownErrorLog.get() : r.log.sinks());
        if (r.main == &r && !r.internal) {
          int64_t max = clcf->clientMaxBodySize;
          if (max > 0 && r.headersIn.contentLengthN > max) {
            LUNET_LOG(r.log, core::Level::kError, 0,
                      "client intended to send too large body: %lld bytes",
                      static_cast<long long>(r.headersIn.contentLengthN));
            r.keepAlive = false;
            finalize(r, 413);
            return;
          }
        }
        if (r.main == &r && r.conn->requests >= static_cast<uint32_t>(clcf->keepaliveRequests)) {
          r.keepAlive = false;
        }
        if (clcf->keepaliveTimeout == 0) r.keepAlive = false;
        r.phaseHandler++;
        continue;
      }
      case Phase::kPostRewrite:
        if (r.uriChanged) {
          r.uriChanged = false;
          if (--r.uriChanges == 0) {
            LUNET_LOG(r.log, core::Level::kError, 0,
                      "rewrite or internal redirection cycle while processing \"%.*s\"",
                      static_cast<int>(r.uri.size()), r.uri.data());
            finalize(r, 500);
            return;
          }
          r.phaseHandler = gActive->findConfigIdx;
          continue;
        }
        r.phaseHandler++;
        continue;
      case Phase::kAccess: {
        // nginx's ngx_http_core_access_phase: subrequests skip it; with
        // `satisfy any` the first handler that allows ends the phase and a
        // denial (403/401) is only remembered for kPostAccess.
        if (r.main != &r) {
          r.phaseHandler = e.next;
          continue;
        }
        int rc = e.h(r);
        if (rc == kDeclined) {
          r.phaseHandler++;
          continue;
        }
        if (rc == kAgain || rc == kDone) return;
        if (r.clcf()->satisfy == 0) {
          if (rc == kOk) {
            r.phaseHandler++;
            continue;
          }
        } else {
          if (rc == kOk) {
            r.accessCode = 0;
            r.phaseHandler = e.next;
            continue;
          }
          if (rc == 403 || rc == 401) {
            if (r.accessCode != 401) r.accessCode = rc;
            r.phaseHandler++;
            continue;
          }
        }
        finalize(r, rc);
        return;
      }
      case Phase::kPostAccess:
        if (r.accessCode != 0) {
          int code = std::exchange(r.accessCode, 0);
          if (code == 403) LUNET_LOG(r.log, core::Level::kError, 0, "access forbidden by rule");
          finalize(r, code);
          return;
        }
        r.phaseHandler++;
        continue;
      case Phase::kContent: {
        if (e.h == nullptr) {
          if (contentPhase(r, e) == kDone) return;
          r.phaseHandler++;
          continue;
        }
        int rc = e.h(r);
        if (rc == kDeclined) {
          r.phaseHandler++;
          continue;
        }
        finalize(r, rc);
        return;
      }
      case Phase::kLog:
        // Ran out of content handlers.
        finalize(r, !r.uri.empty() && r.uri.back() == '/' ? 403 : 404);
        return;
      default:
        if (e.h == nullptr) {
          r.phaseHandler++;
          continue;
        }
        if (!handleResult(r, e, e.h(r))) return;
        continue;
    }
  }
}

void resume(Request& r) noexcept { runPhases(r); }

void resumeWith(Request& r, int rc) noexcept {
  const PhEntry& e = gActive->engine[r.phaseHandler];
  if (e.phase == Phase::kContent) {
    finalize(r, rc);
    return;
  }
  if (handleResult(r, e, rc)) runPhases(r);
}

HttpTables& activeTables() noexcept { return *gActive; }

}  // namespace lunet::http
