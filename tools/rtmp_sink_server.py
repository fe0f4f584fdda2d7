#!/usr/bin/env python3
"""rtmp_sink_server.py - a minimal one-connection RTMP server that accepts a publisher and
drains everything it sends, announcing a chosen chunk size (stdlib only).

FFmpeg `-listen 1` always announces chunk size 128, and an FFmpeg publisher adopts the chunk
size its server announces (libavformat/rtmpproto.c handle_chunk_size: a publisher echoes the
server's Set Chunk Size message back and sets its outgoing chunk size to that value). To
capture FFmpeg publishing with 4096-byte chunks, put tools/rtmp_capture_proxy.py in front of
this server started with --chunk-size 4096.

Usage:
    tools/rtmp_sink_server.py PORT [--chunk-size N] [--timeout S] [--idle S] [--ready-file P]

Behaviour (a subset of what ffmpeg -listen and nginx-rtmp do, in the same order as ffmpeg):
  * simple handshake: S0 = 3, S1 = time + zeros + random, S2 = echo of C1; C2 is not checked;
  * on `connect`: Window Ack Size 2500000, Set Peer Bandwidth 2500000 (dynamic), Stream Begin 0,
    Set Chunk Size N, `_result` NetConnection.Connect.Success, `onBWDone`;
  * `releaseStream`, `FCPublish`, `_checkbw`: `_result` (null); `createStream`: `_result` 1;
  * `publish`: Stream Begin 1 and `onStatus` NetStream.Publish.Start; after that the server stops
    parsing and only reads (and counts) bytes until the client closes, the --idle time passes
    without data, or --timeout is reached. It never sends Acknowledgements (FFmpeg does not
    need them).
Loopback only. Prints a summary on stderr; exit status 0 if a publish was accepted.
"""

import argparse
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rtmp_dump_chunks import Amf0Reader, AmfError, ChunkParser  # noqa: E402


def amf_str(s):
    b = s.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b


def amf_num(v):
    return b"\x00" + struct.pack(">d", v)


AMF_NULL = b"\x05"


def amf_obj(pairs):
    out = b"\x03"
    for k, v in pairs:
        kb = k.encode()
        out += struct.pack(">H", len(kb)) + kb + v
    return out + b"\x00\x00\x09"


def chunk_message(csid, typ, msid, payload, chunk_size, ts=0):
    """fmt 0 header, then fmt 3 continuations (csid < 64, ts < 0xFFFFFF)."""
    out = bytearray([csid & 0x3F])
    out += ts.to_bytes(3, "big") + len(payload).to_bytes(3, "big") + bytes([typ])
    out += struct.pack("<I", msid)
    for i in range(0, max(len(payload), 1), chunk_size):
        if i:
            out.append(0xC0 | (csid & 0x3F))
        out += payload[i:i + chunk_size]
    return bytes(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description="one-shot RTMP publish sink")
    ap.add_argument("port", type=int)
    ap.add_argument("--chunk-size", type=int, default=4096, help="chunk size to announce (default 4096)")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--idle", type=float, default=10.0)
    ap.add_argument("--ready-file")
    a = ap.parse_args(argv)
    deadline = time.monotonic() + a.timeout

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.port))
    ls.listen(1)
    if a.ready_file:
        open(a.ready_file, "w").close()
    ls.settimeout(a.timeout)
    try:
        c, _ = ls.accept()
    except socket.timeout:
        print("rtmp_sink_server: no client", file=sys.stderr)
        return 1
    finally:
        ls.close()

    def recv_exact(n):
        buf = bytearray()
        while len(buf) < n:
            c.settimeout(max(0.1, min(a.idle, deadline - time.monotonic())))
            d = c.recv(n - len(buf))
            if not d:
                raise EOFError("client closed during handshake")
            buf += d
        return bytes(buf)

    out_cs = 128  # our outgoing chunk size until we announce the new one
    published = False
    total = 0
    try:
        c0c1 = recv_exact(1 + 1536)
        s1 = struct.pack(">II", int(time.time()) & 0xFFFFFFFF, 0) + os.urandom(1528)
        c.sendall(b"\x03" + s1 + c0c1[1:])
        recv_exact(1536)  # C2, not checked
        buf = bytearray()
        handled = 0  # messages already answered
        while not published:
            c.settimeout(max(0.1, min(a.idle, deadline - time.monotonic())))
            d = c.recv(65536)
            if not d:
                raise EOFError("client closed before publish")
            total += len(d)
            buf += d
            p = ChunkParser(bytes(buf), 0)
            msgs = list(p.parse())
            for m in msgs[handled:]:
                handled += 1
                if m["type"] != 20:
                    continue
                try:
                    vals = Amf0Reader(m["payload"]).all()
                except AmfError:
                    continue
                name, tid = vals[0], (vals[1] if len(vals) > 1 else 0.0)
                reply = b""
                if name == "connect":
                    reply += chunk_message(2, 5, 0, struct.pack(">I", 2500000), out_cs)
                    reply += chunk_message(2, 6, 0, struct.pack(">IB", 2500000, 2), out_cs)
                    reply += chunk_message(2, 4, 0, struct.pack(">HI", 0, 0), out_cs)
                    reply += chunk_message(2, 1, 0, struct.pack(">I", a.chunk_size), out_cs)
                    out_cs = a.chunk_size
                    body = amf_str("_result") + amf_num(tid)
                    body += amf_obj([("fmsVer", amf_str("FMS/3,0,1,123")), ("capabilities", amf_num(31))])
                    body += amf_obj([("level", amf_str("status")),
                                     ("code", amf_str("NetConnection.Connect.Success")),
                                     ("description", amf_str("Connection succeeded.")),
                                     ("objectEncoding", amf_num(0))])
                    reply += chunk_message(3, 20, 0, body, out_cs)
                    reply += chunk_message(3, 20, 0, amf_str("onBWDone") + amf_num(0) + AMF_NULL
                                           + amf_num(8192), out_cs)
                elif name in ("releaseStream", "FCPublish", "_checkbw"):
                    reply += chunk_message(3, 20, 0, amf_str("_result") + amf_num(tid) + AMF_NULL, out_cs)
                elif name == "createStream":
                    reply += chunk_message(3, 20, 0, amf_str("_result") + amf_num(tid) + AMF_NULL
                                           + amf_num(1), out_cs)
                elif name == "publish":
                    reply += chunk_message(2, 4, 0, struct.pack(">HI", 0, 1), out_cs)
                    body = amf_str("onStatus") + amf_num(0) + AMF_NULL + amf_obj([
                        ("level", amf_str("status")), ("code", amf_str("NetStream.Publish.Start")),
                        ("description", amf_str("stream is now published")),
                        ("details", amf_str(str(vals[3]) if len(vals) > 3 else ""))])
                    reply += chunk_message(3, 20, 1, body, out_cs)
                    published = True
                if reply:
                    c.sendall(reply)
        # drain
        while time.monotonic() < deadline:
            c.settimeout(max(0.1, min(a.idle, deadline - time.monotonic())))
            try:
                d = c.recv(1 << 20)
            except socket.timeout:
                break
            if not d:
                break
            total += len(d)
    except (EOFError, OSError) as e:
        print(f"rtmp_sink_server: {e}", file=sys.stderr)
    finally:
        c.close()
    print(f"rtmp_sink_server: published={published} received {total} bytes after the handshake",
          file=sys.stderr)
    return 0 if published else 1


if __name__ == "__main__":
    sys.exit(main())
