// require "ngx.pipe": subprocesses on libuv process + pipe handles.
//
// lua/ngx/pipe.lua is the public module (argument checks and error strings
// as lua-resty-core's); it calls the C functions of "lunet.pipe.c" below. A
// spawned process is a Proc on the C++ heap; Lua holds a userdata pointing
// at it. The Proc outlives the userdata until every libuv handle it owns
// has been closed (the process handle stays open until libuv has reaped the
// child by its pid, so a SIGCHLD for anything else is never taken for ours).
//
// Reads, writes and wait follow the scheduler's yield contract: one Wait per
// operation, raced against the operation's timeout with suspendFor (a 0
// timeout waits forever). A stream is read only while a reader waits on it,
// so a child that writes more than anyone reads blocks on its pipe, as with
// OpenResty.
//
// Beyond OpenResty: the Proc is an OwnedObject of the request or timer that
// spawned it; when that owner ends, the child is killed (SIGKILL) and its
// pipes closed at once. A shell-mode child (args given as a string) runs in
// a session and process group of its own, and kill() / the cleanup signal
// the whole group, so `sh -c "sleep 100 | cat"` leaves nothing behind.
// Children inherit no descriptor of the server but their three pipes.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/log.h"
#include "event/loop.h"
#include "lua/api.h"
#include "lua/context.h"
#include "lua/request_ctx.h"
#include "lua/scheduler.h"

namespace lunet::lua {

namespace {

constexpr char kProcMeta[] = "lunet.pipe.proc";

enum ReadType : int { kReadAll = 0, kReadBytes = 1, kReadLine = 2, kReadAny = 3, kReadBoth = 4 };
enum TimeoutIdx : int {
  kWriteTimeout = 0,
  kStdoutTimeout = 1,
  kStderrTimeout = 2,
  kWaitTimeout = 3
};

struct Proc;

struct Stream {
  Proc* proc = nullptr;
  uv_pipe_t h{};
  bool open = false;     // initialised and not closing
  bool reading = false;  // uv_read_start active
  bool eof = false;
  int err = 0;  // a read error (libuv code)
  std::string buf;
  size_t pos = 0;  // consumed prefix of buf
  size_t pendingAlloc = 0;
  // The waiting reader.
  bool busy = false;
  int type = kReadAll;
  size_t want = 0;
  uint32_t opSeq = 0;
  Wait wait;

  size_t avail() const { return buf.size() - pos; }
  bool done() const { return eof || err != 0 || !open; }
};

struct Writer {
  uv_pipe_t h{};
  bool open = false;
  bool busy = false;
  size_t total = 0;
  uint32_t opSeq = 0;
  Wait wait;
};

struct WriteReq {
  uv_write_t req{};
  Proc* proc = nullptr;
  uint32_t seq = 0;
  std::string data;
};

struct Proc final : public OwnedObject {
  uv_process_t process{};
  bool processOpen = false;
  Stream out, err;
  Writer in;
  int handles = 0;  // handles whose close callback is still to come
  int pins = 0;     // deferred calls that will touch this Proc
  bool collected = false;
  bool exited = false;
  bool closed = false;  // wait() returned: the pipes are done with
  bool shell = false;
  bool merge = false;
  int64_t exitStatus = 0;
  int termSignal = 0;
  pid_t pid = 0;
  size_t bufferSize = 4096;
  uint64_t timeouts[4] = {10000, 10000, 10000, 10000};
  bool waitBusy = false;
  uint32_t waitSeq = 0;
  Wait waitWait;
  bool bothBusy = false;
  Wait bothWait;
  Proc* prev = nullptr;  // the process's list of live Procs
  Proc* next = nullptr;

  void ownerEnded() noexcept override;
};

// Every Proc of this process not yet freed (closeAllPipes at VM teardown).
Proc* gProcs = nullptr;

struct ProcUd {
  Proc* p;
};

void maybeFree(Proc* p) noexcept {
  if (!p->collected || p->handles > 0 || p->pins > 0) return;
  if (p->prev != nullptr) {
    p->prev->next = p->next;
  } else if (gProcs == p) {
    gProcs = p->next;
  }
  if (p->next != nullptr) p->next->prev = p->prev;
  p->detach();
  delete p;
}

void onHandleClosed(uv_handle_t* h) {
  auto* p = static_cast<Proc*>(h->data);
  p->handles--;
  maybeFree(p);
}

void closeStream(Stream& s) noexcept {
  if (!s.open) return;
  s.open = false;
  s.reading = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&s.h), onHandleClosed);
}

