// The coroutine scheduler and the one yield contract of the Lua runtime.
//
// Every Lua handler runs in an *entry thread* (a coroutine from a pool). User
// coroutines created with coroutine.create() inside it are not resumed with a
// nested lua_resume: coroutine.resume/yield themselves yield to this
// scheduler, which resumes the target directly (as lua-nginx-module does).
// So the C stack never holds more than one level of Lua coroutines, and a
// yielding API called deep inside user coroutines simply suspends the whole
// entry thread; the event callback resumes exactly the coroutine that
// called it.
//
// Lua errors and noexcept: Debian's LuaJIT (x86-64) raises Lua errors with
// the system's C++-ABI unwinder, as a foreign exception. A noexcept frame on
// that path calls std::terminate, so lua_CFunctions are NOT noexcept; the
// rule they follow instead is: nothing in them throws a C++ exception, and
// no object with a non-trivial destructor is alive where a Lua error can be
// raised. Functions only C++ calls (run/resume/release, FFI exports) are
// noexcept.
//
// The yield contract for an API (sleep, cosockets, pipes, semaphores, ...):
//
//   1. checkPhase(L, kYieldable)            (context allowed?)
//   2. fill a Wait with a cancel function   (cleanup if the owner dies first)
//   3. arm the libuv handle                 (callback knows the EntryThread)
//   4. return Scheduler::get().suspend(L, &wait);
//
// and in the libuv callback:
//
//   lua_State* co = t->waitingState();  push results on co;
//   Scheduler::get().resume(t, nresults);
//
// If the request (or timer) that owns the thread ends first, its owner calls
// release(), which calls wait->cancel() — the callback must then never run.
#pragma once

#include <uv.h>

#include <cstdint>
#include <lua.hpp>
#include <memory>
#include <string>
#include <vector>

#include "event/loop.h"

namespace lunet::lua {

class RequestCtx;
class EntryThread;

// A pending asynchronous operation of a suspended thread. Usually embedded in
// the API's own state object (recover it with a container_of-style cast).
struct Wait {
  // Stops the operation for good without resuming (the owner went away).
  void (*cancel)(Wait* self) noexcept = nullptr;
  void* data = nullptr;  // for the API's use
};

enum class RunStatus : uint8_t {
  kDone,       // the handler returned; its results are on EntryThread::state()
  kSuspended,  // waiting for an event; resume() continues it
  kExited,     // ngx.exit()/ngx.exec()/... ended it early
  kError,      // runtime error; EntryThread::error() has message + traceback
};

// One coroutine the scheduler drives: an entry thread or a user coroutine.
struct Coroutine {
  enum class State : uint8_t { kSuspended, kRunning, kNormal, kDead };
  lua_State* co = nullptr;
  Coroutine* parent = nullptr;  // who resumed it (null for an entry thread)
  EntryThread* entry = nullptr;
  int ref = LUA_NOREF;  // registry ref pinning the Lua thread
  State state = State::kSuspended;
};

class EntryThread {
 public:
  // The coroutine's own stack: push the handler function (and arguments)
  // here before Scheduler::run().
  lua_State* state() const { return root_.co; }
  // The coroutine blocked in a yielding API (push its results here).
  lua_State* waitingState() const { return waiting_ != nullptr ? waiting_->co : nullptr; }
  bool suspended() const { return waiting_ != nullptr; }
  // "runtime error: MSG\nstack traceback:\ncoroutine 0:\n\t..." (entry
  // threads, as OpenResty logs them after "lua entry thread aborted: ").
  const std::string& error() const { return error_; }
  // "MSG\nstack traceback:\n\t..." (as logged by the pcall-style phases:
  // "failed to run header_filter_by_lua*: ").
  const std::string& plainError() const { return plainError_; }

  // Context restored on every resume.
  uint32_t phase = 0;
  RequestCtx* req = nullptr;
  void* owner = nullptr;
  // Called when a resume() from an event callback ends the thread (any
  // status but kSuspended). Not called for the synchronous run().
  void (*onFinish)(EntryThread* t, RunStatus s) noexcept = nullptr;

