//! Media walked to its end: pictures and videos framed as their encoders
//! frame them, each with and without something appended, at every split.

use super::{hint, scan_all_ways, scan_chunks, zip_of};
use crate::inspect::decode::Limits;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::scanner::ScanReport;
use crate::inspect::sink::RecordingSink;
use crate::testutil::noise;

const HKID: &str = "HKID A123456(7)";

fn png_chunk(out: &mut Vec<u8>, name: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(data);
    // The CRC is not checked: any four bytes.
    out.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
}

/// A PNG whose image data (two IDAT chunks) is `data`, which is never read.
fn png(data: &[u8]) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(
        &mut out,
        b"IHDR",
        &[0, 0, 0, 16, 0, 0, 0, 16, 8, 2, 0, 0, 0],
    );
    png_chunk(&mut out, b"tEXt", b"Comment\0made here");
    let (a, b) = data.split_at(data.len() / 2);
    png_chunk(&mut out, b"IDAT", a);
    png_chunk(&mut out, b"IDAT", b);
    png_chunk(&mut out, b"IEND", b"");
    out
}

fn segment(out: &mut Vec<u8>, marker: u8, data: &[u8]) {
    out.extend_from_slice(&[0xff, marker]);
    out.extend_from_slice(&u16::try_from(data.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(data);
}

/// A baseline JPEG: an EXIF segment holding a thumbnail (whose own end of
/// image must not end the walk), tables, then `coded` as entropy-coded data
/// (0xFF stuffed, a restart marker in the middle), then the end of image.
fn jpeg(coded: &[u8]) -> Vec<u8> {
    let mut out = b"\xff\xd8".to_vec();
    let mut exif = b"Exif\0\0MM\0*".to_vec();
    exif.extend_from_slice(b"\xff\xd8\xff\xdb thumbnail \xff\xd9");
    segment(&mut out, 0xe1, &exif);
    segment(&mut out, 0xdb, &[0; 65]);
    segment(&mut out, 0xc0, &[8, 0, 16, 0, 16, 1, 1, 0x11, 0]);
    segment(&mut out, 0xc4, &[0; 20]);
    segment(&mut out, 0xda, &[1, 1, 0, 0, 63, 0]);
    let half = coded.len() / 2;
    for (i, &byte) in coded.iter().enumerate() {
        if i == half {
            out.extend_from_slice(b"\xff\xd0");
        }
        out.push(byte);
        if byte == 0xff {
            out.push(0);
        }
    }
    out.extend_from_slice(b"\xff\xd9");
    out
}

/// A GIF89a with a global color table, a comment extension and one image
/// whose LZW data (`data`) is in 255-byte sub-blocks.
fn gif(data: &[u8]) -> Vec<u8> {
    let mut out = b"GIF89a\x10\x00\x10\x00\xf1\x00\x00".to_vec();
    out.extend_from_slice(&[0x55; 12]); // 4 colors
    out.extend_from_slice(b"\x21\xfe\x09a comment\x00");
    out.extend_from_slice(b"\x2c\x00\x00\x00\x00\x10\x00\x10\x00\x00\x02");
    for block in data.chunks(255) {
        out.push(u8::try_from(block.len()).unwrap());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(b"\x00\x3b");
    out
}

fn bmff_box(out: &mut Vec<u8>, name: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len() + 8).unwrap().to_be_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(data);
}

/// An MP4: `ftyp`, `moov`, and `data` in an `mdat` with a 64-bit size.
fn mp4(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    bmff_box(&mut out, b"ftyp", b"isom\0\0\x02\0isomiso2");
    bmff_box(&mut out, b"moov", &noise(7, 300));
    out.extend_from_slice(&1u32.to_be_bytes());
    out.extend_from_slice(b"mdat");
    out.extend_from_slice(&(data.len() as u64 + 16).to_be_bytes());
    out.extend_from_slice(data);
    out
}

fn riff(form: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&u32::try_from(data.len() + 4).unwrap().to_le_bytes());
    out.extend_from_slice(form);
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    out
}

fn joined(r: &RecordingSink) -> String {
    r.joined_text()
}

fn check(name: &str, input: &[u8]) -> (String, ScanReport) {
    let (sink, report) = scan_all_ways(name, input, &hint(None, None, None), &Limits::default());
    (joined(&sink), report)
}

/// Every format, whole: nothing read, nothing incomplete, named once.
#[test]
fn whole_media_is_passed_over_unread() {
    // The coded data holds an HKID and a zip's magic: neither is looked at.
    let mut inner = noise(1, 3000);
    inner.extend_from_slice(HKID.as_bytes());
    inner.extend_from_slice(b"PK\x03\x04");
    let mut wav = b"fmt ".to_vec();
    wav.extend_from_slice(&inner);
    let mut bmp = b"BM".to_vec();
    bmp.extend_from_slice(&u32::try_from(inner.len() + 14).unwrap().to_le_bytes());
    bmp.extend_from_slice(&[0; 8]);
    bmp.extend_from_slice(&inner);
    let mut aiff = b"FORM".to_vec();
    aiff.extend_from_slice(&u32::try_from(inner.len() + 4).unwrap().to_be_bytes());
    aiff.extend_from_slice(b"AIFF");
    aiff.extend_from_slice(&inner);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("png", png(&inner), "image/png"),
        ("jpeg", jpeg(&inner), "image/jpeg"),
        ("gif", gif(&inner), "image/gif"),
        ("mp4", mp4(&inner), "video/mp4"),
        ("wav", riff(b"WAVE", &wav), "audio/wav"),
        ("bmp", bmp, "image/bmp"),
        ("aiff", aiff, "audio/aiff"),
    ];
    for (name, input, mime) in cases {
        let (text, report) = check(name, &input);
        assert_eq!(text, "", "{name}");
        assert_eq!(report.skipped_media, vec![mime], "{name}");
        assert_eq!(report.formats, Vec::<String>::new(), "{name}");
        assert_eq!(report.incomplete, None, "{name}");
    }
}

