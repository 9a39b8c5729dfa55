//! The bodies of the subcommands; `main.rs` only parses arguments and maps results to exit codes.

pub mod audit;
pub mod ca;
pub mod check;
pub mod replay;
pub mod run;
pub mod scan;

/// Logs go to stderr, filtered by `RUST_LOG` (default `info`). Colour only
/// on a terminal: under systemd or into a file, escape codes are noise in
/// every line.
pub fn init_tracing() {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// What a subcommand failed with, for `main` to print.
pub type CmdResult = Result<std::process::ExitCode, Box<dyn std::error::Error>>;
