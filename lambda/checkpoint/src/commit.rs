//! Stage 7, commit: each group merged against its checkpoint as it is now,
//! then written with a conditional put; on a conflict with another run,
//! read and merged again after a jittered backoff. A run never overwrites
//! another run's commit.
//!
//! Where nothing has been recorded yet (a new deployment's first run), each
//! group's first attempt presumes its checkpoint absent: it writes the new
//! events with `If-None-Match: *` without reading first, all groups at
//! once, which saves a round trip per group at S3's latency. A checkpoint
//! that does exist (written by another tool, or a racing run) fails that
//! write, and the group is read and merged like any other.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use eventlog_core::visit::{Valid, VisitEvent};
use eventlog_store::{Body, Condition, ObjectStore, StoreError, Version, join_key};
use futures::StreamExt;
use tokio::sync::Semaphore;

use crate::config::{RunSettings, Template};
use crate::error::GroupError;
use crate::group::Group;
use crate::merge::{MergeStats, merge_to_file};
use crate::progress::Progress;

/// The backoff between attempts that lost a conditional write to another
/// run: exponential from 50 ms, jittered per call (backon draws the jitter
/// from a randomly seeded generator, so racing runs spread out).
pub fn conflict_backoff(max_attempts: u32) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_millis(3200))
        .with_max_times(max_attempts.saturating_sub(1) as usize)
        .with_jitter()
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupStatus {
    /// A new checkpoint version was written.
    Committed,
    /// Every event was already there: nothing written.
    Unchanged,
    Failed,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupResult {
    pub study: String,
    pub datatype: String,
    pub checkpoint: String,
    pub status: GroupStatus,
    pub events: usize,
    #[serde(flatten)]
    pub stats: MergeStats,
    /// Commit attempts lost to another run's concurrent commit.
    pub conflicts: u32,
    pub size_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether a later run could get past `error` (a conflict, an outage),
    /// as opposed to a problem that recurs (a checkpoint that cannot be
    /// merged): the Lambda's error type says which.
    #[serde(skip)]
    pub retryable: bool,
}

/// Groups whose first attempt writes without reading, at once: a bound on
/// requests in flight, not on memory (their events are in memory already).
const FRESH_AT_ONCE: usize = 64;

/// Commit every group; at most `group_parallelism` read and merge a
/// checkpoint at once. `fresh`: nothing has been recorded under this sink
/// yet, so checkpoints are presumed absent. Results in group order.
#[tracing::instrument(name = "commit", skip_all, fields(groups = groups.len(), fresh, committed, failed, duration_ms))]
pub async fn commit_groups(
    sink: &impl ObjectStore,
    sink_prefix: &str,
    template: &Template,
    groups: BTreeMap<(String, String), Group>,
    settings: &RunSettings,
    fresh: bool,
    progress: &dyn Progress,
) -> Vec<GroupResult> {
    let _timed = crate::timed::Timed::start();
    progress.stage("merging", Some(groups.len() as u64));
    let first_commit = std::sync::Once::new();
    let parallelism = settings.group_parallelism.max(1);
    let readers = Semaphore::new(parallelism);
    let at_once = if fresh {
        parallelism.max(FRESH_AT_ONCE)
    } else {
        parallelism
    };
    let mut results: Vec<GroupResult> = futures::stream::iter(groups)
        .map(|((study, datatype), g)| {
            let key = join_key(sink_prefix, &template.render(&study, &datatype));
            let first_commit = &first_commit;
            let how = How {
                max_attempts: settings.max_commit_attempts,
                presume_absent: fresh,
                readers: &readers,
            };
            async move {
                let r = commit_group(sink, &key, &study, &datatype, g.events, how).await;
                progress.advance(1);
                if r.status == GroupStatus::Committed {
                    first_commit.call_once(|| crate::fault::point("group-committed"));
                }
                r
            }
        })
        .buffer_unordered(at_once)
        .collect()
        .await;
    results.sort_by(|a, b| (&a.study, &a.datatype).cmp(&(&b.study, &b.datatype)));
    let failed = results
        .iter()
        .filter(|r| r.status == GroupStatus::Failed)
        .count();
    let span = tracing::Span::current();
    span.record("committed", results.len() - failed);
    span.record("failed", failed);
    results
}

/// Why one attempt ended without a commit.
enum Attempt {
    /// Another run committed first: read, merge and try again.
    Conflict(StoreError),
    Failed(GroupError),
}

/// How one group is committed.
#[derive(Clone, Copy)]
pub struct How<'a> {
    pub max_attempts: u32,
    /// Try a write without reading first (`If-None-Match: *`); where a
    /// checkpoint exists after all, it is then read and merged as usual
    /// (up to `max_attempts` times).
    pub presume_absent: bool,
    /// Held while a checkpoint is read, merged and written.
    pub readers: &'a Semaphore,
}

