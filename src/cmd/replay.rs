//! `sluice replay`: a HAR capture through the policy offline (table, `--json`,
//! `--fail-on`, `--diff`), or through a running proxy (`--live`).
//!
//! Exit status: 0 when replayed; 1 when `--fail-on` found its action (the check
//! ran and failed); 2 when it could not run (unreadable or malformed HAR or config,
//! bad flags), so CI can tell a policy regression from a broken job.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::CmdResult;
use crate::config::{self, Config};
use crate::policy::Action;
use crate::replay::{har, live, offline, report};

/// What `--fail-on` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    Block,
    Audit,
}

impl std::str::FromStr for FailOn {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "block" => Ok(FailOn::Block),
            "audit" => Ok(FailOn::Audit),
            other => Err(format!("expected block or audit, not {other:?}")),
        }
    }
}

/// Live mode's flags. Without `proxy`, replay starts its own sluice on
/// 127.0.0.1 under `--config`, with `resolve` and `upstream_ca` applied to it.
#[derive(Clone, Debug, Default)]
pub struct LiveArgs {
    pub proxy: Option<String>,
    pub cacert: Option<PathBuf>,
    pub resolve: Vec<crate::config::ResolveRule>,
    pub upstream_ca: Vec<PathBuf>,
    pub concurrency: usize,
    pub rate: Option<f64>,
}

#[derive(Clone, Debug, Default)]
pub struct ReplayArgs {
    pub har: PathBuf,
    pub config: Option<PathBuf>,
    pub json: bool,
    pub fail_on: Option<FailOn>,
    pub diff: Option<PathBuf>,
    /// `Some` with `--live`.
    pub live: Option<LiveArgs>,
}

const UNUSABLE: u8 = 2;

fn load_config(path: Option<&Path>) -> Result<Config, ExitCode> {
    config::load(path).map_err(|errors| {
        eprintln!("{errors}");
        ExitCode::from(UNUSABLE)
    })
}

pub fn replay(args: &ReplayArgs) -> CmdResult {
    let har = match har::load_file(&args.har) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("sluice: {}: {e}", args.har.display());
            return Ok(ExitCode::from(UNUSABLE));
        }
    };
    if let Some(l) = &args.live {
        return live_mode(&har, l, args.config.as_deref(), args.json);
    }
    let cfg = match load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let outcomes = match offline::replay(&cfg, &har) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("sluice: {}: {e}", args.har.display());
            return Ok(ExitCode::from(UNUSABLE));
        }
    };
    if let Some(other_path) = &args.diff {
        let other = match load_config(Some(other_path)) {
            Ok(c) => c,
            Err(code) => return Ok(code),
        };
        let theirs = match offline::replay(&other, &har) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("sluice: {}: {e}", args.har.display());
                return Ok(ExitCode::from(UNUSABLE));
            }
        };
        let changes = offline::diff(&outcomes, &theirs);
        if args.json {
            for c in &changes {
                println!("{}", report::diff_json_line(c));
            }
        } else {
            print!(
                "{}",
                report::diff_text(&changes, outcomes.len(), &other_path.display().to_string())
            );
        }
    } else if args.json {
        for o in &outcomes {
            println!("{}", report::json_line(o));
        }
    } else {
        print!("{}", report::text(&outcomes));
    }
    let fail = args.fail_on.map(|f| match f {
        FailOn::Block => Action::Block,
        FailOn::Audit => Action::Audit,
    });
    if fail.is_some_and(|a| report::any_action(&outcomes, a)) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn live_mode(har: &har::Har, l: &LiveArgs, config_path: Option<&Path>, json: bool) -> CmdResult {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut opts = live::LiveOptions::new(String::new());
    opts.cacert = l.cacert.clone();
    opts.concurrency = l.concurrency.max(1);
    opts.rate = l.rate;
    opts.progress = !json;
    // Kept alive for the run: the in-process proxy, its CA and audit log.
    let mut own: Option<(crate::app::Running, tempfile::TempDir)> = None;
    match &l.proxy {
        Some(url) => {
            if !l.resolve.is_empty() || !l.upstream_ca.is_empty() {
                eprintln!("sluice: --resolve and --upstream-ca configure the proxy replay starts itself; with --proxy, give them to that proxy");
                return Ok(ExitCode::from(UNUSABLE));
            }
            opts.proxy = match live::proxy_authority(url) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("sluice: {e}");
                    return Ok(ExitCode::from(UNUSABLE));
                }
            };
        }
        None => {
            let mut cfg = match load_config(config_path) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            let dir = tempfile::tempdir()?;
            cfg.apply(&config::Overrides {
                listen: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
                ca_dir: Some(dir.path().join("certs")),
                audit_log: Some(dir.path().join("audit.jsonl")),
                resolve: l.resolve.clone(),
                upstream_ca: l.upstream_ca.clone(),
            });
            opts.engine = (*cfg.engine).clone();
            // A proxy for this run alone: no admin endpoint or transparent
            // listener to bind.
            cfg.admin.listen = None;
            cfg.transparent.listen = None;
            let running = rt.block_on(crate::app::start(&cfg))?;
            opts.proxy = running.local_addr().to_string();
            opts.cacert = Some(running.ca_cert.clone());
            eprintln!(
                "sluice: replaying through an in-process sluice on {}",
                opts.proxy
            );
            own = Some((running, dir));
        }
    }
    let outcome = rt.block_on(live::run(har, &opts));
    if let Some((running, _dir)) = own {
        rt.block_on(running.shutdown());
    }
    let results = match outcome {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sluice: {e}");
            return Ok(ExitCode::from(UNUSABLE));
        }
    };
    if json {
        for r in &results {
            println!("{}", r.json_line());
        }
    } else {
        print!("{}", live_text(&results));
    }
    Ok(ExitCode::SUCCESS)
}

fn live_text(results: &[live::LiveResult]) -> String {
    let mut out = String::new();
    for r in results {
        let status = r.status.map_or_else(|| "-".to_owned(), |s| s.to_string());
        out.push_str(&format!(
            "{:>5}  {:<6} {:<3}  {}  {}\n",
            r.index,
            r.method,
            status,
            r.outcome(),
            r.url
        ));
    }
    let blocked = results.iter().filter(|r| r.blocked).count();
    let errors = results.iter().filter(|r| r.error.is_some()).count();
    out.push_str(&format!(
        "\n{} entries: {} forwarded, {blocked} blocked, {errors} failed\n",
        results.len(),
        results.len().saturating_sub(blocked + errors)
    ));
    out
}
