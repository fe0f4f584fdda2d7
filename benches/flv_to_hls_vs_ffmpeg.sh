#!/usr/bin/env bash
# benches/flv_to_hls_vs_ffmpeg.sh — whole-process time of `flv_to_hls` against
# `ffmpeg -c copy -f hls` on the same FLV (benches/data/bench_720p30.flv, made by
# benches/setup.sh), MPEG-TS and fMP4, 6 s segments, output on tmpfs (/dev/shm), with
# hyperfine (Debian package `hyperfine`; installed here when missing and running as root).
# Prints hyperfine's table and the ratio per format. See benches/README.md.
#
#   benches/flv_to_hls_vs_ffmpeg.sh [INPUT.flv]      env: FFMPEG9, RUNS (default 10)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
IN=${1:-$HERE/data/bench_720p30.flv}
FF=${FFMPEG9:-/opt/peers/bin/ffmpeg9}
RUNS=${RUNS:-10}
[[ -s $IN ]] || { echo "no $IN: run benches/setup.sh first" >&2; exit 2; }
[[ -x $FF ]] || { echo "FFmpeg 9 not found at $FF (set FFMPEG9)" >&2; exit 2; }
if ! command -v hyperfine >/dev/null; then
  if [[ $(id -u) == 0 ]]; then apt-get install -y hyperfine >/dev/null; else
    echo "hyperfine is missing (apt-get install hyperfine)" >&2; exit 2; fi
fi
cargo build --release --example flv_to_hls --manifest-path "$ROOT/Cargo.toml" >&2
OURS=$ROOT/target/release/examples/flv_to_hls
OUT=$(mktemp -d /dev/shm/flv-to-hls-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

ratio() { # ratio FORMAT: mean of ffmpeg over mean of ours, from hyperfine's JSON
  python3 - "$OUT/$1.json" "$1" <<'PY'
import json, sys
r = {x["command"].split()[0]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
ours = next(v for k, v in r.items() if "flv_to_hls" in k)
ff = next(v for k, v in r.items() if "ffmpeg" in k)
print(f"{sys.argv[2]}: flv_to_hls {ours*1000:.1f} ms, ffmpeg {ff*1000:.1f} ms: {ff/ours:.1f}x faster (target >= 5x: {'met' if ff/ours >= 5 else 'MISSED'})")
PY
}

for fmt in ts fmp4; do
  case $fmt in
    ts) ffargs=(-hls_segment_type mpegts) ;;
    fmp4) ffargs=(-hls_segment_type fmp4) ;;
  esac
  hyperfine --warmup 2 --runs "$RUNS" --export-json "$OUT/$fmt.json" \
    --prepare "rm -rf $OUT/ours $OUT/ff; mkdir -p $OUT/ff" \
    "$OURS --format $fmt --target-duration 6 $IN $OUT/ours" \
    "$FF -v error -nostdin -i $IN -map 0 -c copy -f hls -hls_time 6 -hls_playlist_type vod ${ffargs[*]} $OUT/ff/index.m3u8"
  ratio $fmt
done
