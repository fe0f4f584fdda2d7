//! `flv_dump --framemd5` against FFmpeg 9's `framemd5`
//! (`ffmpeg9 -copyts -i FILE -map 0:v? -map 0:a? -c copy -f framemd5 -`): its
//! stream, dts, pts, size and hash columns, line for line.
//!
//! FFmpeg's lines are not the file's frames verbatim in every case: its
//! command line (fftools, not the FLV demuxer) (1) drops the video packets
//! before a stream's first key frame in stream copy
//! (`-copy_initial_nonkeyframes` is off), (2) rewrites a DTS that goes back
//! in a stream to the previous one ("Non-monotonic DTS ... changing to",
//! raising the PTS to it too; `-copyts` does not stop this), and (3) hands
//! packets to the muxer interleaved by DTS across streams (ties: lower stream
//! index first). [`ffmpeg_view`] applies exactly these three rules to our
//! lines; where they change nothing (every corpus file but the backward jump)
//! our file-order lines must equal FFmpeg's as they are, and where they do,
//! the rules must reproduce FFmpeg's lines exactly and the sizes and MD5s of
//! every stream must be FFmpeg's in order.

use testkit as common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use examples::flv_dump::{framemd5, FrameLine};
use flv::MediaType;

/// One framemd5 row: stream label (`video`, `audio`, `video.1`...), dts, pts, size, md5.
type Row = (String, i64, i64, usize, String);

fn label(media: MediaType, track: u8) -> String {
    let media = if media == MediaType::Video {
        "video"
    } else {
        "audio"
    };
    if track == 0 {
        media.to_string()
    } else {
        format!("{media}.{track}")
    }
}

/// Our streams in FFmpeg's output order (`-map 0:v? -map 0:a?`: video, then
/// audio; each in the order the demuxer met them).
fn stream_order(lines: &[FrameLine]) -> Vec<(MediaType, u8)> {
    let mut order = Vec::new();
    for media in [MediaType::Video, MediaType::Audio] {
        for line in lines.iter().filter(|l| l.media == media) {
            if !order.contains(&(media, line.track)) {
                order.push((media, line.track));
            }
        }
    }
    order
}

/// FFmpeg's rows, each stream labelled as ours (its k-th video stream is
/// our k-th video track).
fn ffmpeg_rows(file: &Path, order: &[(MediaType, u8)]) -> (Vec<Row>, String) {
    let output = Command::new(common::ffmpeg9())
        .args([
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "warning",
            "-copyts",
            "-i",
        ])
        .arg(file)
        .args([
            "-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", "framemd5", "-",
        ])
        .output()
        .expect("run ffmpeg9 (../shared/peers/install.sh)");
    assert!(
        output.status.success(),
        "ffmpeg9 failed on {}",
        file.display()
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let mut media_of = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#media_type ") {
            let (index, kind) = rest.split_once(": ").unwrap();
            media_of.insert(index.to_string(), kind == "video");
        }
    }
    let mut labels = HashMap::new();
    let mut seen = [0usize; 2];
    let mut indices: Vec<&String> = media_of.keys().collect();
    indices.sort_by_key(|i| i.parse::<usize>().unwrap());
    for index in indices {
        let video = media_of[index];
        let media = if video {
            MediaType::Video
        } else {
            MediaType::Audio
        };
        let k = seen[usize::from(video)];
        seen[usize::from(video)] += 1;
        let track = order
            .iter()
            .filter(|s| s.0 == media)
            .nth(k)
            .map_or(99, |s| s.1);
        labels.insert(index.clone(), label(media, track));
    }
    let rows = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            (
                labels[f[0]].clone(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[4].parse().unwrap(),
                f[5].to_string(),
            )
        })
        .collect();
    (rows, String::from_utf8_lossy(&output.stderr).into_owned())
}

fn rows(lines: &[FrameLine]) -> Vec<Row> {
    lines
        .iter()
        .map(|l| (label(l.media, l.track), l.dts, l.pts, l.size, l.md5.clone()))
        .collect()
}

