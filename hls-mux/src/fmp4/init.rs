//! The init segment (`ftyp` + `moov`), built with `mp4-atom`.
//!
//! It is written once per stream (and again after a configuration change), so
//! clarity beats speed here: the boxes are `mp4-atom` structures filled from
//! the typed configuration records of the `flv` crate, not copied bytes, and
//! `mp4-atom` does the encoding (DESIGN.md: ffprobe reads what it writes and
//! it survived 1.2 M mutated inputs).
//!
//! The `moov` holds what a fragmented file needs and nothing more: `mvhd`, one
//! `trak` per track present (empty sample tables: the samples are in the
//! fragments) and `mvex` with a `trex` per track. There is no edit list: the
//! fragments carry the decode times as the input had them, and `pts - dts` as
//! signed composition offsets, so a reader sees the input's timestamps exactly.

use bytes::Bytes;
use flv::config::{
    AacConfig, Av1Config, AvcConfig, FlacStreamInfo, HevcConfig, OpusHead, Vp9Config,
};
use mp4_atom::esds::{DecoderConfig, DecoderSpecific, EsDescriptor, SLConfig};
use mp4_atom::{
    Audio, Av01, Av1c, Avc1, Avcc, AvccExt, Codec, Dfla, Dinf, Dops, Dref, Encode, Esds,
    FixedPoint, Flac, FlacMetadataBlock, Ftyp, Hdlr, Hvc1, HvcCArray, Hvcc, Mdhd, Mdia, Minf, Moov,
    Mp4a, Mvex, Mvhd, Opus, Smhd, Stbl, Stco, Stsd, Tkhd, Trak, Trex, Url, Visual, Vmhd, Vp09,
    VpcC,
};

use super::Fmp4Error;
use crate::{MediaKind, Mp3Config, TrackConfig, Tracks, CLOCK};

/// What the fragment writer needs to know about one track.
#[derive(Debug, Clone)]
pub(crate) struct TrackInfo {
    /// Video or audio.
    pub(crate) media: MediaKind,
    /// `tkhd`/`tfhd` track id.
    pub(crate) track_id: u32,
    /// `mdhd` timescale: 90 kHz for video, the sample rate for audio.
    pub(crate) timescale: u32,
}

/// `mvhd` timescale: only durations of the (empty) movie use it.
const MOVIE_TIMESCALE: u32 = 1000;

/// Sample flags in `trex`: none set (each `trun` writes its own).
const NO_DEFAULT_FLAGS: u32 = 0;

/// The tracks in `trak` order (video first) with their ids and timescales.
pub(crate) fn track_infos(tracks: &Tracks) -> Result<Vec<TrackInfo>, Fmp4Error> {
    let mut infos = Vec::with_capacity(2);
    for (media, config) in [
        (MediaKind::Video, &tracks.video),
        (MediaKind::Audio, &tracks.audio),
    ] {
        let Some(config) = config else { continue };
        if config.media() != media {
            return Err(Fmp4Error::UnsupportedConfig {
                media,
                reason: format!(
                    "a {:?} codec configuration in the {media:?} slot",
                    config.media()
                ),
            });
        }
        let timescale = match media {
            MediaKind::Video => CLOCK,
            MediaKind::Audio => config.sample_rate().ok_or(Fmp4Error::UnsupportedConfig {
                media,
                reason: "the sample rate is unknown or zero".to_owned(),
            })?,
        };
        infos.push(TrackInfo {
            media,
            track_id: infos.len() as u32 + 1,
            timescale,
        });
    }
    if infos.is_empty() {
        return Err(Fmp4Error::NoTracks);
    }
    Ok(infos)
}

/// The `ftyp` FFmpeg's HLS fMP4 muxer writes (major `iso5`, minor 512,
/// compatible `iso5 iso6 mp41`): `iso5` because `tfhd` uses
/// default-base-is-moof, `iso6` for the version-1 `tfdt`/`trun`, `mp41` for
/// older readers. hls.js, Apple's players and FFmpeg all accept it. `cmfc` is
/// not claimed: a fragment with both tracks in one `moof` is not a CMAF track.
fn ftyp() -> Ftyp {
    Ftyp {
        major_brand: b"iso5".into(),
        minor_version: 512,
        compatible_brands: vec![b"iso5".into(), b"iso6".into(), b"mp41".into()],
    }
}

