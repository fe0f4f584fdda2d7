//! `flv_to_hls`: an FLV file repackaged as HLS or as one fragmented MP4, without re-encoding.
//!
//!     cargo run --release --example flv_to_hls -- [--format ts|fmp4|mp4] [--target-duration S] [--part-duration S] INPUT.flv OUTDIR
//!
//! Writes `OUTDIR/index.m3u8` (a VOD playlist) and its segments, or with
//! `--format mp4` one fragmented MP4 file (`OUTDIR` ending in `.mp4`, or
//! `OUTDIR/index.mp4`). See `examples::flv_to_hls`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(examples::flv_to_hls::main_with_args(
        &args,
        &mut std::io::stderr(),
    ));
}
