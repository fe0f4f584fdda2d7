//! The tokio side of a session's run loop (feature `tokio`): the three things
//! every loop does the same way, written once for the server, the relay's
//! pushes, the load generator and the probe.
//!
//! - [`read_into`]: read what the socket has into the input buffer, keeping room;
//! - [`write_output`]: write a session's [`ChunkOutput`] with vectored writes of
//!   its `Bytes` pieces (no copy into one buffer);
//! - [`sleep_until`]: wait for a session's `poll_timeout()` (forever without one),
//!   as a `select!` arm.

use std::io::IoSlice;
use std::time::Instant;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::ChunkOutput;

/// Room kept free in the input buffer before a read, and what is added when less is left.
const READ_ROOM: usize = 4096;
const READ_GROWTH: usize = 64 * 1024;

/// Reads what `reader` has into `input` (at least 4 KiB of room is made first).
/// `Ok(0)` means the peer closed the connection.
pub async fn read_into<R: AsyncRead + Unpin>(
    reader: &mut R,
    input: &mut BytesMut,
) -> std::io::Result<usize> {
    if input.capacity() - input.len() < READ_ROOM {
        input.reserve(READ_GROWTH);
    }
    reader.read_buf(input).await
}

/// Writes everything `output` holds, with vectored writes of up to 64 pieces,
/// then flushes; returns the bytes written.
pub async fn write_output<W: AsyncWrite + Unpin>(
    writer: &mut W,
    output: &mut ChunkOutput,
) -> std::io::Result<usize> {
    let mut total = 0;
    while !output.is_empty() {
        let mut slices = [IoSlice::new(&[]); 64];
        let count = output.chunks_vectored(&mut slices);
        let written = writer.write_vectored(&slices[..count]).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        output.advance(written);
        total += written;
    }
    writer.flush().await?;
    Ok(total)
}

/// Waits until `deadline` (a session's `poll_timeout()`), or forever without one.
pub async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[tokio::test]
    async fn output_pieces_arrive_in_order_and_reads_keep_room() {
        let mut output = ChunkOutput::new();
        for piece in [&b"abc"[..], b"", b"defgh", b"i"] {
            output.push(Bytes::copy_from_slice(piece));
        }
        let (mut near, mut far) = tokio::io::duplex(4);
        let writer = tokio::spawn(async move {
            let written = write_output(&mut near, &mut output).await.unwrap();
            assert!(output.is_empty());
            written
        });
        let mut input = BytesMut::new();
        while input.len() < 9 {
            assert!(read_into(&mut far, &mut input).await.unwrap() > 0);
            assert!(input.capacity() >= READ_ROOM);
        }
        assert_eq!(&input[..], b"abcdefghi");
        assert_eq!(writer.await.unwrap(), 9);
    }

    #[tokio::test]
    async fn a_deadline_in_the_past_returns_at_once() {
        let before = Instant::now();
        sleep_until(Some(before)).await;
        let never = tokio::time::timeout(std::time::Duration::from_millis(20), sleep_until(None));
        assert!(never.await.is_err());
    }
}
