//! The FLV muxer: [`Writer`] (sans-IO), tag bodies from frames ([`Body`]), and
//! what a seekable file needs patched at the end ([`Finish`]).
//!
//! The writer appends bytes to an [`Output`] (a [`BytesMut`], or [`Pieces`]:
//! a list of [`Bytes`] for vectored IO in which payloads are the caller's
//! slices, never copies) and never seeks: a file that wants `duration`,
//! `filesize` and a keyframe index in its `onMetaData` gets them from
//! [`Writer::finish`] as byte patches the application applies (see
//! [`Finish`]).
//!
//! # Timestamps
//!
//! Tags carry 32-bit milliseconds (24 bits, then the extended byte for bits
//! 24-31). A timestamp on the 64-bit timeline is written modulo 2^32: past
//! 4,294,967,295 ms (49.7 days) it wraps to 0 and counts up again, and a
//! negative one is written as 2^32 minus its magnitude. A reader that unwraps
//! as [`Timeline`](crate::Timeline) does (each tag within ±2^31 ms of the one
//! before it) gets the 64-bit values back; FFmpeg and most players do not
//! unwrap, so a file meant for them should start near 0 and stay below 2^32.

mod body;
mod finish;
mod options;
mod output;

pub use self::body::Body;
pub use self::finish::{Finish, Patch, Rewrite};
use self::finish::{Metadata, MAX_KEYFRAMES};
pub use self::options::{BodyForm, WriterOptions};
pub use self::output::{Output, Pieces};

use amf0::{Object, Value};
use bytes::{BufMut as _, Bytes, BytesMut};

use crate::tag::{KeyframeIndex, VideoFrameType, VideoPacketType, VideoTag};
use crate::{
    Error, Frame, Header, MediaEvent, Tag, TagType, HEADER_SIZE, MAX_TAG_DATA_SIZE,
    PREVIOUS_TAG_SIZE_SIZE, TAG_HEADER_SIZE,
};

/// The sans-IO FLV muxer: header and tags in, bytes out.
///
/// Tags are written in the order given, each an 11-byte header, the body and
/// its PreviousTagSize (11 + body size). The writer keeps its position to
/// collect the keyframe index and the `onMetaData` patches for [`finish`](Writer::finish).
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use flv::{Codec, Frame, MediaType, Writer, WriterOptions};
///
/// let mut writer = Writer::new(WriterOptions::default());
/// let mut out = BytesMut::new();
/// writer.header(false, true, &mut out);
/// let frame = Frame {
///     media: MediaType::Video, codec: Codec::Avc, track: 0, dts: 100, pts: 166, nanos: 0,
///     key: true, data: Bytes::from_static(b"\x00\x00\x00\x02\x09\xf0"), offset: 0,
/// };
/// writer.write_frame(&frame, &mut out)?;
/// // The example file of the crate documentation, byte for byte.
/// assert_eq!(&out[..], b"FLV\x01\x01\x00\x00\x00\x09\x00\x00\x00\x00\
///     \x09\x00\x00\x0b\x00\x00\x64\x00\x00\x00\x00\x17\x01\x00\x00\x42\x00\x00\x00\x02\x09\xf0\x00\x00\x00\x16");
/// # Ok::<(), flv::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Writer {
    options: WriterOptions,
    position: u64,
    header_end: u64,
    first_ts: Option<i64>,
    last_end: Option<i64>,
    keyframes: Vec<(i64, u64)>,
    metadata: Option<Metadata>,
}

impl Writer {
    /// A writer at position 0.
    pub fn new(options: WriterOptions) -> Writer {
        Writer {
            options,
            position: 0,
            header_end: 0,
            first_ts: None,
            last_end: None,
            keyframes: Vec::new(),
            metadata: None,
        }
    }

    /// The options this writer was made with.
    pub fn options(&self) -> &WriterOptions {
        &self.options
    }

