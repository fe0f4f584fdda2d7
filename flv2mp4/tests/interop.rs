//! `flv2mp4` against FFmpeg 9 (`../shared/peers`):
//!
//! - every corpus FLV converts to an MP4 with `moov` before `mdat` that
//!   FFmpeg decodes to the same frames as the FLV (per stream, framemd5 of
//!   every decoded frame), and that mp4parse reads;
//! - on the broken-upload corpus of `tests/make-broken.py`: no panic, every
//!   output decodes without an error (unless the damage is inside frame
//!   payloads, which FFmpeg reports decoding the FLV too), and it decodes to at least as many
//!   frames as FFmpeg's own `-c copy -movflags +faststart` output of the
//!   same input (both counts printed per file).

use std::path::{Path, PathBuf};
use std::process::Command;

use flv2mp4::{convert, Options};

/// Top-level box types of `file`, in order.
fn top_level(file: &Path) -> Vec<String> {
    let data = std::fs::read(file).expect("read the MP4");
    let mut at = 0usize;
    let mut kinds = Vec::new();
    while at + 8 <= data.len() {
        let mut size = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as u64;
        if size == 1 {
            size = u64::from_be_bytes(data[at + 8..at + 16].try_into().unwrap());
        }
        kinds.push(String::from_utf8_lossy(&data[at + 4..at + 8]).into_owned());
        assert!(size >= 8, "{}: box size {size} at {at}", file.display());
        at += size as usize;
    }
    assert_eq!(at, data.len(), "{}: boxes cover the file", file.display());
    kinds
}

fn corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(testkit::corpus())
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "flv"))
        .collect();
    files.sort();
    files
}

#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn every_corpus_flv_decodes_to_the_same_frames_from_a_faststart_mp4() {
    let out = testkit::scratch("flv2mp4_corpus");
    for input in corpus_files() {
        let name = input.file_stem().unwrap().to_string_lossy().into_owned();
        let output = out.join(format!("{name}.mp4"));
        let report = convert(&input, &output, &Options::default(), &mut |_| {})
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            top_level(&output),
            ["ftyp", "moov", "mdat"],
            "{name}: moov first"
        );
        let bytes = std::fs::read(&output).unwrap();
        mp4parse::read_mp4(&mut std::io::Cursor::new(&bytes))
            .unwrap_or_else(|e| panic!("{name}: mp4parse: {e:?}"));
        let (want, _) = testkit::decoded(&input);
        let (got, text) = testkit::decoded(&output);
        assert_eq!(got, want, "{name}: decoded frames differ\n{text}");
        println!(
            "{name}: {} video + {} audio frames, same decoded frames, repairs {:?}",
            report.video_frames,
            report.audio_frames,
            report.repairs.iter().map(|r| r.kind).collect::<Vec<_>>()
        );
    }
}

/// Decoded frames (all streams) and whether FFmpeg 9 reported an error.
fn decode_count(file: &Path) -> (usize, String) {
    let output = Command::new(testkit::ffmpeg9())
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(file)
        .args(["-map", "0:v?", "-map", "0:a?", "-fps_mode", "passthrough"])
        .args(["-f", "framemd5", "-"])
        .output()
        .expect("run ffmpeg9");
    let frames = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count();
    let mut errors = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() && errors.is_empty() {
        errors = format!("exit status {}", output.status);
    }
    (frames, errors)
}

/// The "iflv" upload whose onMetaData says an hour and indexes key frames
/// nowhere: both claims reported, and the MP4 lasts what its frames do.
fn lying_metadata_ignored(input: &Path, ours: &Path, report: &flv2mp4::Report) {
    let kinds: Vec<&str> = report.repairs.iter().map(|r| r.kind).collect();
    assert!(
        kinds.contains(&"metadata_duration") && kinds.contains(&"metadata_keyframes"),
        "lying_metadata: {kinds:?}"
    );
    let (claimed, real) = (probe_duration(input), probe_duration(ours));
    println!("lying_metadata: FFmpeg says the FLV lasts {claimed} s, our MP4 {real} s");
    assert!((5.5..6.5).contains(&real), "lying_metadata: {real} s");
    for repair in &report.repairs {
        println!("  {}: {}", repair.kind, repair.detail);
    }
}

