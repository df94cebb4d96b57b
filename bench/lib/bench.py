#!/usr/bin/env python3
"""Side-by-side benchmarks: Lunet vs nginx + lua-nginx-module.

Both servers get the same rendered config template (bench/conf/<workload>.conf;
only the load_module lines differ), the same worker count, are pinned to the
same core(s), and are measured in alternating rounds (A B A B ...). Rows whose
feature Lunet lacks (config rejected by `lunet -t`, or a wrong probe answer)
read n/a with the reason. See the Performance section of README.md.
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(BENCH)
CONF_DIR = os.path.join(BENCH, "conf")
WRK_SCRIPT = os.path.join(BENCH, "wrk", "report.lua")
IDLE_CLIENT = os.path.join(BENCH, "lib", "idle_conns.py")
RESULTS = os.path.join(BENCH, "results")
NGINX_MODULES = "/usr/lib/nginx/modules"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
TIMERS_PER_REQUEST = 10000
# Operations one request performs, for rows measured in operations per second.
OPS_PER_REQUEST = {"timers": TIMERS_PER_REQUEST, "shdict_loop": 30000, "shdict_hot": 1000}
# Rows driven by a single connection (one long request at a time).
SINGLE_CONNECTION = ("timers", "shdict_loop")

# name, title, template, workers, kind, probe(status, body) -> error or None
WORKLOADS = [
    ("hello", 'return 200 "hello"', "hello.conf", 1, "wrk"),
    ("lua", 'content_by_lua_block { ngx.say("hello") }', "lua.conf", 1, "wrk"),
    ("static", "static 4 KiB file, sendfile on", "static.conf", 1, "wrk"),
    ("shdict", "ngx.shared.d:incr + get, 2 workers", "shdict.conf", 2, "wrk"),
    ("shdict_loop", "10 000 x (set + get + incr) in one request", "shdict_loop.conf", 1, "ops"),
    ("shdict_hot", "16 hot keys, 900 get + 100 incr per request, 4 workers", "shdict_hot.conf", 4,
     "ops"),
    ("proxy", "proxy_pass to keepalive upstream", "proxy.conf", 1, "wrk"),
    ("proxy_1m", "proxy_pass, 1 MiB response from a keepalive upstream", "proxy.conf", 1, "wrk"),
    ("redis", "cosocket GET on a local redis-server, pooled", "redis.conf", 1, "wrk"),
    ("timers", "10 000 ngx.timer.at(0, f) per request", "timers.conf", 1, "timers"),
    ("idle", "10 000 idle keep-alive connections", "hello.conf", 1, "idle"),
    ("pending", "100 000 pending ngx.timer.at(3600, f), worker RSS", "pending_timers.conf", 1,
     "pending"),
    ("close", 'return 200 "hello", Connection: close', "hello.conf", 1, "wrk"),
    ("api", "API calls: ns per call in a Lua loop", "api.conf", 1, "api"),
]
# The "API calls" row family (bench/conf/api.conf): key, title. Issue #10's
# table first, then other FFI-backed calls.
API_CALLS = [
    ("ngx.now", "ngx.now()"),
    ("ngx.time", "ngx.time()"),
    ("ngx.worker.id", "ngx.worker.id()"),
    ("ngx.ctx", "ngx.ctx"),
    ("ngx.req.get_method", "ngx.req.get_method()"),
    ("ngx.header.read", 'ngx.header["X-A"] (read)'),
    ("ngx.status", "ngx.status (read)"),
    ("ngx.var.uri", "ngx.var.uri"),
    ("ngx.header.write", 'ngx.header["X-B"] = "b"'),
    ("ngx.var.write", 'ngx.var.bench = "x"'),
    ("ngx.req.get_headers", "ngx.req.get_headers()"),
    ("ngx.req.get_uri_args", "ngx.req.get_uri_args()"),
    ("ngx.escape_uri", 'ngx.escape_uri("a b/c")'),
    ("ngx.md5", 'ngx.md5("hello")'),
    ("ngx.encode_base64", 'ngx.encode_base64("hello")'),
    ("ngx.re.match", 'ngx.re.match(s, [[(\\d+) (?<w>\\w+)]], "jo")'),
    ("ngx.get_phase", "ngx.get_phase()"),
]
WORKLOAD_NAMES = [w[0] for w in WORKLOADS]
STATIC_FILE = "4k.bin"
# The proxy_1m row's response, served by the upstream from its html/.
PROXY_BIG_FILE = "1m.bin"
PROXY_BIG_SIZE = 1024 * 1024


def wl_path(name):
    """The URL path a workload requests."""
    if name == "static":
        return "/" + STATIC_FILE
    if name == "proxy_1m":
        return "/" + PROXY_BIG_FILE
    return "/"


def expect(name, status, body, static_body):
    """Checks a probe response; returns an error string or None."""
    if status != 200:
        return "probe: status %s, body %r" % (status, body[:120])
    want = {
        "hello": b"hello", "proxy": b"hello", "idle": b"hello", "close": b"hello",
        "pending": b"ok\n", "redis": b"hello\r\n",
        "lua": b"hello\n", "timers": b"%d\n" % TIMERS_PER_REQUEST,
        "static": static_body,
    }.get(name)
    if name == "api":
        if not re.fullmatch(rb"[\d.]+\n", body):
            return "probe: expected ns per call, got %r" % body[:120]
        return None
    if name == "proxy_1m":
        if len(body) != PROXY_BIG_SIZE:
            return "probe: expected %d bytes, got %d" % (PROXY_BIG_SIZE, len(body))
        return None
    if name == "shdict":
        if not re.fullmatch(rb"\d+\n", body):
            return "probe: expected a counter, got %r" % body[:120]
        return None
    if name in ("shdict_loop", "shdict_hot"):
        if body != b"%d\n" % OPS_PER_REQUEST[name]:
            return "probe: expected %d ops, got %r" % (OPS_PER_REQUEST[name], body[:120])
        return None
    if body != want:
        return "probe: expected %r, got %r" % (want[:40], body[:120])
    return None


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# processes

def proc_children():
    """Map ppid -> [pid] for every process."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def descendants(pid):
    kids, out, todo = proc_children(), [], [pid]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return 0
    fields = st[st.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def status_kb(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
        return st[st.rindex(")") + 2] != "Z"
    except OSError:
        return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path="/", timeout=5.0):
    """One HTTP/1.1 request with Connection: close; returns (status, body)."""
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                   % path).encode())
        buf = b""
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3})", lines[0] if lines else b"")
    if not m:
        raise OSError("no HTTP status line in %r" % buf[:80])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower()] = v.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        out, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0:
                break
            out, rest = out + rest[:size], rest[size + 2:]
        body = out
    elif b"content-length" in headers:
        body = body[:int(headers[b"content-length"])]
    return int(m.group(1)), body


