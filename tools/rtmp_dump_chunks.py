#!/usr/bin/env python3
"""rtmp_dump_chunks.py - decode a raw RTMP byte capture into its messages (stdlib only).

An independent second opinion for the Rust chunk decoder's tests, and a debugging aid.

Usage:
    tools/rtmp_dump_chunks.py FILE [--skip N] [--summary] [--chunks] [--payload-md5]
                                   [--max-amf CHARS] [--in-chunk-size N]

FILE is one direction of a TCP connection: a .c2s (client to server) or .s2c file made by
rtmp_capture_proxy.py. The first 1+1536+1536 handshake bytes (C0 C1 C2, or S0 S1 S2) are
skipped; files ending in .bin are taken to hold chunks only (no handshake). --skip N overrides.

One line per complete message:
    #idx @offset csid=C fmt=F chunks=K type=T(name) msid=S ts=MS len=L [ext] ...
and for types 20/18 (AMF0 command/data; 17/15 are their AMF3 envelopes with a leading 0 byte)
the decoded AMF0 values, for control messages their value, for audio/video a short tag header
(legacy SoundFormat/CodecID, or the E-RTMP FourCC and packet type). `ext` marks a message whose
timestamp field was 0xFFFFFF (extended timestamp); `ext3=N/M` says that N of the M type-3
continuation chunks of the message carried the 4-byte extended timestamp again.

Chunk rules followed (RTMP 1.0 spec, section 5.3, and FFmpeg's libavformat/rtmppkt.c):
  * basic header: csid 2..63 in one byte, 0 -> 64+b (2 bytes), 1 -> 64+b1+256*b2 (3 bytes);
  * fmt 0: absolute timestamp; fmt 1/2: timestamp delta added to the csid's last timestamp;
    fmt 3 that starts a new message reuses the csid's last timestamp field as the delta
    (FFmpeg's reading, also after a fmt 0 header);
  * extended timestamp: present when the 24-bit field is 0xFFFFFF, and then ALSO on every fmt 3
    chunk of that csid (continuations and new messages) until a header with a field below
    0xFFFFFF. If such a fmt 3 chunk's 4 bytes do not equal the expected value, a WARN line is
    printed (a peer that omits them would be mis-parsed from there on);
  * Set Chunk Size (type 1) takes effect for chunks after the message that carries it (top
    bit ignored); Abort (type 2) drops the partial message of the given csid.

--summary prints only: messages, chunks, set chunk sizes, per-type counts, and an md5 over every
message's (type, timestamp, payload) - where for type 1 (Set Chunk Size) only (type, timestamp)
is hashed, so that a file re-chunked with another chunk size (tools/rechunk.py) gives the same
md5. Exit status: 0 if the file decoded to its end on a message boundary, 1 otherwise (a
truncated tail, e.g. a capture cut by --max-bytes, is reported but still exits 0 with
--allow-truncated).
"""

import argparse
import hashlib
import struct
import sys

HANDSHAKE = 1 + 1536 + 1536

TYPE_NAMES = {
    1: "SetChunkSize", 2: "Abort", 3: "Ack", 4: "UserControl", 5: "WindowAckSize",
    6: "SetPeerBandwidth", 8: "Audio", 9: "Video", 15: "DataAMF3", 16: "SharedObjAMF3",
    17: "CommandAMF3", 18: "DataAMF0", 19: "SharedObjAMF0", 20: "CommandAMF0", 22: "Aggregate",
}
UC_EVENTS = {0: "StreamBegin", 1: "StreamEOF", 2: "StreamDry", 3: "SetBufferLength",
             4: "StreamIsRecorded", 6: "PingRequest", 7: "PingResponse"}
SOUND_FORMATS = {0: "PCM-BE", 1: "ADPCM", 2: "MP3", 3: "PCM-LE", 4: "Nelly16", 5: "Nelly8",
                 6: "Nelly", 7: "G711A", 8: "G711U", 9: "ExHeader", 10: "AAC", 11: "Speex",
                 14: "MP3-8k", 15: "DeviceSpecific"}