void closeWriter(Writer& w) noexcept {
  if (!w.open) return;
  w.open = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&w.h), onHandleClosed);
}

void closeProcess(Proc* p) noexcept {
  if (!p->processOpen) return;
  p->processOpen = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&p->process), onHandleClosed);
}

// SIGKILL to a child not yet reaped (its whole group in shell mode).
void killChild(Proc* p) noexcept {
  if (p->exited || !p->processOpen) return;
  ::kill(p->shell ? -p->pid : p->pid, SIGKILL);
}

void Proc::ownerEnded() noexcept {
  killChild(this);
  closed = true;
  if (!in.busy) closeWriter(in);
  if (!out.busy) closeStream(out);
  if (!err.busy) closeStream(err);
}

// wait() returned: later reads, writes and shutdowns answer "closed". A
// stream another thread is reading from stays open until that read ends.
void finalize(Proc* p) noexcept {
  p->closed = true;
  if (!p->in.busy) closeWriter(p->in);
  if (!p->out.busy) closeStream(p->out);
  if (!p->err.busy) closeStream(p->err);
}

const core::Log& runLog() noexcept {
  RunCtx& rc = current();
  if (rc.req != nullptr) return rc.req->log();
  if (rc.owner != nullptr) return rc.owner->log();
  return core::processLog();
}

// ---- reading ----

void pushTake(lua_State* L, Stream& s, size_t n) {
  lua_pushlstring(L, s.buf.data() + s.pos, n);
  s.pos += n;
  if (s.pos == s.buf.size()) {
    s.buf.clear();
    s.pos = 0;
  }
}

// Pushes the read's results on L when it can complete now; returns their
// number, 0 when it has to wait.
int trySatisfy(lua_State* L, Stream& s) {
  if (s.err != 0) {
    lua_pushnil(L);
    lua_pushstring(L, std::strerror(-s.err));
    pushTake(L, s, s.avail());
    return 3;
  }
  switch (s.type) {
    case kReadAll:
      if (!s.done()) return 0;
      pushTake(L, s, s.avail());
      return 1;
    case kReadBytes:
      if (s.avail() >= s.want) {
        pushTake(L, s, s.want);
        return 1;
      }
      break;
    case kReadLine: {
      const char* b = s.buf.data() + s.pos;
      const void* nl = std::memchr(b, '\n', s.avail());
      if (nl != nullptr) {
        size_t len = static_cast<const char*>(nl) - b;
        size_t line = len;
        if (line > 0 && b[line - 1] == '\r') line--;
        lua_pushlstring(L, b, line);
        s.pos += len + 1;
        if (s.pos == s.buf.size()) {
          s.buf.clear();
          s.pos = 0;
        }
        return 1;
      }
      break;
    }
    case kReadAny:
      if (s.avail() > 0) {
        pushTake(L, s, std::min(s.avail(), s.want));
        return 1;
      }
      break;
  }
  if (!s.done()) return 0;
  lua_pushnil(L);
  lua_pushliteral(L, "closed");
  pushTake(L, s, s.avail());
  return 3;
}

// read_both (resty.shell): ready when either stream has data or both ended.
bool bothReady(const Proc* p) {
  auto ready = [](const Stream& s) { return s.want > 0 && s.avail() > 0; };
  auto over = [](const Stream& s) { return s.want == 0 || (s.avail() == 0 && s.done()); };
  return ready(p->out) || ready(p->err) || (over(p->out) && over(p->err));
}

void pushBoth(lua_State* L, Proc* p) {
  for (Stream* s : {&p->out, &p->err}) {
    if (s->want > 0 && s->avail() > 0) {
      pushTake(L, *s, std::min(s->avail(), s->want));
    } else if (s->want == 0 || s->done()) {
      lua_pushboolean(L, 0);
    } else {
      lua_pushliteral(L, "");
    }
  }
}

void stopReading(Stream& s) noexcept {
  if (s.reading && s.open) uv_read_stop(reinterpret_cast<uv_stream_t*>(&s.h));
  s.reading = false;
}

