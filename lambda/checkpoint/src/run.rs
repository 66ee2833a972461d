//! One checkpoint run, as a sequence of stage calls:
//! list → plan → fetch and check → filter → group → merge and commit the
//! groups → errors file → ledger → report.
//!
//! The order of commits makes crashes harmless: group checkpoints first,
//! the ledger last. A crash in between reads the same files again next run,
//! and the merge identity makes that a no-op.

use std::collections::HashSet;
use std::time::Instant;

use eventlog_store::{ObjectMeta, ObjectStore, join_key};

use crate::commit::{GroupResult, GroupStatus, commit_groups};
use crate::config::{RunSettings, Template};
use crate::error::RunError;
use crate::fault::point;
use crate::filter::{Checked, Stamp};
use crate::keys::KeyRef;
use crate::ledger::{Compaction, LedgerKeys, State};
use crate::ledger::{Entry, Ledger};
use crate::progress::Progress;
use crate::summary::BadFiles;
use crate::summary::{REPORT_LIMIT, RunSummary, SkippedName};
use crate::{fetch, group, keys, list, plan};

pub struct RunOptions {
    pub settings: RunSettings,
    pub run_id: String,
    /// Stop reading new files after this instant (Lambda time budget).
    pub deadline: Option<Instant>,
    pub input: RunInput,
}

/// A run id, unique per attempt and sortable: UTC time to the microsecond,
/// then `tag` (a Lambda request id, which a retry of the same invocation
/// shares) and random bits.
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

/// What a run processes.
#[derive(Debug, Clone, Default)]
pub enum RunInput {
    /// Everything under the source prefix the ledger has not seen (a sweep).
    #[default]
    Sweep,
    /// Exactly these keys (from notifications or a file of keys): no listing.
    Keys(Vec<KeyRef>),
}

/// Remove what dead runs left: staged files under the checkpoints, merge
/// scratch folders. Best effort: what cannot be removed is logged, and the
/// run goes on.
async fn sweep_leftovers(sink: &impl ObjectStore, prefix: &str) -> usize {
    use eventlog_store::leftovers::{sweep_scratch, sweep_staged};
    let (staging, scratch) = (sink.staging_root(prefix), sink.scratch_dir());
    let swept = tokio::task::spawn_blocking(move || {
        let mut swept = sweep_scratch(&scratch);
        if let Some(root) = staging {
            let staged = sweep_staged(&root);
            swept.removed += staged.removed;
            swept.problems.extend(staged.problems);
        }
        swept
    })
    .await
    .unwrap_or_default();
    for problem in &swept.problems {
        tracing::warn!(%problem, "could not sweep what a dead run left");
    }
    if swept.removed > 0 {
        tracing::info!(removed = swept.removed, "removed what dead runs left");
    }
    swept.removed
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
    let keys = LedgerKeys::new(&state);
    let (from, to) = (source.locate(source_prefix), sink.locate(sink_prefix));
    let mut summary = RunSummary::starting(&opts.run_id, from, to, sink.locate(&keys.root()));
    summary.leftovers_removed = sweep_leftovers(sink, sink_prefix).await;
    let (mut ledger, first) = load_ledger(sink, keys, source, source_prefix, &opts.input).await?;
    let exclude = [exclude, &[format!("{state}/")]].concat();
    let s = &opts.settings;
    let state_view = State {
        ledger: &ledger,
        store: sink,
    };
    let where_from = Origin {
        store: source,
        prefix: source_prefix,
        exclude: &exclude,
        first,
    };
    let mut checked = Checked::new(Stamp::now(&opts.run_id), Some(&sink.scratch_dir()));
    let (mut plan, lookup_failed, read_early) = plan_reading(
        where_from,
        &state_view,
        opts,
        &mut summary,
        progress,
        &mut checked,
    )
    .await?;
    point("listed");
    let skipped = record_plan(&mut summary, &plan, &opts.run_id);
    point("planned");
    let mut candidates = candidate_keys(&plan);
    candidates.extend(lookup_failed.iter().map(|(k, _)| k.clone()));
    let deferred = match read_early {
        Some(deferred) => deferred,
        None => {
            progress.stage("reading", Some(plan.to_fetch.len() as u64));
            let to_fetch = futures::stream::iter(std::mem::take(&mut plan.to_fetch));
            let take = &mut |r| checked.take(r);
            fetch::fetch_all(source, to_fetch, s, opts.deadline, progress, take).await
        }
    };
    summary.deferred += deferred.len();
    point("fetched");
    checked.updates.extend(skipped);
    let key_problem = |study: &str, datatype: &str| {
        sink.key_problem(&join_key(sink_prefix, &template.render(study, datatype)))
    };
    checked.close(lookup_failed, key_problem, |key| source.locate(key));
    summary.add_counts(&checked.counts);
    let target = Target {
        store: sink,
        prefix: sink_prefix,
        template: &template,
        state: &state,
    };
    let updates = commit_all(&target, checked, &mut ledger, opts, progress, &mut summary).await;
    summary.unrecorded = unrecorded(candidates, &updates, summary.ledger.committed);
    summary.deadline_reached = deadline_reached(&summary, opts, sink.deadline());
    summary.duration_ms = started.elapsed().as_millis() as u64;
    summary.compute_status();
    Ok(summary)
}

