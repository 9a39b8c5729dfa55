//! HAR 1.1/1.2 loading as real exporters write them (Chrome, Firefox, Safari,
//! Charles, Insomnia, mitmproxy), and the HAR 1.2 writer for `sluice run --record`.
//!
//! The document is parsed into a skeleton (`raw.rs`) whose entries hold
//! `serde_json::Value`s, walked by hand so every error names the entry and the
//! field (`entries[3].request.url`) and exporter quirks (header pairs, params-only
//! bodies, a byte-order mark) are handled in one place. Fields sluice does not use
//! (timings, cookies, `_`-prefixed extensions) are ignored. Evaluating or
//! replaying the entries belongs to the rest of `replay`.

mod body;
mod raw;
pub(crate) mod write;

#[cfg(test)]
mod tests;

use std::path::Path;

use serde_json::{Map, Value};

use raw::{Array, Object, RawDoc, RawEntry};

pub use body::DEFAULT_BOUNDARY;
pub use write::write;

/// Inputs larger than this are rejected before parsing: a parsed `Value` costs
/// several times its text, and captures this large are not test inputs.
pub const MAX_HAR_BYTES: u64 = 256 << 20;
/// More entries than this is not a capture sluice can replay usefully.
pub const MAX_ENTRIES: usize = 200_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Har {
    /// `log.version`; empty when absent.
    pub version: String,
    /// `log.creator` as `name version`.
    pub creator: Option<String>,
    pub entries: Vec<HarEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HarEntry {
    /// Position in `log.entries`.
    pub index: usize,
    /// `startedDateTime`, as written.
    pub started: Option<String>,
    pub request: HarRequest,
    /// `None` when the entry has no response, or status 0 (what Chrome writes for a
    /// request that failed before a response).
    pub response: Option<HarResponse>,
    /// Each WebSocket message the client sent, in order (Chrome's
    /// `_webSocketMessages` of type `send`).
    pub sent_messages: Vec<SentMessage>,
}

/// A WebSocket message from the client: text, or binary (base64 in the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentMessage {
    pub binary: bool,
    pub data: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HarRequest {
    pub method: String,
    pub url: String,
    /// `None` when absent or empty.
    pub http_version: Option<String>,
    /// In order; HTTP/2 pseudo-headers removed, `:authority` kept as `host` when the
    /// request has no `host` header.
    pub headers: Vec<(String, String)>,
    /// From `postData.text` (base64-decoded when marked), else rebuilt from
    /// `postData.params`; empty when there is no body.
    pub body: Vec<u8>,
    /// `postData.mimeType`; for a multipart body rebuilt from params without a
    /// boundary, the mime type with the boundary sluice chose.
    pub mime_type: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HarResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// `content.text`, base64-decoded when `content.encoding` says so.
    pub body: Vec<u8>,
    pub mime_type: Option<String>,
}

/// A malformed HAR: which entry, which field, what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{}", if field.is_empty() { String::new() } else { format!("{field}: ") }, message)]
pub struct HarError {
    pub entry: Option<usize>,
    /// Path to the field, e.g. `entries[3].request.url`; empty for the document.
    pub field: String,
    pub message: String,
}

/// Where the walker is, for naming fields in errors.
#[derive(Clone, Copy)]
pub(crate) struct At<'a> {
    pub entry: Option<usize>,
    pub path: &'a str,
}

impl At<'_> {
    pub fn err(self, key: &str, message: impl Into<String>) -> HarError {
        HarError {
            entry: self.entry,
            field: join(self.path, key),
            message: message.into(),
        }
    }
}

pub(crate) fn join(path: &str, key: &str) -> String {
    match (path.is_empty(), key.is_empty()) {
        (_, true) => path.to_owned(),
        (true, false) => key.to_owned(),
        (false, false) if key.starts_with('[') => format!("{path}{key}"),
        (false, false) => format!("{path}.{key}"),
    }
}

/// Loads a HAR file, refusing files over `MAX_HAR_BYTES` before reading them.
pub fn load_file(path: &Path) -> Result<Har, HarError> {
    let io_err = |e: std::io::Error| HarError {
        entry: None,
        field: String::new(),
        message: format!("cannot read {}: {e}", path.display()),
    };
    let len = std::fs::metadata(path).map_err(io_err)?.len();
    if len > MAX_HAR_BYTES {
        return Err(too_large(len));
    }
    let bytes = std::fs::read(path).map_err(io_err)?;
    load(&bytes)
}

