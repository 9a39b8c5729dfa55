//! The proxy listener's service: proxy authentication, then CONNECT (tunnel or
//! intercept) or an absolute-form plain-HTTP request.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{header, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::sync::watch;

use super::body::{self, Body};
use super::forward::{self, ConnCtx};
use super::respond::Refusal;
use super::{intercept, Shared};
use crate::net::{normalize_host, AuthFailure};

/// Serves one request on the proxy listener.
pub async fn serve(
    shared: Arc<Shared>,
    ctx: Arc<ConnCtx>,
    drain: watch::Receiver<bool>,
    req: Request<Incoming>,
) -> Result<Response<Body>, std::convert::Infallible> {
    if let Some(auth) = &shared.auth {
        let header = req
            .headers()
            .get(header::PROXY_AUTHORIZATION)
            .map(|v| v.as_bytes());
        if let Err(why) = auth.check(header) {
            match &why {
                AuthFailure::Rejected { user } => {
                    tracing::info!(client.addr = %ctx.client, auth.user = %user, "proxy authentication rejected")
                }
                other => {
                    tracing::debug!(client.addr = %ctx.client, ?other, "proxy authentication missing")
                }
            }
            return Ok(Refusal::ProxyAuth {
                realm: auth.realm().to_string(),
            }
            .into_response());
        }
    }
    if req.method() == Method::CONNECT {
        return Ok(connect(shared, ctx.client, drain, req).await);
    }
    super::pipeline::handle(shared, ctx, req).await
}

/// `CONNECT host:port`: refuse, tunnel, or intercept.
async fn connect(
    shared: Arc<Shared>,
    client: SocketAddr,
    drain: watch::Receiver<bool>,
    req: Request<Incoming>,
) -> Response<Body> {
    let Some(authority) = req.uri().authority().cloned() else {
        return Refusal::BadRequest("CONNECT needs host:port".into()).into_response();
    };
    let Some(port) = authority.port_u16() else {
        return Refusal::BadRequest("CONNECT needs an explicit port".into()).into_response();
    };
    let host = normalize_host(
        authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']'),
    );
    let upgrade = hyper::upgrade::on(req);

    if shared.intercepts(&host) {
        // The upstream must prove itself before the client is told yes: a leaf is
        // never minted for a host whose certificate failed verification.
        if let Err(e) = shared.upstream.verify(&host, port).await {
            tracing::info!(client.addr = %client, tls.host = %host, error = %e, "upstream refused for interception");
            return forward::upstream_failure(e);
        }
        let shared2 = shared.clone();
        tokio::spawn(async move {
            match upgrade.await {
                Ok(up) => {
                    intercept::serve(shared2, client, host, port, TokioIo::new(up), drain).await
                }
                Err(e) => tracing::debug!(error = %e, "CONNECT upgrade failed"),
            }
        });
        return ok_connect();
    }

    let dial = shared
        .upstream
        .connector()
        .dialer()
        .connect(&host, port)
        .await;
    let server = match dial {
        Ok((s, _)) => s,
        Err(e) => return forward::upstream_failure(e.into()),
    };
    let idle = shared.limits.idle_timeout.get();
    let hard_stop = shared.hard_stop.clone();
    let shared = shared.clone();
    tokio::spawn(async move {
        // Holding `drain` keeps shutdown waiting (up to its grace period) for the tunnel.
        let _drain = drain;
        let up = match upgrade.await {
            Ok(up) => up,
            Err(e) => return tracing::debug!(error = %e, "CONNECT upgrade failed"),
        };
        let stats = crate::net::tunnel::splice(TokioIo::new(up), server, idle, hard_stop).await;
        audit_tunnel(&shared, client, &host, port, stats, Some("CONNECT"));
    });
    ok_connect()
}

/// One record per tunnel, written when it closes (with the bytes it carried).
/// `method` is the request that opened the tunnel: none for a redirected
/// connection in transparent mode.
pub(super) fn audit_tunnel(
    shared: &Shared,
    client: SocketAddr,
    host: &str,
    port: u16,
    stats: crate::net::tunnel::TunnelStats,
    method: Option<&str>,
) {
    let rt = shared.runtime();
    let mut meta = crate::policy::RequestMeta::new("CONNECT", host, "/");
    meta.client = client.ip();
    meta.port = port;
    let dest = rt
        .policy
        .destination(&meta, &shared.learned, std::time::SystemTime::now());
    let mut rec = crate::audit::AuditRecord::new(
        crate::audit::RecordKind::Tunnel,
        &client.to_string(),
        host,
        port,
    );
    rec.method = method.map(str::to_owned);
    rec.region = dest.region;
    rec.jurisdiction = dest.jurisdiction;
    rec.bytes = stats.client_to_server + stats.server_to_client;
    rec.action = "allow".into();
    rec.policy = rt.policy.hash().to_string();
    if let Err(e) = shared.write_record(rec) {
        tracing::error!(error = %e, tunnel.host = %host, "cannot write the tunnel's audit record");
    }
    tracing::debug!(client.addr = %client, tunnel.host = %host, up = stats.client_to_server, down = stats.server_to_client, "tunnel closed");
}

fn ok_connect() -> Response<Body> {
    let mut resp = Response::new(body::empty());
    *resp.status_mut() = StatusCode::OK;
    resp
}
