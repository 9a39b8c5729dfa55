//! The state one body's scan shares across all its decoders: the sink, the
//! limits and what they have used, and what the report will say.

use std::time::{Duration, Instant};

use super::limits::Limits;
use crate::inspect::findings::{Incomplete, IncompleteReason};
use crate::inspect::sink::TextSink;

/// Bytes of work between two looks at the clock: reading it per byte or per
/// chunk would cost more than the scan itself. A body that has done less work
/// than this never reads the clock at all (a chat message, most requests).
const CLOCK_EVERY: u64 = 1 << 20;

pub(crate) struct Cx<S> {
    pub sink: S,
    pub limits: Limits,
    pub formats: Vec<&'static str>,
    pub skipped_media: Vec<&'static str>,
    pub incomplete: Option<Incomplete>,
    /// The media type of the file this body continues (a later part of an
    /// upload whose first part was that media), and whether opaque bytes
    /// were taken as its continuation.
    pub continues: Option<String>,
    pub continued: bool,
    /// Set by limits that end the whole scan (size, time): decoders then only count.
    pub stopped: bool,
    /// Entries (zip entries, multipart parts) seen so far.
    pub entries: u32,
    expanded: u64,
    buffered: u64,
    budget: Duration,
    /// Time spent scanning in earlier calls. The budget is scanning time, not
    /// wall time: a slow client's upload waits between chunks, and that wait
    /// is not the scan's.
    spent: Duration,
    /// When the timed part of the current call began (set at its start once
    /// the body has done `CLOCK_EVERY` bytes of work, or at the first look at
    /// the clock inside it).
    since: Option<Instant>,
    work_total: u64,
}

impl<S: TextSink> Cx<S> {
    pub fn new(sink: S, limits: &Limits) -> Self {
        Cx {
            sink,
            limits: limits.clone(),
            formats: Vec::new(),
            skipped_media: Vec::new(),
            incomplete: None,
            continues: None,
            continued: false,
            stopped: false,
            entries: 0,
            expanded: 0,
            buffered: 0,
            budget: Duration::from_millis(limits.max_scan_millis),
            spent: Duration::ZERO,
            since: None,
            work_total: 0,
        }
    }

    /// Records a format looked inside, once, in order of first appearance.
    pub fn format(&mut self, name: &'static str) {
        if !self.formats.contains(&name) {
            self.formats.push(name);
        }
    }

    pub fn media(&mut self, mime: &'static str) {
        if !self.skipped_media.contains(&mime) {
            self.skipped_media.push(mime);
        }
    }

    /// Notes that part of the body could not be inspected; the first reason wins
    /// because later ones are usually consequences of it.
    pub fn incomplete(&mut self, reason: IncompleteReason, detail: impl Into<String>) {
        if self.incomplete.is_none() {
            self.incomplete = Some(Incomplete {
                reason,
                detail: detail.into(),
            });
        }
    }

    /// Ends the whole scan: nothing more reaches the sink.
    pub fn halt(&mut self, reason: IncompleteReason, detail: impl Into<String>) {
        self.incomplete(reason, detail);
        self.stopped = true;
    }

    /// Accounts for `n` decompressed bytes; false once the body's budget is spent.
    pub fn expand(&mut self, n: usize) -> bool {
        self.expanded = self.expanded.saturating_add(n as u64);
        self.work(n);
        if self.expanded > self.limits.max_decompressed_bytes {
            self.halt(
                IncompleteReason::SizeLimit,
                format!(
                    "more than {} decompressed bytes",
                    self.limits.max_decompressed_bytes
                ),
            );
        }
        !self.stopped
    }

    /// What `compressed` bytes may expand to before the ratio limit counts
    /// (the limit, past the grace size every small input gets).
    pub fn ratio_cap(&self, compressed: u64) -> u64 {
        compressed
            .saturating_mul(self.limits.max_ratio)
            .max(self.limits.ratio_grace_bytes)
    }

    /// Decompressed bytes the body may still produce.
    pub fn expand_room(&self) -> u64 {
        self.limits
            .max_decompressed_bytes
            .saturating_sub(self.expanded)
    }

    /// Work done, for the time budget.
    pub fn work(&mut self, n: usize) {
        let before = self.work_total;
        self.work_total = before.saturating_add(n as u64);
        // A look at the clock each time the work passes another CLOCK_EVERY bytes.
        if self.work_total / CLOCK_EVERY != before / CLOCK_EVERY {
            self.check_clock();
        }
    }

    /// A call into the scan (`feed`, `finish`) begins: from here until
    /// `end_call` counts against the budget.
    pub fn begin_call(&mut self) {
        if self.work_total >= CLOCK_EVERY {
            self.since = Some(Instant::now());
        }
    }

    pub fn end_call(&mut self) {
        if let Some(since) = self.since.take() {
            self.spent = self.spent.saturating_add(since.elapsed());
        }
    }

    /// Ends the scan past its time budget. Bodies that did little work never
    /// get here from `work` and skip it at the end.
    pub fn check_clock(&mut self) {
        if self.stopped || self.work_total < CLOCK_EVERY {
            return;
        }
        let now = Instant::now();
        let since = *self.since.get_or_insert(now);
        let used = self
            .spent
            .saturating_add(now.saturating_duration_since(since));
        if used > self.budget {
            self.halt(
                IncompleteReason::TimeLimit,
                format!("scan took more than {} ms", self.limits.max_scan_millis),
            );
        }
    }

    /// Bytes a buffered format may still hold.
    pub fn hold_room(&self) -> u64 {
        self.limits.max_buffer_bytes.saturating_sub(self.buffered)
    }

    /// Reserves room to hold `n` more bytes of a buffered format; false when the
    /// body's hold budget would be exceeded.
    pub fn reserve(&mut self, n: usize) -> bool {
        let next = self.buffered.saturating_add(n as u64);
        if next > self.limits.max_buffer_bytes {
            return false;
        }
        self.buffered = next;
        true
    }

    pub fn release(&mut self, n: usize) {
        self.buffered = self.buffered.saturating_sub(n as u64);
    }

    /// Counts one more entry or part; false (and incomplete) past the limit.
    pub fn entry(&mut self) -> bool {
        self.entries = self.entries.saturating_add(1);
        if self.entries > self.limits.max_entries {
            self.incomplete(
                IncompleteReason::EntryLimit,
                format!("more than {} entries or parts", self.limits.max_entries),
            );
            return false;
        }
        true
    }
}