/// Parses a HAR document.
pub fn load(bytes: &[u8]) -> Result<Har, HarError> {
    if bytes.len() as u64 > MAX_HAR_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    let top = At {
        entry: None,
        path: "",
    };
    let Object::Is(root) = parse_json(bytes)? else {
        return Err(top.err("", "expected a JSON object with a `log`"));
    };
    let log = match root.log {
        None => return Err(top.err("log", "missing")),
        Some(Object::Not) => return Err(top.err("log", "expected an object")),
        Some(Object::Is(log)) => log,
    };
    let at_log = At {
        entry: None,
        path: "log",
    };
    let version = opt_str(log.version.as_ref(), at_log, "version")?.unwrap_or_default();
    let creator = match &log.creator {
        Some(Value::Object(c)) => {
            let at = At {
                entry: None,
                path: "log.creator",
            };
            let name = opt_string(c, at, "name")?.unwrap_or_default();
            let version = opt_string(c, at, "version")?.unwrap_or_default();
            let joined = format!("{name} {version}").trim().to_owned();
            (!joined.is_empty()).then_some(joined)
        }
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let raw_entries = match log.entries {
        None => return Err(at_log.err("entries", "missing")),
        Some(Array::Not) => return Err(at_log.err("entries", "expected an array")),
        Some(Array::Is(entries)) => entries,
    };
    let entries = raw_entries
        .into_iter()
        .enumerate()
        .map(|(index, raw)| entry(index, raw))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Har {
        version,
        creator,
        entries,
    })
}

fn too_large(len: u64) -> HarError {
    HarError {
        entry: None,
        field: String::new(),
        message: format!("HAR is {len} bytes, more than the limit of {MAX_HAR_BYTES}"),
    }
}

/// JSON after an optional byte-order mark; UTF-16 (with a BOM) is transcoded.
fn parse_json(bytes: &[u8]) -> Result<Object<RawDoc>, HarError> {
    let doc_err = |message: String| HarError {
        entry: None,
        field: String::new(),
        message,
    };
    let parsed = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        serde_json::from_slice(rest)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        serde_json::from_str(&utf16(rest, u16::from_le_bytes).map_err(doc_err)?)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        serde_json::from_str(&utf16(rest, u16::from_be_bytes).map_err(doc_err)?)
    } else {
        serde_json::from_slice(bytes)
    };
    parsed.map_err(|e| match e.classify() {
        serde_json::error::Category::Data => doc_err(format!("invalid HAR: {e}")),
        _ => doc_err(format!("not JSON: {e}")),
    })
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, String> {
    if !bytes.len().is_multiple_of(2) {
        return Err(String::from(
            "not JSON: UTF-16 text with an odd number of bytes",
        ));
    }
    let units = bytes
        .chunks_exact(2)
        .filter_map(|c| <[u8; 2]>::try_from(c).ok())
        .map(unit);
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|e| format!("not JSON: invalid UTF-16: {e}"))
}

fn entry(index: usize, raw: Object<RawEntry>) -> Result<HarEntry, HarError> {
    let path = format!("entries[{index}]");
    let at = At {
        entry: Some(index),
        path: &path,
    };
    let Object::Is(raw) = raw else {
        return Err(at.err("", "expected an object"));
    };
    let started = opt_str(raw.started.as_ref(), at, "startedDateTime")?;
    let req_path = join(&path, "request");
    let req_at = At {
        entry: Some(index),
        path: &req_path,
    };
    let Some(raw_request) = &raw.request else {
        return Err(at.err("request", "missing"));
    };
    let request = request(as_object(raw_request, at, "request")?, req_at)?;
    let response = match &raw.response {
        None => None,
        Some(v) => {
            let resp_path = join(&path, "response");
            let resp_at = At {
                entry: Some(index),
                path: &resp_path,
            };
            response(as_object(v, at, "response")?, resp_at)?
        }
    };
    let sent_messages = match &raw.websocket {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(frames)) => {
            let ws_path = join(&path, "_webSocketMessages");
            let ws_at = At {
                entry: Some(index),
                path: &ws_path,
            };
            body::sent_messages(frames, ws_at)?
        }
        Some(_) => return Err(at.err("_webSocketMessages", "expected an array")),
    };
    Ok(HarEntry {
        index,
        started,
        request,
        response,
        sent_messages,
    })
}

fn request(obj: &Map<String, Value>, at: At<'_>) -> Result<HarRequest, HarError> {
    let method = req_string(obj, at, "method")?;
    let url = req_string(obj, at, "url")?;
    let http_version = opt_string(obj, at, "httpVersion")?.filter(|v| !v.is_empty());
    let headers = strip_pseudo_headers(headers(obj.get("headers"), at, "headers")?);
    let (body, mime_type) = match obj.get("postData") {
        None | Some(Value::Null) => (Vec::new(), None),
        Some(v) => {
            let pd_path = join(at.path, "postData");
            let pd_at = At {
                entry: at.entry,
                path: &pd_path,
            };
            body::post_data(as_object(v, at, "postData")?, pd_at)?
        }
    };
    Ok(HarRequest {
        method,
        url,
        http_version,
        headers,
        body,
        mime_type,
    })
}

