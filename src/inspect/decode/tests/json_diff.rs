//! The JSON decoder against its old self (`json_oracle`): generated documents,
//! valid and broken, chunked at random and at every split point, must give
//! the same sink events, formats and report from both, and from the new one
//! the same whatever the chunking.

use proptest::prelude::*;

use super::json_oracle;
use crate::inspect::decode::cx::Cx;
use crate::inspect::decode::json::JsonNode;
use crate::inspect::decode::Limits;
use crate::inspect::findings::Incomplete;
use crate::inspect::sink::{RecordingSink, SinkEvent};

type Outcome = (Vec<SinkEvent>, Vec<&'static str>, Option<Incomplete>);

/// Feeds `input` cut at `cuts` (sorted) the way `Node::feed` would.
fn run(old: bool, input: &[u8], cuts: &[usize], limits: &Limits) -> Outcome {
    let mut cx = Cx::new(RecordingSink::default(), limits);
    let mut new_node = JsonNode::new(0, true);
    let mut old_node = json_oracle::JsonNode::new(0, true);
    let mut at = 0;
    for &c in cuts.iter().chain(std::iter::once(&input.len())) {
        let c = c.clamp(at, input.len());
        let chunk = &input[at..c];
        at = c;
        if cx.stopped || chunk.is_empty() {
            continue;
        }
        if old {
            old_node.feed(chunk, &mut cx);
        } else {
            new_node.feed(chunk, &mut cx);
        }
    }
    if !cx.stopped {
        if old {
            old_node.finish(&mut cx);
        } else {
            new_node.finish(&mut cx);
        }
    }
    (cx.sink.events, cx.formats, cx.incomplete)
}

/// Old and new agree on these cuts, and new gives the same unchunked.
fn check(name: &str, input: &[u8], cuts: &[usize], limits: &Limits) {
    let new = run(false, input, cuts, limits);
    let old = run(true, input, cuts, limits);
    assert_eq!(
        new,
        old,
        "{name}: new and old decoders differ on {:?} cut at {cuts:?}",
        String::from_utf8_lossy(input)
    );
    let whole = run(false, input, &[], limits);
    assert_eq!(
        new,
        whole,
        "{name}: chunking changed the events of {:?} cut at {cuts:?}",
        String::from_utf8_lossy(input)
    );
}

/// Every single split point and byte by byte.
fn check_all_splits(name: &str, input: &[u8], limits: &Limits) {
    for i in 0..=input.len() {
        check(name, input, &[i], limits);
    }
    let bytewise: Vec<usize> = (1..input.len()).collect();
    check(name, input, &bytewise, limits);
}

/// xorshift64*: reproducible documents without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const WORDS: &[&str] = &[
    "hi",
    "A123456(7)",
    "客戶",
    "季度報告",
    "😀",
    " ",
    "data",
    "data:",
    ":",
    "{",
    "[",
    "]",
    "}",
    ",",
    "abc",
    "ZZZZ",
    "0",
    "-",
    "e",
    "true",
    "null",
    "\u{7f}",
    "\t",
];
const ESCAPES: &[&str] = &[
    r"\n",
    r"\t",
    r"\r",
    r"\b",
    r"\f",
    r#"\""#,
    r"\\",
    r"\/",
    r"\u8eab",
    r"\u00e9",
    r"\ud83d\ude00",
    r"\ud83d",
    r"\ude00",
    r"\ud83dx",
    r"\ud83d\u0041",
    r"\u12",
    r"\u12G4",
    r"\x",
    r"\u",
    r"\",
    r"\uDBFF\uDFFF",
    r"\u0000",
];
const B64: &str =
    "UGF0aWVudCByZWNvcmQ6IGRpYWdub3NpcyBkaWFiZXRlcywgSEtJRCBBMTIzNDU2KDcpLCBtb3JlIHRleHQ=";