void onAlloc(uv_handle_t* h, size_t, uv_buf_t* out) {
  // h->data is the Proc (for the close callback); find the stream by address.
  auto* p = static_cast<Proc*>(h->data);
  Stream& st = reinterpret_cast<uv_pipe_t*>(h) == &p->out.h ? p->out : p->err;
  if (st.pos > 0 && (st.pos == st.buf.size() || st.pos > 65536)) {
    st.buf.erase(0, st.pos);
    st.pos = 0;
  }
  size_t chunk = st.type == kReadAll ? std::max<size_t>(p->bufferSize, 65536) : p->bufferSize;
  size_t old = st.buf.size();
  st.buf.resize(old + chunk);
  st.pendingAlloc = chunk;
  out->base = st.buf.data() + old;
  out->len = chunk;
}

void finishRead(Proc* p, Stream& s);

void onRead(uv_stream_t* h, ssize_t nread, const uv_buf_t*) {
  auto* p = static_cast<Proc*>(h->data);
  Stream& s = reinterpret_cast<uv_pipe_t*>(h) == &p->out.h ? p->out : p->err;
  // Give back what the allocation did not use.
  size_t used = nread > 0 ? static_cast<size_t>(nread) : 0;
  if (s.pendingAlloc > 0) {
    s.buf.resize(s.buf.size() - s.pendingAlloc + used);
    s.pendingAlloc = 0;
  }
  if (nread == UV_EOF) {
    s.eof = true;
    stopReading(s);
  } else if (nread < 0) {
    s.err = static_cast<int>(nread);
    stopReading(s);
  }
  finishRead(p, s);
}

void finishRead(Proc* p, Stream& s) {
  if (!s.busy) {
    stopReading(s);
    return;
  }
  Scheduler& sch = Scheduler::get();
  if (s.type == kReadBoth) {
    lua_State* co = sch.waiter(&p->bothWait);
    if (co == nullptr) {
      p->bothBusy = p->out.busy = p->err.busy = false;
      stopReading(p->out);
      stopReading(p->err);
      return;
    }
    if (!bothReady(p)) return;
    p->bothBusy = p->out.busy = p->err.busy = false;
    stopReading(p->out);
    stopReading(p->err);
    pushBoth(co, p);
    sch.resume(&p->bothWait, 2);
    return;
  }
  lua_State* co = sch.waiter(&s.wait);
  if (co == nullptr) {
    s.busy = false;
    stopReading(s);
    return;
  }
  int n = trySatisfy(co, s);
  if (n == 0) return;
  s.busy = false;
  stopReading(s);
  if (p->closed) closeStream(s);
  sch.resume(&s.wait, n);
}

bool startReading(Stream& s) noexcept {
  if (s.reading || !s.open || s.done()) return true;
  int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&s.h), onAlloc, onRead);
  if (rc != 0) {
    s.err = rc;
    return false;
  }
  s.reading = true;
  return true;
}

void cancelRead(Wait* w) noexcept {
  auto* s = static_cast<Stream*>(w->data);
  s->busy = false;
  stopReading(*s);
  if (s->proc->closed) closeStream(*s);
}

int onReadTimeout(Wait* w, lua_State* co) noexcept {
  auto* s = static_cast<Stream*>(w->data);
  lua_pushnil(co);
  lua_pushliteral(co, "timeout");
  pushTake(co, *s, s->avail());
  return 3;
}

void cancelBoth(Wait* w) noexcept {
  auto* p = static_cast<Proc*>(w->data);
  p->bothBusy = p->out.busy = p->err.busy = false;
  stopReading(p->out);
  stopReading(p->err);
}

int onBothTimeout(Wait*, lua_State* co) noexcept {
  lua_pushnil(co);
  lua_pushliteral(co, "timeout");
  return 2;
}

// ---- writing, waiting ----

void cancelWrite(Wait* w) noexcept {
  auto* p = static_cast<Proc*>(w->data);
  p->in.busy = false;
  if (p->closed) closeWriter(p->in);
}

int onWriteTimeout(Wait*, lua_State* co) noexcept {
  lua_pushnil(co);
  lua_pushliteral(co, "timeout");
  return 2;
}

