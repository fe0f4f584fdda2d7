//! The MPEG-TS writer (ISO/IEC 13818-1): frames in, 188-byte transport
//! packets out, for HLS segments.
//!
//! [`TsWriter`] maps each track to an elementary stream of one program:
//!
//! | codec | stream type | PID | stream id | payload |
//! |---|---|---|---|---|
//! | H.264 | 0x1B | 0x100 | 0xE0 | Annex B, AUD first, SPS/PPS before key frames |
//! | HEVC | 0x24 | 0x100 | 0xE0 | Annex B, AUD first, VPS/SPS/PPS before key frames |
//! | AAC | 0x0F | 0x101 | 0xC0 | ADTS |
//! | MP3 | 0x03 (MPEG-1) / 0x04 (MPEG-2, 2.5) | 0x101 | 0xC0 | as is |
//! | Opus | 0x06 + `Opus` registration | 0x101 | 0xBD | ETSI TS 102 366 control header + packet |
//! | ID3 timed metadata ([`TsWriter::with_timed_metadata`]) | 0x15 + `ID3 ` metadata descriptor | 0x102 | 0xBD | an ID3v2 tag, PTS only |
//!
//! The PMT is on PID 0x1000 (FFmpeg's layout) and lists only the tracks
//! present. AV1, VP9 and FLAC have no mapping here: use fMP4 for them.
//!
//! Timing: PTS/DTS are the frames' 90 kHz timestamps taken modulo 2^33. The
//! PCR is on the video PID (the audio PID without video), on every frame of
//! that PID and, when the other track's frames run more than 40 ms ahead of
//! it, in PCR-only packets: so at least every 100 ms as long as frames come
//! that often. Its value is the frame's DTS minus 0.7 s (FFmpeg's default
//! `max_delay`), never going back by less than a second (a jitter of
//! interleaving, held) and never below 0 for a non-negative DTS.
//!
//! Everything is sans-IO: the writer appends to a [`BytesMut`] it is given.

mod adts;
mod annexb;
mod error;
mod gather;
mod packet;
mod pes;
mod psi;

use bytes::BytesMut;

pub use error::TsError;
pub(crate) use psi::crc32;

use crate::{Frame, MediaKind, TrackConfig, Tracks};
use adts::Adts;
use annexb::{AnnexB, NalSyntax};
use gather::{Owners, Piece};
use packet::FirstPacket;
use psi::EsInfo;

/// PID of the video elementary stream (FFmpeg's first stream).
pub const VIDEO_PID: u16 = 0x100;
/// PID of the audio elementary stream.
pub const AUDIO_PID: u16 = 0x101;
/// The PID of the ID3 timed metadata stream (Apple's layout).
pub const METADATA_PID: u16 = 0x102;

/// The `metadata_descriptor` of an ID3 stream (ISO/IEC 13818-1 2.6.60):
/// application format and format both `ID3 `, service 0, no decoder config.
const ID3_DESCRIPTOR: [u8; 15] = [
    0x26, 13, 0xFF, 0xFF, b'I', b'D', b'3', b' ', 0xFF, b'I', b'D', b'3', b' ', 0x00, 0x0F,
];
/// PID of the program map table.
pub const PMT_PID: u16 = psi::PMT_PID;

/// How far the PCR runs behind the DTS: 0.7 s, FFmpeg's default `max_delay`.
const PCR_DELAY: i64 = 63_000;
/// A PCR-only packet goes out when the PCR would otherwise be this stale.
const PCR_REFRESH: i64 = 3_600;
/// A PCR step back larger than this is a new timeline, not jitter.
const PCR_RESET: i64 = 90_000;

/// How one track's frames become PES payloads.
#[derive(Clone, Debug)]
enum Payload {
    /// H.264 or HEVC to Annex B.
    Video(AnnexB),
    /// Raw AAC behind an ADTS header.
    Aac(Adts),
    /// MP3 as is.
    Mp3,
    /// Opus behind the TS control header.
    Opus {
        /// Pre-skip samples (48 kHz) still to trim at the start of the stream.
        trim_left: u16,
    },
}

/// One elementary stream.
#[derive(Clone, Debug)]
struct Stream {
    pid: u16,
    stream_id: u8,
    payload: Payload,
    /// The last continuity counter used (15 before the first packet).
    cc: u8,
}

