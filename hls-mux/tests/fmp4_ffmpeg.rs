//! Interop: our fragmented MP4 decodes in FFmpeg 9 exactly like the FLV it came from.
//!
//! For each corpus file the FLV is read with `flv::FrameReader`, its frames
//! become [`Sample`]s (duration = next dts - dts of the same track; the last
//! sample repeats the previous duration) and are written as one single-file
//! fragmented MP4: the init segment, then fragments of about 2 s cut at video
//! key frames (every audio frame is one in an audio-only file), no `styp`.
//!
//! Two FFmpeg 9 runs compare it with the source:
//!
//! - decoding (`-f framemd5`): the per-stream list of decoded-frame MD5s must
//!   be equal;
//! - stream copy (`-copyts -c copy -f framemd5`): every packet's raw dts and
//!   pts in milliseconds, size and MD5 must be equal, so B-frames keep their
//!   place (no frame shifted early) and audio keeps its time on the 44.1/48 kHz
//!   timescale.
//!
//! FFmpeg must also decode the MP4 without a single warning. Neither file has
//! an edit list, so AAC priming and Opus pre-skip are handled the same way on
//! both sides (by the decoder, from the configuration record), and the first
//! decoded frames match too.
//!
//! Needs `../shared/peers/install.sh` (FFmpeg 9 at /opt/peers/bin/ffmpeg9) and
//! the corpus (`make-corpus.sh /tmp/peers/corpus`, made here when missing).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bytes::Bytes;
use flv::config::CodecConfig;
use flv::{Codec, FrameEvent, FrameReader, MediaEvent, MediaType};
use hls_mux::fmp4::{Fmp4Writer, Sample};
use hls_mux::{MediaKind, Mp3Config, TrackConfig, Tracks};

const FFMPEG9: &str = "/opt/peers/bin/ffmpeg9";
/// About how long each fragment lasts, 90 kHz.
const FRAGMENT: i64 = 2 * 90_000;

fn peers() -> PathBuf {
    std::env::var_os("PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers"))
}

fn ffmpeg9() -> &'static str {
    assert!(
        Path::new(FFMPEG9).exists(),
        "{FFMPEG9} is missing: install the peers with `sudo bash {}/install.sh`",
        peers().display()
    );
    FFMPEG9
}

fn corpus_file(name: &str) -> PathBuf {
    let dir = std::env::var_os("PEERS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/peers/corpus"));
    if !dir.join(name).exists() {
        let script = peers().join("make-corpus.sh");
        assert!(
            script.exists(),
            "{} is missing: the corpus needs ../shared/peers",
            script.display()
        );
        let status = Command::new("bash")
            .arg(&script)
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run make-corpus.sh");
        assert!(status.success(), "make-corpus.sh failed");
    }
    let path = dir.join(name);
    assert!(path.exists(), "{} not in the corpus", path.display());
    path
}

/// The tracks and samples (file order) of an FLV file.
fn read_flv(path: &Path) -> (Tracks, Vec<Sample>) {
    let data = Bytes::from(std::fs::read(path).expect("read the FLV"));
    let mut tracks = Tracks::default();
    let mut samples: Vec<Sample> = Vec::new();
    for event in FrameReader::new(data) {
        match event.expect("corpus FLV reads") {
            FrameEvent::Media(MediaEvent::Config(change)) => {
                let config = match change.parse() {
                    Some(Ok(config)) => config,
                    Some(Err(error)) => panic!("bad config record: {error}"),
                    None => continue,
                };
                let config = match config {
                    CodecConfig::Avc(c) => TrackConfig::Avc(c),
                    CodecConfig::Hevc(c) => TrackConfig::Hevc(c),
                    CodecConfig::Av1(c) => TrackConfig::Av1(c),
                    CodecConfig::Vp9(c) => TrackConfig::Vp9(c),
                    CodecConfig::Aac(c) => TrackConfig::Aac(c),
                    CodecConfig::Opus(c) => TrackConfig::Opus(c),
                    CodecConfig::Flac(c) => TrackConfig::Flac(c),
                    other => panic!("unexpected config {other:?}"),
                };
                // These files have one configuration per track; keep the first.
                let slot = match config.media() {
                    MediaKind::Video => &mut tracks.video,
                    MediaKind::Audio => &mut tracks.audio,
                };
                slot.get_or_insert(config);
            }
            FrameEvent::Media(MediaEvent::Frame(frame)) => {
                let media = match frame.media {
                    MediaType::Video => MediaKind::Video,
                    MediaType::Audio => MediaKind::Audio,
                };
                if frame.codec == Codec::Mp3 && tracks.audio.is_none() {
                    let config = Mp3Config::from_frame(&frame.data).expect("MP3 frame header");
                    tracks.audio = Some(TrackConfig::Mp3(config));
                }
                if tracks.get(media).is_none() {
                    continue; // a frame before its configuration
                }
                samples.push(Sample {
                    media,
                    dts: frame.dts * 90,
                    pts: frame.pts * 90,
                    duration: 0,
                    key: frame.key,
                    data: frame.data,
                });
            }
            _ => {}
        }
    }
    // Durations: to the next sample of the same track; the last repeats the previous.
    for media in [MediaKind::Video, MediaKind::Audio] {
        let indices: Vec<usize> = (0..samples.len())
            .filter(|&i| samples[i].media == media)
            .collect();
        let mut previous = 0;
        for pair in indices.windows(2) {
            let d = samples[pair[1]].dts - samples[pair[0]].dts;
            previous = u32::try_from(d).expect("monotonic dts");
            samples[pair[0]].duration = previous;
        }
        if let Some(&last) = indices.last() {
            samples[last].duration = previous;
        }
    }
    (tracks, samples)
}

