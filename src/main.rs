//! The `sluice` command line: parse, initialise tracing, call into the library.
//! The only place that turns results into exit codes.

fn main() {
    println!("sluice: work in progress");
}
