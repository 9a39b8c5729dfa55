//! Hop-by-hop header handling (RFC 9110 §7.6.1): what a proxy must not forward.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

/// The protocol a client asked to upgrade to (`websocket`), if the request is an
/// HTTP/1.1 upgrade. An offer of HTTP/2 in cleartext (`h2c`, which RFC 9113
/// retired) is none: it is hop-by-hop, so the request goes on as plain
/// HTTP/1.1 without it, instead of leaving the connection's later requests to
/// a splice that reads none of them.
pub fn upgrade_protocol(headers: &HeaderMap) -> Option<HeaderValue> {
    let wants = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    if wants {
        headers
            .get(header::UPGRADE)
            .filter(|p| !p.as_bytes().trim_ascii().eq_ignore_ascii_case(b"h2c"))
            .cloned()
    } else {
        None
    }
}

/// Removes hop-by-hop headers, including those the `Connection` header names.
/// `te: trailers` survives (gRPC needs it end to end); an upgrade keeps its
/// `Upgrade` header and gets `Connection: upgrade` back.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let upgrade = upgrade_protocol(headers);
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    let te_trailers = headers
        .get(header::TE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("trailers"))
        });
    for name in named {
        headers.remove(name);
    }
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    headers.remove(header::UPGRADE);
    if te_trailers {
        headers.insert(header::TE, HeaderValue::from_static("trailers"));
    }
    if let Some(proto) = upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, proto);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_listed_and_standard() {
        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, "keep-alive, x-private".parse().unwrap());
        h.insert("x-private", "1".parse().unwrap());
        h.insert("keep-alive", "timeout=5".parse().unwrap());
        h.insert(header::PROXY_AUTHORIZATION, "Basic eA==".parse().unwrap());
        h.insert(header::TRANSFER_ENCODING, "chunked".parse().unwrap());
        h.insert(header::TE, "trailers, deflate".parse().unwrap());
        h.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        strip_hop_by_hop(&mut h);
        assert!(h.get("x-private").is_none());
        assert!(h.get("keep-alive").is_none());
        assert!(h.get(header::CONNECTION).is_none());
        assert!(h.get(header::PROXY_AUTHORIZATION).is_none());
        assert!(h.get(header::TRANSFER_ENCODING).is_none());
        assert_eq!(h.get(header::TE).unwrap(), "trailers");
        assert_eq!(h.get(header::CONTENT_TYPE).unwrap(), "text/plain");
    }

    #[test]
    fn drops_an_h2c_offer() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            "Upgrade, HTTP2-Settings".parse().unwrap(),
        );
        h.insert(header::UPGRADE, "h2c".parse().unwrap());
        h.insert("http2-settings", "AAMAAABkAAQAAP__".parse().unwrap());
        assert!(upgrade_protocol(&h).is_none());
        strip_hop_by_hop(&mut h);
        assert!(h.is_empty(), "{h:?}");
    }

    #[test]
    fn keeps_upgrade() {
        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, "Upgrade".parse().unwrap());
        h.insert(header::UPGRADE, "websocket".parse().unwrap());
        h.insert("sec-websocket-key", "abc".parse().unwrap());
        strip_hop_by_hop(&mut h);
        assert_eq!(h.get(header::CONNECTION).unwrap(), "upgrade");
        assert_eq!(h.get(header::UPGRADE).unwrap(), "websocket");
        assert_eq!(h.get("sec-websocket-key").unwrap(), "abc");
    }
}