/// The init segment and fragments of about 2 s cut at video key frames, each
/// fragment with its duration in seconds (first dts to the next's).
fn write_fragments(tracks: &Tracks, samples: &[Sample]) -> (Bytes, Vec<(Vec<u8>, f64)>) {
    let mut writer = Fmp4Writer::new(tracks).expect("writer");
    let cut_on = if tracks.video.is_some() {
        MediaKind::Video
    } else {
        MediaKind::Audio
    };
    let mut fragments = Vec::new();
    let mut start = 0;
    for i in 1..=samples.len() {
        let cut = match samples.get(i) {
            None => true,
            Some(s) => s.media == cut_on && s.key && s.dts - samples[start].dts >= FRAGMENT,
        };
        if cut {
            let mut out = Vec::new();
            let sequence = fragments.len() as u32 + 1;
            let written = writer
                .fragment(sequence, &samples[start..i], &mut out)
                .expect("fragment");
            assert_eq!(out.iter().map(Bytes::len).sum::<usize>(), written);
            let end = samples.get(i).map_or_else(
                || {
                    let last = &samples[i - 1];
                    last.dts + i64::from(last.duration)
                },
                |s| s.dts,
            );
            let seconds = (end - samples[start].dts) as f64 / 90_000.0;
            fragments.push((out.concat(), seconds));
            start = i;
        }
    }
    (writer.init_segment(), fragments)
}

/// A VOD HLS playlist over `init.mp4` and `segN.m4s` (styp + fragment), in `dir`.
fn write_hls(dir: &Path, init: &[u8], styp: &[u8], fragments: &[(Vec<u8>, f64)]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("init.mp4"), init).unwrap();
    let target = fragments
        .iter()
        .map(|f| f.1.ceil() as u64)
        .max()
        .unwrap_or(1);
    let mut m3u8 = format!(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:{target}\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"init.mp4\"\n"
    );
    for (n, (fragment, seconds)) in fragments.iter().enumerate() {
        std::fs::write(dir.join(format!("seg{n}.m4s")), [styp, fragment].concat()).unwrap();
        m3u8.push_str(&format!("#EXTINF:{seconds:.3},\nseg{n}.m4s\n"));
    }
    m3u8.push_str("#EXT-X-ENDLIST\n");
    let path = dir.join("index.m3u8");
    std::fs::write(&path, m3u8).unwrap();
    path
}

