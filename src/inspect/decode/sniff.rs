//! Deciding what a body is: magic bytes first (they cannot be relabelled), then
//! the declared Content-Type, then the body's shape, then the file extension.

use memchr::memchr;

/// What the transport says about a body. All optional: `sluice scan` has none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContentHint {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub file_name: Option<String>,
}

impl ContentHint {
    pub fn content_type(ct: &str) -> Self {
        ContentHint {
            content_type: Some(ct.to_owned()),
            ..ContentHint::default()
        }
    }
}

/// What a body (or a part of one) is, and so which decoder reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Utf16Le,
    Utf16Be,
    Json,
    Form,
    Multipart {
        boundary: Vec<u8>,
    },
    Csv,
    /// HTML or XML (by its format name): text with character references.
    Markup(&'static str),
    Gzip,
    Zlib,
    Brotli,
    Zstd,
    Xz,
    Lzip,
    Bzip2,
    Zip,
    /// A 7z archive: read whole, as a zip is.
    SevenZip,
    /// A RAR archive (RAR 1.5 to 7): read whole, as a zip is.
    Rar,
    Pdf,
    /// A compound file (OLE2): legacy Office documents, Outlook messages.
    Cfb,
    Tar,
    /// An e-mail message (`message/rfc822`, `.eml`).
    Message,
    Rtf,
    /// Outlook's `winmail.dat`: a message's body and attachments.
    Tnef,
    Media(&'static str),
    /// A format recognised but not read here (CAB, LZ4), by its
    /// format name: reported, never passed as if it held nothing.
    Unread(&'static str),
    /// A file encrypted as a whole (OpenPGP, S/MIME, age, `openssl enc`), by
    /// its format name: what it holds cannot be known.
    Encrypted(&'static str),
    /// A binary format read only for its strings (an EMF picture, whose
    /// text records are UTF-16), never judged for randomness: its bitmaps
    /// are compressed.
    Strings(&'static str),
    /// A body that is base64 and nothing else (a document saved or posted
    /// as base64; the rest of a mail attachment in a chunked upload), its
    /// first line cut short when the body starts inside one.
    Base64 {
        mid_line: bool,
    },
    /// A piece from the middle of a file whose start it lacks (a chunk of
    /// a larger upload), by the format it is a piece of: it cannot be read
    /// on its own.
    Fragment(&'static str),
}

/// How many leading bytes `sniff` wants; fewer is fine at the end of a body.
pub const SNIFF_LEN: usize = 512;

/// Media magic numbers that open a file, looked up through the first byte.
const MEDIA_TABLE: &[(&[u8], &str)] = &[
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\x00\x00\x01\x00", "image/x-icon"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
    (b"ID3", "audio/mpeg"),
    (b"#!AMR", "audio/amr"),
    (b"\x1aE\xdf\xa3", "video/webm"),
    (b"FLV\x01", "video/x-flv"),
    (b"\x00\x00\x01\xba", "video/mpeg"),
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "video/x-ms-asf"),
    (b"#!SILK_V3", "audio/silk"),
    (b"\x02#!SILK_V3", "audio/silk"),
    (b"caff", "audio/x-caf"),
    (b"8BPS", "image/vnd.adobe.photoshop"),
    (b".snd", "audio/basic"),
    // JPEG XR: what Office keeps for pictures with artistic effects.
    (b"II\xbc", "image/jxr"),
    // Web fonts are compressed: not text, and nothing a person wrote.
    (b"wOFF", "font/woff"),
    (b"wOF2", "font/woff2"),
];

/// The bytes a media file can open with (`MEDIA_TABLE`, RIFF, MPEG and AAC
/// frames, AIFF, BMP): most bodies (JSON, text) open with none of them, and
/// are past the table with one look.
static MEDIA_FIRST: [bool; 256] = {
    let mut t = [false; 256];
    let mut k = 0;
    while k < MEDIA_TABLE.len() {
        t[MEDIA_TABLE[k].0[0] as usize] = true;
        k += 1;
    }
    t[b'R' as usize] = true;
    t[0xff] = true;
    t[b'F' as usize] = true;
    t[b'B' as usize] = true;
    t
};

/// Media magic numbers: skipped without looking (counted and reported).
pub fn media_magic(head: &[u8]) -> Option<&'static str> {
    if head.first().is_some_and(|&b| MEDIA_FIRST[usize::from(b)]) {
        if let Some(found) = by_opening(head) {
            return Some(found);
        }
    }
    if head.get(4..8) == Some(b"ftyp") {
        return Some(match head.get(8..12) {
            Some(b"heic") | Some(b"heix") | Some(b"mif1") | Some(b"msf1") => "image/heic",
            Some(b"avif") => "image/avif",
            Some(b"qt  ") => "video/quicktime",
            Some(b"M4A ") => "audio/mp4",
            _ => "video/mp4",
        });
    }
    // Embedded OpenType (what PowerPoint keeps as `.fntdata`, often
    // compressed): its version, then its magic number 0x504C at 34.
    if head.get(34..36) == Some(b"LP")
        && matches!(
            head.get(8..12),
            Some(b"\x00\x00\x01\x00" | b"\x01\x00\x02\x00" | b"\x02\x00\x02\x00")
        )
    {
        return Some("font/eot");
    }
    None
}

/// The media types told by their first bytes (see `MEDIA_FIRST`).
fn by_opening(head: &[u8]) -> Option<&'static str> {
    for (magic, mime) in MEDIA_TABLE {
        if head.starts_with(magic) {
            return Some(mime);
        }
    }
    if head.len() >= 12 && head.starts_with(b"RIFF") {
        return match head.get(8..12) {
            Some(b"WEBP") => Some("image/webp"),
            Some(b"WAVE") => Some("audio/wav"),
            Some(b"AVI ") => Some("video/x-msvideo"),
            _ => None,
        };
    }
    // MPEG audio or AAC (ADTS) frames without an ID3 tag. A frame header is
    // two bytes of sync a random chunk of a larger upload opens with one
    // time in a few thousand, so the next frame is looked for where this
    // one says it ends, when the head reaches that far.
    if let Some((mime, len)) = mpeg_frame(head).or_else(|| adts_frame(head)) {
        let next = head.get(len..);
        let follows = match next {
            Some(rest) if rest.len() >= 4 => mpeg_frame(rest)
                .or_else(|| adts_frame(rest))
                .is_some_and(|(m, _)| m == mime && rest.get(1) == head.get(1)),
            _ => true,
        };
        if follows {
            return Some(mime);
        }
    }
    if head.starts_with(b"FORM") && matches!(head.get(8..12), Some(b"AIFF" | b"AIFC")) {
        return Some("audio/aiff");
    }
    if head.starts_with(b"BM") && head.len() >= 14 && head.get(6..10) == Some(&[0, 0, 0, 0]) {
        return Some("image/bmp");
    }
    None
}

/// An MPEG audio frame header (layers I–III, MPEG 1, 2 and 2.5) at the
/// start of `head`, with every field valid: its type and its length.
fn mpeg_frame(head: &[u8]) -> Option<(&'static str, usize)> {
    // Kilobits per second by bitrate index, for MPEG 1 layers I, II, III and
    // for MPEG 2 and 2.5 layer I, then layers II and III.
    const RATES: [[u16; 15]; 5] = [
        [
            0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
        ],
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
        ],
        [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ],
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
        ],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    ];
    let [0xff, b1, b2, ..] = *head else {
        return None;
    };
    if b1 & 0xe0 != 0xe0 {
        return None;
    }
    let version = (b1 >> 3) & 3; // 0: MPEG 2.5, 2: MPEG 2, 3: MPEG 1
    let layer = (b1 >> 1) & 3; // 3: I, 2: II, 1: III
    let (rate_index, hz_index) = (usize::from(b2 >> 4), usize::from((b2 >> 2) & 3));
    if version == 1 || layer == 0 || rate_index == 0 || rate_index == 15 || hz_index == 3 {
        return None;
    }
    let table = match (version, layer) {
        (3, l) => 3 - usize::from(l),
        (_, 3) => 3,
        _ => 4,
    };
    let kbps = u32::from(*RATES.get(table)?.get(rate_index)?);
    let base = *[44_100u32, 48_000, 32_000].get(hz_index)?;
    let hz = match version {
        3 => base,
        2 => base / 2,
        _ => base / 4,
    };
    let pad = u32::from((b2 >> 1) & 1);
    let len = match layer {
        3 => (12 * kbps * 1000 / hz + pad) * 4,
        1 if version != 3 => 72 * kbps * 1000 / hz + pad,
        _ => 144 * kbps * 1000 / hz + pad,
    };
    Some(("audio/mpeg", usize::try_from(len).ok()?))
}

