//! HTTP-FLV against FFmpeg 9: while FFmpeg 9 publishes a corpus file in real
//! time, FFmpeg 9 reads `http://HOST/live/KEY.flv` (joining mid-stream) and the
//! packets it reads are the source's, byte for byte, from a key frame to the end.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use live_ingest::Config;

#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn ffmpeg9_reads_http_flv_with_the_source_payloads_from_a_key_frame_on() {
    let (bound, _server) = common::start_server(Config::default());
    let source = common::corpus().join("a_h264high_bf_aac.flv");
    let url = format!("rtmp://{}/live/flv", bound.rtmp);
    let publisher = common::script(
        "client-publish.sh",
        &["ffmpeg9", &url, source.to_str().expect("utf-8 path")],
    );
    // Join after the first GOPs: the reader starts from the cached key frame.
    std::thread::sleep(Duration::from_millis(2500));
    let out = common::scratch("http-flv").join("read.flv");
    let reader = common::Process(
        Command::new(common::ffmpeg9())
            .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
            .arg(format!("http://{}/live/flv.flv", bound.http))
            .args(["-map", "0", "-c", "copy", "-f", "flv"])
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ffmpeg9"),
    );
    let published = publisher.wait(Duration::from_secs(40));
    assert!(published.status.success(), "the publisher failed");
    // The answer ends when the publisher leaves, and FFmpeg with it.
    let read = reader.wait(Duration::from_secs(15));
    assert!(
        read.status.success(),
        "ffmpeg9 reading HTTP-FLV: {}",
        String::from_utf8_lossy(&read.stderr)
    );
    let sent = common::packet_lists(source.to_str().expect("utf-8"));
    let got = common::packet_lists(out.to_str().expect("utf-8"));
    assert_eq!(got.len(), 2, "a video and an audio stream");
    for (index, (sent, got)) in sent.iter().zip(&got).enumerate() {
        let start = sent
            .iter()
            .position(|md5| Some(md5) == got.first())
            .unwrap_or_else(|| panic!("stream {index}: the first packet read is not the source's"));
        assert!(
            got.len() > sent.len() / 3,
            "stream {index}: {} of {} packets",
            got.len(),
            sent.len()
        );
        assert_eq!(
            &sent[start..],
            &got[..],
            "stream {index}: the packets from the join on are the source's"
        );
    }
}