/// Our lines as the FFmpeg command line passes them to framemd5 (the three
/// rules of the module documentation; fftools/ffmpeg_mux.c `mux_fixup_ts`
/// for framemd5, a muxer with `AVFMT_TS_NONSTRICT`, and libavformat's
/// `interleave_compare_dts`).
fn ffmpeg_view(lines: &[FrameLine]) -> Vec<Row> {
    let order = stream_order(lines);
    let mut streams: Vec<Vec<Row>> = vec![Vec::new(); order.len()];
    let mut started = vec![false; order.len()];
    let mut last: Vec<Option<i64>> = vec![None; order.len()];
    for line in lines {
        let index = order
            .iter()
            .position(|s| *s == (line.media, line.track))
            .unwrap();
        // (1) stream copy starts video at its first key frame.
        started[index] |= line.key || line.media == MediaType::Audio;
        if !started[index] {
            continue;
        }
        let (mut dts, mut pts) = (line.dts, line.pts);
        if let Some(max) = last[index] {
            if dts > pts {
                // "Invalid DTS ... replacing by guess": the median of pts, dts, last + 1.
                let m = max + 1;
                let guess = pts + dts + m - pts.min(dts).min(m) - pts.max(dts).max(m);
                (dts, pts) = (guess, guess);
            }
            // (2) "Non-monotonic DTS ... changing to" the previous DTS.
            if dts < max {
                if pts >= dts {
                    pts = pts.max(max);
                }
                dts = max;
            }
        }
        last[index] = Some(dts);
        streams[index].push((
            label(line.media, line.track),
            dts,
            pts,
            line.size,
            line.md5.clone(),
        ));
    }
    // (3) merge by DTS, ties to the lower stream index.
    let mut at = vec![0; streams.len()];
    let mut out = Vec::new();
    loop {
        let next = (0..streams.len())
            .filter(|&s| at[s] < streams[s].len())
            .min_by_key(|&s| (streams[s][at[s]].1, s));
        let Some(s) = next else { break };
        out.push(streams[s][at[s]].clone());
        at[s] += 1;
    }
    out
}

fn per_stream(rows: &[Row]) -> HashMap<String, Vec<(usize, String)>> {
    let mut map: HashMap<String, Vec<(usize, String)>> = HashMap::new();
    for r in rows {
        map.entry(r.0.clone()).or_default().push((r.3, r.4.clone()));
    }
    map
}

/// Compares one file; returns the summary line.
fn compare(file: &Path) -> String {
    let data = bytes::Bytes::from(std::fs::read(file).unwrap());
    let (lines, error) = framemd5(data);
    assert!(error.is_none(), "{}: {error:?}", file.display());
    let (theirs, stderr) = ffmpeg_rows(file, &stream_order(&lines));
    let ours = rows(&lines);
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let view = ffmpeg_view(&lines);
    assert_eq!(
        view.len(),
        theirs.len(),
        "{name}: frame count (ours {})",
        ours.len()
    );
    if view == ours {
        // FFmpeg changes nothing: our file-order lines are its lines.
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(a, b, "{name}: line {}", i + 1);
        }
        return format!("{name}: {} lines identical", ours.len());
    }
    let rewritten = ours.iter().zip(&view).filter(|(a, b)| a != b).count();
    for (i, (a, b)) in view.iter().zip(&theirs).enumerate() {
        assert_eq!(
            a,
            b,
            "{name}: line {} of FFmpeg's view of our lines\n{stderr}",
            i + 1
        );
    }
    let dropped = ours.len() - view.len();
    let sums = if dropped == 0 {
        assert_eq!(
            per_stream(&ours),
            per_stream(&theirs),
            "{name}: sizes and MD5s"
        );
        "every stream's sizes and MD5s identical in order"
    } else {
        "the frames it keeps identical in size and MD5"
    };
    let retimed = view
        .iter()
        .filter(|v| {
            !ours
                .iter()
                .any(|o| o.0 == v.0 && o.1 == v.1 && o.2 == v.2 && o.4 == v.4)
        })
        .count();
    format!(
        "{name}: {} lines, FFmpeg's {}: in file order they differ at {rewritten} lines \
         ({dropped} leading non-key video frames dropped, {retimed} DTS/PTS rewritten as non-monotonic, \
         the rest re-interleaved by DTS), reproduced exactly by FFmpeg's rules; {sums}",
        ours.len(),
        theirs.len()
    )
}

