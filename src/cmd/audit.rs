//! `sluice audit verify FILE [--anchor HASH]...`: check the hash chain (and that it
//! still passes through each anchor); exit 1 and say where it breaks, 2 on a
//! malformed anchor.

use std::path::Path;
use std::process::ExitCode;

use super::CmdResult;

pub fn verify(path: &Path, anchors: &[String]) -> CmdResult {
    let anchors: Vec<String> = anchors
        .iter()
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    if let Some(bad) = anchors.iter().find(|a| !crate::audit::is_hash(a)) {
        eprintln!(
            "sluice: --anchor {:?} is not a record hash (64 hex digits, as `last hash` prints it)",
            bad.chars().take(80).collect::<String>()
        );
        return Ok(ExitCode::from(2));
    }
    match crate::audit::verify_file(path, &anchors) {
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
            for (a, line) in anchors.iter().zip(&r.anchors) {
                println!("anchor {a}: found at line {line}");
            }
            println!("last hash: {}", r.last_hash);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("{}: chain broken at {e}", path.display());
            Ok(ExitCode::from(1))
        }
    }
}
