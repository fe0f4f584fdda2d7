//! Interop: the corpus FLV files remuxed by [`TsWriter`] into one `.ts`
//! each, decoded by FFmpeg 9 and compared frame by frame (decoded-frame MD5s)
//! with FFmpeg 9 decoding the source FLV.
//!
//! Run with `cargo test -p hls-mux --test ts_ffmpeg -- --ignored`. Needs the
//! peers (`sudo bash /work/shared/peers/install.sh`) and the corpus (built
//! here if missing).

use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::{Bytes, BytesMut};
use flv::config::CodecConfig;
use flv::{Codec, FrameEvent, FrameReader, MediaEvent, MediaType};
use hls_mux::ts::{TsError, TsWriter};
use hls_mux::{Frame, MediaKind, Mp3Config, TrackConfig, Tracks};

const FFMPEG: &str = "/opt/peers/bin/ffmpeg9";
const CORPUS: &str = "/tmp/peers/corpus";
const PEERS: &str = "/work/shared/peers";

/// A segment is cut (a new PAT/PMT) at the first video key frame (any frame
/// without video) this many ticks after the segment start: about every 2 s
/// (the HEVC file's key frames are at 0, 1.9 and 3.9 s).
const SEGMENT: i64 = 3 * 90_000 / 2;

fn require_peers() {
    assert!(
        Path::new(FFMPEG).exists(),
        "{FFMPEG} is missing: install the peers with `sudo bash {PEERS}/install.sh` \
         (see {PEERS}/README.md)"
    );
    if !Path::new(CORPUS).join("a_h264high_bf_aac.flv").exists() {
        let status = Command::new("bash")
            .arg(format!("{PEERS}/make-corpus.sh"))
            .arg(CORPUS)
            .status()
            .expect("run make-corpus.sh");
        assert!(
            status.success(),
            "`bash {PEERS}/make-corpus.sh {CORPUS}` failed"
        );
    }
}

/// The tracks and frames of an FLV file, on the 90 kHz clock.
fn read_flv(path: &Path) -> (Tracks, Vec<Frame>) {
    let data = Bytes::from(std::fs::read(path).expect("read the corpus file"));
    let mut tracks = Tracks::default();
    let mut frames = Vec::new();
    for event in FrameReader::new(data) {
        match event.expect("the corpus file reads") {
            FrameEvent::Media(MediaEvent::Config(change)) => {
                let Some(parsed) = change.parse() else {
                    continue;
                };
                let config = match parsed.expect("the config record parses") {
                    CodecConfig::Avc(c) => TrackConfig::Avc(c),
                    CodecConfig::Hevc(c) => TrackConfig::Hevc(c),
                    CodecConfig::Av1(c) => TrackConfig::Av1(c),
                    CodecConfig::Vp9(c) => TrackConfig::Vp9(c),
                    CodecConfig::Aac(c) => TrackConfig::Aac(c),
                    CodecConfig::Opus(c) => TrackConfig::Opus(c),
                    CodecConfig::Flac(c) => TrackConfig::Flac(c),
                    other => panic!("unexpected config {other:?}"),
                };
                let slot = match change.media {
                    MediaType::Video => &mut tracks.video,
                    MediaType::Audio => &mut tracks.audio,
                };
                // The corpus files used here have one config per track.
                slot.get_or_insert(config);
            }
            FrameEvent::Media(MediaEvent::Frame(f)) => {
                let media = match f.media {
                    MediaType::Video => MediaKind::Video,
                    MediaType::Audio => MediaKind::Audio,
                };
                if f.codec == Codec::Mp3 && tracks.audio.is_none() {
                    let config = Mp3Config::from_frame(&f.data).expect("an MP3 frame header");
                    tracks.audio = Some(TrackConfig::Mp3(config));
                }
                frames.push(Frame {
                    media,
                    dts: Frame::ticks_from_ms(f.dts),
                    pts: Frame::ticks_from_ms(f.pts),
                    key: f.key,
                    data: f.data,
                });
            }
            _ => {}
        }
    }
    (tracks, frames)
}