    /// Bytes written so far: the offset the next tag will have.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Writes the 9-byte file header (version 1, the audio and video flags,
    /// data offset 9) and PreviousTagSize0. HTTP-FLV and files start with
    /// it; a stream of bare tags does not call it.
    pub fn header(&mut self, has_audio: bool, has_video: bool, out: &mut impl Output) {
        let flags = u8::from(has_audio) << 2 | u8::from(has_video);
        self.write_header(
            &Header {
                version: 1,
                has_audio,
                has_video,
                flags,
                data_offset: HEADER_SIZE as u32,
            },
            out,
        );
    }

    /// Writes a file header as a [`Reader`](crate::Reader) reported it:
    /// version and the whole flags byte as they were, and the data offset
    /// (bytes between 9 and it are written as zeros: the reader does not keep
    /// them), then PreviousTagSize0.
    pub fn write_header(&mut self, header: &Header, out: &mut impl Output) {
        let data_offset = header.data_offset.max(HEADER_SIZE as u32);
        let d = data_offset.to_be_bytes();
        out.put_slice(&[b'F', b'L', b'V', header.version, header.flags]);
        out.put_slice(&d);
        let mut padding = u64::from(data_offset) - HEADER_SIZE as u64;
        while padding > 0 {
            let n = padding.min(64);
            out.put_slice(&[0; 64][..n as usize]);
            padding -= n;
        }
        out.put_slice(&[0; PREVIOUS_TAG_SIZE_SIZE]);
        self.position += u64::from(data_offset) + PREVIOUS_TAG_SIZE_SIZE as u64;
        self.header_end = self.position;
    }

    /// Writes one tag: `body` is kept as a handle by [`Pieces`], copied by a
    /// [`BytesMut`]. Returns the tag's offset.
    ///
    /// Errors (nothing is written): a body over 16,777,215 bytes
    /// ([`Error::TagTooLarge`]), a [`TagType::Other`] above 31
    /// ([`Error::InvalidTagHeader`]); offsets are the writer's position.
    pub fn write(
        &mut self,
        tag_type: TagType,
        timestamp: i64,
        body: Bytes,
        out: &mut impl Output,
    ) -> Result<u64, Error> {
        self.write_parts(tag_type, false, 0, timestamp, &[], body, None, out)
    }

    /// Writes a tag as a [`Reader`](crate::Reader) reported it: type, filter
    /// bit, timestamp ([`Tag::timestamp`]), stream id and body. Reading the
    /// output gives the same tags; a file read then written tag by tag is
    /// written back byte for byte (see the crate's round-trip tests).
    ///
    /// Errors: as [`write`](Self::write), and a stream id over 24 bits
    /// ([`Error::InvalidField`]).
    pub fn write_tag(&mut self, tag: &Tag, out: &mut impl Output) -> Result<u64, Error> {
        self.write_parts(
            tag.tag_type,
            tag.encrypted,
            tag.stream_id,
            tag.timestamp,
            &[],
            tag.body.clone(),
            None,
            out,
        )
    }

    /// Writes the tag of a [`Body`] (built with [`Body::from_event`]).
    pub fn write_body(&mut self, body: &Body, out: &mut impl Output) -> Result<u64, Error> {
        self.write_parts(
            body.tag_type,
            false,
            0,
            body.timestamp,
            body.prefix(),
            body.payload.clone(),
            Some((body.key, body.end)),
            out,
        )
    }

    /// Writes a frame as a tag, laid out as [`Body::from_event`] says, with
    /// this writer's [`BodyForm`].
    pub fn write_frame(&mut self, frame: &Frame, out: &mut impl Output) -> Result<u64, Error> {
        let body = Body::frame(frame, &self.options).map_err(|e| e.shifted(self.position))?;
        self.write_body(&body, out)
    }

    /// Writes a media event as a tag (see [`Body::from_event`]): frames,
    /// sequence headers, ends of sequence, video metadata, channel
    /// configurations, commands.
    pub fn write_media_event(
        &mut self,
        event: &MediaEvent,
        out: &mut impl Output,
    ) -> Result<u64, Error> {
        let body = Body::from_event(event, &self.options).map_err(|e| e.shifted(self.position))?;
        self.write_body(&body, out)
    }