fn response(obj: &Map<String, Value>, at: At<'_>) -> Result<Option<HarResponse>, HarError> {
    let status = match required(obj, at, "status")? {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(s) => s.trim().parse::<u16>().ok(),
        _ => None,
    }
    .filter(|s| *s <= 999)
    .ok_or_else(|| at.err("status", "expected an HTTP status number"))?;
    if status == 0 {
        return Ok(None);
    }
    let headers = headers(obj.get("headers"), at, "headers")?;
    let (body, mime_type) = match obj.get("content") {
        None | Some(Value::Null) => (Vec::new(), None),
        Some(v) => {
            let c_path = join(at.path, "content");
            let c_at = At {
                entry: at.entry,
                path: &c_path,
            };
            body::content(as_object(v, at, "content")?, c_at)?
        }
    };
    Ok(Some(HarResponse {
        status,
        headers,
        body,
        mime_type,
    }))
}

/// Headers as `{name, value}` objects, `[name, value]` pairs, or a `{name: value}` map.
fn headers(raw: Option<&Value>, at: At<'_>, key: &str) -> Result<Vec<(String, String)>, HarError> {
    let path = join(at.path, key);
    match raw {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(name, value)| {
                let at = At {
                    entry: at.entry,
                    path: &path,
                };
                Ok((name.clone(), scalar(value, at, name)?))
            })
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| header(item, at.entry, &format!("{path}[{i}]")))
            .collect(),
        Some(_) => Err(at.err(key, "expected an array of headers")),
    }
}

fn header(item: &Value, entry: Option<usize>, path: &str) -> Result<(String, String), HarError> {
    let at = At { entry, path };
    match item {
        Value::Object(obj) => {
            let name = req_string(obj, at, "name")?;
            let value = match obj.get("value") {
                None => String::new(),
                Some(v) => scalar(v, at, "value")?,
            };
            Ok((name, value))
        }
        Value::Array(pair) => match pair.as_slice() {
            [Value::String(name), value] => Ok((name.clone(), scalar(value, at, "[1]")?)),
            _ => Err(at.err("", "expected a [name, value] pair of strings")),
        },
        _ => Err(at.err("", "expected {name, value} or [name, value]")),
    }
}

/// HTTP/2 and HTTP/3 captures list `:authority`, `:method`, … among the headers.
/// They are not headers on the wire; `:authority` stands in for `host`.
fn strip_pseudo_headers(headers: Vec<(String, String)>) -> Vec<(String, String)> {
    let authority = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(":authority"))
        .map(|(_, v)| v.clone());
    let mut out: Vec<(String, String)> = headers
        .into_iter()
        .filter(|(n, _)| !n.starts_with(':'))
        .collect();
    if let Some(authority) = authority {
        if !out.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            out.insert(0, (String::from("host"), authority));
        }
    }
    out
}

pub(crate) fn as_object<'v>(
    v: &'v Value,
    at: At<'_>,
    key: &str,
) -> Result<&'v Map<String, Value>, HarError> {
    v.as_object()
        .ok_or_else(|| at.err(key, "expected an object"))
}

pub(crate) fn required<'v>(
    obj: &'v Map<String, Value>,
    at: At<'_>,
    key: &str,
) -> Result<&'v Value, HarError> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(at.err(key, "missing")),
        Some(v) => Ok(v),
    }
}

pub(crate) fn req_string(
    obj: &Map<String, Value>,
    at: At<'_>,
    key: &str,
) -> Result<String, HarError> {
    match required(obj, at, key)? {
        Value::String(s) => Ok(s.clone()),
        _ => Err(at.err(key, "expected a string")),
    }
}

/// A string field that may be absent or null.
pub(crate) fn opt_string(
    obj: &Map<String, Value>,
    at: At<'_>,
    key: &str,
) -> Result<Option<String>, HarError> {
    opt_str(obj.get(key), at, key)
}

fn opt_str(v: Option<&Value>, at: At<'_>, key: &str) -> Result<Option<String>, HarError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(at.err(key, "expected a string")),
    }
}

/// Header and param values: exporters sometimes write numbers or booleans.
pub(crate) fn scalar(v: &Value, at: At<'_>, key: &str) -> Result<String, HarError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(String::new()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(at.err(key, "expected a string")),
    }
}
