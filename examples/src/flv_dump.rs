//! The `flv_dump` example: what an FLV file holds, tag by tag or frame by frame.
//!
//! - [`framemd5`]: one [`FrameLine`] per audio/video frame in file order,
//!   `video|audio, dts, pts, size, md5` with the MD5 of the payload as
//!   FFmpeg hands it out as packet data, so the lines can be compared with
//!   FFmpeg's `-f framemd5` (its stream, dts, pts, size and hash columns).
//! - [`listing`]: a readable per-tag listing (offset, type, timestamp, size,
//!   codec, packet type, key, composition time, track).
//!
//! Built only from `flv`'s public API ([`flv::FrameReader`], [`flv::read_all`],
//! [`flv::tag`]).

use std::fmt;
use std::io::{self, Write};

use bytes::Bytes;
use flv::tag::{AudioPacketType, AudioTag, ScriptData, VideoPacketType, VideoTag};
use flv::{FrameEvent, FrameReader, MediaEvent, MediaType, ReadEvent, TagType};
use md5::Digest as _;

/// One audio or video frame, as `flv_dump --framemd5` prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameLine {
    /// Audio or video.
    pub media: MediaType,
    /// The Enhanced RTMP track id (0 unless multitrack).
    pub track: u8,
    /// Decoding timestamp, ms (the file's, on the 64-bit timeline).
    pub dts: i64,
    /// Presentation timestamp, ms.
    pub pts: i64,
    /// Payload size, bytes.
    pub size: usize,
    /// MD5 of the payload, lowercase hex.
    pub md5: String,
    /// A key frame (not printed; FFmpeg's stream copy starts a video stream
    /// at its first key frame).
    pub key: bool,
}

impl fmt::Display for FrameLine {
    /// `video, 0, 67, 4555, b0ce53bf...`; a track other than 0 is appended to
    /// the media type (`video.1`), which FFmpeg shows as a stream of its own.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let media = match self.media {
            MediaType::Video => "video",
            MediaType::Audio => "audio",
        };
        if self.track != 0 {
            write!(f, "{media}.{}", self.track)?;
        } else {
            f.write_str(media)?;
        }
        write!(
            f,
            ", {}, {}, {}, {}",
            self.dts, self.pts, self.size, self.md5
        )
    }
}

/// Every audio and video frame of a whole FLV file, in file order.
///
/// Stops at the first error (a broken file structure or tag body), which it
/// returns with the lines before it.
pub fn framemd5(data: Bytes) -> (Vec<FrameLine>, Option<flv::Error>) {
    let mut lines = Vec::new();
    for event in FrameReader::new(data) {
        match event {
            Ok(FrameEvent::Media(MediaEvent::Frame(frame))) => lines.push(FrameLine {
                media: frame.media,
                track: frame.track,
                dts: frame.dts,
                pts: frame.pts,
                size: frame.data.len(),
                md5: format!("{:x}", md5::Md5::digest(&frame.data)),
                key: frame.key,
            }),
            Ok(_) => {}
            Err(error) => return (lines, Some(error)),
        }
    }
    (lines, None)
}

