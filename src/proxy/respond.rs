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

/// The DingTalk `errcode` sluice answers a blocked oapi-style call with. Not 0,
/// and not one the old SDKs treat as "refresh the token and retry" (88, 33001,
/// 40001, 40014, 42001).
pub const BLOCK_ERRCODE: i64 = 451;

/// The open platform's code for "Remote service error", which its sub-code
/// then explains.
const TOP_BLOCK_CODE: i64 = 15;

/// Alibaba's open-platform gateways, through which the old DingTalk SDKs call
/// `dingtalk.oapi.*` methods (`/router/rest?method=…`).
fn is_top_gateway(host: &str) -> bool {
    ["eco.taobao.com", "gw.api.taobao.com"]
        .iter()
        .any(|h| host.eq_ignore_ascii_case(h))
}

/// What a block response may say: the rule, the destination, the classes found
/// (ids, never values) and the ticket that matches the audit record.
#[derive(Debug)]
pub struct Blocked<'a> {
    pub ticket: &'a str,
    pub rule: &'a str,
    pub host: &'a str,
    pub jurisdiction: &'a str,
    pub classes: Vec<&'static str>,
    /// The client's `Accept` header, to recognise browsers.
    pub accept: Option<&'a str>,
}

impl Blocked<'_> {
    fn message(&self) -> String {
        let what = if self.classes.is_empty() {
            "this upload".to_string()
        } else {
            format!("this upload ({})", self.classes.join(", "))
        };
        format!(
            "sluice blocked {what} to {} ({}) under data-residency rule \"{}\"; ticket {}",
            self.host, self.jurisdiction, self.rule, self.ticket
        )
    }

    /// The response in the shape the client's SDK understands, so it shows the
    /// reason instead of retrying (DESIGN.md, "Block responses").
    pub fn into_response(self) -> Response<Body> {
        let msg = self.message();
        let first = self.host.split('.').next().unwrap_or("");
        let dingtalk = self.host.contains(".dingtalk.");
        let (status, ctype, body) = if is_top_gateway(self.host) {
            // The open-platform SDKs the legacy gateway serves read errors
            // from `error_response` in an HTTP 200 answer; a sub-code under
            // `isv.` is the caller's error, which they do not retry (an
            // inference from those SDKs: DINGTALK.md does not cover them).
            let j = serde_json::json!({
                "error_response": {
                    "code": TOP_BLOCK_CODE,
                    "msg": "Remote service error",
                    "sub_code": "isv.sluice-data-residency",
                    "sub_msg": msg,
                    "request_id": self.ticket,
                }
            });
            (
                StatusCode::OK,
                "application/json;charset=utf-8",
                j.to_string(),
            )
        } else if dingtalk && first == "oapi" {
            let j = serde_json::json!({
                "errcode": BLOCK_ERRCODE,
                "errmsg": msg,
                "sluice_ticket": self.ticket,
            });
            (
                StatusCode::OK,
                "application/json;charset=utf-8",
                j.to_string(),
            )
        } else if dingtalk && first == "api" {
            let j = serde_json::json!({
                "code": "Forbidden.AccessDenied.DataResidency",
                "message": msg,
                "requestid": self.ticket,
            });
            (
                StatusCode::FORBIDDEN,
                "application/json;charset=utf-8",
                j.to_string(),
            )
        } else if self.accept.is_some_and(|a| a.contains("text/html")) {
            (
                StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS,
                "text/html; charset=utf-8",
                self.html(),
            )
        } else {
            let j = serde_json::json!({
                "error": "blocked by data-residency policy",
                "rule": self.rule,
                "ticket": self.ticket,
                "message": msg,
            });
            (
                StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS,
                "application/json",
                j.to_string(),
            )
        };
        let mut resp = Response::new(full(body));
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Ok(v) = HeaderValue::from_str(self.ticket) {
            h.insert("x-sluice-ticket", v.clone());
            if status == StatusCode::FORBIDDEN {
                h.insert("x-acs-request-id", v);
            }
        }
        resp
    }

    fn html(&self) -> String {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Upload blocked</title></head>\n<body>\n<h1>Upload blocked by your company's data-residency policy</h1>\n<p>This upload to <b>{host}</b> ({jur}) contains data that may not be transferred there{classes}.</p>\n<p>Rule: <code>{rule}</code></p>\n<p>Ticket: <code>{ticket}</code> — quote it to your IT or data-protection officer.</p>\n<p lang=\"zh-Hant\">根據公司的資料存放政策，此上載已被阻止。</p>\n<p lang=\"pt\">Este carregamento foi bloqueado pela política de residência de dados da empresa.</p>\n</body></html>\n",
            host = esc(self.host),
            jur = esc(self.jurisdiction),
            classes = if self.classes.is_empty() {
                String::new()
            } else {
                format!(" ({})", esc(&self.classes.join(", ")))
            },
            rule = esc(self.rule),
            ticket = esc(self.ticket),
        )
    }
}

