//! `rtmp_load`: N concurrent real-time RTMP publishers from one process.
//!
//! ```text
//! cargo run --release --example rtmp_load -- --streams 100 --url rtmp://127.0.0.1/live --file in.flv --duration 60
//! ```
//!
//! Stream `i` publishes `rtmp://HOST/APP/loadi`; the file loops with its
//! timestamps continued. Prints a report every 5 s on stderr, the final one
//! as JSON on stdout; exits 3 when a stream fell behind real time. See
//! `examples::rtmp_load`.

fn main() {
    examples::init_tracing("warn");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(examples::rtmp_load::main_with_args(
            &args,
            &mut std::io::stdout(),
            &mut std::io::stderr(),
        )),
        Err(error) => {
            eprintln!("rtmp_load: cannot start the runtime: {error}");
            1
        }
    };
    std::process::exit(code);
}