/// Writes one program of MPEG-TS: PAT/PMT at each segment start, each frame
/// as one PES packet.
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use hls_mux::{ts::TsWriter, Frame, MediaKind, Mp3Config, TrackConfig, Tracks};
///
/// let mp3 = [0xff, 0xfb, 0x90, 0x64];
/// let tracks = Tracks {
///     video: None,
///     audio: Some(TrackConfig::Mp3(Mp3Config::from_frame(&mp3).unwrap())),
/// };
/// let mut writer = TsWriter::new(&tracks)?;
/// let mut out = BytesMut::new();
/// writer.begin_segment(&mut out);
/// let frame = Frame {
///     media: MediaKind::Audio,
///     dts: 0,
///     pts: 0,
///     key: true,
///     data: Bytes::from_static(&[0xff, 0xfb, 0x90, 0x64, 0, 0, 0, 0]),
/// };
/// writer.write_frame(&frame, &mut out)?;
/// assert_eq!(out.len(), 3 * 188); // PAT, PMT, one PES packet
/// # Ok::<(), hls_mux::ts::TsError>(())
/// ```
#[derive(Clone, Debug)]
pub struct TsWriter {
    video: Option<Stream>,
    audio: Option<Stream>,
    /// Which stream carries the PCR.
    pcr_media: MediaKind,
    pat: Vec<u8>,
    pmt: Vec<u8>,
    pat_cc: u8,
    pmt_cc: u8,
    /// The last PCR written, on the frames' (unwrapped) timeline.
    last_pcr: Option<i64>,
    /// A segment began and has no PCR yet.
    pcr_due: bool,
    /// The PES packet being built, as pieces (kept to reuse the allocation).
    pieces: Vec<Piece>,
    /// Bytes the pieces point into that are neither the frame's nor the
    /// configuration's: the PES, ADTS and Opus headers.
    local: Vec<u8>,
    /// The continuity counter of the ID3 stream, when there is one.
    metadata_cc: Option<u8>,
}

fn codec_name(config: &TrackConfig) -> &'static str {
    match config {
        TrackConfig::Avc(_) => "H.264",
        TrackConfig::Hevc(_) => "HEVC",
        TrackConfig::Av1(_) => "AV1",
        TrackConfig::Vp9(_) => "VP9",
        TrackConfig::Aac(_) => "AAC",
        TrackConfig::Mp3(_) => "MP3",
        TrackConfig::Opus(_) => "Opus",
        TrackConfig::Flac(_) => "FLAC",
    }
}

/// Stream type, PES stream id, PMT descriptors and payload mapping of a track.
fn map_track(config: &TrackConfig) -> Result<(u8, u8, Vec<u8>, Payload), TsError> {
    Ok(match config {
        TrackConfig::Avc(c) => {
            let sets = c.sps().iter().chain(c.pps());
            let annexb = AnnexB::new(NalSyntax::Avc, "H.264", c.nal_length_size(), sets)?;
            (0x1B, 0xE0, vec![], Payload::Video(annexb))
        }
        TrackConfig::Hevc(c) => {
            let sets = c
                .nal_units(32)
                .chain(c.nal_units(33))
                .chain(c.nal_units(34));
            let annexb = AnnexB::new(NalSyntax::Hevc, "HEVC", c.nal_length_size(), sets)?;
            (0x24, 0xE0, vec![], Payload::Video(annexb))
        }
        TrackConfig::Aac(c) => (0x0F, 0xC0, vec![], Payload::Aac(Adts::new(c)?)),
        TrackConfig::Mp3(c) => {
            let stream_type = if c.mpeg_version == 1 { 0x03 } else { 0x04 };
            (stream_type, 0xC0, vec![], Payload::Mp3)
        }
        TrackConfig::Opus(head) => {
            let code = opus_channel_config_code(head)?;
            let descriptors = vec![
                // registration_descriptor, format_identifier 'Opus'.
                0x05, 4, b'O', b'p', b'u', b's',
                // DVB extension_descriptor, tag 0x80: Opus channel_config_code.
                0x7F, 2, 0x80, code,
            ];
            let trim_left = head.pre_skip;
            (0x06, 0xBD, descriptors, Payload::Opus { trim_left })
        }
        other => {
            return Err(TsError::NoMapping {
                codec: codec_name(other),
            })
        }
    })
}

