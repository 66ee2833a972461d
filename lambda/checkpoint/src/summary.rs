//! Stage 9, summary: the run summary (counts, per-group results, bad files)
//! and the errors file that keeps every problem's details.

use eventlog_core::Issue;
use eventlog_store::{Body, Condition, ObjectStore, StoreError};

use crate::commit::{GroupResult, GroupStatus};

/// Bad files and skipped names listed in the report (the counts are exact).
pub const REPORT_LIMIT: usize = 100;

/// Counts of what was read (the filter stage keeps them; the summary
/// shows them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub valid_events: usize,
    pub invalid: usize,
    pub too_large: usize,
    pub unreadable: usize,
    pub internal_errors: usize,
    pub filtered: usize,
    pub content_unchanged: usize,
    pub name_findings: usize,
}

/// How the run went, for exit codes and Lambda status codes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Everything read was committed; no bad files.
    #[default]
    Success,
    /// Committed what it could, but some files were bad, some groups
    /// failed, or some files were left for the next run.
    Partial,
    /// Nothing could be committed (every group or the ledger failed).
    Failure,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct IssueOut {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl From<&Issue> for IssueOut {
    fn from(i: &Issue) -> Self {
        IssueOut {
            field: i.field.clone(),
            code: i.code.as_str(),
            // Read by people: the plain sentence (the code is for machines).
            message: eventlog_core::plain::what(i.code.as_str(), &i.message),
        }
    }
}

/// A file that could not be turned into an event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BadFile {
    pub key: String,
    pub location: String,
    /// `invalid`, `too_large`, `unreadable`, `internal_error`, or
    /// `name_mismatch` (a valid event whose file name disagrees with it).
    pub problem: &'static str,
    pub errors: Vec<IssueOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub name_findings: Vec<IssueOut>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LedgerReport {
    /// The ledger's folder.
    pub location: String,
    /// Entries this run recorded, in its segment.
    pub recorded: usize,
    /// The segment it wrote (none when there was nothing to record).
    pub segment: Option<u64>,
    /// Segment numbers lost to concurrent runs before this one's was written.
    pub conflicts: u32,
    pub committed: bool,
    /// The snapshot the state now starts from, and the segments after it.
    pub snapshot: u64,
    pub segments_after_snapshot: u64,
    /// The snapshot this run wrote, when it compacted the log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compacted_to: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compaction_error: Option<String>,
    /// A single-file ledger of an earlier version was taken over.
    pub took_over: bool,
    /// State read and written by this run.
    pub bytes_read: u64,
    pub bytes_written: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl LedgerReport {
    pub fn io(&mut self, io: &crate::ledger::LedgerIo) {
        use std::sync::atomic::Ordering::Relaxed;
        self.bytes_read = io.bytes_read.load(Relaxed);
        self.bytes_written = io.bytes_written.load(Relaxed);
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub source: String,
    pub checkpoints: String,
    pub status: RunStatus,
    pub duration_ms: u64,
    /// Objects listed under the source prefix.
    pub listed: usize,
    /// Ranges the listing was divided into.
    pub list_ranges: usize,
    /// Listing requests (pages, and the delimiter listings that divided the keys).
    pub list_requests: usize,
    /// An event-driven run: what became of the keys it was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub named: Option<crate::keys::NamedCounts>,
    pub excluded: usize,
    pub already_processed: usize,
    pub new_objects: usize,
    pub changed_objects: usize,
    /// Changed listing version, same bytes as already processed.
    pub content_unchanged: usize,
    /// Not event files (first seen now), with their reasons in `skipped`.
    pub skipped_names: usize,
    pub invalid: usize,
    pub too_large: usize,
    pub unreadable: usize,
    /// Files whose check failed on our side (a caught panic); retried next run.
    pub internal_errors: usize,
    /// Valid events dropped because the project is a sandbox.
    pub filtered: usize,
    pub valid_events: usize,
    /// Versions of an identity that lost to a newer one in this run.
    pub superseded_in_run: usize,
    /// Files whose name disagrees with their content (reported, still processed).
    pub name_findings: usize,
    /// Left for the next run: over `max_files`, or the time budget ran out.
    pub deferred: usize,
    pub events_added: u64,
    pub events_replaced: u64,
    pub total_rows: u64,
    /// Latest event timestamp among events this run merged.
    pub last_event_timestamp: Option<String>,
    /// Staged files and scratch folders of dead runs, removed at the start.
    pub leftovers_removed: usize,
    /// The run's deadline cut it short: files were left unread, or groups
    /// uncommitted, for the next run (see `deferred`, `groups`).
    pub deadline_reached: bool,
    pub groups: Vec<GroupResult>,
    /// The first bad files, in key order (all of them are in the errors file).
    pub bad_files: Vec<BadFile>,
    /// How many bad files there were in all.
    pub bad_files_total: usize,
    pub skipped: Vec<SkippedName>,
    pub errors_file: Option<String>,
    /// Why the errors file could not be written (its files stay unrecorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors_file_error: Option<String>,
    pub ledger: LedgerReport,
    /// Keys this run meant to record and did not (failed, deferred, or all
    /// of them when the ledger commit failed): what a caller retries.
    #[serde(skip)]
    pub unrecorded: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SkippedName {
    pub key: String,
    pub reason: String,
}

impl RunSummary {
    /// The summary of a run starting now.
    pub fn starting(run_id: &str, source: String, checkpoints: String, ledger: String) -> Self {
        RunSummary {
            run_id: run_id.to_string(),
            source,
            checkpoints,
            ledger: LedgerReport {
                location: ledger,
                ..LedgerReport::default()
            },
            ..RunSummary::default()
        }
    }

    /// What grouping found: versions superseded within the run, and the
    /// latest event time about to be merged.
    pub fn grouped(
        &mut self,
        groups: &std::collections::BTreeMap<(String, String), crate::group::Group>,
    ) {
        self.superseded_in_run = groups.values().map(|g| g.superseded).sum();
        self.last_event_timestamp = groups
            .values()
            .flat_map(|g| g.events.iter().map(|e| e.timestamp))
            .max()
            .map(|t| t.to_rfc3339());
    }

    /// The counts of the filter stage.
    pub fn add_counts(&mut self, c: &Counts) {
        self.valid_events = c.valid_events;
        self.invalid = c.invalid;
        self.too_large = c.too_large;
        self.unreadable = c.unreadable;
        self.internal_errors = c.internal_errors;
        self.filtered = c.filtered;
        self.content_unchanged = c.content_unchanged;
        self.name_findings = c.name_findings;
    }

    pub fn compute_status(&mut self) {
        let failed = self
            .groups
            .iter()
            .filter(|g| g.status == GroupStatus::Failed)
            .count();
        let attempted = self.groups.len();
        self.status = if !self.ledger.committed && self.ledger.error.is_some()
            || (attempted > 0 && failed == attempted)
        {
            RunStatus::Failure
        } else if failed > 0
            || self.errors_file_error.is_some()
            || self.invalid + self.too_large + self.unreadable + self.internal_errors > 0
            || self.deferred > 0
            || self.deadline_reached
        {
            RunStatus::Partial
        } else {
            RunStatus::Success
        };
    }

    /// Human-readable report.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "eventlog checkpoint {} ({:?}, {} ms)",
            self.run_id, self.status, self.duration_ms
        );
        if let Some(why) = self.why() {
            let _ = writeln!(s, "  why          {why}");
        }
        let _ = writeln!(s, "  source       {}", self.source);
        let _ = writeln!(s, "  checkpoints  {}", self.checkpoints);
        let _ = writeln!(
            s,
            "  objects      {} listed, {} already processed, {} new, {} changed ({} with the same content), {}",
            self.listed,
            self.already_processed,
            self.new_objects,
            self.changed_objects,
            self.content_unchanged,
            plural(
                self.skipped_names,
                "file not read (not an event file name)",
                "files not read (not event file names)"
            )
        );
        self.write_skipped(&mut s);
        let _ = writeln!(
            s,
            "  files        {} valid, {} invalid, {} too large, {} unreadable, {} internal errors, {} sandbox (filtered), {} deferred",
            self.valid_events,
            self.invalid,
            self.too_large,
            self.unreadable,
            self.internal_errors,
            self.filtered,
            self.deferred
        );
        self.write_notes(&mut s);
        let _ = writeln!(
            s,
            "  events       {} added, {} replaced, {} superseded within this run",
            self.events_added, self.events_replaced, self.superseded_in_run
        );
        self.write_groups(&mut s);
        self.write_bad_files(&mut s);
        if let Some(f) = &self.errors_file {
            let _ = writeln!(s, "  errors file  {f}");
        }
        if let Some(e) = &self.errors_file_error {
            let _ = writeln!(
                s,
                "  errors file  NOT WRITTEN ({e}); those files will be read again"
            );
        }
        let l = &self.ledger;
        let _ = writeln!(
            s,
            "  ledger       {} ({} recorded this run{}; snapshot {} + {} segments; state read {} B, written {} B{}{})",
            l.location,
            l.recorded,
            l.segment
                .map(|n| format!(" in segment {n}"))
                .unwrap_or_default(),
            l.snapshot,
            l.segments_after_snapshot,
            l.bytes_read,
            l.bytes_written,
            l.compacted_to
                .map(|n| format!("; compacted into snapshot {n}"))
                .unwrap_or_default(),
            l.error
                .as_deref()
                .map(|e| format!("; NOT COMMITTED: {e}"))
                .unwrap_or_default()
        );
        s
    }

    /// Why the run did not fully succeed, in one line (`None` when it did).
    pub fn why(&self) -> Option<String> {
        if self.status == RunStatus::Success {
            return None;
        }
        let failed = self
            .groups
            .iter()
            .filter(|g| g.status == GroupStatus::Failed)
            .count();
        let mut parts = Vec::new();
        for (n, one, many) in [
            (self.invalid, "invalid file", "invalid files"),
            (
                self.too_large,
                "file too large to read",
                "files too large to read",
            ),
            (self.unreadable, "unreadable file", "unreadable files"),
            (
                self.internal_errors,
                "file the checker failed on",
                "files the checker failed on",
            ),
            (failed, "group not committed", "groups not committed"),
            (
                self.deferred,
                "file left for the next run",
                "files left for the next run",
            ),
        ] {
            if n > 0 {
                parts.push(plural(n, one, many));
            }
        }
        if self.errors_file_error.is_some() {
            parts.push(String::from("the errors file could not be written"));
        }
        if self.ledger.error.is_some() {
            parts.push(String::from("the ledger could not be written"));
        }
        if self.deadline_reached {
            parts.push(String::from("the deadline was reached"));
        }
        let status = format!("{:?}", self.status).to_lowercase();
        Some(if parts.is_empty() {
            status
        } else {
            format!("{status}: {}", parts.join(", "))
        })
    }

    /// The names not read, the first 20 with their reason, and how many more.
    fn write_skipped(&self, s: &mut String) {
        use std::fmt::Write;
        const SHOWN: usize = 20;
        for k in self.skipped.iter().take(SHOWN) {
            let _ = writeln!(s, "    not read   {}: {}", k.key, k.reason);
        }
        if self.skipped_names > SHOWN {
            let _ = writeln!(s, "    … and {} more not read", self.skipped_names - SHOWN);
        }
    }

    fn write_groups(&self, s: &mut String) {
        use std::fmt::Write;
        if !self.groups.is_empty() {
            let _ = writeln!(s, "  groups:");
            for g in &self.groups {
                let _ = writeln!(
                    s,
                    "    {:<10} {:<22} {:<9} {:>12} (+{} new, {} replaced, {} already there){}",
                    g.study,
                    g.datatype,
                    format!("{:?}", g.status).to_lowercase(),
                    plural(g.stats.rows_after as usize, "row", "rows"),
                    g.stats.added,
                    g.stats.replaced,
                    g.stats.unchanged,
                    g.error
                        .as_deref()
                        .map(|e| format!("  ERROR: {e}"))
                        .unwrap_or_default()
                );
            }
        }
    }

    /// The lines only some runs have: a deadline reached, names that
    /// disagree with their content.
    fn write_notes(&self, s: &mut String) {
        use std::fmt::Write;
        if self.deadline_reached {
            let _ = writeln!(
                s,
                "  deadline     reached: {} file(s) left unread and {} group(s) uncommitted, for the next run",
                self.deferred,
                self.groups
                    .iter()
                    .filter(|g| g.status == GroupStatus::Failed)
                    .count()
            );
        }
        if self.name_findings > 0 {
            let _ = writeln!(
                s,
                "  names        {} file(s) whose name disagrees with the content",
                self.name_findings
            );
        }
    }

    fn write_bad_files(&self, s: &mut String) {
        use std::fmt::Write;
        for b in self.bad_files.iter().take(50) {
            let _ = writeln!(s, "  {} {}", b.problem.to_uppercase(), b.location);
            for e in b.errors.iter().chain(&b.name_findings) {
                let _ = writeln!(s, "        {}: {} [{}]", e.field, e.message, e.code);
            }
        }
        let total = self.bad_files_total.max(self.bad_files.len());
        if total > 50 {
            let _ = writeln!(
                s,
                "  … {} more bad files in {}",
                total - 50,
                self.errors_file.as_deref().unwrap_or("the errors file")
            );
        }
    }
}

impl BadFile {
    /// Its line in the errors file.
    pub fn errors_line(&self, run_id: &str) -> String {
        let mut line = serde_json::json!({
            "run_id": run_id,
            "key": self.key,
            "location": self.location,
            "problem": self.problem,
            "errors": self.errors,
            "name_findings": self.name_findings,
        })
        .to_string();
        line.push('\n');
        line
    }
}

/// Orders bad files by key, for keeping the first ones in a heap.
struct ByKey(BadFile);

impl PartialEq for ByKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.key == other.0.key
    }
}
impl Eq for ByKey {}
impl PartialOrd for ByKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ByKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.key.cmp(&other.0.key)
    }
}