class Server:
    """One nginx-compatible server process tree under a private prefix."""

    def __init__(self, label, binary, prefix, conf_text, cpus):
        self.label, self.binary, self.prefix, self.cpus = label, binary, prefix, cpus
        self.proc, self.error = None, None
        os.makedirs(os.path.join(prefix, "conf"), exist_ok=True)
        os.makedirs(os.path.join(prefix, "logs"), exist_ok=True)
        os.makedirs(os.path.join(prefix, "html"), exist_ok=True)
        with open(os.path.join(prefix, "conf", "nginx.conf"), "w") as f:
            f.write(conf_text)

    def argv(self, *extra):
        # Absolute -c and cwd = prefix: the runner measures speed, not path resolution.
        cmd = [self.binary, "-p", self.prefix + "/", "-c",
               os.path.join(self.prefix, "conf", "nginx.conf"), *extra]
        if self.cpus:
            cmd = ["taskset", "-c", ",".join(map(str, self.cpus))] + cmd
        return cmd

    def test_config(self):
        try:
            r = subprocess.run(self.argv("-t"), capture_output=True, text=True, timeout=20,
                               cwd=self.prefix)
        except (OSError, subprocess.TimeoutExpired) as e:
            return "config test: %s" % e
        if r.returncode != 0:
            lines = [l for l in (r.stderr + r.stdout).splitlines() if "emerg" in l or "error" in l]
            msg = (lines or (r.stderr + r.stdout).strip().splitlines() or ["rc=%d" % r.returncode])[0]
            msg = re.sub(r"^\S+: ", "", msg.strip()).replace(self.prefix + "/", "")
            return "config rejected: " + msg[:160]
        return None

    def start(self, port, timeout=10.0):
        """Starts the server; returns an error string or None."""
        out = open(os.path.join(self.prefix, "logs", "stderr.log"), "wb")
        try:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         cwd=self.prefix)
        except OSError as e:
            return "start: %s" % e
        finally:
            out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "exited at start (rc=%s): %s" % (self.proc.returncode, self.tail_log())
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return None
            except OSError:
                time.sleep(0.05)
        return "not listening on 127.0.0.1:%d after %.0fs" % (port, timeout)

    def tail_log(self, *names):
        for name in names or ("stderr.log", "error.log"):
            try:
                with open(os.path.join(self.prefix, "logs", name), errors="replace") as f:
                    lines = [l.strip() for l in f if l.strip()]
                severe = [l for l in lines if re.search(r"\[(error|crit|alert|emerg)\]", l)]
                if severe or lines:
                    line = (severe or lines)[-1]
                    return re.sub(r"^\d{4}/\d\d/\d\d [\d:]+ ", "", line)[:240]
            except OSError:
                pass
        return "(no log output)"

    def pids(self):
        if not self.proc or not alive(self.proc.pid):
            return []
        return [self.proc.pid] + descendants(self.proc.pid)

    def workers(self):
        """Worker processes (all descendants); the master itself if it has none."""
        if not self.proc:
            return []
        kids = [p for p in descendants(self.proc.pid) if alive(p)]
        return kids or ([self.proc.pid] if alive(self.proc.pid) else [])

    def wait_workers(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.workers()) < n:
            time.sleep(0.05)

    def cpu_ticks(self):
        return sum(cpu_ticks(p) for p in self.pids())

    def rss_kb(self):
        return sum(status_kb(p, "VmRSS") for p in self.workers())

    def hwm_kb(self):
        return sum(status_kb(p, "VmHWM") for p in self.workers())

    def is_alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if not self.proc:
            return
        pids = self.pids()
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        for p in pids:  # anything left of this tree, by pid
            if alive(p):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
        try:  # and of its own process group (started with a new session)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.proc = None


