#!/usr/bin/env bash
# benches/setup.sh — generate the benchmark inputs into benches/data/ (git-ignored; never commit).
# Idempotent: every step is skipped when its output exists (FORCE=1 redoes all). See README.md.
#
#   bench_720p30.flv   3 min 1280x720 30 fps H.264 High (B-frames) + AAC, ~100 MB (FFmpeg 9)
#   publish_4096.bin   the bytes FFmpeg 9 sends after the handshake when it publishes that file
#                      (-c copy -f flv, no -re) to a server announcing chunk size 4096
#   publish_4096.s2c   what that server answered (handshake included), for reference
#   publish_128.bin    the same messages re-chunked at 128 bytes (tools/rechunk.py)
#   connect.amf0       payload of FFmpeg's `connect` command (AMF0 values, no chunk headers)
#   onmetadata.amf0    payload of FFmpeg's @setDataFrame/onMetaData data message
#   MANIFEST.txt       sizes, message counts, md5s and the encode time
#
# Needs FFmpeg 9 (FFMPEG9, default /opt/peers/bin/ffmpeg9) and python3 (stdlib). Loopback only,
# ports BENCH_PROXY_PORT (28491) and BENCH_SINK_PORT (28492); each process it starts is stopped
# by its PID. Takes about 1 min on 2 cores (encode ~30-60 s, capture ~10 s, re-chunk ~20 s).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
D=$HERE/data
T=$ROOT/tools
FF=${FFMPEG9:-/opt/peers/bin/ffmpeg9}
PP=${BENCH_PROXY_PORT:-28491}
SP=${BENCH_SINK_PORT:-28492}
FORCE=${FORCE:-0}
mkdir -p "$D"
log() { printf '[bench-setup] %s\n' "$*" >&2; }
need() { [[ $FORCE == 1 || ! -s $1 ]]; }
[[ -x $FF ]] || { log "FFmpeg 9 not found at $FF (set FFMPEG9)"; exit 2; }

# ---- 1. the source file ------------------------------------------------------------------
# superfast + -bf 3: x264 keeps 3 B-frames (ultrafast would disable them); ABR 4300k with a
# 2 s VBV gives ~4.4 Mbit/s with audio = ~100 MB for 180 s. Measured: ~35 s on 2 cores.
SRC=$D/bench_720p30.flv
if need "$SRC"; then
  log "encoding $SRC (3 min 720p30, ~100 MB)"
  t0=$(date +%s.%N)
  timeout 900 "$FF" -hide_banner -nostdin -loglevel error -y \
    -f lavfi -i testsrc2=size=1280x720:rate=30 \
    -f lavfi -i sine=frequency=440:beep_factor=4:sample_rate=44100 -t 180 \
    -c:v libx264 -preset superfast -profile:v high -pix_fmt yuv420p -bf 3 -g 60 \
    -b:v 4300k -maxrate 4300k -bufsize 8600k -threads 2 \
    -c:a aac -b:a 128k -ac 2 -f flv "$SRC.tmp"
  mv "$SRC.tmp" "$SRC"
  t1=$(date +%s.%N)
  python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$t1" > "$D/encode_seconds.txt"
  log "encoded in $(cat "$D/encode_seconds.txt") s"
  rm -f "$D/publish_4096.bin" "$D/publish_128.bin"   # derived from the old file
fi

# ---- 1b. the ramp's 600 kbit/s stream (issue 14: SRS's published benchmark bit rate) ---------
# 640x360 30 fps H.264 (x264 veryfast, ABR 500k, key frame every 2 s) + AAC 96k: ~600 kbit/s,
# 60 s, ~4.5 MB. `benches/scale.py --file benches/data/bench_360p_600k.flv` ramps with it.
SRC600=$D/bench_360p_600k.flv
if need "$SRC600"; then
  log "encoding $SRC600 (1 min 640x360 at 600 kbit/s)"
  timeout 600 "$FF" -hide_banner -nostdin -loglevel error -y \
    -f lavfi -i testsrc2=size=640x360:rate=30 \
    -f lavfi -i sine=frequency=440:beep_factor=4:sample_rate=44100 -t 60 \
    -c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p -g 60 \
    -b:v 500k -maxrate 500k -bufsize 1000k -threads 2 \
    -c:a aac -b:a 96k -ac 2 -f flv "$SRC600.tmp"
  mv "$SRC600.tmp" "$SRC600"
fi

