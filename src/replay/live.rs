//! Live replay: each captured request sent through a running sluice (CONNECT and
//! TLS for https, absolute-form for http), with bounded concurrency and rate,
//! reporting what came back and whether sluice blocked it (`x-sluice-ticket`).

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::har::{Har, HarEntry};
use super::offline::{entry_meta, entry_url, is_websocket};
use crate::inspect::Engine;
use crate::policy::RequestMeta;
use crate::tls::{Alpn, UpstreamTls};

/// Longest proxy answer head to a CONNECT.
const MAX_HEAD: usize = 64 * 1024;
/// Response bytes read per entry; the rest is drained unread.
const MAX_BODY: usize = 1 << 20;
/// Headers the client must not copy from a capture: hop-by-hop, or recomputed.
const SKIP_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
    "content-type",
    // A WebSocket handshake gets a fresh key, and no extension sluice's
    // client would then have to speak.
    "sec-websocket-key",
    "sec-websocket-extensions",
    "sec-websocket-version",
];

#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// The proxy's `host:port`.
    pub proxy: String,
    /// The proxy's CA (`certs/sluice-ca.pem`); without it, the web roots.
    pub cacert: Option<PathBuf>,
    pub concurrency: usize,
    /// Requests started per second at most; `None`: no limit.
    pub rate: Option<f64>,
    /// Per request, connect to last byte.
    pub timeout: Duration,
    /// Draw a progress line on stderr (only when it is a terminal).
    pub progress: bool,
    /// Says which query values a result's URL leaves out (as the proxy's
    /// audit record does).
    pub engine: Engine,
}

impl LiveOptions {
    pub fn new(proxy: impl Into<String>) -> LiveOptions {
        LiveOptions {
            proxy: proxy.into(),
            cacert: None,
            concurrency: 4,
            rate: None,
            timeout: Duration::from_secs(30),
            progress: true,
            engine: (*crate::config::shipped_engine()).clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("--proxy {0:?}: expected http://HOST:PORT")]
    ProxyUrl(String),
    #[error("--cacert: {0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error(transparent)]
    Har(#[from] super::har::HarError),
}

/// Parses `--proxy http://HOST:PORT` (or a bare `HOST:PORT`) into `HOST:PORT`.
pub fn proxy_authority(url: &str) -> Result<String, LiveError> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let rest = rest.trim_end_matches('/');
    let ok = !rest.is_empty()
        && !rest.contains('/')
        && rest
            .rsplit_once(':')
            .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
    if ok {
        Ok(rest.to_owned())
    } else {
        Err(LiveError::ProxyUrl(url.chars().take(80).collect()))
    }
}

/// What came back for one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveResult {
    pub index: usize,
    pub method: String,
    pub url: String,
    pub status: Option<u16>,
    /// The answer carried `x-sluice-ticket`: sluice refused it (block, or its
    /// fail-closed answers).
    pub blocked: bool,
    pub ticket: Option<String>,
    pub error: Option<String>,
}

impl LiveResult {
    pub fn json_line(&self) -> String {
        json!({
            "index": self.index,
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "blocked": self.blocked,
            "ticket": self.ticket,
            "error": self.error,
        })
        .to_string()
    }

    pub fn outcome(&self) -> String {
        match (&self.error, &self.ticket) {
            (Some(e), _) => format!("error: {e}"),
            (None, Some(t)) => format!("blocked (ticket {t})"),
            (None, None) => "forwarded".to_owned(),
        }
    }
}

/// Sends every entry through the proxy; results in entry order.
pub async fn run(har: &Har, opts: &LiveOptions) -> Result<Vec<LiveResult>, LiveError> {
    let tls = UpstreamTls::new(opts.cacert.as_slice(), opts.cacert.is_none())?
        .client_config(Alpn::Http1Only);
    let metas = har
        .entries
        .iter()
        .map(|e| entry_meta(e).map(|m| (e, m)))
        .collect::<Result<Vec<_>, _>>()?;
    let permits = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
    let mut ticker = opts
        .rate
        .filter(|r| r.is_finite() && *r > 0.0)
        .map(|r| tokio::time::interval(Duration::from_secs_f64((1.0 / r).min(3600.0))));
    let mut progress = Progress::new(metas.len(), opts.progress);
    let mut tasks = tokio::task::JoinSet::new();
    let mut results = Vec::with_capacity(metas.len());
    for (entry, meta) in metas {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            break;
        };
        if let Some(t) = ticker.as_mut() {
            t.tick().await;
        }
        let (proxy, tls, timeout) = (opts.proxy.clone(), Arc::clone(&tls), opts.timeout);
        let entry = entry.clone();
        let url = entry_url(&entry, &meta, &opts.engine);
        tasks.spawn(async move {
            let r = one(&proxy, tls, &entry, &meta, url, timeout).await;
            drop(permit);
            r
        });
        // Collect finished ones as we go, so the progress line moves and memory
        // holds at most `concurrency` running tasks' answers.
        while let Some(done) = tasks.try_join_next() {
            if let Ok(r) = done {
                results.push(r);
                progress.tick();
            }
        }
    }
    while let Some(done) = tasks.join_next().await {
        if let Ok(r) = done {
            results.push(r);
            progress.tick();
        }
    }
    progress.done();
    results.sort_by_key(|r| r.index);
    Ok(results)
}