VIDEO_CODECS = {2: "H263", 3: "Screen", 4: "VP6", 5: "VP6A", 6: "Screen2", 7: "AVC", 12: "HEVC(ext)",
                13: "AV1(ext)"}


class AmfError(Exception):
    pass


class Amf0Reader:
    """AMF0 decoder returning plain Python values. Objects are lists of (key, value) pairs,
    so order and duplicates survive; ECMA arrays are tagged ('ecma', count, pairs)."""

    MAX_DEPTH = 64

    def __init__(self, data):
        self.d = data
        self.i = 0

    def need(self, n):
        if self.i + n > len(self.d):
            raise AmfError(f"need {n} bytes at offset {self.i}, have {len(self.d) - self.i}")

    def u8(self):
        self.need(1)
        v = self.d[self.i]
        self.i += 1
        return v

    def u16(self):
        self.need(2)
        v = struct.unpack_from(">H", self.d, self.i)[0]
        self.i += 2
        return v

    def u32(self):
        self.need(4)
        v = struct.unpack_from(">I", self.d, self.i)[0]
        self.i += 4
        return v

    def utf8(self, n):
        self.need(n)
        b = bytes(self.d[self.i:self.i + n])
        self.i += n
        return b.decode("utf-8", "backslashreplace")

    def key(self):
        return self.utf8(self.u16())

    def props(self, depth):
        out = []
        while True:
            k = self.key()
            if k == "" and self.i < len(self.d) and self.d[self.i] == 0x09:
                self.i += 1
                return out
            out.append((k, self.value(depth + 1)))

    def value(self, depth=0):
        if depth > self.MAX_DEPTH:
            raise AmfError("nesting too deep")
        m = self.u8()
        if m == 0x00:
            self.need(8)
            v = struct.unpack_from(">d", self.d, self.i)[0]
            self.i += 8
            return v
        if m == 0x01:
            return self.u8() != 0
        if m == 0x02:
            return self.utf8(self.u16())
        if m == 0x03:
            return ("object", self.props(depth))
        if m == 0x05:
            return None
        if m == 0x06:
            return ("undefined",)
        if m == 0x07:
            return ("ref", self.u16())
        if m == 0x08:
            n = self.u32()
            return ("ecma", n, self.props(depth))
        if m == 0x09:
            return ("object-end",)
        if m == 0x0A:
            n = self.u32()
            if n > len(self.d):
                raise AmfError(f"strict array count {n} exceeds input")
            return ("array", [self.value(depth + 1) for _ in range(n)])
        if m == 0x0B:
            self.need(10)
            ms, tz = struct.unpack_from(">dh", self.d, self.i)
            self.i += 10
            return ("date", ms, tz)
        if m == 0x0C:
            return ("long-string", self.utf8(self.u32()))
        if m == 0x0D:
            return ("unsupported",)
        if m == 0x0F:
            return ("xml", self.utf8(self.u32()))
        if m == 0x10:
            cls = self.key()
            return ("typed-object", cls, self.props(depth))
        if m == 0x11:
            raise AmfError("AVM+ (AMF3) value: not decoded")
        raise AmfError(f"unknown AMF0 marker 0x{m:02x} at offset {self.i - 1}")

    def all(self):
        vals = []
        while self.i < len(self.d):
            vals.append(self.value())
        return vals


def fmt_amf(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)
    if isinstance(v, str):
        return '"' + v + '"'
    if isinstance(v, tuple):
        tag = v[0]
        if tag == "object":
            return "{" + ", ".join(f"{k}: {fmt_amf(x)}" for k, x in v[1]) + "}"
        if tag == "ecma":
            return f"ecma[{v[1]}]{{" + ", ".join(f"{k}: {fmt_amf(x)}" for k, x in v[2]) + "}"
        if tag == "array":
            return "[" + ", ".join(fmt_amf(x) for x in v[1]) + "]"
        if tag == "typed-object":
            return f"{v[1]}{{" + ", ".join(f"{k}: {fmt_amf(x)}" for k, x in v[2]) + "}"
        if tag in ("long-string", "xml"):
            return f'{tag}"{v[1]}"'
        return tag + ("(" + ", ".join(map(str, v[1:])) + ")" if len(v) > 1 else "")
    return repr(v)


