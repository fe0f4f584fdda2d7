#!/bin/sh
# flv2mp4 vs FFmpeg 9's `-c copy -movflags +faststart` on one FLV: wall clock
# and peak RSS of the whole process, RUNS times each (default 3), output to
# OUTDIR (default /dev/shm, a tmpfs). Usage:
#   benches/flv2mp4_vs_ffmpeg.sh [FILE.flv] [RUNS] [OUTDIR]
# FILE defaults to benches/data/bench_720p30.flv (benches/setup.sh makes it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
file=${1:-$here/data/bench_720p30.flv}
runs=${2:-3}
out=${3:-/dev/shm}
ffmpeg=${FFMPEG9:-/opt/peers/bin/ffmpeg9}
target=${CARGO_TARGET_DIR:-$here/../target}
nice -n 19 cargo build --release -q -p flv2mp4
bin=$target/release/flv2mp4
i=0
while [ "$i" -lt "$runs" ]; do
    /usr/bin/time -f "flv2mp4 two-pass  %e s  %M KB" "$bin" "$file" "$out/flv2mp4-bench.mp4" >/dev/null
    /usr/bin/time -f "flv2mp4 temp-file %e s  %M KB" "$bin" --strategy temp-file "$file" "$out/flv2mp4-bench.mp4" >/dev/null
    /usr/bin/time -f "ffmpeg9 -c copy   %e s  %M KB" "$ffmpeg" -loglevel error -y -i "$file" -c copy -movflags +faststart "$out/ffmpeg-bench.mp4"
    i=$((i + 1))
done
rm -f "$out/flv2mp4-bench.mp4" "$out/ffmpeg-bench.mp4"