LIVE_SERVERS = []


def cleanup(*_):
    for s in list(LIVE_SERVERS):
        s.stop()
    LIVE_SERVERS.clear()


# --------------------------------------------------------------------------
# load

def run_wrk(port, secs, conns, threads, cpus, close=False, path="/"):
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", "%ds" % secs,
           "--timeout", "5s", "-s", WRK_SCRIPT]
    if close:
        cmd += ["-H", "Connection: close"]
    cmd.append("http://127.0.0.1:%d%s" % (port, path))
    if cpus:
        cmd = ["taskset", "-c", ",".join(map(str, cpus))] + cmd
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 30)
    except subprocess.TimeoutExpired:
        return None, "wrk timed out"
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = re.search(r"^BENCH_JSON (\{.*\})$", r.stdout, re.M)
    if not m:
        return None, "wrk failed: %s" % (r.stderr.strip() or r.stdout.strip())[:160]
    res = json.loads(m.group(1))
    # wrk's own CPU use, in cores: ~threads means the load generator is the bottleneck.
    res["wrk_cpu"] = ((ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)) / (
        max(res["duration_us"], 1) / 1e6)
    return res, None


def measure_wrk(srv, port, wl, a, cpus):
    kind = wl[4]
    conns = 1 if wl[0] in SINGLE_CONNECTION else a.connections
    c0, t0 = srv.cpu_ticks(), time.monotonic()
    res, err = run_wrk(port, a.duration, conns, a.threads, cpus, close=(wl[0] == "close"),
                       path=wl_path(wl[0]))
    c1 = srv.cpu_ticks()
    if err:
        return None, err
    if not srv.is_alive():
        return None, "server died during the run: " + srv.tail_log()
    errors = res["err_connect"] + res["err_read"] + res["err_write"] + res["err_timeout"]
    if res["err_status"]:
        return None, "%d non-2xx responses" % res["err_status"]
    if res["requests"] == 0:
        return None, "no request completed (%d socket errors)" % errors
    # A few socket errors (e.g. at the end of a run) are tolerated, not more than 1%.
    if errors > res["requests"] // 100:
        return None, "%d socket errors in %d requests" % (errors, res["requests"])
    secs = res["duration_us"] / 1e6
    ops = res["requests"] * OPS_PER_REQUEST.get(wl[0], 1)
    out = {
        "value": ops / secs,
        "requests": res["requests"],
        "p99_ms": res["p99_us"] / 1000.0,
        "p50_ms": res["p50_us"] / 1000.0,
        "cpu_us_per_op": (c1 - c0) / CLK_TCK / ops * 1e6,
        "socket_errors": errors,
        "server_cpu": (c1 - c0) / CLK_TCK / secs,
        "wrk_cpu": res["wrk_cpu"],
        "wall_s": time.monotonic() - t0,
    }
    if kind == "timers":
        out["peak_rss_kb"] = srv.hwm_kb()
    return out, None


def measure_idle(srv, port, a):
    base = srv.rss_kb()
    cmd = [sys.executable, IDLE_CLIENT, "--port", str(port), "-n", str(a.idle_conns),
           "--timeout", "60", "--hold", "120"]
    client = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        line = readline_timeout(client, 75)
        m = re.match(r"READY (\d+) (\d+)", line or "")
        if not m:
            return None, "idle client: %r" % line
        opened, failed = int(m.group(1)), int(m.group(2))
        if opened < a.idle_conns:
            return None, "only %d of %d connections opened (%d failed)" % (
                opened, a.idle_conns, failed)
        time.sleep(0.5)
        rss = srv.rss_kb()
        client.stdin.write("CHECK\n")
        client.stdin.flush()
        line = readline_timeout(client, 10)
        m = re.match(r"ALIVE (\d+)", line or "")
        still = int(m.group(1)) if m else 0
        if still < opened:
            return None, "server closed %d of %d idle connections" % (opened - still, opened)
        return {"value": (rss - base) * 1024.0 / opened, "baseline_rss_kb": base,
                "loaded_rss_kb": rss, "connections": opened}, None
    finally:
        try:
            client.stdin.write("QUIT\n")
            client.stdin.close()
        except OSError:
            pass
        try:
            client.wait(timeout=10)
        except subprocess.TimeoutExpired:
            client.kill()
            client.wait(timeout=5)


PENDING_TIMERS = 100000