#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn broken_uploads_convert_to_files_that_decode_without_errors() {
    let broken = testkit::scratch("flv2mp4_broken_in");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/make-broken.py");
    let status = Command::new("python3")
        .arg(&script)
        .arg(testkit::corpus())
        .arg(&broken)
        .status()
        .expect("run make-broken.py");
    assert!(status.success());
    let out = testkit::scratch("flv2mp4_broken_out");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&broken)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 30, "the broken corpus");
    for input in inputs {
        let name = input.file_stem().unwrap().to_string_lossy().into_owned();
        let ours = out.join(format!("{name}.mp4"));
        let report = match convert(&input, &ours, &Options::default(), &mut |_| {}) {
            Ok(report) => report,
            Err(e) => panic!("{name}: {e}"),
        };
        assert_eq!(top_level(&ours), ["ftyp", "moov", "mdat"], "{name}");
        if name == "lying_metadata" {
            lying_metadata_ignored(&input, &ours, &report);
        }
        let (our_frames, our_errors) = decode_count(&ours);
        // Bytes flipped inside a frame's payload are the frame's own damage:
        // no container repair sees them, and FFmpeg decoding the FLV itself
        // reports them too. Any other error is ours.
        if !our_errors.is_empty() {
            let (_, input_errors) = decode_count(&input);
            assert!(
                !input_errors.is_empty(),
                "{name}: FFmpeg decodes ours with errors, the input without: {our_errors}"
            );
            println!("{name}: damaged payloads decode with errors in the FLV too");
        }
        let theirs = out.join(format!("{name}.ffmpeg.mp4"));
        let copied = Command::new(testkit::ffmpeg9())
            .args(["-hide_banner", "-loglevel", "quiet", "-y", "-i"])
            .arg(&input)
            .args(["-c", "copy", "-movflags", "+faststart"])
            .arg(&theirs)
            .status()
            .expect("run ffmpeg9");
        let (their_frames, their_errors) = if copied.success() {
            decode_count(&theirs)
        } else {
            (0, "ffmpeg -c copy failed".to_owned())
        };
        println!(
            "{name}: ours {our_frames} decoded frames, ffmpeg -c copy {their_frames}{}; repairs {:?}",
            if their_errors.is_empty() { "" } else { " (decoded with errors)" },
            report.repairs.iter().map(|r| (r.kind, r.count)).collect::<Vec<_>>()
        );
        // FFmpeg's copy may hold more frames that decode only with errors
        // (P-frames without their key frame): only clean decodes compare.
        if their_errors.is_empty() {
            assert!(
                our_frames >= their_frames,
                "{name}: ours {our_frames} < ffmpeg {their_frames}"
            );
        }
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}
fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().unwrap())
}

/// Children of the box whose payload is `b[from..to]`: (type, offset, size).
fn children(b: &[u8], from: usize, to: usize) -> Vec<(String, usize, usize)> {
    let mut at = from;
    let mut out = Vec::new();
    while at + 8 <= to {
        let size = be32(b, at) as usize;
        assert!(size >= 8 && at + size <= to, "box at {at}");
        out.push((
            String::from_utf8_lossy(&b[at + 4..at + 8]).into_owned(),
            at,
            size,
        ));
        at += size;
    }
    assert_eq!(at, to, "boxes cover their parent");
    out
}

/// From one `moof`: track id → the earliest and the end presentation time
/// of its samples, read from `tfdt` and the `trun` entries (our writer's
/// layout: tfhd without defaults, trun version 1 with every field).
fn fragment_times(b: &[u8], moof: usize, size: usize) -> Vec<(u32, i64, i64)> {
    let mut out = Vec::new();
    for (kind, at, len) in children(b, moof + 8, moof + size) {
        if kind != "traf" {
            continue;
        }
        let (mut track, mut dts, mut times) = (0, 0i64, (i64::MAX, i64::MIN));
        for (kind, at, len) in children(b, at + 8, at + len) {
            match kind.as_str() {
                "tfhd" => track = be32(b, at + 12),
                "tfdt" => dts = be64(b, at + 12) as i64,
                "trun" => {
                    assert_eq!(be32(b, at + 8) & 0xF01, 0xF01, "trun flags");
                    let count = be32(b, at + 12) as usize;
                    assert_eq!(len, 20 + 16 * count);
                    for i in 0..count {
                        let entry = at + 20 + 16 * i;
                        let duration = i64::from(be32(b, entry));
                        let pts = dts + i64::from(be32(b, entry + 12) as i32);
                        times = (times.0.min(pts), times.1.max(pts + duration));
                        dts += duration;
                    }
                }
                _ => {}
            }
        }
        out.push((track, times.0, times.1));
    }
    out
}