/// `copy /b photo.jpg + notes.txt`: what follows each format's end is read.
#[test]
fn text_appended_after_the_end_is_read() {
    let inner = noise(2, 2000);
    let mut avi = riff(b"AVI ", &inner);
    // A large AVI goes on in RIFF `AVIX` parts, which are still the video.
    avi.extend_from_slice(&riff(b"AVIX", &inner));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("png", png(&inner)),
        ("jpeg", jpeg(&inner)),
        ("gif", gif(&inner)),
        ("webp", riff(b"WEBP", &inner)),
        ("avi", avi),
        ("mp4", mp4(&inner)),
    ];
    // After an MP4's last box, text reads as another box header: the
    // second tail's bytes 4..8 (`pati`) are a well-formed box type.
    let tails = [
        format!("\nStaff list {HKID}\n"),
        format!("the patient's {HKID}"),
    ];
    for (name, whole) in cases {
        for tail in &tails {
            let mut input = whole.clone();
            input.extend_from_slice(tail.as_bytes());
            let (text, report) = check(name, &input);
            assert!(text.contains(HKID), "{name}: {text:?}");
            assert_eq!(report.skipped_media.len(), 1, "{name}");
            assert_eq!(report.incomplete, None, "{name}");
        }
    }
}

/// A zip appended to a picture (the classic way to slip files past a
/// filter) is opened and read; so is one after a video's last box.
#[test]
fn archive_appended_to_media_is_opened() {
    let zip = zip_of(&[("staff.csv", format!("name,id\nChan,{HKID}\n").as_bytes())]);
    for (name, mut input) in [
        ("jpeg", jpeg(&noise(3, 4000))),
        ("mp4", mp4(&noise(4, 4000))),
        ("png", png(&noise(5, 4000))),
    ] {
        input.extend_from_slice(&zip);
        let (text, report) = check(name, &input);
        assert!(text.contains("A123456(7)"), "{name}: {text:?}");
        assert!(
            report.formats.iter().any(|f| f == "zip"),
            "{name}: {report:?}"
        );
        assert_eq!(report.incomplete, None, "{name}");
    }
}

/// Random bytes after the end are what they would be alone: data in no
/// known format that cannot be read, never a silent pass.
#[test]
fn random_bytes_after_the_end_make_the_scan_incomplete() {
    let mut input = png(&noise(6, 2000));
    input.extend_from_slice(&noise(8, 8192));
    let (_, report) = check("png + random", &input);
    assert_eq!(report.skipped_media, vec!["image/png"]);
    let inc = report.incomplete.expect("incomplete");
    assert_eq!(inc.reason, IncompleteReason::Unsupported);
}