/// The `channel_config_code` of ETSI TS 102 366 Annex I for an OpusHead:
/// 1 or 2 for family 0, 1 to 8 for family 1 with the Vorbis order and
/// stream layout of RFC 7845 5.1.1.2 (what libopus' surround encoder
/// writes), 0x80 | n for family 1 with n uncoupled streams in order.
fn opus_channel_config_code(head: &flv::config::OpusHead) -> Result<u8, TsError> {
    /// Coupled streams of the family-1 layouts, by channel count.
    const COUPLED: [u8; 9] = [0, 0, 1, 1, 2, 2, 2, 3, 3];
    /// Vorbis channel order mappings, by channel count.
    const VORBIS: [&[u8]; 9] = [
        &[],
        &[0],
        &[0, 1],
        &[0, 2, 1],
        &[0, 1, 2, 3],
        &[0, 4, 1, 2, 3],
        &[0, 4, 1, 2, 3, 5],
        &[0, 4, 1, 2, 3, 5, 6],
        &[0, 6, 1, 2, 3, 4, 5, 7],
    ];
    let channels = head.channel_count;
    let unsupported = |reason: String| TsError::UnsupportedConfig {
        codec: "Opus",
        reason,
    };
    match (head.mapping_family, &head.mapping) {
        (0, _) if (1..=2).contains(&channels) => Ok(channels),
        (1, Some(m)) if (1..=8).contains(&channels) => {
            let n = usize::from(channels);
            if m.stream_count == channels - COUPLED[n]
                && m.coupled_count == COUPLED[n]
                && m.mapping == VORBIS[n]
            {
                Ok(channels)
            } else if channels >= 2
                && m.stream_count == channels
                && m.coupled_count == 0
                && m.mapping.iter().copied().eq(0..channels)
            {
                Ok(0x80 | channels)
            } else {
                Err(unsupported(format!(
                    "the {channels}-channel family 1 mapping has no channel configuration code \
                     (only the Vorbis layouts and uncoupled streams in order do)"
                )))
            }
        }
        (family, _) => Err(unsupported(format!(
            "channel mapping family {family} with {channels} channels has no channel \
             configuration code"
        ))),
    }
}

/// Samples (at 48 kHz) in an Opus packet, from its TOC byte (RFC 6716
/// 3.1); 0 when the packet is too short to say.
fn opus_samples(packet: &[u8]) -> u16 {
    let Some(&toc) = packet.first() else {
        return 0;
    };
    let config = toc >> 3;
    let per_frame: u16 = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config & 3)],
        12..=15 => [480, 960][usize::from(config & 1)],
        _ => [120, 240, 480, 960][usize::from(config & 3)],
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => packet.get(1).map_or(0, |&b| u16::from(b & 0x3F)),
    };
    // At most 48 frames of 2880 samples: no overflow in u32, capped at the
    // 13-bit start_trim field.
    (u32::from(per_frame) * u32::from(frames)).min(0x1FFF) as u16
}

impl TsWriter {
    /// A writer for `tracks`.
    ///
    /// Fails when there is no track, a track is in the wrong slot, a codec
    /// has no MPEG-TS mapping here (AV1, VP9, FLAC), or its configuration
    /// cannot be expressed (see [`TsError::UnsupportedConfig`]).
    pub fn new(tracks: &Tracks) -> Result<TsWriter, TsError> {
        TsWriter::with_timed_metadata(tracks, false)
    }

