//! Stage 4, filter: what the files read this run amount to. Valid events
//! go on to grouping (sandbox projects dropped, counted); invalid, too
//! large and unreadable files, internal errors and names that disagree
//! with their content become reported problems; and each file gets the
//! ledger entry that records it (for events, only once their group commits).

use eventlog_core::visit::{FileReport, Valid, VisitEvent};

use crate::fetch::{FetchResult, Fetched, first_error};
use crate::group::Sourced;
use crate::ledger::{Entry, Outcome};
use crate::plan::same_content;
use crate::summary::{BadFile, BadFiles, Counts, IssueOut};

/// Who records entries, and when.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub run_id: String,
    pub now_micros: i64,
}

impl Stamp {
    /// Entries recorded by `run_id`, now.
    pub fn now(run_id: &str) -> Stamp {
        Stamp {
            run_id: run_id.to_string(),
            now_micros: chrono::Utc::now().timestamp_micros(),
        }
    }
}

/// The result of the filter stage, built as files are read.
pub struct Checked {
    stamp: Stamp,
    /// Valid events outside sandbox projects, with their source objects.
    pub events: Vec<Sourced>,
    /// Their files' entries, by `study/datatype`: recorded once that group
    /// has committed.
    pub pending: Vec<(String, Entry)>,
    /// Entries recorded whatever the groups do.
    pub updates: Vec<Entry>,
    /// Problems for the errors file and the report.
    pub bad_files: BadFiles,
    pub counts: Counts,
}

/// Sort every fetched file into events, problems and ledger entries
/// (problems kept in memory).
pub fn filter(fetched: Vec<FetchResult>, stamp: &Stamp) -> Checked {
    let mut out = Checked::new(stamp.clone(), None);
    for r in fetched {
        out.take(r);
    }
    out
}

impl Checked {
    /// Nothing yet; problems spill under `scratch` when given.
    pub fn new(stamp: Stamp, scratch: Option<&std::path::Path>) -> Self {
        Checked {
            bad_files: BadFiles::new(&stamp.run_id, scratch, crate::summary::REPORT_LIMIT),
            stamp,
            events: Vec::new(),
            pending: Vec::new(),
            updates: Vec::new(),
            counts: Counts::default(),
        }
    }

    /// One file read: its event, problem and ledger entry, sorted at once,
    /// so nothing else of its report is kept.
    pub fn take(&mut self, r: FetchResult) {
        let stamp = self.stamp.clone();
        let stamp = &stamp;
        match r.fetched {
            Fetched::Checked { sha256, report } => {
                self.checked(r.meta, r.prev, r.location, sha256, *report, stamp)
            }
            Fetched::Unreadable { cause } => {
                self.unreadable(&r.meta.key, r.location, cause.to_string())
            }
            Fetched::Internal { message } => {
                self.counts.internal_errors += 1;
                self.not_read(&r.meta.key, r.location, "internal_error", message);
            }
            Fetched::TooLarge { message } => {
                self.counts.too_large += 1;
                let e = entry(
                    &r.meta,
                    None,
                    Outcome::Invalid,
                    None,
                    Some(message.clone()),
                    stamp,
                );
                self.updates.push(e);
                self.bad_files.push(bad(
                    &r.meta.key,
                    r.location,
                    "too_large",
                    "unreadable",
                    message,
                ));
            }
        }
    }

    /// A file that could not be read this time: reported, retried next run.
    pub fn unreadable(&mut self, key: &str, location: String, message: String) {
        self.counts.unreadable += 1;
        self.not_read(key, location, "unreadable", message);
    }

