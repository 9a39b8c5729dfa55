//! `sluice run`: load the config, start the proxy, serve until SIGINT/SIGTERM.

use std::path::Path;
use std::process::ExitCode;

use super::CmdResult;
use crate::config::{self, Overrides};

pub fn run(
    config_path: Option<&Path>,
    overrides: &Overrides,
    opts: &crate::app::StartOptions,
) -> CmdResult {
    let mut cfg = match config::load(config_path) {
        Ok(c) => c,
        Err(errors) => {
            eprintln!("{errors}");
            return Ok(ExitCode::from(1));
        }
    };
    cfg.apply(overrides);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let running = crate::app::start_with(&cfg, opts).await?;
        // Before "listening": a reload sent as soon as that line appears must
        // find the handler in place.
        let signals = crate::app::Signals::install()?;
        if let Some(r) = &opts.record {
            eprintln!(
                "sluice: recording intercepted flows to {} (sensitive values masked)",
                r.display()
            );
        }
        if running.ca_created {
            eprintln!(
                "sluice: created a new CA at {} — install it in your trust store (see README)",
                running.ca_cert.display()
            );
        } else {
            eprintln!("sluice: using the CA at {}", running.ca_cert.display());
        }
        if let Some(a) = running.admin_addr() {
            eprintln!("sluice: admin endpoint on http://{a}/healthz and /metrics");
        }
        if let Some(a) = running.transparent_addr() {
            eprintln!("sluice: transparent mode: redirected connections on {a}");
        }
        eprintln!(
            "sluice: inspecting with {}",
            crate::inspect::cpu::vectors().describe()
        );
        eprintln!(
            "sluice: listening on {} (config: {})",
            running.local_addr(),
            cfg.source
        );
        running
            .until_signal(signals, config_path, overrides)
            .await?;
        Ok::<_, Box<dyn std::error::Error>>(ExitCode::SUCCESS)
    })
}