/// What encoders and phones legitimately put after a picture is no
/// finding: zero padding, a second picture (the multi-picture format's
/// gain maps and depth maps), a motion photo's video behind its marker.
#[test]
fn legitimate_tails_are_still_media() {
    let mut padded = png(&noise(9, 1000));
    padded.extend_from_slice(&[0; 5000]);
    let (text, report) = check("zero padding", &padded);
    assert_eq!((text.as_str(), report.incomplete), ("", None));

    let mut mpf = jpeg(&noise(10, 3000));
    mpf.extend_from_slice(&jpeg(&noise(11, 3000)));
    let (text, report) = check("two pictures", &mpf);
    assert_eq!((text.as_str(), &report.incomplete), ("", &None));
    assert_eq!(report.skipped_media, vec!["image/jpeg"]);

    let mut motion = jpeg(&noise(12, 3000));
    motion.extend_from_slice(b"MotionPhoto_Data");
    motion.extend_from_slice(&mp4(&noise(13, 9000)));
    let (text, report) = check("motion photo", &motion);
    assert_eq!(report.incomplete, None);
    assert_eq!(report.skipped_media, vec!["image/jpeg", "video/mp4"]);
    // The marker is read, as everything outside the media is.
    assert_eq!(text.trim(), "MotionPhoto_Data");
}

/// A file cut short (the first part of a larger upload) ends anywhere: in
/// a chunk's data, in a header, in coded data. Nothing is read or lost.
#[test]
fn truncated_media_is_still_media() {
    for (name, whole) in [
        ("png", png(&noise(14, 3000))),
        ("jpeg", jpeg(&noise(15, 3000))),
        ("gif", gif(&noise(16, 3000))),
        ("mp4", mp4(&noise(17, 3000))),
    ] {
        // Cuts inside the opening headers, where a few bytes of a header
        // may be left over, and inside the data.
        for cut in (9..200).chain([1500, 2000, whole.len() - 20]) {
            let (sink, report) = scan_chunks(
                &whole[..cut],
                &hint(None, None, None),
                &Limits::default(),
                &[],
            );
            assert_eq!(report.incomplete, None, "{name} cut at {cut}");
            assert!(report.skipped_media.len() == 1, "{name} cut at {cut}");
            // A header cut short leaves at most its few bytes to read.
            assert!(sink.joined_text().len() <= 16, "{name} cut at {cut}");
        }
    }
}

/// A structure that breaks ends the media there: what is left is read.
#[test]
fn broken_structure_is_read_from_where_it_breaks() {
    let mut input = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut input, b"IHDR", &[0; 13]);
    input.extend_from_slice(format!("not a chunk: {HKID}").as_bytes());
    let (text, report) = check("png", &input);
    assert!(text.contains(HKID), "{text:?}");
    assert_eq!(report.skipped_media, vec!["image/png"]);

    let mut input = Vec::new();
    bmff_box(&mut input, b"ftyp", b"isom\0\0\x02\0");
    input.extend_from_slice(&4u32.to_be_bytes()); // a box shorter than its header
    input.extend_from_slice(format!("free text {HKID}").as_bytes());
    let (text, _) = check("mp4", &input);
    assert!(text.contains(HKID), "{text:?}");
}

/// Where a format's framing cannot tell its end (an MP4 box that runs "to
/// the end of the file", TIFF's offsets, Ogg, MP3), every byte after is
/// media: a few text bytes in it are not read (coded media holds such by
/// chance), nothing is incomplete.
#[test]
fn media_without_a_findable_end_runs_to_the_end_of_the_body() {
    let mut input = Vec::new();
    bmff_box(&mut input, b"ftyp", b"isom\0\0\x02\0");
    input.extend_from_slice(&0u32.to_be_bytes());
    input.extend_from_slice(b"mdat");
    input.extend_from_slice(HKID.as_bytes());
    input.extend_from_slice(&noise(3, 5000));
    let (text, report) = check("mdat to the end", &input);
    assert_eq!((text.as_str(), report.incomplete), ("", None));

    let mut tiff = b"II*\x00\x08\x00\x00\x00".to_vec();
    tiff.extend_from_slice(HKID.as_bytes());
    let (text, report) = check("tiff", &tiff);
    assert_eq!(text, "");
    assert_eq!(report.skipped_media, vec!["image/tiff"]);
}