/// Checks the `sidx` boxes of a fragmented file (one per track) against its
/// fragments: one reference per `moof`+`mdat`, sizes that land on each
/// `moof` and end at the `mfra`, and times that are the track's own (its
/// earliest presentation time per fragment, durations adding up to its
/// end). Returns the number of fragments.
fn check_sidx(name: &str, b: &[u8]) -> usize {
    let top = children(b, 0, b.len());
    let kinds: Vec<&str> = top.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(kinds[..2], ["ftyp", "moov"], "{name}");
    assert_eq!(kinds.last(), Some(&"mfra"), "{name}");
    let sidxs: Vec<_> = top
        .iter()
        .skip(2)
        .take_while(|(k, _, _)| k == "sidx")
        .collect();
    let moofs: Vec<_> = top.iter().filter(|(k, _, _)| k == "moof").collect();
    let tracks = children(b, top[1].1 + 8, top[1].1 + top[1].2)
        .iter()
        .filter(|(k, _, _)| k == "trak")
        .count();
    assert_eq!(sidxs.len(), tracks, "{name}: one sidx per track");
    for (_, sidx, sidx_size) in sidxs {
        let (sidx, sidx_size) = (*sidx, *sidx_size);
        let track = be32(b, sidx + 12);
        assert_eq!(be32(b, sidx + 8) >> 24, 1, "{name}: sidx version 1");
        let mut time = be64(b, sidx + 20) as i64;
        let mut offset = sidx + sidx_size + be64(b, sidx + 28) as usize;
        let count = usize::from(u16::from_be_bytes([b[sidx + 38], b[sidx + 39]]));
        assert_eq!(count, moofs.len(), "{name}: one reference per fragment");
        let mut end = time;
        for (i, (_, moof, moof_size)) in moofs.iter().enumerate() {
            let entry = sidx + 40 + 12 * i;
            let size = (be32(b, entry) & 0x7FFF_FFFF) as usize;
            assert_eq!(
                offset, *moof,
                "{name}: track {track} reference {i} lands on its moof"
            );
            let (_, mdat, mdat_size) = top
                .iter()
                .find(|(_, at, _)| at == &(moof + moof_size))
                .unwrap();
            assert_eq!(
                size,
                moof_size + mdat_size,
                "{name}: reference {i} is moof + mdat ({mdat})"
            );
            let times = fragment_times(b, *moof, *moof_size);
            if let Some((_, earliest, stop)) = times.iter().find(|(t, _, _)| *t == track) {
                assert_eq!(
                    time, *earliest,
                    "{name}: track {track} reference {i} starts at its earliest pts"
                );
                end = *stop;
            }
            time += i64::from(be32(b, entry + 4));
            offset += size;
        }
        assert_eq!(
            offset,
            top.last().unwrap().1,
            "{name}: the references end at the mfra"
        );
        assert_eq!(
            time, end,
            "{name}: track {track}'s durations add up to its end"
        );
    }
    moofs.len()
}

#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn every_corpus_flv_decodes_to_the_same_frames_from_a_fragmented_mp4_with_a_sidx() {
    let out = testkit::scratch("flv2mp4_fragmented");
    let mut options = Options::default();
    options.fragmented = true;
    for input in corpus_files() {
        let name = input.file_stem().unwrap().to_string_lossy().into_owned();
        let output = out.join(format!("{name}.mp4"));
        let report = convert(&input, &output, &options, &mut |_| {})
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let bytes = std::fs::read(&output).unwrap();
        let fragments = check_sidx(&name, &bytes);
        mp4parse::read_mp4(&mut std::io::Cursor::new(&bytes))
            .unwrap_or_else(|e| panic!("{name}: mp4parse: {e:?}"));
        let (want, _) = testkit::decoded(&input);
        let (got, text) = testkit::decoded(&output);
        let refused = report.repairs.iter().any(|r| r.kind == "config_refused");
        if refused {
            // One description per track in an init segment: a resolution
            // change is refused (reported) and the frames after it dropped.
            assert_eq!(got.len(), want.len(), "{name}");
            for (got, want) in got.iter().zip(&want) {
                assert!(
                    !got.is_empty() && want.starts_with(got),
                    "{name}: a prefix\n{text}"
                );
            }
        } else {
            assert_eq!(got, want, "{name}: decoded frames differ\n{text}");
        }
        println!(
            "{name}: {fragments} fragments, {} video + {} audio frames, {}",
            report.video_frames,
            report.audio_frames,
            if refused {
                "configuration change refused, the frames before it the FLV's"
            } else {
                "same decoded frames"
            }
        );
    }
}