    /// Writes a script data tag: `name` then `values`, AMF0.
    pub fn write_script(
        &mut self,
        timestamp: i64,
        name: &str,
        values: &[Value],
        out: &mut impl Output,
    ) -> Result<u64, Error> {
        let mut body = BytesMut::new();
        Value::string(name).encode(&mut body);
        amf0::encode_all(values, &mut body);
        self.write(TagType::Script, timestamp, body.freeze(), out)
    }

    /// Writes `onMetaData` (an ECMA array of `properties`, at timestamp 0)
    /// and remembers where its `duration` and `filesize` numbers are, for
    /// [`finish`](Self::finish). Both are added (0) when missing or not
    /// numbers; a `keyframes` property is dropped (the writer makes its own
    /// with [`WriterOptions::keyframe_index`]). Write it before the frames,
    /// once.
    ///
    /// ```
    /// use flv::{Writer, WriterOptions};
    /// let mut properties = amf0::Object::new();
    /// properties.push("width", 1280.0);
    /// let mut writer = Writer::new(WriterOptions::default());
    /// let mut out = bytes::BytesMut::new();
    /// writer.header(true, true, &mut out);
    /// writer.write_metadata(&properties, &mut out)?;
    /// let finish = writer.finish(Some(6.5));
    /// for patch in &finish.patches {
    ///     let at = patch.offset as usize;
    ///     out[at..at + 8].copy_from_slice(&patch.bytes);
    /// }
    /// let tags: Vec<_> = flv::read_all(out.freeze()).collect::<Result<_, _>>()?;
    /// let flv::ReadEvent::Tag(tag) = &tags[1] else { panic!() };
    /// let meta = flv::tag::ScriptData::parse(&tag.body)?.on_metadata().unwrap();
    /// assert_eq!(meta.width, Some(1280.0));
    /// assert_eq!((meta.duration, meta.file_size), (Some(6.5), Some(finish.file_size as f64)));
    /// # Ok::<(), flv::Error>(())
    /// ```
    pub fn write_metadata(
        &mut self,
        properties: &Object,
        out: &mut impl Output,
    ) -> Result<u64, Error> {
        let properties = metadata_properties(properties);
        let (body, duration_at, filesize_at) = encode_metadata(&properties, None);
        let offset = self.position;
        let body_len = body.len() as u64;
        self.write(TagType::Script, 0, body, out)?;
        let base = offset + TAG_HEADER_SIZE as u64;
        self.metadata = Some(Metadata {
            properties,
            timestamp: 0,
            offset,
            total: TAG_HEADER_SIZE as u64 + body_len + PREVIOUS_TAG_SIZE_SIZE as u64,
            duration_at: base + duration_at as u64,
            filesize_at: base + filesize_at as u64,
        });
        Ok(offset)
    }

