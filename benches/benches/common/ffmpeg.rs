//! FFmpeg 9 as the oracle of what a file holds: its packets as
//! `-copyts -c copy -f framemd5` lists them, times converted to milliseconds.

use std::path::Path;

/// One packet as FFmpeg reads it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Packet {
    /// A video stream's packet (else audio).
    pub(crate) video: bool,
    /// Decode time, milliseconds (rounded from the stream's time base).
    pub(crate) dts: i64,
    /// Presentation time, milliseconds.
    pub(crate) pts: i64,
    /// Payload size, bytes.
    pub(crate) len: usize,
    /// Payload MD5.
    pub(crate) md5: [u8; 16],
}

/// FFmpeg 9's packets of every stream of `path`, in its output order, or why not.
pub(crate) fn packets(path: &Path) -> Result<Vec<Packet>, String> {
    let bin = std::env::var_os("FFMPEG9").unwrap_or_else(|| "/opt/peers/bin/ffmpeg9".into());
    let out = std::process::Command::new(&bin)
        .args(["-v", "error", "-copyts", "-i"])
        .arg(path)
        .args(["-map", "0", "-c", "copy", "-f", "framemd5", "-"])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.to_string_lossy()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            bin.to_string_lossy(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// Parses framemd5 text: `#tb N: A/B` and `#media_type N: video` headers,
/// then `stream, dts, pts, duration, size, md5` lines.
fn parse(text: &str) -> Result<Vec<Packet>, String> {
    let mut video_streams = Vec::new();
    let mut time_bases: Vec<(String, i64, i64)> = Vec::new();
    let mut packets = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#media_type ") {
            if let Some((idx, kind)) = rest.split_once(':') {
                if kind.trim() == "video" {
                    video_streams.push(idx.trim().to_owned());
                }
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("#tb ") {
            let parsed = rest.split_once(':').and_then(|(idx, tb)| {
                let (num, den) = tb.trim().split_once('/')?;
                Some((idx.trim().to_owned(), num.parse().ok()?, den.parse().ok()?))
            });
            time_bases.push(parsed.ok_or_else(|| format!("bad time base: {line}"))?);
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        // A packet with side data has more fields after these six.
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let Some(&[stream, dts, pts, _duration, size, hash]) = f.get(..6) else {
            return Err(format!("unexpected framemd5 line: {line}"));
        };
        let (_, num, den) = time_bases
            .iter()
            .find(|(idx, _, _)| idx == stream)
            .ok_or_else(|| format!("no time base for stream {stream}"))?;
        let ms = |s: &str| -> Result<i64, String> {
            let t: i64 = s.parse().map_err(|e| format!("{e} in: {line}"))?;
            // Round to the nearest millisecond.
            let scaled = i128::from(t) * i128::from(*num) * 1000;
            let den = i128::from(*den);
            Ok(((2 * scaled + den.signum() * den) / (2 * den)) as i64)
        };
        let mut md5 = [0u8; 16];
        for (k, b) in md5.iter_mut().enumerate() {
            *b = hash
                .get(2 * k..2 * k + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad md5 in: {line}"))?;
        }
        packets.push(Packet {
            video: video_streams.iter().any(|s| s == stream),
            dts: ms(dts)?,
            pts: ms(pts)?,
            len: size.parse().map_err(|e| format!("{e} in: {line}"))?,
            md5,
        });
    }
    Ok(packets)
}