/// Every bad file of a run, streamed: each one's errors-file line goes to
/// a local spill file as it is found, and only the first `shown` (in key
/// order) stay in memory for the summary. So a run over a million broken
/// files holds their keys, not their reports.
pub struct BadFiles {
    run_id: String,
    limit: usize,
    shown: std::collections::BinaryHeap<ByKey>,
    keys: std::collections::HashSet<String>,
    spill: Spill,
}

enum Spill {
    /// No scratch folder given: the lines are kept in memory.
    Memory(String),
    File(std::io::BufWriter<tempfile::NamedTempFile>),
    /// Staging the errors file locally failed: it cannot be written, so
    /// its files stay unrecorded.
    Failed(String),
}

impl BadFiles {
    /// Spilled under `scratch` when given, else kept in memory.
    pub fn new(run_id: &str, scratch: Option<&std::path::Path>, limit: usize) -> Self {
        let spill = match scratch {
            None => Spill::Memory(String::new()),
            Some(dir) => match tempfile::Builder::new()
                .prefix(eventlog_store::leftovers::ERRORS_PREFIX)
                .suffix(".jsonl")
                .tempfile_in(dir)
                .and_then(|f| eventlog_store::leftovers::hold(f.as_file()).map(|()| f))
            {
                Ok(f) => Spill::File(std::io::BufWriter::new(f)),
                Err(e) => Spill::Failed(format!("{}: {e}", dir.display())),
            },
        };
        BadFiles {
            run_id: run_id.to_string(),
            limit,
            shown: Default::default(),
            keys: Default::default(),
            spill,
        }
    }

