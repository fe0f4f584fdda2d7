//! Nominal frame durations, computed the way `ffprobe` reports `pkt_duration` for
//! FLV input: FLV carries no durations, so FFmpeg derives one from the codec (audio
//! samples per frame over the sample rate) or the frame rate (video), rounded down
//! to the 1 ms time base.

use flv::config::FrameRate;

/// `samples` at `rate` Hz, in whole ms rounded down; `None` for a zero rate.
pub(crate) fn samples_ms(samples: u32, rate: u32) -> Option<i64> {
    (rate > 0).then(|| i64::from(samples) * 1000 / i64::from(rate))
}

/// One frame at `rate`, in whole ms rounded down.
pub(crate) fn frame_ms(rate: FrameRate) -> Option<i64> {
    (rate.num > 0).then(|| i64::from(rate.den) * 1000 / i64::from(rate.num))
}

/// Samples per frame and sample rate from an MPEG audio frame header (MP3, and
/// layers I and II): ISO/IEC 11172-3 2.4.2.3 and ISO/IEC 13818-3 for the
/// lower sample rates ("MPEG 2.5" included).
pub(crate) fn mpeg_audio_frame(data: &[u8]) -> Option<(u32, u32)> {
    let header = u32::from_be_bytes(data.get(..4)?.try_into().ok()?);
    if header >> 21 != 0x7ff {
        return None;
    }
    let version = (header >> 19) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    let layer = (header >> 17) & 3; // 3: layer I, 2: II, 1: III
    let rate_index = (header >> 10) & 3;
    if version == 1 || layer == 0 || rate_index == 3 {
        return None;
    }
    let base = [44_100, 48_000, 32_000][rate_index as usize];
    let rate = match version {
        3 => base,
        2 => base / 2,
        _ => base / 4,
    };
    let samples = match (layer, version) {
        (3, _) => 384,
        (2, _) | (1, 3) => 1152,
        _ => 576,
    };
    Some((samples, rate))
}

/// Samples (at 48 kHz) in an Opus packet, from its TOC byte and frame count code
/// (RFC 6716 3.1).
pub(crate) fn opus_packet_samples(data: &[u8]) -> Option<u32> {
    let toc = *data.first()?;
    let config = u32::from(toc >> 3);
    // Frame sizes in units of 2.5 ms (120 samples at 48 kHz).
    let units = match config {
        0..=11 => [4, 8, 16, 24][(config % 4) as usize],
        12..=15 => [4, 8][(config % 2) as usize],
        _ => [1, 2, 4, 8][(config % 4) as usize],
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => u32::from(*data.get(1)? & 0x3f),
    };
    Some(units * 120 * frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_down_like_ffprobe() {
        // AAC at 44.1 kHz: 23.2 ms -> 23; MP3: 26.1 -> 26; 30 fps: 33.3 -> 33.
        assert_eq!(samples_ms(1024, 44_100), Some(23));
        assert_eq!(samples_ms(1152, 44_100), Some(26));
        assert_eq!(samples_ms(1024, 0), None);
        let ntsc = FrameRate::new(30_000, 1_001).unwrap();
        assert_eq!(frame_ms(ntsc), Some(33));
        assert_eq!(frame_ms(FrameRate::new(25, 1).unwrap()), Some(40));
    }

    #[test]
    fn mpeg_audio_headers() {
        // MPEG-1 layer III, 44.1 kHz (LAME's usual header).
        assert_eq!(
            mpeg_audio_frame(&[0xff, 0xfb, 0x90, 0x64]),
            Some((1152, 44_100))
        );
        // MPEG-2 layer III, 22.05 kHz.
        assert_eq!(
            mpeg_audio_frame(&[0xff, 0xf3, 0x90, 0x64]),
            Some((576, 22_050))
        );
        // MPEG-2.5 layer III, 8 kHz (index 2 of 32 kHz / 4).
        assert_eq!(
            mpeg_audio_frame(&[0xff, 0xe3, 0x88, 0x64]),
            Some((576, 8_000))
        );
        assert_eq!(mpeg_audio_frame(&[0xff, 0xfb, 0x9c, 0x64]), None); // rate index 3
        assert_eq!(mpeg_audio_frame(&[0x12, 0x34, 0x56, 0x78]), None);
        assert_eq!(mpeg_audio_frame(&[0xff]), None);
    }

    #[test]
    fn opus_toc() {
        // CELT 20 ms (config 31), one frame: 960 samples.
        assert_eq!(opus_packet_samples(&[31 << 3]), Some(960));
        // SILK 60 ms (config 3), two frames.
        assert_eq!(opus_packet_samples(&[(3 << 3) | 1]), Some(5760));
        // Code 3 with 3 frames of CELT 2.5 ms (config 16).
        assert_eq!(opus_packet_samples(&[(16 << 3) | 3, 3]), Some(360));
        assert_eq!(opus_packet_samples(&[]), None);
    }
}
