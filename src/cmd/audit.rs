//! `sluice audit verify FILE... [--from HASH] [--anchor HASH]...`: check the
//! hash chain across one log's files (and that it still passes through each
//! anchor); exit 1 and say where it breaks, 2 on a malformed hash argument.
//! `sluice audit report FILE... [--from HASH] [--json] [--html OUT]`: the same
//! check, then the log summed up (`crate::audit::Report`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::CmdResult;

pub fn verify(files: &[PathBuf], from: Option<&str>, anchors: &[String]) -> CmdResult {
    let hash = |a: &str| a.trim().to_ascii_lowercase();
    let anchors: Vec<String> = anchors.iter().map(|a| hash(a)).collect();
    let from = from.map(hash);
    let bad = |flag: &str, a: &str| {
        eprintln!(
            "sluice: {flag} {:?} is not a record hash (64 hex digits, as `last hash` prints it)",
            a.chars().take(80).collect::<String>()
        );
        Ok(ExitCode::from(2))
    };
    if let Some(a) = anchors.iter().find(|a| !crate::audit::is_hash(a)) {
        return bad("--anchor", a);
    }
    if let Some(f) = from.as_deref().filter(|f| !crate::audit::is_hash(f)) {
        return bad("--from", f);
    }
    let start = from.as_deref().unwrap_or(crate::audit::GENESIS);
    match crate::audit::verify_files(files, start, &anchors) {
        Ok(reports) => {
            for (path, r) in &reports {
                println!(
                    "{}: ok, {} record(s){}",
                    path.display(),
                    r.records,
                    match (&r.first_ts, &r.last_ts) {
                        (Some(a), Some(b)) => format!(" from {a} to {b}"),
                        _ => String::new(),
                    }
                );
            }
            for (k, a) in anchors.iter().enumerate() {
                let at = reports
                    .iter()
                    .find_map(|(p, r)| r.anchors.get(k).filter(|&&l| l != 0).map(|l| (p, l)));
                if let Some((path, line)) = at {
                    if reports.len() == 1 {
                        println!("anchor {a}: found at line {line}");
                    } else {
                        println!("anchor {a}: found at {}:{line}", path.display());
                    }
                }
            }
            let last = reports.last().map_or(start, |(_, r)| r.last_hash.as_str());
            println!("last hash: {last}");
            Ok(ExitCode::SUCCESS)
        }
        Err((path, e)) => {
            println!("{}: chain broken at {e}", path.display());
            let first = files.first() == Some(&path);
            if first && e.line == 1 && e.reason == crate::audit::BreakReason::PrevMismatch {
                println!(
                    "(its first record continues an earlier file: give the files before it, oldest first, or --from with the last hash a verify of them printed)"
                );
            }
            Ok(ExitCode::from(1))
        }
    }
}

pub fn report(files: &[PathBuf], from: Option<&str>, json: bool, html: Option<&Path>) -> CmdResult {
    let from = from.map(|f| f.trim().to_ascii_lowercase());
    if let Some(f) = from.as_deref().filter(|f| !crate::audit::is_hash(f)) {
        eprintln!(
            "sluice: --from {:?} is not a record hash (64 hex digits, as `last hash` prints it)",
            f.chars().take(80).collect::<String>()
        );
        return Ok(ExitCode::from(2));
    }
    let start = from.as_deref().unwrap_or(crate::audit::GENESIS);
    let report = match crate::audit::Report::of_files(files, start) {
        Ok(r) => r,
        Err(e) => {
            println!("{e}");
            println!("no report: a summary of records that may have been changed is no evidence");
            return Ok(ExitCode::from(1));
        }
    };
    if let Some(out) = html {
        std::fs::write(out, report.html())
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    }
    if json {
        println!("{}", report.json());
    } else {
        print!("{}", report.text());
        if let Some(out) = html {
            println!("\nHTML report written to {}", out.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
