//! End-to-end throughput: uploads through an intercepting sluice next to the same
//! uploads straight to the origin ("with proxy" beside "without", as hudsucker does).
//! Client, proxy and origin share this machine's cores, like the reference figures.
//!
//! Two proxies: `sluice_passthrough` (a policy with no rules: intercepted, streamed)
//! and `sluice_held` (the shipped policy: every POST to the International Edition is
//! held, inspected, audited, then forwarded).

#[path = "../tests/support/pki.rs"]
#[allow(dead_code)]
mod pki;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const HOST: &str = "oapi.dingtalk.io";
/// The web IM's WebSocket host, on the International Edition (so the held
/// proxy's audit rule reads every message and lets it go).
const WS_HOST: &str = "webalfa.dingtalk.io";
const BIG: u64 = 256 << 20;
const FRAME: usize = 1 << 20;
const CONNS: usize = 32;

/// A TLS listener on 127.0.0.1:0 that hands each session to `serve`.
async fn tls_listener<F, Fut>(id: pki::Identity, serve: F) -> SocketAddr
where
    F: Fn(tokio_rustls::server::TlsStream<TcpStream>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(pki::server_config(id));
    let serve = Arc::new(serve);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            let (acceptor, serve) = (acceptor.clone(), serve.clone());
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    serve(tls).await;
                }
            });
        }
    });
    addr
}

/// An origin that drains bodies and answers with their length: the bench measures
/// the path, not the origin.
async fn origin(id: pki::Identity) -> SocketAddr {
    tls_listener(id, |tls| async move {
        let svc = service_fn(|req: Request<Incoming>| async move {
            let mut body = req.into_body();
            let mut n = 0u64;
            while let Some(f) = body.frame().await {
                if let Ok(d) = f.map(|f| f.into_data()) {
                    n += d.map(|d| d.len() as u64).unwrap_or(0);
                } else {
                    break;
                }
            }
            Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(n.to_string()))))
        });
        let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(tls), svc)
            .await;
    })
    .await
}

type Sender = hyper::client::conn::http1::SendRequest<
    http_body_util::combinators::BoxBody<Bytes, std::io::Error>,
>;

/// TLS to `host` (ALPN http/1.1): through the proxy's CONNECT when given,
/// else straight to `origin`.
async fn tls_to(
    proxy: Option<SocketAddr>,
    origin: SocketAddr,
    host: &'static str,
    roots: Arc<rustls::RootCertStore>,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = match proxy {
        Some(p) => {
            let mut s = TcpStream::connect(p).await.unwrap();
            s.write_all(
                format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n").as_bytes(),
            )
            .await
            .unwrap();
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                s.read_exact(&mut b).await.unwrap();
                head.push(b[0]);
            }
            assert!(
                head.starts_with(b"HTTP/1.1 200"),
                "{}",
                String::from_utf8_lossy(&head)
            );
            s
        }
        None => TcpStream::connect(origin).await.unwrap(),
    };
    tcp.set_nodelay(true).unwrap();
    let cfg = pki::client_config(roots, &[b"http/1.1"]);
    let name = rustls::pki_types::ServerName::try_from(host).unwrap();
    tokio_rustls::TlsConnector::from(cfg)
        .connect(name, tcp)
        .await
        .unwrap()
}

/// An HTTP/1.1 connection to HOST, through the proxy when given.
async fn connection(
    proxy: Option<SocketAddr>,
    origin: SocketAddr,
    roots: Arc<rustls::RootCertStore>,
) -> Sender {
    let tls = tls_to(proxy, origin, HOST, roots).await;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

fn upload_body(
    total: u64,
    frame: &Bytes,
) -> http_body_util::combinators::BoxBody<Bytes, std::io::Error> {
    let n = (total as usize).div_ceil(frame.len());
    let frames: Vec<Result<http_body::Frame<Bytes>, std::io::Error>> = (0..n)
        .map(|_| Ok(http_body::Frame::data(frame.clone())))
        .collect();
    http_body_util::StreamBody::new(tokio_stream_iter(frames)).boxed()
}

fn tokio_stream_iter<T: Unpin>(items: Vec<T>) -> impl futures_core::Stream<Item = T> {
    struct It<T>(std::vec::IntoIter<T>);
    impl<T: Unpin> futures_core::Stream for It<T> {
        type Item = T;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<T>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    It(items.into_iter())
}

async fn post(
    sender: &mut Sender,
    body: http_body_util::combinators::BoxBody<Bytes, std::io::Error>,
    len: u64,
) {
    sender.ready().await.unwrap();
    let req = Request::post(format!("https://{HOST}/media/upload"))
        .header("host", HOST)
        .header("content-length", len)
        .body(body)
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let got = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(got, len.to_string().as_bytes());
}

/// The proxies run on a runtime of their own (two workers), as a separate sluice
/// process would: client and origin stay on the bench's runtime. All share the cores.
fn proxy_runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sluice")
            .enable_all()
            .build()
            .unwrap()
    })
}