    /// [`TsWriter::new`], with an ID3 timed metadata stream declared in the
    /// PMT when `metadata` is on (stream type 0x15 on [`METADATA_PID`], as
    /// Apple's encoders write it; hls.js and FFmpeg read it), for
    /// [`write_metadata`](TsWriter::write_metadata).
    pub fn with_timed_metadata(tracks: &Tracks, metadata: bool) -> Result<TsWriter, TsError> {
        let mut es = Vec::new();
        let mut make = |slot: MediaKind, pid: u16| -> Result<Option<Stream>, TsError> {
            let Some(config) = tracks.get(slot) else {
                return Ok(None);
            };
            if config.media() != slot {
                return Err(TsError::WrongTrackKind {
                    slot,
                    codec: codec_name(config),
                });
            }
            let (stream_type, stream_id, descriptors, payload) = map_track(config)?;
            es.push(EsInfo {
                stream_type,
                pid,
                descriptors,
            });
            Ok(Some(Stream {
                pid,
                stream_id,
                payload,
                cc: 15,
            }))
        };
        let video = make(MediaKind::Video, VIDEO_PID)?;
        let audio = make(MediaKind::Audio, AUDIO_PID)?;
        let (pcr_media, pcr_pid) = match (&video, &audio) {
            (Some(v), _) => (MediaKind::Video, v.pid),
            (None, Some(a)) => (MediaKind::Audio, a.pid),
            (None, None) => return Err(TsError::NoTracks),
        };
        if metadata {
            es.push(EsInfo {
                stream_type: 0x15,
                pid: METADATA_PID,
                descriptors: ID3_DESCRIPTOR.to_vec(),
            });
        }
        Ok(TsWriter {
            video,
            audio,
            pcr_media,
            pat: psi::pat_section(),
            pmt: psi::pmt_section(pcr_pid, &es),
            pat_cc: 15,
            pmt_cc: 15,
            last_pcr: None,
            pcr_due: true,
            pieces: Vec::new(),
            local: Vec::new(),
            metadata_cc: metadata.then_some(15),
        })
    }

    /// Appends an ID3 tag at `pts` (90 kHz) as one PES packet on the
    /// metadata stream. Fails, writing nothing, without a metadata stream
    /// ([`with_timed_metadata`](TsWriter::with_timed_metadata)), for an
    /// empty tag, or for one longer than a PES packet's length field holds.
    pub fn write_metadata(
        &mut self,
        pts: i64,
        id3: &[u8],
        out: &mut BytesMut,
    ) -> Result<(), TsError> {
        let refuse = |expected| Err(TsError::Metadata { expected });
        let Some(cc) = self.metadata_cc.as_mut() else {
            return refuse("a metadata stream (TsWriter::with_timed_metadata)");
        };
        if id3.is_empty() || id3.len() > pes::MAX_BOUNDED_PAYLOAD {
            return refuse("an ID3 tag of 1 to 65,522 bytes");
        }
        let (header, header_len) = pes::header(0xBD, id3.len(), pts, pts);
        let first = FirstPacket {
            random_access: false,
            pcr: None,
        };
        let pieces = [&header[..header_len], id3];
        let len = header_len + id3.len();
        packet::write_pes_packets(out, METADATA_PID, cc, len, pieces.into_iter(), first);
        Ok(())
    }

    /// Starts a segment: appends a PAT and a PMT (two packets) to `out`.
    /// The segment's first frame then carries a PCR. Continuity counters go
    /// on from the previous segment.
    pub fn begin_segment(&mut self, out: &mut BytesMut) {
        psi::write_section_packet(out, psi::PAT_PID, &mut self.pat_cc, &self.pat);
        psi::write_section_packet(out, PMT_PID, &mut self.pmt_cc, &self.pmt);
        self.pcr_due = true;
    }