/// Whether the run's deadlines cut it short: files left unread after
/// reading stopped, or anything failed once requests were out of time.
fn deadline_reached(
    summary: &RunSummary,
    opts: &RunOptions,
    hard: Option<tokio::time::Instant>,
) -> bool {
    let now = Instant::now();
    let stopped_reading = opts.deadline.is_some_and(|d| now >= d) && summary.deferred > 0;
    let cut = hard.is_some_and(|d| tokio::time::Instant::now() >= d)
        && (summary
            .groups
            .iter()
            .any(|g| g.status == GroupStatus::Failed)
            || !summary.ledger.committed
            || summary.errors_file_error.is_some());
    stopped_reading || cut
}

/// Where a run writes.
struct Target<'a, C> {
    store: &'a C,
    prefix: &'a str,
    template: &'a Template,
    /// The ledger's and errors files' folder.
    state: &'a str,
}

/// Stages 5 to 8: group, commit the groups, write the errors file, record
/// the ledger. Returns the entries recorded.
async fn commit_all<C: ObjectStore>(
    target: &Target<'_, C>,
    mut checked: Checked,
    ledger: &mut Ledger,
    opts: &RunOptions,
    progress: &dyn Progress,
    summary: &mut RunSummary,
) -> Vec<Entry> {
    let (sink, s) = (target.store, &opts.settings);
    let groups = group::group(std::mem::take(&mut checked.events));
    summary.grouped(&groups);
    let fresh = ledger.is_new();
    let results = commit_groups(
        sink,
        target.prefix,
        target.template,
        groups,
        s,
        fresh,
        progress,
    )
    .await;
    point("groups-committed");
    let updates = recorded(summary, results, checked);
    let updates = write_errors(sink, target.state, summary, updates).await;
    point("errors-written");
    // Past the deadline, a compaction is left to the next run.
    let may_compact = opts.deadline.is_none_or(|d| Instant::now() < d);
    commit_ledger(sink, ledger, &updates, s, may_compact, summary).await;
    point("ledger-committed");
    updates
}

/// The files left for later runs (those read went to the filter).
type Read = Vec<ObjectMeta>;

/// Stages 1 and 2, and for a sweep without a cap stage 3 with them: each
/// page's files are read while the listing goes on, since at S3's latency
/// the listing is otherwise time spent reading nothing. (With a cap, a
/// later page may still push a key out.) Returns the plan, the named keys
/// whose lookup failed, and what was read already.
async fn plan_reading<S: ObjectStore, C: ObjectStore>(
    from: Origin<'_, S>,
    ledger: &State<'_, C>,
    opts: &RunOptions,
    summary: &mut RunSummary,
    progress: &dyn Progress,
    checked: &mut Checked,
) -> Result<(plan::Plan, Vec<(String, String)>, Option<Read>), RunError> {
    let s = &opts.settings;
    let source = from.store;
    let streaming = matches!(opts.input, RunInput::Sweep) && s.max_files.is_none();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let reading = async {
        if !streaming {
            return None;
        }
        let listed = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|planned| (planned, rx))
        });
        let take = &mut |r| checked.take(r);
        Some(fetch::fetch_all(source, listed, s, opts.deadline, progress, take).await)
    };
    let planning = plan_input(
        from,
        ledger,
        opts,
        summary,
        progress,
        streaming.then_some(tx),
    );
    let (planned, read) = futures::join!(planning, reading);
    let (plan, lookup_failed) = planned?;
    Ok((plan, lookup_failed, read))
}

