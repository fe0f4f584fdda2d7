//! FLV to faststart MP4 without re-encoding, repairing what broken uploads
//! get wrong; the library behind the `flv2mp4` command.
//!
//! The path is the crates' public API: `flv::Reader` (with resync) →
//! `flv::MediaEvents` → `hls_mux::FlvAdapter` → [`Repairer`] (the policy:
//! which frames to drop, how timestamps become monotonic) →
//! `hls_mux::mp4::Mp4Writer`.
//!
//! The output is written once: a first pass over the input fills the
//! sample tables and gives the header (`ftyp` + `moov` + `mdat` header); a
//! second pass writes the header and then each frame's bytes (see
//! [`Strategy`]). The file is written under a temporary name in the
//! output's directory and renamed when complete, so the final name never
//! holds a half-written file.

mod convert;
mod repair;

pub use convert::{convert, ConvertError, Options, Strategy};
pub use repair::{Repair, Repairer, Report};
