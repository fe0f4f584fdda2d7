#!/usr/bin/env python3
"""Write the body of the first script tag (type 18) of an FLV file.

Usage: flv_script_tag.py IN.flv OUT.bin
"""
import sys

data = open(sys.argv[1], "rb").read()
if data[:3] != b"FLV":
    raise SystemExit("not an FLV file")
off = int.from_bytes(data[5:9], "big") + 4  # header, then PreviousTagSize0
while off + 11 <= len(data):
    tag_type = data[off] & 0x1F
    size = int.from_bytes(data[off + 1:off + 4], "big")
    if tag_type == 18:
        with open(sys.argv[2], "wb") as f:
            f.write(data[off + 11:off + 11 + size])
        print("script tag at offset %d, %d bytes" % (off, size))
        break
    off += 11 + size + 4
else:
    raise SystemExit("no script tag")
