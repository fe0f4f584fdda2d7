//! What a server and a client session share below the command layer: the chunk
//! codec, acknowledgements at the peer's window, ping answers and the output queue.

use bytes::BytesMut;

use super::SessionError;
use crate::chunk::{ChunkDecoder, ChunkEncoder, ChunkOutput, DecoderLimits, RawMessage};
use crate::message::{chunk_stream, Message, UserControl};

#[derive(Debug)]
pub(super) struct Transport {
    pub(super) decoder: ChunkDecoder,
    encoder: ChunkEncoder,
    pub(super) output: ChunkOutput,
    /// Bytes received after the handshake (what acknowledgements count).
    received: u64,
    /// `received` when the last acknowledgement was sent.
    acked: u64,
    /// The peer's Window Acknowledgement Size, once it sent one.
    ack_window: Option<u32>,
    pub(super) amf_limits: amf0::Limits,
}

impl Transport {
    pub(super) fn new(limits: DecoderLimits, amf_limits: amf0::Limits) -> Transport {
        Transport {
            decoder: ChunkDecoder::with_limits(limits),
            encoder: ChunkEncoder::new(),
            output: ChunkOutput::new(),
            received: 0,
            acked: 0,
            ack_window: None,
            amf_limits,
        }
    }

    pub(super) fn send(
        &mut self,
        chunk_stream_id: u32,
        stream_id: u32,
        timestamp: u64,
        message: &Message,
    ) {
        let raw = message.to_raw(chunk_stream_id, stream_id, timestamp);
        self.encoder.encode(&raw, &mut self.output);
    }

    pub(super) fn send_raw(&mut self, raw: &RawMessage) {
        self.encoder.encode(raw, &mut self.output);
    }

    /// Announces and then uses a new outgoing chunk size.
    pub(super) fn set_chunk_size(&mut self, size: u32) -> Result<(), SessionError> {
        if size == self.encoder.chunk_size() {
            return Ok(());
        }
        // Sent with the old size, then applied: the peer switches after reading it.
        self.send(chunk_stream::CONTROL, 0, 0, &Message::SetChunkSize(size));
        self.encoder.set_chunk_size(size)?;
        Ok(())
    }

    /// Decodes the next complete message, counting bytes and acknowledging at the window.
    pub(super) fn next_message(
        &mut self,
        input: &mut BytesMut,
    ) -> Result<Option<RawMessage>, SessionError> {
        let before = input.len();
        let message = self.decoder.decode(input);
        self.received += (before - input.len()) as u64;
        if let Some(window) = self.ack_window.filter(|&w| w > 0) {
            if self.received - self.acked >= u64::from(window) {
                self.acked = self.received;
                // The sequence number is the byte count modulo 2^32 (it wraps on long sessions).
                let sequence_number = self.received as u32;
                self.send(
                    chunk_stream::CONTROL,
                    0,
                    0,
                    &Message::Acknowledgement { sequence_number },
                );
            }
        }
        Ok(message?)
    }

    pub(super) fn parse(&self, raw: &RawMessage) -> Result<Message, SessionError> {
        Message::from_raw(raw, &self.amf_limits).map_err(|source| SessionError::Message {
            chunk_stream_id: raw.chunk_stream_id,
            type_id: raw.type_id,
            source,
        })
    }

    /// Handles what both sides treat the same; returns the message if the session must see it.
    pub(super) fn handle_common(&mut self, message: Message) -> Option<Message> {
        match message {
            // The decoder applied chunk size and abort already.
            Message::SetChunkSize(_) | Message::Abort { .. } | Message::Acknowledgement { .. } => {
                None
            }
            Message::WindowAckSize(window) => {
                self.ack_window = Some(window);
                None
            }
            Message::UserControl(UserControl::PingRequest(time)) => {
                let pong = Message::UserControl(UserControl::PingResponse(time));
                self.send(chunk_stream::CONTROL, 0, 0, &pong);
                None
            }
            other => Some(other),
        }
    }

    pub(super) fn bytes_received(&self) -> u64 {
        self.received
    }
}