/// An AAC frame header (ADTS: sync, layer 0, a sampling rate index in
/// range, a length past its own header) at the start of `head`.
fn adts_frame(head: &[u8]) -> Option<(&'static str, usize)> {
    let [0xff, b1, b2, b3, b4, b5, ..] = *head else {
        return None;
    };
    let len = (usize::from(b3 & 3) << 11) | (usize::from(b4) << 3) | usize::from(b5 >> 5);
    (b1 & 0xf6 == 0xf0 && (b2 >> 2) & 0x0f < 13 && len > 7).then_some(("audio/aac", len))
}

/// Decides what `head` (the first `SNIFF_LEN` bytes, or all of a shorter body) is.
/// Content-Encoding is not considered here: the scanner peels it off first.
pub fn sniff(head: &[u8], hint: &ContentHint) -> Kind {
    if let Some(kind) = by_magic(head) {
        return kind;
    }
    if let Some(kind) = hint.content_type.as_deref().and_then(by_content_type) {
        return kind;
    }
    if let Some(kind) = by_shape(head) {
        return kind;
    }
    if let Some(kind) = hint.file_name.as_deref().and_then(by_extension) {
        return kind;
    }
    Kind::Text
}

/// Compressed streams and archives besides zip and gzip that offices and
/// servers write: 7-Zip's own format, RAR, xz and lzip (`.tar.xz`, log
/// rotation), bzip2.
fn stream_magic(head: &[u8]) -> Option<Kind> {
    if head.starts_with(b"7z\xbc\xaf\x27\x1c") {
        return Some(Kind::SevenZip);
    }
    // RAR 1.5 to 4 (`\x00`) and RAR 5 to 7 (`\x01\x00`).
    if head.starts_with(b"Rar!\x1a\x07\x00") || head.starts_with(b"Rar!\x1a\x07\x01\x00") {
        return Some(Kind::Rar);
    }
    if head.starts_with(b"\xfd7zXZ\x00") {
        return Some(Kind::Xz);
    }
    // lzip: the magic, version 1, a dictionary size byte.
    if let [b'L', b'Z', b'I', b'P', 1, _, ..] = head {
        return Some(Kind::Lzip);
    }
    // bzip2: `BZh`, the block size, then the first block's magic or, for an
    // empty stream, the end-of-stream magic (text can start with "BZh").
    match head {
        [b'B', b'Z', b'h', b'1'..=b'9', rest @ ..]
            if rest.starts_with(b"1AY&SY") || rest.starts_with(b"\x17\x72\x45\x38\x50\x90") =>
        {
            Some(Kind::Bzip2)
        }
        _ => None,
    }
}

/// Archives and compressors whose content is not read here. Scanned as
/// bytes they would look like nothing at all, so they are named instead.
fn unread_magic(head: &[u8]) -> Option<&'static str> {
    const TABLE: &[(&[u8], &str)] = &[
        (b"MSCF\x00\x00\x00\x00", "cab"),
        (b"\x04\x22\x4d\x18", "lz4"),
    ];
    TABLE
        .iter()
        .find(|(m, _)| head.starts_with(m))
        .map(|(_, name)| *name)
}

