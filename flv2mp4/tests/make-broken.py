#!/usr/bin/env python3
"""Makes a small corpus of broken FLV uploads from the peers corpus.

usage: make-broken.py CORPUS_DIR OUT_DIR

From a_h264high_bf_aac.flv (H.264 with B-frames + AAC) and k_h264_gop30.flv,
deterministically (fixed seed): truncated at 20 points, 4 KiB runs of zeroes,
flipped bytes, two files spliced, the video and audio sequence headers
dropped, timestamps reset to 0 mid-file, a wrong PreviousTagSize, a zero-size
tag, an oversized tag size field, an "iflv" onMetaData that lies (an hour's
duration, a keyframe index pointing nowhere). Each file's name says what was
done.
"""
import os
import random
import struct
import sys


def tags(data):
    """(offset, type, size, timestamp) of every tag of a well-formed FLV."""
    out, at = [], 13
    while at + 11 <= len(data):
        kind = data[at] & 0x1F
        size = int.from_bytes(data[at + 1:at + 4], "big")
        ts = int.from_bytes(data[at + 4:at + 7], "big") | (data[at + 7] << 24)
        if at + 11 + size + 4 > len(data):
            break
        out.append((at, kind, size, ts))
        at += 11 + size + 4
    return out


def set_ts(buf, at, ts):
    buf[at + 4:at + 7] = (ts & 0xFFFFFF).to_bytes(3, "big")
    buf[at + 7] = (ts >> 24) & 0xFF


def amf_number(x):
    return b"\x00" + struct.pack(">d", x)


def amf_key(k):
    return struct.pack(">H", len(k)) + k.encode()


def amf_numbers(xs):
    return b"\x0a" + struct.pack(">I", len(xs)) + b"".join(amf_number(x) for x in xs)


def lying_metadata(duration, times, positions):
    """An onMetaData script tag body with a duration and a keyframe index."""
    keyframes = (b"\x03" + amf_key("times") + amf_numbers(times)
                 + amf_key("filepositions") + amf_numbers(positions) + b"\x00\x00\x09")
    props = (amf_key("duration") + amf_number(duration)
             + amf_key("keyframes") + keyframes)
    return (b"\x02" + amf_key("onMetaData") + b"\x08" + struct.pack(">I", 2)
            + props + b"\x00\x00\x09")


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(12)
    a = open(os.path.join(corpus, "a_h264high_bf_aac.flv"), "rb").read()
    k = open(os.path.join(corpus, "k_h264_gop30.flv"), "rb").read()
    ta = tags(a)

    def write(name, data):
        with open(os.path.join(out, name + ".flv"), "wb") as f:
            f.write(data)

    for i in range(1, 21):
        write(f"truncated_{i:02}", a[: len(a) * i // 21 + rng.randrange(0, 97)])
    for i in range(3):
        buf = bytearray(a)
        at = rng.randrange(2000, len(a) - 5000)
        buf[at:at + 4096] = bytes(4096)
        write(f"zeroed_4k_{i}", bytes(buf))
    for i in range(3):
        buf = bytearray(a)
        for _ in range(8):
            buf[rng.randrange(13, len(a))] ^= 0xFF
        write(f"flipped_{i}", bytes(buf))
    # Splice: the first half of one file, then the second half of another
    # (cut in the middle of a tag on both sides).
    write("spliced", a[: len(a) // 2 + 7] + k[len(k) // 2 + 3:])
    # Sequence headers dropped: the first video (then audio) config tag removed.
    for kind, name in ((9, "no_video_sequence_header"), (8, "no_audio_sequence_header")):
        at, _, size, _ = next(t for t in ta if t[1] == kind)
        write(name, a[:at] + a[at + 11 + size + 4:])
    # A late video sequence header: moved after the first 40 tags.
    at, _, size, _ = next(t for t in ta if t[1] == 9)
    header = a[at:at + 11 + size + 4]
    rest = a[:at] + a[at + 11 + size + 4:]
    later = tags(rest)[40][0]
    write("late_video_sequence_header", rest[:later] + header + rest[later:])
    # Timestamps reset to 0 from the middle on.
    buf = bytearray(a)
    mid = len(ta) // 2
    base = ta[mid][3]
    for at, _, _, ts in ta[mid:]:
        set_ts(buf, at, max(0, ts - base))
    write("timestamp_reset", bytes(buf))
    # A wrong PreviousTagSize after tag 30.
    buf = bytearray(a)
    at, _, size, _ = ta[30]
    buf[at + 11 + size:at + 15 + size] = struct.pack(">I", 12345)
    write("wrong_previous_tag_size", bytes(buf))
    # A zero-size video tag inserted after tag 20.
    at = ta[21][0]
    empty = bytes([9, 0, 0, 0]) + a[ta[20][0] + 4:ta[20][0] + 8] + bytes(3) + struct.pack(">I", 11)
    write("zero_size_tag", a[:at] + empty + a[at:])
    # A tag whose size field claims far more than is there (oversized).
    buf = bytearray(a)
    at = ta[50][0]
    buf[at + 1:at + 4] = (0xFFFFF0).to_bytes(3, "big")
    write("oversized_tag", bytes(buf))
    # An "iflv" whose onMetaData lies: an hour long, and a keyframe index
    # whose file positions are past the end or inside other tags.
    at, _, size, _ = next(t for t in ta if t[1] == 18)
    body = lying_metadata(3600.0, [0.0, 1200.0, 2400.0],
                          [len(a) * 10.0, 7.0, 123456789.0])
    tag = bytes([18]) + len(body).to_bytes(3, "big") + bytes(7) + body
    tag += struct.pack(">I", len(tag))
    write("lying_metadata", a[:at] + tag + a[at + 11 + size + 4:])


if __name__ == "__main__":
    main()
