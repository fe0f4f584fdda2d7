//! FLV: file and stream demux, tag bodies (legacy and Enhanced RTMP/FLV), codec
//! configuration records, and mux.

pub mod config;