/// Files encrypted whole, by their headers. Their bytes are random to a
/// scan, which would otherwise report them clean.
fn sealed(head: &[u8]) -> Option<&'static str> {
    const TABLE: &[(&[u8], &str)] = &[
        (b"Salted__", "openssl-enc"),
        (b"age-encryption.org/v1\n", "age"),
        (b"-----BEGIN AGE ENCRYPTED FILE-----", "age"),
        (b"-----BEGIN PGP MESSAGE-----", "pgp"),
    ];
    let trimmed = trim_start(head);
    if let Some((_, name)) = TABLE.iter().find(|(m, _)| trimmed.starts_with(m)) {
        return Some(name);
    }
    if let [b'A', b'E', b'S', 1..=3, 0, ..] = head {
        return Some("aescrypt");
    }
    if openpgp_encrypted(head) {
        return Some("pgp");
    }
    // CMS (S/MIME, `.p7m`): a DER sequence whose content type is
    // enveloped-data, 1.2.840.113549.1.7.3.
    const ENVELOPED: &[u8] = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x03";
    if head.first() == Some(&0x30)
        && memchr::memmem::find(head.get(..16).unwrap_or(head), ENVELOPED).is_some()
    {
        return Some("smime");
    }
    None
}

/// A binary OpenPGP key ring or exported public key (`.gpg` in
/// `/usr/share/keyrings`, `gpg --export`): a public-key packet (tag 6) of
/// version 4 to 6 first. Its key material is random by nature, and its user
/// ids (names, addresses) are plain text. The public-key algorithm after
/// the creation time must be one RFC 9580 assigns too: a chunk cut from
/// random data opens with a version byte that fits one time in 7,000, and
/// read as a key it would never be judged random.
fn openpgp_public_key(head: &[u8]) -> bool {
    let (version, algorithm) = match head {
        // Old format, tag 6, one- or two-octet length.
        [0x98, _, v, _, _, _, _, a, ..] | [0x99, _, _, v, _, _, _, _, a, ..] => (v, a),
        // New format, tag 6, a one-octet length or a two-octet one.
        [0xC6, 0..=191, v, _, _, _, _, a, ..] | [0xC6, 192..=223, _, v, _, _, _, _, a, ..] => {
            (v, a)
        }
        _ => return false,
    };
    // RSA, Elgamal, DSA, ECDH, ECDSA, EdDSA (legacy), X25519, X448,
    // Ed25519, Ed448.
    (4..=6).contains(version) && matches!(algorithm, 1..=3 | 16..=19 | 22 | 25..=28)
}

/// A binary OpenPGP message that opens, as encrypted ones do, with an
/// encrypted session key packet (RFC 4880 §5.1, §5.3; RFC 9580): the packet
/// header, then a version, cipher and algorithm octets that must make sense.
fn openpgp_encrypted(head: &[u8]) -> bool {
    let Some((&first, rest)) = head.split_first() else {
        return false;
    };
    let (tag, body) = match first & 0xC0 {
        // New format: the tag in six bits; one, two or five length octets.
        0xC0 => {
            let skip = match rest.first() {
                Some(0..=191) => 1,
                Some(192..=223) => 2,
                Some(255) => 5,
                _ => return false,
            };
            (first & 0x3F, rest.get(skip..))
        }
        // Old format: the tag in four bits, the length type in two.
        0x80 => {
            let skip = match first & 3 {
                0 => 1,
                1 => 2,
                2 => 4,
                _ => return false,
            };
            ((first >> 2) & 0x0F, rest.get(skip..))
        }
        _ => return false,
    };
    match (tag, body.unwrap_or(&[])) {
        // Public-key encrypted session key: version 3, a key id, an algorithm.
        (1, [3, _, _, _, _, _, _, _, _, algo, ..]) => matches!(algo, 1 | 2 | 16 | 18 | 22 | 25),
        // Symmetric-key encrypted session key: version 4 (a cipher, an S2K
        // type) or 5 and 6 (a cipher, an AEAD mode).
        (3, [4, cipher, s2k, ..]) => (1..=13).contains(cipher) && matches!(s2k, 0 | 1 | 3),
        (3, [5 | 6, cipher, aead, ..]) => (1..=13).contains(cipher) && (1..=3).contains(aead),
        _ => false,
    }
}

/// Bytes that settle every magic-number check before tar's: the furthest
/// any of them reads is EMF's signature at 40 to 44, and the longest armour
/// line of a sealed file is 34 bytes.
const MAGIC_LEN: usize = 64;

/// What `sniff` would say of the full head (`SNIFF_LEN` bytes), when `head`
/// already settles it: the decoder can then start without holding more.
/// Only a magic number at the very start settles it early, and only one that
/// `by_magic` checks before tar's (at 257, with a checksum over 512 bytes):
/// every later check, the content type and the body's shape can each be
/// overturned by a byte further on (leading spaces before an armour line, a
/// `%PDF-` after what looked like a piece of a PDF, a tar header behind a
/// name that opens like RTF), and the findings must not depend on where the
/// body was split.
pub fn early_kind(head: &[u8]) -> Option<Kind> {
    // Leading whitespace: a sealed file's armour may come after any amount.
    if head.len() < MAGIC_LEN || head.first().is_none_or(u8::is_ascii_whitespace) {
        return None;
    }
    match by_magic(head)? {
        // Tar's checksum covers all 512 bytes of its header; the others are
        // checked after tar's magic.
        Kind::Tar | Kind::Rtf | Kind::Cfb | Kind::Utf16Le | Kind::Utf16Be => None,
        // PNG and JPEG come first; other media only after tar's magic.
        Kind::Media(_)
            if !head.starts_with(b"\x89PNG\r\n\x1a\n") && !head.starts_with(b"\xff\xd8\xff") =>
        {
            None
        }
        kind => Some(kind),
    }
}