/// A JSON string's contents (without the quotes), escaped as JSON would be
/// when `raw` is false.
fn string_body(rng: &mut Rng, depth: u32, out: &mut String) {
    match rng.below(12) {
        0 => {}
        1 => {
            // JSON inside a string, escaped once more.
            let mut inner = String::new();
            value(rng, depth + 1, &mut inner);
            out.push_str(&inner.replace('\\', r"\\").replace('"', r#"\""#));
        }
        2 => out.push_str(&B64[..rng.below(B64.len())]),
        3 => {
            out.push_str("data:text/plain;base64,");
            out.push_str(&B64[..rng.below(B64.len())]);
        }
        4 => {
            // Long: past the probe, past the unescape buffer.
            let n = [60, 64, 65, 200, 1100, 5000][rng.below(6)];
            for k in 0..n {
                out.push(if k % 97 == 0 && rng.below(2) == 0 {
                    '界'
                } else {
                    char::from(b'a' + (k % 26) as u8)
                });
                if k % 700 == 3 && rng.below(2) == 0 {
                    out.push_str(rng.pick(ESCAPES));
                }
            }
        }
        _ => {
            for _ in 0..1 + rng.below(6) {
                if rng.below(3) == 0 {
                    out.push_str(rng.pick(ESCAPES));
                } else {
                    out.push_str(rng.pick(WORDS));
                }
            }
        }
    }
}

fn ws(rng: &mut Rng, out: &mut String) {
    if rng.below(4) == 0 {
        out.push_str([" ", "\n", "\r\n", "\t ", "\x0c"][rng.below(5)]);
    }
}

fn key(rng: &mut Rng, out: &mut String) {
    out.push('"');
    match rng.below(10) {
        0 => {}
        1 => out.push_str(&"k".repeat(250 + rng.below(20))),
        2 => {
            out.push_str("ke");
            out.push_str(rng.pick(ESCAPES));
            out.push('y');
        }
        3 => out.push_str(&"键".repeat(80 + rng.below(20))),
        _ => out.push_str(rng.pick(&[
            "msgtype",
            "text",
            "content",
            "to",
            "ts",
            "a",
            "msgParam",
            "身份證",
        ])),
    }
    out.push('"');
}

/// Up to four `item`s between `open` and `close`, comma-separated, with random
/// whitespace around each (objects and arrays).
fn list(
    rng: &mut Rng,
    out: &mut String,
    (open, close): (char, char),
    mut item: impl FnMut(&mut Rng, &mut String),
) {
    out.push(open);
    ws(rng, out);
    for k in 0..rng.below(5) {
        if k > 0 {
            out.push(',');
            ws(rng, out);
        }
        item(rng, out);
        ws(rng, out);
    }
    out.push(close);
}

fn value(rng: &mut Rng, depth: u32, out: &mut String) {
    let pick = match depth {
        0 if rng.below(5) > 0 => rng.below(3),
        0..=5 => rng.below(10),
        _ => 3 + rng.below(7),
    };
    match pick {
        0 | 1 => list(rng, out, ('{', '}'), |rng, out| {
            key(rng, out);
            ws(rng, out);
            out.push(':');
            ws(rng, out);
            value(rng, depth + 1, out);
        }),
        2 => list(rng, out, ('[', ']'), |rng, out| value(rng, depth + 1, out)),
        3..=6 => {
            out.push('"');
            string_body(rng, depth, out);
            out.push('"');
        }
        7 => out.push_str(rng.pick(&[
            "0",
            "-1.5e3",
            "1764384000000",
            "85291234567",
            "12345678901234567890123",
            "1E+9",
            "-",
            "3.",
            "0x1f",
        ])),
        8 => out.push_str(rng.pick(&["true", "false", "null", "nul", "trueish"])),
        _ => {
            out.push('"');
            string_body(rng, depth, out);
            out.push('"');
        }
    }
}

/// A document: usually one value, sometimes several lines of them, sometimes
/// broken (a byte changed, inserted or the end cut off).
fn document(rng: &mut Rng) -> Vec<u8> {
    let mut s = String::new();
    ws(rng, &mut s);
    for _ in 0..1 + usize::from(rng.below(4) == 0) * 2 {
        value(rng, 0, &mut s);
        if rng.below(2) == 0 {
            s.push('\n');
        }
    }
    let mut b = s.into_bytes();
    match rng.below(8) {
        0 if !b.is_empty() => {
            let at = rng.below(b.len());
            b[at] = [b'x', b'"', b'\\', b'}', b']', b',', b':', 0xff, b'{'][rng.below(9)];
        }
        1 if !b.is_empty() => {
            let at = rng.below(b.len());
            b.truncate(at);
        }
        2 if !b.is_empty() => {
            let at = rng.below(b.len());
            b.insert(at, [b'x', b'"', b'\\', b'[', b' ', 0xe5][rng.below(6)]);
        }
        _ => {}
    }
    b
}

fn limits_for(rng: &mut Rng) -> Limits {
    match rng.below(6) {
        0 => Limits {
            max_json_nesting: 2,
            ..Limits::default()
        },
        1 => Limits {
            max_depth: 1,
            ..Limits::default()
        },
        _ => Limits::default(),
    }
}

#[test]
fn generated_documents_match_the_old_decoder() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for n in 0..3000 {
        let doc = document(&mut rng);
        let limits = limits_for(&mut rng);
        let name = format!("document {n}");
        check(&name, &doc, &[], &limits);
        if doc.len() <= 160 {
            check_all_splits(&name, &doc, &limits);
        } else {
            for _ in 0..6 {
                let mut cuts: Vec<usize> = (0..1 + rng.below(6))
                    .map(|_| rng.below(doc.len() + 1))
                    .collect();
                cuts.sort_unstable();
                check(&name, &doc, &cuts, &limits);
            }
        }
    }
}

#[test]
fn chat_shapes_match_the_old_decoder_at_every_split() {
    let docs: &[&str] = &[
        r#"{"msgtype":"text","text":{"content":"Please review 請大家 \u8eab\ud83d\ude00"},"sender":"user123","conversationId":"cid0123456789abcdef","ts":1764384000000}"#,
        r#"{"robotCode":"ding1","msgParam":"{\"content\":\"Hi team, \\u8eab 客戶 room 7\",\"to\":[\"a\",2]}"}"#,
        r#"{"to":[["85261234567",[85291234567]],{"x":[true,null,"y"]}],"":"","k\"ey":[],"e":{}}"#,
        "{\"a\" : [ 1 , -2.5e+3 ,\"b\" ] ,\r\n \"c\":{ } }\n[]\n\"top\"\n12",
        r#"{"bad": "x" "y"}"#,
        r#"{"bad": tru}"#,
        r#"{"k\u0041\ud83d":"v\ud83d"}"#,
        r#"[{"a":1}}"#,
        // One object per line, and arrays of objects: read without the
        // general loop between documents.
        "{\"a\":1}\n{\"b\":\"x\",\"c\":{\"d\":[]}}\n{}\n[{\"e\":2},{},{\"f\":[1,\"y\"]}]\n{\"g\":3}",
        // Every escape in a value, in JSON in a string, and in a key.
        r#"{"v":"a\nb\tc\rd\be\ff\"g\\h\/i\xj\u00e9\u8eab\ud83d\ude00\ud83d\u0041\ude00\u12G4\u","n":"{\"k\":\"\u8eab\\n\"}","k\t\u00e9":1}"#,
        // A key past MAX_KEY, cut as a slice; a long escaped value.
        &format!(
            r#"{{"{}":"{}\n{}","{}\u0041":[true]}}"#,
            "k".repeat(300),
            "界".repeat(30),
            "x".repeat(70),
            "q".repeat(260)
        ),
        // Values that are not plain text: data URLs, base64, nested arrays.
        &format!(
            r#"{{"img":"data:text/plain;base64,{B64}","b":"{B64}","d":"data: x","j":"[1,{{\"a\":\"b\"}}]","e":"","D":"Data:"}}"#
        ),
    ];
    for (n, doc) in docs.iter().enumerate() {
        for limits in [
            Limits::default(),
            Limits {
                max_json_nesting: 2,
                ..Limits::default()
            },
        ] {
            check_all_splits(&format!("chat shape {n}"), doc.as_bytes(), &limits);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_document_any_chunking_matches_the_old_decoder(
        seed in any::<u64>(),
        cuts in prop::collection::vec(0usize..3000, 0..10),
    ) {
        let mut rng = Rng(seed | 1);
        let doc = document(&mut rng);
        let limits = limits_for(&mut rng);
        let mut cuts = cuts;
        cuts.sort_unstable();
        check("proptest document", &doc, &cuts, &limits);
    }

    #[test]
    fn any_bytes_match_the_old_decoder(
        doc in prop::collection::vec(prop::sample::select(b"{}[]\":,\\ u0a9e-.tfn\n\xe5\xff".to_vec()), 0..300),
        cuts in prop::collection::vec(0usize..300, 0..6),
    ) {
        let mut cuts = cuts;
        cuts.sort_unstable();
        check("proptest bytes", &doc, &cuts, &Limits::default());
    }
}