def describe_amf(payload, maxlen):
    try:
        vals = Amf0Reader(payload).all()
    except AmfError as e:
        return f"AMF0-ERROR({e})"
    s = " ".join(fmt_amf(v) for v in vals)
    if maxlen and len(s) > maxlen:
        s = s[:maxlen] + "..."
    return s


def describe_av(typ, p):
    if not p:
        return "empty"
    b0 = p[0]
    if typ == 8:
        fmt = b0 >> 4
        if fmt == 9:  # E-RTMP audio: ExHeader, packet type in low nibble, FourCC
            pt = b0 & 0x0F
            fourcc = bytes(p[1:5]).decode("latin-1") if len(p) >= 5 else "?"
            names = {0: "SequenceStart", 1: "CodedFrames", 2: "SequenceEnd", 4: "MultichannelConfig",
                     5: "Multitrack", 7: "ModEx"}
            return f"audio ex fourcc={fourcc} pkt={names.get(pt, pt)}"
        s = f"audio {SOUND_FORMATS.get(fmt, fmt)} rate={(b0 >> 2) & 3} size={(b0 >> 1) & 1} ch={b0 & 1}"
        if fmt == 10 and len(p) > 1:
            s += " aac=" + ("SeqHdr" if p[1] == 0 else "Raw")
        return s
    if typ == 9:
        if b0 & 0x80:  # E-RTMP video: IsExHeader, frame type, packet type, FourCC
            ft = (b0 >> 4) & 7
            pt = b0 & 0x0F
            fourcc = bytes(p[1:5]).decode("latin-1") if len(p) >= 5 else "?"
            names = {0: "SequenceStart", 1: "CodedFrames", 2: "SequenceEnd", 3: "CodedFramesX",
                     4: "Metadata", 5: "MPEG2TSSequenceStart", 6: "Multitrack", 7: "ModEx"}
            s = f"video ex fourcc={fourcc} frame={ft} pkt={names.get(pt, pt)}"
            if pt == 1 and fourcc in ("avc1", "hvc1") and len(p) >= 8:
                cts = int.from_bytes(p[5:8], "big", signed=True)
                s += f" cts={cts}"
            return s
        ft, cid = b0 >> 4, b0 & 0x0F
        s = f"video {VIDEO_CODECS.get(cid, cid)} frame={ft}"
        if cid in (7, 12) and len(p) >= 5:
            apt = {0: "SeqHdr", 1: "NALU", 2: "EOS"}.get(p[1], p[1])
            cts = int.from_bytes(p[2:5], "big", signed=True)
            s += f" avc={apt} cts={cts}"
        return s
    return ""


