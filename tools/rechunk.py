#!/usr/bin/env python3
"""rechunk.py - re-chunk the RTMP messages of a capture with another chunk size (stdlib only).

Usage:
    tools/rechunk.py IN OUT --chunk-size N [--skip BYTES]

IN is a chunk stream (a *.bin file holds chunks only; for a *.c2s capture the 3073 handshake
bytes are skipped, --skip overrides). It is decoded with tools/rtmp_dump_chunks.py's parser, and
the same messages, in the same order, with the same chunk stream ids, message stream ids, types,
timestamps and payloads, are written to OUT (chunks only, no handshake) with chunk size N from
the first byte on. Every Set Chunk Size message's value is rewritten to N, so a decoder that
follows the stream's own Set Chunk Size messages stays in step (the messages before the first
Set Chunk Size are written at N too: only start decoding at N, or at 128 when N is 128).

Header choice per message (chunk stream by chunk stream):
  * fmt 0 for the first message on a csid, when the message stream id changes, or when the
    timestamp goes backwards;
  * otherwise the smallest header that fits: fmt 3 when type, length and the timestamp delta all
    equal the previous message's and the previous header on that csid carried a delta (fmt 1, 2,
    or 3 - never right after a fmt 0, where readers disagree on what delta a fmt 3 implies);
    fmt 2 when type and length are equal; else fmt 1.
  * A timestamp field >= 0xFFFFFF is written as 0xFFFFFF plus a 4-byte extended timestamp, and,
    like FFmpeg (libavformat/rtmppkt.c), the same 4 bytes are repeated after every fmt 3 chunk
    header of that message, and on a fmt 3 header that starts a message after such a header.
Verify with: tools/rtmp_dump_chunks.py --summary on IN and OUT (same md5).
"""

import argparse
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rtmp_dump_chunks import HANDSHAKE, ChunkParser  # noqa: E402


def basic_header(fmt, csid):
    if 2 <= csid <= 63:
        return bytes([(fmt << 6) | csid])
    if 64 <= csid <= 319:
        return bytes([fmt << 6, csid - 64])
    if 64 <= csid <= 65599:
        v = csid - 64
        return bytes([(fmt << 6) | 1, v & 0xFF, v >> 8])
    raise ValueError(f"csid {csid} out of range")


def rechunk(messages, chunk_size):
    out = bytearray()
    state = {}  # csid -> dict(msid, type, len, ts, delta or None, ext_value or None)
    for m in messages:
        payload = m["payload"]
        if m["type"] == 1 and len(payload) >= 4:
            payload = struct.pack(">I", chunk_size) + payload[4:]
        csid, typ, msid, ts, n = m["csid"], m["type"], m["msid"], m["ts"], len(payload)
        st = state.get(csid)
        if st is None or st["msid"] != msid or ts < st["ts"]:
            fmt, field = 0, ts
        else:
            delta = ts - st["ts"]
            if typ == st["type"] and n == st["len"]:
                fmt = 3 if st["delta"] is not None and delta == st["delta"] else 2
            else:
                fmt = 1
            field = delta
        hdr = bytearray(basic_header(fmt, csid))
        if fmt == 3:
            # the receiver reuses the previous delta; it expects the 4 extended bytes again if
            # the previous header on this csid had them
            ext = st["ext"]
        else:
            ext = field if field >= 0xFFFFFF else None
            hdr += (0xFFFFFF if ext is not None else field).to_bytes(3, "big")
            if fmt <= 1:
                hdr += n.to_bytes(3, "big") + bytes([typ])
            if fmt == 0:
                hdr += struct.pack("<I", msid)
        if ext is not None:
            hdr += ext.to_bytes(4, "big")
        out += hdr
        out += payload[:chunk_size]
        cont = basic_header(3, csid) + (ext.to_bytes(4, "big") if ext is not None else b"")
        for i in range(chunk_size, n, chunk_size):
            out += cont
            out += payload[i:i + chunk_size]
        state[csid] = {"msid": msid, "type": typ, "len": n, "ts": ts,
                       "delta": None if fmt == 0 else field, "ext": ext}
    return bytes(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description="re-chunk an RTMP chunk stream")
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--chunk-size", type=int, required=True)
    ap.add_argument("--skip", type=int, default=None)
    a = ap.parse_args(argv)
    data = open(a.inp, "rb").read()
    skip = a.skip if a.skip is not None else (0 if a.inp.endswith(".bin") else HANDSHAKE)
    p = ChunkParser(data, skip)
    msgs = list(p.parse())
    if p.truncated is not None:
        print(f"rechunk: input ends inside a chunk at offset {p.truncated}; the partial message is "
              f"dropped", file=sys.stderr)
    for w in p.warnings:
        print("rechunk: WARN " + w, file=sys.stderr)
    out = rechunk(msgs, a.chunk_size)
    with open(a.out, "wb") as f:
        f.write(out)
    print(f"rechunk: {len(msgs)} messages, {len(data) - skip} -> {len(out)} bytes at chunk size "
          f"{a.chunk_size}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
