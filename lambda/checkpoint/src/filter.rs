//! Stage 4, filter: what the files read this run amount to. Valid events
//! go on to grouping (sandbox projects dropped, counted); invalid, too
//! large and unreadable files, internal errors and names that disagree
//! with their content become reported problems; and each file gets the
//! ledger entry that records it (for events, only once their group commits).

use eventlog_core::visit::FileReport;

use crate::fetch::{FetchResult, Fetched, first_error};
use crate::group::Sourced;
use crate::ledger::{Entry, Ledger, Outcome};
use crate::plan::same_content;
use crate::report::{BadFile, IssueOut};

/// Who records entries, and when.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub run_id: String,
    pub now_micros: i64,
}

/// Counts of what was read.
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

/// The result of the filter stage.
#[derive(Debug, Default)]
pub struct Checked {
    /// Valid events outside sandbox projects, with their source objects.
    pub events: Vec<Sourced>,
    /// Their files' entries, by `study/datatype`: recorded once that group
    /// has committed.
    pub pending: Vec<(String, Entry)>,
    /// Entries recorded whatever the groups do.
    pub updates: Vec<Entry>,
    /// Problems for the errors file and the report.
    pub bad_files: Vec<BadFile>,
    pub counts: Counts,
}

/// Sort every fetched file into events, problems and ledger entries.
#[tracing::instrument(name = "filter", skip_all, fields(valid_events, invalid, filtered))]
pub fn filter(fetched: Vec<FetchResult>, ledger: &Ledger, stamp: &Stamp) -> Checked {
    let mut out = Checked::default();
    for r in fetched {
        match r.fetched {
            Fetched::Checked { sha256, report } => {
                out.checked(r.meta, r.location, sha256, *report, ledger, stamp)
            }
            Fetched::Unreadable { message } => {
                out.counts.unreadable += 1;
                out.bad_files.push(bad(
                    &r.meta.key,
                    r.location,
                    "unreadable",
                    "unreadable",
                    message,
                ));
            }
            Fetched::Internal { message } => {
                out.counts.internal_errors += 1;
                out.bad_files.push(bad(
                    &r.meta.key,
                    r.location,
                    "internal_error",
                    "internal_error",
                    message,
                ));
            }
            Fetched::TooLarge { message } => {
                out.counts.too_large += 1;
                let e = entry(
                    &r.meta,
                    None,
                    Outcome::Invalid,
                    None,
                    Some(message.clone()),
                    stamp,
                );
                out.updates.push(e);
                out.bad_files.push(bad(
                    &r.meta.key,
                    r.location,
                    "too_large",
                    "unreadable",
                    message,
                ));
            }
        }
    }
    let span = tracing::Span::current();
    span.record("valid_events", out.counts.valid_events);
    span.record("invalid", out.counts.invalid);
    span.record("filtered", out.counts.filtered);
    out
}

impl Checked {
    fn checked(
        &mut self,
        meta: eventlog_store::ObjectMeta,
        location: String,
        sha256: String,
        report: FileReport,
        ledger: &Ledger,
        stamp: &Stamp,
    ) {
        if let Some(prev) = same_content(ledger, &meta.key, &sha256) {
            // Same bytes as already processed: keep the outcome, record
            // the new listing version.
            self.counts.content_unchanged += 1;
            let mut e = prev.clone();
            e.etag = meta.version.0.clone();
            self.updates.push(e);
            return;
        }
        let findings: Vec<IssueOut> = report
            .name_findings
            .iter()
            .flatten()
            .map(IssueOut::from)
            .collect();
        if !findings.is_empty() {
            self.counts.name_findings += 1;
        }
        let Some(event) = report.event else {
            self.counts.invalid += 1;
            let detail = first_error(&report.errors);
            self.updates.push(entry(
                &meta,
                Some(sha256),
                Outcome::Invalid,
                None,
                detail,
                stamp,
            ));
            self.bad_files.push(BadFile {
                key: meta.key.clone(),
                location,
                problem: "invalid",
                errors: report.errors.iter().map(IssueOut::from).collect(),
                name_findings: findings,
            });
            return;
        };
        if !findings.is_empty() {
            // Valid, but the name disagrees: the details go to the errors
            // file like any other problem.
            self.bad_files.push(BadFile {
                key: meta.key.clone(),
                location,
                problem: "name_mismatch",
                errors: Vec::new(),
                name_findings: findings,
            });
        }
        if event.is_sandbox() {
            self.counts.filtered += 1;
            let why = Some(format!("sandbox project {}", event.project_label));
            self.updates.push(entry(
                &meta,
                Some(sha256),
                Outcome::Filtered,
                None,
                why,
                stamp,
            ));
            return;
        }
        self.counts.valid_events += 1;
        let group = format!("{}/{}", event.study, event.datatype.as_str());
        let e = entry(
            &meta,
            Some(sha256),
            Outcome::Merged,
            Some(group.clone()),
            None,
            stamp,
        );
        self.pending.push((group, e));
        self.events.push(Sourced {
            event,
            key: meta.key,
            modified_micros: meta.modified_micros,
        });
    }
}

fn entry(
    meta: &eventlog_store::ObjectMeta,
    sha256: Option<String>,
    outcome: Outcome,
    group: Option<String>,
    detail: Option<String>,
    stamp: &Stamp,
) -> Entry {
    Entry {
        key: meta.key.clone(),
        etag: meta.version.0.clone(),
        size: meta.size,
        sha256,
        outcome,
        group,
        detail,
        run_id: stamp.run_id.clone(),
        processed_at_micros: stamp.now_micros,
    }
}

fn bad(
    key: &str,
    location: String,
    problem: &'static str,
    code: &'static str,
    message: String,
) -> BadFile {
    BadFile {
        key: key.to_string(),
        location,
        problem,
        errors: vec![IssueOut {
            field: "__file__".into(),
            code,
            message,
        }],
        name_findings: Vec::new(),
    }
}
