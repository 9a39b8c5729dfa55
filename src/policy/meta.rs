//! What the policy knows about a request before its body: the proxy fills it in,
//! `replay` builds it from a HAR entry, tests build it by hand.

use std::net::{IpAddr, Ipv4Addr};

/// The method a WebSocket message from the client is decided under (it has no
/// HTTP method of its own); audit records name it too.
pub const WEBSOCKET: &str = "WEBSOCKET";
/// The method of what a client sends after an upgrade to any other protocol,
/// which sluice cannot read.
pub const UPGRADE: &str = "UPGRADE";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestMeta {
    pub client: IpAddr,
    /// Upper case as sent (`POST`); compared case-insensitively.
    pub method: String,
    pub scheme: String,
    /// Lower case, no port, no trailing dot.
    pub host: String,
    pub port: u16,
    /// Without the query string.
    pub path: String,
    pub query: Option<String>,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_length: Option<u64>,
    pub accept: Option<String>,
    /// The upstream address, when the proxy already resolved it.
    pub resolved: Option<IpAddr>,
}

impl RequestMeta {
    /// A request to `https://host/path` from localhost; the rest empty. Handy for
    /// tests, benches and `replay`.
    pub fn new(method: &str, host: &str, path: &str) -> RequestMeta {
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (path.to_owned(), None),
        };
        RequestMeta {
            client: IpAddr::V4(Ipv4Addr::LOCALHOST),
            method: method.to_owned(),
            scheme: "https".to_owned(),
            host: host.to_ascii_lowercase(),
            port: 443,
            path,
            query,
            content_type: None,
            content_encoding: None,
            content_length: None,
            accept: None,
            resolved: None,
        }
    }

    /// What each message on this WebSocket handshake is decided as: the same
    /// destination and path, method `WEBSOCKET`, no body headers.
    pub fn websocket_message(&self) -> RequestMeta {
        self.after_upgrade(WEBSOCKET)
    }

    /// What the client sends after this request's upgrade, decided under
    /// `method` (`WEBSOCKET` or `UPGRADE`): the same destination and path, no
    /// body headers.
    pub fn after_upgrade(&self, method: &str) -> RequestMeta {
        RequestMeta {
            method: method.to_string(),
            content_type: None,
            content_encoding: None,
            content_length: None,
            ..self.clone()
        }
    }

    /// The query string without its `?` (empty when there is none).
    pub fn query(&self) -> &str {
        self.query.as_deref().unwrap_or("")
    }

    /// `path?query`, as a reroute target needs it.
    pub fn path_and_query(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }
}
