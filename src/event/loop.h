// The per-process libuv loop and the handle owner every subsystem uses.
//
// Each worker creates its loop after fork (libuv loops must not cross fork).
// UvHandle<T> owns one heap-allocated handle: uv_close on release, delete in
// the close callback — a handle is never freed while libuv still knows it.
#pragma once

#include <uv.h>

#include <cstdlib>
#include <utility>

namespace lunet::event {

// The loop of this process (created by createLoop()); nullptr in the master.
uv_loop_t* loop();
// Creates this process's loop; aborts if one exists.
uv_loop_t* createLoop();
// Runs pending close callbacks and frees the loop.
void destroyLoop();

// Aborts with a message when a libuv call that cannot fail in a correct
// program did fail.
#define LUNET_UV_CHECK(expr)                                                           \
  do {                                                                                 \
    int lunet_rc_ = (expr);                                                            \
    if (lunet_rc_ != 0) ::lunet::event::uvFatal(#expr, lunet_rc_, __FILE__, __LINE__); \
  } while (0)
[[noreturn]] void uvFatal(const char* expr, int rc, const char* file, int line);

template <class T>
class UvHandle {
 public:
  UvHandle() : h_(new T{}) {}
  ~UvHandle() { reset(); }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;
  UvHandle(UvHandle&& o) noexcept : h_(std::exchange(o.h_, nullptr)), init_(o.init_) {}

  T* get() const { return h_; }
  T* operator->() const { return h_; }
  uv_handle_t* handle() const { return reinterpret_cast<uv_handle_t*>(h_); }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(h_); }

  // Call after a successful uv_*_init so reset() knows to uv_close.
  void markInitialized() { init_ = true; }
  bool initialized() const { return h_ != nullptr && init_; }

  // Closes (if initialized) and frees the handle in the close callback.
  // `onClosed`, if given, runs from the close callback with handle->data.
  void reset(void (*onClosed)(void* data) = nullptr) {
    if (h_ == nullptr) return;
    T* h = std::exchange(h_, nullptr);
    if (!init_) {
      delete h;
      return;
    }
    init_ = false;
    auto* hh = reinterpret_cast<uv_handle_t*>(h);
    if (onClosed != nullptr) {
      auto* box = new Closer{onClosed, hh->data};
      hh->data = box;
      uv_close(hh, [](uv_handle_t* x) {
        auto* c = static_cast<Closer*>(x->data);
        c->fn(c->data);
        delete c;
        delete reinterpret_cast<T*>(x);
      });
    } else if (!uv_is_closing(hh)) {
      uv_close(hh, [](uv_handle_t* x) { delete reinterpret_cast<T*>(x); });
    }
  }

 private:
  struct Closer {
    void (*fn)(void*);
    void* data;
  };
  T* h_;
  bool init_ = false;
};

}  // namespace lunet::event