/// A sluice in-process; `passthrough` swaps the shipped policy for one with no rules.
async fn proxy_with_ca(
    ca_file: std::path::PathBuf,
    origin_addr: SocketAddr,
    ws_addr: SocketAddr,
    passthrough: bool,
) -> (SocketAddr, Arc<rustls::RootCertStore>, impl Send) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = sluice::config::load(None).unwrap();
    if passthrough {
        let p = sluice::config::parse("policy: {default: allow}\n", "bench").unwrap();
        cfg.policy = p.policy;
    }
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.tls.ca_dir = dir.path().join("certs");
    cfg.audit.path = dir.path().join("audit.jsonl");
    cfg.admin.listen = None;
    cfg.hold.spool_dir = Some(dir.path().to_path_buf());
    cfg.tls.upstream_ca.push(ca_file);
    cfg.resolve
        .push(format!("{HOST}:443:{origin_addr}").parse().unwrap());
    cfg.resolve
        .push(format!("{WS_HOST}:443:{ws_addr}").parse().unwrap());
    let running = sluice::app::start(&cfg).await.unwrap();
    let roots = pki::roots_from_pem(&std::fs::read_to_string(&running.ca_cert).unwrap());
    (running.local_addr(), roots, (running, dir))
}

/// Starts `proxy` on the proxies' runtime.
async fn spawn_proxy(
    pki: &pki::Pki,
    origin_addr: SocketAddr,
    ws_addr: SocketAddr,
    passthrough: bool,
) -> (SocketAddr, Arc<rustls::RootCertStore>, impl Sized) {
    let ca = pki.ca_file();
    let task = proxy_runtime().spawn(async move {
        let pki_ca = ca;
        let (addr, roots, guard) = proxy_with_ca(pki_ca, origin_addr, ws_addr, passthrough).await;
        (addr, roots, Box::new(guard) as Box<dyn Send>)
    });
    task.await.unwrap()
}

/// Harmless office text (a meeting note, mixed English and Chinese), repeated.
fn text_frame() -> Bytes {
    let line = "Weekly sync 每週例會: budget review moved to Thursday, 請各部門準備進度報告。\n";
    let mut v = Vec::with_capacity(FRAME);
    while v.len() + line.len() <= FRAME {
        v.extend_from_slice(line.as_bytes());
    }
    v.resize(FRAME, b' ');
    Bytes::from(v)
}

type Path = (&'static str, Option<SocketAddr>, Arc<rustls::RootCertStore>);

/// What both bench groups measure against: an origin and the two proxies, and the
/// three ways to reach the origin. The guards keep the proxies running.
struct Setup {
    rt: tokio::runtime::Runtime,
    origin_addr: SocketAddr,
    ws_addr: SocketAddr,
    paths: [Path; 3],
    _guards: (pki::Pki, Box<dyn Send>, Box<dyn Send>),
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pki = pki::Pki::new("bench origin CA");
    let (origin_addr, ws_addr, pass, held) = rt.block_on(async {
        let origin_addr = origin(pki.issue(&[HOST])).await;
        let ws_addr = ws_origin(pki.issue(&[WS_HOST])).await;
        let pass = spawn_proxy(&pki, origin_addr, ws_addr, true).await;
        let held = spawn_proxy(&pki, origin_addr, ws_addr, false).await;
        (origin_addr, ws_addr, pass, held)
    });
    let paths = [
        ("direct", None, pki.roots()),
        ("sluice_passthrough", Some(pass.0), pass.1),
        ("sluice_held", Some(held.0), held.1),
    ];
    Setup {
        rt,
        origin_addr,
        ws_addr,
        paths,
        _guards: (pki, Box::new(pass.2), Box::new(held.2)),
    }
}

fn bench(c: &mut Criterion) {
    let Setup {
        rt,
        origin_addr,
        ws_addr: _,
        paths,
        // Named, not `..`: the rest of a destructured temporary is dropped at
        // once, and these guards are what keep the proxies running.
        _guards,
    } = setup();
    let frame = text_frame();

    let mut g = c.benchmark_group("proxy/upload_256MiB");
    g.throughput(Throughput::Bytes(BIG));
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(2));
    for (name, proxy, roots) in paths.clone() {
        let mut sender = rt.block_on(connection(proxy, origin_addr, roots));
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let t = Instant::now();
                    for _ in 0..iters {
                        post(&mut sender, upload_body(BIG, &frame), BIG).await;
                    }
                    t.elapsed()
                })
            })
        });
    }
    g.finish();

    let small = small_json();
    let mut g = c.benchmark_group("proxy/post_2KiB_32conns");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_secs(2));
    for (name, proxy, roots) in paths.clone() {
        let senders: Vec<Sender> = rt.block_on(async {
            let mut v = Vec::new();
            for _ in 0..CONNS {
                v.push(connection(proxy, origin_addr, roots.clone()).await);
            }
            v
        });
        let senders = Arc::new(tokio::sync::Mutex::new(senders));
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let senders = senders.clone();
                let small = small.clone();
                rt.block_on(async move {
                    let mut all = senders.lock().await;
                    let per = iters.div_ceil(CONNS as u64);
                    let t = Instant::now();
                    let mut tasks = Vec::new();
                    for mut s in all.drain(..) {
                        let small = small.clone();
                        tasks.push(tokio::spawn(async move {
                            for _ in 0..per {
                                post(
                                    &mut s,
                                    Full::new(small.clone()).map_err(|n| match n {}).boxed(),
                                    small.len() as u64,
                                )
                                .await;
                            }
                            s
                        }));
                    }
                    for t in tasks {
                        all.push(t.await.unwrap());
                    }
                    // Report per request actually sent.
                    t.elapsed()
                        .mul_f64(iters as f64 / (per * CONNS as u64) as f64)
                })
            })
        });
    }
    g.finish();
}