void onWriteDone(uv_write_t* req, int status) {
  auto* wr = static_cast<WriteReq*>(req->data);
  Proc* p = wr->proc;
  uint32_t seq = wr->seq;
  delete wr;
  if (!p->in.busy || p->in.opSeq != seq) return;
  Scheduler& sch = Scheduler::get();
  lua_State* co = sch.waiter(&p->in.wait);
  p->in.busy = false;
  if (co == nullptr) return;
  int n;
  if (status == 0) {
    lua_pushinteger(co, static_cast<lua_Integer>(p->in.total));
    n = 1;
  } else {
    lua_pushnil(co);
    if (status == UV_EPIPE || status == UV_ECANCELED) {
      lua_pushliteral(co, "closed");
    } else {
      lua_pushstring(co, std::strerror(-status));
    }
    n = 2;
  }
  if (p->closed) closeWriter(p->in);
  sch.resume(&p->in.wait, n);
}

int pushExit(lua_State* L, Proc* p) {
  if (p->termSignal != 0) {
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "signal");
    lua_pushinteger(L, p->termSignal);
  } else {
    lua_pushboolean(L, p->exitStatus == 0);
    lua_pushliteral(L, "exit");
    lua_pushinteger(L, static_cast<lua_Integer>(p->exitStatus));
  }
  return 3;
}

void cancelWait(Wait* w) noexcept { static_cast<Proc*>(w->data)->waitBusy = false; }

int onWaitTimeout(Wait*, lua_State* co) noexcept {
  lua_pushnil(co);
  lua_pushliteral(co, "timeout");
  return 2;
}

void onExit(uv_process_t* h, int64_t status, int sig) {
  auto* p = static_cast<Proc*>(h->data);
  p->exited = true;
  p->exitStatus = status;
  p->termSignal = sig;
  closeProcess(p);  // reaped by libuv (waitpid on this pid)
  if (!p->waitBusy) return;
  Scheduler& sch = Scheduler::get();
  lua_State* co = sch.waiter(&p->waitWait);
  p->waitBusy = false;
  if (co == nullptr) return;
  finalize(p);
  int n = pushExit(co, p);
  sch.resume(&p->waitWait, n);
}

// ---- shutdown of a direction a thread waits on: "aborted" ----

struct Abort {
  Proc* p;
  int what;  // 0 stdin, 1 stdout, 2 stderr
  uint32_t seq;
};

void runAbort(void* data) {
  auto* a = static_cast<Abort*>(data);
  Proc* p = a->p;
  p->pins--;
  Scheduler& sch = Scheduler::get();
  if (a->what == 0) {
    lua_State* co = sch.waiter(&p->in.wait);
    if (co != nullptr && p->in.opSeq == a->seq) {
      p->in.busy = false;
      lua_pushnil(co);
      lua_pushliteral(co, "aborted");
      sch.resume(&p->in.wait, 2);
    }
  } else {
    Stream& s = a->what == 1 ? p->out : p->err;
    lua_State* co = sch.waiter(&s.wait);
    if (co != nullptr && s.opSeq == a->seq) {
      s.busy = false;
      lua_pushnil(co);
      lua_pushliteral(co, "aborted");
      pushTake(co, s, s.avail());
      sch.resume(&s.wait, 3);
    }
  }
  delete a;
  maybeFree(p);
}

void postAbort(Proc* p, int what, uint32_t seq) noexcept {
  auto* a = new Abort{p, what, seq};
  p->pins++;
  Scheduler::get().defer(runAbort, a);
}

// ---- spawning ----

// Marks every descriptor above stderr close-on-exec, so the child keeps only
// its three pipes (files opened by Lua's io.open have no O_CLOEXEC).
void cloexecAll() noexcept {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return;
  int self = ::dirfd(d);
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    int fd = std::atoi(e->d_name);
    if (fd <= 2 || fd == self) continue;
    int fl = ::fcntl(fd, F_GETFD);
    if (fl >= 0 && (fl & FD_CLOEXEC) == 0) ::fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
  }
  ::closedir(d);
}

