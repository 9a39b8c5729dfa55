//! `sluice audit verify FILE`: check the hash chain; exit 1 and say where it breaks.

use std::path::Path;
use std::process::ExitCode;

use super::CmdResult;

pub fn verify(path: &Path) -> CmdResult {
    match crate::audit::verify_file(path) {
        Ok(r) => {
            println!(
                "{}: ok, {} record(s){}",
                path.display(),
                r.records,
                match (&r.first_ts, &r.last_ts) {
                    (Some(a), Some(b)) => format!(" from {a} to {b}"),
                    _ => String::new(),
                }
            );
            println!("last hash: {}", r.last_hash);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("{}: chain broken at {e}", path.display());
            Ok(ExitCode::from(1))
        }
    }
}
