//! How a [`Writer`](super::Writer) lays out tag bodies, and what it indexes.

/// Which tag body layout [`Body::from_event`](crate::Body::from_event) and [`Writer::write_frame`](crate::Writer::write_frame) use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyForm {
    /// As FFmpeg 9 writes: legacy tags for AVC, AAC, MP3 and every codec that
    /// has no FourCC (VP6, H.263, PCM, G.711, Speex, Nellymoser...);
    /// Enhanced RTMP (FourCC) tags for HEVC, AV1, VP9, VP8, Opus, FLAC, AC-3
    /// and E-AC-3. Enhanced whatever the codec when a packet needs it (a
    /// track id other than 0, a sub-millisecond timestamp, a sequence header
    /// or end of sequence that legacy tags cannot carry, such as MP3's).
    #[default]
    Auto,
    /// Legacy tags only (HEVC with the non-standard codec id 12); a codec or
    /// a packet that needs Enhanced RTMP is an error (a track id, a
    /// sub-millisecond timestamp, a sequence header other than AAC, AVC and
    /// HEVC ones, an audio end of sequence).
    Legacy,
    /// Enhanced RTMP tags for every codec that has a FourCC (AVC as `avc1`,
    /// AAC as `mp4a`, MP3 as `.mp3`); legacy for the others.
    Enhanced,
}

/// How a [`Writer`](crate::Writer) writes.
///
/// ```
/// let options = flv::WriterOptions::default().keyframe_index(true).form(flv::BodyForm::Enhanced);
/// assert!(options.is_keyframe_index());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriterOptions {
    pub(super) form: BodyForm,
    pub(super) keyframe_index: bool,
    pub(super) audio_flags: u8,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            form: BodyForm::Auto,
            keyframe_index: false,
            // 44.1 kHz, 16-bit, stereo.
            audio_flags: 0x0F,
        }
    }
}

impl WriterOptions {
    /// The tag body layout for frames and configurations (default [`BodyForm::Auto`]).
    pub fn form(mut self, form: BodyForm) -> Self {
        self.form = form;
        self
    }

    /// Collect a keyframe index (default off): [`Writer::finish`](crate::Writer::finish) then gives
    /// an `onMetaData` with `keyframes` (`times`, `filepositions`) to put at
    /// the head of the file, as FFmpeg's `-flvflags add_keyframe_index` and
    /// flvtool2 write it, for players that seek by byte offset. At most
    /// 800,000 keyframes are indexed (the index must fit one tag: 16 MB).
    pub fn keyframe_index(mut self, keyframe_index: bool) -> Self {
        self.keyframe_index = keyframe_index;
        self
    }

    /// The rate, size and channel bits of legacy audio tags other than AAC
    /// (AAC always says 44.1 kHz, 16-bit, stereo). Default 44,100 Hz, 16
    /// bits, stereo, which FFmpeg also writes for 48 kHz MP3. `sample_rate`
    /// is rounded down to one FLV can say (5,512, 11,025, 22,050, 44,100).
    pub fn legacy_audio(mut self, sample_rate: u32, sample_bits: u8, stereo: bool) -> Self {
        let rate = match sample_rate {
            0..=11_024 => 0,
            11_025..=22_049 => 1,
            22_050..=44_099 => 2,
            _ => 3,
        };
        self.audio_flags = rate << 2 | u8::from(sample_bits >= 16) << 1 | u8::from(stereo);
        self
    }

    /// See [`form`](Self::form).
    pub fn get_form(&self) -> BodyForm {
        self.form
    }

    /// See [`keyframe_index`](Self::keyframe_index).
    pub fn is_keyframe_index(&self) -> bool {
        self.keyframe_index
    }
}