def describe(msg, maxamf):
    typ, p = msg["type"], msg["payload"]
    if typ in (1, 2, 3, 5) and len(p) >= 4:
        v = struct.unpack_from(">I", p)[0]
        if typ == 1:
            v &= 0x7FFFFFFF
        return f"value={v}"
    if typ == 6 and len(p) >= 5:
        return f"window={struct.unpack_from('>I', p)[0]} limit={p[4]}"
    if typ == 4 and len(p) >= 2:
        ev = struct.unpack_from(">H", p)[0]
        rest = " ".join(str(x) for x in struct.unpack_from(">" + "I" * ((len(p) - 2) // 4), p, 2))
        return f"{UC_EVENTS.get(ev, ev)} {rest}"
    if typ in (20, 18):
        return describe_amf(p, maxamf)
    if typ in (17, 15):
        return "amf3-envelope " + describe_amf(p[1:], maxamf)
    if typ in (8, 9):
        return describe_av(typ, p)
    return ""


class ChunkParser:
    def __init__(self, data, start, in_chunk_size=128):
        self.d = data
        self.i = start
        self.chunk_size = in_chunk_size
        self.cs = {}  # csid -> state
        self.chunks = 0
        self.warnings = []
        self.chunk_sizes_set = []

    def parse(self):
        """Yields message dicts; stops at the end of data. Sets self.truncated."""
        d = self.d
        n = len(d)
        self.truncated = None
        while self.i < n:
            start = self.i
            res = self._chunk()
            if res is None:
                self.truncated = start
                self.i = n
                return
            if res is not True:
                yield res

    def _need(self, k):
        return self.i + k <= len(self.d)

    def _chunk(self):
        d = self.d
        off = self.i
        if not self._need(1):
            return None
        b = d[self.i]
        fmt, csid = b >> 6, b & 0x3F
        self.i += 1
        if csid == 0:
            if not self._need(1):
                return None
            csid = 64 + d[self.i]
            self.i += 1
        elif csid == 1:
            if not self._need(2):
                return None
            csid = 64 + d[self.i] + 256 * d[self.i + 1]
            self.i += 2
        st = self.cs.get(csid)
        if st is None:
            if fmt != 0:
                self.warnings.append(f"@{off} csid={csid}: first chunk has fmt {fmt}")
            st = self.cs[csid] = {"ts": 0, "ts_field": 0, "delta": 0, "len": 0, "type": 0, "msid": 0,
                                  "ext": False, "buf": None, "first_fmt": fmt, "nchunks": 0,
                                  "ext3": 0, "n3": 0, "hdr_ext": 0}
        hlen = (11, 7, 3, 0)[fmt]
        if not self._need(hlen):
            return None
        h = d[self.i:self.i + hlen]
        self.i += hlen
        new_msg = st["buf"] is None
        if fmt <= 2:
            tsf = int.from_bytes(h[0:3], "big")
            ext = tsf == 0xFFFFFF
            if fmt <= 1:
                st["len"] = int.from_bytes(h[3:6], "big")
                st["type"] = h[6]
            if fmt == 0:
                st["msid"] = int.from_bytes(h[7:11], "little")
            if ext:
                if not self._need(4):
                    return None
                tsf_full = int.from_bytes(d[self.i:self.i + 4], "big")
                self.i += 4
            else:
                tsf_full = tsf
            st["ext"] = ext
            st["hdr_ext"] = tsf_full
            if not new_msg:
                self.warnings.append(f"@{off} csid={csid}: fmt {fmt} header inside an unfinished "
                                     f"message ({len(st['buf'])}/{st['len']} bytes): dropped")
                new_msg = True
            if fmt == 0:
                st["ts"] = tsf_full
                st["ts_field"] = tsf_full
            else:
                st["delta"] = tsf_full
                st["ts_field"] = tsf_full
                st["ts"] = (st["ts"] + tsf_full) & 0xFFFFFFFF
            st["first_fmt"] = fmt
            st["ext3"] = st["n3"] = 0
        else:  # fmt 3
            if st["ext"]:
                if not self._need(4):
                    return None
                v = int.from_bytes(d[self.i:self.i + 4], "big")
                if v != st["hdr_ext"] and not new_msg:
                    self.warnings.append(f"@{off} csid={csid}: fmt-3 continuation extended timestamp "
                                         f"{v} != header value {st['hdr_ext']} (peer may omit it)")
                self.i += 4
                if new_msg:
                    st["ts_field"] = v
                    st["hdr_ext"] = v
                else:
                    st["ext3"] += 1
            if new_msg:
                st["ts"] = (st["ts"] + st["ts_field"]) & 0xFFFFFFFF
                st["first_fmt"] = 3
                st["ext3"] = st["n3"] = 0
            else:
                st["n3"] += 1
        if new_msg:
            st["buf"] = bytearray()
            st["start_off"] = off
            st["nchunks"] = 0
        want = min(self.chunk_size, st["len"] - len(st["buf"]))
        if not self._need(want):
            return None
        st["buf"] += d[self.i:self.i + want]
        self.i += want
        st["nchunks"] += 1
        self.chunks += 1
        if len(st["buf"]) < st["len"]:
            return True
        msg = {"off": st["start_off"], "csid": csid, "fmt": st["first_fmt"], "type": st["type"],
               "msid": st["msid"], "ts": st["ts"], "len": st["len"], "payload": bytes(st["buf"]),
               "chunks": st["nchunks"], "ext": st["ext"], "ext3": st["ext3"], "n3": st["n3"]}
        st["buf"] = None
        if msg["type"] == 1 and len(msg["payload"]) >= 4:
            self.chunk_size = struct.unpack_from(">I", msg["payload"])[0] & 0x7FFFFFFF
            self.chunk_sizes_set.append(self.chunk_size)
            if self.chunk_size == 0:
                self.warnings.append(f"@{off}: Set Chunk Size 0")
                self.chunk_size = 1
        elif msg["type"] == 2 and len(msg["payload"]) >= 4:
            ab = struct.unpack_from(">I", msg["payload"])[0]
            if ab in self.cs:
                self.cs[ab]["buf"] = None
        return msg


def summary_hash(msgs):
    h = hashlib.md5()
    for m in msgs:
        h.update(struct.pack(">BI", m["type"], m["ts"]))
        if m["type"] != 1:
            h.update(struct.pack(">I", len(m["payload"])))
            h.update(m["payload"])
    return h.hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description="Decode an RTMP byte capture into messages.")
    ap.add_argument("file")
    ap.add_argument("--skip", type=int, default=None,
                    help="bytes to skip first (default 3073, or 0 for *.bin)")
    ap.add_argument("--summary", action="store_true", help="counts and md5 over (type, ts, payload)")
    ap.add_argument("--chunks", action="store_true", help="also print chunk counts per message")
    ap.add_argument("--payload-md5", action="store_true", help="print an md5 of each payload")
    ap.add_argument("--max-amf", type=int, default=300, help="truncate AMF dumps (0: never)")
    ap.add_argument("--in-chunk-size", type=int, default=128)
    ap.add_argument("--allow-truncated", action="store_true")
    a = ap.parse_args(argv)

    data = open(a.file, "rb").read()
    skip = a.skip if a.skip is not None else (0 if a.file.endswith(".bin") else HANDSHAKE)
    if skip == HANDSHAKE and len(data) >= 1 and data[0] not in (3, 6):
        print(f"WARN first byte 0x{data[0]:02x} is not an RTMP version (3)", file=sys.stderr)
    p = ChunkParser(data, skip, a.in_chunk_size)
    msgs = []
    for m in p.parse():
        msgs.append(m)
        if not a.summary:
            ts = f"ts={m['ts']}"
            extra = " ext" if m["ext"] else ""
            if m["ext"] and m["n3"]:
                extra += f" ext3={m['ext3']}/{m['n3']}"
            ch = f" chunks={m['chunks']}" if a.chunks else ""
            md5 = f" md5={hashlib.md5(m['payload']).hexdigest()[:12]}" if a.payload_md5 else ""
            tn = TYPE_NAMES.get(m["type"], "?")
            print(f"#{len(msgs) - 1} @{m['off']} csid={m['csid']} fmt={m['fmt']}{ch} type={m['type']}({tn}) "
                  f"msid={m['msid']} {ts} len={m['len']}{extra}{md5} {describe(m, a.max_amf)}".rstrip())
    for w in p.warnings:
        print("WARN " + w, file=sys.stderr)
    if a.summary:
        counts = {}
        for m in msgs:
            counts[m["type"]] = counts.get(m["type"], 0) + 1
        print(f"messages={len(msgs)} chunks={p.chunks} bytes={len(data) - skip} "
              f"set_chunk_size={p.chunk_sizes_set} "
              f"types={','.join(f'{k}:{v}' for k, v in sorted(counts.items()))} "
              f"md5={summary_hash(msgs)}")
    if p.truncated is not None:
        print(f"TRUNCATED: incomplete chunk at offset {p.truncated} ({len(data) - p.truncated} bytes left)",
              file=sys.stderr)
        return 0 if a.allow_truncated else 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(0)