/// Serializes `ftyp` + `moov` for `tracks`, whose ids and timescales are `infos`.
pub(crate) fn init_segment(tracks: &Tracks, infos: &[TrackInfo]) -> Result<Bytes, Fmp4Error> {
    let mut trak = Vec::with_capacity(infos.len());
    let mut trex = Vec::with_capacity(infos.len());
    for info in infos {
        let config = tracks.get(info.media).ok_or(Fmp4Error::NoTracks)?;
        trak.push(track(config, info)?);
        trex.push(Trex {
            track_id: info.track_id,
            default_sample_description_index: 1,
            default_sample_duration: 0,
            default_sample_size: 0,
            default_sample_flags: NO_DEFAULT_FLAGS,
        });
    }
    let moov = Moov {
        mvhd: Mvhd {
            creation_time: 0,
            modification_time: 0,
            timescale: MOVIE_TIMESCALE,
            duration: 0,
            rate: FixedPoint::new(1, 0),
            volume: FixedPoint::new(1, 0),
            matrix: Default::default(),
            next_track_id: infos.len() as u32 + 1,
        },
        mvex: Some(Mvex { mehd: None, trex }),
        trak,
        ..Default::default()
    };
    let mut out = Vec::with_capacity(1024);
    encode(&ftyp(), &mut out)?;
    encode(&moov, &mut out)?;
    Ok(Bytes::from(out))
}

pub(crate) fn encode<T: Encode>(atom: &T, out: &mut Vec<u8>) -> Result<(), Fmp4Error> {
    atom.encode(out)
        .map_err(|e| Fmp4Error::Encode(e.to_string()))
}

fn unsupported(media: MediaKind, reason: impl Into<String>) -> Fmp4Error {
    Fmp4Error::UnsupportedConfig {
        media,
        reason: reason.into(),
    }
}

pub(crate) fn track(config: &TrackConfig, info: &TrackInfo) -> Result<Trak, Fmp4Error> {
    let media = info.media;
    let (width, height) = match media {
        MediaKind::Video => {
            let (w, h) = config.resolution().unwrap_or((0, 0));
            let w = u16::try_from(w).map_err(|_| unsupported(media, format!("width {w}")))?;
            let h = u16::try_from(h).map_err(|_| unsupported(media, format!("height {h}")))?;
            (w, h)
        }
        MediaKind::Audio => (0, 0),
    };
    let codec = sample_entry(config, info, width, height)?;
    let (hdlr, name, vmhd, smhd) = match media {
        MediaKind::Video => (b"vide", "VideoHandler", Some(Vmhd::default()), None),
        MediaKind::Audio => (b"soun", "SoundHandler", None, Some(Smhd::default())),
    };
    Ok(Trak {
        tkhd: Tkhd {
            track_id: info.track_id,
            enabled: true,
            in_movie: true,
            volume: match media {
                MediaKind::Video => FixedPoint::new(0, 0),
                MediaKind::Audio => FixedPoint::new(1, 0),
            },
            matrix: Default::default(),
            width: FixedPoint::new(width, 0),
            height: FixedPoint::new(height, 0),
            ..Default::default()
        },
        mdia: Mdia {
            mdhd: Mdhd {
                timescale: info.timescale,
                language: "und".to_owned(),
                ..Default::default()
            },
            hdlr: Hdlr {
                handler: hdlr.into(),
                name: name.to_owned(),
            },
            minf: Minf {
                vmhd,
                smhd,
                dinf: Dinf {
                    dref: Dref {
                        urls: vec![Url::default()],
                    },
                },
                stbl: Stbl {
                    stsd: Stsd {
                        codecs: vec![codec],
                    },
                    stco: Some(Stco::default()),
                    ..Default::default()
                },
                ..Default::default()
            },
        },
        ..Default::default()
    })
}

fn visual(width: u16, height: u16) -> Visual {
    Visual {
        data_reference_index: 1,
        width,
        height,
        ..Default::default()
    }
}

fn audio(channels: u8, sample_rate: u32) -> Audio {
    Audio {
        data_reference_index: 1,
        channel_count: channels.into(),
        sample_size: 16,
        // 16.16 fixed point: rates above 65535 Hz do not fit and are written
        // as 0 (the real rate is in the decoder configuration and in `mdhd`).
        sample_rate: FixedPoint::new(u16::try_from(sample_rate).unwrap_or(0), 0),
    }
}

