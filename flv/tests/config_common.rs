//! Shared by the `config*` test binaries (included with `#[path]`): fixture loading
//! and the view of a parsed record in ffprobe's terms (`-show_streams` field names
//! and spellings). Cargo also builds it alone, as a test binary without tests.

#![allow(dead_code, unreachable_pub, missing_docs)]

use flv::config::{CodecConfig, ConfigKind};

/// The bytes of `tests/data/config/NAME`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/config/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every committed fixture with the record kind it holds.
pub const FIXTURES: &[(&str, ConfigKind)] = &[
    ("avc_high_30fps.bin", ConfigKind::Avc),
    ("avc_baseline_30fps.bin", ConfigKind::Avc),
    ("avc_high_640x360.bin", ConfigKind::Avc),
    ("avc_main_25fps.bin", ConfigKind::Avc),
    ("avc_main_29.97fps.bin", ConfigKind::Avc),
    ("hevc_main_320x240.bin", ConfigKind::Hevc),
    ("av1_main_320x240.bin", ConfigKind::Av1),
    ("vp9_profile0_8bit.bin", ConfigKind::Vp9),
    ("aac_lc_44100_stereo.bin", ConfigKind::Aac),
    ("aac_lc_noext.bin", ConfigKind::Aac),
    ("opus_stereo_48000.bin", ConfigKind::Opus),
    ("flac_stereo_44100_start.bin", ConfigKind::Flac),
    ("flac_stereo_44100_end.bin", ConfigKind::Flac),
];

/// A video stream as `ffprobe -show_streams` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoProbe {
    pub codec_name: String,
    pub profile: String,
    pub level: i64,
    pub width: u32,
    pub height: u32,
    pub pix_fmt: String,
    /// `r_frame_rate`, compared only where the record signals a rate.
    pub r_frame_rate: Option<String>,
}

/// An audio stream as `ffprobe -show_streams` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioProbe {
    pub codec_name: String,
    /// `profile` (`LC`, `HE-AAC`, ...; `unknown` for codecs without profiles).
    pub profile: String,
    pub sample_rate: u32,
    pub channels: u8,
}

fn pix_fmt(chroma_format_idc: u8, bit_depth: u8) -> String {
    let base = match chroma_format_idc {
        0 => "gray",
        1 => "yuv420p",
        2 => "yuv422p",
        _ => "yuv444p",
    };
    if bit_depth == 8 {
        base.to_owned()
    } else if chroma_format_idc == 0 {
        format!("gray{bit_depth}le")
    } else {
        format!("{base}{bit_depth}le")
    }
}

/// FFmpeg's H.264 profile names (libavcodec/profiles.c).
fn avc_profile(idc: u8, compat: u8) -> &'static str {
    match (idc, compat & 0x40 != 0, compat & 0x10 != 0) {
        (66, true, _) => "Constrained Baseline",
        (66, false, _) => "Baseline",
        (77, _, _) => "Main",
        (88, _, _) => "Extended",
        (100, _, _) => "High",
        (110, _, true) => "High 10 Intra",
        (110, _, false) => "High 10",
        (122, _, true) => "High 4:2:2 Intra",
        (122, _, false) => "High 4:2:2",
        (244, _, true) => "High 4:4:4 Intra",
        (244, _, false) => "High 4:4:4 Predictive",
        _ => "unknown",
    }
}

/// The view of a parsed video record in ffprobe's terms.
pub fn video_probe(config: &CodecConfig) -> VideoProbe {
    let info = config.video_info().expect("video record with picture size");
    let rate = info.frame_rate.map(|r| format!("{}/{}", r.num, r.den));
    let (codec_name, profile, level) = match config {
        CodecConfig::Avc(c) => (
            "h264",
            avc_profile(c.profile_idc(), c.profile_compatibility()).to_owned(),
            i64::from(c.level_idc()),
        ),
        CodecConfig::Hevc(c) => (
            "hevc",
            match c.general_profile_idc() {
                1 => "Main",
                2 => "Main 10",
                3 => "Main Still Picture",
                4 => "Rext",
                _ => "unknown",
            }
            .to_owned(),
            i64::from(c.general_level_idc()),
        ),
        CodecConfig::Av1(c) => (
            "av1",
            ["Main", "High", "Professional"]
                .get(usize::from(c.seq_profile()))
                .unwrap_or(&"unknown")
                .to_string(),
            i64::from(c.seq_level_idx_0()),
        ),
        other => panic!("not a video record with a size: {other:?}"),
    };
    VideoProbe {
        codec_name: codec_name.to_owned(),
        profile,
        level,
        width: info.width,
        height: info.height,
        pix_fmt: pix_fmt(info.chroma_format_idc, info.bit_depth_luma),
        r_frame_rate: rate,
    }
}

/// The view of a parsed audio record in ffprobe's terms.
pub fn audio_probe(config: &CodecConfig) -> AudioProbe {
    let (codec_name, profile) = match config {
        CodecConfig::Aac(c) => (
            "aac",
            match (c.codec_string().as_str(), c.base_object_type()) {
                ("mp4a.40.29", _) => "HE-AACv2",
                ("mp4a.40.5", _) => "HE-AAC",
                (_, 1) => "Main",
                (_, 2) => "LC",
                (_, 3) => "SSR",
                (_, 4) => "LTP",
                _ => "unknown",
            },
        ),
        CodecConfig::Opus(_) => ("opus", "unknown"),
        CodecConfig::Flac(_) => ("flac", "unknown"),
        other => panic!("not an audio record: {other:?}"),
    };
    AudioProbe {
        codec_name: codec_name.to_owned(),
        profile: profile.to_owned(),
        sample_rate: config.sample_rate().unwrap_or(0),
        channels: config.channels().unwrap_or(0),
    }
}