/// Media that runs to the end is no hiding place: a customer list after
/// `OggS`, `ID3`, a TIFF header or inside an MP4's last box is read, the
/// media still named; the coded bytes around it are not.
#[test]
fn text_inside_media_that_runs_to_the_end_is_read() {
    let list = "陳大文,A123456(3),+853 6123 4567\n李小明,B987654(1),+853 6234 5678\n";
    let coded = |seed| noise(seed, 3000);
    let with = |head: &[u8], seed| {
        let mut out = head.to_vec();
        out.extend_from_slice(&coded(seed));
        out.extend_from_slice(list.as_bytes());
        out.extend_from_slice(&coded(seed + 1));
        out
    };
    let mut mdat = Vec::new();
    bmff_box(&mut mdat, b"ftyp", b"isom\0\0\x02\0");
    mdat.extend_from_slice(&0u32.to_be_bytes());
    mdat.extend_from_slice(b"mdat");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("ogg", with(b"OggS\x00\x02", 20), "audio/ogg"),
        (
            "mp3",
            with(b"ID3\x04\x00\x00\x00\x00\x00\x00", 22),
            "audio/mpeg",
        ),
        ("tiff", with(b"II*\x00\x08\x00\x00\x00", 24), "image/tiff"),
        ("flac", with(b"fLaC\x00\x00\x00\x22", 26), "audio/flac"),
        (
            "webm",
            with(b"\x1aE\xdf\xa3\x9fB\x86\x81", 28),
            "video/webm",
        ),
        ("mdat to the end", with(&mdat, 30), "video/mp4"),
    ];
    for (name, input, mime) in cases {
        let (text, report) = check(name, &input);
        assert!(text.contains(list), "{name}: {text:?}");
        // What is read is the list and the odd text byte of the coded data
        // next to it: not a run of coded data.
        assert!(text.trim().len() < list.len() + 2 * 32, "{name}: {text:?}");
        assert_eq!(report.skipped_media, vec![mime], "{name}");
        assert_eq!(report.incomplete, None, "{name}");
    }
}