def measure_pending(srv, port):
    """Worker RSS growth per pending timer (a fresh server each round)."""
    time.sleep(0.3)
    base = srv.rss_kb()
    try:
        status, body = http_get(port, "/create")
    except OSError as e:
        return None, "create: %s" % e
    if status != 200 or body != b"%d\n" % PENDING_TIMERS:
        return None, "create: status %s, body %r" % (status, body[:120])
    time.sleep(0.3)
    rss = srv.rss_kb()
    return {"value": (rss - base) * 1024.0 / PENDING_TIMERS, "baseline_rss_kb": base,
            "loaded_rss_kb": rss, "timers": PENDING_TIMERS}, None


def readline_timeout(proc, timeout):
    import select
    r, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline().strip() if r else None


# --------------------------------------------------------------------------
# driver

def render(template, load_modules, port, workers, upstream_port):
    with open(os.path.join(CONF_DIR, template)) as f:
        text = f.read()
    return (text.replace("@LOAD_MODULES@", load_modules)
                .replace("@WORKERS@", str(workers))
                .replace("@PORT@", str(port))
                .replace("@UPSTREAM_PORT@", str(upstream_port)))


def nginx_load_modules():
    return "\n".join("load_module %s/%s;" % (NGINX_MODULES, m)
                     for m in ("ndk_http_module.so", "ngx_http_lua_module.so"))


def cpu_plan(workers):
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return [], [], "1 cpu: no pinning, server and wrk share the core"
    nsrv = workers if len(cpus) >= 2 * workers else 1
    srv, load = cpus[:nsrv], cpus[nsrv:]
    return srv, load, "server on cpu %s, load on cpu %s" % (
        ",".join(map(str, srv)), ",".join(map(str, load)))