    pub fn push(&mut self, b: BadFile) {
        use std::io::Write;
        let line = b.errors_line(&self.run_id);
        match &mut self.spill {
            Spill::Memory(text) => text.push_str(&line),
            Spill::File(w) => {
                if let Err(e) = w.write_all(line.as_bytes()) {
                    self.spill = Spill::Failed(e.to_string());
                }
            }
            Spill::Failed(_) => {}
        }
        self.keys.insert(b.key.clone());
        self.shown.push(ByKey(b));
        if self.shown.len() > self.limit {
            self.shown.pop();
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.keys.contains(key)
    }

    /// The first ones, in key order.
    pub fn shown(&self) -> Vec<BadFile> {
        let mut v: Vec<BadFile> = self.shown.iter().map(|b| b.0.clone()).collect();
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    }

    /// Write the errors file at `key` (never replacing one).
    #[tracing::instrument(name = "errors_file", skip_all, fields(files = self.len(), duration_ms))]
    pub async fn write(self, sink: &impl ObjectStore, key: &str) -> Result<String, StoreError> {
        let _timed = crate::timed::Timed::start();
        // Kept until the put is done: dropping it deletes the file.
        let mut staged = None;
        let body = match self.spill {
            Spill::Memory(text) => Body::Bytes(text.into_bytes()),
            Spill::File(w) => {
                let file = w
                    .into_inner()
                    .map_err(|e| StoreError::io("the errors file staged locally", e.error()))?;
                file.as_file()
                    .sync_data()
                    .map_err(|e| StoreError::io(file.path().display(), e))?;
                let path = file.path().to_path_buf();
                staged = Some(file);
                Body::File(path)
            }
            Spill::Failed(why) => {
                return Err(StoreError::io(
                    "the errors file staged locally",
                    format!("could not be written: {why}"),
                ));
            }
        };
        sink.put(key, body, Condition::IfAbsent).await?;
        drop(staged);
        Ok(sink.locate(key))
    }
}

/// Write one JSON line per bad file to `key` (a new object: a run id is
/// never reused, so the write never replaces anything).
pub async fn write_errors_file(
    sink: &impl ObjectStore,
    key: &str,
    run_id: &str,
    bad_files: &[BadFile],
) -> Result<String, StoreError> {
    let mut all = BadFiles::new(run_id, None, 0);
    for b in bad_files {
        all.push(b.clone());
    }
    all.write(sink, key).await
}

/// `1 row`, `2 rows`: a count with its noun.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use eventlog_store::local::LocalStore;

    #[test]
    fn the_errors_file_has_a_line_per_bad_file_and_is_never_replaced() {
        let rt = crate::test_runtime();
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let bad = vec![BadFile {
            key: "prod/x.json".into(),
            location: "/x".into(),
            problem: "invalid",
            errors: vec![IssueOut {
                field: "ptid".into(),
                code: "missing",
                message: "required".into(),
            }],
            name_findings: Vec::new(),
        }];
        rt.block_on(write_errors_file(
            &store,
            "_eventlog/errors/r1.jsonl",
            "r1",
            &bad,
        ))
        .unwrap();
        let text = std::fs::read_to_string(dir.path().join("_eventlog/errors/r1.jsonl")).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["errors"][0]["field"], "ptid");
        assert_eq!(line["run_id"], "r1");
        let again = rt.block_on(write_errors_file(
            &store,
            "_eventlog/errors/r1.jsonl",
            "r1",
            &bad,
        ));
        assert!(again.unwrap_err().is_precondition());
    }
}
