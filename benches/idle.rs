//! Memory held by idle intercepted connections (DESIGN.md: "10,000 idle
//! connections in well under 1 GB"). sluice runs as a process of its own (the
//! built binary), so its resident memory is its alone; this process is the
//! clients and the origin. Each client opens a CONNECT to an intercepted host,
//! completes TLS with sluice's minted leaf, sends one GET and keeps the
//! connection open and idle. The figure is sluice's RSS growth per connection.
//!
//! `cargo bench --bench idle` (`SLUICE_IDLE_CONNS=N` for another count).

#[path = "../tests/support/pki.rs"]
#[allow(dead_code)]
mod pki;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Response;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const HOST: &str = "oapi.dingtalk.io";
/// Connections opened at once while building up.
const PARALLEL: usize = 64;

type Client = tokio_rustls::client::TlsStream<TcpStream>;

/// A TLS origin answering every request with a short body, keeping the
/// connection alive.
async fn origin(id: pki::Identity) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(pki::server_config(id));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = service_fn(|_req| async {
                    Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from_static(
                        b"{\"errcode\":0}",
                    ))))
                });
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(TokioIo::new(tls), svc)
                .await;
            });
        }
    });
    addr
}

/// sluice as a child process with room for the connections, and its address.
fn sluice(
    dir: &std::path::Path,
    origin: SocketAddr,
    ca: &std::path::Path,
    conns: usize,
) -> (Child, SocketAddr) {
    let cfg = dir.join("sluice.yaml");
    std::fs::write(
        &cfg,
        format!(
            "limits: {{ max_connections: {}, idle_timeout: 600s }}\nadmin: {{ listen: null }}\n",
            conns + 100
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["run", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .arg("--ca-dir")
        .arg(dir.join("ca"))
        .arg("--audit-log")
        .arg(dir.join("audit.jsonl"))
        .arg("--resolve")
        .arg(format!("{HOST}:443:{origin}"))
        .arg("--upstream-ca")
        .arg(ca)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the sluice binary runs");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().expect("sluice says where it listens").unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split(' ').next().unwrap().parse().unwrap();
        }
    };
    // Keep draining its stderr so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

/// Resident memory of `pid`, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    kib * 1024
}

/// CONNECT, TLS, one GET answered: an intercepted connection left open.
async fn open(proxy: SocketAddr, tls: Arc<rustls::ClientConfig>) -> Client {
    let mut tcp = TcpStream::connect(proxy).await.unwrap();
    tcp.write_all(format!("CONNECT {HOST}:443 HTTP/1.1\r\nHost: {HOST}:443\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let head = read_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let name = rustls::pki_types::ServerName::try_from(HOST).unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .unwrap();
    tls.write_all(format!("GET /gettoken HTTP/1.1\r\nHost: {HOST}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let head = read_head(&mut tls).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    tls.read_exact(&mut body).await.unwrap();
    tls
}

async fn read_head<S: AsyncReadExt + Unpin>(s: &mut S) -> String {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut b).await.unwrap(), 1, "connection closed");
        head.push(b[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that does not name this bench skips it.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if !args.is_empty()
        && !args
            .iter()
            .any(|a| "idle".contains(a.as_str()) || a.contains("idle"))
    {
        return;
    }
    let total: usize = std::env::var("SLUICE_IDLE_CONNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let pki = pki::Pki::new("idle bench origin CA");
        let origin = origin(pki.issue(&[HOST])).await;
        let (mut child, proxy) = sluice(dir.path(), origin, &pki.ca_file(), total);
        let roots = pki::roots_from_pem(&std::fs::read_to_string(dir.path().join("ca/sluice-ca.pem")).unwrap());
        let tls = pki::client_config(roots, &[b"http/1.1"]);
        // One connection first: the leaf is minted and the upstream pool warm.
        let warm = open(proxy, tls.clone()).await;
        drop(warm);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let base = rss(child.id());
        println!("idle/baseline: sluice RSS {:.1} MiB", base as f64 / (1 << 20) as f64);
        let mut held: Vec<Client> = Vec::with_capacity(total);
        let started = Instant::now();
        let marks = [total / 10, total / 2, total];
        for &mark in &marks {
            while held.len() < mark {
                let n = (mark - held.len()).min(PARALLEL);
                let batch: Vec<_> = (0..n).map(|_| tokio::spawn(open(proxy, tls.clone()))).collect();
                for b in batch {
                    held.push(b.await.unwrap());
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = rss(child.id());
            let per = now.saturating_sub(base) / held.len() as u64;
            println!(
                "idle/intercepted_{}: sluice RSS {:.1} MiB, {:.1} KiB per idle connection ({:.1}s to open)",
                held.len(),
                now as f64 / (1 << 20) as f64,
                per as f64 / 1024.0,
                started.elapsed().as_secs_f64()
            );
        }
        drop(held);
        let _ = child.kill();
        let _ = child.wait();
    });
}