/// Merge `events` into the checkpoint at `key` and commit it.
pub async fn commit_group(
    store: &impl ObjectStore,
    key: &str,
    study: &str,
    datatype: &str,
    events: Vec<Valid<VisitEvent>>,
    how: How<'_>,
) -> GroupResult {
    let location = store.locate(key);
    let mut result = GroupResult {
        study: study.to_string(),
        datatype: datatype.to_string(),
        checkpoint: location.clone(),
        status: GroupStatus::Failed,
        events: events.len(),
        stats: MergeStats::default(),
        conflicts: 0,
        size_bytes: None,
        error: None,
        retryable: false,
    };
    let events = Arc::new(events);
    let conflicts = AtomicU32::new(0);
    let blind = if how.presume_absent {
        match attempt(store, key, &location, events.clone(), None).await {
            // Not a race: the checkpoint predates what is recorded here.
            Err(Attempt::Conflict(_)) => {
                tracing::info!(checkpoint = %location, "a checkpoint exists though nothing is recorded here yet; reading and merging it");
                None
            }
            done => Some(done),
        }
    } else {
        None
    };
    let outcome = match blind {
        Some(done) => done,
        None => {
            (|| attempt(store, key, &location, events.clone(), Some(how.readers)))
                .retry(conflict_backoff(how.max_attempts))
                .when(|e| matches!(e, Attempt::Conflict(_)))
                .notify(|_, wait| {
                    let n = conflicts.fetch_add(1, Ordering::SeqCst) + 1;
                    tracing::info!(checkpoint = %location, conflicts = n, wait_ms = wait.as_millis() as u64, "checkpoint changed by another run; merging again");
                })
                .await
        }
    };
    result.conflicts = conflicts.load(Ordering::SeqCst);
    match outcome {
        Ok((status, stats, size)) => {
            result.status = status;
            result.stats = stats;
            result.size_bytes = size;
        }
        Err(Attempt::Conflict(e)) => {
            result.error = Some(GroupError::Write(e).to_string());
            result.retryable = true;
        }
        Err(Attempt::Failed(e)) => {
            result.error = Some(e.to_string());
            // Not worth another attempt in this run, but the next run has
            // its own time: a deadline passes.
            result.retryable = e.is_retryable() || e.is_deadline();
        }
    }
    result
}

/// A merge's own scratch folder, claimed so that a sweep by another run
/// leaves it alone while it lives; errors name the folder.
fn scratch(store: &impl ObjectStore) -> Result<(tempfile::TempDir, std::fs::File), GroupError> {
    let scratch_in = store.scratch_dir();
    let error = |path: &std::path::Path| {
        let path = path.display().to_string();
        move |source| GroupError::Scratch { path, source }
    };
    let dir = tempfile::Builder::new()
        .prefix(eventlog_store::leftovers::SCRATCH_PREFIX)
        .tempdir_in(&scratch_in)
        .map_err(error(&scratch_in))?;
    let claim = eventlog_store::leftovers::claim(dir.path()).map_err(error(dir.path()))?;
    Ok((dir, claim))
}