/// Writes the readable per-tag listing of a whole FLV file to `out`: the
/// header, then one line per tag (and one per further track of a multitrack
/// tag). A tag body that does not parse is listed with its error; a broken
/// file structure ends the listing with the error.
pub fn listing(data: Bytes, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{:>10}  {:6}  {:>10}  {:>8}  {:8}  {:22}  {:3}  {:>6}  {:>5}",
        "offset", "type", "timestamp", "size", "codec", "packet", "key", "cts", "track"
    )?;
    for event in flv::read_all(data) {
        let tag = match event {
            Ok(ReadEvent::Header(h)) => {
                writeln!(
                    out,
                    "{:>10}  header  version {}, flags {:#04x} (audio {}, video {}), data offset {}",
                    0, h.version, h.flags, h.has_audio, h.has_video, h.data_offset
                )?;
                continue;
            }
            Ok(ReadEvent::Tag(tag)) => tag,
            Ok(ReadEvent::Skipped { offset, len, .. }) => {
                writeln!(out, "{offset:>10}  skipped {len} bytes")?;
                continue;
            }
            Ok(_) => continue,
            Err(error) => {
                writeln!(out, "error: {error}")?;
                break;
            }
        };
        let kind = match tag.tag_type {
            TagType::Audio => "audio",
            TagType::Video => "video",
            TagType::Script => "script",
            TagType::Other(_) => "other",
        };
        let head = format!(
            "{:>10}  {:6}  {:>10}  {:>8}",
            tag.offset,
            kind,
            tag.timestamp,
            tag.body.len()
        );
        if tag.encrypted {
            writeln!(out, "{head}  encrypted")?;
            continue;
        }
        match tag.tag_type {
            TagType::Video => match VideoTag::parse(&tag.body) {
                Ok(video) => {
                    let key = video.frame_type == flv::tag::VideoFrameType::Key;
                    let packet = video_packet(video.packet_type, video.enhanced);
                    let mut first = true;
                    for track in video.tracks() {
                        let prefix = if first { head.as_str() } else { "" };
                        first = false;
                        match track {
                            Ok(t) => writeln!(
                                out,
                                "{prefix:<40}  {:8}  {:22}  {:3}  {:>6}  {:>5}",
                                codec_name(t.codec),
                                packet,
                                if key { "key" } else { "" },
                                t.composition_time,
                                t.track_id
                            )?,
                            Err(error) => writeln!(out, "{prefix:<40}  error: {error}")?,
                        }
                    }
                    if first {
                        // A command frame or an unknown packet type: no track.
                        let command = video.command.map(|c| format!(" {c:?}")).unwrap_or_default();
                        writeln!(out, "{head}  {:8}  {packet}{command}", "-")?;
                    }
                }
                Err(error) => writeln!(out, "{head}  error: {error}")?,
            },
            TagType::Audio => match AudioTag::parse(&tag.body) {
                Ok(audio) => {
                    let packet = audio_packet(audio.packet_type, audio.enhanced);
                    let mut first = true;
                    for track in audio.tracks() {
                        let prefix = if first { head.as_str() } else { "" };
                        first = false;
                        match track {
                            Ok(t) => writeln!(
                                out,
                                "{prefix:<40}  {:8}  {:22}  {:3}  {:>6}  {:>5}",
                                codec_name(t.codec),
                                packet,
                                "",
                                "",
                                t.track_id
                            )?,
                            Err(error) => writeln!(out, "{prefix:<40}  error: {error}")?,
                        }
                    }
                    if first {
                        writeln!(out, "{head}  {:8}  {packet}", codec_name(audio.codec))?;
                    }
                }
                Err(error) => writeln!(out, "{head}  error: {error}")?,
            },
            TagType::Script => match ScriptData::parse(&tag.body) {
                Ok(script) => writeln!(
                    out,
                    "{head}  {} ({} values)",
                    script.name.to_string_lossy(),
                    script.values.len()
                )?,
                Err(error) => writeln!(out, "{head}  error: {error}")?,
            },
            TagType::Other(n) => writeln!(out, "{head}  tag type {n}")?,
        }
    }
    Ok(())
}

fn codec_name(codec: flv::Codec) -> String {
    match codec.fourcc() {
        Some(fourcc) => fourcc.to_string(),
        None => format!("{codec:?}"),
    }
}

fn video_packet(packet: VideoPacketType, enhanced: bool) -> String {
    let name = match packet {
        VideoPacketType::SequenceStart => "SequenceStart",
        VideoPacketType::CodedFrames => "CodedFrames",
        VideoPacketType::SequenceEnd => "SequenceEnd",
        VideoPacketType::CodedFramesX => "CodedFramesX",
        VideoPacketType::Metadata => "Metadata",
        VideoPacketType::Mpeg2TsSequenceStart => "MPEG2TSSequenceStart",
        VideoPacketType::Command => "Command",
        VideoPacketType::Other(n) => return format!("packet type {n}"),
    };
    form(name, enhanced)
}

fn audio_packet(packet: AudioPacketType, enhanced: bool) -> String {
    let name = match packet {
        AudioPacketType::SequenceStart => "SequenceStart",
        AudioPacketType::CodedFrames => "CodedFrames",
        AudioPacketType::SequenceEnd => "SequenceEnd",
        AudioPacketType::MultichannelConfig => "MultichannelConfig",
        AudioPacketType::Other(n) => return format!("packet type {n}"),
    };
    form(name, enhanced)
}

/// Enhanced RTMP packet types are marked `+` (`CodedFrames+`), legacy ones not.
fn form(name: &str, enhanced: bool) -> String {
    if enhanced {
        format!("{name}+")
    } else {
        name.to_string()
    }
}

/// The command line: `flv_dump [--framemd5] FILE.flv`. Returns the exit code.
pub fn main_with_args(args: &[String], out: &mut impl Write, err: &mut impl Write) -> i32 {
    let (framemd5_mode, file) = match args {
        [flag, file] if flag == "--framemd5" => (true, file),
        [file] if !file.starts_with("--") => (false, file),
        _ => {
            let _ = writeln!(err, "usage: flv_dump [--framemd5] FILE.flv");
            return 2;
        }
    };
    let data = match std::fs::read(file) {
        Ok(data) => Bytes::from(data),
        Err(e) => {
            let _ = writeln!(err, "flv_dump: {file}: {e}");
            return 1;
        }
    };
    if !framemd5_mode {
        return match listing(data, out) {
            Ok(()) => 0,
            Err(e) => {
                let _ = writeln!(err, "flv_dump: {e}");
                1
            }
        };
    }
    let (lines, error) = framemd5(data);
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            return 1;
        }
    }
    match error {
        Some(error) => {
            let _ = writeln!(err, "flv_dump: {file}: {error}");
            1
        }
        None => 0,
    }
}
