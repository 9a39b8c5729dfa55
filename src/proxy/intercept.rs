//! A decrypted CONNECT session: read the ClientHello, mint (or reuse) a leaf for
//! its SNI, finish the handshake, and serve HTTP/1.1 or HTTP/2 through `forward`.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio_rustls::LazyConfigAcceptor;

use super::forward::ConnCtx;
use super::Shared;
use crate::net::idle::{Activity, Tracked};
use crate::net::normalize_host;

/// Runs one intercepted session to its end. `connect_host` was verified upstream
/// before the client got its `200`.
pub async fn serve<IO>(
    shared: Arc<Shared>,
    client: SocketAddr,
    connect_host: String,
    port: u16,
    io: IO,
    drain: watch::Receiver<bool>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Activity::default();
    let io = Tracked::new(io, activity.clone());
    let acceptor = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), io);
    let timeout = shared.limits.header_read_timeout.get();
    let start = match tokio::time::timeout(timeout, acceptor).await {
        Ok(Ok(start)) => start,
        Ok(Err(e)) => {
            return tracing::debug!(client.addr = %client, error = %e, "no TLS ClientHello")
        }
        Err(_) => return tracing::debug!(client.addr = %client, "ClientHello timed out"),
    };
    // The leaf is for the SNI (what the client will check); without SNI, for the
    // CONNECT authority.
    let host = start
        .client_hello()
        .server_name()
        .map(normalize_host)
        .unwrap_or_else(|| connect_host.clone());
    if host != connect_host {
        // Another name than the one verified: it must be one we intercept, and its
        // upstream must pass verification too, before a leaf exists for it.
        if !shared.intercepts(&host) {
            return tracing::info!(client.addr = %client, tls.sni = %host, connect = %connect_host, "SNI names a host that is not intercepted; closing");
        }
        if let Err(e) = shared.upstream.verify(&host, port).await {
            return tracing::info!(client.addr = %client, tls.sni = %host, error = %e, "upstream for SNI failed verification; closing");
        }
    }
    let leaf = match shared.leaves.get(&host).await {
        Ok(l) => l,
        Err(e) => {
            return tracing::warn!(tls.sni = %host, error = %e, "cannot mint a leaf certificate")
        }
    };
    let tls = match tokio::time::timeout(timeout, start.into_stream(leaf.server_config)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            return tracing::debug!(client.addr = %client, tls.sni = %host, error = %e, "client TLS handshake failed")
        }
        Err(_) => {
            return tracing::debug!(client.addr = %client, tls.sni = %host, "client TLS handshake timed out")
        }
    };

    let ctx = Arc::new(ConnCtx {
        client,
        tls_host: Some((host, port)),
    });
    let svc = {
        let shared = shared.clone();
        service_fn(move |req| super::pipeline::handle(shared.clone(), ctx.clone(), req))
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(shared.limits.header_read_timeout.get())
        .max_buf_size(max_buf(&shared));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(256)
        .adaptive_window(true)
        .max_frame_size(64 * 1024)
        .max_header_list_size(shared.limits.max_header_bytes.get().min(u32::MAX as u64) as u32);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), svc);
    super::drive(conn, &shared, drain, activity, client).await;
}

/// The HTTP/1.1 server for a client connection that is not TLS (the proxy
/// listener's, a redirected plain-HTTP one's): the limits every listener shares.
pub fn h1_builder(shared: &Shared) -> hyper::server::conn::http1::Builder {
    let mut b = hyper::server::conn::http1::Builder::new();
    b.timer(TokioTimer::new())
        .header_read_timeout(shared.limits.header_read_timeout.get())
        .max_buf_size(max_buf(shared))
        .max_header_size(shared.limits.max_header_bytes.get() as usize);
    b
}

/// hyper's read buffer: it bounds a request head on intercepted connections (the
/// auto builder has no separate head limit) and sets the largest body read, so it
/// is never below 256 KiB, which large uploads need to move in few reads.
pub fn max_buf(shared: &Shared) -> usize {
    (shared.limits.max_header_bytes.get() as usize).max(256 * 1024)
}
