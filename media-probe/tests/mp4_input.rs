//! Before and after a remux: every corpus FLV (`../shared/peers`) and the
//! MP4 `flv2mp4` makes of it (progressive and fragmented) give the probe the
//! same frames per track: the same count, sizes, payload bytes (compared
//! whole, which is what equal MD5s would show), key flags, timestamps (up to
//! one shift per track, the edit list's, printed) and, from the probe's
//! records, the same picture types.

use std::fs::File;
use std::path::Path;

use flv::{MediaEvent, MediaType, ReadEvent};
use media_probe::mp4::{Mp4Event, Mp4Reader};
use media_probe::{Output, Probe, ProbeConfig};

/// Per track (video, audio): the frames' (dts, pts, key, payload).
type Frames = [Vec<(i64, i64, bool, bytes::Bytes)>; 2];

fn slot(media: MediaType) -> usize {
    usize::from(media == MediaType::Audio)
}

/// The frames and the probe's picture types of a stream of media events.
fn probe(events: impl Iterator<Item = MediaEvent>) -> (Frames, Vec<String>) {
    let mut frames: Frames = Default::default();
    let mut probe = Probe::new(ProbeConfig::default()).unwrap();
    for event in events {
        if let MediaEvent::Frame(f) = &event {
            frames[slot(f.media)].push((f.dts, f.pts, f.key, f.data.clone()));
        }
        probe.push_event(&event, None);
    }
    probe.finish(None);
    let mut records = Vec::new();
    while let Some(output) = probe.poll_output() {
        if let Output::Frame(r) = output {
            records.push(format!(
                "{:?} {} {} {:?}",
                r.media, r.size, r.key, r.pict_type
            ));
        }
    }
    // Decode order per track: the file order interleaves tracks differently.
    records.sort();
    (frames, records)
}

fn flv_events(path: &Path) -> Vec<MediaEvent> {
    let data = bytes::Bytes::from(std::fs::read(path).unwrap());
    let mut out = Vec::new();
    for event in flv::read_all(data) {
        if let Ok(ReadEvent::Tag(tag)) = event {
            out.extend(flv::media_events(&tag).filter_map(Result::ok));
        }
    }
    out
}

fn mp4_events(path: &Path) -> Vec<MediaEvent> {
    let mut reader = Mp4Reader::new(File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    while let Some(event) = reader.next_event() {
        match event.unwrap() {
            Mp4Event::Config(c) => out.push(MediaEvent::Config(c)),
            Mp4Event::Frame(f) => out.push(MediaEvent::Frame(f)),
            _ => {}
        }
    }
    out
}

/// Asserts `got` is `want` (or its beginning): payloads and key flags,
/// and timestamps within 1 ms once moved by one constant. The MP4's times
/// are what its edit list presents, as FFmpeg reads them (`-copyts`): the
/// FLV's moved by one constant per track (the B-frame delay FFmpeg's own
/// mov muxer also takes off); the MP4 holds audio times in samples (the
/// probe gets ms + ns), the FLV rounded ms. Returns the constant. Without
/// `times` (flv2mp4 repaired the timestamps) only payloads are compared.
fn same_frames(
    what: &str,
    got: &[(i64, i64, bool, bytes::Bytes)],
    want: &[(i64, i64, bool, bytes::Bytes)],
    times: bool,
) -> i64 {
    let shift = got.first().map_or(0, |g| g.0 - want[0].0);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.2 == w.2 && g.3 == w.3,
            "{what}: frame {i}: another payload or key flag"
        );
        let near = !times || (g.0 - shift - w.0).abs() <= 1 && (g.1 - shift - w.1).abs() <= 1;
        assert!(
            near,
            "{what}: frame {i}: dts, pts {:?} against {:?}",
            (g.0 - shift, g.1 - shift),
            (w.0, w.1)
        );
    }
    shift
}

#[test]
#[ignore = "needs peers: the corpus (../shared/peers)"]
fn the_probe_sees_the_same_frames_in_the_flv_and_in_its_mp4s() {
    let dir = testkit::scratch("media_probe_mp4");
    let mut inputs: Vec<_> = std::fs::read_dir(testkit::corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "flv"))
        .collect();
    inputs.sort();
    for input in inputs {
        let name = input.file_stem().unwrap().to_string_lossy().into_owned();
        let (want, want_records) = probe(flv_events(&input).into_iter());
        for fragmented in [false, true] {
            let output = dir.join(format!("{name}.{fragmented}.mp4"));
            let mut options = flv2mp4::Options::default();
            options.fragmented = fragmented;
            let report = flv2mp4::convert(&input, &output, &options, &mut |_| {}).unwrap();
            let (got, got_records) = probe(mp4_events(&output).into_iter());
            let what = format!("{name} (fragmented: {fragmented})");
            let refused = report.repairs.iter().any(|r| r.kind == "config_refused");
            if refused {
                // The fragmented file keeps the frames before a resolution
                // change (one sample description per track).
                assert!(got[0].len() < want[0].len(), "{what}");
            } else {
                assert_eq!(got[0].len(), want[0].len(), "{what}: video frames");
            }
            assert_eq!(got[1].len(), want[1].len(), "{what}: audio frames");
            let times = !report
                .repairs
                .iter()
                .any(|r| r.kind.starts_with("timestamp"));
            let shifts = [0, 1].map(|track| same_frames(&what, &got[track], &want[track], times));
            if times && !got[0].is_empty() && !got[1].is_empty() {
                // Both tracks moved together: audio and video stay in sync.
                assert!(
                    (shifts[0] - shifts[1]).abs() <= 1,
                    "{what}: shifts {shifts:?}"
                );
            }
            if refused {
                println!(
                    "{what}: {} of {} video frames (configuration change refused), the audio's",
                    got[0].len(),
                    want[0].len()
                );
                continue;
            }
            assert_eq!(got_records, want_records, "{what}: the probe's records");
            println!(
                "{what}: {} video + {} audio frames, same payloads and picture types, timestamps moved by {} ms (video) and {} ms (audio)",
                got[0].len(), got[1].len(), shifts[0], shifts[1]
            );
        }
    }
}