/// One `.ts` file: PAT/PMT at the start and again every [`SEGMENT`] (at a
/// video key frame when there is video). Returns the bytes and the number
/// of segments.
fn remux(tracks: &Tracks, frames: &[Frame]) -> Result<(BytesMut, usize), TsError> {
    let mut writer = TsWriter::new(tracks)?;
    let mut out = BytesMut::new();
    let mut segment_start: Option<i64> = None;
    let mut segments = 0;
    for frame in frames {
        let cut_here = tracks.video.is_none() || (frame.media == MediaKind::Video && frame.key);
        let due = segment_start.is_none_or(|start| frame.dts - start >= SEGMENT);
        if cut_here && due {
            writer.begin_segment(&mut out);
            segment_start = Some(frame.dts);
            segments += 1;
        } else if segment_start.is_none() {
            // Audio before the first video key frame: the PAT/PMT must come first.
            writer.begin_segment(&mut out);
            segment_start = Some(frame.dts);
            segments += 1;
        }
        writer.write_frame(frame, &mut out)?;
    }
    Ok((out, segments))
}

/// `ffmpeg9 -i INPUT -map 0:v? -map 0:a? -f framemd5 -`, as decoded-frame
/// MD5s per output stream (0: video when present, then audio), plus the
/// full text for error messages.
fn framemd5(input: &Path) -> (Vec<Vec<String>>, String) {
    let output = Command::new(FFMPEG)
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(input)
        .args(["-map", "0:v?", "-map", "0:a?", "-f", "framemd5", "-"])
        .output()
        .expect("run ffmpeg9");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "ffmpeg9 failed on {}: {}",
        input.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut streams: Vec<Vec<String>> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let (Some(index), Some(md5)) = (fields.first(), fields.last()) else {
            continue;
        };
        let index: usize = index.parse().expect("a stream index");
        if streams.len() <= index {
            streams.resize(index + 1, Vec::new());
        }
        streams[index].push((*md5).to_owned());
    }
    (streams, text)
}

/// The `Stream #0:N...: Video|Audio: codec` lines `ffmpeg9 -i` prints.
fn probe(input: &Path) -> Vec<String> {
    let output = Command::new(FFMPEG)
        .args(["-hide_banner", "-i"])
        .arg(input)
        .output()
        .expect("run ffmpeg9 -i");
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.trim_start().starts_with("Stream #"))
        .map(|l| l.trim().to_owned())
        .collect()
}

