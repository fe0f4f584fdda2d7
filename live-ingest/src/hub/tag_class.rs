//! Just enough FLV tag-body reading for a relay: which messages are sequence
//! headers (to cache for late joiners) and which are video keyframes (where a
//! player may start). Legacy and Enhanced RTMP bodies are both understood.

/// What a relay needs to know about one audio or video message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagClass {
    /// Decoder configuration (AVC/HEVC/AV1/VP9 sequence start, AAC AudioSpecificConfig,
    /// Opus/FLAC headers, multichannel configuration): cache it.
    Header,
    /// A video frame a decoder can start on.
    Keyframe,
    /// An inter frame or an audio frame: useless before the decoder has started.
    Frame,
    /// Neither configuration nor a frame (end of sequence, E-RTMP `Metadata` such as
    /// colorInfo, command frames): deliver it whenever it comes, cache nothing.
    Other,
}

// Enhanced RTMP packet types (video ExVideoTagHeader).
const VIDEO_SEQUENCE_START: u8 = 0;
const VIDEO_CODED_FRAMES: u8 = 1;
const VIDEO_CODED_FRAMES_X: u8 = 3;
const VIDEO_MPEG2TS_SEQUENCE_START: u8 = 5;
const VIDEO_MULTITRACK: u8 = 6;
// Enhanced RTMP packet types (audio ExAudioTagHeader).
const AUDIO_SEQUENCE_START: u8 = 0;
const AUDIO_CODED_FRAMES: u8 = 1;
const AUDIO_MULTICHANNEL_CONFIG: u8 = 4;
const AUDIO_MULTITRACK: u8 = 5;
const AUDIO_EX_HEADER: u8 = 9;
const AUDIO_AAC: u8 = 10;
const VIDEO_AVC: u8 = 7;
const VIDEO_HEVC_LEGACY: u8 = 12;

/// Classifies an FLV video tag body (an RTMP video message payload).
pub fn classify_video(body: &[u8]) -> TagClass {
    let Some(&first) = body.first() else {
        return TagClass::Frame;
    };
    if first & 0x80 != 0 {
        // Enhanced RTMP: IsExHeader, 3-bit frame type, 4-bit packet type.
        let frame_type = (first >> 4) & 0x07;
        let mut packet_type = first & 0x0F;
        if packet_type == VIDEO_MULTITRACK {
            // The first track's packet type sits in the low nibble of the next byte.
            packet_type = body.get(1).map_or(0xFF, |b| b & 0x0F);
        }
        return match packet_type {
            VIDEO_SEQUENCE_START | VIDEO_MPEG2TS_SEQUENCE_START => TagClass::Header,
            VIDEO_CODED_FRAMES | VIDEO_CODED_FRAMES_X if frame_type == KEY_FRAME => {
                TagClass::Keyframe
            }
            VIDEO_CODED_FRAMES | VIDEO_CODED_FRAMES_X if frame_type != COMMAND_FRAME => {
                TagClass::Frame
            }
            // SequenceEnd, Metadata (colorInfo), ModEx wrappers, command frames.
            _ => TagClass::Other,
        };
    }
    let frame_type = first >> 4;
    let codec = first & 0x0F;
    if codec == VIDEO_AVC || codec == VIDEO_HEVC_LEGACY {
        match body.get(1) {
            Some(0) => return TagClass::Header,
            Some(2) => return TagClass::Other, // end of sequence
            _ => {}
        }
    }
    match frame_type {
        KEY_FRAME => TagClass::Keyframe,
        COMMAND_FRAME => TagClass::Other,
        _ => TagClass::Frame,
    }
}

const KEY_FRAME: u8 = 1;
const COMMAND_FRAME: u8 = 5;

/// Classifies an FLV audio tag body (an RTMP audio message payload).
pub fn classify_audio(body: &[u8]) -> TagClass {
    let Some(&first) = body.first() else {
        return TagClass::Frame;
    };
    match first >> 4 {
        AUDIO_AAC if body.get(1) == Some(&0) => TagClass::Header,
        AUDIO_EX_HEADER => {
            let mut packet_type = first & 0x0F;
            if packet_type == AUDIO_MULTITRACK {
                packet_type = body.get(1).map_or(0xFF, |b| b & 0x0F);
            }
            match packet_type {
                AUDIO_SEQUENCE_START | AUDIO_MULTICHANNEL_CONFIG => TagClass::Header,
                AUDIO_CODED_FRAMES => TagClass::Frame,
                _ => TagClass::Other, // SequenceEnd, ModEx wrappers
            }
        }
        _ => TagClass::Frame,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_avc() {
        assert_eq!(classify_video(&[0x17, 0x00, 0, 0, 0, 1]), TagClass::Header);
        assert_eq!(classify_video(&[0x17, 0x01, 0, 0, 0]), TagClass::Keyframe);
        assert_eq!(classify_video(&[0x27, 0x01, 0, 0, 0]), TagClass::Frame);
        assert_eq!(classify_video(&[]), TagClass::Frame);
    }

    #[test]
    fn enhanced_video() {
        // 0x90 = ExHeader | keyframe | SequenceStart, then FourCC.
        assert_eq!(classify_video(b"\x90hvc1\x01"), TagClass::Header);
        assert_eq!(classify_video(b"\x91hvc1\x00\x00\x00"), TagClass::Keyframe);
        assert_eq!(classify_video(b"\x93av01"), TagClass::Keyframe); // CodedFramesX
        assert_eq!(classify_video(b"\xA1av01"), TagClass::Frame); // inter frame
        assert_eq!(classify_video(b"\x96\x00hvc1"), TagClass::Header); // multitrack, one track, SequenceStart
                                                                       // What FFmpeg 9 sends after an AV1/HEVC SequenceStart: frame type 5, Metadata (colorInfo).
        assert_eq!(
            classify_video(b"\xD4av01\x02\x00\x09colorInfo"),
            TagClass::Other
        );
        assert_eq!(classify_video(b"\x92hvc1"), TagClass::Other); // SequenceEnd
        assert_eq!(classify_video(&[0x17, 0x02, 0, 0, 0]), TagClass::Other); // AVC end of sequence
    }

    #[test]
    fn audio() {
        assert_eq!(classify_audio(&[0xAF, 0x00, 0x12, 0x10]), TagClass::Header);
        assert_eq!(classify_audio(&[0xAF, 0x01, 0x21]), TagClass::Frame);
        assert_eq!(classify_audio(b"\x90Opus"), TagClass::Header); // Opus SequenceStart (OpusHead)
        assert_eq!(classify_audio(b"\x91Opus"), TagClass::Frame);
        assert_eq!(classify_audio(b"\x94Opus"), TagClass::Header); // multichannel config
        assert_eq!(classify_audio(&[0x2F, 0xFF]), TagClass::Frame); // MP3
    }
}
