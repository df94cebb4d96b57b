// body_filter_by_lua*: ngx.arg[1] is the data of the chain, ngx.arg[2] its
// eof flag; what the handler leaves there goes down the chain.
#include <unistd.h>

#include <cstring>

#include "http/filter.h"
#include "lua/context.h"
#include "lua/module.h"
#include "lua/phases.h"
#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {

http::BodyFilter gNext = nullptr;

int run(http::Request& r, http::Buf* in) {
  const LuaLocConf* lc = r.locConf != nullptr ? r.loc<LuaLocConf>(luaModule()) : nullptr;
  if (lc == nullptr || !lc->bodyFilter || in == nullptr) return gNext(r, in);
  RequestCtx* ctx = RequestCtx::of(r);
  if (ctx->filterFailed) return gNext(r, in);

  // Flatten the chain into one piece of memory.
  size_t total = 0;
  bool last = false, flush = false, lastInChain = false;
  size_t nbufs = 0;
  const http::Buf* only = nullptr;
  for (http::Buf* b = in; b != nullptr; b = b->next) {
    total += static_cast<size_t>(b->size());
    last = last || b->last;
    lastInChain = lastInChain || b->lastInChain;
    flush = flush || b->flush;
    if (b->size() > 0) {
      nbufs++;
      only = b;
    }
  }
  std::string_view data;
  if (nbufs == 1 && only->file == nullptr) {
    data = only->data;
  } else if (total > 0) {
    char* p = static_cast<char*>(r.arena.alloc(total, 1));
    size_t off = 0;
    for (http::Buf* b = in; b != nullptr; b = b->next) {
      if (b->file != nullptr) {
        ssize_t n = ::pread(b->file->fd, p + off, static_cast<size_t>(b->fileLen), b->fileOffset);
        if (n != b->fileLen) return http::kError;
      } else if (!b->data.empty()) {
        std::memcpy(p + off, b->data.data(), b->data.size());
      }
      off += static_cast<size_t>(b->size());
    }
    data = {p, total};
  }
  ctx->bodyChunk = data;
  ctx->bodyEof = last || lastInChain;
  ctx->bodyChunkChanged = false;

  EntryThread* t = nullptr;
  RunStatus s = runSyncHandler(ctx, kBodyFilter, *lc->bodyFilter, lc->codeCache != 0, &t);
  Scheduler::get().release(t);
  if (s == RunStatus::kError) {
    ctx->filterFailed = true;
    return http::kError;
  }

  bool eof = ctx->bodyEof;
  if (!ctx->bodyChunkChanged && eof == (last || lastInChain)) return gNext(r, in);
  http::Buf* out = http::newBuf(r, ctx->bodyChunk);
  out->flush = flush;
  if (eof) {
    out->last = (&r == r.main);
    out->lastInChain = true;
  }
  return gNext(r, out);
}

int filter(http::Request& r, http::Buf* in) {
  holdHandlerRequest(r);
  int rc = run(r, in);
  if (!unholdHandlerRequest(r)) return http::kError;  // closed under the handler
  return rc;
}

}  // namespace

void registerBodyFilter() { gNext = http::pushBodyFilter(filter); }

}  // namespace lunet::lua
