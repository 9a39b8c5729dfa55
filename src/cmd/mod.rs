//! The bodies of the subcommands; `main.rs` only parses arguments and maps results to exit codes.