async fn one(
    proxy: &str,
    tls: Arc<rustls::ClientConfig>,
    entry: &HarEntry,
    meta: &RequestMeta,
    url: String,
    timeout: Duration,
) -> LiveResult {
    let mut r = LiveResult {
        index: entry.index,
        method: meta.method.clone(),
        url,
        status: None,
        blocked: false,
        ticket: None,
        error: None,
    };
    match tokio::time::timeout(timeout, exchange(proxy, tls, entry, meta)).await {
        Ok(Ok((status, ticket))) => {
            r.status = Some(status);
            r.blocked = ticket.is_some();
            r.ticket = ticket;
        }
        Ok(Err(Failure::Refused { status, ticket })) => {
            r.status = Some(status);
            r.blocked = ticket.is_some();
            r.ticket = ticket;
        }
        Ok(Err(Failure::Other(e))) => r.error = Some(e),
        Err(_) => r.error = Some(format!("no answer within {}s", timeout.as_secs())),
    }
    r
}

enum Failure {
    /// The proxy answered the CONNECT with something other than 200.
    Refused {
        status: u16,
        ticket: Option<String>,
    },
    Other(String),
}

fn other(what: &'static str) -> impl Fn(String) -> Failure {
    move |e| Failure::Other(format!("{what}: {e}"))
}

async fn exchange(
    proxy: &str,
    tls: Arc<rustls::ClientConfig>,
    entry: &HarEntry,
    meta: &RequestMeta,
) -> Result<(u16, Option<String>), Failure> {
    let mut tcp = TcpStream::connect(proxy)
        .await
        .map_err(|e| Failure::Other(format!("connect to the proxy: {e}")))?;
    let authority = authority(meta);
    if meta.scheme == "https" {
        let head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n");
        tcp.write_all(head.as_bytes())
            .await
            .map_err(|e| other("CONNECT")(e.to_string()))?;
        let (status, ticket) = read_head(&mut tcp).await.map_err(other("CONNECT"))?;
        if status != 200 {
            return Err(Failure::Refused { status, ticket });
        }
        let name = ServerName::try_from(meta.host.clone())
            .map_err(|e| other("server name")(e.to_string()))?;
        let stream = tokio_rustls::TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .map_err(|e| other("TLS")(e.to_string()))?;
        let uri = meta.path_and_query();
        send(TokioIo::new(stream), entry, meta, &uri, &authority).await
    } else {
        let uri = format!("http://{authority}{}", meta.path_and_query());
        send(TokioIo::new(tcp), entry, meta, &uri, &authority).await
    }
}

fn authority(meta: &RequestMeta) -> String {
    let host = if meta.host.contains(':') {
        format!("[{}]", meta.host)
    } else {
        meta.host.clone()
    };
    format!("{host}:{}", meta.port)
}

/// Reads an HTTP/1.1 response head (bounded); its status and `x-sluice-ticket`.
async fn read_head(s: &mut TcpStream) -> Result<(u16, Option<String>), String> {
    let mut buf = Vec::with_capacity(512);
    let mut byte = [0u8; 1];
    // Byte by byte: what follows the head belongs to the TLS session.
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() >= MAX_HEAD {
            return Err("answer head too long".into());
        }
        match s.read(&mut byte).await {
            Ok(1) => buf.extend_from_slice(&byte),
            Ok(_) => return Err("the proxy closed the connection".into()),
            Err(e) => return Err(e.to_string()),
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| String::from("not an HTTP answer"))?;
    let ticket = lines.find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case("x-sluice-ticket")
            .then(|| v.trim().to_owned())
    });
    Ok((status, ticket))
}

