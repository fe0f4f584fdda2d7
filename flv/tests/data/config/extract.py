#!/usr/bin/env python3
"""extract.py FILE.flv OUTPREFIX — write the codec configuration records carried by the
sequence-header tags of an FLV / Enhanced-FLV file as OUTPREFIX_<kind>[_<n>].bin.

Legacy AVC (codec id 7):    video tag body[5:]  (after frame/codec byte, AVCPacketType, CTS)
Legacy AAC (sound fmt 10):  audio tag body[2:]  (after format byte, AACPacketType)
Enhanced video (E-FLV):     body[5:] after the ExVideoTagHeader byte and the FourCC
Enhanced audio (E-FLV):     body[5:] after the ExAudioTagHeader byte and the FourCC
Only SequenceStart packets are written (all of them: a file may carry several).
"""
import struct
import sys

KIND = {b"hvc1": "hevc", b"av01": "av1", b"vp09": "vp9", b"avc1": "avc", b"Opus": "opus",
        b"fLaC": "flac", b"mp4a": "aac"}


def main():
    path, prefix = sys.argv[1], sys.argv[2]
    data = open(path, "rb").read()
    assert data[:3] == b"FLV", "not FLV"
    pos = struct.unpack(">I", data[5:9])[0] + 4
    count = {}
    while pos + 11 <= len(data):
        ttype = data[pos] & 0x1F
        size = int.from_bytes(data[pos + 1:pos + 4], "big")
        body = data[pos + 11:pos + 11 + size]
        pos += 11 + size + 4
        rec = kind = None
        if ttype == 9 and body:
            if body[0] & 0x80:  # ExVideoTagHeader: packet type 0 = SequenceStart
                if body[0] & 0x0F == 0:
                    kind, rec = KIND.get(body[1:5], body[1:5].decode("latin-1")), body[5:]
            elif body[0] & 0x0F == 7 and len(body) > 5 and body[1] == 0:
                kind, rec = "avc", body[5:]
        elif ttype == 8 and body:
            if body[0] >> 4 == 9:  # ExAudioTagHeader
                if body[0] & 0x0F == 0:
                    kind, rec = KIND.get(body[1:5], body[1:5].decode("latin-1")), body[5:]
            elif body[0] >> 4 == 10 and len(body) > 2 and body[1] == 0:
                kind, rec = "aac", body[2:]
        if rec is not None:
            n = count.get(kind, 0)
            count[kind] = n + 1
            out = f"{prefix}_{kind}.bin" if n == 0 else f"{prefix}_{kind}_{n}.bin"
            open(out, "wb").write(rec)
            print(out, len(rec))


if __name__ == "__main__":
    main()