/// `copy /b song.mp3 + staff.zip`: an archive or document joined after media
/// that runs to the end ends it, and is opened as a body of its own.
#[test]
fn an_archive_joined_after_media_that_runs_to_the_end_is_opened() {
    let zip = zip_of(&[("staff.txt", HKID.as_bytes())]);
    for (name, head, mime) in [
        ("ogg", &b"OggS\x00\x02"[..], "audio/ogg"),
        ("mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
        ("tiff", b"II*\x00\x08\x00\x00\x00", "image/tiff"),
    ] {
        let input = [head, &noise(60, 3000), &zip].concat();
        let (text, report) = check(name, &input);
        assert!(text.contains(HKID), "{name}: {text:?}");
        assert_eq!(report.skipped_media, vec![mime], "{name}");
        assert_eq!(report.formats, vec!["zip"], "{name}");
        assert_eq!(report.incomplete, None, "{name}");
    }
}

/// Uncompressed pictures whose pixels are bytes of text (a grey of 70 is
/// `F`, a dark noisy one `<=>`) and quiet 8-bit sound: their runs are read
/// as text, as they must be (the walk cannot tell them from a list), and
/// find nothing; the scan is not incomplete.
#[test]
fn pixels_that_read_as_text_find_nothing() {
    let engine = crate::inspect::Engine::shipped();
    let tiff = |pixels: &[u8]| [b"II*\x00\x08\x00\x00\x00".as_slice(), pixels].concat();
    let grey = vec![70u8; 76_800];
    let dark: Vec<u8> = noise(40, 230_400).iter().map(|b| 60 + b % 3).collect();
    let quiet: Vec<u8> = noise(41, 80_000).iter().map(|b| 0x7C + b % 5).collect();
    for (name, body) in [
        ("grey", tiff(&grey)),
        ("dark", tiff(&dark)),
        ("quiet", [b".snd\0\0\0\x18".as_slice(), &quiet].concat()),
    ] {
        let f = engine.scan(super::hint(None, None, None), &body);
        assert!(f.classes.is_empty(), "{name}: {:?}", f.classes);
        assert_eq!(f.incomplete, None, "{name}");
        assert_eq!(f.skipped_media.len(), 1, "{name}");
    }
}

/// A picture inside a document is walked too: text appended to an image
/// in a zip entry is read.
#[test]
fn media_in_an_archive_entry_is_walked() {
    let mut picture = png(&noise(18, 500));
    picture.extend_from_slice(HKID.as_bytes());
    let zip = zip_of(&[("word/media/image1.png", &picture)]);
    let (text, report) = check("zip", &zip);
    assert!(text.contains(HKID), "{text:?}");
    assert_eq!(report.skipped_media, vec!["image/png"]);
}

/// `n` copies of the picture `one`, then an HKID: each walked in place, the
/// HKID after them read, the picture's type named once.
fn check_run_of(one: &[u8], n: usize, mime: &str) {
    let mut input = one.repeat(n);
    input.extend_from_slice(HKID.as_bytes());
    let (sink, report) = scan_chunks(&input, &hint(None, None, None), &Limits::default(), &[]);
    assert!(sink.joined_text().contains(HKID), "{mime}");
    assert_eq!(report.skipped_media, vec![mime]);
    assert_eq!(report.incomplete, None, "{mime}");
}

/// Thousands of pictures one after another are walked in place: no
/// deeper nesting, no deeper stack, each named once.
#[test]
fn a_run_of_pictures_nests_no_deeper() {
    check_run_of(&gif(b"\x01\x02\x03"), 20_000, "image/gif");
}

/// Pictures too small to fill the look past their end (a JPEG's start and
/// end markers alone), one after another: each is found in what the one
/// before left, and walked in `feed`'s loop.
#[test]
fn tiny_pictures_one_after_another_are_each_walked() {
    check_run_of(b"\xff\xd8\xff\xd9", 200_000, "image/jpeg");
}

/// Bytes that look like a picture by their magic number (`ftyp` at 4) but
/// whose first box is no box: not media after all, read as what follows
/// media is. Judged media again at the same byte, they were walked again,
/// each time a call deeper, until the stack overflowed: any body of a few
/// dozen such bytes killed the process.
#[test]
fn a_magic_number_whose_header_is_no_header_is_not_walked_again() {
    let mut input = b"\xff\xff\xff\xffftyp".to_vec();
    input.extend_from_slice(&[0xff; 40]);
    input.extend_from_slice(format!(" {HKID} ").as_bytes());
    let (text, report) = check("no box", &input);
    assert!(text.contains(HKID), "{text:?}");
    assert_eq!(report.skipped_media, vec!["video/mp4"]);
}

mod props {
    use proptest::prelude::*;

    use super::*;

    /// One of the built formats, with `data` inside and `tail` after.
    fn built(format: u8, data: &[u8], tail: &[u8]) -> Vec<u8> {
        let mut out = match format % 8 {
            0 => png(data),
            1 => jpeg(data),
            2 => gif(data),
            3 => mp4(data),
            4 => riff(b"WEBP", data),
            // Media that runs to the end, its text runs read.
            5 => [b"OggS\x00\x02".as_slice(), data].concat(),
            6 => [b"II*\x00\x08\x00\x00\x00".as_slice(), data].concat(),
            // And an archive joined after it.
            _ => [
                b"OggS\x00\x02".as_slice(),
                data,
                &zip_of(&[("a.txt", HKID.as_bytes())]),
            ]
            .concat(),
        };
        out.extend_from_slice(tail);
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Media with bytes flipped, cut short or run on: never a panic,
        /// and the same events and report however the body is split.
        #[test]
        fn damaged_media_scans_the_same_however_split(
            format in any::<u8>(),
            seed in any::<u64>(),
            len in 0usize..3000,
            tail in prop::collection::vec(any::<u8>(), 0..200),
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
            keep in any::<prop::sample::Index>(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            // Coded bytes with a line of text in them, which media that
            // runs to the end reads.
            let mut data = noise(seed, len);
            let at = data.len() / 3;
            data.splice(at..at, format!("{HKID}, 陳大文, +853 6123 4567\n").into_bytes());
            let mut body = built(format, &data, &tail);
            for (at, b) in &flips {
                let i = at.index(body.len());
                body[i] = *b;
            }
            body.truncate(keep.index(body.len() + 1).max(body.len() / 2));
            let h = hint(None, None, None);
            let l = Limits::default();
            let whole = scan_chunks(&body, &h, &l, &[]);
            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(body.len() + 1)).collect();
            at.sort_unstable();
            let split = scan_chunks(&body, &h, &l, &at);
            prop_assert_eq!(&split.0, &whole.0);
            prop_assert_eq!(&split.1, &whole.1);
            let bytewise: Vec<usize> = (1..body.len()).collect();
            let bytewise = scan_chunks(&body, &h, &l, &bytewise);
            prop_assert_eq!(&bytewise.0, &whole.0);
            prop_assert_eq!(&bytewise.1, &whole.1);
        }
    }
}
