#!/usr/bin/env bash
# Regenerates the flv test fixtures from the peer corpus (../shared/peers/make-corpus.sh).
# usage: make.sh [CORPUS_DIR]   (default /tmp/peers/corpus); needs FFmpeg 9 at $FFMPEG9
# (default /opt/peers/bin/ffmpeg9) and python3.
set -euo pipefail
C=${1:-/tmp/peers/corpus}
FF=${FFMPEG9:-/opt/peers/bin/ffmpeg9}
cd "$(dirname "$0")"
ff() { "$FF" -hide_banner -nostdin -loglevel error -y "$@"; }
# -copyinkf: ts_extended.flv starts mid-GOP, and the FFmpeg CLI drops copied frames before a key frame.
md5() { ff -copyts -i "$1" -map 0 -c copy -copyinkf -f framemd5 "${1%.flv}.framemd5"; }

# Short remuxes (FFmpeg's FLV muxer) of the corpus files: the first 0.3 s.
ff -i "$C/a_h264high_bf_aac.flv" -t 0.3 -c copy -f flv h264_aac.flv
ff -i "$C/b_h264base_mp3.flv" -t 0.3 -c copy -f flv h264_mp3.flv
ff -i "$C/e_hevc_aac.flv" -t 0.3 -c copy -f flv hevc_aac.flv
ff -i "$C/f_av1_aac.flv" -t 0.2 -c copy -f flv av1_aac.flv
ff -i "$C/g_h264_opus.flv" -t 0.3 -c copy -f flv h264_opus.flv
# Enhanced FLV multitrack: two video tracks (avc1 track 0, hvc1 track 1), two audio (AAC, Opus).
ff -i "$C/a_h264high_bf_aac.flv" -i "$C/e_hevc_aac.flv" -i "$C/g_h264_opus.flv" \
   -map 0:v -map 1:v -map 0:a -map 2:a -t 0.2 -c copy -f flv multitrack.flv
# onMetaData with a keyframe index ("indexed FLV"): a tiny encode, keyframe every 10 frames.
ff -f lavfi -i testsrc2=size=64x48:rate=10 -t 3 -c:v libx264 -preset veryfast -threads 1 -g 10 \
   -bf 0 -flvflags add_keyframe_index -f flv keyframe_index.flv
# Tags cut out of a file (python: header, the tags before the first frame, then a byte window),
# each tag kept whole with its PreviousTagSize: timestamps crossing 0xFFFFFF ms (extended byte).
python3 - "$C/i_h264_ts_extended.flv" ts_extended.flv <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
out, p, tags = bytearray(d[:13]), 13, []
while p + 11 <= len(d):
    size = int.from_bytes(d[p+1:p+4], 'big')
    ts = int.from_bytes(d[p+4:p+7], 'big') | d[p+7] << 24
    tags.append((p, p + 15 + size, d[p], ts, d[p+11] if size else 0))
    p += 15 + size
head = [t for t in tags[:4] if t[2] == 18 or t[4] in (0x17, 0xaf) and d[t[0]+12] == 0]
window = [t for t in tags if 0xFFFF00 <= t[3] <= 0x1000100]
for s, e, *_ in head + window:
    out += d[s:e]
open(sys.argv[2], 'wb').write(out)
PY
for f in *.flv; do md5 "$f"; done
ls -l
