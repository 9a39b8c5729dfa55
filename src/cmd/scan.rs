//! `sluice scan`: classify files as the proxy would classify an upload of them.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use super::CmdResult;
use crate::config;
use crate::inspect::{ContentHint, Engine, Findings};

/// Read size: large enough to be cheap, small enough to keep memory flat.
const CHUNK: usize = 256 * 1024;

pub fn scan(
    paths: &[String],
    json: bool,
    config_path: Option<&Path>,
    content_type: Option<&str>,
) -> CmdResult {
    let cfg = match config::load(config_path) {
        Ok(c) => c,
        Err(errors) => {
            eprintln!("{errors}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut failed = false;
    if !json {
        println!("{:<40} {:>12}  {:<40} NOTES", "PATH", "BYTES", "CLASSES");
    }
    for p in paths {
        match scan_one(&cfg.engine, p, content_type) {
            Ok(f) => {
                if json {
                    println!("{}", json_line(p, &f));
                } else {
                    println!("{}", table_line(p, &f));
                }
            }
            Err(e) => {
                eprintln!("sluice scan: {p}: {e}");
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Streams one file (or stdin for `-`) through the engine.
pub fn scan_one(
    engine: &Engine,
    path: &str,
    content_type: Option<&str>,
) -> std::io::Result<Findings> {
    let hint = ContentHint {
        content_type: content_type.map(str::to_string),
        content_encoding: None,
        file_name: (path != "-").then(|| path.to_string()),
    };
    let mut reader: Box<dyn Read> = if path == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(path)?)
    };
    let mut scanner = engine.scanner(hint);
    let mut buf = vec![0u8; CHUNK];
    // Past the engine's body limit nothing more is looked at: stop reading too
    // (the scan is then incomplete), so `/dev/zero` or a FIFO cannot run forever.
    let stop_after = engine.limits().max_body_bytes.saturating_add(1);
    let mut read = 0u64;
    while read < stop_after {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                read += n as u64;
                scanner.feed(&buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(scanner.finish())
}

/// The JSON Lines shape DESIGN.md gives for `scan --json`, fields in its order.
pub fn json_line(path: &str, f: &Findings) -> String {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        path: &'a str,
        bytes: u64,
        classes: std::collections::BTreeMap<&'static str, u64>,
        categories: std::collections::BTreeMap<&'static str, u64>,
        incomplete: Option<String>,
    }
    let line = Line {
        path,
        bytes: f.bytes,
        classes: f.classes.iter().map(|(c, n)| (c.id(), *n)).collect(),
        categories: f.categories().iter().map(|(c, n)| (c.id(), *n)).collect(),
        incomplete: f.incomplete.as_ref().map(|i| i.to_string()),
    };
    serde_json::to_string(&line).unwrap_or_default()
}

fn table_line(path: &str, f: &Findings) -> String {
    let classes = if f.classes.is_empty() {
        "-".to_string()
    } else {
        f.classes
            .iter()
            .map(|(c, n)| format!("{c}={n}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut notes = Vec::new();
    if !f.formats.is_empty() {
        notes.push(f.formats.join(">"));
    }
    if !f.skipped_media.is_empty() {
        notes.push(format!("skipped {}", f.skipped_media.join(",")));
    }
    if let Some(i) = &f.incomplete {
        notes.push(format!("INCOMPLETE {i}"));
    }
    let shown: String = if path.chars().count() > 40 {
        let tail: String = path
            .chars()
            .rev()
            .take(39)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    } else {
        path.to_string()
    };
    format!(
        "{shown:<40} {:>12}  {classes:<40} {}",
        f.bytes,
        notes.join("; ")
    )
}