pub(crate) fn sample_entry(
    config: &TrackConfig,
    info: &TrackInfo,
    width: u16,
    height: u16,
) -> Result<Codec, Fmp4Error> {
    let media = info.media;
    Ok(match config {
        TrackConfig::Avc(c) => Avc1 {
            visual: visual(width, height),
            avcc: avcc(c),
            ..Default::default()
        }
        .into(),
        TrackConfig::Hevc(c) => Hvc1 {
            visual: visual(width, height),
            hvcc: hvcc(c),
            ..Default::default()
        }
        .into(),
        TrackConfig::Av1(c) => Av01 {
            visual: visual(width, height),
            av1c: av1c(c),
            ..Default::default()
        }
        .into(),
        TrackConfig::Vp9(c) => Vp09 {
            visual: visual(width, height),
            vpcc: vpcc(c),
            ..Default::default()
        }
        .into(),
        TrackConfig::Aac(c) => mp4a_aac(c, info),
        TrackConfig::Mp3(c) => mp4a_mp3(c, info),
        TrackConfig::Opus(c) => opus(media, c)?,
        TrackConfig::Flac(c) => flac(c),
    })
}

fn to_vecs(nals: &[Bytes]) -> Vec<Vec<u8>> {
    nals.iter().map(|n| n.to_vec()).collect()
}

fn avcc(c: &AvcConfig) -> Avcc {
    let info = c.video_info();
    Avcc {
        configuration_version: 1,
        avc_profile_indication: c.profile_idc(),
        profile_compatibility: c.profile_compatibility(),
        avc_level_indication: c.level_idc(),
        length_size: c.nal_length_size(),
        sequence_parameter_sets: to_vecs(c.sps()),
        picture_parameter_sets: to_vecs(c.pps()),
        ext: c.has_high_profile_ext().then(|| AvccExt {
            chroma_format: info.chroma_format_idc,
            bit_depth_luma: info.bit_depth_luma,
            bit_depth_chroma: info.bit_depth_chroma,
            sequence_parameter_sets_ext: to_vecs(c.sps_ext()),
        }),
    }
}

fn hvcc(c: &HevcConfig) -> Hvcc {
    let constraints = c.general_constraint_indicator_flags().to_be_bytes();
    Hvcc {
        configuration_version: 1,
        general_profile_space: c.general_profile_space(),
        general_tier_flag: c.general_tier_flag(),
        general_profile_idc: c.general_profile_idc(),
        general_profile_compatibility_flags: c.general_profile_compatibility_flags().to_be_bytes(),
        general_constraint_indicator_flags: [
            constraints[2],
            constraints[3],
            constraints[4],
            constraints[5],
            constraints[6],
            constraints[7],
        ],
        general_level_idc: c.general_level_idc(),
        min_spatial_segmentation_idc: c.min_spatial_segmentation_idc(),
        parallelism_type: c.parallelism_type(),
        chroma_format_idc: c.chroma_format_idc(),
        bit_depth_luma_minus8: c.bit_depth_luma().saturating_sub(8),
        bit_depth_chroma_minus8: c.bit_depth_chroma().saturating_sub(8),
        avg_frame_rate: c.avg_frame_rate(),
        constant_frame_rate: c.constant_frame_rate(),
        num_temporal_layers: c.num_temporal_layers(),
        temporal_id_nested: c.temporal_id_nested(),
        length_size_minus_one: c.nal_length_size().saturating_sub(1),
        arrays: c
            .arrays()
            .iter()
            .map(|a| HvcCArray {
                completeness: a.completeness,
                nal_unit_type: a.nal_unit_type,
                nalus: to_vecs(&a.nal_units),
            })
            .collect(),
    }
}

fn av1c(c: &Av1Config) -> Av1c {
    let (subsampling_x, subsampling_y) = c.chroma_subsampling();
    Av1c {
        seq_profile: c.seq_profile() & 7,
        seq_level_idx_0: c.seq_level_idx_0() & 0x1f,
        seq_tier_0: c.seq_tier_0(),
        high_bitdepth: c.bit_depth() > 8,
        twelve_bit: c.bit_depth() == 12,
        monochrome: c.monochrome(),
        chroma_subsampling_x: subsampling_x,
        chroma_subsampling_y: subsampling_y,
        chroma_sample_position: c.chroma_sample_position() & 3,
        // mp4-atom stores the delay itself (1..=16) and writes it minus one.
        initial_presentation_delay: c
            .initial_presentation_delay_minus_one()
            .map(|d| (d & 0x0f) + 1),
        config_obus: c.config_obus().to_vec(),
    }
}