/// The format a magic number names. The order matters beyond which check
/// wins: `early_kind` settles a short head early only on the checks before
/// tar's, which read no further than `MAGIC_LEN` bytes.
fn by_magic(head: &[u8]) -> Option<Kind> {
    // Photos are most of the bodies a gateway sees, and PNG's and JPEG's
    // magic is no other format's: answered before the archives are asked.
    if head.starts_with(b"\x89PNG\r\n\x1a\n") || head.starts_with(b"\xff\xd8\xff") {
        if let Some(mime) = media_magic(head) {
            return Some(Kind::Media(mime));
        }
    }
    if head.starts_with(b"\x1f\x8b") {
        return Some(Kind::Gzip);
    }
    if openpgp_public_key(head) {
        return Some(Kind::Strings("pgp-keys"));
    }
    // An EMF picture: its header record (type 1) and signature. Office keeps
    // one as the face of every embedded object, a table's cells drawn as
    // text records.
    if head.starts_with(b"\x01\x00\x00\x00") && head.get(40..44) == Some(b" EMF") {
        return Some(Kind::Strings("emf"));
    }
    if head.starts_with(b"\x28\xb5\x2f\xfd") {
        return Some(Kind::Zstd);
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Some(Kind::Zip);
    }
    if head.starts_with(b"%PDF-") {
        return Some(Kind::Pdf);
    }
    if head.starts_with(super::tnef::MAGIC) {
        return Some(Kind::Tnef);
    }
    if let Some(kind) = stream_magic(head) {
        return Some(kind);
    }
    if let Some(name) = unread_magic(head) {
        return Some(Kind::Unread(name));
    }
    if let Some(name) = sealed(head) {
        return Some(Kind::Encrypted(name));
    }
    if super::tar::is_tar(head) {
        return Some(Kind::Tar);
    }
    if super::rtf::is_rtf(head) {
        return Some(Kind::Rtf);
    }
    // By its magic only: files named .doc are often RTF or HTML.
    if head.starts_with(super::cfb::MAGIC) {
        return Some(Kind::Cfb);
    }
    if head.starts_with(b"\xff\xfe") {
        return Some(Kind::Utf16Le);
    }
    if head.starts_with(b"\xfe\xff") {
        return Some(Kind::Utf16Be);
    }
    media_magic(head).map(Kind::Media)
}

fn by_content_type(ct: &str) -> Option<Kind> {
    let raw = ct.split(';').next().unwrap_or("").trim();
    // Lower-cased on the stack: every body asks, twice.
    let mut buf = [0u8; 128];
    let owned;
    let mime = match buf.get_mut(..raw.len()) {
        Some(b) => {
            b.copy_from_slice(raw.as_bytes());
            b.make_ascii_lowercase();
            std::str::from_utf8(b).unwrap_or("")
        }
        None => {
            owned = raw.to_ascii_lowercase();
            owned.as_str()
        }
    };
    match mime {
        // Any multipart type with a boundary: mail is `alternative` (every
        // HTML message), `signed` (S/MIME), `report` (bounces), `digest`…
        m if m.starts_with("multipart/") => {
            let boundary = super::multipart::param(ct, "boundary")?.into_bytes();
            (!boundary.is_empty() && boundary.len() <= 200).then_some(Kind::Multipart { boundary })
        }
        "application/x-www-form-urlencoded" => Some(Kind::Form),
        "text/csv" | "text/tab-separated-values" | "application/csv" => Some(Kind::Csv),
        "application/pdf" => Some(Kind::Pdf),
        "application/ms-tnef" | "application/vnd.ms-tnef" => Some(Kind::Tnef),
        "message/rfc822" | "application/x-mimearchive" => Some(Kind::Message),
        "application/rtf" | "text/rtf" => Some(Kind::Rtf),
        "text/html" | "application/xhtml+xml" => Some(Kind::Markup("html")),
        "application/gzip" | "application/x-gzip" => Some(Kind::Gzip),
        "application/zstd" => Some(Kind::Zstd),
        "application/zip" => Some(Kind::Zip),
        m if m.starts_with("application/vnd.openxmlformats-officedocument.") => Some(Kind::Zip),
        m if m == "application/json" || m == "text/json" || m.ends_with("+json") => {
            Some(Kind::Json)
        }
        m if m == "text/xml" || m == "application/xml" || m.ends_with("+xml") => {
            Some(Kind::Markup("xml"))
        }
        _ => None,
    }
}

fn by_shape(head: &[u8]) -> Option<Kind> {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    if let Some(boundary) = multipart_boundary(head) {
        return Some(Kind::Multipart { boundary });
    }
    let trimmed = trim_start(head);
    // `{"`, `[{` and `["` open JSON and little else: a body that opens so and
    // then breaks is broken JSON, read as far as it goes and reported. Any
    // other bracket must read on as JSON to be taken for it.
    match trimmed {
        [b'{', rest @ ..] => match trim_start(rest).first() {
            Some(b'"') | Some(b'}') | None => return Some(Kind::Json),
            _ => {}
        },
        [b'[', rest @ ..] => match trim_start(rest).first() {
            Some(b'{' | b'"') | None => return Some(Kind::Json),
            Some(_) if json_prefix(trimmed) => return Some(Kind::Json),
            _ => {}
        },
        _ => {}
    }
    if looks_like_form(head) {
        return Some(Kind::Form);
    }
    // Binary data may have lines of as many tab bytes by chance; a table's
    // text has no control bytes but its tabs and line ends.
    if tab_table(head) && !super::text::is_binary(head) {
        return Some(Kind::Csv);
    }
    if mime_message(trimmed) {
        return Some(Kind::Message);
    }
    if pdf_fragment(head) {
        return Some(Kind::Fragment("pdf"));
    }
    if let Some(mid_line) = bare_base64(head) {
        return Some(Kind::Base64 { mid_line });
    }
    markup(trimmed)
}

