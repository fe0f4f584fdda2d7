#!/bin/sh
# flv2mp4 vs FFmpeg 9's `-c copy -movflags +faststart` on one FLV: wall clock
# and peak RSS (/usr/bin/time -v's "Maximum resident set size") of the whole
# process, RUNS times each (default 5), output to OUTDIR (default /dev/shm, a
# tmpfs), input read once first so every run finds it in the page cache.
# With hyperfine installed it also gives hyperfine's mean and deviation.
# CHECK=1 (the default) then decodes the FLV and both flv2mp4 outputs with
# FFmpeg 9 and compares the decoded frames (framemd5 per stream, the
# interop tests' comparison). Usage:
#   benches/flv2mp4_vs_ffmpeg.sh [FILE.flv] [RUNS] [OUTDIR]
# FILE defaults to benches/data/bench_720p30.flv (benches/setup.sh makes it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
file=${1:-$here/data/bench_720p30.flv}
runs=${2:-5}
out=${3:-/dev/shm}
check=${CHECK:-1}
ffmpeg=${FFMPEG9:-/opt/peers/bin/ffmpeg9}
target=${CARGO_TARGET_DIR:-$here/../target}
nice -n 19 cargo build --release -q -p flv2mp4
bin=$target/release/flv2mp4
ours=$out/flv2mp4-bench.mp4
frag=$out/flv2mp4-bench-fragmented.mp4
theirs=$out/ffmpeg-bench.mp4
cat "$file" >/dev/null
echo "input: $file ($(stat -c %s "$file") bytes), output to $out, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# One run: wall clock (s) and peak RSS (KB) of the whole process.
measure() {
    name=$1
    shift
    /usr/bin/time -v "$@" >/dev/null 2>"$out/time.txt"
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out/time.txt")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/time.txt")
    echo "$name  wall $wall  max RSS ${rss} KB"
}

i=0
while [ "$i" -lt "$runs" ]; do
    measure "flv2mp4            " "$bin" "$file" "$ours"
    measure "flv2mp4 --fragmented" "$bin" --fragmented "$file" "$frag"
    measure "ffmpeg9 -c copy    " "$ffmpeg" -nostdin -loglevel error -y -i "$file" -c copy -movflags +faststart "$theirs"
    i=$((i + 1))
done
rm -f "$out/time.txt"

if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs "$runs" \
        "$bin $file $ours" \
        "$bin --fragmented $file $frag" \
        "$ffmpeg -nostdin -loglevel error -y -i $file -c copy -movflags +faststart $theirs"
fi

if [ "$check" = 1 ]; then
    # Stream index and MD5 of every decoded frame, per stream in order (the
    # streams' interleaving may differ), as testkit::decoded takes them.
    decoded() {
        "$ffmpeg" -nostdin -hide_banner -loglevel error -i "$1" -map 0:v? -map 0:a? \
            -fps_mode passthrough -noautoscale -f framemd5 - | grep -v '^#' | awk -F', *' '{print $1, $NF}' | sort -s -n -k1,1
    }
    decoded "$file" >"$out/flv.frames"
    for mp4 in "$ours" "$frag"; do
        decoded "$mp4" >"$out/mp4.frames"
        if cmp -s "$out/flv.frames" "$out/mp4.frames"; then
            echo "$(basename "$mp4"): the same $(wc -l <"$out/flv.frames") decoded frames as the FLV"
        else
            echo "$(basename "$mp4"): decoded frames DIFFER from the FLV's"
            exit 1
        fi
    done
    rm -f "$out/flv.frames" "$out/mp4.frames"
fi
rm -f "$ours" "$frag" "$theirs"
