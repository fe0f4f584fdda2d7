#!/usr/bin/env python3
"""Capture the AMF0 payload of the first RTMP command message (type 20) a client sends.

Usage: capture_connect.py PORT OUT.bin [TIMEOUT_SECONDS=20]

Listens on 127.0.0.1:PORT for one TCP connection, does the simple RTMP handshake
(reads C0+C1, sends S0 = 0x03, S1 = 1536 bytes with a zero version field, S2 = C1
echoed, reads C2), then reads chunks (all header formats, Set Chunk Size honoured,
extended timestamps skipped) until the first complete message of type 20 and
writes its payload to OUT.bin. The client is then disconnected (it fails; that is
expected). Python 3 standard library only.
"""
import socket
import sys


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        part = conn.recv(n - len(data))
        if not part:
            raise EOFError("peer closed after %d of %d bytes" % (len(data), n))
        data += part
    return data


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 20.0
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    srv.settimeout(timeout)
    conn, _ = srv.accept()
    conn.settimeout(timeout)

    c0c1 = recv_exact(conn, 1 + 1536)
    if c0c1[0] != 3:
        raise SystemExit("unexpected RTMP version %d" % c0c1[0])
    c1 = c0c1[1:]
    s1 = bytes(4) + bytes(4) + bytes((i * 7 + 3) & 0xFF for i in range(1528))
    conn.sendall(b"\x03" + s1 + c1)
    recv_exact(conn, 1536)  # C2

    chunk_size = 128
    state = {}  # csid -> dict(length, type, ts, ext, buf)
    while True:
        b0 = recv_exact(conn, 1)[0]
        fmt, csid = b0 >> 6, b0 & 0x3F
        if csid == 0:
            csid = 64 + recv_exact(conn, 1)[0]
        elif csid == 1:
            lo, hi = recv_exact(conn, 2)
            csid = 64 + lo + 256 * hi
        st = state.setdefault(csid, {"length": 0, "type": 0, "ts": 0, "ext": False, "buf": b""})
        if fmt <= 2:
            hdr = recv_exact(conn, [11, 7, 3][fmt])
            ts = int.from_bytes(hdr[0:3], "big")
            if fmt <= 1:
                st["length"] = int.from_bytes(hdr[3:6], "big")
                st["type"] = hdr[6]
            st["ext"] = ts == 0xFFFFFF
            if st["ext"]:
                recv_exact(conn, 4)
        elif st["ext"]:
            recv_exact(conn, 4)
        take = min(chunk_size, st["length"] - len(st["buf"]))
        st["buf"] += recv_exact(conn, take)
        if len(st["buf"]) < st["length"]:
            continue
        payload, st["buf"] = st["buf"], b""
        if st["type"] == 1:  # Set Chunk Size
            chunk_size = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
        elif st["type"] == 20:
            with open(out, "wb") as f:
                f.write(payload)
            print("captured %d bytes of command payload to %s" % (len(payload), out))
            conn.close()
            srv.close()
            return


if __name__ == "__main__":
    main()
