//! The `sluice` command line: parse, initialise tracing, call into the library.
//! The only place that turns results into exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use sluice::cmd;
use sluice::config::{Overrides, ResolveRule};

#[derive(Parser)]
#[command(
    name = "sluice",
    version,
    about = "A data-residency proxy for uploads to DingTalk and other SaaS"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the proxy (the embedded default config when --config is not given).
    Run {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Listen address, e.g. 127.0.0.1:3128.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Where the CA lives (created there on first start).
        #[arg(long)]
        ca_dir: Option<PathBuf>,
        /// The audit log (JSON Lines, hash-chained).
        #[arg(long)]
        audit_log: Option<PathBuf>,
        /// HOST:PORT:IP:PORT2 — connect to IP:PORT2 for requests to HOST:PORT (repeatable).
        #[arg(long, value_name = "HOST:PORT:IP:PORT2")]
        resolve: Vec<ResolveRule>,
        /// Extra PEM roots for upstream servers (repeatable).
        #[arg(long, value_name = "FILE")]
        upstream_ca: Vec<PathBuf>,
        /// Write the intercepted flows to this HAR file, sensitive values masked.
        #[arg(long, value_name = "FILE.har")]
        record: Option<PathBuf>,
    },
    /// Manage the local CA.
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
    /// Validate a config and print what it compiles to (exit 1 on any error).
    Check {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Classify files as the proxy would classify an upload of them ('-' reads stdin).
    Scan {
        /// One JSON object per input, one per line.
        #[arg(long)]
        json: bool,
        #[arg(long)]
        config: Option<PathBuf>,
        /// Treat every input as this Content-Type instead of sniffing it.
        #[arg(long, value_name = "T")]
        content_type: Option<String>,
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<String>,
    },
    /// Decide every request of a HAR capture under a policy (offline), compare two
    /// policies (--diff), or send the capture through a running proxy (--live).
    /// Exit 1 when --fail-on found its action; 2 when the HAR or a config is unusable.
    Replay {
        /// One JSON object per entry (per changed entry with --diff).
        #[arg(long)]
        json: bool,
        #[arg(long)]
        config: Option<PathBuf>,
        /// Exit 1 if any entry's action is this.
        #[arg(long, value_name = "block|audit")]
        fail_on: Option<cmd::replay::FailOn>,
        /// List the entries whose verdict changes under this other config.
        #[arg(long, value_name = "OTHER.yaml", conflicts_with = "live")]
        diff: Option<PathBuf>,
        /// Send the requests through a proxy instead of deciding offline: the one
        /// at --proxy, else a sluice started in-process under --config.
        #[arg(long)]
        live: bool,
        /// The proxy for --live, http://HOST:PORT.
        #[arg(long, value_name = "URL", requires = "live")]
        proxy: Option<String>,
        /// For the in-process proxy of --live: HOST:PORT:IP:PORT2 (repeatable).
        #[arg(long, value_name = "HOST:PORT:IP:PORT2", requires = "live")]
        resolve: Vec<ResolveRule>,
        /// For the in-process proxy of --live: extra upstream PEM roots (repeatable).
        #[arg(long, value_name = "FILE", requires = "live")]
        upstream_ca: Vec<PathBuf>,
        /// The proxy's CA certificate (PEM) for --live.
        #[arg(long, value_name = "FILE")]
        cacert: Option<PathBuf>,
        /// Requests in flight at once with --live.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
        concurrency: u32,
        /// Requests started per second at most with --live.
        #[arg(long, value_name = "R")]
        rate: Option<f64>,
        /// The capture.
        har: PathBuf,
    },
    /// Work with the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; exit 1 and name the first broken record. Several
    /// files are one log, oldest first (a rotated log: `sluice-audit.*.jsonl`
    /// then `sluice-audit.jsonl`), the chain running on from one to the next.
    Verify {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The last hash before the first file, when the files before it are
        /// gone (as an earlier verify of them printed it). Default: the log's start.
        #[arg(long, value_name = "HASH")]
        from: Option<String>,
        /// A `last hash` printed by an earlier verify and kept elsewhere: the
        /// chain must still pass through it (repeatable).
        #[arg(long = "anchor", value_name = "HASH")]
        anchors: Vec<String>,
    },
    /// Sum a verified log up as evidence for a data-protection assessment:
    /// period, integrity, uploads by destination and outcome, personal data
    /// by category, rules, incomplete inspections, policies in force. Counts
    /// only. Exit 1 (and no report) when the chain is broken.
    Report {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// As for `verify`: the last hash before the first file.
        #[arg(long, value_name = "HASH")]
        from: Option<String>,
        /// The report as one JSON document on stdout.
        #[arg(long)]
        json: bool,
        /// Also write a self-contained HTML page (tables and a chart) here.
        #[arg(long, value_name = "OUT.html")]
        html: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum CaCommand {
    /// Create the CA: DIR/sluice-ca.pem and DIR/sluice-ca.key (mode 0600).
    Init {
        #[arg(long, default_value = "certs")]
        dir: PathBuf,
        /// Replace an existing CA (every trust store must then be updated).
        #[arg(long)]
        overwrite: bool,
        /// Config whose intercepted domains constrain the CA.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// Commands that only print (to a pager, `head`, a pipe) should end quietly when
/// the reader goes away, as Unix tools do, rather than panic on a broken pipe.
/// Not for `run` or `replay --live`, whose sockets must get EPIPE as an error instead.
fn exit_quietly_on_broken_pipe() {
    // SAFETY: restoring the default disposition of SIGPIPE before any thread is
    // started; no handler is installed, so nothing can run in signal context.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Command::Check { .. }
            | Command::Scan { .. }
            | Command::Audit { .. }
            | Command::Ca { .. }
            | Command::Replay { live: false, .. }
    ) {
        exit_quietly_on_broken_pipe();
    }
    cmd::init_tracing();
    // The commands that inspect bodies refuse a SLUICE_SIMD they do not
    // understand before any is scanned, rather than run the widest pass.
    if matches!(
        cli.command,
        Command::Run { .. } | Command::Scan { .. } | Command::Replay { .. }
    ) {
        if let Err(e) = sluice::inspect::cpu::baseline_requested() {
            eprintln!("sluice: {e}");
            return ExitCode::from(1);
        }
    }
    let result = match cli.command {
        Command::Run {
            config,
            listen,
            ca_dir,
            audit_log,
            resolve,
            upstream_ca,
            record,
        } => cmd::run::run(
            config.as_deref(),
            &Overrides {
                listen,
                ca_dir,
                audit_log,
                resolve,
                upstream_ca,
            },
            &sluice::app::StartOptions { record },
        ),
        Command::Ca {
            command:
                CaCommand::Init {
                    dir,
                    overwrite,
                    config,
                },
        } => cmd::ca::init(&dir, overwrite, config.as_deref()),
        Command::Check { config } => cmd::check::check(config.as_deref()),
        Command::Scan {
            json,
            config,
            content_type,
            paths,
        } => cmd::scan::scan(&paths, json, config.as_deref(), content_type.as_deref()),
        Command::Replay {
            json,
            config,
            fail_on,
            diff,
            live,
            proxy,
            resolve,
            upstream_ca,
            cacert,
            concurrency,
            rate,
            har,
        } => cmd::replay::replay(&cmd::replay::ReplayArgs {
            har,
            config,
            json,
            fail_on,
            diff,
            live: live.then_some(cmd::replay::LiveArgs {
                proxy,
                cacert,
                resolve,
                upstream_ca,
                concurrency: concurrency as usize,
                rate,
            }),
        }),
        Command::Audit {
            command:
                AuditCommand::Verify {
                    files,
                    from,
                    anchors,
                },
        } => cmd::audit::verify(&files, from.as_deref(), &anchors),
        Command::Audit {
            command:
                AuditCommand::Report {
                    files,
                    from,
                    json,
                    html,
                },
        } => cmd::audit::report(&files, from.as_deref(), json, html.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sluice: {e}");
            ExitCode::from(1)
        }
    }
}