/// Whether `head` is base64 and nothing else: its alphabet (standard or
/// URL-safe) in lines of one length, a multiple of four as encoders wrap
/// them (76 for MIME, 64 for PEM), or in one line; long enough to tell, and
/// not hex (whose digits are base64's too, and which is no base64). `Some`
/// says whether the first line is cut short: a body that starts inside a
/// line, where decoding from its first byte would be misaligned.
fn bare_base64(head: &[u8]) -> Option<bool> {
    let alphabet = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
    // Most heads fail on their first word: answered before lines are split.
    if head.len() < 128
        || !head
            .iter()
            .all(|b| alphabet(b) || matches!(b, b'\r' | b'\n' | b'='))
    {
        return None;
    }
    let lines: Vec<&[u8]> = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect();
    let chars: usize = lines.iter().map(|l| l.len()).sum();
    if chars < 128 {
        return None;
    }
    // Padding only at the end of a line (of the data).
    let clean = lines.iter().all(|l| {
        let body = l
            .iter()
            .rposition(|&b| b != b'=')
            .map_or(&l[..0], |k| &l[..=k]);
        body.iter().all(alphabet) && l.len() - body.len() <= 2
    });
    let hex = head.iter().filter(|b| b.is_ascii_hexdigit()).count();
    // Encoded data uses most of the alphabet, in both cases and digits; a
    // long run of one letter (`xxxx…`) or a word is not base64.
    let mut seen = [false; 256];
    head.iter().for_each(|&b| seen[usize::from(b)] = true);
    let distinct = seen.iter().filter(|&&s| s).count();
    let classes = [
        u8::is_ascii_uppercase,
        u8::is_ascii_lowercase,
        u8::is_ascii_digit,
    ]
    .iter()
    .all(|class| head.iter().any(class));
    if !clean || hex * 10 > chars * 9 || distinct < 24 || !classes {
        return None;
    }
    match lines.as_slice() {
        [_] => Some(false),
        // The head may end inside its last line; the first may be cut short.
        [first, full @ .., _] if !full.is_empty() => {
            let width = full.first()?.len();
            let even = width >= 40 && width % 4 == 0 && full.iter().all(|l| l.len() == width);
            (even && first.len() <= width).then_some(first.len() < width)
        }
        _ => None,
    }
}

/// A piece of a PDF after its start: its objects' syntax (`12 0 obj`,
/// `endobj`, `/Filter`) without the `%PDF-` header. Most of what follows is
/// compressed streams, which only the whole file's reader undoes. Two of
/// these marks, one of them an object's opening or end, are not prose.
/// An FDF (Acrobat's export of a form's values) is written in the same
/// syntax, whole and as text: it is no fragment.
fn pdf_fragment(head: &[u8]) -> bool {
    use memchr::memmem::{find, find_iter};
    if find(head, b"%PDF-").is_some() || find(head, b"%FDF-").is_some() {
        return false;
    }
    // `<object number> <generation> obj`, and not `objects` in prose.
    let opens = find_iter(head, b" obj").any(|at| {
        if head.get(at + 4).is_some_and(u8::is_ascii_alphanumeric) {
            return false;
        }
        let before = head.get(..at).unwrap_or_default();
        let generation = before
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let rest = before.get(..before.len() - generation).unwrap_or_default();
        generation > 0
            && rest.last() == Some(&b' ')
            && rest.iter().rev().nth(1).is_some_and(u8::is_ascii_digit)
    });
    let ends = find(head, b"endobj").is_some() || find(head, b"endstream").is_some();
    let keys = [
        &b"/Filter"[..],
        b"/Length",
        b"/Type",
        b"/FlateDecode",
        b"\nstream\n",
    ]
    .iter()
    .filter(|k| find(head, k).is_some())
    .count();
    (opens || ends) && usize::from(opens) + usize::from(ends) + keys >= 2
}

/// A MIME message by its first line: what Word, Excel and Internet Explorer
/// write first in a web archive, or Chrome's (`From: <Saved by Blink>`).
/// Mail usually opens with other headers, and is sniffed by its name.
fn mime_message(head: &[u8]) -> bool {
    [&b"mime-version:"[..], b"from: <saved by blink>"]
        .iter()
        .any(|p| {
            head.get(..p.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(p))
        })
}