void closeFd(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Starts the child; returns 0, or a libuv error with *what naming the step.
int spawnChild(Proc* p, char** argv, char** env, const char** what) noexcept {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  uv_loop_t* loop = event::loop();
  int rc = uv_pipe(in, 0, UV_NONBLOCK_PIPE);
  if (rc == 0) rc = uv_pipe(out, UV_NONBLOCK_PIPE, 0);
  if (rc == 0 && !p->merge) rc = uv_pipe(err, UV_NONBLOCK_PIPE, 0);
  if (rc != 0) {
    *what = "pipe failed";
    for (int* f : {&in[0], &in[1], &out[0], &out[1], &err[0], &err[1]}) closeFd(*f);
    return rc;
  }
  cloexecAll();
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_INHERIT_FD;
  stdio[0].data.fd = in[0];
  stdio[1].flags = UV_INHERIT_FD;
  stdio[1].data.fd = out[1];
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = p->merge ? out[1] : err[1];
  uv_process_options_t o{};
  o.exit_cb = onExit;
  o.file = argv[0];
  o.args = argv;
  o.env = env;
  o.stdio_count = 3;
  o.stdio = stdio;
  // Shell mode: a session (so a process group) of its own.
  o.flags = p->shell ? UV_PROCESS_DETACHED : 0;
  p->process.data = p;
  rc = uv_spawn(loop, &p->process, &o);
  p->processOpen = true;
  p->handles++;
  closeFd(in[0]);
  closeFd(out[1]);
  closeFd(err[1]);
  if (rc != 0) {
    closeProcess(p);
    closeFd(in[1]);
    closeFd(out[0]);
    closeFd(err[0]);
    *what = "spawn failed";
    return rc;
  }
  p->pid = p->process.pid;
  struct Side {
    uv_pipe_t* h;
    int fd;
    bool* open;
  };
  Side sides[] = {{&p->in.h, in[1], &p->in.open},
                  {&p->out.h, out[0], &p->out.open},
                  {&p->err.h, err[0], &p->err.open}};
  for (Side& s : sides) {
    if (s.fd < 0) continue;
    LUNET_UV_CHECK(uv_pipe_init(loop, s.h, 0));
    s.h->data = p;
    p->handles++;
    if (uv_pipe_open(s.h, s.fd) != 0) {
      ::close(s.fd);
      uv_close(reinterpret_cast<uv_handle_t*>(s.h), onHandleClosed);
      continue;
    }
    *s.open = true;
  }
  return 0;
}

Proc* newProc(bool shell, bool merge, size_t bufferSize, const uint64_t* timeouts) noexcept {
  auto* p = new Proc;
  p->out.proc = p->err.proc = p;
  p->out.wait.data = &p->out;
  p->err.wait.data = &p->err;
  p->out.wait.cancel = p->err.wait.cancel = cancelRead;
  p->in.wait.data = p;
  p->in.wait.cancel = cancelWrite;
  p->waitWait.data = p;
  p->waitWait.cancel = cancelWait;
  p->bothWait.data = p;
  p->bothWait.cancel = cancelBoth;
  p->shell = shell;
  p->merge = merge;
  p->bufferSize = bufferSize;
  for (int i = 0; i < 4; i++) p->timeouts[i] = timeouts[i];
  p->next = gProcs;
  if (gProcs != nullptr) gProcs->prev = p;
  gProcs = p;
  return p;
}

Proc* checkProc(lua_State* L) {
  auto* ud = static_cast<ProcUd*>(luaL_checkudata(L, 1, kProcMeta));
  if (ud->p == nullptr) luaL_error(L, "closed");
  return ud->p;
}

// c.spawn(args, merge, buffer_size, environ|nil, wt, sot, set, wait_t):
// args is a table of strings (argv, PATH lookup) or a shell command string.
int spawn(lua_State* L) {
  bool shell = lua_type(L, 1) == LUA_TSTRING;
  int nargs = shell ? 3 : static_cast<int>(lua_objlen(L, 1));
  int nenv = lua_istable(L, 4) ? static_cast<int>(lua_objlen(L, 4)) : -1;
  // argv and envp pointers live in Lua-owned memory (a userdata) so that
  // nothing with a destructor is alive while Lua can raise.
  auto** argv = static_cast<char**>(
      lua_newuserdata(L, sizeof(char*) * (nargs + 1 + (nenv >= 0 ? nenv + 1 : 0))));
  int scratch = lua_gettop(L);
  if (shell) {
    argv[0] = const_cast<char*>("/bin/sh");
    argv[1] = const_cast<char*>("-c");
    argv[2] = const_cast<char*>(lua_tostring(L, 1));
  } else {
    for (int i = 0; i < nargs; i++) {
      lua_rawgeti(L, 1, i + 1);
      argv[i] = const_cast<char*>(lua_tostring(L, -1));  // kept alive by the table
      lua_pop(L, 1);
    }
  }
  argv[nargs] = nullptr;
  char** env = nullptr;
  if (nenv >= 0) {
    env = argv + nargs + 1;
    for (int i = 0; i < nenv; i++) {
      lua_rawgeti(L, 4, i + 1);
      env[i] = const_cast<char*>(lua_tostring(L, -1));
      lua_pop(L, 1);
    }
    env[nenv] = nullptr;
  }
  auto* ud = static_cast<ProcUd*>(lua_newuserdata(L, sizeof(ProcUd)));
  ud->p = nullptr;
  luaL_getmetatable(L, kProcMeta);
  lua_setmetatable(L, -2);

  bool merge = lua_toboolean(L, 2) != 0;
  auto bufferSize = static_cast<size_t>(lua_tonumber(L, 3));
  uint64_t timeouts[4];
  for (int i = 0; i < 4; i++) timeouts[i] = static_cast<uint64_t>(lua_tonumber(L, 5 + i));
  Proc* p = newProc(shell, merge, bufferSize, timeouts);
  const char* what = "";
  int rc = spawnChild(p, argv, env, &what);
  if (rc == UV_ENOENT || rc == UV_EACCES || rc == -ENOEXEC || rc == UV_ENOTDIR || rc == UV_ELOOP ||
      rc == UV_ENAMETOOLONG) {
    // As OpenResty: a command that cannot be executed still gives a
    // process, whose child logged why and exited with status 1.
    LUNET_LOG(runLog(), core::Level::kError, -rc,
              "lua pipe child execvp() failed while executing %s", argv[0]);
    char* fallback[] = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                        const_cast<char*>("exit 1"), nullptr};
    p->collected = true;
    maybeFree(p);  // its process handle is closing: a new Proc for the fallback
    p = newProc(false, merge, bufferSize, timeouts);
    rc = spawnChild(p, fallback, env, &what);
  }
  if (rc != 0) {
    p->collected = true;
    maybeFree(p);
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", what, std::strerror(-rc));
    return 2;
  }
  ud->p = p;
  LUNET_LOG(runLog(), core::Level::kDebug, 0,
            "lua pipe spawn process:%p pid:%d merge_stderr:%d buffer_size:%zu",
            static_cast<void*>(p), static_cast<int>(p->pid), p->merge ? 1 : 0, p->bufferSize);
  RunCtx& run = current();
  Owner* owner = run.owner != nullptr ? run.owner : run.req;
  if (owner != nullptr) owner->adopt(p);
  lua_replace(L, scratch);
  lua_settop(L, scratch);
  return 1;
}