/// Walks the packets: continuity counters advance by one on every payload
/// packet of a PID, PCRs never go back and come at most 100 ms apart, and
/// every PES packet's DTS is at or after the last PCR. Returns the number of
/// PCRs.
fn check_transport(name: &str, ts: &[u8]) -> usize {
    assert_eq!(ts.len() % 188, 0, "{name}: not whole packets");
    let mut last_cc = std::collections::HashMap::new();
    let mut last_pcr: Option<u64> = None;
    let mut pcrs = 0;
    for (i, p) in ts.chunks(188).enumerate() {
        assert_eq!(p[0], 0x47, "{name}: packet {i} sync byte");
        let pid = u16::from(p[1] & 0x1F) << 8 | u16::from(p[2]);
        let control = (p[3] >> 4) & 3;
        let cc = p[3] & 0x0F;
        if control & 1 != 0 {
            if let Some(prev) = last_cc.insert(pid, cc) {
                assert_eq!(
                    cc,
                    (prev + 1) & 0x0F,
                    "{name}: packet {i} pid {pid:#x} counter"
                );
            }
        }
        let mut at = 4;
        if control & 2 != 0 {
            let len = usize::from(p[4]);
            if len > 0 && p[5] & 0x10 != 0 {
                let b = &p[6..12];
                let pcr = u64::from(b[0]) << 25
                    | u64::from(b[1]) << 17
                    | u64::from(b[2]) << 9
                    | u64::from(b[3]) << 1
                    | u64::from(b[4] >> 7);
                if let Some(prev) = last_pcr {
                    assert!(pcr >= prev, "{name}: packet {i}: PCR {pcr} after {prev}");
                    assert!(
                        pcr - prev <= 9_000,
                        "{name}: packet {i}: PCR gap {}",
                        pcr - prev
                    );
                }
                last_pcr = Some(pcr);
                pcrs += 1;
            }
            at = 5 + len;
        }
        if p[1] & 0x40 != 0 && (pid == 0x100 || pid == 0x101) {
            let pes = &p[at..];
            let read = |b: &[u8]| {
                (u64::from(b[0] >> 1) & 7) << 30
                    | u64::from(b[1]) << 22
                    | u64::from(b[2] >> 1) << 15
                    | u64::from(b[3]) << 7
                    | u64::from(b[4] >> 1)
            };
            let dts = if pes[7] & 0x40 != 0 {
                read(&pes[14..19])
            } else {
                read(&pes[9..14])
            };
            let pcr = last_pcr.expect("a PCR before the first PES");
            assert!(dts >= pcr, "{name}: packet {i}: DTS {dts} before PCR {pcr}");
        }
    }
    pcrs
}

fn out_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hls-mux-ts-ffmpeg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    dir
}

/// What one file is expected to give.
struct Case {
    name: &'static str,
    video: Option<&'static str>,
    audio: Option<&'static str>,
    /// Leading audio frames FFmpeg decodes differently from the TS (see the
    /// Opus case).
    audio_skip_first: usize,
}

fn run(case: &Case) {
    require_peers();
    let source = Path::new(CORPUS).join(format!("{}.flv", case.name));
    let (tracks, frames) = read_flv(&source);
    let (ts, segments) = remux(&tracks, &frames).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    assert!(segments >= 3, "{}: only {segments} segments", case.name);
    let pcrs = check_transport(case.name, &ts);
    let path = out_dir().join(format!("{}.ts", case.name));
    std::fs::write(&path, &ts).expect("write the .ts");

    // Only the tracks present.
    let streams = probe(&path);
    let kinds: Vec<&str> = streams
        .iter()
        .map(|s| {
            if s.contains(": Video: ") {
                "video"
            } else if s.contains(": Audio: ") {
                "audio"
            } else {
                panic!("{}: unexpected stream {s}", case.name)
            }
        })
        .collect();
    let expected: Vec<&str> = [case.video.map(|_| "video"), case.audio.map(|_| "audio")]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(kinds, expected, "{}: streams {streams:?}", case.name);
    for (line, codec) in streams.iter().zip(case.video.iter().chain(&case.audio)) {
        assert!(line.contains(codec), "{}: {line} is not {codec}", case.name);
    }

    let (want, want_text) = framemd5(&source);
    let (got, got_text) = framemd5(&path);
    assert_eq!(got.len(), want.len(), "{}: stream count", case.name);
    for (index, (got, want)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            got.len(),
            want.len(),
            "{}: stream {index} frame count\nsource:\n{want_text}\nts:\n{got_text}",
            case.name
        );
        let is_audio = index == expected.len() - 1 && case.audio.is_some();
        let skip = if is_audio { case.audio_skip_first } else { 0 };
        assert_eq!(
            got[skip..],
            want[skip..],
            "{}: stream {index} decoded frames differ",
            case.name
        );
        if skip > 0 {
            assert_ne!(
                got[..skip],
                want[..skip],
                "{}: the skip is no longer needed",
                case.name
            );
        }
    }
    eprintln!(
        "{}: {} bytes, {segments} segments, {pcrs} PCRs, {streams:?}, frames per stream \
         {:?} (equal), MD5s equal (the first {} audio frames excepted)",
        case.name,
        ts.len(),
        got.iter().map(Vec::len).collect::<Vec<_>>(),
        case.audio_skip_first,
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn a_h264high_bf_aac() {
    run(&Case {
        name: "a_h264high_bf_aac",
        video: Some("h264"),
        audio: Some("aac"),
        audio_skip_first: 0,
    });
}

#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn b_h264base_mp3() {
    run(&Case {
        name: "b_h264base_mp3",
        video: Some("h264"),
        audio: Some("mp3"),
        audio_skip_first: 0,
    });
}

