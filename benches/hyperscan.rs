//! Hyperscan and sluice side by side, measured on this machine: the same
//! corpora, and the shipped detector rules as near as Hyperscan can express them.
//!
//! Hyperscan does strictly less work here than sluice. It reports where a term
//! or an identifier shape ends, and nothing else: it checks no check digit
//! (HKID, PRC ID, Luhn, IBAN mod 97, card issuers, MRZ), reads no context
//! window, scores no evidence, counts no distinct values, folds no full-width
//! digits, and in `hyperscan*` decodes no JSON. The ASCII terms get `\b`
//! either side (sluice matches them as whole words, a plural "s" allowed) and
//! are caseless (accented Latin-1 letters fold as sluice folds them); the CJK
//! terms are plain bytes. The identifier shapes are one regex each, written
//! from `ident.rs` and `validate.rs`, without the checks regexes cannot make.
//!
//! Group `side_by_side`, per corpus: `hyperscan` (block mode over the whole
//! buffer), `hyperscan_stream` (streaming mode in 64 KiB chunks, as the proxy
//! sees bodies), `sluice_detectors` (`TextScan` fed the raw text, as
//! `inspect/*` does) and `sluice_engine` (the full `Engine` with the content
//! type a client would send, as `engine/*` does).
//!
//! Needs the system libhs, hence the feature (CI has none):
//! `apt-get install libhyperscan-dev`, then
//! `cargo bench --features hyperscan --bench hyperscan -- --warm-up-time 1 --measurement-time 3`

use std::ffi::{c_char, c_int, c_uint, c_ulonglong, c_void, CStr, CString};
use std::ptr;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sluice::inspect::detect::CustomPattern;
use sluice::inspect::{ContentHint, DetectorSettings, Detectors, Engine, TextScan};

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/drive.rs"]
mod drive;
use corpus::{chinese, mixed_json, Rng};
use drive::{engine_scan, scan_text, CHUNK};

const SIZE: usize = 4 << 20;

/// The few parts of libhs (`/usr/include/hs/`) this bench calls.
mod ffi {
    use std::ffi::{c_char, c_int, c_uint, c_ulonglong, c_void};

    pub const HS_SUCCESS: c_int = 0;
    pub const HS_FLAG_CASELESS: c_uint = 1;
    pub const HS_MODE_BLOCK: c_uint = 1;
    pub const HS_MODE_STREAM: c_uint = 2;

    /// Types libhs only hands out pointers to.
    macro_rules! opaque {
        ($($name:ident),*) => {$(
            #[repr(C)]
            pub struct $name {
                _opaque: [u8; 0],
            }
        )*};
    }
    opaque!(Database, Scratch, Stream, PlatformInfo);

    /// `hs_compile_error_t`.
    #[repr(C)]
    pub struct CompileError {
        pub message: *mut c_char,
        /// Index of the offending expression, or -1 when no one is to blame.
        pub expression: c_int,
    }

    pub type MatchHandler = extern "C" fn(
        id: c_uint,
        from: c_ulonglong,
        to: c_ulonglong,
        flags: c_uint,
        context: *mut c_void,
    ) -> c_int;

    #[link(name = "hs")]
    unsafe extern "C" {
        pub fn hs_valid_platform() -> c_int;
        pub fn hs_version() -> *const c_char;
        pub fn hs_compile_multi(
            expressions: *const *const c_char,
            flags: *const c_uint,
            ids: *const c_uint,
            elements: c_uint,
            mode: c_uint,
            platform: *const PlatformInfo,
            db: *mut *mut Database,
            error: *mut *mut CompileError,
        ) -> c_int;
        pub fn hs_free_compile_error(error: *mut CompileError) -> c_int;
        pub fn hs_free_database(db: *mut Database) -> c_int;
        pub fn hs_alloc_scratch(db: *const Database, scratch: *mut *mut Scratch) -> c_int;
        pub fn hs_free_scratch(scratch: *mut Scratch) -> c_int;
        pub fn hs_scan(
            db: *const Database,
            data: *const c_char,
            length: c_uint,
            flags: c_uint,
            scratch: *mut Scratch,
            on_event: Option<MatchHandler>,
            context: *mut c_void,
        ) -> c_int;
        pub fn hs_open_stream(
            db: *const Database,
            flags: c_uint,
            stream: *mut *mut Stream,
        ) -> c_int;
        pub fn hs_scan_stream(
            stream: *mut Stream,
            data: *const c_char,
            length: c_uint,
            flags: c_uint,
            scratch: *mut Scratch,
            on_event: Option<MatchHandler>,
            context: *mut c_void,
        ) -> c_int;
        pub fn hs_close_stream(
            stream: *mut Stream,
            scratch: *mut Scratch,
            on_event: Option<MatchHandler>,
            context: *mut c_void,
        ) -> c_int;
    }
}

