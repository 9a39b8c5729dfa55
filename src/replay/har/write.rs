//! The HAR 1.2 writer behind `sluice run --record`: what `load` reads back as the
//! same entries. Non-UTF-8 bodies are written base64 with `encoding: "base64"`
//! (on `postData` too, which HAR 1.2 leaves unspecified and sluice's loader reads).

use base64::Engine;
use serde_json::{json, Map, Value};

use super::{HarEntry, HarRequest, HarResponse};

/// Serialises `entries` as a pretty-printed HAR 1.2 document.
pub fn write(entries: &[HarEntry], creator: &str) -> String {
    let entries: Vec<Value> = entries.iter().map(entry).collect();
    let doc = json!({
        "log": {
            "version": "1.2",
            "creator": { "name": creator, "version": env!("CARGO_PKG_VERSION") },
            "entries": entries,
        }
    });
    format!("{doc:#}\n")
}

/// One entry as `write` serialises it (the recorder writes entries one by one).
pub(crate) fn entry_value(e: &HarEntry) -> Value {
    entry(e)
}

fn entry(e: &HarEntry) -> Value {
    let started = e.started.clone().unwrap_or_else(crate::audit::now_ts);
    let mut v = json!({
        "startedDateTime": started,
        "time": 0,
        "request": request(&e.request),
        "response": e.response.as_ref().map_or_else(no_response, response),
        "cache": {},
        "timings": { "send": 0, "wait": 0, "receive": 0 },
    });
    if !e.sent_messages.is_empty() {
        // Chrome's shape, so the capture replays anywhere that reads Chrome's.
        let frames = e
            .sent_messages
            .iter()
            .map(|m| {
                let (opcode, data) = if m.binary {
                    (2, base64::engine::general_purpose::STANDARD.encode(&m.data))
                } else {
                    (1, String::from_utf8_lossy(&m.data).into_owned())
                };
                json!({ "type": "send", "time": 0, "opcode": opcode, "data": data })
            })
            .collect();
        v["_webSocketMessages"] = Value::Array(frames);
    }
    v
}

fn request(r: &HarRequest) -> Value {
    let mut obj = Map::new();
    obj.insert("method".into(), json!(r.method));
    obj.insert("url".into(), json!(r.url));
    obj.insert(
        "httpVersion".into(),
        json!(r.http_version.as_deref().unwrap_or("HTTP/1.1")),
    );
    obj.insert("cookies".into(), json!([]));
    obj.insert("headers".into(), headers(&r.headers));
    obj.insert("queryString".into(), json!([]));
    if !r.body.is_empty() || r.mime_type.is_some() {
        let mut pd = body(&r.body);
        pd.insert(
            "mimeType".into(),
            json!(r.mime_type.as_deref().unwrap_or("")),
        );
        obj.insert("postData".into(), Value::Object(pd));
    }
    obj.insert("headersSize".into(), json!(-1));
    obj.insert("bodySize".into(), json!(r.body.len()));
    Value::Object(obj)
}

fn response(r: &HarResponse) -> Value {
    let mut content = body(&r.body);
    content.insert("size".into(), json!(r.body.len()));
    content.insert(
        "mimeType".into(),
        json!(r.mime_type.as_deref().unwrap_or("")),
    );
    json!({
        "status": r.status,
        "statusText": "",
        "httpVersion": "",
        "cookies": [],
        "headers": headers(&r.headers),
        "content": content,
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": r.body.len(),
    })
}

/// What Chrome writes for a request that got no response; `load` reads it as `None`.
fn no_response() -> Value {
    json!({
        "status": 0,
        "statusText": "",
        "httpVersion": "",
        "cookies": [],
        "headers": [],
        "content": { "size": 0, "mimeType": "x-unknown" },
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": -1,
    })
}

fn headers(headers: &[(String, String)]) -> Value {
    Value::Array(
        headers
            .iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect(),
    )
}

fn body(bytes: &[u8]) -> Map<String, Value> {
    let mut obj = Map::new();
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            obj.insert("text".into(), json!(text));
        }
        Err(_) => {
            let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
            obj.insert("text".into(), json!(b64));
            obj.insert("encoding".into(), json!("base64"));
        }
    }
    obj
}