int procGc(lua_State* L) {
  auto* ud = static_cast<ProcUd*>(lua_touserdata(L, 1));
  Proc* p = ud->p;
  if (p == nullptr) return 0;
  ud->p = nullptr;
  killChild(p);
  p->collected = true;
  p->detach();
  closeWriter(p->in);
  closeStream(p->out);
  closeStream(p->err);
  maybeFree(p);
  return 0;
}

int pid(lua_State* L) {
  lua_pushinteger(L, checkProc(L)->pid);
  return 1;
}

// c.set_timeouts(proc, w, so, se, wait): nil keeps a value.
int setTimeouts(lua_State* L) {
  Proc* p = checkProc(L);
  for (int i = 0; i < 4; i++) {
    if (!lua_isnil(L, 2 + i)) p->timeouts[i] = static_cast<uint64_t>(lua_tonumber(L, 2 + i));
  }
  return 0;
}

bool unusable(const Proc* p) { return p->closed || p->dead(); }

int fail(lua_State* L, const char* msg) {
  lua_pushnil(L);
  lua_pushstring(L, msg);
  return 2;
}

int suspendOp(lua_State* L, Wait* w, uint64_t ms,
              int (*onTimeout)(Wait* w, lua_State* co) noexcept) {
  Scheduler& s = Scheduler::get();
  return ms == 0 ? s.suspend(L, w) : s.suspendFor(L, w, ms, onTimeout);
}

bool canSuspend(lua_State* L) {
  Scheduler* s = Scheduler::tryGet();
  return s != nullptr && s->managed(L);
}