/// The first video frame FFmpeg 9 decodes from `file` after `-ss seconds`
/// (input seeking, accurate): its framemd5 line.
fn frame_at(file: &Path, seconds: f64) -> String {
    let output = Command::new(testkit::ffmpeg9())
        .args(["-hide_banner", "-loglevel", "error", "-ss"])
        .arg(format!("{seconds:.3}"))
        .arg("-i")
        .arg(file)
        .args(["-an", "-frames:v", "1", "-f", "framemd5", "-"])
        .output()
        .expect("run ffmpeg9");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find(|l| !l.starts_with('#'))
        .unwrap_or_else(|| panic!("{}: no frame at {seconds} s", file.display()))
        .to_owned()
}

/// The MD5 field of a framemd5 line.
fn md5_of(line: &str) -> &str {
    line.rsplit(',').next().unwrap_or("").trim()
}

/// Inputs of at least 20 s: the corpus files are 6 s, so two of them (one
/// with B-frames, one with 1 s GOPs) looped four times by FFmpeg's `-c copy`,
/// plus the 3-minute bench file when `benches/setup.sh` made it.
fn long_inputs(dir: &Path) -> Vec<PathBuf> {
    let mut inputs = Vec::new();
    for name in ["a_h264high_bf_aac", "k_h264_gop30"] {
        let long = dir.join(format!("{name}_x4.flv"));
        let status = Command::new(testkit::ffmpeg9())
            .args([
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-stream_loop",
                "3",
                "-i",
            ])
            .arg(testkit::corpus().join(format!("{name}.flv")))
            .args(["-c", "copy", "-f", "flv"])
            .arg(&long)
            .status()
            .expect("run ffmpeg9");
        assert!(status.success(), "looping {name}");
        inputs.push(long);
    }
    let bench = Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/data/bench_720p30.flv");
    if bench.exists() {
        inputs.push(bench);
    }
    inputs
}

#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn seeking_lands_on_the_same_frame_as_in_ffmpegs_own_faststart_copy() {
    let dir = testkit::scratch("flv2mp4_seek");
    for input in long_inputs(&dir) {
        let name = input.file_stem().unwrap().to_string_lossy().into_owned();
        let ours = dir.join(format!("{name}.mp4"));
        convert(&input, &ours, &Options::default(), &mut |_| {})
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let theirs = dir.join(format!("{name}.ffmpeg.mp4"));
        let status = Command::new(testkit::ffmpeg9())
            .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
            .arg(&input)
            .args(["-c", "copy", "-movflags", "+faststart"])
            .arg(&theirs)
            .status()
            .expect("run ffmpeg9");
        assert!(status.success(), "{name}: ffmpeg -c copy");
        let duration = probe_duration(&theirs);
        assert!(duration >= 20.0, "{name}: {duration} s");
        // Ten points spread by a fixed LCG, reproducible run to run.
        let mut state = 0x2545_f491_u64;
        for _ in 0..10 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let at = (state >> 33) as f64 / f64::from(1u32 << 31) * (duration - 1.0);
            let (a, b) = (frame_at(&ours, at), frame_at(&theirs, at));
            println!("{name} -ss {at:.3}\n  ours:   {a}\n  ffmpeg: {b}");
            assert_eq!(
                md5_of(&a),
                md5_of(&b),
                "{name}: a different frame at {at:.3} s"
            );
        }
    }
}

/// The duration FFmpeg 9 reports for `file` (seconds).
fn probe_duration(file: &Path) -> f64 {
    let output = Command::new(testkit::ffmpeg9())
        .args(["-hide_banner", "-i"])
        .arg(file)
        .output()
        .expect("run ffmpeg9");
    let text = String::from_utf8_lossy(&output.stderr);
    let field = text
        .split("Duration: ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("no duration in {text}"));
    field
        .split(':')
        .map(|part| part.trim().parse::<f64>().expect("a number"))
        .fold(0.0, |total, part| total * 60.0 + part)
}