    /// What to patch now that the file is complete (see [`Finish`]).
    /// `duration` in seconds, or `None` for the span of the timestamps
    /// written. The writer can go on writing afterwards (a live recording
    /// can be finished at each checkpoint).
    pub fn finish(&self, duration: Option<f64>) -> Finish {
        let span = match (self.first_ts, self.last_end) {
            (Some(first), Some(end)) => end.saturating_sub(first) as f64 / 1000.0,
            _ => 0.0,
        };
        let duration = duration.unwrap_or(span);
        let written = self.position;
        let mut finish = Finish {
            duration,
            written,
            file_size: written,
            keyframes: KeyframeIndex {
                times: Vec::new(),
                file_positions: Vec::new(),
            },
            patches: Vec::new(),
            rewrite: None,
        };
        if !self.options.keyframe_index {
            if let Some(meta) = &self.metadata {
                finish.patches = vec![
                    Patch {
                        offset: meta.duration_at,
                        bytes: duration.to_be_bytes(),
                    },
                    Patch {
                        offset: meta.filesize_at,
                        bytes: (written as f64).to_be_bytes(),
                    },
                ];
            }
            return finish;
        }
        let (properties, timestamp, range) = match &self.metadata {
            Some(meta) => (
                meta.properties.clone(),
                meta.timestamp,
                meta.offset..meta.offset + meta.total,
            ),
            None => (
                metadata_properties(&Object::new()),
                0,
                self.header_end..self.header_end,
            ),
        };
        // Every number is 8 bytes, so the size of the new tag does not depend
        // on the values: encode once with placeholders to learn the shift.
        let n = self.keyframes.len();
        let placeholder = KeyframeIndex {
            times: vec![0.0; n],
            file_positions: vec![0; n],
        };
        let (body, ..) = encode_metadata(&properties, Some(&placeholder));
        let new_total = (TAG_HEADER_SIZE + body.len() + PREVIOUS_TAG_SIZE_SIZE) as u64;
        let old_total = range.end - range.start;
        let shift = |position: u64| {
            if position >= range.end {
                (position + new_total).saturating_sub(old_total)
            } else {
                position
            }
        };
        let file_size = shift(written);
        let index = KeyframeIndex {
            times: self.keyframes.iter().map(|k| k.0 as f64 / 1000.0).collect(),
            file_positions: self.keyframes.iter().map(|k| shift(k.1)).collect(),
        };
        let mut properties = properties;
        set_number(&mut properties, "duration", duration);
        set_number(&mut properties, "filesize", file_size as f64);
        let (body, ..) = encode_metadata(&properties, Some(&index));
        let mut bytes = BytesMut::with_capacity(new_total as usize);
        let mut scratch = Writer::new(self.options);
        // Cannot fail: MAX_KEYFRAMES entries (18 bytes each) keep the body
        // below the tag size limit unless the properties themselves are huge;
        // then there is no rewrite.
        if scratch
            .write(TagType::Script, timestamp, body, &mut bytes)
            .is_ok()
        {
            finish.rewrite = Some(Rewrite {
                range,
                bytes: bytes.freeze(),
            });
            finish.file_size = file_size;
            finish.keyframes = index;
        }
        finish
    }

    #[allow(clippy::too_many_arguments)]
    fn write_parts(
        &mut self,
        tag_type: TagType,
        encrypted: bool,
        stream_id: u32,
        timestamp: i64,
        prefix: &[u8],
        payload: Bytes,
        known: Option<(bool, i64)>,
        out: &mut impl Output,
    ) -> Result<u64, Error> {
        let offset = self.position;
        let size = prefix.len() as u64 + payload.len() as u64;
        if size > u64::from(MAX_TAG_DATA_SIZE) {
            return Err(Error::TagTooLarge {
                offset,
                size: u32::try_from(size).unwrap_or(u32::MAX),
                limit: MAX_TAG_DATA_SIZE,
            });
        }
        let type_number = tag_type.to_u8();
        if type_number > 0x1F {
            return Err(Error::InvalidTagHeader {
                offset,
                first_byte: type_number,
            });
        }
        if stream_id > 0xFF_FFFF {
            return Err(Error::InvalidField {
                what: "stream id (24 bits)",
                offset: offset + 8,
                value: stream_id,
            });
        }
        let size = size as u32;
        let raw = timestamp as u32; // modulo 2^32, see the module documentation
        let s = size.to_be_bytes();
        let t = raw.to_be_bytes();
        let id = stream_id.to_be_bytes();
        let first = type_number | if encrypted { 0x20 } else { 0 };
        out.put_slice(&[
            first, s[1], s[2], s[3], t[1], t[2], t[3], t[0], id[1], id[2], id[3],
        ]);
        out.put_slice(prefix);
        if !payload.is_empty() {
            out.put_bytes(payload.clone());
        }
        out.put_slice(&(size + TAG_HEADER_SIZE as u32).to_be_bytes());
        self.position += TAG_HEADER_SIZE as u64 + u64::from(size) + PREVIOUS_TAG_SIZE_SIZE as u64;

        if matches!(tag_type, TagType::Audio | TagType::Video) && !encrypted {
            let (key, end) = match known {
                Some(known) => known,
                None if tag_type == TagType::Video => video_facts(timestamp, &payload),
                None => (false, timestamp),
            };
            self.first_ts = Some(self.first_ts.map_or(timestamp, |f| f.min(timestamp)));
            self.last_end = Some(self.last_end.map_or(end, |e| e.max(end)));
            if key
                && tag_type == TagType::Video
                && self.options.keyframe_index
                && self.keyframes.len() < MAX_KEYFRAMES
            {
                self.keyframes.push((timestamp, offset));
            }
        }
        Ok(offset)
    }
}