/// `ffmpeg9 [-copyts] -i INPUT -map 0:v? -map 0:a? [-c copy] -f framemd5 -`:
/// the framemd5 text and FFmpeg's warnings.
fn run_framemd5(input: &Path, copy: bool) -> (String, String) {
    let mut command = Command::new(ffmpeg9());
    command.args(["-hide_banner", "-loglevel", "warning"]);
    if copy {
        // Raw timestamps, not shifted to start at zero.
        command.arg("-copyts");
    }
    command
        .arg("-i")
        .arg(input)
        .args(["-map", "0:v?", "-map", "0:a?"]);
    if copy {
        command.args(["-c", "copy"]);
    }
    let output = command
        .args(["-f", "framemd5", "-"])
        .output()
        .expect("run ffmpeg9");
    assert!(
        output.status.success(),
        "ffmpeg9 failed on {}: {}",
        input.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    (
        String::from_utf8(output.stdout).expect("framemd5 is text"),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Per stream: the time base (from `#tb N: a/b`) and the packet lines
/// `(dts, pts, duration, size, hash)`.
type Streams = BTreeMap<usize, ((i64, i64), Vec<(i64, i64, i64, usize, String)>)>;

fn parse_framemd5(text: &str) -> Streams {
    let mut streams = Streams::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#tb ") {
            let (index, tb) = rest.split_once(": ").expect("tb line");
            let (num, den) = tb.split_once('/').expect("tb fraction");
            streams.entry(index.parse().unwrap()).or_default().0 =
                (num.parse().unwrap(), den.parse().unwrap());
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        assert_eq!(f.len(), 6, "framemd5 line {line}");
        streams.entry(f[0].parse().unwrap()).or_default().1.push((
            f[1].parse().unwrap(),
            f[2].parse().unwrap(),
            f[3].parse().unwrap(),
            f[4].parse().unwrap(),
            f[5].to_owned(),
        ));
    }
    streams
}

/// `t` in time base `tb`, in milliseconds (rounded to nearest).
fn ms(t: i64, (num, den): (i64, i64)) -> i64 {
    let scaled = i128::from(t) * i128::from(num) * 1000;
    let den = i128::from(den);
    ((2 * scaled + den).div_euclid(2 * den)) as i64
}

fn check(name: &str) {
    let flv = corpus_file(&format!("{name}.flv"));
    let (tracks, samples) = read_flv(&flv);
    assert!(!samples.is_empty());
    let (init, fragments) = write_fragments(&tracks, &samples);
    assert!(
        fragments.len() >= 2,
        "{name}: {} fragments",
        fragments.len()
    );
    // Single-file fragmented MP4: init segment then fragments, no styp.
    let mut mp4 = init.to_vec();
    for (fragment, _) in &fragments {
        mp4.extend_from_slice(fragment);
    }
    let dir = std::env::temp_dir().join("hls-mux-fmp4-ffmpeg");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{name}.mp4"));
    std::fs::write(&out, &mp4).unwrap();
    let styp = Fmp4Writer::new(&tracks).unwrap().styp();
    let playlist = write_hls(&dir.join(name), &init, &styp, &fragments);

    // Decoding: the same decoded frames, stream by stream.
    let theirs = parse_framemd5(&run_framemd5(&flv, false).0);
    let (ours, warnings) = run_framemd5(&out, false);
    assert!(warnings.is_empty(), "{name}: FFmpeg warns:\n{warnings}");
    let ours = parse_framemd5(&ours);
    same_decoded_frames(name, "mp4", &theirs, &ours);
    // The same fragments as HLS segments (styp + fragment) through FFmpeg's
    // HLS demuxer.
    let (hls, warnings) = run_framemd5(&playlist, false);
    assert!(
        warnings.is_empty(),
        "{name}: FFmpeg warns on HLS:\n{warnings}"
    );
    same_decoded_frames(name, "HLS", &theirs, &parse_framemd5(&hls));

    // Stream copy: the same packets at the same times (ms), B-frames in place.
    let theirs = parse_framemd5(&run_framemd5(&flv, true).0);
    let ours = parse_framemd5(&run_framemd5(&out, true).0);
    for (index, (tb, packets)) in &theirs {
        let (our_tb, our_packets) = &ours[index];
        let view = |tb: (i64, i64), p: &[(i64, i64, i64, usize, String)]| {
            p.iter()
                .map(|l| (ms(l.0, tb), ms(l.1, tb), l.3, l.4.clone()))
                .collect::<Vec<_>>()
        };
        let (want, got) = (view(*tb, packets), view(*our_tb, our_packets));
        assert_eq!(want.len(), got.len(), "{name}: stream {index} packet count");
        if let Some(i) = want.iter().zip(&got).position(|(a, b)| a != b) {
            panic!(
                "{name}: stream {index} packet {i} differs: flv {:?}, mp4 {:?}",
                want[i], got[i]
            );
        }
    }
    println!(
        "{name}: {} samples in {} fragments, {} bytes; decoded frames (mp4 and HLS) and packet times equal",
        samples.len(),
        fragments.len(),
        mp4.len()
    );
}

fn same_decoded_frames(name: &str, what: &str, theirs: &Streams, ours: &Streams) {
    assert_eq!(
        theirs.keys().collect::<Vec<_>>(),
        ours.keys().collect::<Vec<_>>(),
        "{name} ({what}): streams"
    );
    for (index, (_, frames)) in theirs {
        let hashes = |f: &[(i64, i64, i64, usize, String)]| {
            f.iter().map(|l| l.4.clone()).collect::<Vec<_>>()
        };
        let (want, got) = (hashes(frames), hashes(&ours[index].1));
        assert!(!want.is_empty(), "{name}: stream {index} decoded nothing");
        assert_eq!(
            want.len(),
            got.len(),
            "{name} ({what}): stream {index} decoded frame count"
        );
        assert!(
            want == got,
            "{name} ({what}): stream {index} decoded frames differ (first at {:?})",
            want.iter().zip(&got).position(|(a, b)| a != b)
        );
    }
}

macro_rules! corpus_tests {
    ($($test:ident => $file:literal,)*) => {$(
        #[test]
        #[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
        fn $test() {
            check($file);
        }
    )*};
}

corpus_tests! {
    h264_b_frames_aac => "a_h264high_bf_aac",
    h264_mp3 => "b_h264base_mp3",
    aac_only => "c_aac_only",
    h264_only => "d_h264_only",
    hevc_aac => "e_hevc_aac",
    av1_aac => "f_av1_aac",
    h264_opus => "g_h264_opus",
}