fn check(rc: c_int, call: &str) {
    assert_eq!(
        rc,
        ffi::HS_SUCCESS,
        "{call} failed with Hyperscan error {rc}"
    );
}

/// One Hyperscan pattern and what it stands for.
struct Rule {
    name: String,
    expr: CString,
    flags: c_uint,
    is_term: bool,
}

/// A compiled database, freed on drop.
struct Database(*mut ffi::Database);

impl Database {
    fn compile(rules: &[Rule], mode: c_uint) -> Database {
        let exprs: Vec<*const c_char> = rules.iter().map(|r| r.expr.as_ptr()).collect();
        let flags: Vec<c_uint> = rules.iter().map(|r| r.flags).collect();
        let n = c_uint::try_from(rules.len()).expect("rule count fits in a c_uint");
        let ids: Vec<c_uint> = (0..n).collect();
        let mut db = ptr::null_mut();
        let mut err = ptr::null_mut();
        // SAFETY: the three arrays hold `n` elements each and outlive the call;
        // every expression is NUL-terminated; `db` and `err` are out-pointers.
        let rc = unsafe {
            ffi::hs_compile_multi(
                exprs.as_ptr(),
                flags.as_ptr(),
                ids.as_ptr(),
                n,
                mode,
                ptr::null(),
                &mut db,
                &mut err,
            )
        };
        if rc == ffi::HS_SUCCESS {
            return Database(db);
        }
        let (message, at) = if err.is_null() {
            (String::from("(no message)"), -1)
        } else {
            // SAFETY: on failure `err` points at a compile error whose message
            // is a NUL-terminated string, both valid until freed below.
            unsafe {
                let e = &*err;
                (
                    CStr::from_ptr(e.message).to_string_lossy().into_owned(),
                    e.expression,
                )
            }
        };
        // SAFETY: `err` came from `hs_compile_multi` (or is null, which libhs accepts) and is freed once.
        check(
            unsafe { ffi::hs_free_compile_error(err) },
            "hs_free_compile_error",
        );
        match usize::try_from(at).ok().and_then(|i| rules.get(i)) {
            Some(r) => panic!(
                "Hyperscan refused rule {:?} /{}/ (flags {}): {message}",
                r.name,
                r.expr.to_string_lossy(),
                r.flags
            ),
            None => panic!("Hyperscan could not compile the rules (error {rc}): {message}"),
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `hs_compile_multi` and is freed once, here.
        let rc = unsafe { ffi::hs_free_database(self.0) };
        if rc != ffi::HS_SUCCESS {
            eprintln!("hs_free_database failed with Hyperscan error {rc}");
        }
    }
}

/// Scratch space for one database, allocated once outside the timed loops.
struct Scratch(*mut ffi::Scratch);

impl Scratch {
    fn new(db: &Database) -> Scratch {
        let mut s = ptr::null_mut();
        // SAFETY: `db` is a live database; `s` is a null out-pointer, so libhs allocates.
        check(
            unsafe { ffi::hs_alloc_scratch(db.0, &mut s) },
            "hs_alloc_scratch",
        );
        Scratch(s)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `hs_alloc_scratch` and is freed once, here.
        let rc = unsafe { ffi::hs_free_scratch(self.0) };
        if rc != ffi::HS_SUCCESS {
            eprintln!("hs_free_scratch failed with Hyperscan error {rc}");
        }
    }
}

/// Matches seen: in all, and per rule when `by_rule` is sized (the one run
/// that is printed; the timed runs leave it empty).
#[derive(Default)]
struct Tally {
    total: u64,
    by_rule: Vec<u64>,
}

extern "C" fn on_match(
    id: c_uint,
    _from: c_ulonglong,
    _to: c_ulonglong,
    _flags: c_uint,
    context: *mut c_void,
) -> c_int {
    // SAFETY: every scan below passes a `&mut Tally` that outlives the scan
    // and is not otherwise touched while it runs.
    let t = unsafe { &mut *context.cast::<Tally>() };
    t.total += 1;
    if let Some(n) = t.by_rule.get_mut(id as usize) {
        *n += 1;
    }
    0
}

fn len_of(data: &[u8]) -> c_uint {
    c_uint::try_from(data.len()).expect("a buffer under 4 GiB")
}

/// Block mode: the whole body in one call.
fn hs_block(db: &Database, scratch: &mut Scratch, data: &[u8], t: &mut Tally) {
    let ctx: *mut Tally = t;
    // SAFETY: `data` is `len` readable bytes; `db` is a block-mode database and
    // `scratch` was allocated for it and is used by this thread alone; `ctx`
    // is the `&mut Tally` that `on_match` expects.
    let rc = unsafe {
        ffi::hs_scan(
            db.0,
            data.as_ptr().cast(),
            len_of(data),
            0,
            scratch.0,
            Some(on_match),
            ctx.cast(),
        )
    };
    check(rc, "hs_scan");
}

/// Streaming mode: the body in `CHUNK`s, matches across chunk edges included.
fn hs_stream(db: &Database, scratch: &mut Scratch, data: &[u8], t: &mut Tally) {
    let ctx: *mut Tally = t;
    let mut stream = ptr::null_mut();
    // SAFETY: `db` is a streaming database; `stream` is an out-pointer.
    check(
        unsafe { ffi::hs_open_stream(db.0, 0, &mut stream) },
        "hs_open_stream",
    );
    for c in data.chunks(CHUNK) {
        // SAFETY: `stream` is open; `c` is `len` readable bytes; `scratch` and
        // `ctx` as in `hs_block`.
        let rc = unsafe {
            ffi::hs_scan_stream(
                stream,
                c.as_ptr().cast(),
                len_of(c),
                0,
                scratch.0,
                Some(on_match),
                ctx.cast(),
            )
        };
        check(rc, "hs_scan_stream");
    }
    // SAFETY: closes and frees the stream opened above (once), reporting the
    // matches that only the end of the data completes.
    let rc = unsafe { ffi::hs_close_stream(stream, scratch.0, Some(on_match), ctx.cast()) };
    check(rc, "hs_close_stream");
}

/// Every term of the shipped dictionaries (context keywords, strong and weak
/// evidence), trimmed, lower-cased and de-duplicated as sluice's `Dictionary` does.
fn terms(s: &DetectorSettings) -> Vec<String> {
    let lists = s
        .context
        .values()
        .chain(s.evidence.values().flat_map(|e| [&e.strong, &e.weak]));
    let mut out: Vec<String> = lists
        .flat_map(|by_lang| by_lang.values().flatten())
        .map(|t| t.trim().to_lowercase())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn push_byte_escaped(re: &mut String, c: char) {
    let mut buf = [0u8; 4];
    for b in c.encode_utf8(&mut buf).bytes() {
        re.push_str(&format!("\\x{b:02X}"));
    }
}

/// A term as a Hyperscan pattern. ASCII terms (they start with a letter) are
/// whole words, a plural "s" allowed, and caseless; Hyperscan folds ASCII
/// only, so an accented letter becomes a pair, as sluice folds Latin-1
/// (`É` to `é`). CJK terms match anywhere, byte for byte.
fn term_rule(term: &str) -> Rule {
    let ascii = term.as_bytes().first().is_some_and(u8::is_ascii_alphabetic);
    let mut re = String::from(if ascii { r"\b" } else { "" });
    for c in term.chars() {
        let upper = matches!(c, 'à'..='þ' if c != '÷')
            .then(|| char::from_u32(c as u32 - 0x20))
            .flatten();
        if c.is_ascii_alphanumeric() {
            re.push(c);
        } else if let Some(u) = upper {
            re.push_str("(?:");
            push_byte_escaped(&mut re, c);
            re.push('|');
            push_byte_escaped(&mut re, u);
            re.push(')');
        } else {
            push_byte_escaped(&mut re, c);
        }
    }
    if ascii
        && term
            .as_bytes()
            .last()
            .is_some_and(u8::is_ascii_alphanumeric)
    {
        re.push_str(r"s?\b");
    }
    Rule {
        name: term.to_owned(),
        expr: CString::new(re).expect("terms hold no NUL"),
        flags: if ascii { ffi::HS_FLAG_CASELESS } else { 0 },
        is_term: true,
    }
}

/// The identifier and supporting-evidence shapes sluice reads (`ident.rs`),
/// one regex each. Sluice upper-cases candidate tokens, hence caseless. The
/// shapes sluice reads only where a label names them (eight plain digits as
/// a Macau id, another country's passport) have none: without the label, a
/// regex of them matches every eight-digit number.
const SHAPES: &[(&str, &str)] = &[
    // A letter or two, six digits, the check character in parentheses or not.
    ("hk_id", r"\b[A-Z]{1,2}[0-9]{6}(?: ?\([0-9A]\)| ?[0-9A]\b)"),
    // 17 digits and a check digit or X, one run or as 6-8-4 by spaces or dashes.
    ("prc_id", r"\b[0-9]{6}[ -]?[0-9]{8}[ -]?[0-9]{3}[0-9X]\b"),
    // 1234567(8), 1234567 (8) and 1/234567/8.
    (
        "macau_id",
        r"\b[1578](?:[0-9]{6} ?\([0-9]\)|/[0-9]{6}/[0-9]\b)",
    ),
    ("passport_prc", r"\b(?:G[0-9]{8}|E[A-HJ-NP-Z0-9][0-9]{7})\b"),
    // A TD3 machine-readable zone, line 2 (44 characters).
    (
        "passport_mrz",
        r"\b[A-Z0-9<]{9}[0-9][A-Z<]{3}[0-9]{6}[0-9][MF<][0-9]{6}[0-9][A-Z0-9<]{14}[0-9<][0-9]\b",
    ),
    // Home Return Permits, and the mainland's two-way permits (C).
    (
        "travel_permit",
        r"\b(?:[HM][0-9]{8}(?:[0-9]{2})?|C[0-9]{8})\b",
    ),
    // Issuers start with 2 to 6; 13 to 19 digits in one run.
    ("card_plain", r"\b[2-6][0-9]{12,18}\b"),
    // Groups of four (the last of two to four) or 4-6-5 / 4-6-4, by spaces or by dashes.
    (
        "card_grouped",
        r"\b[2-6][0-9]{3}(?:(?: [0-9]{4}){2,3} [0-9]{2,4}|(?:-[0-9]{4}){2,3}-[0-9]{2,4}| [0-9]{6} [0-9]{4,5}|-[0-9]{6}-[0-9]{4,5})\b",
    ),
    // Country, check digits, BBAN: one run or groups of four.
    (
        "iban",
        r"\b[A-Z]{2}[0-9]{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7} [A-Z0-9]{1,4})\b",
    ),
    // Hong Kong bank accounts, 3-3-n.
    ("bank_account_hk", r"\b[0-9]{3}-[0-9]{3}-[0-9]{6,9}\b"),
    (
        "phone_853",
        r"(?:\+853|\(\+?853\)|\b00853)[ -]?(?:6[0-9]{3}|28[0-9]{2})[ -]?[0-9]{4}\b",
    ),
    (
        "phone_852",
        r"(?:\+852|\(\+?852\)|\b00852)[ -]?[235679][0-9]{3}[ -]?[0-9]{4}\b",
    ),
    (
        "phone_86_mobile",
        r"(?:\+86|\(\+?86\)|\b0086)[ -]?1[3-9][0-9](?:[0-9]{8}|[ -][0-9]{8}|[ -][0-9]{4}[ -][0-9]{4})\b",
    ),
    // Macau mobiles and fixed lines with no country code.
    (
        "phone_mo_bare",
        r"\b(?:6[0-9]{3}|28[0-9]{2})[ -]?[0-9]{4}\b",
    ),
    (
        "email",
        r"[A-Z0-9._%+-]{1,64}@[A-Z0-9-]+(?:\.[A-Z0-9-]+)*\.[A-Z]{2,}\b",
    ),
    // A letter but U, two digits, an optional .d{1,4}.
    ("icd10", r"\b[A-TV-Z][0-9]{2}(?:\.[0-9]{1,4})?\b"),
    // Supporting evidence for financial records.
    ("amount", r"\b[0-9]{1,9}\.[0-9]{2}\b"),
];

fn shape_rule(name: &str, re: &str) -> Rule {
    Rule {
        name: name.to_owned(),
        expr: CString::new(re).expect("shapes hold no NUL"),
        flags: ffi::HS_FLAG_CASELESS,
        is_term: false,
    }
}

/// An operator shape (`9` digit, `A` letter, `X` either) as a regex. None
/// ship; this keeps the two sides equal if the shipped file gains some.
fn custom_rule(p: &CustomPattern) -> Rule {
    let mut re = String::from(r"\b");
    for c in p.shape.chars() {
        match c {
            '9' => re.push_str("[0-9]"),
            'A' => re.push_str("[A-Z]"),
            'X' => re.push_str("[A-Z0-9]"),
            other => push_byte_escaped(&mut re, other),
        }
    }
    re.push_str(r"\b");
    shape_rule(&p.name, &re)
}

fn rules() -> Vec<Rule> {
    let s = DetectorSettings::shipped().expect("the shipped detector settings parse");
    let mut out: Vec<Rule> = terms(&s).iter().map(|t| term_rule(t)).collect();
    out.extend(SHAPES.iter().map(|(name, re)| shape_rule(name, re)));
    out.extend(s.custom_patterns.iter().map(custom_rule));
    out
}

/// What Hyperscan matched, for the reader: the total, then per shape and
/// the terms together.
fn describe(rules: &[Rule], t: &Tally) -> String {
    let terms: u64 = rules
        .iter()
        .zip(&t.by_rule)
        .filter(|(r, _)| r.is_term)
        .map(|(_, n)| n)
        .sum();
    let shapes: Vec<String> = rules
        .iter()
        .zip(&t.by_rule)
        .filter(|(r, n)| !r.is_term && **n > 0)
        .map(|(r, n)| format!("{} {n}", r.name))
        .collect();
    format!("{} matches (terms {terms}; {})", t.total, shapes.join(", "))
}

fn bench(c: &mut Criterion) {
    // SAFETY: no arguments; only reads the CPU's features.
    check(unsafe { ffi::hs_valid_platform() }, "hs_valid_platform");
    // SAFETY: returns a pointer to a static NUL-terminated string.
    let version = unsafe { CStr::from_ptr(ffi::hs_version()) }.to_string_lossy();
    let rules = rules();
    let n_terms = rules.iter().filter(|r| r.is_term).count();
    eprintln!(
        "Hyperscan {version}: {} rules ({n_terms} terms + {} shapes)",
        rules.len(),
        rules.len() - n_terms
    );
    let block = Database::compile(&rules, ffi::HS_MODE_BLOCK);
    let streaming = Database::compile(&rules, ffi::HS_MODE_STREAM);
    let mut block_scratch = Scratch::new(&block);
    let mut stream_scratch = Scratch::new(&streaming);

    let mut scan = TextScan::new(Arc::new(Detectors::shipped()));
    let engine = Engine::shipped();
    // Generated as benches/inspect.rs generates these two (same generators,
    // size and seed), but inspect draws its CSV from the seed first: the bytes
    // differ, the corpora are statistically identical.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let corpora: Vec<(&str, &str, Vec<u8>)> = vec![
        ("mixed_json", "application/json", mixed_json(&mut rng, SIZE)),
        (
            "chinese",
            "text/plain; charset=utf-8",
            chinese(&mut rng, SIZE),
        ),
    ];

    for (name, ct, data) in &corpora {
        let hint = ContentHint::content_type(ct);
        let mut t = Tally {
            total: 0,
            by_rule: vec![0; rules.len()],
        };
        hs_block(&block, &mut block_scratch, data, &mut t);
        eprintln!("hyperscan/{name}: {}", describe(&rules, &t));
        let mut ts = Tally::default();
        hs_stream(&streaming, &mut stream_scratch, data, &mut ts);
        eprintln!("hyperscan_stream/{name}: {} matches", ts.total);
        let f = scan_text(&mut scan, data);
        eprintln!("sluice_detectors/{name}: classes {:?}", f.classes);
        let f = engine_scan(&engine, &hint, data);
        eprintln!(
            "sluice_engine/{name}: formats {:?}, classes {:?}",
            f.formats, f.classes
        );

        let mut g = c.benchmark_group("side_by_side");
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.sample_size(10);
        g.bench_function(BenchmarkId::new("hyperscan", name), |b| {
            b.iter(|| {
                let mut t = Tally::default();
                hs_block(&block, &mut block_scratch, data, &mut t);
                t.total
            })
        });
        g.bench_function(BenchmarkId::new("hyperscan_stream", name), |b| {
            b.iter(|| {
                let mut t = Tally::default();
                hs_stream(&streaming, &mut stream_scratch, data, &mut t);
                t.total
            })
        });
        g.bench_function(BenchmarkId::new("sluice_detectors", name), |b| {
            b.iter(|| scan_text(&mut scan, data))
        });
        g.bench_function(BenchmarkId::new("sluice_engine", name), |b| {
            b.iter(|| engine_scan(&engine, &hint, data))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