/// Lines of cells split by tabs, the same number in each, the first cell of
/// each filled: what Excel's "Text (Tab delimited)" and "Unicode Text" save
/// (as `.txt`), and what a copied table pastes as. Indented code has tabs
/// too, but before its first cell.
fn tab_table(head: &[u8]) -> bool {
    let mut lines = head.split(|&b| b == b'\n').peekable();
    let mut tabs = None;
    let mut rows = 0;
    while let Some(line) = lines.next() {
        // The last piece may be a line cut by the end of the head.
        if lines.peek().is_none() {
            break;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let n = line.iter().filter(|&&b| b == b'\t').count();
        let first_filled = line.first().is_some_and(|&b| b != b'\t' && b != b' ');
        if n == 0 || !first_filled || tabs.is_some_and(|t| t != n) {
            return false;
        }
        tabs = Some(n);
        rows += 1;
    }
    rows >= 2
}

/// A document that opens as HTML or XML does (case aside), or as the
/// fragments of HTML that exporters write do.
fn markup(head: &[u8]) -> Option<Kind> {
    let opens = |tag: &[u8]| {
        head.get(..tag.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(tag))
    };
    // "Export to Excel" in web systems writes a bare table (or a `<meta>`
    // and a table) and names it `.xls`: HTML all the same.
    let html = [
        &b"<!doctype html"[..],
        b"<html",
        b"<table",
        b"<meta",
        b"<head",
        b"<body",
        b"<style",
        b"<title",
    ];
    if html.iter().any(|t| opens(t)) {
        Some(Kind::Markup("html"))
    } else if opens(b"<?xml") || opens(b"<svg") {
        Some(Kind::Markup("xml"))
    } else {
        None
    }
}

/// Whether `head` reads as the start of JSON (one document or several, as
/// NDJSON has them) up to where it is cut: a bracket is no promise. Log
/// lines (`[2026-11-20 10:00:00] INFO`), a list of references (`[1] Chan,
/// T. M.`) and TOML's `[[table]]` open with one, and read as broken JSON they
/// ended incomplete, which the shipped policy blocks towards the mainland.
fn json_prefix(head: &[u8]) -> bool {
    /// What may come next.
    #[derive(Clone, Copy, PartialEq)]
    enum Want {
        /// A value (or, first in an array, its end).
        Value,
        /// A key (or, first in an object, its end).
        Key,
        Colon,
        /// A comma or the end of the open container.
        After,
    }
    // Containers open, innermost last (`true` for an object); deeper than
    // this the rest is taken on trust.
    let mut open = [false; 32];
    let mut depth = 0usize;
    let mut want = Want::Value;
    let mut first = true;
    let mut i = 0;
    while let Some(&c) = head.get(i) {
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        match (want, c) {
            (Want::Value | Want::Key, b'"') => {
                // A string, escapes skipped; cut short, it is a prefix.
                let mut j = i + 1;
                loop {
                    match head.get(j) {
                        None => return true,
                        Some(b'\\') => j += 2,
                        Some(b'"') => break,
                        Some(_) => j += 1,
                    }
                }
                i = j + 1;
                want = if want == Want::Key {
                    Want::Colon
                } else {
                    Want::After
                };
                first = false;
                continue;
            }
            (Want::Value, b'{' | b'[') => {
                if depth == open.len() {
                    return true;
                }
                if let Some(slot) = open.get_mut(depth) {
                    *slot = c == b'{';
                }
                depth += 1;
                want = if c == b'{' { Want::Key } else { Want::Value };
                first = true;
                i += 1;
                continue;
            }
            (Want::Value, b'-' | b'0'..=b'9') => {
                let n = head
                    .get(i..)
                    .unwrap_or(&[])
                    .iter()
                    .take_while(|b| {
                        b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')
                    })
                    .count();
                i += n;
                want = Want::After;
            }
            (Want::Value, b't' | b'f' | b'n') => {
                let word: &[u8] = match c {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                let rest = head.get(i..).unwrap_or(&[]);
                let n = word.len().min(rest.len());
                if rest.get(..n) != word.get(..n) {
                    return false;
                }
                i += n;
                want = Want::After;
            }
            (Want::Colon, b':') => {
                want = Want::Value;
                i += 1;
                continue;
            }
            (Want::After, b',') if depth > 0 => {
                let object = open.get(depth - 1).copied().unwrap_or(false);
                want = if object { Want::Key } else { Want::Value };
                first = false;
                i += 1;
                continue;
            }
            (Want::After, b'}' | b']') | (Want::Key | Want::Value, b'}' | b']')
                if depth > 0 && (want == Want::After || first) =>
            {
                let object = open.get(depth - 1).copied().unwrap_or(false);
                if object != (c == b'}') {
                    return false;
                }
                depth -= 1;
                want = Want::After;
                i += 1;
                continue;
            }
            // Another document after one that ended (NDJSON).
            (Want::After, b'{' | b'[') if depth == 0 => {
                want = Want::Value;
                continue;
            }
            _ => return false,
        }
        // After a number or a literal: it must end where a value may.
        match head.get(i) {
            None => return true,
            Some(b) if b.is_ascii_whitespace() || matches!(b, b',' | b'}' | b']') => {}
            Some(_) => return false,
        }
        first = false;
    }
    true
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    b.get(n..).unwrap_or(&[])
}

/// A body that opens with `--token` alone on its first line, and then a part's
/// `Content-…` header, is multipart. The header is required: Markdown and YAML
/// open with `---` and a `title: …` line, and read as a malformed multipart
/// body they would end incomplete (and be blocked) instead of scanned.
fn multipart_boundary(head: &[u8]) -> Option<Vec<u8>> {
    let rest = head.strip_prefix(b"--")?;
    let end = memchr(b'\n', rest)?;
    let line = rest.get(..end)?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let ok = !line.is_empty()
        && line.len() <= 200
        && line
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"'()+_,-./:=?".contains(c));
    let header = rest
        .get(end + 1..end + 1 + 8)
        .is_some_and(|h| h.eq_ignore_ascii_case(b"content-"));
    (ok && header).then(|| line.to_vec())
}

/// `name=value&…` with nothing a form encoder would have escaped.
fn looks_like_form(head: &[u8]) -> bool {
    let Some(eq) = memchr(b'=', head) else {
        return false;
    };
    let name = head.get(..eq).unwrap_or(&[]);
    !name.is_empty()
        && name
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"_.-[]%*".contains(c))
        && head
            .iter()
            .all(|c| c.is_ascii_graphic() && !b"\"<>\\{}".contains(c))
}