// c.read(proc, from_stderr, type, n)
int read(lua_State* L) {
  Proc* p = checkProc(L);
  bool fromErr = lua_toboolean(L, 2) != 0;
  int type = static_cast<int>(lua_tointeger(L, 3));
  auto want = static_cast<size_t>(lua_tonumber(L, 4));
  checkPhase(L, kYieldable);
  if (unusable(p)) return fail(L, "closed");
  if (fromErr && p->merge) return fail(L, "merged to stdout");
  Stream& s = fromErr ? p->err : p->out;
  if (s.busy) return fail(L, "pipe busy reading");
  if (!s.open) return fail(L, "closed");
  if (!canSuspend(L)) return luaL_error(L, "attempt to yield across C-call boundary");
  s.type = type;
  s.want = want;
  int n = trySatisfy(L, s);
  if (n > 0) return n;
  if (!startReading(s)) return trySatisfy(L, s);
  s.busy = true;
  s.opSeq++;
  LUNET_LOG(runLog(), core::Level::kDebug, 0, "lua pipe read yielding process:%p pid:%d",
            static_cast<void*>(p), static_cast<int>(p->pid));
  return suspendOp(L, &s.wait, p->timeouts[fromErr ? kStderrTimeout : kStdoutTimeout],
                   onReadTimeout);
}

// c.read_both(proc, max_out, max_err): resty.shell's reader of both
// streams at once (Lunet has no light threads yet). Returns two values, one
// per stream: data, "" (none yet) or false (ended); or nil, "timeout".
int readBoth(lua_State* L) {
  Proc* p = checkProc(L);
  auto wantOut = static_cast<size_t>(lua_tonumber(L, 2));
  auto wantErr = static_cast<size_t>(lua_tonumber(L, 3));
  checkPhase(L, kYieldable);
  if (unusable(p)) return fail(L, "closed");
  if (p->merge) return fail(L, "merged to stdout");
  if (p->out.busy || p->err.busy) return fail(L, "pipe busy reading");
  if (!canSuspend(L)) return luaL_error(L, "attempt to yield across C-call boundary");
  p->out.want = wantOut;
  p->err.want = wantErr;
  p->out.type = p->err.type = kReadBoth;
  if (!bothReady(p)) {
    if (p->out.want > 0) startReading(p->out);
    if (p->err.want > 0) startReading(p->err);
  }
  if (bothReady(p)) {
    pushBoth(L, p);
    return 2;
  }
  p->out.busy = p->err.busy = p->bothBusy = true;
  p->out.opSeq++;
  p->err.opSeq++;
  return suspendOp(L, &p->bothWait, p->timeouts[kStdoutTimeout], onBothTimeout);
}

// c.write(proc, data)
int write(lua_State* L) {
  Proc* p = checkProc(L);
  size_t len = 0;
  const char* data = luaL_checklstring(L, 2, &len);
  checkPhase(L, kYieldable);
  if (unusable(p)) return fail(L, "closed");
  if (p->in.busy) return fail(L, "pipe busy writing");
  if (!p->in.open) return fail(L, "closed");
  if (len == 0) {
    lua_pushinteger(L, 0);
    return 1;
  }
  if (!canSuspend(L)) return luaL_error(L, "attempt to yield across C-call boundary");
  auto* stream = reinterpret_cast<uv_stream_t*>(&p->in.h);
  int rc = 0;
  size_t done = 0;
  // Nothing queued from an earlier timed-out write: try it synchronously.
  if (uv_stream_get_write_queue_size(stream) == 0) {
    uv_buf_t b = uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(len));
    rc = uv_try_write(stream, &b, 1);
    if (rc >= 0) done = static_cast<size_t>(rc);
  }
  if (done == len) {
    lua_pushinteger(L, static_cast<lua_Integer>(len));
    return 1;
  }
  if (rc < 0 && rc != UV_EAGAIN) return fail(L, rc == UV_EPIPE ? "closed" : std::strerror(-rc));
  auto* wr = new WriteReq;
  wr->proc = p;
  wr->seq = ++p->in.opSeq;
  wr->data.assign(data + done, len - done);
  wr->req.data = wr;
  uv_buf_t b = uv_buf_init(wr->data.data(), static_cast<unsigned>(wr->data.size()));
  rc = uv_write(&wr->req, stream, &b, 1, onWriteDone);
  if (rc != 0) {
    delete wr;
    return fail(L, rc == UV_EPIPE ? "closed" : std::strerror(-rc));
  }
  p->in.busy = true;
  p->in.total = len;
  LUNET_LOG(runLog(), core::Level::kDebug, 0, "lua pipe write yielding process:%p pid:%d",
            static_cast<void*>(p), static_cast<int>(p->pid));
  return suspendOp(L, &p->in.wait, p->timeouts[kWriteTimeout], onWriteTimeout);
}

