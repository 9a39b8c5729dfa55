//! Bodies in a HAR: `postData` (text, or rebuilt from `params`) and response
//! `content`, with base64 decoding where the exporter marked it.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::{Map, Value};

use super::{opt_string, req_string, scalar, At, HarError, SentMessage};

/// Boundary used when a multipart `mimeType` does not carry one.
pub const DEFAULT_BOUNDARY: &str = "----sluice-har-7MA4YWxkTrZu0gW";

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// `request.postData`: `text` wins when non-empty; otherwise the body is rebuilt
/// from `params` (as `application/x-www-form-urlencoded` or `multipart/form-data`
/// per `mimeType`). Exporters such as Firefox write params decoded, so they are
/// encoded here.
pub(super) fn post_data(
    obj: &Map<String, Value>,
    at: At<'_>,
) -> Result<(Vec<u8>, Option<String>), HarError> {
    let mime = opt_string(obj, at, "mimeType")?.filter(|m| !m.is_empty());
    let text = decoded_text(obj, at)?;
    if !text.is_empty() {
        return Ok((text, mime));
    }
    let params = match obj.get("params") {
        None | Some(Value::Null) => return Ok((Vec::new(), mime)),
        Some(Value::Array(params)) if params.is_empty() => return Ok((Vec::new(), mime)),
        Some(Value::Array(params)) => params,
        Some(_) => return Err(at.err("params", "expected an array")),
    };
    let params = params
        .iter()
        .enumerate()
        .map(|(i, p)| param(p, at, i))
        .collect::<Result<Vec<_>, _>>()?;
    let is_multipart = mime.as_deref().is_some_and(|m| {
        m.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/")
    });
    if is_multipart {
        let (boundary, mime) = match mime.as_deref().and_then(boundary_of) {
            Some(b) => (b, mime),
            None => {
                let base = mime.as_deref().unwrap_or("multipart/form-data");
                let base = base.split(';').next().unwrap_or(base).trim();
                let with = format!("{base}; boundary={DEFAULT_BOUNDARY}");
                (DEFAULT_BOUNDARY.to_owned(), Some(with))
            }
        };
        Ok((multipart(&params, &boundary), mime))
    } else {
        let mime = mime.or_else(|| Some(String::from("application/x-www-form-urlencoded")));
        Ok((urlencoded(&params), mime))
    }
}

/// `response.content`.
pub(super) fn content(
    obj: &Map<String, Value>,
    at: At<'_>,
) -> Result<(Vec<u8>, Option<String>), HarError> {
    let mime = opt_string(obj, at, "mimeType")?.filter(|m| !m.is_empty());
    Ok((decoded_text(obj, at)?, mime))
}

/// `text`, base64-decoded when `encoding` (or sluice-written `_encoding`) says so.
fn decoded_text(obj: &Map<String, Value>, at: At<'_>) -> Result<Vec<u8>, HarError> {
    let Some(text) = opt_string(obj, at, "text")? else {
        return Ok(Vec::new());
    };
    let encoding = match opt_string(obj, at, "encoding")? {
        Some(e) => Some(e),
        None => opt_string(obj, at, "_encoding")?,
    };
    match encoding {
        Some(e) if e.eq_ignore_ascii_case("base64") => {
            base64_decode(&text).map_err(|e| at.err("text", format!("invalid base64: {e}")))
        }
        _ => Ok(text.into_bytes()),
    }
}

/// Standard or URL-safe alphabet, padding optional, line breaks ignored.
pub(super) fn base64_decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    STANDARD
        .decode(&compact)
        .or_else(|e| URL_SAFE.decode(&compact).map_err(|_| e))
}

struct Param {
    name: String,
    value: String,
    file_name: Option<String>,
    content_type: Option<String>,
}

fn param(raw: &Value, at: At<'_>, i: usize) -> Result<Param, HarError> {
    let path = format!("{}.params[{i}]", at.path);
    let at = At {
        entry: at.entry,
        path: &path,
    };
    let obj = raw
        .as_object()
        .ok_or_else(|| at.err("", "expected an object"))?;
    Ok(Param {
        name: req_string(obj, at, "name")?,
        value: match obj.get("value") {
            None => String::new(),
            Some(v) => scalar(v, at, "value")?,
        },
        file_name: opt_string(obj, at, "fileName")?,
        content_type: opt_string(obj, at, "contentType")?,
    })
}

fn urlencoded(params: &[Param]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, p) in params.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        form_encode(&p.name, &mut out);
        out.push(b'=');
        form_encode(&p.value, &mut out);
    }
    out
}

/// `application/x-www-form-urlencoded` byte serialisation (WHATWG URL, "urlencoded serializer").
fn form_encode(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(b),
            b' ' => out.push(b'+'),
            _ => {
                out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]])
            }
        }
    }
}

fn multipart(params: &[Param], boundary: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for p in params {
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
        out.extend_from_slice(quote(&p.name).as_bytes());
        out.push(b'"');
        if let Some(file_name) = &p.file_name {
            out.extend_from_slice(b"; filename=\"");
            out.extend_from_slice(quote(file_name).as_bytes());
            out.push(b'"');
        }
        out.extend_from_slice(b"\r\n");
        if let Some(ct) = &p.content_type {
            out.extend_from_slice(b"Content-Type: ");
            out.extend_from_slice(strip_newlines(ct).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(p.value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--\r\n");
    out
}

/// Escapes a quoted-string for Content-Disposition the way browsers do.
fn quote(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn strip_newlines(s: &str) -> String {
    s.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

/// The `boundary` parameter of a multipart media type, unquoted.
fn boundary_of(mime: &str) -> Option<String> {
    mime.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim().trim_matches('"');
        (!value.is_empty()).then(|| value.to_owned())
    })
}

/// The messages a client sent, from Chrome's `_webSocketMessages`: entries of
/// type `send` with a data opcode (1 text, 2 binary, written in base64);
/// control frames and what the server sent are left out.
pub(super) fn sent_messages(frames: &[Value], at: At<'_>) -> Result<Vec<SentMessage>, HarError> {
    let mut out = Vec::new();
    for (k, frame) in frames.iter().enumerate() {
        let key = format!("[{k}]");
        let Some(obj) = frame.as_object() else {
            return Err(at.err(&key, "expected an object"));
        };
        let path = super::join(at.path, &key);
        let at = At {
            entry: at.entry,
            path: &path,
        };
        if opt_string(obj, at, "type")?.as_deref() != Some("send") {
            continue;
        }
        let opcode = match obj.get("opcode") {
            Some(Value::Number(n)) => n.as_u64(),
            _ => None,
        }
        .ok_or_else(|| at.err("opcode", "expected a frame opcode number"))?;
        let data = match obj.get("data") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(at.err("data", "expected a string")),
        };
        match opcode {
            1 => out.push(SentMessage {
                binary: false,
                data: data.into_bytes(),
            }),
            2 => out.push(SentMessage {
                binary: true,
                data: STANDARD
                    .decode(data.trim())
                    .map_err(|e| at.err("data", format!("binary frame data is not base64: {e}")))?,
            }),
            _ => {}
        }
    }
    Ok(out)
}
