//! `view_load`: many LL-HLS, HTTP-FLV and RTMP viewers from one process,
//! each checking its reads come in order with no gap the publisher did not
//! cause.
//!
//! ```text
//! cargo run --release --example view_load -- --http 127.0.0.1:8080 --rtmp 127.0.0.1:1935 --streams 20 --viewers 2000 --mix 6,3,1 --duration 60
//! ```
//!
//! Prints a report every 5 s on stderr, the final one as JSON on stdout;
//! exits 3 when a viewer saw a gap or a read out of order. See
//! `examples::view_load`.

fn main() {
    examples::init_tracing("warn");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(examples::view_load::main_with_args(
            &args,
            &mut std::io::stdout(),
            &mut std::io::stderr(),
        )),
        Err(error) => {
            eprintln!("view_load: cannot start the runtime: {error}");
            1
        }
    };
    std::process::exit(code);
}
