//! `sluice check`: validate a config, print what it compiles to; exit 1 on any error.

use std::path::Path;
use std::process::ExitCode;

use super::CmdResult;
use crate::config;

pub fn check(config_path: Option<&Path>) -> CmdResult {
    let cfg = match config::load(config_path) {
        Ok(c) => c,
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("{} error(s)", errors.0.len());
            return Ok(ExitCode::from(1));
        }
    };
    println!("{}: ok", cfg.source);
    println!("listen:     {}", cfg.listen);
    println!(
        "clients:    {}",
        cfg.clients
            .allow
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "auth:       {}",
        cfg.auth.as_ref().map_or("off".to_string(), |a| format!(
            "basic, {} user(s)",
            a.users.len()
        ))
    );
    println!("intercept:  {}", cfg.intercept.hosts.join(", "));
    if !cfg.intercept.bypass.is_empty() {
        println!("bypass:     {}", cfg.intercept.bypass.join(", "));
    }
    println!(
        "tls:        CA in {}, name constraints {}, leaf cache {}",
        cfg.tls.ca_dir.display(),
        if cfg.tls.name_constraints {
            "on"
        } else {
            "off"
        },
        cfg.tls.leaf_cache
    );
    for r in &cfg.resolve {
        println!("resolve:    {r}");
    }
    println!(
        "limits:     {} connections, header {}, idle {}, connect {}, grace {}, head {}",
        cfg.limits.max_connections,
        cfg.limits.header_read_timeout,
        cfg.limits.idle_timeout,
        cfg.limits.connect_timeout,
        cfg.limits.shutdown_grace,
        cfg.limits.max_header_bytes
    );
    println!(
        "hold:       {} in memory, {} at most",
        cfg.hold.memory, cfg.hold.max
    );
    println!(
        "audit:      {}, {}",
        cfg.audit.path.display(),
        cfg.audit
            .rotate
            .map_or("never rotated".to_string(), |b| format!("rotated past {b}"))
    );
    println!(
        "admin:      {}",
        cfg.admin.listen.map_or("off".to_string(), |a| format!(
            "http://{a}/healthz, /metrics"
        ))
    );
    println!(
        "transparent: {}",
        cfg.transparent
            .listen
            .map_or("off".to_string(), |a| format!(
                "redirected connections on {a}"
            ))
    );
    println!();
    print!("{}", cfg.policy.summary());
    Ok(ExitCode::SUCCESS)
}