fn vpcc(c: &Vp9Config) -> VpcC {
    VpcC {
        profile: c.profile,
        level: c.level,
        bit_depth: c.bit_depth & 0x0f,
        chroma_subsampling: c.chroma_subsampling,
        video_full_range_flag: c.video_full_range_flag,
        color_primaries: c.colour_primaries,
        transfer_characteristics: c.transfer_characteristics,
        matrix_coefficients: c.matrix_coefficients,
        codec_initialization_data: c.codec_initialization_data.to_vec(),
    }
}

/// MPEG-4 Systems object type indications (ISO/IEC 14496-1 table 5, mp4ra).
const OTI_AAC: u8 = 0x40;
const OTI_MP3: u8 = 0x6b;
/// streamType AudioStream.
const STREAM_AUDIO: u8 = 5;

fn esds(track_id: u32, object_type: u8, dec_specific: Option<DecoderSpecific>) -> Esds {
    Esds {
        es_desc: EsDescriptor {
            es_id: u16::try_from(track_id).unwrap_or(0),
            dec_config: DecoderConfig {
                object_type_indication: object_type,
                stream_type: STREAM_AUDIO,
                up_stream: 0,
                buffer_size_db: Default::default(),
                max_bitrate: 0,
                avg_bitrate: 0,
                dec_specific,
            },
            sl_config: SLConfig {},
        },
    }
}

fn mp4a_aac(c: &AacConfig, info: &TrackInfo) -> Codec {
    let specific = DecoderSpecific {
        profile: c.audio_object_type(),
        freq_index: c.sampling_frequency_index().unwrap_or(15),
        chan_conf: c.channel_configuration(),
        // Written verbatim: the whole AudioSpecificConfig (SBR/PS signalling included).
        raw: c.to_bytes().to_vec(),
    };
    Mp4a {
        audio: audio(c.channels(), info.timescale),
        esds: esds(info.track_id, OTI_AAC, Some(specific)),
        btrt: None,
        taic: None,
    }
    .into()
}

/// MP3 as FFmpeg writes it in MP4: `mp4a` with object type 0x6B (MPEG-1 audio;
/// FFmpeg reads MPEG-2 layer III through the same id) and no decoder-specific info.
fn mp4a_mp3(c: &Mp3Config, info: &TrackInfo) -> Codec {
    Mp4a {
        audio: audio(c.channels, info.timescale),
        esds: esds(info.track_id, OTI_MP3, None),
        btrt: None,
        taic: None,
    }
    .into()
}

/// `dOps` from the Ogg `OpusHead`: the same fields, but big-endian and version 0
/// (Opus in ISOBMFF 4.3.2). mp4-atom's `Dops` has no channel mapping table, so
/// only mapping family 0 (mono/stereo) can be described.
fn opus(media: MediaKind, c: &OpusHead) -> Result<Codec, Fmp4Error> {
    if c.mapping_family != 0 {
        return Err(unsupported(
            media,
            format!(
                "Opus channel mapping family {} (only family 0, mono or stereo, can be written)",
                c.mapping_family
            ),
        ));
    }
    Ok(Opus {
        audio: audio(c.channel_count, 48_000),
        dops: Dops {
            output_channel_count: c.channel_count,
            pre_skip: c.pre_skip,
            input_sample_rate: c.input_sample_rate,
            output_gain: c.output_gain,
        },
        btrt: None,
    }
    .into())
}

/// `fLaC` + `dfLa` holding the STREAMINFO block (FLAC in ISOBMFF 3.3.2).
fn flac(c: &FlacStreamInfo) -> Codec {
    let bits = |v: u32| mp4_atom::u24::try_from(v & 0xff_ffff).unwrap_or_default();
    Flac {
        audio: audio(c.channels, c.sample_rate),
        dfla: Dfla {
            blocks: vec![FlacMetadataBlock::StreamInfo {
                minimum_block_size: c.min_block_size,
                maximum_block_size: c.max_block_size,
                minimum_frame_size: bits(c.min_frame_size),
                maximum_frame_size: bits(c.max_frame_size),
                sample_rate: c.sample_rate & 0xf_ffff,
                num_channels_minus_one: c.channels.wrapping_sub(1) & 7,
                bits_per_sample_minus_one: c.bits_per_sample.wrapping_sub(1) & 0x1f,
                number_of_interchannel_samples: c.total_samples & 0xf_ffff_ffff,
                md5_checksum: c.md5.to_vec(),
            }],
        },
    }
    .into()
}
