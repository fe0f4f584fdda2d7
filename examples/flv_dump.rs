//! `flv_dump`: what an FLV file holds.
//!
//!     cargo run --release --example flv_dump -- FILE.flv              # per-tag listing
//!     cargo run --release --example flv_dump -- --framemd5 FILE.flv   # per-frame MD5s
//!
//! `--framemd5` prints `video|audio, dts_ms, pts_ms, size, md5` per frame in file
//! order; see `examples::flv_dump`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let code = examples::flv_dump::main_with_args(&args, &mut out, &mut std::io::stderr());
    drop(out);
    std::process::exit(code);
}
