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
// Owners. Every entry thread belongs to an Owner: a request (RequestCtx), a
// timer (TimerCtx), later the resty runner. The scheduler asks the owner
// whether it is still alive before resuming, holds it across a resume (so
// something the handler calls cannot destroy it underneath), and an owner
// that ends releases every thread it owns (cancelling their pending waits)
// and marks the objects handed to Lua on its behalf dead (OwnedObject).
//
// The yield contract for an API (sleep, cosockets, pipes, semaphores, ...):
//
//   1. checkPhase(L, kYieldable)            (context allowed?)
//   2. a Wait of the operation (its own, never shared between threads),
//      with a cancel function              (cleanup if the owner dies first)
//   3. arm the libuv handle                 (its data points at the Wait)
//   4. return Scheduler::get().suspend(L, &wait);          or, raced
//      against a timeout: suspendFor(L, &wait, ms, onTimeout)
//
// and in the libuv callback:
//
//   lua_State* co = Scheduler::get().waiter(&wait);
//   if (co == nullptr) return;               (stale: resumed or released)
//   push results on co;  Scheduler::get().resume(&wait, nresults);
//
// suspend() stamps the Wait with its thread and a generation number; a
// late or duplicate callback (the thread was resumed, released, or pooled
// and reused meanwhile) finds waiter() null and never resumes the wrong
// coroutine. If the owner ends first, release() calls wait->cancel().
#pragma once

#include <uv.h>

#include <cstdint>
#include <lua.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/log.h"
#include "event/loop.h"

namespace lunet::lua {

class RequestCtx;
class EntryThread;
class Owner;

// A pending asynchronous operation of one suspended thread. Embedded in the
// API's own per-operation state (a request's flush wait, a thread's sleep);
// one Wait is never shared by two threads.
struct Wait {
  // Stops the operation for good without resuming (the owner went away, or
  // the timeout of suspendFor() fired first).
  void (*cancel)(Wait* self) noexcept = nullptr;
  void* data = nullptr;  // for the API's use
  // Set by suspend(): the thread and its wait generation at that moment.
  EntryThread* thread = nullptr;
  uint32_t gen = 0;
};

// Something handed to Lua on behalf of an owner (a socket, a pipe, ...).
// When the owner ends, ownerEnded() runs and dead() becomes true; the API
// then fails with a clear error instead of touching freed state.
class OwnedObject {
 public:
  bool dead() const noexcept { return dead_; }
  Owner* owner() const noexcept { return owner_; }
  // Unlinks from the owner without marking dead (the object closed itself).
  void detach() noexcept;

 protected:
  virtual void ownerEnded() noexcept {}
  ~OwnedObject() = default;

 private:
  friend class Owner;
  friend class Scheduler;
  Owner* owner_ = nullptr;
  OwnedObject* prev_ = nullptr;
  OwnedObject* next_ = nullptr;
  bool dead_ = false;
};

// What entry threads run on behalf of (see the comment at the top).
class Owner {
 public:
  // False once the owner is closed and only waits for destruction: the
  // scheduler then does not resume its threads.
  virtual bool alive() const noexcept { return true; }
  // Around a resume of one of its threads.
  virtual void hold() noexcept {}
  virtual void unhold() noexcept {}
  // The request, for request owners.
  virtual RequestCtx* request() noexcept { return nullptr; }
  // The context new threads of this owner run in (kTimer, the phase, ...).
  virtual uint32_t ownerPhase() const noexcept = 0;
  // Where Lua code of this owner logs (ngx.log, errors).
  virtual const core::Log& log() const noexcept = 0;

  // Threads are adopted by Scheduler::acquire(owner) and leave on release.
  bool hasThreads() const noexcept { return threads_ != nullptr; }
  void adopt(OwnedObject* o) noexcept;
  // Releases every thread (cancelling pending waits) and marks every
  // adopted object dead. The owner may be reused afterwards.
  void endOwned() noexcept;

  int ctxRef = LUA_NOREF;  // ngx.ctx of the owner