// c.shutdown(proc, 0 stdin | 1 stdout | 2 stderr)
int shutdown(lua_State* L) {
  Proc* p = checkProc(L);
  int what = static_cast<int>(lua_tointeger(L, 2));
  if (unusable(p)) return fail(L, "closed");
  if (what == 0) {
    if (p->in.busy) {
      p->in.busy = false;
      postAbort(p, 0, p->in.opSeq);
    }
    closeWriter(p->in);
  } else {
    if (what == 2 && p->merge) return fail(L, "merged to stdout");
    Stream& s = what == 1 ? p->out : p->err;
    if (s.busy) {
      if (s.type == kReadBoth) {
        cancelBoth(&p->bothWait);
      } else {
        s.busy = false;
        postAbort(p, what, s.opSeq);
      }
    }
    closeStream(s);
  }
  lua_pushboolean(L, 1);
  return 1;
}

int wait(lua_State* L) {
  Proc* p = checkProc(L);
  checkPhase(L, kYieldable);
  if (p->closed || p->dead()) return fail(L, "exited");
  if (p->waitBusy) return fail(L, "pipe busy waiting");
  if (p->exited) {
    finalize(p);
    return pushExit(L, p);
  }
  if (!canSuspend(L)) return luaL_error(L, "attempt to yield across C-call boundary");
  p->waitBusy = true;
  p->waitSeq++;
  LUNET_LOG(runLog(), core::Level::kDebug, 0, "lua pipe wait yielding process:%p pid:%d",
            static_cast<void*>(p), static_cast<int>(p->pid));
  return suspendOp(L, &p->waitWait, p->timeouts[kWaitTimeout], onWaitTimeout);
}

int kill(lua_State* L) {
  Proc* p = checkProc(L);
  int sig = static_cast<int>(lua_tointeger(L, 2));
  if (p->exited || !p->processOpen) return fail(L, "exited");
  if (::kill(p->shell ? -p->pid : p->pid, sig) != 0) {
    int e = errno;
    if (e == EINVAL) return fail(L, "invalid signal");
    if (e == ESRCH) return fail(L, "exited");
    return fail(L, std::strerror(e));
  }
  lua_pushboolean(L, 1);
  return 1;
}

int openPipeC(lua_State* L) {
  if (luaL_newmetatable(L, kProcMeta)) {
    lua_pushcfunction(L, procGc);
    lua_setfield(L, -2, "__gc");
    lua_pushliteral(L, "ngx.pipe");
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  const luaL_Reg fns[] = {
      {"spawn", spawn},        {"pid", pid},      {"set_timeouts", setTimeouts}, {"read", read},
      {"read_both", readBoth}, {"write", write},  {"shutdown", shutdown},        {"wait", wait},
      {"kill", kill},          {nullptr, nullptr}};
  lua_createtable(L, 0, 12);
  for (const luaL_Reg* f = fns; f->name != nullptr; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
  // The metatable, for pipe.lua to set __index on.
  luaL_getmetatable(L, kProcMeta);
  lua_setfield(L, -2, "mt");
  return 1;
}

}  // namespace

void injectPipeApi(lua_State* L) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, openPipeC);
  lua_setfield(L, -2, "lunet.pipe.c");
  lua_pop(L, 2);
}

void killAllPipes() noexcept {
  for (Proc* p = gProcs; p != nullptr; p = p->next) killChild(p);
}

void closeAllPipes() noexcept {
  for (Proc* p = gProcs; p != nullptr;) {
    Proc* next = p->next;
    killChild(p);
    p->collected = true;
    p->pins = 0;  // the scheduler (and its deferred aborts) is gone
    p->detach();
    closeWriter(p->in);
    closeStream(p->out);
    closeStream(p->err);
    closeProcess(p);
    maybeFree(p);
    p = next;
  }
}

}  // namespace lunet::lua
