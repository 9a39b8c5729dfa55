//! RAR archives (RAR 1.5 to 7): every file in them, read one level deeper as a
//! zip entry is. Held whole (`container::BufferNode`) and read at `finish`.
//!
//! The decoder pushes each member's bytes into a writer of its own, which
//! cannot borrow the scan: a member is collected (at most the hold limit)
//! and read when the decoder moves to the next one.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use rars::{ArchiveReadOptions, ArchiveReader, Error, ErrorKind, ExtractionDecision};

use super::compress::LZMA_MEMORY_KIB;
use super::container;
use super::cx::Cx;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

/// Headers one archive may have: beyond any real archive, short of a
/// header bomb (each is parsed and kept before the first member is read).
const MAX_HEADERS: u64 = 100_000;
const MAX_HEADER_BYTES: u64 = 16 << 20;

pub(super) fn scan<S: TextSink>(buf: &[u8], depth: u32, cx: &mut Cx<S>) {
    cx.format("rar");
    // The reader is young (2026) and reads what anyone uploads: should it
    // panic on some archive, that archive is reported unread, and the scan
    // (and the proxy's connection) goes on. Only the reader's own state is
    // lost; what was read before stays in the report.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(buf, depth, cx)));
    if read.is_err() {
        cx.incomplete(
            IncompleteReason::Malformed,
            "RAR archive: the reader failed on it",
        );
    }
}

fn read<S: TextSink>(buf: &[u8], depth: u32, cx: &mut Cx<S>) {
    let parse = ArchiveReadOptions::new()
        .with_max_header_count(MAX_HEADERS)
        .with_max_header_bytes(MAX_HEADER_BYTES);
    let archive = match ArchiveReader::read_with_options(buf, parse) {
        Ok(a) => a,
        Err(e) => return failed(&e, Part::Headers, cx),
    };
    // What the whole archive may expand to: a solid archive compresses its
    // files together, so the ratio is the archive's, not a member's.
    let budget = cx.expand_room();
    let ratio_cap = cx.ratio_cap(buf.len() as u64);
    let total = ratio_cap.min(budget);
    // A member is held whole before it is read, beside the archive itself
    // (already counted in the room left).
    let member_cap = cx.hold_room();
    let dictionary = (LZMA_MEMORY_KIB as u64) << 10;
    let options = ArchiveReadOptions::new()
        .with_max_member_output_bytes(member_cap)
        .with_max_total_output_bytes(total)
        .with_rar50_dictionary_size_limit(dictionary)
        .with_max_reader_workspace_bytes(dictionary.saturating_mul(2));
    let out = Rc::new(RefCell::new(Vec::new()));
    let mut held: Option<String> = None;
    let mut encrypted = false;
    let mut split = false;
    let result = archive.extract_with_control(options, |member| {
        read_held(&out, &mut held, depth, cx);
        if cx.stopped || !cx.entry() {
            return Ok(ExtractionDecision::Stop);
        }
        let meta = &member.meta;
        let name = member
            .decoded_name(None)
            .map(|n| String::from_utf8_lossy(&n).into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(&meta.name).into_owned());
        if !meta.is_directory {
            container::member_name(&name, cx);
        }
        split |= meta.is_split_before || meta.is_split_after;
        if meta.is_directory || meta.is_redirection {
            return Ok(ExtractionDecision::Skip);
        }
        if meta.is_encrypted {
            encrypted = true;
            // A solid archive cannot skip a member; its members after an
            // encrypted one are encrypted too.
            return Ok(if member.is_solid() {
                ExtractionDecision::Stop
            } else {
                ExtractionDecision::Skip
            });
        }
        held = Some(name);
        Ok(ExtractionDecision::Extract(Box::new(Collect(Rc::clone(
            &out,
        )))))
    });
    // The last member, or what a failing one gave before it failed: what was
    // decoded is read either way.
    read_held(&out, &mut held, depth, cx);
    if encrypted {
        cx.incomplete(
            IncompleteReason::Encrypted,
            "password-protected RAR members: their content cannot be read",
        );
    }
    if split {
        cx.incomplete(
            IncompleteReason::Unsupported,
            "a RAR volume of a multi-volume set: files that continue in another volume are read only in part",
        );
    }
    let Err(e) = result else {
        return;
    };
    let cut = match e.root_cause() {
        Error::TotalOutputLimitExceeded { .. } if ratio_cap < budget => Some((
            IncompleteReason::RatioLimit,
            format!("RAR archive expands more than {}:1", cx.limits.max_ratio),
        )),
        Error::TotalOutputLimitExceeded { .. } => Some((
            IncompleteReason::SizeLimit,
            "RAR archive expands past the decompression limit".to_owned(),
        )),
        Error::MemberOutputLimitExceeded { .. } => Some((
            IncompleteReason::SizeLimit,
            format!(
                "a RAR member larger than the {}-byte hold limit",
                cx.limits.max_buffer_bytes
            ),
        )),
        _ => None,
    };
    if let Some((reason, what)) = cut {
        // The cut makes the last member look truncated; the cut is the reason.
        cx.incomplete = None;
        cx.incomplete(reason, what);
    } else if !split {
        failed(&e, Part::Member, cx);
    }
}

/// Reads the member collected so far as a file of its own.
fn read_held<S: TextSink>(
    out: &Rc<RefCell<Vec<u8>>>,
    held: &mut Option<String>,
    depth: u32,
    cx: &mut Cx<S>,
) {
    let Some(name) = held.take() else {
        return;
    };
    let bytes = std::mem::take(&mut *out.borrow_mut());
    if cx.stopped {
        return;
    }
    cx.expand(bytes.len());
    // Counted as held while it is read, so that an archive inside it has
    // only the room that is left.
    if cx.reserve(bytes.len()) {
        container::nested(&mut bytes.as_slice(), &name, depth, cx);
        cx.release(bytes.len());
    }
}

/// Where the decoder writes a member: the shared buffer `read_held` empties.
struct Collect(Rc<RefCell<Vec<u8>>>);

impl Write for Collect {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Names what stopped the archive from being read.
/// Where reading stopped, for the report.
#[derive(Clone, Copy)]
enum Part {
    Headers,
    Member,
}

fn failed<S: TextSink>(e: &Error, part: Part, cx: &mut Cx<S>) {
    // "its headers are …", "a member is …".
    let what = match part {
        Part::Headers => "its headers are",
        Part::Member => "a member is",
    };
    // Built without its crypto, an encrypted header or member is a feature
    // left out: it is a password all the same.
    let sealed = matches!(
        e.root_cause(),
        Error::FeatureDisabled { .. } | Error::UnsupportedEncryption { .. } | Error::Rar50Crypto(_)
    );
    let (reason, detail) = match e.kind() {
        ErrorKind::PasswordRequired | ErrorKind::BadPassword => (
            IncompleteReason::Encrypted,
            format!("RAR archive: {what} password-protected"),
        ),
        _ if sealed => (
            IncompleteReason::Encrypted,
            format!("RAR archive: {what} password-protected"),
        ),
        ErrorKind::UnsupportedFormat | ErrorKind::UnsupportedFeature => (
            IncompleteReason::Unsupported,
            format!("RAR archive: {what} written with a method or feature not read here"),
        ),
        ErrorKind::ResourceLimit => (
            IncompleteReason::SizeLimit,
            format!("RAR archive: {what} past the decoder's memory limit"),
        ),
        _ => (
            IncompleteReason::Malformed,
            format!("RAR archive: {what} corrupt or truncated"),
        ),
    };
    cx.incomplete(reason, detail);
}