fn by_extension(name: &str) -> Option<Kind> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "json" => Some(Kind::Json),
        "csv" | "tsv" => Some(Kind::Csv),
        "pdf" => Some(Kind::Pdf),
        // Web archives (Word and Excel's "Single File Web Page", a browser's
        // "Save as MHTML") are MIME messages of a page and its parts.
        "eml" | "mht" | "mhtml" => Some(Kind::Message),
        "rtf" => Some(Kind::Rtf),
        "html" | "htm" | "xhtml" => Some(Kind::Markup("html")),
        "xml" | "svg" => Some(Kind::Markup("xml")),
        "gz" => Some(Kind::Gzip),
        "zst" => Some(Kind::Zstd),
        "br" => Some(Kind::Brotli),
        "docx" | "xlsx" | "pptx" | "zip" => Some(Kind::Zip),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        name: &'static str,
        head: &'static [u8],
        hint: (Option<&'static str>, Option<&'static str>),
        want: Kind,
    }

    #[test]
    fn sniff_table() {
        let cases = [
            Case {
                name: "gzip magic beats json content-type",
                head: b"\x1f\x8b\x08\x00",
                hint: (Some("application/json"), None),
                want: Kind::Gzip,
            },
            Case {
                name: "zip magic",
                head: b"PK\x03\x04rest",
                hint: (None, None),
                want: Kind::Zip,
            },
            Case {
                name: "web archive from Word or Excel",
                head: b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"----=_NextPart_01D9\"\r\n",
                hint: (None, None),
                want: Kind::Message,
            },
            Case {
                name: "web archive from Chrome",
                head: b"From: <Saved by Blink>\r\nSnapshot-Content-Location: https://example.com/\r\n",
                hint: (None, None),
                want: Kind::Message,
            },
            Case {
                name: "text that mentions a MIME header later is text",
                head: b"Notes on mail: the MIME-Version: header comes first\n",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "an exported table named .xls is html",
                head: b"<table border=\"1\"><tr><th>\xe9\x9b\xbb\xe8\xa9\xb1</th></tr>",
                hint: (None, Some("export.xls")),
                want: Kind::Markup("html"),
            },
            Case {
                name: "an exported page that opens with its charset is html",
                head: b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=big5\">\n<table>",
                hint: (None, Some("export.xls")),
                want: Kind::Markup("html"),
            },
            Case {
                name: "pdf magic",
                head: b"%PDF-1.7\n",
                hint: (None, None),
                want: Kind::Pdf,
            },
            Case {
                name: "png labelled octet-stream",
                head: b"\x89PNG\r\n\x1a\n\0\0",
                hint: (Some("application/octet-stream"), None),
                want: Kind::Media("image/png"),
            },
            Case {
                name: "mp4 ftyp",
                head: b"\0\0\0\x18ftypisom\0\0",
                hint: (None, None),
                want: Kind::Media("video/mp4"),
            },
            Case {
                name: "heic ftyp",
                head: b"\0\0\0\x18ftypheic\0\0",
                hint: (None, None),
                want: Kind::Media("image/heic"),
            },
            Case {
                name: "webp riff",
                head: b"RIFF\x10\0\0\0WEBPVP8 ",
                hint: (None, None),
                want: Kind::Media("image/webp"),
            },
            Case {
                name: "jpeg",
                head: b"\xff\xd8\xff\xe0\0\x10JFIF",
                hint: (None, None),
                want: Kind::Media("image/jpeg"),
            },
            Case {
                name: "an emf picture is read for its strings",
                head: b"\x01\x00\x00\x00\x6c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xe8\x03\x00\x00\xe8\x03\x00\x00 EMF\x00\x00\x01\x00",
                hint: (None, None),
                want: Kind::Strings("emf"),
            },
            Case {
                name: "a piece of a pdf from the middle of an upload",
                head: b"\n15 0 obj\n<<\n/Filter [ /ASCII85Decode /FlateDecode ] /Length 459\n>>\nstream\nGaub*4",
                hint: (None, None),
                want: Kind::Fragment("pdf"),
            },
            Case {
                name: "prose about pdf objects is text",
                head: b"Each object starts with 12 0 obj and a dictionary.",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "prose counting objects is text",
                head: b"Moved 12 0 objects to the /Type archive folder.",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "an fdf export of a form's values is text",
                head: b"%FDF-1.2\n1 0 obj\n<</FDF<</Fields[<</T(name)/V(Chan Tai Man)>>]>>>>\nendobj\ntrailer\n<</Root 1 0 R>>\n%%EOF\n",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "a pdf after some junk is not a fragment",
                head: b"junk\n%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "windows media",
                head: b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa",
                hint: (None, None),
                want: Kind::Media("video/x-ms-asf"),
            },
            Case {
                name: "aiff audio",
                head: b"FORM\x00\x01\x00\x00AIFFCOMM",
                hint: (None, None),
                want: Kind::Media("audio/aiff"),
            },
            Case {
                name: "an openpgp public key is read for its user ids",
                head: b"\x99\x02\x0d\x04\x63\x1a\x2b\x3c\x01\x10\x00\xc0\x11",
                hint: (None, None),
                want: Kind::Strings("pgp-keys"),
            },
            Case {
                name: "random bytes that open like a key packet are not one",
                head: b"\x99\x02\x0d\x04\x63\x1a\x2b\x3c\xa7\x10\x00\xc0\x11",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "embedded opentype font",
                head: b"\x00\x10\x00\x00\x00\x0f\x00\x00\x01\x00\x02\x00\x04\x00\x00\x00\x02\x0b\x06\x04\x02\x02\x02\x02\x02\x04\x01\x00\x90\x01\x00\x00\x00\x00LP\x00\x00",
                hint: (None, None),
                want: Kind::Media("font/eot"),
            },
            Case {
                name: "photoshop image",
                head: b"8BPS\x00\x01\x00\x00\x00\x00\x00\x00\x00\x03",
                hint: (None, None),
                want: Kind::Media("image/vnd.adobe.photoshop"),
            },
            Case {
                name: "woff2 font",
                head: b"wOF2\x00\x01\x00\x00\x00\x00\x9c\x18",
                hint: (None, None),
                want: Kind::Media("font/woff2"),
            },
            Case {
                name: "html by its doctype, any case, after blank lines",
                head: b"\r\n  <!doctype HTML><html>",
                hint: (None, None),
                want: Kind::Markup("html"),
            },
            Case {
                name: "html by content type",
                head: b"<p>hello</p>",
                hint: (Some("text/html; charset=big5"), None),
                want: Kind::Markup("html"),
            },
            Case {
                name: "xml by declaration",
                head: b"<?xml version=\"1.0\"?><a/>",
                hint: (None, None),
                want: Kind::Markup("xml"),
            },
            Case {
                name: "svg by a +xml content type",
                head: b"<svg xmlns=\"http://www.w3.org/2000/svg\">",
                hint: (Some("image/svg+xml"), None),
                want: Kind::Markup("xml"),
            },
            Case {
                name: "xml by extension",
                head: b"<staff><name>x</name></staff>",
                hint: (None, Some("export.XML")),
                want: Kind::Markup("xml"),
            },
            Case {
                name: "a tag that is not a document's opening is text",
                head: b"<b>note</b> call me",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "a tab-separated table saved as .txt",
                head: "姓名\t電話\r\n陳大文\t6612 3456\r\n李小紅\t6698".as_bytes(),
                hint: (None, Some("staff.txt")),
                want: Kind::Csv,
            },
            Case {
                name: "tab-indented code is text",
                head: b"fn main() {\n\tlet x = 1;\n\tprintln!(x);\n}\n",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "lines with different numbers of tabs are text",
                head: b"Name\tPhone\nnote: call\tback\tlater\n",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "utf16le bom",
                head: b"\xff\xfeA\0",
                hint: (None, None),
                want: Kind::Utf16Le,
            },
            Case {
                name: "multipart content-type",
                head: b"--x\r\n",
                hint: (Some("multipart/form-data; boundary=\"abc\""), None),
                want: Kind::Multipart {
                    boundary: b"abc".to_vec(),
                },
            },
            Case {
                name: "multipart shape",
                head: b"--WebKitFormBoundary7MA4\r\nContent-Disposition",
                hint: (None, None),
                want: Kind::Multipart {
                    boundary: b"WebKitFormBoundary7MA4".to_vec(),
                },
            },
            Case {
                name: "front matter is not multipart",
                head: b"---\ntitle: Hacking on systemd\ncategory: Contributing\n---\n# Hacking",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "a rule line is not multipart",
                head: b"--------\nNotes\n",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "multipart shape with lower-case headers",
                head:
                    b"------------------------d74496d66958873e\r\ncontent-type: text/plain\r\n\r\nx",
                hint: (None, None),
                want: Kind::Multipart {
                    boundary: b"----------------------d74496d66958873e".to_vec(),
                },
            },
            Case {
                name: "json object shape",
                head: b"  {\"msgtype\": 1}",
                hint: (None, None),
                want: Kind::Json,
            },
            Case {
                name: "json array shape",
                head: b"[{\"a\":1}]",
                hint: (None, None),
                want: Kind::Json,
            },
            Case {
                name: "log line is not json",
                head: b"[INFO] started",
                hint: (None, None),
                want: Kind::Text,
            },
            // A bracket first is no promise: these ended incomplete as broken
            // JSON, and so were blocked towards the mainland.
            Case {
                name: "dated log line is not json",
                head: b"[2026-11-20 10:00:00] INFO started\n[2026-11-20 10:00:01] INFO ready\n",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "references are not json",
                head: b"[1] Chan, T. M. (2020). Residency.\n[2] Wong, S. M.",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "toml array of tables is not json",
                head: b"[[test]]\nname = \"basic\"\n",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "checklist is not json",
                head: b"[-] removed item\n[+] added item",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "ndjson",
                head: b"{\"a\": [1, -2.5e3, true, null]}\n{\"b\": {\"c\": \"x\\\"y\"}}\n",
                hint: (None, None),
                want: Kind::Json,
            },
            Case {
                name: "ndjson of arrays",
                head: b"[1, -2.5e3, [true, null], {\"k\": [false]}]\n[3, []]\n[4",
                hint: (None, None),
                want: Kind::Json,
            },
            Case {
                name: "json cut short in a string",
                head: b"[{\"text\": \"a long message that the sniffer sees only the start of",
                hint: (None, None),
                want: Kind::Json,
            },
            Case {
                name: "json cut short in a literal",
                head: b"[{\"ok\": tr",
                hint: (None, None),
                want: Kind::Json,
            },
            Case {
                name: "empty containers",
                head: b"[[], {}, [{}]]",
                hint: (None, None),
                want: Kind::Json,
            },
            Case {
                name: "brackets that do not pair",
                head: b"[1, 2}",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "json named so stays json however broken",
                head: b"[2026-11-20] not json",
                hint: (Some("application/json"), None),
                want: Kind::Json,
            },
            Case {
                name: "form shape",
                head: b"access_token=abc&type=file",
                hint: (None, None),
                want: Kind::Form,
            },
            Case {
                name: "prose with equals is text",
                head: b"a = b and more",
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "csv by extension",
                head: b"name,id\nx,y\n",
                hint: (None, Some("list.CSV")),
                want: Kind::Csv,
            },
            Case {
                name: "csv by content-type",
                head: b"name,id\n",
                hint: (Some("text/csv; charset=utf-8"), None),
                want: Kind::Csv,
            },
            Case {
                name: "form content-type",
                head: b"a=1",
                hint: (Some("application/x-www-form-urlencoded"), None),
                want: Kind::Form,
            },
            Case {
                name: "vendor json",
                head: b"x",
                hint: (Some("application/vnd.api+json"), None),
                want: Kind::Json,
            },
            Case {
                name: "plain text",
                head: "你好 A123456(7)".as_bytes(),
                hint: (None, None),
                want: Kind::Text,
            },
            Case {
                name: "empty",
                head: b"",
                hint: (None, None),
                want: Kind::Text,
            },
        ];
        for c in cases {
            let hint = ContentHint {
                content_type: c.hint.0.map(str::to_owned),
                content_encoding: None,
                file_name: c.hint.1.map(str::to_owned),
            };
            assert_eq!(sniff(c.head, &hint), c.want, "case {}", c.name);
        }
    }

    /// `frames` audio frames of `len` bytes, each opening with `header`,
    /// filled with bytes that are no header; the head sniff sees.
    fn frames(header: &[u8], len: usize, frames: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..frames {
            out.extend_from_slice(header);
            out.extend((header.len()..len).map(|i| (i * 7 % 251) as u8));
        }
        out.truncate(SNIFF_LEN);
        out
    }

    /// An audio frame header is two bytes of sync, which a chunk cut from
    /// random data opens with one time in a few thousand: the next frame
    /// must be where the first one says it ends, when the head reaches it.
    #[test]
    fn audio_frames_are_checked_against_the_next_one() {
        let none = ContentHint::default();
        // MPEG 1 layer III, 32 kbps, 48 kHz: 96-byte frames.
        let mp3 = [0xff, 0xfb, 0x14, 0xc4];
        assert_eq!(
            sniff(&frames(&mp3, 96, 6), &none),
            Kind::Media("audio/mpeg")
        );
        // MPEG 2 layer III, 8 kbps, 16 kHz (voice): 36-byte frames.
        let voice = [0xff, 0xf3, 0x18, 0xc4];
        assert_eq!(
            sniff(&frames(&voice, 36, 16), &none),
            Kind::Media("audio/mpeg")
        );
        // 128 kbps, 44.1 kHz: 417 bytes, the next header inside the head.
        let music = [0xff, 0xfb, 0x90, 0x64];
        assert_eq!(
            sniff(&frames(&music, 417, 2), &none),
            Kind::Media("audio/mpeg")
        );
        // AAC in ADTS, 44.1 kHz, frames of 200 bytes (its length in the header).
        let aac = [0xff, 0xf1, 0x50, 0x80, 0x19, 0x1f, 0xfc];
        assert_eq!(
            sniff(&frames(&aac, 200, 4), &none),
            Kind::Media("audio/aac")
        );
        // The same headers where the next frame is not: random data.
        for header in [&mp3[..], &voice, &music, &aac] {
            let mut head = header.to_vec();
            head.extend((0..SNIFF_LEN).map(|i| (i * 7 % 251) as u8 | 0x01));
            assert_eq!(sniff(&head, &none), Kind::Text, "{header:02x?}");
        }
        // A frame longer than the head is taken on its header alone.
        let long = [0xff, 0xfb, 0xe0, 0x64]; // 320 kbps: 1044 bytes.
        assert_eq!(
            sniff(&frames(&long, 1044, 1), &none),
            Kind::Media("audio/mpeg")
        );
    }
}
