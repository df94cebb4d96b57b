#include "event/loop.h"

#include <cstdio>

#include "core/log.h"

namespace lunet::event {

namespace {
uv_loop_t* gLoop = nullptr;
}

uv_loop_t* loop() { return gLoop; }

uv_loop_t* createLoop() {
  if (gLoop != nullptr) uvFatal("createLoop", UV_EEXIST, __FILE__, __LINE__);
  gLoop = new uv_loop_t;
  LUNET_UV_CHECK(uv_loop_init(gLoop));
  return gLoop;
}

void destroyLoop() {
  if (gLoop == nullptr) return;
  // Let close callbacks run so owners free their handles.
  uv_run(gLoop, UV_RUN_NOWAIT);
  if (uv_loop_close(gLoop) == UV_EBUSY) {
    uv_walk(
        gLoop,
        [](uv_handle_t* h, void*) {
          if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
    uv_run(gLoop, UV_RUN_DEFAULT);
    uv_loop_close(gLoop);
  }
  delete gLoop;
  gLoop = nullptr;
}

void uvFatal(const char* expr, int rc, const char* file, int line) {
  core::processLog().error(core::Level::kAlert, 0, "%s failed: %s (%s:%d)", expr, uv_strerror(rc),
                           file, line);
  std::abort();
}

}  // namespace lunet::event
