//! One request through the proxy: work out where it is going, then send it there
//! and relay the answer. The destination is a value chosen *before* `send` is
//! called, so the policy can hold and inspect a body and pick the target (reroute)
//! after the verdict.

use std::net::SocketAddr;

use http::header::{self, HeaderValue};
use http::request::Parts;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, StatusCode, Uri};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use super::body::{self, Body};
use super::headers::{strip_hop_by_hop, upgrade_protocol};
use super::respond::Refusal;
use super::upstream::UpstreamError;
use super::Shared;
use crate::net::normalize_host;

/// Where a request goes upstream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

impl Target {
    fn default_port(&self) -> bool {
        self.port == if self.https { 443 } else { 80 }
    }

    fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// What the proxy knows about the connection a request arrived on.
#[derive(Clone, Debug)]
pub struct ConnCtx {
    pub client: SocketAddr,
    /// For intercepted TLS: the host the client's TLS session is for (SNI, else
    /// the CONNECT authority), which is the host that was verified upstream.
    pub tls_host: Option<(String, u16)>,
}

/// The destination a request names, checked against its connection.
pub fn target_of(ctx: &ConnCtx, parts: &Parts) -> Result<Target, Refusal> {
    if let Some((host, port)) = &ctx.tls_host {
        // Inside an intercepted session the request may only be for the host the
        // session was verified and minted for: anything else is domain fronting
        // around the policy (421 asks the client to open a new connection).
        let named = parts
            .uri
            .authority()
            .map(|a| a.host().to_string())
            .or_else(|| {
                parts
                    .headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .map(|h| h.rsplit_once(':').map_or(h, |(h, _)| h).to_string())
            });
        if let Some(n) = named {
            if normalize_host(n.trim_start_matches('[').trim_end_matches(']')) != *host {
                return Err(Refusal::Misdirected(format!(
                    "this connection is for {host}, not for the host the request names"
                )));
            }
        }
        return Ok(Target {
            https: true,
            host: host.clone(),
            port: *port,
        });
    }
    // Absolute-form request on the proxy listener.
    let https = match parts.uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        Some(other) => {
            return Err(Refusal::BadRequest(format!(
                "unsupported scheme {:?}",
                other.chars().take(16).collect::<String>()
            )))
        }
        None => {
            return Err(Refusal::BadRequest(
                "sluice is a forward proxy: send absolute-form requests (GET http://host/path) or CONNECT"
                    .into(),
            ))
        }
    };
    let host = parts
        .uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Refusal::BadRequest("request URI has no host".into()))?;
    Ok(Target {
        https,
        host: normalize_host(host.trim_start_matches('[').trim_end_matches(']')),
        port: parts.uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
    })
}

/// Sends `req` to `target` and relays the answer; failures become 502/504.
pub async fn send(shared: &Shared, target: &Target, mut req: Request<Body>) -> Response<Body> {
    if upgrade_protocol(req.headers()).is_some() && req.version() <= http::Version::HTTP_11 {
        return match send_upgrade(shared, target, req).await {
            Ok(r) => r,
            Err(e) => upstream_failure(e),
        };
    }
    let h2 = req.version() == http::Version::HTTP_2;
    if let Err(r) = prepare(target, &mut req, true) {
        return r.into_response();
    }
    match shared.upstream.send(req, h2).await {
        Ok(resp) => relay(resp),
        Err(e) => upstream_failure(e),
    }
}

pub fn upstream_failure(e: UpstreamError) -> Response<Body> {
    tracing::debug!(error = %e, "upstream failed");
    if e.is_refused() {
        // Plain-HTTP requests meet the same destination rules as CONNECT.
        Refusal::Forbidden(e.to_string()).into_response()
    } else if e.is_timeout() {
        Refusal::GatewayTimeout(e.to_string()).into_response()
    } else {
        Refusal::BadGateway(e.to_string()).into_response()
    }
}

/// Rewrites a request for the upstream: URI (absolute for the pooled client,
/// origin-form for a dedicated HTTP/1.1 connection), Host, hop-by-hop headers.
fn prepare(target: &Target, req: &mut Request<Body>, absolute: bool) -> Result<(), Refusal> {
    let pq = req
        .uri()
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let authority: Authority = target
        .authority()
        .parse()
        .map_err(|_| Refusal::BadRequest("invalid host".into()))?;
    let uri = if absolute {
        Uri::builder()
            .scheme(if target.https {
                Scheme::HTTPS
            } else {
                Scheme::HTTP
            })
            .authority(authority.clone())
            .path_and_query(pq)
            .build()
    } else {
        Uri::builder().path_and_query(pq).build()
    }
    .map_err(|_| Refusal::BadRequest("invalid request target".into()))?;
    *req.uri_mut() = uri;
    strip_hop_by_hop(req.headers_mut());
    // HTTP/2 clients send :authority, not Host; an HTTP/1.1 upstream needs Host.
    if let Ok(v) = HeaderValue::from_str(authority.as_str()) {
        req.headers_mut().insert(header::HOST, v);
    }
    // The upstream connection's version is the pool's business, not the client's.
    *req.version_mut() = http::Version::HTTP_11;
    Ok(())
}

fn relay(resp: Response<Incoming>) -> Response<Body> {
    let (mut parts, incoming) = resp.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    Response::from_parts(parts, body::boxed(incoming))
}

/// An HTTP/1.1 upgrade (WebSocket): a dedicated HTTP/1.1 upstream connection,
/// then both upgraded streams are spliced.
async fn send_upgrade(
    shared: &Shared,
    target: &Target,
    mut req: Request<Body>,
) -> Result<Response<Body>, UpstreamError> {
    let watch = req.extensions_mut().remove::<super::websocket::Watch>();
    let client_side = hyper::upgrade::on(&mut req);
    prepare(target, &mut req, false).map_err(|r| UpstreamError::Http(format!("{r:?}")))?;
    let conn = shared
        .upstream
        .connector()
        .connect(target.https, &target.host, target.port, true)
        .await?;
    let (mut sender, connection) = hyper::client::conn::http1::Builder::new()
        .handshake::<_, Body>(TokioIo::new(conn))
        .await
        .map_err(|e| UpstreamError::Http(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = connection.with_upgrades().await {
            tracing::debug!(error = %e, "upgraded upstream connection ended");
        }
    });
    let mut resp = sender
        .send_request(req)
        .await
        .map_err(|e| UpstreamError::Http(e.to_string()))?;
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
        let upstream_side = hyper::upgrade::on(&mut resp);
        let idle = shared.limits.idle_timeout.get();
        let stop = shared.hard_stop.clone();
        let extensions = super::websocket::Extensions::of(resp.headers());
        if let Some(r) = watch.as_ref().and_then(|w| w.record.as_ref()) {
            r.answered(resp.status().as_u16(), resp.headers());
        }
        tokio::spawn(async move {
            match tokio::try_join!(client_side, upstream_side) {
                Ok((c, u)) => {
                    let (c, u) = (TokioIo::new(c), TokioIo::new(u));
                    match watch {
                        Some(w) => super::websocket::relay(w, extensions, c, u).await,
                        None => {
                            let _ = crate::net::tunnel::splice(c, u, idle, stop).await;
                        }
                    }
                }
                Err(e) => tracing::debug!(error = %e, "upgrade did not complete"),
            }
        });
        let (parts, incoming) = resp.into_parts();
        return Ok(Response::from_parts(parts, body::boxed(incoming)));
    }
    Ok(relay(resp))
}
