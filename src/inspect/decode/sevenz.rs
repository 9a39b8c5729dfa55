//! 7z archives: every file in them, read one level deeper as a zip entry is.
//! A 7z's table of contents is at its end, so the archive is held whole
//! (`container::BufferNode`) and read at `finish`.

use std::io::{Cursor, Read};

use sevenz_rust2::{ArchiveReader, EntryDecision, Error, Password};

use super::compress::LZMA_MEMORY_KIB;
use super::container;
use super::cx::Cx;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

pub(super) fn scan<S: TextSink>(buf: &[u8], depth: u32, cx: &mut Cx<S>) {
    cx.format("7z");
    let mut ar = match ArchiveReader::new_with_memory_limit(
        Cursor::new(buf),
        Password::empty(),
        LZMA_MEMORY_KIB as usize,
    ) {
        Ok(ar) => ar,
        Err(e) => return failed(&e, "its table of contents", cx),
    };
    // The engine is single-threaded by design: one body, one core.
    ar.set_thread_count(1);
    let encrypted: Vec<bool> = (0..ar.archive().files.len())
        .map(|i| ar.archive().is_file_encrypted(i))
        .collect();
    if encrypted.iter().any(|&e| e) {
        cx.incomplete(
            IncompleteReason::Encrypted,
            "password-protected 7z entries: their content cannot be read",
        );
    }
    // What the whole archive may expand to before the ratio limit counts:
    // a solid archive compresses its files together, so the ratio is the
    // archive's, not an entry's.
    let ratio_cap = cx.ratio_cap(buf.len() as u64);
    let mut produced = 0u64;
    let mut index = 0usize;
    let mut cut = None;
    let result = ar.for_each_entries_with_decision(|entry, r| {
        let i = index;
        index += 1;
        if cx.stopped || !cx.entry() {
            return Ok(EntryDecision::Stop);
        }
        if !entry.is_directory() {
            container::member_name(entry.name(), cx);
        }
        if entry.is_directory() || !entry.has_stream {
            return Ok(EntryDecision::Continue);
        }
        if encrypted.get(i).copied().unwrap_or(false) {
            // Said once above; its block cannot be decoded without the password.
            return Ok(EntryDecision::SkipBlock);
        }
        let budget = cx.expand_room();
        let left = ratio_cap.saturating_sub(produced).min(budget);
        let mut capped = Capped {
            inner: r,
            left: left.saturating_add(1),
            read: 0,
            failed: None,
        };
        let clean_before = cx.incomplete.is_none();
        container::nested(&mut capped, entry.name(), depth, cx);
        produced += capped.read;
        cx.expand(usize::try_from(capped.read).unwrap_or(usize::MAX));
        cx.check_clock();
        if let Some(e) = capped.failed.take() {
            // The archive failed under the entry (a bad checksum, a cut
            // block, a password): that is the reason, not the entry's
            // content looking truncated.
            if clean_before {
                cx.incomplete = None;
            }
            failed(&e, "an entry", cx);
            return Ok(EntryDecision::Stop);
        }
        if capped.read > left {
            cut = Some(if left < budget {
                (
                    IncompleteReason::RatioLimit,
                    format!("7z archive expands more than {}:1", cx.limits.max_ratio),
                )
            } else {
                (
                    IncompleteReason::SizeLimit,
                    "7z archive expands past the decompression limit".to_owned(),
                )
            });
            // Not `Continue`: that would decode the rest of a bomb to check it.
            return Ok(EntryDecision::Stop);
        }
        Ok(if cx.stopped {
            EntryDecision::Stop
        } else {
            EntryDecision::Continue
        })
    });
    if let Some((reason, what)) = cut {
        // The cut makes the last entry look truncated; the cut is the reason.
        cx.incomplete = None;
        cx.incomplete(reason, what);
        return;
    }
    if let Err(e) = result {
        failed(&e, "an entry", cx);
    }
}

/// Names what stopped the archive from being read.
fn failed<S: TextSink>(e: &Error, what: &str, cx: &mut Cx<S>) {
    let (reason, detail) = match e {
        Error::PasswordRequired | Error::MaybeBadPassword(_) => (
            IncompleteReason::Encrypted,
            format!("7z archive: {what} is password-protected"),
        ),
        // Built without the AES coder, an encrypted block is an unknown method.
        Error::UnsupportedCompressionMethod(m) if m.contains("AES") => (
            IncompleteReason::Encrypted,
            format!("7z archive: {what} is password-protected"),
        ),
        Error::UnsupportedCompressionMethod(m) => (
            IncompleteReason::Unsupported,
            format!("7z archive: {what} uses a method not read here ({m})"),
        ),
        Error::MaxMemLimited { .. } => (
            IncompleteReason::SizeLimit,
            format!("7z archive: {what} needs more memory than the decoder's limit"),
        ),
        Error::Unsupported(_) | Error::ExternalUnsupported => (
            IncompleteReason::Unsupported,
            format!("7z archive: {what} uses a feature not read here"),
        ),
        _ => (
            IncompleteReason::Malformed,
            format!("7z archive: {what} is corrupt or truncated"),
        ),
    };
    cx.incomplete(reason, detail);
}

/// An entry's reader, cut at `left` bytes. The archive's own error (a bad
/// checksum, a truncated block) ends the entry and is kept for the report.
struct Capped<'a> {
    inner: &'a mut dyn Read,
    left: u64,
    read: u64,
    failed: Option<Error>,
}

impl Read for Capped<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        match self.inner.read(buf.get_mut(..want).unwrap_or(&mut [])) {
            Ok(n) => {
                self.left -= n as u64;
                self.read += n as u64;
                Ok(n)
            }
            Err(e) => {
                self.failed = Some(Error::from(e));
                self.left = 0;
                Ok(0)
            }
        }
    }
}
