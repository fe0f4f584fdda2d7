//! What a seekable file needs patched at the end: `duration`, `filesize` and
//! the keyframe index of its `onMetaData`.

use std::ops::Range;

use amf0::Object;
use bytes::Bytes;

use crate::tag::KeyframeIndex;

/// An in-place patch: write `bytes` at `offset` of the output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patch {
    /// Offset in the output as written.
    pub offset: u64,
    /// The bytes to write there (an AMF0 number's 8 bytes).
    pub bytes: [u8; 8],
}

/// A head rewrite: the output's bytes in `range` are to be replaced by `bytes`
/// (which may be longer or shorter), everything after `range.end` following
/// unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rewrite {
    /// The range of the output as written that `bytes` replaces: the
    /// `onMetaData` tag written by [`Writer::write_metadata`](crate::Writer::write_metadata) and its
    /// PreviousTagSize, or an empty range just after the file header
    /// (insertion) when none was written.
    pub range: Range<u64>,
    /// The new `onMetaData` tag with its PreviousTagSize.
    pub bytes: Bytes,
}

/// What [`Writer::finish`](crate::Writer::finish) reports: the figures of the file, and how to put
/// them in its `onMetaData`.
///
/// The writer never seeks, so the application does it, one of two ways:
///
/// - **Patches** (no keyframe index): overwrite each [`Patch`] in place
///   (the `duration` and `filesize` numbers of the `onMetaData` written by
///   [`Writer::write_metadata`](crate::Writer::write_metadata)); the file size does not change. This is
///   what FFmpeg does at the end of a seekable file.
/// - **Rewrite** (with [`WriterOptions::keyframe_index`](crate::WriterOptions::keyframe_index)): the index makes
///   `onMetaData` longer, so everything after it moves. Write a new file:
///   the output's bytes before `rewrite.range.start`, then `rewrite.bytes`,
///   then the output's bytes from `rewrite.range.end` (FFmpeg's
///   `add_keyframe_index` shifts the file the same way). The new
///   `onMetaData` already has `duration`, `filesize` and `keyframes` as they
///   are in that new file; do not apply the patches too.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Finish {
    /// Seconds: the one given to [`Writer::finish`](crate::Writer::finish), or the span of the audio
    /// and video timestamps (the last frame's PTS minus the first DTS; the
    /// duration of the last frame is not known to the writer).
    pub duration: f64,
    /// Bytes written ([`Writer::position`](crate::Writer::position)).
    pub written: u64,
    /// The size of the final file (`written`, or after the rewrite).
    pub file_size: u64,
    /// The video keyframes, as in the final file (empty unless
    /// [`WriterOptions::keyframe_index`](crate::WriterOptions::keyframe_index)).
    pub keyframes: KeyframeIndex,
    /// In-place patches of `duration` and `filesize` (empty when no
    /// `onMetaData` was written with [`Writer::write_metadata`](crate::Writer::write_metadata)).
    pub patches: Vec<Patch>,
    /// The head rewrite, with [`WriterOptions::keyframe_index`](crate::WriterOptions::keyframe_index).
    pub rewrite: Option<Rewrite>,
}

/// The most keyframes indexed (18 bytes each in `onMetaData`, which must fit
/// one tag); later ones are left out of the index.
pub(super) const MAX_KEYFRAMES: usize = 800_000;

/// The `onMetaData` written by [`Writer::write_metadata`](crate::Writer::write_metadata).
#[derive(Debug, Clone)]
pub(super) struct Metadata {
    pub(super) properties: Object,
    pub(super) timestamp: i64,
    /// Offset of the tag and its size with the PreviousTagSize.
    pub(super) offset: u64,
    pub(super) total: u64,
    pub(super) duration_at: u64,
    pub(super) filesize_at: u64,
}
