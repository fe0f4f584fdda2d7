#!/usr/bin/env bash
# make_rtmp_fixtures.sh [OUTDIR] — regenerate the real-peer RTMP byte fixtures.
#
# Makes four 1.5 s 160x120 source FLVs with FFmpeg 9 (src_*.flv), then for each real client
# records one RTMP session through tools/rtmp_capture_proxy.py (127.0.0.1:$PROXY_PORT) in front
# of FFmpeg 9 `-listen 1` (127.0.0.1:$UP_PORT), as in ../shared/peers/rtmp-listen.sh:
#   NAME.c2s  client -> server bytes (C0 C1 C2, then chunks)
#   NAME.s2c  server -> client bytes (S0 S1 S2, then chunks)
# Publishers talk to `rtmp-listen.sh recv` (ffmpeg9 -listen 1 ... -c copy -f flv), players to
# `rtmp-listen.sh send`. Every process is started with a timeout and waited for / stopped by PID.
# Default OUTDIR: rtmp-core/tests/data (relative to the repository root). Env: FFMPEG9, PEERS,
# PROXY_PORT (28471), UP_PORT (28472), ONLY (space-separated capture names to redo).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/rtmp-core/tests/data}
FF=${FFMPEG9:-/opt/peers/bin/ffmpeg9}
PEERS=${PEERS:-/work/shared/peers}
PP=${PROXY_PORT:-28471}
UP=${UP_PORT:-28472}
TMP=${TMPDIR:-/tmp}/rtmp_fixtures.$$
mkdir -p "$OUT" "$TMP"
trap 'rm -rf "$TMP"' EXIT
PROXY="python3 $ROOT/tools/rtmp_capture_proxy.py"

# ---- sources: 1.5 s, 160x120 @30, testsrc2 + 440 Hz sine; small (crf) so captures stay ~30 KB
V="-f lavfi -i testsrc2=size=160x120:rate=30"
A="-f lavfi -i sine=frequency=440:beep_factor=4:sample_rate=44100"
A48="-f lavfi -i sine=frequency=440:beep_factor=4:sample_rate=48000"
X264="-c:v libx264 -preset veryfast -pix_fmt yuv420p -threads 1 -profile:v high -bf 3 -g 15 -crf 32"
AAC="-c:a aac -b:a 32k -ac 2"
ff() { timeout 120 "$FF" -hide_banner -nostdin -loglevel error -y "$@"; }
src() { [[ -s $OUT/$1 ]] || { shift_name=$1; shift; ff "$@" -t 1.5 -f flv "$OUT/$shift_name"; echo "made $shift_name" >&2; }; }
src src_h264_aac.flv  $V $A   $X264 $AAC
src src_hevc_aac.flv  $V $A   -c:v libx265 -pix_fmt yuv420p -crf 34 \
    -x265-params log-level=error:keyint=15:bframes=3:pools=1:frame-threads=1 $AAC
src src_av1_aac.flv   $V $A   -c:v libsvtav1 -pix_fmt yuv420p -g 15 -crf 50 -svtav1-params svt-log-level=1:lp=1 $AAC
src src_h264_opus.flv $V $A48 $X264 -c:a libopus -b:a 32k -ac 2

wait_file() { local i; for ((i = 0; i < 50; i++)); do [[ -e $1 ]] && return 0; sleep 0.1; done; return 1; }

# capture NAME recv|send SRC.flv CLIENT-COMMAND...   (CLIENT-COMMAND gets URL substituted for @URL@)
capture() {
  local name=$1 mode=$2 srcf=$3; shift 3
  if [[ -n ${ONLY:-} && " $ONLY " != *" $name "* ]]; then return 0; fi
  local url="rtmp://127.0.0.1:$PP/live/stream" upurl="rtmp://127.0.0.1:$UP/live/stream"
  local lp pp crc=0 lrc=0 prc=0 args=() a
  for a in "$@"; do args+=("${a//@URL@/$url}"); done
  rm -f "$TMP/ready"
  if [[ $mode == recv ]]; then
    "$PEERS/rtmp-listen.sh" recv "$upurl" "$TMP/$name.recv.flv" 30 2>"$TMP/$name.listen.log" & lp=$!
  else
    "$PEERS/rtmp-listen.sh" send "$upurl" "$srcf" 30 2>"$TMP/$name.listen.log" & lp=$!
  fi
  $PROXY "$PP" "$UP" "$OUT/$name" --timeout 40 --idle 8 --ready-file "$TMP/ready" 2>"$TMP/$name.proxy.log" & pp=$!
  wait_file "$TMP/ready" || { echo "proxy did not start" >&2; kill "$pp" "$lp" 2>/dev/null; return 1; }
  sleep 0.7   # let ffmpeg -listen bind (the proxy also retries its upstream connect for 5 s)
  "${args[@]}" >"$TMP/$name.client.log" 2>&1 || crc=$?
  wait "$pp" || prc=$?
  # the listener ends by itself when the session closes; give it a few seconds, then stop it
  for _ in $(seq 50); do kill -0 "$lp" 2>/dev/null || break; sleep 0.1; done
  kill "$lp" 2>/dev/null || true
  wait "$lp" || lrc=$?
  printf '%-30s client rc=%s proxy rc=%s listen rc=%s  %s\n' "$name" "$crc" "$prc" "$lrc" \
    "$(tail -1 "$TMP/$name.proxy.log")" >&2
  if [[ $mode == recv && -s $TMP/$name.recv.flv ]]; then
    python3 "$PEERS/flvinfo.py" "$TMP/$name.recv.flv" | python3 -c '
import json,sys; d=json.load(sys.stdin)
print("   server received:", {k: (v["codecs"], v["tags"]) for k, v in d["tracks"].items()}, file=sys.stderr)'
  fi
  # a stray client of another test on the same port would be recorded instead: check the key
  grep -q 'stream' "$OUT/$name.c2s" || echo "   WARNING: $name.c2s does not name our stream: foreign client?" >&2
  [[ -s $TMP/$name.client.log ]] && sed 's/^/   client: /' "$TMP/$name.client.log" | head -5 >&2
  return 0
}