  // A timer for the thread's own use by yielding APIs (ngx.sleep, timeouts),
  // created on first use and kept while the thread is pooled.
  uv_timer_t* timer();
  // A Wait for APIs that only wait on timer(): its cancel stops the timer.
  Wait* timerWait();
  // Makes the table on the top of state()'s stack (popped) the thread's
  // globals (lua_code_cache off); release() restores the VM's.
  void setGlobals();

 private:
  friend class Scheduler;
  Coroutine root_;
  std::vector<Coroutine*> users_;  // user coroutines created in this thread
  Coroutine* waiting_ = nullptr;
  Wait* wait_ = nullptr;
  std::string error_;
  std::string plainError_;
  event::UvHandle<uv_timer_t> timer_;
  Wait timerWait_;
  bool inPool_ = false;
  bool ownGlobals_ = false;
};

class Scheduler {
 public:
  // Installs the coroutine.* wrappers into L's coroutine table. One per VM.
  explicit Scheduler(lua_State* L);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // The scheduler of this process's VM.
  static Scheduler& get();
  static Scheduler* tryGet();
  // Makes this the scheduler get() returns (the VM of this process's cycle).
  void makeCurrent() noexcept;

  // A fresh or pooled entry thread with an empty stack.
  EntryThread* acquire() noexcept;
  // Runs the function pushed on t->state() with `nargs` arguments above it.
  RunStatus run(EntryThread* t, int nargs) noexcept;
  // Continues a suspended thread with `nret` values pushed on
  // t->waitingState(). Calls t->onFinish unless it suspends again.
  RunStatus resume(EntryThread* t, int nret) noexcept;
  // Gives the thread back: cancels a pending Wait, kills user coroutines.
  void release(EntryThread* t) noexcept;

  // ---- for yielding APIs (call as the last thing of a lua_CFunction) ----
  // True when L is a coroutine this scheduler runs (so it may suspend).
  bool managed(lua_State* L) const noexcept { return running_ != nullptr && running_->co == L; }
  EntryThread* currentEntry() const noexcept {
    return running_ != nullptr ? running_->entry : nullptr;
  }
  int suspend(lua_State* L, Wait* w);  // return value of the C function
  int exit(lua_State* L);              // ends the entry thread (ngx.exit)

  // Runs fn(data) from a 0 ms timer, i.e. once the current libuv callback
  // has returned (used to destroy a request closed under a Lua handler).
  // Pending calls are dropped when the scheduler goes away.
  void defer(void (*fn)(void* data), void* data) noexcept;

  // Counters (tests, debug).
  size_t threadsCreated() const { return created_; }
  size_t pooled() const { return pool_.size(); }

 private:
  enum class Op : uint8_t { kNone, kResume, kYield, kSuspend, kExit };
  RunStatus loop(EntryThread* t, Coroutine* cur, int nargs) noexcept;
  void setError(EntryThread* t, lua_State* co) noexcept;
  void dropUsers(EntryThread* t) noexcept;
  Coroutine* newUserCoroutine() noexcept;
  Coroutine* lookup(lua_State* L, int idx) noexcept;

  static int coCreate(lua_State* L);
  static int coResume(lua_State* L);
  static int coYield(lua_State* L);
  static int coStatus(lua_State* L);

  lua_State* L_;
  int mapRef_ = LUA_NOREF;  // registry: { [thread] = lightuserdata Coroutine* }
  Coroutine* running_ = nullptr;
  Op op_ = Op::kNone;
  Coroutine* opTarget_ = nullptr;
  std::vector<std::unique_ptr<EntryThread>> all_;
  std::vector<EntryThread*> pool_;
  std::vector<std::unique_ptr<Coroutine>> userAll_;
  std::vector<Coroutine*> userPool_;
  size_t created_ = 0;
  struct Deferred {
    void (*fn)(void*);
    void* data;
  };
  std::vector<Deferred> deferred_;
  event::UvHandle<uv_timer_t> deferTimer_;
};

}  // namespace lunet::lua