    /// The end of the filter stage (each file was sorted as it was read,
    /// in `fetch`): the named keys that could not be looked up, and the
    /// groups whose checkpoint could never be written. Its span carries
    /// the stage's counts.
    #[tracing::instrument(
        name = "filter",
        skip_all,
        fields(valid_events, invalid, filtered, duration_ms)
    )]
    pub fn close(
        &mut self,
        lookup_failed: Vec<(String, String)>,
        key_problem: impl Fn(&str, &str) -> Option<String>,
        locate: impl Fn(&str) -> String,
    ) {
        let _timed = crate::timed::Timed::start();
        for (key, message) in lookup_failed {
            self.unreadable(&key, locate(&key), message);
        }
        self.unwritable(key_problem, &locate);
        let span = tracing::Span::current();
        span.record("valid_events", self.counts.valid_events);
        span.record("invalid", self.counts.invalid);
        span.record("filtered", self.counts.filtered);
    }

    /// Valid events whose group's checkpoint could never be written
    /// (`problem` says why, per study and datatype) become invalid files:
    /// reported with `key_unwritable` and recorded, so they are not tried
    /// again every run while the other groups commit.
    pub fn unwritable(
        &mut self,
        problem: impl Fn(&str, &str) -> Option<String>,
        locate: impl Fn(&str) -> String,
    ) {
        let mut verdicts: std::collections::HashMap<String, Option<String>> = Default::default();
        let mut why = |study: &str, datatype: &str| {
            let group = format!("{study}/{datatype}");
            verdicts
                .entry(group)
                .or_insert_with(|| problem(study, datatype))
                .clone()
        };
        let mut kept = Vec::with_capacity(self.events.len());
        let mut bad_keys = std::collections::HashMap::new();
        for s in std::mem::take(&mut self.events) {
            match why(&s.event.study, s.event.datatype.as_str()) {
                None => kept.push(s),
                Some(message) => {
                    bad_keys.insert(s.key, message);
                }
            }
        }
        self.events = kept;
        if bad_keys.is_empty() {
            return;
        }
        let mut pending = Vec::with_capacity(self.pending.len());
        for (group, mut e) in std::mem::take(&mut self.pending) {
            let Some(message) = bad_keys.remove(&e.key) else {
                pending.push((group, e));
                continue;
            };
            let message = format!("no checkpoint can be written for group {group}: {message}");
            self.counts.valid_events -= 1;
            self.counts.invalid += 1;
            e.outcome = Outcome::Invalid;
            e.group = None;
            e.detail = Some(message.clone());
            self.bad_files.push(BadFile {
                key: e.key.clone(),
                location: locate(&e.key),
                problem: "invalid",
                errors: vec![IssueOut {
                    field: "study".into(),
                    code: "key_unwritable",
                    message,
                }],
                name_findings: Vec::new(),
            });
            self.updates.push(e);
        }
        self.pending = pending;
    }

    /// A file without a verdict: reported, and left unrecorded so the next
    /// run tries it again.
    fn not_read(&mut self, key: &str, location: String, problem: &'static str, message: String) {
        self.bad_files
            .push(bad(key, location, problem, problem, message));
    }

    fn checked(
        &mut self,
        meta: eventlog_store::ObjectMeta,
        prev: Option<Entry>,
        location: String,
        sha256: String,
        report: FileReport,
        stamp: &Stamp,
    ) {
        if let Some(prev) = same_content(prev.as_ref(), &sha256) {
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
            let e = entry(&meta, Some(sha256), Outcome::Invalid, None, detail, stamp);
            self.updates.push(e);
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
        self.accept(meta, sha256, event, stamp);
    }

    /// A valid event: dropped if its project is a sandbox, otherwise on
    /// to grouping, its file recorded once the group commits.
    fn accept(
        &mut self,
        meta: eventlog_store::ObjectMeta,
        sha256: String,
        event: Valid<VisitEvent>,
        stamp: &Stamp,
    ) {
        if event.is_sandbox() {
            self.counts.filtered += 1;
            let why = Some(format!("sandbox project {}", event.project_label));
            let e = entry(&meta, Some(sha256), Outcome::Filtered, None, why, stamp);
            self.updates.push(e);
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

#[cfg(test)]
mod tests {
    use super::*;
    use eventlog_core::visit::check_file;
    use eventlog_store::{ObjectMeta, Version};

    fn fetched(key: &str, body: &str) -> FetchResult {
        FetchResult {
            meta: ObjectMeta {
                key: key.into(),
                size: body.len() as u64,
                version: Version("v1".into()),
                modified_micros: Some(1),
            },
            prev: None,
            location: format!("/src/{key}"),
            fetched: Fetched::Checked {
                sha256: eventlog_store::sha256_hex(body.as_bytes()),
                report: Box::new(check_file(Some(key), body.as_bytes())),
            },
        }
    }

    const EVENT: &str = r#"{"action":"submit","project_label":"PROJECT","center_label":"c","gear_name":"g","datatype":"form","module":"UDS","timestamp":"2024-01-15T10:00:00Z","visit_date":"2024-01-15","pipeline_adcid":42,"ptid":"1"}"#;

    #[test]
    fn sorts_files_into_events_problems_and_entries() {
        let stamp = Stamp {
            run_id: "r".into(),
            now_micros: 7,
        };
        let good = EVENT.replace("PROJECT", "ingest-form");
        let sandbox = EVENT.replace("PROJECT", "sandbox-form");
        let c = filter(
            vec![
                fetched(
                    "prod/log-submit-20240115-100000-42-ingest-form-1-2024-01-15.json",
                    &good,
                ),
                fetched(
                    "prod/log-submit-20990101-000000-42-ingest-form-1-2024-01-15.json",
                    &good,
                ),
                fetched(
                    "prod/log-submit-20240115-100000-42-sandbox-form-1-2024-01-15.json",
                    &sandbox,
                ),
                fetched("prod/log-bad.json", "{"),
            ],
            &stamp,
        );
        assert_eq!(
            (
                c.counts.valid_events,
                c.counts.filtered,
                c.counts.invalid,
                c.counts.name_findings
            ),
            (2, 1, 1, 2)
        );
        assert_eq!(c.events.len(), 2);
        assert_eq!(c.pending.len(), 2, "recorded once the group commits");
        assert!(
            c.pending
                .iter()
                .all(|(g, e)| g == "adrc/form" && e.outcome == Outcome::Merged)
        );
        let outcomes: Vec<Outcome> = c.updates.iter().map(|e| e.outcome).collect();
        assert_eq!(outcomes, [Outcome::Filtered, Outcome::Invalid]);
        let shown = c.bad_files.shown();
        let problems: Vec<&str> = shown.iter().map(|b| b.problem).collect();
        // In key order: `log-bad.json` before `log-submit-2099…`.
        assert_eq!(problems, ["invalid", "name_mismatch"]);
    }

    #[test]
    fn the_same_bytes_under_a_new_version_keep_their_outcome() {
        let body = EVENT.replace("PROJECT", "ingest-form");
        let key = "prod/log-submit-20240115-100000-42-ingest-form-1-2024-01-15.json";
        let mut file = fetched(key, &body);
        file.prev = Some(Entry {
            key: key.into(),
            etag: "v0".into(),
            size: 1,
            sha256: Some(eventlog_store::sha256_hex(body.as_bytes())),
            outcome: Outcome::Merged,
            group: Some("adrc/form".into()),
            detail: None,
            run_id: "old".into(),
            processed_at_micros: 1,
        });
        let stamp = Stamp {
            run_id: "r".into(),
            now_micros: 7,
        };
        let c = filter(vec![file], &stamp);
        assert_eq!(c.counts.content_unchanged, 1);
        assert!(c.events.is_empty());
        assert_eq!(c.updates[0].etag, "v1");
        assert_eq!(c.updates[0].run_id, "old");
    }
}
