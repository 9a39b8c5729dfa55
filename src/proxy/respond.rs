//! The one place that turns a refusal, a failure or (later) a verdict into a
//! response the client sees. Bodies never repeat a sensitive value.

use http::{header, HeaderValue, Response, StatusCode};

use super::body::{full, Body};

/// Why the proxy answered instead of the origin.
#[derive(Debug)]
pub enum Refusal {
    /// 400: not a request a forward proxy can serve.
    BadRequest(String),
    /// 403: the destination may not be reached through this proxy.
    Forbidden(String),
    /// 407: proxy credentials missing or wrong.
    ProxyAuth { realm: String },
    /// 421: the request names another host than its TLS session is for.
    Misdirected(String),
    /// 502: the upstream could not be reached or failed verification.
    BadGateway(String),
    /// 503: the proxy is at its connection limit or shutting down.
    Unavailable(String),
    /// 504: the upstream did not answer in time.
    GatewayTimeout(String),
}

impl Refusal {
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::BadRequest(_) => StatusCode::BAD_REQUEST,
            Refusal::Forbidden(_) => StatusCode::FORBIDDEN,
            Refusal::ProxyAuth { .. } => StatusCode::PROXY_AUTHENTICATION_REQUIRED,
            Refusal::Misdirected(_) => StatusCode::MISDIRECTED_REQUEST,
            Refusal::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Refusal::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Refusal::GatewayTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    fn detail(&self) -> &str {
        match self {
            Refusal::BadRequest(s)
            | Refusal::Forbidden(s)
            | Refusal::Misdirected(s)
            | Refusal::BadGateway(s)
            | Refusal::Unavailable(s)
            | Refusal::GatewayTimeout(s) => s,
            Refusal::ProxyAuth { .. } => "proxy authentication required",
        }
    }

    /// A short plain-text response: what went wrong, from the proxy's side.
    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        let text = format!(
            "sluice: {} {}\n{}\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            self.detail()
        );
        let mut resp = Response::new(full(text));
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Refusal::ProxyAuth { realm } = &self {
            let v = format!("Basic realm=\"{}\"", realm.replace('"', ""));
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(header::PROXY_AUTHENTICATE, v);
            }
        }
        resp
    }
}

/// The raw bytes of a refusal, for sockets that are refused before any HTTP
/// parser runs (ACL, connection limit).
pub fn raw_refusal(status: StatusCode, detail: &str) -> Vec<u8> {
    let body = format!(
        "sluice: {} {}\n{detail}\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    format!(
        "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes()
}