# ---- 2. capture FFmpeg publishing it to a server that announces chunk size 4096 ------------
# FFmpeg as a publisher adopts the server's chunk size: libavformat/rtmpproto.c handle_chunk_size
# echoes the server's Set Chunk Size back and sets out_chunk_size to it. ffmpeg -listen announces
# 128, so the server here is tools/rtmp_sink_server.py --chunk-size 4096, behind the recording
# proxy tools/rtmp_capture_proxy.py.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if need "$D/publish_4096.bin"; then
  for p in "$PP" "$SP"; do
    if port_busy "$p"; then log "port $p is in use (set BENCH_PROXY_PORT / BENCH_SINK_PORT)"; exit 1; fi
  done
  tmp=$(mktemp -d)
  rm -f "$D/publish_4096.c2s"
  python3 "$T/rtmp_sink_server.py" "$SP" --chunk-size 4096 --timeout 600 --idle 15 \
    --ready-file "$tmp/sink" 2>"$tmp/sink.log" & spid=$!
  python3 "$T/rtmp_capture_proxy.py" "$PP" "$SP" "$D/publish_4096" --timeout 600 --idle 15 \
    --ready-file "$tmp/proxy" 2>"$tmp/proxy.log" & ppid=$!
  for _ in $(seq 50); do [[ -e $tmp/sink && -e $tmp/proxy ]] && break; sleep 0.1; done
  log "publishing $SRC through the proxy (no -re)"
  rc=0
  timeout -k 5 600 "$FF" -hide_banner -nostdin -loglevel error -i "$SRC" -map 0 -c copy \
    -f flv "rtmp://127.0.0.1:$PP/live/bench" 2>"$tmp/ffmpeg.log" || rc=$?
  wait "$ppid" || true
  for _ in $(seq 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  kill "$spid" 2>/dev/null || true
  wait "$spid" || true
  cat "$tmp/sink.log" "$tmp/proxy.log" | grep -v listening >&2 || true
  grep -v 'Failed to update header' "$tmp/ffmpeg.log" >&2 || true
  rm -rf "$tmp"
  [[ $rc -eq 0 ]] || { log "ffmpeg publish failed (rc=$rc)"; exit 1; }
  tail -c +3074 "$D/publish_4096.c2s" > "$D/publish_4096.bin"   # drop C0 C1 C2 (1+1536+1536)
  rm -f "$D/publish_4096.c2s" "$D/publish_128.bin"
fi

# ---- 3. the same messages at chunk size 128 ------------------------------------------------
if need "$D/publish_128.bin"; then
  log "re-chunking at 128"
  python3 "$T/rechunk.py" "$D/publish_4096.bin" "$D/publish_128.bin" --chunk-size 128
fi

# ---- 4. AMF0 payloads + verification + manifest --------------------------------------------
python3 - "$D" "$T" <<'EOF'
import hashlib, os, subprocess, sys
d, t = sys.argv[1], sys.argv[2]
sys.path.insert(0, t)
from rtmp_dump_chunks import ChunkParser, Amf0Reader, summary_hash

def messages(path):
    p = ChunkParser(open(path, "rb").read(), 0)
    msgs = list(p.parse())
    if p.truncated is not None:
        sys.exit(f"{path}: ends inside a chunk at offset {p.truncated}")
    return msgs, p

m4, p4 = messages(os.path.join(d, "publish_4096.bin"))
m1, p1 = messages(os.path.join(d, "publish_128.bin"))
h4, h1 = summary_hash(m4), summary_hash(m1)
if len(m4) != len(m1) or h4 != h1:
    sys.exit(f"MISMATCH: 4096 has {len(m4)} messages md5 {h4}, 128 has {len(m1)} md5 {h1}")

def first(pred, what):
    for m in m4:
        if pred(m):
            return m["payload"]
    sys.exit(f"no {what} message in publish_4096.bin")

def amf_head(p, n):
    try:
        r = Amf0Reader(p)
        return [r.value() for _ in range(n)]
    except Exception:
        return []

conn = first(lambda m: m["type"] == 20 and amf_head(m["payload"], 1) == ["connect"], "connect")
meta = first(lambda m: m["type"] == 18 and amf_head(m["payload"], 2) == ["@setDataFrame", "onMetaData"],
             "onMetaData")
for name, data in (("connect.amf0", conn), ("onmetadata.amf0", meta)):
    path = os.path.join(d, name)
    if not os.path.exists(path) or open(path, "rb").read() != data:
        open(path, "wb").write(data)

types = {}
for m in m4:
    types[m["type"]] = types.get(m["type"], 0) + 1
sz = lambda n: os.path.getsize(os.path.join(d, n))
enc = open(os.path.join(d, "encode_seconds.txt")).read().strip() if os.path.exists(os.path.join(d, "encode_seconds.txt")) else "?"
lines = [
    f"bench_720p30.flv   {sz('bench_720p30.flv'):>11} bytes  encode {enc} s",
    f"publish_4096.bin   {sz('publish_4096.bin'):>11} bytes  {len(m4)} messages, {p4.chunks} chunks, set_chunk_size {p4.chunk_sizes_set}",
    f"publish_128.bin    {sz('publish_128.bin'):>11} bytes  {len(m1)} messages, {p1.chunks} chunks, set_chunk_size {p1.chunk_sizes_set}",
    f"  message types    " + ", ".join(f"{k}:{v}" for k, v in sorted(types.items())),
    f"  payload bytes    {sum(len(m['payload']) for m in m4)}  max message {max(len(m['payload']) for m in m4)}",
    f"  md5(type,ts,payload) both files: {h4}",
    f"connect.amf0       {sz('connect.amf0'):>11} bytes  md5 {hashlib.md5(conn).hexdigest()}",
    f"onmetadata.amf0    {sz('onmetadata.amf0'):>11} bytes  md5 {hashlib.md5(meta).hexdigest()}",
]
open(os.path.join(d, "MANIFEST.txt"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
