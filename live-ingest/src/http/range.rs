//! `Range: bytes=...` on segments, parts and init segments (RFC 9110 14.2): one
//! range is answered 206 with the bytes asked for, sliced from the file's
//! pieces without a copy; a range past the end is 416; anything else (several
//! ranges, another unit, bad syntax) is ignored and the whole file is sent,
//! as the RFC allows.

use bytes::Bytes;

/// What to send of a file of `len` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The whole file (no range, or one to ignore).
    Whole,
    /// Bytes `start..=end`.
    Part {
        /// First byte.
        start: u64,
        /// Last byte, included.
        end: u64,
    },
    /// The range starts past the end: 416.
    Unsatisfiable,
}

/// The answer to a `Range` header value (`None`: no header) for `len` bytes.
pub fn answer(header: Option<&str>, len: u64) -> Answer {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Answer::Whole;
    };
    if spec.contains(',') {
        return Answer::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Answer::Whole;
    };
    let number = |text: &str| -> Option<u64> {
        let text = text.trim();
        (!text.is_empty() && text.len() <= 19 && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // `bytes=-N`: the last N bytes.
        (true, _, Some(suffix)) if suffix > 0 && len > 0 => Answer::Part {
            start: len.saturating_sub(suffix),
            end: len - 1,
        },
        (true, _, _) => Answer::Unsatisfiable,
        (false, Some(start), _) if start >= len => Answer::Unsatisfiable,
        (false, Some(start), None) if last.trim().is_empty() => Answer::Part {
            start,
            end: len - 1,
        },
        (false, Some(start), Some(end)) if end >= start => Answer::Part {
            start,
            end: end.min(len - 1),
        },
        _ => Answer::Whole,
    }
}

/// The pieces covering bytes `start..=end` of `data`, sharing its memory.
pub fn slice(data: &[Bytes], start: u64, end: u64) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut offset = 0u64;
    for piece in data {
        let piece_end = offset + piece.len() as u64;
        if piece_end > start && offset <= end {
            let from = start.saturating_sub(offset) as usize;
            let to = ((end + 1).min(piece_end) - offset) as usize;
            out.push(piece.slice(from..to));
        }
        offset = piece_end;
        if offset > end {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let len = 1000;
        assert_eq!(answer(None, len), Answer::Whole);
        assert_eq!(
            answer(Some("bytes=0-99"), len),
            Answer::Part { start: 0, end: 99 }
        );
        assert_eq!(
            answer(Some("bytes=900-"), len),
            Answer::Part {
                start: 900,
                end: 999
            }
        );
        assert_eq!(
            answer(Some("bytes=-10"), len),
            Answer::Part {
                start: 990,
                end: 999
            }
        );
        assert_eq!(
            answer(Some("bytes=-5000"), len),
            Answer::Part { start: 0, end: 999 }
        );
        assert_eq!(
            answer(Some("bytes=500-5000"), len),
            Answer::Part {
                start: 500,
                end: 999
            }
        );
        assert_eq!(answer(Some("bytes=1000-"), len), Answer::Unsatisfiable);
        assert_eq!(answer(Some("bytes=-0"), len), Answer::Unsatisfiable);
        assert_eq!(answer(Some("bytes=0-0"), 0), Answer::Unsatisfiable);
        for ignored in [
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=9-3",
            "bytes=x-",
            "bytes=18446744073709551616-",
            "bytes=",
        ] {
            assert_eq!(answer(Some(ignored), len), Answer::Whole, "{ignored}");
        }
    }

    #[test]
    fn slices_share_the_pieces() {
        let data = [
            Bytes::from_static(b"abc"),
            Bytes::from_static(b""),
            Bytes::from_static(b"defg"),
            Bytes::from_static(b"hi"),
        ];
        let joined = |pieces: Vec<Bytes>| pieces.concat();
        assert_eq!(joined(slice(&data, 0, 8)), b"abcdefghi");
        assert_eq!(joined(slice(&data, 2, 4)), b"cde");
        assert_eq!(joined(slice(&data, 3, 6)), b"defg");
        assert_eq!(joined(slice(&data, 8, 8)), b"i");
    }

    proptest::proptest! {
        #[test]
        fn any_header_is_answered_within_the_file(header in ".{0,40}", len in 0u64..10_000) {
            match answer(Some(&header), len) {
                Answer::Part { start, end } => proptest::prop_assert!(start <= end && end < len),
                Answer::Whole | Answer::Unsatisfiable => {}
            }
        }
    }
}