#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn c_aac_only() {
    run(&Case {
        name: "c_aac_only",
        video: None,
        audio: Some("aac"),
        audio_skip_first: 0,
    });
}

#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn d_h264_only() {
    run(&Case {
        name: "d_h264_only",
        video: Some("h264"),
        audio: None,
        audio_skip_first: 0,
    });
}

#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn e_hevc_aac() {
    run(&Case {
        name: "e_hevc_aac",
        video: Some("hevc"),
        audio: Some("aac"),
        audio_skip_first: 0,
    });
}

#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn g_h264_opus() {
    run(&Case {
        name: "g_h264_opus",
        video: Some("h264"),
        audio: Some("opus"),
        // The first packet decodes to 648 samples from the FLV (FFmpeg's
        // decoder drops the OpusHead pre-skip of 312 samples) and to 960 from
        // the TS: FFmpeg's MPEG-TS demuxer gives the decoder an OpusHead with
        // pre-skip 0 and its Opus parser skips the start_trim we write.
        audio_skip_first: 1,
    });
}

/// AV1 is refused with the fMP4 hint (no corpus needed beyond the file).
#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn f_av1_aac_is_refused() {
    require_peers();
    let (tracks, _) = read_flv(&Path::new(CORPUS).join("f_av1_aac.flv"));
    let err = TsWriter::new(&tracks).unwrap_err();
    assert_eq!(err.to_string(), "AV1 has no MPEG-TS mapping here; use fMP4");
}

/// Each video frame with `sei` (an SEI NAL unit) in front of its own NAL
/// units (4-byte lengths, as the corpus's H.264 has).
fn with_sei(frame: &Frame, sei: &[u8]) -> Frame {
    let mut data = (sei.len() as u32).to_be_bytes().to_vec();
    data.extend_from_slice(sei);
    data.extend_from_slice(&frame.data);
    Frame {
        data: Bytes::from(data),
        ..frame.clone()
    }
}

/// CEA-608 captions in the video's SEI go through the muxer untouched, are
/// detected (for the multivariant playlist), and FFmpeg's own CEA-608
/// decoder (`ccaption`, fed by its H.264 decoder's A/53 side data) reads
/// the text from our MPEG-TS.
#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn captions_in_the_sei_reach_ffmpegs_cea608_decoder() {
    use hls_mux::captions::h264_sei_with_608;
    use hls_mux::{Format, Muxer, MuxerOptions, Output};
    require_peers();
    let (tracks, frames) = read_flv(&Path::new(CORPUS).join("d_h264_only.flv"));
    // Pop-on: resume caption loading, the text, end of caption (shown);
    // 30 frames later erase displayed memory. Padding in between.
    let show = h264_sei_with_608(&[
        [0x14, 0x20],
        [b'H', b'E'],
        [b'L', b'L'],
        [b'O', 0x00],
        [0x14, 0x2F],
    ]);
    let erase = h264_sei_with_608(&[[0x14, 0x2C]]);
    let padding = h264_sei_with_608(&[[0x00, 0x00]]);
    let mut options = MuxerOptions::new(Format::Ts);
    options.target_duration = 2.0;
    let mut muxer = Muxer::new(options).expect("options");
    muxer
        .set_config(tracks.video.clone().expect("video"))
        .expect("config");
    let mut ts = Vec::new();
    let mut video = 0;
    for frame in &frames {
        if frame.media != MediaKind::Video {
            continue;
        }
        let sei = match video {
            10 => &show,
            40 => &erase,
            _ => &padding,
        };
        video += 1;
        muxer.push(with_sei(frame, sei)).expect("frame");
        drain(&mut muxer, &mut ts);
    }
    muxer.finish().expect("finish");
    drain(&mut muxer, &mut ts);
    assert_eq!(muxer.captions().instream_ids(), ["CC1"]);
    let dir = out_dir();
    let file = dir.join("captions.ts");
    std::fs::write(&file, &ts).expect("write");
    let srt = dir.join("captions.srt");
    let output = Command::new(FFMPEG)
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("movie={}[out0+subcc]", file.display()))
        .args(["-map", "0:s"])
        .arg(&srt)
        .output()
        .expect("run ffmpeg9");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&srt).expect("the subtitles");
    eprintln!("ffmpeg9 ccaption:\n{text}");
    assert!(text.contains("HELLO"), "{text}");

    fn drain(muxer: &mut Muxer, ts: &mut Vec<u8>) {
        while let Some(output) = muxer.poll_output() {
            if let Output::Segment { data, .. } = output {
                data.iter().for_each(|piece| ts.extend_from_slice(piece));
            }
        }
    }
}

