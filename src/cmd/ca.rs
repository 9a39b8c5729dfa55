//! `sluice ca init`: create the local CA, constrained to the intercepted domains.

use std::path::Path;
use std::process::ExitCode;

use super::CmdResult;
use crate::config;
use crate::tls::CertAuthority;

pub fn init(dir: &Path, overwrite: bool, config_path: Option<&Path>) -> CmdResult {
    let cfg = match config::load(config_path) {
        Ok(c) => c,
        Err(errors) => {
            eprintln!("{errors}");
            return Ok(ExitCode::from(1));
        }
    };
    let opts = crate::app::ca_options(&cfg);
    let files = CertAuthority::init(dir, &opts, overwrite)?;
    println!("CA certificate: {}", files.cert.display());
    println!("CA key:         {} (mode 0600)", files.key.display());
    if opts.name_constraints.is_empty() && opts.ip_constraints.is_empty() {
        println!("name constraints: none (the CA can sign for any name)");
    } else {
        println!(
            "name constraints: {}",
            opts.name_constraints
                .iter()
                .map(String::as_str)
                .chain(opts.ip_constraints.iter().map(|_| "<ip>"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