#[test]
#[ignore = "needs peers: ../shared/peers/install.sh"]
fn framemd5_matches_ffmpeg9_on_the_corpus() {
    let dir = common::corpus();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "flv"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "corpus at {}", dir.display());
    let mut identical = 0;
    for file in &files {
        let summary = compare(file);
        identical += summary.ends_with("identical") as usize;
        eprintln!("{summary}");
    }
    // Every file but the backward timestamp jump is identical as is.
    assert!(
        identical >= files.len() - 1,
        "{identical} of {} identical",
        files.len()
    );
}

/// The committed fixtures of the flv crate (multitrack: four FFmpeg streams,
/// two per media type; the 24-bit window: starts on non-key video).
#[test]
#[ignore = "needs peers: ../shared/peers/install.sh"]
fn framemd5_matches_ffmpeg9_on_the_flv_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../flv/tests/data");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "flv"))
        .collect();
    files.sort();
    assert!(files.len() >= 8);
    for file in &files {
        eprintln!("{}", compare(file));
    }
}

/// Without peers: the FFmpeg 9 framemd5 committed next to each flv fixture
/// (made with `-copyts -map 0`, `flv/tests/data/make.sh`) against our lines
/// through the same rules.
#[test]
fn framemd5_matches_committed_ffmpeg9_output() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../flv/tests/data");
    let mut checked = 0;
    for name in [
        "h264_aac",
        "h264_mp3",
        "hevc_aac",
        "av1_aac",
        "h264_opus",
        "keyframe_index",
    ] {
        let data = bytes::Bytes::from(std::fs::read(dir.join(format!("{name}.flv"))).unwrap());
        let expected = std::fs::read_to_string(dir.join(format!("{name}.framemd5"))).unwrap();
        let (lines, error) = framemd5(data);
        assert!(error.is_none());
        let media: HashMap<&str, &str> = expected
            .lines()
            .filter_map(|l| l.strip_prefix("#media_type "))
            .filter_map(|l| l.split_once(": "))
            .collect();
        let theirs: Vec<String> = expected
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let f: Vec<&str> = l.split(',').map(str::trim).collect();
                format!("{}, {}, {}, {}, {}", media[f[0]], f[1], f[2], f[4], f[5])
            })
            .collect();
        let ours: Vec<String> = lines.iter().map(ToString::to_string).collect();
        assert_eq!(ours, theirs, "{name}");
        checked += ours.len();
    }
    assert!(checked > 100);
}

/// The command line: usage errors, the listing, `--framemd5`.
#[test]
fn command_line() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../flv/tests/data/h264_opus.flv");
    let file = file.to_string_lossy().into_owned();
    let run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = examples::flv_dump::main_with_args(&args, &mut out, &mut err);
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    };
    assert_eq!(run(&[]).0, 2);
    assert_eq!(run(&["--bogus", &file]).0, 2);
    assert_eq!(run(&["/nonexistent.flv"]).0, 1);
    let (code, text, _) = run(&["--framemd5", &file]);
    assert_eq!(code, 0);
    assert_eq!(
        text.lines().next(),
        Some("video, 0, 67, 4555, b0ce53bfbae619efc5d467c39b8a9078")
    );
    let (code, text, _) = run(&[&file]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[1].contains("header  version 1, flags 0x05"));
    assert!(lines[2].contains("script") && lines[2].contains("onMetaData"));
    // The Opus sequence start: Enhanced (marked +), at offset 384.
    assert!(lines[4].trim_start().starts_with("384  audio"));
    assert!(lines[4].contains("Opus") && lines[4].contains("SequenceStart+"));
    assert!(
        lines[6].contains("CodedFrames") && lines[6].contains("key") && lines[6].contains("67")
    );
    // One listing line per tag (plus the column titles and the header line).
    let tags = flv::read_all(bytes::Bytes::from(std::fs::read(&file).unwrap())).count() - 1;
    assert_eq!(lines.len(), tags + 2);
    // A truncated file: the frames before, then the error, exit code 1.
    let data = std::fs::read(&file).unwrap();
    let cut = std::env::temp_dir().join("flv_dump_cut.flv");
    std::fs::write(&cut, &data[..6000]).unwrap();
    let (code, text, err) = run(&["--framemd5", &cut.to_string_lossy()]);
    assert_eq!((code, text.lines().count()), (1, 1)); // the key frame at 449 ends at 5024
    assert!(err.contains("input ends inside the tag body"), "{err}");
}