/// One read-merge-write attempt; with `read: None`, a write of the new
/// events alone that only succeeds where no checkpoint exists.
#[tracing::instrument(name = "merge", skip_all, fields(checkpoint = %location, events = events.len(), read = read.is_some(), duration_ms))]
async fn attempt(
    store: &impl ObjectStore,
    key: &str,
    location: &str,
    events: Arc<Vec<Valid<VisitEvent>>>,
    read: Option<&Semaphore>,
) -> Result<(GroupStatus, MergeStats, Option<u64>), Attempt> {
    let _timed = crate::timed::Timed::start();
    // A semaphore that is never closed: acquiring cannot fail.
    let _reading = match read {
        Some(readers) => readers.acquire().await.ok(),
        None => None,
    };
    let failed = |e: GroupError| Attempt::Failed(e);
    let deadline = store.deadline();
    let late = |what| {
        failed(GroupError::Deadline {
            location: location.to_string(),
            what,
        })
    };
    if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
        return Err(late("merged"));
    }
    let (scratch, _owner) = scratch(store).map_err(failed)?;
    let existing_path = scratch.path().join("existing.parquet");
    let out_path = scratch.path().join("merged.parquet");
    // Not "no checkpoint yet": a history that exists but cannot be read
    // makes this group wait for the next run.
    let version: Option<Version> = match read {
        Some(_) => store
            .get_to_file(key, &existing_path)
            .await
            .map_err(|e| failed(GroupError::Read(e)))?,
        None => None,
    };
    let stats = {
        let existing = version.as_ref().map(|_| existing_path.clone());
        let (out, loc) = (out_path.clone(), location.to_string());
        let merging = tokio::task::spawn_blocking(move || {
            merge_to_file(existing.as_deref(), &events, &out, &loc)
        });
        // A merge still running at the deadline is left to finish unseen;
        // nothing of it is written.
        eventlog_store::deadline::within(deadline, merging)
            .await
            .ok_or_else(|| late("written"))?
            // A panic while reading or merging (a damaged file the parquet
            // reader trips on) fails this group, untouched.
            .map_err(|e| {
                failed(GroupError::Panicked {
                    location: location.to_string(),
                    message: e.to_string(),
                })
            })?
            .map_err(|e| failed(GroupError::Merge(e)))?
    };
    if !stats.changed() {
        return Ok((GroupStatus::Unchanged, stats, None));
    }
    crate::fault::point("merged");
    let size = std::fs::metadata(&out_path).map(|m| m.len()).ok();
    match store
        .put(
            key,
            Body::File(out_path),
            Condition::expecting(version.as_ref()),
        )
        .await
    {
        Ok(_) => Ok((GroupStatus::Committed, stats, size)),
        Err(e) if e.is_precondition() => Err(Attempt::Conflict(e)),
        Err(e) => Err(failed(GroupError::Write(e))),
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::AtomicBool;

    use eventlog_core::visit::validate;
    use eventlog_store::local::LocalStore;
    use eventlog_store::{ListRequest, Object, ObjectMeta, Page};

    use super::*;

    /// A local store where another run commits the checkpoint just before
    /// this run's first write lands.
    struct Racing {
        inner: LocalStore,
        other: Vec<Valid<VisitEvent>>,
        meddled: AtomicBool,
    }

    impl ObjectStore for Racing {
        fn locate(&self, key: &str) -> String {
            self.inner.locate(key)
        }
        async fn list_page(&self, req: &ListRequest) -> Result<Page, StoreError> {
            self.inner.list_page(req).await
        }
        async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
            self.inner.head(key).await
        }
        async fn get_range(&self, key: &str, start: u64, len: u64) -> Result<Vec<u8>, StoreError> {
            self.inner.get_range(key, start, len).await
        }
        async fn get(&self, key: &str, limit: u64) -> Result<Option<Object>, StoreError> {
            self.inner.get(key, limit).await
        }
        async fn get_to_file(&self, key: &str, dest: &Path) -> Result<Option<Version>, StoreError> {
            self.inner.get_to_file(key, dest).await
        }
        async fn put(
            &self,
            key: &str,
            body: Body,
            condition: Condition,
        ) -> Result<Version, StoreError> {
            if !self.meddled.swap(true, Ordering::SeqCst) {
                let readers = Semaphore::new(1);
                let how = how(1, false, &readers);
                let r =
                    commit_group(&self.inner, key, "adrc", "form", self.other.clone(), how).await;
                assert_eq!(r.status, GroupStatus::Committed);
            }
            self.inner.put(key, body, condition).await
        }
        fn scratch_dir(&self) -> PathBuf {
            self.inner.scratch_dir()
        }
    }

    fn how(max_attempts: u32, presume_absent: bool, readers: &Semaphore) -> How<'_> {
        How {
            max_attempts,
            presume_absent,
            readers,
        }
    }

    /// Commit one event with `ptid` to adrc/form.
    fn commit_one(
        store: &impl ObjectStore,
        ptid: &str,
        max_attempts: u32,
        presume_absent: bool,
    ) -> GroupResult {
        let readers = Semaphore::new(1);
        crate::test_runtime().block_on(commit_group(
            store,
            KEY,
            "adrc",
            "form",
            vec![event(ptid)],
            how(max_attempts, presume_absent, &readers),
        ))
    }

    const KEY: &str = "adrc/form/events.parquet";

    fn event(ptid: &str) -> Valid<VisitEvent> {
        let text = format!(
            r#"{{"action":"submit","project_label":"p","center_label":"c","gear_name":"g","datatype":"form","module":"UDS","timestamp":"2024-01-15T10:00:00Z","visit_date":"2024-01-15","pipeline_adcid":42,"ptid":"{ptid}"}}"#
        );
        validate(text.as_bytes()).event.unwrap()
    }

    #[test]
    fn a_lost_race_is_merged_again_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let store = Racing {
            inner: LocalStore::new(dir.path()),
            other: vec![event("OTHER")],
            meddled: AtomicBool::new(false),
        };
        let r = commit_one(&store, "MINE", 4, false);
        assert_eq!(r.status, GroupStatus::Committed, "{r:?}");
        assert_eq!(r.conflicts, 1);
        assert_eq!(
            (r.stats.rows_before, r.stats.rows_after),
            (1, 2),
            "the other run's row is kept"
        );
    }

    #[test]
    fn an_unreadable_checkpoint_fails_the_group_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"PAR1 damaged").unwrap();
        let store = LocalStore::new(dir.path());
        // Presumed absent or not, a checkpoint that is there is read.
        for presume_absent in [false, true] {
            let r = commit_one(&store, "1", 4, presume_absent);
            assert_eq!(r.status, GroupStatus::Failed);
            assert!(r.error.unwrap().contains("events.parquet"));
            assert_eq!(std::fs::read(&path).unwrap(), b"PAR1 damaged");
        }
    }

    /// A checkpoint presumed absent that exists is not overwritten: the
    /// blind write fails, and the group is read and merged.
    #[test]
    fn a_checkpoint_presumed_absent_but_present_is_merged() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let first = commit_one(&store, "THEIRS", 1, true);
        assert_eq!((first.status, first.conflicts), (GroupStatus::Committed, 0));
        let r = commit_one(&store, "MINE", 4, true);
        assert_eq!(r.status, GroupStatus::Committed, "{r:?}");
        assert_eq!(r.conflicts, 0, "not a race with another run");
        assert_eq!((r.stats.rows_before, r.stats.rows_after), (1, 2));
        // The blind write is not one of the attempts a race may use up.
        let r = commit_one(&store, "LATE", 1, true);
        assert_eq!(r.status, GroupStatus::Committed, "{r:?}");
        assert_eq!((r.stats.rows_before, r.stats.rows_after), (2, 3));
    }
}