FFPUB=(timeout -k 5 30 "$FF" -hide_banner -nostdin -loglevel warning -re -i)
PUBARGS=(-map 0 -c copy -f flv @URL@)
capture ffmpeg9_publish_h264_aac  recv "" "${FFPUB[@]}" "$OUT/src_h264_aac.flv"  "${PUBARGS[@]}"
capture ffmpeg5_publish_h264_aac  recv "" timeout -k 5 30 ffmpeg -hide_banner -nostdin -loglevel warning -re \
  -i "$OUT/src_h264_aac.flv" "${PUBARGS[@]}"
capture gst_rtmp2_publish_h264_aac   recv "" "$PEERS/client-publish.sh" gst-rtmp2   @URL@ "$OUT/src_h264_aac.flv" 30
capture gst_librtmp_publish_h264_aac recv "" "$PEERS/client-publish.sh" gst-librtmp @URL@ "$OUT/src_h264_aac.flv" 30
capture ffmpeg9_publish_hevc_aac  recv "" "${FFPUB[@]}" "$OUT/src_hevc_aac.flv"  "${PUBARGS[@]}"
capture ffmpeg9_publish_av1_aac   recv "" "${FFPUB[@]}" "$OUT/src_av1_aac.flv"   "${PUBARGS[@]}"
capture ffmpeg9_publish_h264_opus recv "" "${FFPUB[@]}" "$OUT/src_h264_opus.flv" "${PUBARGS[@]}"
# E-RTMP with the connect object's fourCcList (FFmpeg's -rtmp_enhanced_codecs; without it FFmpeg 9
# sends hvc1/av01/Opus without announcing them in connect)
capture ffmpeg9_publish_hevc_aac_fourcclist recv "" "${FFPUB[@]}" "$OUT/src_hevc_aac.flv" \
  -rtmp_enhanced_codecs hvc1,av01,Opus "${PUBARGS[@]}"
# extended timestamps: src_h264_aac.flv shifted by +16800000 ms (> 0xFFFFFF), published with -copyts.
# FFmpeg still sends the sequence headers at ts 0 (fmt 0), so the first coded frame on each csid
# is a fmt 1 header with delta 16800000 -> timestamp field 0xFFFFFF + extended timestamp, and its
# fmt 3 continuation chunks repeat the extended timestamp. Later deltas are small again.
[[ -s $TMP/ext.flv ]] || python3 "$PEERS/flvretime.py" "$OUT/src_h264_aac.flv" "$TMP/ext.flv" 0 16800000 >/dev/null
capture ffmpeg9_publish_h264_aac_extts recv "" timeout -k 5 30 "$FF" -hide_banner -nostdin -loglevel warning \
  -copyts -re -i "$TMP/ext.flv" "${PUBARGS[@]}"
# players: the server (ffmpeg9 -listen, send) streams src_h264_aac.flv in real time
capture rtmpdump_play send "$OUT/src_h264_aac.flv" timeout -s INT -k 5 8 rtmpdump -q --live -r @URL@ -m 10 \
  -o "$TMP/rtmpdump_play.flv"
capture ffmpeg9_play  send "$OUT/src_h264_aac.flv" timeout -k 5 15 "$FF" -hide_banner -nostdin -loglevel warning -y \
  -rw_timeout 10000000 -i @URL@ -map 0 -c copy -f flv "$TMP/ffmpeg9_play.flv"
ls -l "$OUT" >&2
du -sb "$OUT" >&2
