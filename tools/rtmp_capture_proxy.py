#!/usr/bin/env python3
"""rtmp_capture_proxy.py - a one-connection TCP proxy that records both directions.

Listens on 127.0.0.1:LISTEN, accepts ONE client, connects it to 127.0.0.1:UPSTREAM and
forwards bytes both ways, writing the raw bytes of each direction to

    PREFIX.c2s   everything the client sent (RTMP: C0, C1, C2, then chunks)
    PREFIX.s2c   everything the server sent (S0, S1, S2, then chunks)

It exits when both sides have closed, when --timeout seconds have passed since the start, or
when nothing has moved for --idle seconds. With --max-bytes N it stops after N client bytes:
the c2s file is cut at exactly N bytes, and both sockets are closed (so the fixture stays
small; the client will usually see a broken pipe, which is expected).

Usage:
    tools/rtmp_capture_proxy.py LISTEN UPSTREAM PREFIX [--max-bytes N] [--timeout S]
                                [--idle S] [--ready-file PATH]

Example (capture what ffmpeg sends when it publishes):
    ffmpeg9 -listen 1 -timeout 20 -i rtmp://127.0.0.1:19361/live/k -c copy -f null - &
    tools/rtmp_capture_proxy.py 19360 19361 /tmp/cap/ff9 --timeout 30 &
    ffmpeg9 -re -i in.flv -c copy -f flv rtmp://127.0.0.1:19360/live/k
    # -> /tmp/cap/ff9.c2s, /tmp/cap/ff9.s2c

The listening socket is bound before the script prints "listening" on stderr (and creates
--ready-file, if given), so a caller can wait for that instead of sleeping.
Loopback only; Python 3.11 standard library only. Exit status 0 if a client connected.
"""

import argparse
import os
import selectors
import socket
import sys
import time


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("listen", type=int, help="port to listen on (127.0.0.1)")
    ap.add_argument("upstream", type=int, help="port of the real server (127.0.0.1)")
    ap.add_argument("prefix", help="output prefix: PREFIX.c2s and PREFIX.s2c")
    ap.add_argument("--max-bytes", type=int, default=0,
                    help="stop recording and close both sides after N client bytes (0: no limit)")
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="overall limit in seconds, accept included (default 60)")
    ap.add_argument("--idle", type=float, default=10.0,
                    help="close after this many seconds without traffic (default 10)")
    ap.add_argument("--connect-timeout", type=float, default=5.0,
                    help="seconds to retry connecting upstream (default 5)")
    ap.add_argument("--ready-file", help="touch this file once listening")
    a = ap.parse_args(argv)

    deadline = time.monotonic() + a.timeout
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.listen))
    ls.listen(1)
    print(f"rtmp_capture_proxy: listening on 127.0.0.1:{a.listen} -> 127.0.0.1:{a.upstream}",
          file=sys.stderr, flush=True)
    if a.ready_file:
        open(a.ready_file, "w").close()
    ls.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        client, _ = ls.accept()
    except socket.timeout:
        print("rtmp_capture_proxy: no client before timeout", file=sys.stderr)
        return 1
    finally:
        ls.close()

    # connect upstream (retry briefly: the server may still be starting)
    up = None
    t_end = min(deadline, time.monotonic() + a.connect_timeout)
    while True:
        try:
            up = socket.create_connection(("127.0.0.1", a.upstream), timeout=2)
            break
        except OSError as e:
            if time.monotonic() >= t_end:
                print(f"rtmp_capture_proxy: upstream connect failed: {e}", file=sys.stderr)
                client.close()
                return 1
            time.sleep(0.1)
    for s in (client, up):
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    f_c2s = open(a.prefix + ".c2s", "wb")
    f_s2c = open(a.prefix + ".s2c", "wb")
    n_c2s = n_s2c = 0
    sel = selectors.DefaultSelector()
    # per direction: source socket, destination socket, file, pending bytes, open flag
    dirs = {
        "c2s": {"src": client, "dst": up, "f": f_c2s, "buf": bytearray(), "open": True},
        "s2c": {"src": up, "dst": client, "f": f_s2c, "buf": bytearray(), "open": True},
    }
    sel.register(client, selectors.EVENT_READ, "c2s")
    sel.register(up, selectors.EVENT_READ, "s2c")
    last = time.monotonic()
    limit_hit = False
    reason = "both sides closed"

    def update_interest():
        for name, d in dirs.items():
            other = dirs["s2c" if name == "c2s" else "c2s"]
            ev = 0
            if d["open"]:
                ev |= selectors.EVENT_READ
            if other["buf"]:
                ev |= selectors.EVENT_WRITE
            s = d["src"]
            try:
                if ev:
                    sel.modify(s, ev, name) if s in sel.get_map() else sel.register(s, ev, name)
                elif s in sel.get_map():
                    sel.unregister(s)
            except (KeyError, ValueError):
                pass

    try:
        while True:
            if not dirs["c2s"]["open"] and not dirs["s2c"]["open"] \
                    and not dirs["c2s"]["buf"] and not dirs["s2c"]["buf"]:
                break
            now = time.monotonic()
            if now >= deadline:
                reason = "timeout"
                break
            if now - last > a.idle:
                reason = "idle"
                break
            if not sel.get_map():
                break
            events = sel.select(timeout=min(0.5, max(0.01, deadline - now)))
            for key, mask in events:
                sock = key.fileobj
                name = key.data  # direction whose source is this socket
                d = dirs[name]
                if mask & selectors.EVENT_READ and d["open"]:
                    try:
                        data = sock.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        data = None
                    except OSError:
                        data = b""
                    if data is not None:
                        last = time.monotonic()
                        if not data:
                            d["open"] = False
                        else:
                            if name == "c2s" and a.max_bytes and n_c2s + len(data) >= a.max_bytes:
                                data = data[: a.max_bytes - n_c2s]
                                limit_hit = True
                            d["f"].write(data)
                            d["buf"] += data
                            if name == "c2s":
                                n_c2s += len(data)
                            else:
                                n_s2c += len(data)
                # the write side of this socket carries the other direction's bytes
                other = dirs["s2c" if name == "c2s" else "c2s"]
                if mask & selectors.EVENT_WRITE and other["buf"]:
                    try:
                        n = sock.send(other["buf"])
                        del other["buf"][:n]
                        last = time.monotonic()
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        other["buf"].clear()
                        other["open"] = False
            # half-close: once a direction ended and its bytes are delivered, shut the write side
            for name, d in dirs.items():
                if not d["open"] and not d["buf"] and not d.get("shut"):
                    d["shut"] = True
                    try:
                        d["dst"].shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
            if limit_hit:
                reason = f"max-bytes {a.max_bytes} reached"
                break
            update_interest()
    finally:
        sel.close()
        for s in (client, up):
            try:
                s.close()
            except OSError:
                pass
        f_c2s.close()
        f_s2c.close()
    print(f"rtmp_capture_proxy: {reason}; c2s {n_c2s} bytes, s2c {n_s2c} bytes -> {a.prefix}.c2s/.s2c",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
