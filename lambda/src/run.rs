//! One checkpoint run:
//! list → plan → fetch + validate → filter → group → merge → commit
//! groups → errors file → commit ledger → report.
//!
//! Commit order makes crashes harmless: group checkpoints first, the ledger
//! last. A crash in between re-reads the same files next run, and the merge
//! identity makes that a no-op.

use std::time::Instant;

use futures::StreamExt;

use crate::commit::{GroupStatus, commit_group};
use crate::config::{RunSettings, Template};
use crate::fault as crash;
use crate::fetch::{Fetched, fetch_all, first_error};
use crate::group::{Sourced, group};
use crate::ledger::{Entry, Ledger, LedgerError, Outcome};
use crate::plan::{plan, same_content};
use crate::progress::Progress;
use crate::store::{Body, Condition, ObjectStore, StoreError, join_key};
use crate::summary::{BadFile, IssueOut, LedgerReport, RunStatus, RunSummary, SkippedName};

/// Errors that stop a run before anything is committed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("listing the source failed: {0}")]
    List(StoreError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Bad files and skipped names listed in the report (the counts are exact).
pub const REPORT_LIMIT: usize = 100;

pub struct RunOptions {
    pub settings: RunSettings,
    pub run_id: String,
    /// Stop reading new files after this instant (Lambda time budget).
    pub deadline: Option<Instant>,
}

/// A run id, unique per attempt and sortable: UTC time to the microsecond,
/// then `tag` (a Lambda request id, which a retry of the same invocation
/// shares) or, without one, random bits.
pub fn new_run_id(tag: Option<&str>) -> String {
    let now = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
    let mut bits = [0u8; 4];
    // Without the OS's randomness the time alone still orders runs.
    let _ = getrandom::fill(&mut bits);
    match tag {
        Some(t) => format!("{now}-{t}-{}", hex::encode(bits)),
        None => format!("{now}-{}", hex::encode(bits)),
    }
}

/// Where the ledger and the errors files live for a sink prefix and template.
pub fn state_prefix(sink_prefix: &str, template: &Template) -> String {
    join_key(
        sink_prefix,
        &format!("{}_eventlog", template.static_prefix()),
    )
}

pub async fn run<S: ObjectStore, C: ObjectStore>(
    source: &S,
    source_prefix: &str,
    sink: &C,
    sink_prefix: &str,
    exclude: &[String],
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<RunSummary, RunError> {
    let started = Instant::now();
    let template = opts.settings.check()?;
    let state = state_prefix(sink_prefix, &template);
    let ledger_key = join_key(&state, "ledger.parquet");
    let mut summary = RunSummary {
        run_id: opts.run_id.clone(),
        source: source.locate(source_prefix),
        checkpoints: sink.locate(sink_prefix),
        status: RunStatus::Success,
        duration_ms: 0,
        listed: 0,
        excluded: 0,
        already_processed: 0,
        new_objects: 0,
        changed_objects: 0,
        content_unchanged: 0,
        skipped_names: 0,
        invalid: 0,
        too_large: 0,
        unreadable: 0,
        internal_errors: 0,
        filtered: 0,
        valid_events: 0,
        superseded_in_run: 0,
        name_findings: 0,
        deferred: 0,
        events_added: 0,
        events_replaced: 0,
        total_rows: 0,
        last_event_timestamp: None,
        groups: Vec::new(),
        bad_files: Vec::new(),
        skipped: Vec::new(),
        errors_file: None,
        errors_file_error: None,
        ledger: LedgerReport {
            location: sink.locate(&ledger_key),
            ..LedgerReport::default()
        },
    };

    let ledger = Ledger::load(sink, &ledger_key).await?;
    progress.stage("listing", None);
    let listing = source.list(source_prefix).await.map_err(RunError::List)?;
    summary.listed = listing.len();
    crash::point("listed");

    let mut exclude: Vec<String> = exclude.to_vec();
    exclude.push(format!("{state}/"));
    let plan = plan(listing, &ledger, &exclude);
    summary.excluded = plan.excluded;
    summary.already_processed = plan.already_processed;
    summary.changed_objects = plan.changed;
    summary.new_objects = plan.to_fetch.len() - plan.changed;
    summary.skipped_names = plan.skipped.len();
    crash::point("planned");

    let now_micros = chrono::Utc::now().timestamp_micros();
    let entry = |key: &str,
                 etag: &str,
                 size: u64,
                 sha256: Option<String>,
                 outcome: Outcome,
                 group: Option<String>,
                 detail: Option<String>| Entry {
        key: key.to_string(),
        etag: etag.to_string(),
        size,
        sha256,
        outcome,
        group,
        detail,
        run_id: opts.run_id.clone(),
        processed_at_micros: now_micros,
    };
    let mut updates: Vec<Entry> = Vec::new();
    for (meta, reason) in &plan.skipped {
        summary.skipped.push(SkippedName {
            key: meta.key.clone(),
            reason: reason.clone(),
        });
        updates.push(entry(
            &meta.key,
            &meta.version.0,
            meta.size,
            None,
            Outcome::Skipped,
            None,
            Some(reason.clone()),
        ));
    }

    progress.stage("reading", Some(plan.to_fetch.len() as u64));
    let (fetched, deferred) = fetch_all(
        source,
        plan.to_fetch,
        opts.settings.concurrency,
        opts.settings.max_object_bytes,
        opts.deadline,
        progress,
    )
    .await;
    summary.deferred = deferred.len();
    crash::point("fetched");

    let mut sourced = Vec::new();
    // Entries for files whose event goes into a group: recorded only once
    // that group has committed.
    let mut pending: Vec<(String, Entry)> = Vec::new();
    for r in fetched {
        let meta = r.meta;
        match r.fetched {
            Fetched::Unreadable { message } => {
                summary.unreadable += 1;
                summary.bad_files.push(BadFile {
                    key: meta.key.clone(),
                    location: r.location,
                    problem: "unreadable",
                    errors: vec![IssueOut {
                        field: "__file__".into(),
                        code: "unreadable",
                        message,
                    }],
                    name_findings: Vec::new(),
                });
            }
            Fetched::Internal { message } => {
                summary.internal_errors += 1;
                summary.bad_files.push(BadFile {
                    key: meta.key.clone(),
                    location: r.location,
                    problem: "internal_error",
                    errors: vec![IssueOut {
                        field: "__file__".into(),
                        code: "internal_error",
                        message,
                    }],
                    name_findings: Vec::new(),
                });
            }
            Fetched::TooLarge { message } => {
                summary.too_large += 1;
                updates.push(entry(
                    &meta.key,
                    &meta.version.0,
                    meta.size,
                    None,
                    Outcome::Invalid,
                    None,
                    Some(message.clone()),
                ));
                summary.bad_files.push(BadFile {
                    key: meta.key.clone(),
                    location: r.location,
                    problem: "too_large",
                    errors: vec![IssueOut {
                        field: "__file__".into(),
                        code: "unreadable",
                        message,
                    }],
                    name_findings: Vec::new(),
                });
            }
            Fetched::Checked { sha256, report } => {
                if let Some(prev) = same_content(&ledger, &meta.key, &sha256) {
                    // Same bytes as already processed: keep the outcome,
                    // record the new listing version.
                    summary.content_unchanged += 1;
                    let mut e = prev.clone();
                    e.etag = meta.version.0.clone();
                    updates.push(e);
                    continue;
                }
                let findings = report.name_findings.clone().unwrap_or_default();
                if !findings.is_empty() {
                    summary.name_findings += 1;
                    if report.event.is_some() {
                        // Valid, but the name disagrees: the details go
                        // to the errors file like any other problem.
                        summary.bad_files.push(BadFile {
                            key: meta.key.clone(),
                            location: r.location.clone(),
                            problem: "name_mismatch",
                            errors: Vec::new(),
                            name_findings: findings.iter().map(IssueOut::from).collect(),
                        });
                    }
                }
                match report.event {
                    None => {
                        summary.invalid += 1;
                        updates.push(entry(
                            &meta.key,
                            &meta.version.0,
                            meta.size,
                            Some(sha256),
                            Outcome::Invalid,
                            None,
                            first_error(&report.errors),
                        ));
                        summary.bad_files.push(BadFile {
                            key: meta.key.clone(),
                            location: r.location,
                            problem: "invalid",
                            errors: report.errors.iter().map(IssueOut::from).collect(),
                            name_findings: findings.iter().map(IssueOut::from).collect(),
                        });
                    }
                    Some(event) if event.is_sandbox() => {
                        summary.filtered += 1;
                        updates.push(entry(
                            &meta.key,
                            &meta.version.0,
                            meta.size,
                            Some(sha256),
                            Outcome::Filtered,
                            None,
                            Some(format!("sandbox project {}", event.project_label)),
                        ));
                    }
                    Some(event) => {
                        summary.valid_events += 1;
                        let group = format!("{}/{}", event.study, event.datatype.as_str());
                        pending.push((
                            group.clone(),
                            entry(
                                &meta.key,
                                &meta.version.0,
                                meta.size,
                                Some(sha256),
                                Outcome::Merged,
                                Some(group),
                                None,
                            ),
                        ));
                        sourced.push(Sourced {
                            event,
                            key: meta.key.clone(),
                            modified_micros: meta.modified_micros,
                        });
                    }
                }
            }
        }
    }

    let groups = group(sourced);
    progress.stage("merging", Some(groups.len() as u64));
    let mut last_ts: Option<eventlog_core::visit::Timestamp> = None;
    let jobs: Vec<_> = groups
        .into_iter()
        .map(|((study, datatype), g)| {
            summary.superseded_in_run += g.superseded;
            if let Some(ts) = g.events.iter().map(|e| e.timestamp).max() {
                last_ts = last_ts.max(Some(ts));
            }
            let key = join_key(sink_prefix, &template.render(&study, &datatype));
            (study, datatype, key, g.events)
        })
        .collect();
    let max_attempts = opts.settings.max_commit_attempts;
    let mut first_commit = true;
    let mut results = Vec::new();
    let mut stream = futures::stream::iter(jobs)
        .map(|(study, datatype, key, events)| async move {
            commit_group(sink, &key, &study, &datatype, events, max_attempts).await
        })
        .buffer_unordered(opts.settings.group_parallelism);
    while let Some(res) = stream.next().await {
        progress.advance(1);
        if res.status == GroupStatus::Committed && first_commit {
            first_commit = false;
            crash::point("group-committed");
        }
        results.push(res);
    }
    drop(stream);
    results.sort_by(|a, b| (&a.study, &a.datatype).cmp(&(&b.study, &b.datatype)));
    crash::point("groups-committed");

    for g in &results {
        let name = format!("{}/{}", g.study, g.datatype);
        let ok = g.status != GroupStatus::Failed;
        if ok {
            summary.events_added += g.stats.added;
            summary.events_replaced += g.stats.replaced;
            summary.total_rows += g.stats.rows_after;
            updates.extend(
                pending
                    .iter()
                    .filter(|(p, _)| *p == name)
                    .map(|(_, e)| e.clone()),
            );
        } else {
            tracing::warn!(group = %name, error = g.error.as_deref().unwrap_or(""), "group not committed; its files stay unrecorded for the next run");
        }
    }
    summary.last_event_timestamp = last_ts.map(|t| t.to_rfc3339());
    summary.groups = results;

    if !summary.bad_files.is_empty() {
        let key = join_key(&state, &format!("errors/{}.jsonl", opts.run_id));
        let mut body = String::new();
        for b in &summary.bad_files {
            let line = serde_json::json!({ "run_id": opts.run_id, "key": b.key, "location": b.location, "problem": b.problem, "errors": b.errors, "name_findings": b.name_findings });
            body.push_str(&line.to_string());
            body.push('\n');
        }
        match sink
            .put(&key, Body::Bytes(body.into_bytes()), Condition::IfAbsent)
            .await
        {
            Ok(_) => summary.errors_file = Some(sink.locate(&key)),
            Err(e) => {
                // Their details would be lost: none of these files is
                // recorded as done, so the next run reads and reports them again.
                let reported: std::collections::HashSet<&str> =
                    summary.bad_files.iter().map(|b| b.key.as_str()).collect();
                updates.retain(|u| !reported.contains(u.key.as_str()));
                pending.retain(|(_, u)| !reported.contains(u.key.as_str()));
                tracing::error!(error = %e, "could not write the errors file; its files stay unrecorded");
                summary.errors_file_error = Some(e.to_string());
            }
        }
    }
    crash::point("errors-written");
    // The errors file has every bad file; the report keeps the first ones.
    summary.bad_files.truncate(REPORT_LIMIT);
    summary.skipped.truncate(REPORT_LIMIT);

    summary.ledger.recorded = updates.len();
    if updates.is_empty() {
        summary.ledger.entries = ledger.entries.len();
        summary.ledger.committed = true;
    } else {
        match ledger
            .commit(sink, &ledger_key, &updates, max_attempts)
            .await
        {
            Ok((l, conflicts)) => {
                summary.ledger.entries = l.entries.len();
                summary.ledger.conflicts = conflicts;
                summary.ledger.committed = true;
            }
            Err(e) => summary.ledger.error = Some(e.to_string()),
        }
    }
    crash::point("ledger-committed");
    summary.duration_ms = started.elapsed().as_millis() as u64;
    summary.compute_status();
    Ok(summary)
}