/// The ledger, and a sweep's first listing page: the two do not depend on
/// each other, so they are read at once.
async fn load_ledger<S: ObjectStore, C: ObjectStore>(
    sink: &C,
    keys: LedgerKeys,
    source: &S,
    source_prefix: &str,
    input: &RunInput,
) -> Result<(Ledger, Option<eventlog_store::Page>), RunError> {
    let first = async {
        match input {
            RunInput::Sweep => list::first_page(source, source_prefix).await,
            RunInput::Keys(_) => None,
        }
    };
    let (ledger, first) = futures::join!(Ledger::load(sink, keys), first);
    Ok((ledger?, first))
}

/// Where a run's files come from.
struct Origin<'a, S> {
    store: &'a S,
    prefix: &'a str,
    exclude: &'a [String],
    /// A sweep's first listing page, read already.
    first: Option<eventlog_store::Page>,
}

/// Stages 1 and 2: list and plan (a sweep), or look the named keys up.
/// Also returns the named keys whose lookup failed.
async fn plan_input<S: ObjectStore, C: ObjectStore>(
    from: Origin<'_, S>,
    ledger: &State<'_, C>,
    opts: &RunOptions,
    summary: &mut RunSummary,
    progress: &dyn Progress,
    reader: Option<tokio::sync::mpsc::UnboundedSender<plan::Planned>>,
) -> Result<(plan::Plan, Vec<(String, String)>), RunError> {
    let s = &opts.settings;
    match &opts.input {
        RunInput::Sweep => {
            let src = list::Source {
                store: from.store,
                prefix: from.prefix,
                exclude: from.exclude,
                concurrency: s.list_concurrency,
                first_pages: s.list_first_pages,
                first: from.first,
            };
            let planner = match reader {
                Some(tx) => plan::Planner::streaming(tx),
                None => plan::Planner::new(s.max_files),
            };
            let (listing, plan) = list::list_and_plan(&src, ledger, planner, progress).await?;
            (summary.listed, summary.excluded) = (listing.listed, listing.excluded);
            (summary.list_ranges, summary.list_requests) = (listing.ranges, listing.requests);
            Ok((plan, Vec::new()))
        }
        RunInput::Keys(refs) => {
            let found =
                keys::lookup(from.store, from.prefix, from.exclude, refs, s, ledger).await?;
            summary.named = Some(found.counts);
            Ok((found.plan, found.failed))
        }
    }
}

/// Every key this run meant to record.
fn candidate_keys(plan: &plan::Plan) -> Vec<String> {
    let mut keys: Vec<String> = plan
        .to_fetch
        .iter()
        .map(|p| p.meta.key.clone())
        .chain(plan.streamed.iter().cloned())
        .chain(plan.skipped.iter().map(|(m, _)| m.key.clone()))
        .collect();
    keys.sort();
    keys
}

/// The candidates not recorded as done (all of them when the ledger
/// commit failed): the keys a caller should hand back for a retry.
fn unrecorded(candidates: Vec<String>, updates: &[Entry], committed: bool) -> Vec<String> {
    if !committed {
        return candidates;
    }
    let done: HashSet<&str> = updates.iter().map(|u| u.key.as_str()).collect();
    candidates
        .into_iter()
        .filter(|k| !done.contains(k.as_str()))
        .collect()
}

/// Counts of the plan, and the ledger entries of names that are not event files.
fn record_plan(summary: &mut RunSummary, plan: &plan::Plan, run_id: &str) -> Vec<Entry> {
    summary.already_processed = plan.already_processed;
    summary.changed_objects = plan.changed;
    summary.new_objects = plan.fetch_count() - plan.changed;
    summary.skipped_names = plan.skipped.len();
    summary.deferred = plan.deferred;
    let now = chrono::Utc::now().timestamp_micros();
    plan.skipped
        .iter()
        .map(|(meta, reason)| {
            summary.skipped.push(SkippedName {
                key: meta.key.clone(),
                reason: reason.clone(),
            });
            Entry {
                key: meta.key.clone(),
                etag: meta.version.0.clone(),
                size: meta.size,
                sha256: None,
                outcome: crate::ledger::Outcome::Skipped,
                group: None,
                detail: Some(reason.clone()),
                run_id: run_id.to_string(),
                processed_at_micros: now,
            }
        })
        .collect()
}