/// Whether a raw video tag body is a key frame (coded frames of frame type 1),
/// and its PTS (the timestamp plus the composition time).
fn video_facts(timestamp: i64, body: &Bytes) -> (bool, i64) {
    match VideoTag::parse(body) {
        Ok(video) => {
            let cts = video.first_track().map_or(0, |t| t.composition_time);
            let key = video.frame_type == VideoFrameType::Key
                && matches!(
                    video.packet_type,
                    VideoPacketType::CodedFrames | VideoPacketType::CodedFramesX
                );
            (key, timestamp.saturating_add(i64::from(cts)))
        }
        Err(_) => (false, timestamp),
    }
}

/// The properties of a written `onMetaData`: `duration` and `filesize` numbers
/// present, `keyframes` removed.
fn metadata_properties(properties: &Object) -> Object {
    let mut out = Object::with_capacity(properties.len() + 2);
    for (key, value) in properties.iter() {
        if key.as_bytes() != b"keyframes" {
            out.push(key.clone(), value.clone());
        }
    }
    for key in ["duration", "filesize"] {
        if out.get(key).and_then(Value::as_f64).is_none() {
            set_number(&mut out, key, 0.0);
        }
    }
    out
}

/// Sets the first property named `key` to a number, or appends it.
fn set_number(properties: &mut Object, key: &str, value: f64) {
    match properties.get_mut(key) {
        Some(slot) => *slot = Value::Number(value),
        None => properties.push(key, value),
    }
}

/// The body of an `onMetaData` tag: the name, then an ECMA array of the
/// properties (and `keyframes`, if given); with the offsets in the body of
/// the `duration` and `filesize` numbers' 8 bytes.
fn encode_metadata(
    properties: &Object,
    keyframes: Option<&KeyframeIndex>,
) -> (Bytes, usize, usize) {
    let mut body = BytesMut::new();
    Value::string("onMetaData").encode(&mut body);
    let count = properties.len() + usize::from(keyframes.is_some());
    body.put_u8(amf0::marker::ECMA_ARRAY);
    body.put_u32(u32::try_from(count).unwrap_or(u32::MAX));
    let (mut duration_at, mut filesize_at) = (0, 0);
    for (key, value) in properties.iter() {
        put_key(&mut body, key.as_bytes());
        if matches!(value, Value::Number(_)) {
            if key.as_bytes() == b"duration" && duration_at == 0 {
                duration_at = body.len() + 1;
            } else if key.as_bytes() == b"filesize" && filesize_at == 0 {
                filesize_at = body.len() + 1;
            }
        }
        value.encode(&mut body);
    }
    if let Some(index) = keyframes {
        // As FFmpeg writes it: an object of two strict arrays, positions first.
        put_key(&mut body, b"keyframes");
        let mut object = Object::with_capacity(2);
        let numbers = |v: Vec<f64>| Value::StrictArray(v.into_iter().map(Value::Number).collect());
        object.push(
            "filepositions",
            numbers(index.file_positions.iter().map(|p| *p as f64).collect()),
        );
        object.push("times", numbers(index.times.clone()));
        Value::Object(object).encode(&mut body);
    }
    body.extend_from_slice(&[0, 0, amf0::marker::OBJECT_END]);
    (body.freeze(), duration_at, filesize_at)
}

/// An AMF0 property name: 16-bit length, bytes (cut at 65,535 as amf0 does).
fn put_key(body: &mut BytesMut, key: &[u8]) {
    let key = &key[..key.len().min(0xFFFF)];
    body.put_u16(key.len() as u16);
    body.extend_from_slice(key);
}