/// A DingTalk chat message of about 2 KiB.
fn small_json() -> Bytes {
    let content =
        "Please review the attached quarterly plan 請審閱附件中的季度計劃，謝謝。 ".repeat(20);
    let j = format!(
        r#"{{"agent_id":1000,"userid_list":"u1,u2","msg":{{"msgtype":"text","text":{{"content":"{content}"}}}}}}"#
    );
    Bytes::from(j.into_bytes())
}

/// Latency one small JSON message sees, sequentially on one connection: criterion's
/// mean per request, then p50/p99 over a fixed run printed for the README.
fn latency(c: &mut Criterion) {
    let Setup {
        rt,
        origin_addr,
        ws_addr: _,
        paths,
        // Named, not `..`: the rest of a destructured temporary is dropped at
        // once, and these guards are what keep the proxies running.
        _guards,
    } = setup();
    let body = small_json();
    let mut g = c.benchmark_group("proxy/json_latency");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    for (name, proxy, roots) in paths.clone() {
        let mut sender = rt.block_on(connection(proxy, origin_addr, roots));
        let len = body.len() as u64;
        let one = |body: Bytes| Full::new(body).map_err(|n| match n {}).boxed();
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let t = Instant::now();
                    for _ in 0..iters {
                        post(&mut sender, one(body.clone()), len).await;
                    }
                    t.elapsed()
                })
            })
        });
        let mut lat: Vec<Duration> = rt.block_on(async {
            let mut v = Vec::with_capacity(2000);
            for _ in 0..2000 {
                let t = Instant::now();
                post(&mut sender, one(body.clone()), len).await;
                v.push(t.elapsed());
            }
            v
        });
        lat.sort();
        eprintln!(
            "proxy/json_latency/{name}: p50 {:?} p99 {:?} (2000 sequential requests)",
            lat[lat.len() / 2],
            lat[lat.len() * 99 / 100]
        );
    }
    g.finish();
}

/// A WebSocket server that answers every text message with a short ack, as
/// the web IM's server acknowledges each send.
async fn ws_origin(id: pki::Identity) -> SocketAddr {
    use futures_util::{SinkExt, StreamExt};
    tls_listener(id, |tls| async move {
        let Ok(mut ws) = tokio_tungstenite::accept_async(tls).await else {
            return;
        };
        while let Some(Ok(m)) = ws.next().await {
            if m.is_text() && ws.send(WsMessage::text("ack")).await.is_err() {
                return;
            }
        }
    })
    .await
}

type WsMessage = tokio_tungstenite::tungstenite::Message;
type WsClient = tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<TcpStream>>;

/// A WebSocket to WS_HOST, through the proxy when given.
async fn ws_connection(
    proxy: Option<SocketAddr>,
    ws_addr: SocketAddr,
    roots: Arc<rustls::RootCertStore>,
) -> WsClient {
    let tls = tls_to(proxy, ws_addr, WS_HOST, roots).await;
    let (ws, _) = tokio_tungstenite::client_async(format!("wss://{WS_HOST}/lwp"), tls)
        .await
        .unwrap();
    ws
}

/// One web IM chat send (about 240 bytes of JSON, English and Chinese) and
/// its ack, sequentially on one WebSocket: direct, spliced by sluice (no rule
/// reads messages), and held by sluice (each message inspected and audited).
fn websocket(c: &mut Criterion) {
    use futures_util::{SinkExt, StreamExt};
    let Setup {
        rt,
        origin_addr: _,
        ws_addr,
        paths,
        // Named, not `..`: the rest of a destructured temporary is dropped at
        // once, and these guards are what keep the proxies running.
        _guards,
    } = setup();
    let text = r#"{"lwp":"/r/IDLMessage/sendMessage","headers":{"mid":"5f0e3a1b 0"},"body":[{"uuid":"1764384000997","conversationId":"cid0123456789abcdef","content":"Please review the quarterly report before Friday. 請大家在週五前審閱季度報告，謝謝。"}]}"#;
    let mut g = c.benchmark_group("proxy/ws_chat");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    for (name, proxy, roots) in paths.clone() {
        let mut ws = rt.block_on(ws_connection(proxy, ws_addr, roots));
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let t = Instant::now();
                    for _ in 0..iters {
                        ws.send(WsMessage::text(text)).await.unwrap();
                        let ack = ws.next().await.unwrap().unwrap();
                        assert!(ack.is_text(), "{ack:?}");
                    }
                    t.elapsed()
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench, latency, websocket);
criterion_main!(benches);