def machine_info(a):
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = status_kb_file("/proc/meminfo", "MemTotal")

    def version(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (r.stderr + r.stdout).strip().splitlines()[0]
        except Exception as e:  # noqa: BLE001 - informational only
            return "unknown (%s)" % e
    commit = ""
    try:
        # The commit of the tree the Lunet binary was built from (--dirty: with local edits).
        commit = subprocess.run(["git", "-C", os.path.dirname(a.lunet), "describe", "--always",
                                 "--dirty", "--exclude", "*"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:  # noqa: BLE001
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_total_mb": mem // 1024,
        "kernel": platform.release(),
        "loadavg_at_start": round(os.getloadavg()[0], 2),
        "lunet": version([a.lunet, "-v"]) if os.path.exists(a.lunet) else "not built",
        "lunet_commit": commit,
        "nginx": version([a.nginx, "-v"]),
        "wrk": version(["wrk", "--version"]),
    }


def status_kb_file(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def redis_set(port, key, value):
    """Waits for redis-server on port and sets key; returns an error or None."""
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                          % (len(key), key, len(value), value))
                if s.recv(64).startswith(b"+OK"):
                    return None
        except OSError:
            time.sleep(0.05)
    return "did not start"


def run_workload(wl, a, sides, tmp):
    name, title, template, workers, kind = wl
    srv_cpus, load_cpus, pin_note = cpu_plan(workers)
    if a.no_pin:
        srv_cpus, load_cpus, pin_note = [], [], "pinning disabled"
    row = {"workload": name, "title": title, "workers": workers, "pinning": pin_note,
           "metric": {"wrk": "req/s", "timers": "timers/s", "idle": "bytes/conn",
                      "ops": "ops/s", "pending": "bytes/timer"}[kind],
           "better": "lower" if kind in ("idle", "pending") else "higher"}
    log("== %s: %s (%d worker%s; %s)" % (name, title, workers, "s" if workers > 1 else "", pin_note))

    upstream = None
    upstream_port = 0
    if name in ("proxy", "proxy_1m"):
        upstream_port = free_port()
        upstream = Server("upstream", a.nginx, os.path.join(tmp, "upstream"),
                          render("upstream.conf", "", upstream_port, 1, 0), load_cpus)
        with open(os.path.join(tmp, "upstream", "html", PROXY_BIG_FILE), "wb") as f:
            f.write(bytes((i * 7 + 13) % 256 for i in range(PROXY_BIG_SIZE)))
        LIVE_SERVERS.append(upstream)
        err = upstream.start(upstream_port)
        if err:
            for side in sides:
                row[side["key"]] = {"status": "n/a", "reason": "upstream: " + err}
            upstream.stop()
            return row

    redis = None
    if name == "redis":
        upstream_port = free_port()
        redis = subprocess.Popen(["redis-server", "--port", str(upstream_port), "--bind",
                                  "127.0.0.1", "--save", "", "--appendonly", "no"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        err = redis_set(upstream_port, b"bench", b"hello")
        if err:
            for side in sides:
                row[side["key"]] = {"status": "n/a", "reason": "redis-server: " + err}
            redis.kill()
            redis.wait()
            return row

    static_body = bytes((i * 7 + 13) % 256 for i in range(4096))
    servers = {}
    try:
        for side in sides:
            port = free_port()
            prefix = os.path.join(tmp, "%s-%s" % (side["key"], name))
            conf = render(template, side["load_modules"], port, workers, upstream_port)
            srv = Server(side["label"], side["binary"], prefix, conf, srv_cpus)
            with open(os.path.join(prefix, "html", STATIC_FILE), "wb") as f:
                f.write(static_body)
            res = {"status": "ok", "rounds": []}
            row[side["key"]] = res
            if not os.path.exists(side["binary"]):
                res.update(status="n/a", reason="binary not found: " + side["binary"])
                continue
            err = srv.test_config()
            if not err:
                LIVE_SERVERS.append(srv)
                err = start_and_probe(srv, port, name, workers, static_body)
            if err:
                res.update(status="n/a", reason=err)
                srv.stop()
                continue
            servers[side["key"]] = (srv, port)

        # Warm-up (not recorded)
        if kind not in ("idle", "pending"):
            for key, (srv, port) in servers.items():
                run_wrk(port, a.warmup, 1 if name in SINGLE_CONNECTION else a.connections, a.threads,
                        load_cpus, close=(name == "close"),
                        path=wl_path(name))

        for rnd in range(a.rounds):
            for side in sides:  # A B A B ...
                key = side["key"]
                if key not in servers:
                    continue
                srv, port = servers[key]
                res = row[key]
                if kind in ("idle", "pending"):
                    # A fresh server per round: freed memory is not returned to the OS.
                    if rnd > 0:
                        srv.stop()
                        err = start_and_probe(srv, port, name, workers, static_body)
                        if err:
                            res.update(status="n/a", reason="restart: " + err)
                            del servers[key]
                            continue
                    m, err = (measure_idle(srv, port, a) if kind == "idle"
                              else measure_pending(srv, port))
                else:
                    m, err = measure_wrk(srv, port, wl, a, load_cpus)
                if err:
                    res.update(status="n/a", reason="round %d: %s" % (rnd + 1, err))
                    srv.stop()
                    del servers[key]
                    continue
                res["rounds"].append(m)
                log("   round %d %-6s %s" % (rnd + 1, side["label"], fmt_round(m, row)))
    finally:
        for srv, _ in servers.values():
            srv.stop()
        if upstream:
            upstream.stop()
        if redis:
            redis.kill()
            redis.wait()
        LIVE_SERVERS.clear()

    for side in sides:
        res = row[side["key"]]
        if res["status"] != "ok" or not res["rounds"]:
            if res["status"] == "ok":
                res.update(status="n/a", reason="no rounds")
            continue
        rs = res["rounds"]
        res["value"] = statistics.median(r["value"] for r in rs)
        vals = [r["value"] for r in rs]
        res["spread"] = (max(vals) - min(vals)) / res["value"] if res["value"] else 0.0
        for k in ("p99_ms", "cpu_us_per_op", "peak_rss_kb"):
            if k in rs[0]:
                res[k] = statistics.median(r[k] for r in rs)
    l, n = row.get("lunet", {}), row.get("nginx", {})
    for res in (l, n):
        if res.get("status") == "ok" and "wrk_cpu" in res["rounds"][0]:
            res["server_cpu"] = statistics.median(r["server_cpu"] for r in res["rounds"])
            res["wrk_cpu"] = statistics.median(r["wrk_cpu"] for r in res["rounds"])
    if l.get("status") == "ok" and n.get("status") == "ok":
        if n["value"] > 0:
            row["ratio"] = l["value"] / n["value"]
        if n.get("cpu_us_per_op") and l.get("cpu_us_per_op") is not None:
            row["cpu_ratio"] = l["cpu_us_per_op"] / n["cpu_us_per_op"]
    return row


def api_path(key, n):
    return "/?api=%s&n=%d&a=1&b=2" % (key, n)


def run_api_workload(wl, a, sides, tmp):
    """The "API calls" family: one row per API (ns per call, lower is better)."""
    name, title, template, workers, kind = wl
    srv_cpus, _, pin_note = cpu_plan(workers)
    if a.no_pin:
        srv_cpus, pin_note = [], "pinning disabled"
    loop = 200000 if a.quick else 1000000
    log("== %s: %s (%d calls per request; %s)" % (name, title, loop, pin_note))
    rows = [{"workload": "api:" + key, "title": "API " + t, "workers": workers,
             "pinning": pin_note, "metric": "ns/call", "better": "lower"}
            for key, t in API_CALLS]
    servers = {}
    try:
        for side in sides:
            key = side["key"]
            port = free_port()
            prefix = os.path.join(tmp, "%s-%s" % (key, name))
            srv = Server(side["label"], side["binary"], prefix,
                         render(template, side["load_modules"], port, workers, 0), srv_cpus)
            err = None
            if not os.path.exists(side["binary"]):
                err = "binary not found: " + side["binary"]
            err = err or srv.test_config()
            if not err:
                LIVE_SERVERS.append(srv)
                err = srv.start(port)
            if not err:
                srv.wait_workers(workers)
                try:
                    status, body = http_get(port, api_path("ngx.now", 10))
                    err = expect(name, status, body, b"")
                except OSError as e:
                    err = "probe: %s" % e
            for row in rows:
                row[key] = {"status": "ok", "rounds": []} if not err else {
                    "status": "n/a", "reason": err}
            if err:
                srv.stop()
                continue
            servers[key] = (srv, port)

        def call(key, api, n):
            srv, port = servers[key]
            status, body = http_get(port, api_path(api, n), timeout=30)
            if status != 200 or not re.fullmatch(rb"[\d.]+\n", body):
                raise OSError("status %s, body %r; error.log: %s" % (
                    status, body[:80], srv.tail_log("error.log")))
            return float(body)

        for (api, _), row in zip(API_CALLS, rows):
            for side in sides:  # warm-up (not recorded)
                if side["key"] in servers and row[side["key"]]["status"] == "ok":
                    try:
                        call(side["key"], api, loop // 10)
                    except OSError as e:
                        row[side["key"]].update(status="n/a", reason="warm-up: %s" % e)
        for rnd in range(a.rounds):
            for (api, _), row in zip(API_CALLS, rows):
                for side in sides:  # A B A B ...
                    key = side["key"]
                    if key not in servers or row[key]["status"] != "ok":
                        continue
                    try:
                        row[key]["rounds"].append({"value": call(key, api, loop)})
                    except OSError as e:
                        row[key].update(status="n/a", reason="round %d: %s" % (rnd + 1, e))
            log("   round %d %s" % (rnd + 1, "  ".join(
                "%s %s" % (api, "/".join("%.1f" % row[s["key"]]["rounds"][-1]["value"]
                                         if row[s["key"]].get("rounds") else "-"
                                         for s in sides))
                for (api, _), row in zip(API_CALLS, rows))))
    finally:
        for srv, _ in servers.values():
            srv.stop()
        LIVE_SERVERS.clear()

    for row in rows:
        for side in sides:
            res = row[side["key"]]
            if res["status"] != "ok":
                continue
            if not res["rounds"]:
                res.update(status="n/a", reason="no rounds")
                continue
            vals = [r["value"] for r in res["rounds"]]
            res["value"] = statistics.median(vals)
            res["spread"] = (max(vals) - min(vals)) / res["value"] if res["value"] else 0.0
        l, n = row.get("lunet", {}), row.get("nginx", {})
        if l.get("status") == "ok" and n.get("status") == "ok" and n["value"] > 0:
            row["ratio"] = l["value"] / n["value"]
    return rows


def start_and_probe(srv, port, name, workers, static_body):
    err = srv.start(port)
    if err:
        return err
    srv.wait_workers(workers)
    path = wl_path(name)
    try:
        status, body = http_get(port, path)
    except OSError as e:
        return "probe: %s" % e
    err = expect(name, status, body, static_body)
    if err and status >= 500:
        err = "probe: status %d; error.log: %s" % (status, srv.tail_log("error.log"))
    return err


def fmt_round(m, row):
    if row["metric"] == "bytes/timer":
        return "%.0f bytes/timer (rss %d -> %d KiB)" % (m["value"], m["baseline_rss_kb"],
                                                         m["loaded_rss_kb"])
    if row["metric"] == "bytes/conn":
        return "%.0f bytes/conn (rss %d -> %d KiB)" % (m["value"], m["baseline_rss_kb"],
                                                        m["loaded_rss_kb"])
    s = "%10.0f %s  p99 %.2f ms  cpu %.2f us/op  (server %.0f%%, wrk %.0f%% cpu)" % (
        m["value"], row["metric"], m["p99_ms"], m["cpu_us_per_op"], 100 * m["server_cpu"],
        100 * m["wrk_cpu"])
    if "peak_rss_kb" in m:
        s += "  peak rss %d KiB" % m["peak_rss_kb"]
    return s


# --------------------------------------------------------------------------
# output

def fmt_num(v):
    if v is None:
        return "-"
    if v >= 100:
        return "{:,.0f}".format(v)
    return "%.2f" % v


def table_rows(data):
    """Rows of cells for the text and markdown tables."""
    la, na = data["sides"][0]["label"], data["sides"][1]["label"]
    head = ["workload", "metric", la, na, "%s/%s" % (la, na), "p99 ms %s" % la,
            "p99 ms %s" % na, "CPU us/op %s" % la, "CPU us/op %s" % na, "CPU %s/%s" % (la, na)]
    rows = []
    notes = []
    for r in data["rows"]:
        l, n = r.get("lunet", {}), r.get("nginx", {})

        def val(x):
            return fmt_num(x["value"]) if x.get("status") == "ok" else "n/a"

        def opt(x, k):
            return fmt_num(x[k]) if x.get("status") == "ok" and k in x else "-"
        metric = r["metric"] + (" (lower is better)" if r["better"] == "lower" else "")
        rows.append([r["title"], metric, val(l), val(n),
                     "%.2f" % r["ratio"] if "ratio" in r else "n/a",
                     opt(l, "p99_ms"), opt(n, "p99_ms"),
                     opt(l, "cpu_us_per_op"), opt(n, "cpu_us_per_op"),
                     "%.2f" % r["cpu_ratio"] if "cpu_ratio" in r else "-"])
        if any("peak_rss_kb" in x for x in (l, n)):
            notes.append("%s: peak worker RSS %s" % (r["workload"], ", ".join(
                "%s %.1f MiB" % (data["labels"][k], x["peak_rss_kb"] / 1024.0)
                for k, x in (("lunet", l), ("nginx", n)) if "peak_rss_kb" in x)))
        bound = [data["labels"][k] for k, x in (("lunet", l), ("nginx", n))
                 if x.get("wrk_cpu", 0) >= 0.9 * data["settings"]["wrk_threads"]
                 and r["workload"] != "timers"]
        noisy = ["%s %.0f%%" % (data["labels"][k], 100 * x["spread"])
                 for k, x in (("lunet", l), ("nginx", n)) if x.get("spread", 0) > 0.25]
        if noisy:
            notes.append("%s: noisy, rounds spread (max-min)/median: %s" % (
                r["workload"], ", ".join(noisy)))
        if bound:
            notes.append("%s: wrk saturated its core(s) against %s; compare CPU us/op" % (
                r["workload"], " and ".join(bound)))
        for side, x in (("lunet", l), ("nginx", n)):
            if x.get("status") != "ok":
                notes.append("%s / %s: n/a - %s" % (r["workload"], data["labels"][side],
                                                    x.get("reason", "?")))
    return head, rows, notes


def text_table(data):
    head, rows, notes = table_rows(data)
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    out = [line(head), line(["-" * w for w in widths])] + [line(r) for r in rows]
    return "\n".join(out + [""] + notes)


def markdown_table(data):
    head, rows, notes = table_rows(data)
    m = data["machine"]
    out = ["%s; %s, nproc %s, Linux %s; Lunet %s vs %s + lua-nginx-module; `%s`: "
           "median of %d alternating rounds x %d s, %d connections, %s; "
           "load average %.2f at start." % (
               data["date"], m["cpu_model"] or "unknown CPU", m["nproc"], m["kernel"],
               m["lunet_commit"] or "?", m["nginx"].replace("nginx version: ", ""),
               data["command"], data["settings"]["rounds"], data["settings"]["duration_s"],
               data["settings"]["connections"], data["pinning"],
               m["loadavg_at_start"]), "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + "|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    if notes:
        out += [""] + ["- " + n for n in notes]
    return "\n".join(out) + "\n"


def write_results(data, out_dir, base):
    os.makedirs(out_dir, exist_ok=True)
    for name, text in ((base + ".json", json.dumps(data, indent=2) + "\n"),
                       (base + ".md", markdown_table(data))):
        tmp = os.path.join(out_dir, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(out_dir, name))


README_BEGIN = "<!-- bench:begin (generated by bench/run --update-readme) -->"
README_END = "<!-- bench:end -->"


def update_readme(data):
    path = os.path.join(ROOT, "README.md")
    with open(path) as f:
        text = f.read()
    if README_BEGIN not in text or README_END not in text:
        log("README.md has no bench markers; not updated")
        return
    pre, rest = text.split(README_BEGIN, 1)
    _, post = rest.split(README_END, 1)
    with open(path + ".tmp", "w") as f:
        f.write(pre + README_BEGIN + "\n" + markdown_table(data) + README_END + post)
    os.replace(path + ".tmp", path)
    log("README.md Performance table updated")


LOCK_PATH = "/tmp/lunet-bench.lock"


def take_machine_lock(wait_s):
    """One bench/run per machine: flock on LOCK_PATH, waiting at most wait_s."""
    import fcntl
    f = open(LOCK_PATH, "a+")
    deadline, told = time.monotonic() + wait_s, False
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            f.seek(0)
            f.truncate()
            f.write("%d\n" % os.getpid())
            f.flush()
            return f
        except BlockingIOError:
            if time.monotonic() >= deadline:
                f.close()
                return None
            if not told:
                f.seek(0)
                log("waiting for another bench/run (pid %s) to finish (at most %d s)"
                    % (f.read().strip() or "?", wait_s))
                told = True
            time.sleep(1)


def main():
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="3 rounds x 1 s, 1 s warm-up (whole run < 2 min)")
    ap.add_argument("--rounds", type=int, help="rounds per server (default 5; quick 3)")
    ap.add_argument("--duration", type=int, help="seconds per wrk run (default 5; quick 1)")
    ap.add_argument("--warmup", type=int, help="warm-up seconds per server (default 2; quick 1)")
    ap.add_argument("--connections", type=int, default=50, help="wrk connections (default 50)")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    ap.add_argument("--idle-conns", type=int, default=10000, help="idle connections (10000)")
    ap.add_argument("--only", help="comma-separated workloads: " + ",".join(WORKLOAD_NAMES))
    ap.add_argument("--lunet", default=os.path.join(ROOT, "build", "release", "lunet"),
                    help="Lunet binary (build/release/lunet)")
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx",
                    help="nginx binary (Debian's, with the lua module in %s)" % NGINX_MODULES)
    ap.add_argument("--self-check", action="store_true",
                    help="run nginx on both sides (tests the harness; not a result)")
    ap.add_argument("--no-pin", action="store_true", help="do not pin with taskset")
    ap.add_argument("--out", default=RESULTS, help="results directory (bench/results)")
    ap.add_argument("--update-readme", action="store_true",
                    help="replace the table in README.md's Performance section")
    ap.add_argument("--keep", action="store_true", help="keep the /tmp prefixes")
    ap.add_argument("--lock-wait", type=int, default=600,
                    help="seconds to wait for another bench/run on this machine (600)")
    ap.add_argument("--from-json", metavar="FILE",
                    help="measure nothing: re-render the tables (and README with "
                         "--update-readme) from a results file of an earlier run")
    a = ap.parse_args()
    if a.from_json:
        with open(a.from_json) as f:
            data = json.load(f)
        print(text_table(data))
        if a.update_readme and not data.get("self_check"):
            update_readme(data)
        return 0
    a.rounds = a.rounds or (3 if a.quick else 5)
    a.duration = a.duration or (1 if a.quick else 5)
    a.warmup = a.warmup or (1 if a.quick else 2)
    a.rounds = max(1, a.rounds)
    only = a.only.split(",") if a.only else WORKLOAD_NAMES
    for w in only:
        if w not in WORKLOAD_NAMES:
            ap.error("unknown workload %r" % w)
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            ap.error("%s not found: run scripts/deps.sh --bench" % tool)

    # Two runs at once would share the pinned cores and spoil each other's numbers.
    lock = take_machine_lock(a.lock_wait)
    if lock is None:
        log("another bench/run holds %s for longer than %d s; giving up" % (LOCK_PATH, a.lock_wait))
        return 75
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started in background
    signal.signal(signal.SIGTERM, lambda *_: (cleanup(), sys.exit(143)))
    signal.signal(signal.SIGHUP, lambda *_: (cleanup(), sys.exit(129)))

    a.lunet = os.path.abspath(a.lunet)
    lm = nginx_load_modules()
    if a.self_check:
        sides = [{"key": "lunet", "label": "nginx-A", "binary": a.nginx, "load_modules": lm},
                 {"key": "nginx", "label": "nginx", "binary": a.nginx, "load_modules": lm}]
    else:
        sides = [{"key": "lunet", "label": "Lunet", "binary": a.lunet, "load_modules": ""},
                 {"key": "nginx", "label": "nginx", "binary": a.nginx, "load_modules": lm}]

    started = time.monotonic()
    data = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "bench/run " + " ".join(sys.argv[1:]) if sys.argv[1:] else "bench/run",
        "self_check": a.self_check,
        "machine": machine_info(a),
        "settings": {"rounds": a.rounds, "duration_s": a.duration, "warmup_s": a.warmup,
                     "connections": a.connections, "wrk_threads": a.threads,
                     "idle_conns": a.idle_conns,
                     "timers_per_request": TIMERS_PER_REQUEST,
                     "order": "alternating A B A B per round"},
        "sides": [{"key": s["key"], "label": s["label"], "binary": s["binary"]} for s in sides],
        "labels": {s["key"]: s["label"] for s in sides},
        "pinning": cpu_plan(1)[2] if not a.no_pin else "pinning disabled",
        "rows": [],
    }
    m = data["machine"]
    log("machine: %s, nproc %s, %s; lunet: %s; nginx: %s" % (
        m["cpu_model"], m["nproc"], m["kernel"], m["lunet"], m["nginx"]))
    if a.self_check:
        log("SELF-CHECK: nginx on both sides; this tests the harness, it is not a result")
    tmp = tempfile.mkdtemp(prefix="lunet-bench-", dir="/tmp")
    os.chmod(tmp, 0o755)  # workers may run as nobody: static files must be readable
    try:
        for wl in WORKLOADS:
            if wl[0] not in only:
                continue
            if wl[4] == "api":
                data["rows"].extend(run_api_workload(wl, a, sides, tmp))
            else:
                data["rows"].append(run_workload(wl, a, sides, tmp))
    except KeyboardInterrupt:
        log("interrupted")
        cleanup()
        return 130
    finally:
        cleanup()
        if a.keep:
            log("prefixes kept in " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    data["elapsed_s"] = round(time.monotonic() - started, 1)
    # A self-check (nginx on both sides) never overwrites a real result.
    base = "self-check" if a.self_check else "latest"
    write_results(data, a.out, base)
    print()
    print("Lunet vs nginx + lua-nginx-module, %s; %s, nproc %s; %s" % (
        data["date"], m["cpu_model"], m["nproc"], data["pinning"]))
    print("median of %d alternating rounds x %ds; ratio = %s/%s (>1 better for req/s, "
          "timers/s; <1 better for bytes/conn, ns/call and CPU/op)" % (
              a.rounds, a.duration, sides[0]["label"], sides[1]["label"]))
    print(text_table(data))
    print("\nwritten: %s, %s (%.0fs)" % (os.path.join(a.out, base + ".json"),
                                         os.path.join(a.out, base + ".md"), data["elapsed_s"]))
    if a.update_readme:
        if a.self_check:
            log("--update-readme ignored in --self-check mode")
        else:
            update_readme(data)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        cleanup()
