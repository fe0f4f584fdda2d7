//! `media-probe`: frame timing of an FLV file, stdin, an RTMP stream it plays, or
//! an RTMP publisher it accepts. `media-probe --help` lists the options; the
//! crate README explains the output.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
