//! Writing a list of [`Bytes`] (a segment: headers and frame slices) with
//! vectored writes, so the frame data goes to the kernel as it is, never
//! copied into one buffer first.

use std::io::{IoSlice, Write};

use bytes::Bytes;

/// Writes every piece, in order, with as few `write_vectored` calls as the
/// writer allows.
pub fn write_all(writer: &mut impl Write, data: &[Bytes]) -> std::io::Result<()> {
    // Segments have a few hundred pieces at most; IOV_MAX (1024) per call.
    let mut start = 0;
    while start < data.len() {
        let end = (start + 1024).min(data.len());
        let mut slices: Vec<IoSlice<'_>> = data[start..end]
            .iter()
            .filter(|d| !d.is_empty())
            .map(|d| IoSlice::new(d))
            .collect();
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            let written = writer.write_vectored(rest)?;
            if written == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            IoSlice::advance_slices(&mut rest, written);
        }
        start = end;
    }
    Ok(())
}
