#!/usr/bin/env python3
"""Opens N keep-alive connections to 127.0.0.1:PORT, sends one GET on each,
reads the response, then holds them all idle.

Protocol with the parent (bench/lib/bench.py), line-based on stdout/stdin:
  stdout "READY <open> <failed>"  once every connection has either finished its
                                  first request or failed;
  stdin  "CHECK"                  -> stdout "ALIVE <n>" (connections the server
                                  has not closed);
  stdin  EOF or "QUIT"            -> close everything and exit.
Everything is bounded: --timeout limits the opening phase and --hold limits
how long connections are held if the parent never says QUIT.
"""
import argparse
import errno
import resource
import select
import selectors
import socket
import sys
import time


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def response_complete(buf):
    """True once buf holds one whole HTTP response (Content-Length or chunked)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = buf[:end].lower()
    body = buf[end + 4:]
    for line in head.split(b"\r\n")[1:]:
        if line.startswith(b"content-length:"):
            return len(body) >= int(line.split(b":", 1)[1])
    if b"transfer-encoding: chunked" in head:
        return body.endswith(b"0\r\n\r\n")
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--path", default="/")
    ap.add_argument("--inflight", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--hold", type=float, default=120.0)
    a = ap.parse_args()

    limit = raise_nofile(a.n + 64)
    n = min(a.n, limit - 32)
    req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % a.path).encode()
    sel = selectors.DefaultSelector()
    held, failed, pending, started = [], 0, 0, 0
    deadline = time.monotonic() + a.timeout

    def start_one():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex(("127.0.0.1", a.port))
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            return False
        sel.register(s, selectors.EVENT_WRITE, [b"", False])
        return True

    while (started < n or pending) and time.monotonic() < deadline:
        while started < n and pending < a.inflight:
            started += 1
            if start_one():
                pending += 1
            else:
                failed += 1
        for key, ev in sel.select(timeout=0.5):
            s, st = key.fileobj, key.data
            try:
                if not st[1]:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, "connect")
                    s.sendall(req)
                    st[1] = True
                    sel.modify(s, selectors.EVENT_READ, st)
                    continue
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("closed by server")
                st[0] += chunk
                if response_complete(st[0]):
                    sel.unregister(s)
                    held.append(s)
                    pending -= 1
            except OSError:
                sel.unregister(s)
                s.close()
                pending -= 1
                failed += 1
    # Whatever did not finish in time counts as failed.
    for key in list(sel.get_map().values()):
        sel.unregister(key.fileobj)
        key.fileobj.close()
        failed += 1
    failed += n - started + (a.n - n)
    sys.stdout.write("READY %d %d\n" % (len(held), failed))
    sys.stdout.flush()

    poller = select.epoll()
    for s in held:
        poller.register(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
    closed = set()
    end = time.monotonic() + a.hold
    while time.monotonic() < end:
        r, _, _ = select.select([sys.stdin], [], [], 1.0)
        if not r:
            continue
        line = sys.stdin.readline()
        if not line or line.strip() == "QUIT":
            break
        if line.strip() == "CHECK":
            for fd, _ in poller.poll(0):
                closed.add(fd)
            sys.stdout.write("ALIVE %d\n" % (len(held) - len(closed)))
            sys.stdout.flush()
    for s in held:
        s.close()


if __name__ == "__main__":
    main()