 protected:
  ~Owner() = default;

 private:
  friend class Scheduler;
  friend class OwnedObject;
  EntryThread* threads_ = nullptr;
  OwnedObject* objects_ = nullptr;
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
  Owner* owner = nullptr;  // set by acquire(owner)
  // Called when a resume() from an event callback ends the thread (any
  // status but kSuspended). Not called for the synchronous run().
  void (*onFinish)(EntryThread* t, RunStatus s) noexcept = nullptr;

  // The wait of ngx.sleep (a suspendFor() with no operation).
  Wait* sleepWait() { return &sleepWait_; }
  // Makes the table on the top of state()'s stack (popped) the thread's
  // globals (lua_code_cache off); release() restores the VM's.
  void setGlobals();

 private:
  friend class Scheduler;
  friend class Owner;
  Coroutine root_;
  std::vector<Coroutine*> users_;  // user coroutines created in this thread
  Coroutine* waiting_ = nullptr;
  Wait* wait_ = nullptr;
  uint32_t gen_ = 0;  // bumped whenever wait_ ends (resume, release)
  // suspendFor(): the timeout's callback (null: none armed).
  int (*onTimeout_)(Wait* w, lua_State* co) noexcept = nullptr;
  EntryThread* ownerNext_ = nullptr;  // Owner::threads_ list
  EntryThread* ownerPrev_ = nullptr;
  std::string error_;
  std::string plainError_;
  // The timeout timer of suspendFor(), created on first use and kept while
  // the thread is pooled.
  event::UvHandle<uv_timer_t> timer_;
  Wait sleepWait_;
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

  // A fresh or pooled entry thread with an empty stack, owned by `owner`
  // (its ownerPhase() is the thread's phase).
  EntryThread* acquire(Owner* owner = nullptr) noexcept;
  // Runs the function pushed on t->state() with `nargs` arguments above it.
  RunStatus run(EntryThread* t, int nargs) noexcept;
  // The coroutine to push the results of `w` on, or null when w is no
  // longer the pending wait of its thread (resumed, released, reused).
  lua_State* waiter(const Wait* w) const noexcept;
  // Continues the thread waiting in `w` with `nret` values pushed on
  // waiter(w). Calls t->onFinish unless it suspends again. A stale w is
  // ignored (returns kSuspended).
  RunStatus resume(Wait* w, int nret) noexcept;
  // Gives the thread back: cancels a pending Wait, kills user coroutines.
  void release(EntryThread* t) noexcept;

  // ---- for yielding APIs (call as the last thing of a lua_CFunction) ----
  // True when L is a coroutine this scheduler runs (so it may suspend).
  bool managed(lua_State* L) const noexcept { return running_ != nullptr && running_->co == L; }
  EntryThread* currentEntry() const noexcept {
    return running_ != nullptr ? running_->entry : nullptr;
  }
  int suspend(lua_State* L, Wait* w);  // return value of the C function
  // suspend() raced against a timer of `ms` milliseconds: whichever comes
  // first wins. On timeout, w->cancel(w) stops the operation, then
  // onTimeout (if any) pushes the results on co and returns their number.
  int suspendFor(lua_State* L, Wait* w, uint64_t ms,
                 int (*onTimeout)(Wait* w, lua_State* co) noexcept);
  int exit(lua_State* L);  // ends the entry thread (ngx.exit)

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
  RunStatus resumeThread(EntryThread* t, int nret) noexcept;
  static void onThreadTimer(uv_timer_t* h);
  void timeoutFired(EntryThread* t) noexcept;
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
  // suspendFor(..., 0, ...) (ngx.sleep(0)): timeouts due on the next loop
  // turn, run from an idle handle. A 0 ms libuv timer restarted from a
  // timer callback would run again in the same pass: a loop of sleep(0)
  // would starve every other event.
  struct Posted {
    EntryThread* t;
    uint32_t gen;
  };
  std::vector<Posted> posted_;
  event::UvHandle<uv_idle_t> postedIdle_;
};

}  // namespace lunet::lua
