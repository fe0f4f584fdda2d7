//! A PES packet's bytes as a list of pieces that stay where they are (the
//! frame's NAL units and payload, start codes, the configuration's
//! parameter sets, small headers), so that splitting it into transport
//! packets is the only copy of the frame data.

use bytes::BytesMut;

/// Where a piece of the PES packet is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Bytes that never change (start codes, access unit delimiters).
    Static(&'static [u8]),
    /// A range of the frame's data.
    Frame(usize, usize),
    /// A range of the writer's own bytes (PES, ADTS and Opus headers).
    Local(usize, usize),
    /// The track's parameter sets in Annex B form.
    ParameterSets,
}

/// The owners the pieces point into.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Owners<'a> {
    pub(crate) frame: &'a [u8],
    pub(crate) local: &'a [u8],
    pub(crate) parameter_sets: &'a [u8],
}

impl<'a> Owners<'a> {
    /// The bytes of `piece`. The pieces were made for these owners, so the
    /// ranges are in bounds; an empty slice stands in otherwise.
    pub(crate) fn get(&self, piece: Piece) -> &'a [u8] {
        match piece {
            Piece::Static(bytes) => bytes,
            Piece::Frame(start, end) => self.frame.get(start..end).unwrap_or_default(),
            Piece::Local(start, end) => self.local.get(start..end).unwrap_or_default(),
            Piece::ParameterSets => self.parameter_sets,
        }
    }
}

/// Reads pieces in order, as one byte stream.
pub(crate) struct Gather<'a, I> {
    pieces: I,
    current: &'a [u8],
}

impl<'a, I: Iterator<Item = &'a [u8]>> Gather<'a, I> {
    pub(crate) fn new(pieces: I) -> Gather<'a, I> {
        Gather {
            pieces,
            current: &[],
        }
    }

    /// The next `N` bytes, when the current piece holds them all: the common
    /// case of a packet's body inside one NAL unit or payload, copied with a
    /// length the compiler knows (inline moves instead of a `memcpy` call).
    pub(crate) fn next_array<const N: usize>(&mut self) -> Option<&'a [u8; N]> {
        let (head, rest) = self.current.split_first_chunk::<N>()?;
        self.current = rest;
        Some(head)
    }

    /// Appends the next `n` bytes to `out` (fewer if the pieces run out).
    pub(crate) fn copy_to(&mut self, out: &mut BytesMut, mut n: usize) {
        while n > 0 {
            if self.current.is_empty() {
                match self.pieces.next() {
                    Some(piece) => self.current = piece,
                    None => return,
                }
                continue;
            }
            let take = n.min(self.current.len());
            out.extend_from_slice(&self.current[..take]);
            self.current = &self.current[take..];
            n -= take;
        }
    }
}

/// The pieces joined: for tests.
#[cfg(test)]
pub(crate) fn join(pieces: &[Piece], owners: Owners<'_>) -> Vec<u8> {
    pieces
        .iter()
        .flat_map(|&p| owners.get(p).to_vec())
        .collect()
}
