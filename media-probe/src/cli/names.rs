//! Names as ffprobe prints them.

use std::borrow::Cow;
use std::time::Duration;

use flv::{Codec, MediaType};

pub(crate) fn media_name(media: MediaType) -> &'static str {
    match media {
        MediaType::Audio => "audio",
        MediaType::Video => "video",
    }
}

/// FFmpeg's codec name for the codecs FLV carries.
pub(crate) fn codec_name(codec: Codec) -> Cow<'static, str> {
    Cow::Borrowed(match codec {
        Codec::Avc => "h264",
        Codec::Hevc => "hevc",
        Codec::Av1 => "av1",
        Codec::Vp9 => "vp9",
        Codec::Vp8 => "vp8",
        Codec::SorensonH263 => "flv1",
        Codec::ScreenVideo => "flashsv",
        Codec::ScreenVideo2 => "flashsv2",
        Codec::Vp6 => "vp6f",
        Codec::Vp6Alpha => "vp6a",
        Codec::H263 => "h263",
        Codec::Mpeg4Part2 => "mpeg4",
        Codec::Aac => "aac",
        Codec::Mp3 | Codec::Mp3_8k => "mp3",
        Codec::Opus => "opus",
        Codec::Flac => "flac",
        Codec::Ac3 => "ac3",
        Codec::Eac3 => "eac3",
        Codec::Adpcm => "adpcm_swf",
        Codec::PcmPlatformEndian | Codec::PcmLittleEndian => "pcm_s16le",
        Codec::Nellymoser | Codec::Nellymoser8kMono | Codec::Nellymoser16kMono => "nellymoser",
        Codec::G711ALaw => "pcm_alaw",
        Codec::G711MuLaw => "pcm_mulaw",
        Codec::Speex => "speex",
        other => return Cow::Owned(format!("{other:?}").to_lowercase()),
    })
}

/// Milliseconds as ffprobe prints `*_time`: seconds with six decimals.
pub(crate) fn ms_time(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let abs = ms.unsigned_abs();
    format!("{sign}{}.{:03}000", abs / 1000, abs % 1000)
}

/// A duration as seconds with six decimals.
pub(crate) fn seconds(duration: Duration) -> String {
    format!("{}.{:06}", duration.as_secs(), duration.subsec_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_like_ffprobe() {
        assert_eq!(ms_time(67), "0.067000");
        assert_eq!(ms_time(-1033), "-1.033000");
        assert_eq!(ms_time(16_774_200), "16774.200000");
        assert_eq!(seconds(Duration::from_micros(4_000_123)), "4.000123");
    }
}
