//! The loader against real exporters' files, exporter quirks, malformed input,
//! and write → load round trips.

use std::path::Path;

use super::body::DEFAULT_BOUNDARY;
use super::*;

macro_rules! real {
    ($name:literal) => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/har/real/", $name)
    };
}

fn load_real(path: &str) -> Har {
    load_file(Path::new(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

// ---- every real file loads ----

#[test]
fn real_chrome() {
    let har = load_real(real!("chrome.har"));
    assert_eq!(har.version, "1.2");
    assert_eq!(har.creator.as_deref(), Some("WebInspector 537.36"));
    assert_eq!(har.entries.len(), 3);
    let first = &har.entries[0];
    assert_eq!(first.request.method, "GET");
    assert_eq!(first.request.url, "https://mitmproxy.org/");
    assert_eq!(first.request.http_version.as_deref(), Some("http/2.0"));
    // Pseudo-headers are gone; :authority became host.
    assert!(first
        .request
        .headers
        .iter()
        .all(|(n, _)| !n.starts_with(':')));
    assert_eq!(
        header(&first.request.headers, "host"),
        Some("mitmproxy.org")
    );
    let resp = first.response.as_ref().unwrap();
    assert_eq!(resp.status, 304);
    // base64 content decoded to the 23866-byte page.
    assert_eq!(resp.body.len(), 23866);
    assert!(resp.body.starts_with(b"<!DOCTYPE html>") || resp.body.starts_with(b"<!doctype html>"));
    // Status 0: the request failed before any response.
    assert_eq!(har.entries[1].response, None);
    assert_eq!(har.entries[1].request.http_version, None);
    let logo = &har.entries[2];
    assert_eq!(logo.request.http_version.as_deref(), Some("h3"));
    let png = &logo.response.as_ref().unwrap().body;
    assert_eq!(png.len(), 7108);
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
}

#[test]
fn real_firefox() {
    let har = load_real(real!("firefox.har"));
    assert_eq!(har.creator.as_deref(), Some("Firefox 111.0.1"));
    assert_eq!(har.entries.len(), 14);
    assert!(har
        .entries
        .iter()
        .all(|e| e.request.method == "GET" && e.request.body.is_empty()));
    assert_eq!(
        har.entries[6].request.url,
        "https://mitmproxy.org/polyfills.js"
    );
    assert_eq!(har.entries[6].response.as_ref().unwrap().body.len(), 11800);
    let ico = &har.entries[13].response.as_ref().unwrap().body;
    assert_eq!(ico.len(), 98065);
    assert_eq!(har.entries[13].index, 13);
}

#[test]
fn real_safari() {
    let har = load_real(real!("safari.har"));
    assert_eq!(har.creator.as_deref(), Some("WebKit Web Inspector 1.0"));
    assert_eq!(har.entries.len(), 19);
    assert_eq!(
        har.entries[1].request.url,
        "https://mitmproxy.org/style.min.css"
    );
    // Safari leaves request headers and httpVersion empty for cached entries.
    assert!(har.entries[1].request.headers.is_empty());
    assert_eq!(har.entries[1].request.http_version, None);
    let png = &har.entries[2].response.as_ref().unwrap().body;
    assert!(png.starts_with(b"\x89PNG"));
}

#[test]
fn real_charles() {
    let har = load_real(real!("charles.har"));
    assert_eq!(har.creator.as_deref(), Some("Charles Proxy 4.6.3"));
    assert_eq!(har.entries.len(), 1);
    let e = &har.entries[0];
    assert_eq!(
        (e.request.method.as_str(), e.request.url.as_str()),
        ("GET", "https://mitmproxy.org/?=")
    );
    let resp = e.response.as_ref().unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.mime_type.as_deref(), Some("text/html"));
    assert_eq!(header(&resp.headers, "content-length"), Some("23866"));
    // Bytes, matching Content-Length (the text has multi-byte characters).
    assert_eq!(resp.body.len(), 23866);
}

#[test]
fn real_insomnia() {
    let har = load_real(real!("insomnia.har"));
    assert_eq!(har.entries.len(), 1);
    let req = &har.entries[0].request;
    assert_eq!(
        (req.method.as_str(), req.url.as_str()),
        ("GET", "http://mitm.it/")
    );
    // postData with empty text, empty params and an empty mimeType.
    assert!(req.body.is_empty());
    assert_eq!(req.mime_type, None);
    assert_eq!(har.entries[0].response.as_ref().unwrap().body.len(), 250);
}

#[test]
fn real_postdata() {
    let har = load_real(real!("postdata.har"));
    assert_eq!(har.entries.len(), 1);
    let req = &har.entries[0].request;
    assert_eq!(req.method, "POST");
    assert_eq!(
        req.url,
        "https://signal-metrics-collector-beta.s-onetag.com/metrics"
    );
    assert_eq!(req.mime_type.as_deref(), Some("text/plain;charset=UTF-8"));
    assert!(req
        .body
        .starts_with(b"{\"metadata\":{\"pageViewId\":1689428126308"));
    assert_eq!(req.body.len(), 1310);
    assert_eq!(
        header(&req.headers, "host"),
        Some("signal-metrics-collector-beta.s-onetag.com")
    );
}

#[test]
fn real_with_bom_matches_the_file_without() {
    let bytes = std::fs::read(real!("with-bom.har")).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let with_bom = load_real(real!("with-bom.har"));
    let without = load_real(real!("postdata.har"));
    assert_eq!(with_bom.entries[0].request, without.entries[0].request);
}

#[test]
fn real_head_content_length() {
    let har = load_real(real!("head-content-length.har"));
    let e = &har.entries[0];
    assert_eq!(e.request.method, "HEAD");
    assert!(e.request.url.ends_with("tqdm-4.66.1-py3-none-any.whl"));
    let resp = e.response.as_ref().unwrap();
    assert_eq!(header(&resp.headers, "content-length"), Some("78258"));
    assert!(resp.body.is_empty());
}

// ---- exporter quirks ----

fn one_entry(request: &str) -> String {
    format!(r#"{{"log":{{"version":"1.2","entries":[{{"request":{request}}}]}}}}"#)
}

fn load_request(request: &str) -> HarRequest {
    let har = load(one_entry(request).as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    har.entries.into_iter().next().unwrap().request
}

#[test]
fn header_pairs_and_maps() {
    let req = load_request(
        r#"{"method":"GET","url":"http://a/","headers":[["Accept","*/*"],{"name":"X-N","value":5}]}"#,
    );
    assert_eq!(
        req.headers,
        vec![("Accept".into(), "*/*".into()), ("X-N".into(), "5".into())]
    );
    let req = load_request(r#"{"method":"GET","url":"http://a/","headers":{"Accept":"*/*"}}"#);
    assert_eq!(req.headers, vec![("Accept".into(), "*/*".into())]);
}

#[test]
fn pseudo_headers_removed_and_existing_host_kept() {
    let req = load_request(
        r#"{"method":"GET","url":"https://a/","headers":[{"name":":authority","value":"x.example"},{"name":":path","value":"/"},{"name":"Host","value":"a"}]}"#,
    );
    assert_eq!(req.headers, vec![("Host".into(), "a".into())]);
}

#[test]
fn params_rebuilt_as_urlencoded() {
    let req = load_request(
        r#"{"method":"POST","url":"http://a/","postData":{"mimeType":"application/x-www-form-urlencoded","params":[{"name":"name","value":"陳 大文"},{"name":"id","value":"A123456(7)"},{"name":"empty"}]}}"#,
    );
    assert_eq!(
        String::from_utf8(req.body).unwrap(),
        "name=%E9%99%B3+%E5%A4%A7%E6%96%87&id=A123456%287%29&empty="
    );
    // No mimeType at all: urlencoded is the default.
    let req = load_request(
        r#"{"method":"POST","url":"http://a/","postData":{"params":[{"name":"a","value":"1"}]}}"#,
    );
    assert_eq!(
        (req.body.as_slice(), req.mime_type.as_deref()),
        (&b"a=1"[..], Some("application/x-www-form-urlencoded"))
    );
}

#[test]
fn params_rebuilt_as_multipart() {
    let req = load_request(
        r#"{"method":"POST","url":"http://a/","postData":{"mimeType":"multipart/form-data; boundary=\"XyZ\"","text":"","params":[{"name":"note","value":"hi"},{"name":"file","fileName":"id.txt","contentType":"text/plain","value":"A123456(7)"}]}}"#,
    );
    let want = "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n\
                --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"id.txt\"\r\nContent-Type: text/plain\r\n\r\nA123456(7)\r\n\
                --XyZ--\r\n";
    assert_eq!(String::from_utf8(req.body).unwrap(), want);
    // Without a boundary, sluice picks one and says so in the mime type.
    let req = load_request(
        r#"{"method":"POST","url":"http://a/","postData":{"mimeType":"multipart/form-data","params":[{"name":"a","value":"1"}]}}"#,
    );
    assert_eq!(
        req.mime_type,
        Some(format!("multipart/form-data; boundary={DEFAULT_BOUNDARY}"))
    );
    assert!(req
        .body
        .starts_with(format!("--{DEFAULT_BOUNDARY}\r\n").as_bytes()));
}

#[test]
fn text_wins_over_params() {
    let req = load_request(
        r#"{"method":"POST","url":"http://a/","postData":{"mimeType":"application/x-www-form-urlencoded","text":"a=%41","params":[{"name":"a","value":"A"}]}}"#,
    );
    assert_eq!(req.body, b"a=%41");
}

#[test]
fn base64_bodies() {
    let req = load_request(
        r#"{"method":"PUT","url":"http://a/","postData":{"mimeType":"application/octet-stream","text":"AAEC/w==","encoding":"base64"}}"#,
    );
    assert_eq!(req.body, vec![0, 1, 2, 255]);
    // Unpadded, URL-safe, with line breaks.
    let req = load_request(
        r#"{"method":"PUT","url":"http://a/","postData":{"text":"AAEC_w\n","encoding":"base64"}}"#,
    );
    assert_eq!(req.body, vec![0, 1, 2, 255]);
}

#[test]
fn missing_optional_fields() {
    let har =
        load(br#"{"log":{"entries":[{"request":{"method":"GET","url":"http://a/"}}]}}"#).unwrap();
    assert_eq!(har.version, "");
    assert_eq!(har.creator, None);
    let e = &har.entries[0];
    assert_eq!((e.started.as_deref(), e.response.as_ref()), (None, None));
    assert!(e.request.headers.is_empty() && e.request.body.is_empty());
    let har = load(br#"{"log":{"entries":[{"request":{"method":"GET","url":"http://a/"},"response":{"status":"204"}}]}}"#).unwrap();
    let resp = har.entries[0].response.as_ref().unwrap();
    assert_eq!(
        (resp.status, resp.body.len(), resp.mime_type.as_deref()),
        (204, 0, None)
    );
}

#[test]
fn utf16_with_bom() {
    let text = r#"{"log":{"entries":[{"request":{"method":"GET","url":"http://澳門/"}}]}}"#;
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    assert_eq!(load(&bytes).unwrap().entries[0].request.url, "http://澳門/");
}

// ---- malformed input ----

struct Bad {
    name: &'static str,
    input: &'static str,
    entry: Option<usize>,
    field: &'static str,
}

const GOOD: &str = r#"{"request":{"method":"GET","url":"http://a/"}}"#;

const BAD: &[Bad] = &[
    Bad {
        name: "not JSON",
        input: "{not json",
        entry: None,
        field: "",
    },
    Bad {
        name: "empty file",
        input: "",
        entry: None,
        field: "",
    },
    Bad {
        name: "not an object",
        input: "[]",
        entry: None,
        field: "",
    },
    Bad {
        name: "missing log",
        input: r#"{"version":"1.2"}"#,
        entry: None,
        field: "log",
    },
    Bad {
        name: "missing entries",
        input: r#"{"log":{}}"#,
        entry: None,
        field: "log.entries",
    },
    Bad {
        name: "entries not an array",
        input: r#"{"log":{"entries":{}}}"#,
        entry: None,
        field: "log.entries",
    },
    Bad {
        name: "entry not an object",
        input: r#"{"log":{"entries":[GOOD,3]}}"#,
        entry: Some(1),
        field: "entries[1]",
    },
    Bad {
        name: "entry without request",
        input: r#"{"log":{"entries":[GOOD,{}]}}"#,
        entry: Some(1),
        field: "entries[1].request",
    },
    Bad {
        name: "entry without request.url",
        input: r#"{"log":{"entries":[GOOD,GOOD,GOOD,{"request":{"method":"GET"}}]}}"#,
        entry: Some(3),
        field: "entries[3].request.url",
    },
    Bad {
        name: "url not a string",
        input: r#"{"log":{"entries":[{"request":{"method":"GET","url":7}}]}}"#,
        entry: Some(0),
        field: "entries[0].request.url",
    },
    Bad {
        name: "bad base64 in a response",
        input: r#"{"log":{"entries":[GOOD,{"request":{"method":"GET","url":"http://a/"},"response":{"status":200,"content":{"text":"@@@","encoding":"base64"}}}]}}"#,
        entry: Some(1),
        field: "entries[1].response.content.text",
    },
    Bad {
        name: "bad base64 in postData",
        input: r#"{"log":{"entries":[{"request":{"method":"POST","url":"http://a/","postData":{"text":"a b c !","encoding":"base64"}}}]}}"#,
        entry: Some(0),
        field: "entries[0].request.postData.text",
    },
    Bad {
        name: "header without a name",
        input: r#"{"log":{"entries":[{"request":{"method":"GET","url":"http://a/","headers":[{"name":"a","value":"b"},{"value":"c"}]}}]}}"#,
        entry: Some(0),
        field: "entries[0].request.headers[1].name",
    },
    Bad {
        name: "header pair of the wrong shape",
        input: r#"{"log":{"entries":[{"request":{"method":"GET","url":"http://a/","headers":[["a"]]}}]}}"#,
        entry: Some(0),
        field: "entries[0].request.headers[0]",
    },
    Bad {
        name: "param without a name",
        input: r#"{"log":{"entries":[{"request":{"method":"POST","url":"http://a/","postData":{"params":[{"value":"x"}]}}}]}}"#,
        entry: Some(0),
        field: "entries[0].request.postData.params[0].name",
    },
    Bad {
        name: "status out of range",
        input: r#"{"log":{"entries":[{"request":{"method":"GET","url":"http://a/"},"response":{"status":70000}}]}}"#,
        entry: Some(0),
        field: "entries[0].response.status",
    },
    Bad {
        name: "response without status",
        input: r#"{"log":{"entries":[{"request":{"method":"GET","url":"http://a/"},"response":{"content":{}}}]}}"#,
        entry: Some(0),
        field: "entries[0].response.status",
    },
    Bad {
        name: "websocket frames not an array",
        input: r#"{"log":{"entries":[{"request":{"method":"GET","url":"http://a/"},"_webSocketMessages":{}}]}}"#,
        entry: Some(0),
        field: "entries[0]._webSocketMessages",
    },
    Bad {
        name: "sent frame without an opcode",
        input: r#"{"log":{"entries":[{"request":{"method":"GET","url":"http://a/"},"_webSocketMessages":[{"type":"receive","opcode":1,"data":"x"},{"type":"send","data":"x"}]}]}}"#,
        entry: Some(0),
        field: "entries[0]._webSocketMessages[1].opcode",
    },
    Bad {
        name: "binary frame that is not base64",
        input: r#"{"log":{"entries":[{"request":{"method":"GET","url":"http://a/"},"_webSocketMessages":[{"type":"send","opcode":2,"data":"no base64!"}]}]}}"#,
        entry: Some(0),
        field: "entries[0]._webSocketMessages[0].data",
    },
];

#[test]
fn websocket_messages_the_client_sent() {
    let input = r#"{"log":{"entries":[{"request":{"method":"GET","url":"wss://webalfa-cm3.dingtalk.com/lwp"},
        "response":{"status":101},
        "_webSocketMessages":[
          {"type":"send","time":1.0,"opcode":1,"data":"{\"lwp\":\"/reg\"}"},
          {"type":"receive","time":1.1,"opcode":1,"data":"{\"code\":200}"},
          {"type":"send","time":1.2,"opcode":9,"data":""},
          {"type":"send","time":1.3,"opcode":2,"data":"CAESBHBpbmc="},
          {"type":"send","time":1.4,"opcode":1,"data":"陳大文"}
        ]}]}}"#;
    let har = load(input.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let sent: Vec<(bool, &[u8])> = har.entries[0]
        .sent_messages
        .iter()
        .map(|m| (m.binary, &m.data[..]))
        .collect();
    assert_eq!(
        sent,
        [
            (false, &br#"{"lwp":"/reg"}"#[..]),
            (true, b"\x08\x01\x12\x04ping"),
            (false, "陳大文".as_bytes()),
        ],
        "text as UTF-8, binary decoded, no control frames, nothing received"
    );
}

#[test]
fn malformed_hars_name_the_entry_and_field() {
    for case in BAD {
        let input = case.input.replace("GOOD", GOOD);
        let err = load(input.as_bytes()).expect_err(case.name);
        assert_eq!(
            (err.entry, err.field.as_str()),
            (case.entry, case.field),
            "case: {}: {err}",
            case.name
        );
        assert!(!err.message.is_empty(), "case: {}", case.name);
    }
}

#[test]
fn error_display_names_the_field() {
    let err = load(br#"{"log":{"entries":[{"request":{"method":"GET"}}]}}"#).unwrap_err();
    assert_eq!(err.to_string(), "entries[0].request.url: missing");
}

#[test]
fn deeply_nested_json_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(load(deep.as_bytes()).is_err());
}

#[test]
fn too_many_entries_is_refused_while_parsing() {
    let entries = vec!["1"; MAX_ENTRIES + 1].join(",");
    let err = load(format!(r#"{{"log":{{"entries":[{entries}]}}}}"#).as_bytes()).unwrap_err();
    assert!(err.message.contains("entries"), "{err}");
}

#[test]
fn duplicate_fields_are_an_error() {
    let err = load(br#"{"log":{"entries":[],"entries":[]}}"#).unwrap_err();
    assert!(err.message.contains("duplicate"), "{err}");
}

#[test]
fn truncated_or_corrupted_real_files_never_panic() {
    let bytes = std::fs::read(real!("postdata.har")).unwrap();
    for cut in (0..bytes.len()).step_by(7) {
        assert!(load(&bytes[..cut]).is_err(), "cut at {cut}");
        let mut flipped = bytes.clone();
        flipped[cut] ^= 0x20;
        let _ = load(&flipped);
    }
}

// ---- writer ----

fn sample_entries() -> Vec<HarEntry> {
    vec![
        HarEntry {
            index: 0,
            started: Some("2026-03-01T08:00:00.000Z".into()),
            request: HarRequest {
                method: "POST".into(),
                url: "https://oapi.dingtalk.com/robot/send?access_token=x".into(),
                http_version: Some("HTTP/1.1".into()),
                headers: vec![("content-type".into(), "application/json".into())],
                body: "{\"text\":\"澳門 A123456(7)\"}".as_bytes().to_vec(),
                mime_type: Some("application/json".into()),
            },
            response: Some(HarResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: b"{\"errcode\":0}".to_vec(),
                mime_type: Some("application/json".into()),
            }),
            sent_messages: Vec::new(),
        },
        HarEntry {
            index: 1,
            started: Some("2026-03-01T08:00:01.000Z".into()),
            request: HarRequest {
                method: "PUT".into(),
                url: "https://zjk-upload.trans.dingtalk.com/f".into(),
                http_version: Some("HTTP/2".into()),
                headers: vec![],
                body: vec![0x50, 0x4b, 0x03, 0x04, 0xff, 0xfe, 0x00],
                mime_type: Some("application/octet-stream".into()),
            },
            response: None,
            sent_messages: Vec::new(),
        },
        HarEntry {
            index: 2,
            started: Some("2026-03-01T08:00:02.000Z".into()),
            request: HarRequest {
                method: "GET".into(),
                url: "https://api.dingtalk.com/v1.0/x".into(),
                http_version: None,
                headers: vec![("host".into(), "api.dingtalk.com".into())],
                body: vec![],
                mime_type: None,
            },
            response: Some(HarResponse {
                status: 403,
                headers: vec![],
                body: vec![0x89, b'P', b'N', b'G', 0x80],
                mime_type: None,
            }),
            sent_messages: vec![
                SentMessage {
                    binary: false,
                    data: "{\"lwp\":\"/r/IDLSend/send\",\"text\":\"澳門\"}"
                        .as_bytes()
                        .to_vec(),
                },
                SentMessage {
                    binary: true,
                    data: vec![0x08, 0x01, 0xff, 0x00],
                },
            ],
        },
    ]
}

#[test]
fn write_then_load_round_trips() {
    let entries = sample_entries();
    let text = write(&entries, "sluice");
    let har = load(text.as_bytes()).unwrap();
    assert_eq!(har.version, "1.2");
    assert_eq!(
        har.creator,
        Some(format!("sluice {}", env!("CARGO_PKG_VERSION")))
    );
    // http_version None is written as HTTP/1.1 (HAR requires one).
    let mut want = entries;
    want[2].request.http_version = Some("HTTP/1.1".into());
    assert_eq!(har.entries, want);
    // Non-UTF-8 bodies went out as base64.
    assert!(text.contains("\"encoding\": \"base64\""));
}