/// The groups' results into the summary, and the entries to record: every
/// file outside a group, and the files of the groups that committed (or
/// had nothing to change). A failed group's files wait for the next run.
fn recorded(
    summary: &mut RunSummary,
    results: Vec<GroupResult>,
    checked: Checked,
) -> (Vec<Entry>, BadFiles) {
    let mut updates = checked.updates;
    for g in &results {
        let name = format!("{}/{}", g.study, g.datatype);
        if g.status == GroupStatus::Failed {
            tracing::warn!(group = %name, error = g.error.as_deref().unwrap_or(""), "group not committed; its files stay unrecorded for the next run");
            continue;
        }
        summary.events_added += g.stats.added;
        summary.events_replaced += g.stats.replaced;
        summary.total_rows += g.stats.rows_after;
        updates.extend(
            checked
                .pending
                .iter()
                .filter(|(p, _)| *p == name)
                .map(|(_, e)| e.clone()),
        );
    }
    summary.groups = results;
    summary.bad_files = checked.bad_files.shown();
    summary.bad_files_total = checked.bad_files.len();
    (updates, checked.bad_files)
}

/// Write the errors file. If it cannot be written, none of the files it
/// would describe is recorded as done: the next run reads and reports them
/// again rather than lose their details.
async fn write_errors(
    sink: &impl ObjectStore,
    state: &str,
    summary: &mut RunSummary,
    (mut updates, bad_files): (Vec<Entry>, BadFiles),
) -> Vec<Entry> {
    if !bad_files.is_empty() {
        let key = join_key(state, &format!("errors/{}.jsonl", summary.run_id));
        let reported = |u: &Entry| bad_files.contains(&u.key);
        let unrecorded: Vec<bool> = updates.iter().map(reported).collect();
        match bad_files.write(sink, &key).await {
            Ok(location) => summary.errors_file = Some(location),
            Err(e) => {
                let mut keep = unrecorded.iter().map(|bad| !bad);
                updates.retain(|_| keep.next().unwrap_or(true));
                tracing::error!(error = %e, "could not write the errors file; its files stay unrecorded");
                summary.errors_file_error = Some(e.to_string());
            }
        }
    }
    // The errors file has every bad file; the report keeps the first ones.
    summary.skipped.truncate(REPORT_LIMIT);
    updates
}

/// Stage 8, ledger: record `updates` as the next segment, and compact the
/// log when enough segments have gathered since the last snapshot.
#[tracing::instrument(name = "ledger", skip_all, fields(recorded = updates.len(), segment, compacted, duration_ms))]
async fn commit_ledger(
    sink: &impl ObjectStore,
    ledger: &mut Ledger,
    updates: &[Entry],
    settings: &RunSettings,
    may_compact: bool,
    summary: &mut RunSummary,
) {
    let _timed = crate::timed::Timed::start();
    let report = &mut summary.ledger;
    report.recorded = updates.len();
    report.took_over = ledger.took_over;
    if !updates.is_empty() {
        match ledger
            .commit(sink, updates, settings.max_commit_attempts)
            .await
        {
            Ok((seq, conflicts)) => {
                point("segment-written");
                report.segment = Some(seq);
                report.conflicts = conflicts;
                tracing::Span::current().record("segment", seq);
            }
            Err(e) => {
                report.error = Some(e.to_string());
                report.io(&ledger.io);
                return;
            }
        }
    }
    report.committed = true;
    let policy = Compaction {
        segments: settings.compact_segments,
        ..Compaction::default()
    };
    if may_compact && ledger.compaction_due(policy) {
        // A failed compaction loses nothing: the segments stay the state.
        match ledger.compact(sink).await {
            Ok(seq) => {
                report.compacted_to = Some(seq);
                tracing::Span::current().record("compacted", seq);
            }
            Err(e) => {
                tracing::warn!(error = %e, "ledger compaction failed; the segments stay the state");
                report.compaction_error = Some(e.to_string());
            }
        }
    }
    report.snapshot = ledger.snapshot_seq;
    report.segments_after_snapshot = ledger.last_segment - ledger.snapshot_seq;
    report.io(&ledger.io);
}