    /// Appends `frame` as one PES packet, split into 188-byte packets (plus a
    /// PCR-only packet first when the PCR is due and the frame is not on the
    /// PCR PID).
    ///
    /// Fails, writing nothing, for a track the writer was not made with, an
    /// empty frame, a malformed H.264/HEVC frame (a NAL unit length past the
    /// end), or an audio frame too large for its length fields.
    pub fn write_frame(&mut self, frame: &Frame, out: &mut BytesMut) -> Result<(), TsError> {
        let media = frame.media;
        let stream = match media {
            MediaKind::Video => self.video.as_mut(),
            MediaKind::Audio => self.audio.as_mut(),
        };
        let Some(stream) = stream else {
            return Err(TsError::NoSuchTrack { media });
        };
        if frame.data.is_empty() {
            return Err(TsError::EmptyFrame { media });
        }
        let data = &frame.data[..];

        // The PES packet as pieces: its header (written once the payload's
        // length is known) then the payload, mostly slices of the frame.
        let pieces = &mut self.pieces;
        let local = &mut self.local;
        pieces.clear();
        local.clear();
        pieces.push(Piece::Local(0, 0));
        let whole = Piece::Frame(0, data.len());
        let mut opus_trim = 0;
        let payload_len = match &stream.payload {
            Payload::Video(annexb) => annexb.pieces(data, frame.key, pieces)?,
            Payload::Aac(adts) => {
                let header = adts.header(data.len())?;
                local.extend_from_slice(&header);
                pieces.extend([Piece::Local(0, header.len()), whole]);
                header.len() + data.len()
            }
            Payload::Mp3 => {
                pieces.push(whole);
                data.len()
            }
            Payload::Opus { trim_left } => {
                // The OpusHead pre-skip becomes start_trim on the first
                // packets of the stream (FFmpeg's demuxer ignores it and
                // decodes them whole; other demuxers apply it).
                let trim = (*trim_left).min(opus_samples(data));
                opus_trim = trim;
                // control_header_prefix 0x3FF, start_trim_flag, no end trim,
                // no extension; au_size as 0xFF bytes and a last byte below
                // 255; then start_trim (3 reserved bits, 13 bits).
                local.extend_from_slice(&[0x7F, if trim > 0 { 0xF0 } else { 0xE0 }]);
                local.resize(local.len() + data.len() / 255, 0xFF);
                local.push((data.len() % 255) as u8);
                if trim > 0 {
                    local.extend_from_slice(&(trim & 0x1FFF).to_be_bytes());
                }
                pieces.extend([Piece::Local(0, local.len()), whole]);
                local.len() + data.len()
            }
        };
        if media == MediaKind::Audio && payload_len > pes::MAX_BOUNDED_PAYLOAD {
            return Err(TsError::FrameTooLarge {
                media,
                len: data.len(),
                field: "the 16-bit PES_packet_length",
                limit: pes::MAX_BOUNDED_PAYLOAD - (payload_len - data.len()),
            });
        }
        // Past the last check: the frame goes out.
        if let Payload::Opus { trim_left } = &mut stream.payload {
            *trim_left -= opus_trim;
        }
        let (header, header_len) = pes::header(stream.stream_id, payload_len, frame.pts, frame.dts);
        let at = local.len();
        local.extend_from_slice(&header[..header_len]);
        pieces[0] = Piece::Local(at, local.len());

        // PCR: on every frame of the PCR PID; in a PCR-only packet before a
        // frame of the other PID when it is due or stale.
        let candidate = {
            let pcr = frame.dts.saturating_sub(PCR_DELAY);
            if frame.dts >= 0 {
                pcr.max(0)
            } else {
                pcr
            }
        };
        let pcr = match self.last_pcr {
            Some(last) if candidate < last && last.saturating_sub(candidate) <= PCR_RESET => last,
            _ => candidate,
        };
        let on_pcr_pid = media == self.pcr_media;
        let stale = self
            .last_pcr
            .is_none_or(|last| pcr.saturating_sub(last) >= PCR_REFRESH);
        let first = FirstPacket {
            random_access: frame.key || media == MediaKind::Audio,
            pcr: on_pcr_pid.then(|| pes::ts33(pcr)),
        };
        if !on_pcr_pid && (self.pcr_due || stale) {
            let pcr_stream = match self.pcr_media {
                MediaKind::Video => self.video.as_ref(),
                MediaKind::Audio => self.audio.as_ref(),
            };
            if let Some(s) = pcr_stream {
                packet::write_pcr_only(out, s.pid, s.cc, pes::ts33(pcr));
            }
            self.last_pcr = Some(pcr);
            self.pcr_due = false;
        }
        let stream = match media {
            MediaKind::Video => self.video.as_mut(),
            MediaKind::Audio => self.audio.as_mut(),
        };
        let Some(stream) = stream else {
            return Err(TsError::NoSuchTrack { media });
        };
        let owners = Owners {
            frame: data,
            local: &self.local,
            parameter_sets: match &stream.payload {
                Payload::Video(annexb) => annexb.parameter_sets(),
                _ => &[],
            },
        };
        packet::write_pes_packets(
            out,
            stream.pid,
            &mut stream.cc,
            header_len + payload_len,
            self.pieces.iter().map(|&piece| owners.get(piece)),
            first,
        );
        if on_pcr_pid {
            self.last_pcr = Some(pcr);
            self.pcr_due = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
