//! Unit tests of the handshake state machines.