/// Requests that need a decision fail closed when their audit record cannot be written.
pub fn audit_unavailable(ticket: &str) -> Response<Body> {
    let mut r = Refusal::Unavailable(format!(
        "sluice cannot write its audit log, so uploads that need a decision are refused (ticket {ticket})"
    ))
    .into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn blocked<'a>(host: &'a str, accept: Option<&'a str>) -> Blocked<'a> {
        Blocked {
            ticket: "slc-0123456789abcdef",
            rule: "sensitive-to-mainland",
            host,
            jurisdiction: "mainland-china",
            classes: vec!["hk_id"],
            accept,
        }
    }

    async fn body_of(r: Response<Body>) -> (StatusCode, String) {
        let status = r.status();
        let b = r.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&b).into_owned())
    }

    #[tokio::test]
    async fn shapes_per_client() {
        let (s, b) = body_of(blocked("oapi.dingtalk.com", None).into_response()).await;
        assert_eq!(s, StatusCode::OK);
        let j: serde_json::Value = serde_json::from_str(&b).unwrap();
        let code = j["errcode"].as_i64().unwrap();
        assert!(code != 0 && ![88, 33001, 40001, 40014, 42001].contains(&code));
        assert!(j["errmsg"]
            .as_str()
            .unwrap()
            .contains("slc-0123456789abcdef"));

        let (s, b) = body_of(blocked("api.dingtalk.com", None).into_response()).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let j: serde_json::Value = serde_json::from_str(&b).unwrap();
        assert_eq!(j["code"], "Forbidden.AccessDenied.DataResidency");
        assert_eq!(j["requestid"], "slc-0123456789abcdef");

        let (s, b) = body_of(
            blocked("zjk-dualstack.trans.dingtalk.com", Some("text/html,*/*")).into_response(),
        )
        .await;
        assert_eq!(s, StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS);
        assert!(b.contains("<h1>") && b.contains("slc-0123456789abcdef"));

        let (s, b) = body_of(blocked("eco.taobao.com", None).into_response()).await;
        assert_eq!(s, StatusCode::OK);
        let j: serde_json::Value = serde_json::from_str(&b).unwrap();
        let e = &j["error_response"];
        assert_eq!(e["code"], 15);
        assert_eq!(e["sub_code"], "isv.sluice-data-residency");
        assert_eq!(e["request_id"], "slc-0123456789abcdef");
        assert!(e["sub_msg"]
            .as_str()
            .unwrap()
            .contains("slc-0123456789abcdef"));

        let (s, b) =
            body_of(blocked("bucket.oss-cn-shanghai.aliyuncs.com", None).into_response()).await;
        assert_eq!(s, StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS);
        let j: serde_json::Value = serde_json::from_str(&b).unwrap();
        assert_eq!(j["rule"], "sensitive-to-mainland");
        assert_eq!(j["ticket"], "slc-0123456789abcdef");
    }

    #[tokio::test]
    async fn html_is_escaped() {
        let b = Blocked {
            rule: "<script>x</script>",
            ..blocked("a.example", Some("text/html"))
        };
        let (_, body) = body_of(b.into_response()).await;
        assert!(!body.contains("<script>"));
    }
}