/// Timed metadata in MPEG-TS: FFmpeg 9 finds the ID3 stream the PMT
/// declares (`timed_id3`) and copies out exactly the tags pushed.
#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn timed_metadata_is_an_id3_stream_ffmpeg_reads() {
    use hls_mux::{Format, Muxer, MuxerOptions, Output};
    require_peers();
    let (tracks, frames) = read_flv(&Path::new(CORPUS).join("d_h264_only.flv"));
    let mut options = MuxerOptions::new(Format::Ts);
    options.timed_metadata = true;
    let mut muxer = Muxer::new(options).expect("options");
    muxer
        .set_config(tracks.video.clone().expect("video"))
        .expect("config");
    let tags: Vec<Vec<u8>> = (0..3)
        .map(|n| hls_mux::id3::txxx("onTextData", &format!("{{\"n\":{n}}}")).expect("a tag"))
        .collect();
    let mut ts = Vec::new();
    let mut pushed = 0;
    for frame in frames.iter().filter(|f| f.media == MediaKind::Video) {
        if pushed < tags.len() && frame.dts >= (pushed as i64 + 1) * 90_000 {
            let tag = Bytes::from(tags[pushed].clone());
            muxer.push_metadata(frame.dts, tag).expect("metadata");
            pushed += 1;
        }
        muxer.push(frame.clone()).expect("frame");
    }
    muxer.finish().expect("finish");
    while let Some(output) = muxer.poll_output() {
        if let Output::Segment { data, .. } = output {
            data.iter().for_each(|piece| ts.extend_from_slice(piece));
        }
    }
    assert_eq!(pushed, tags.len(), "the file is long enough");
    let file = out_dir().join("metadata.ts");
    std::fs::write(&file, &ts).expect("write");
    // The stream list FFmpeg prints for an input (it then wants an output).
    let probe = Command::new(FFMPEG)
        .args(["-hide_banner", "-i"])
        .arg(&file)
        .output()
        .expect("run ffmpeg9");
    let streams = String::from_utf8_lossy(&probe.stderr);
    assert!(streams.contains("Data: timed_id3"), "{streams}");
    let data = Command::new(FFMPEG)
        .args(["-v", "error", "-i"])
        .arg(&file)
        .args(["-map", "0:d", "-c", "copy", "-f", "data", "-"])
        .output()
        .expect("run ffmpeg9");
    assert!(
        data.status.success(),
        "{}",
        String::from_utf8_lossy(&data.stderr)
    );
    assert_eq!(data.stdout, tags.concat(), "the tags, whole and in order");
}