async fn send<IO>(
    io: TokioIo<IO>,
    entry: &HarEntry,
    meta: &RequestMeta,
    uri: &str,
    authority: &str,
) -> Result<(u16, Option<String>), Failure>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| other("HTTP")(e.to_string()))?;
    tokio::spawn(conn.with_upgrades());
    let websocket = is_websocket(entry);
    let mut b = http::Request::builder()
        .method(entry.request.method.as_str())
        .uri(uri)
        .header(http::header::HOST, authority);
    if websocket {
        b = b
            .header(http::header::CONNECTION, "Upgrade")
            .header(http::header::UPGRADE, "websocket")
            .header(http::header::SEC_WEBSOCKET_VERSION, "13")
            .header(http::header::SEC_WEBSOCKET_KEY, websocket_key());
    }
    for (name, value) in &entry.request.headers {
        if SKIP_HEADERS.iter().any(|s| name.eq_ignore_ascii_case(s)) {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            b = b.header(n, v);
        }
    }
    if let Some(ct) = meta.content_type.as_deref() {
        if let Ok(v) = http::HeaderValue::from_str(ct) {
            b = b.header(http::header::CONTENT_TYPE, v);
        }
    }
    let req = b
        .body(Full::new(Bytes::from(entry.request.body.clone())))
        .map_err(|e| other("request")(e.to_string()))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| other("HTTP")(e.to_string()))?;
    let status = resp.status().as_u16();
    if websocket && resp.status() == http::StatusCode::SWITCHING_PROTOCOLS {
        let ticket = send_messages(resp, entry).await?;
        return Ok((status, ticket));
    }
    let ticket = resp
        .headers()
        .get("x-sluice-ticket")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Read the answer (bounded) so the exchange is complete before reporting it.
    let mut body = resp.into_body();
    let mut read = 0usize;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => read += f.data_ref().map_or(0, Bytes::len),
            Err(e) => return Err(other("answer body")(e.to_string())),
        }
        if read > MAX_BODY {
            break;
        }
    }
    Ok((status, ticket))
}

/// A `Sec-WebSocket-Key`: 16 random bytes in base64.
fn websocket_key() -> String {
    use base64::Engine as _;
    use ring::rand::SecureRandom as _;
    let mut nonce = [0u8; 16];
    let _ = ring::rand::SystemRandom::new().fill(&mut nonce);
    base64::engine::general_purpose::STANDARD.encode(nonce)
}

/// Sends an upgraded entry's messages, then a Close, and reads what comes back
/// (bounded) until the connection ends: sluice's ticket when it stopped a
/// message (its Close, 1008, names one).
async fn send_messages(
    resp: http::Response<hyper::body::Incoming>,
    entry: &HarEntry,
) -> Result<Option<String>, Failure> {
    use crate::proxy::websocket::{close_frame, first_close, frame, random_mask};
    let upgraded = hyper::upgrade::on(resp)
        .await
        .map_err(|e| other("WebSocket")(e.to_string()))?;
    let mut io = TokioIo::new(upgraded);
    for m in &entry.sent_messages {
        let opcode = if m.binary { 0x2 } else { 0x1 };
        // A write that fails means the proxy has closed: what it answered
        // says why.
        if io
            .write_all(&frame(opcode, &m.data, Some(random_mask())))
            .await
            .is_err()
        {
            break;
        }
    }
    let _ = io
        .write_all(&close_frame(1000, "", Some(random_mask())))
        .await;
    let mut back = Vec::new();
    let _ = (&mut io).take(MAX_BODY as u64).read_to_end(&mut back).await;
    Ok(first_close(&back).and_then(|(code, reason)| {
        let ticket = reason.split_whitespace().find(|w| w.starts_with("slc-"))?;
        (code == 1008).then(|| {
            ticket
                .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_owned()
        })
    }))
}

/// `[=====     ] 12/100` on stderr, redrawn with `\r`, when stderr is a terminal
/// and the run is long enough to want one.
struct Progress {
    total: usize,
    done: usize,
    on: bool,
}

impl Progress {
    fn new(total: usize, wanted: bool) -> Progress {
        Progress {
            total,
            done: 0,
            on: wanted && total >= 10 && std::io::stderr().is_terminal(),
        }
    }

    fn tick(&mut self) {
        self.done += 1;
        if self.on {
            eprint!("\r{}", bar(self.done, self.total));
        }
    }

    fn done(&self) {
        if self.on {
            eprintln!();
        }
    }
}

fn bar(done: usize, total: usize) -> String {
    const WIDTH: usize = 30;
    let filled = (done * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH)
        .min(WIDTH);
    format!(
        "[{}{}] {done}/{total}",
        "=".repeat(filled),
        " ".repeat(WIDTH - filled)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls() {
        let cases = [
            ("http://127.0.0.1:3128", Some("127.0.0.1:3128")),
            ("http://proxy.lan:8080/", Some("proxy.lan:8080")),
            ("127.0.0.1:3128", Some("127.0.0.1:3128")),
            ("http://127.0.0.1", None),
            ("http://h:99999", None),
            ("http://h:1/x", None),
            ("", None),
        ];
        for (url, want) in cases {
            assert_eq!(proxy_authority(url).ok().as_deref(), want, "{url}");
        }
    }

    #[test]
    fn progress_bar_fills() {
        assert_eq!(bar(0, 10), format!("[{}] 0/10", " ".repeat(30)));
        assert_eq!(
            bar(5, 10),
            format!("[{}{}] 5/10", "=".repeat(15), " ".repeat(15))
        );
        assert_eq!(bar(10, 10), format!("[{}] 10/10", "=".repeat(30)));
        assert_eq!(bar(0, 0), format!("[{}] 0/0", "=".repeat(30)));
    }
}
