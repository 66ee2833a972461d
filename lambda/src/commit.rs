//! Committing one group: merge against the checkpoint as it is now, then a
//! conditional write; on a conflict with another run, start over from the
//! new checkpoint. A run never overwrites another run's commit.

use std::time::Duration;

use eventlog_core::visit::VisitEvent;

use crate::merge::{MergeStats, merge_to_file};
use crate::store::{Body, Condition, ObjectStore};

/// Jittered exponential backoff for the n-th conflict.
pub fn backoff(n: u32) -> Duration {
    let base = 50u64 << n.min(6);
    let jitter = (std::process::id() as u64 ^ (n as u64).wrapping_mul(0x9E37_79B9)) % base.max(1);
    Duration::from_millis(base + jitter)
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
}

/// Merge `events` into the checkpoint at `key` and commit it.
pub async fn commit_group(
    store: &impl ObjectStore,
    key: &str,
    study: &str,
    datatype: &str,
    events: Vec<VisitEvent>,
    max_attempts: u32,
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
    };
    let events = std::sync::Arc::new(events);
    loop {
        let scratch = match tempfile::Builder::new()
            .prefix("eventlog-merge-")
            .tempdir_in(store.scratch_dir())
        {
            Ok(d) => d,
            Err(e) => {
                result.error = Some(format!("scratch directory: {e}"));
                return result;
            }
        };
        let existing_path = scratch.path().join("existing.parquet");
        let out_path = scratch.path().join("merged.parquet");
        let version = match store.get_to_file(key, &existing_path).await {
            Ok(v) => v,
            Err(e) => {
                // Not "no checkpoint yet": the history exists but cannot be
                // read, so this group waits for the next run.
                result.error = Some(e.to_string());
                return result;
            }
        };
        let merged = {
            let events = events.clone();
            let existing = version.as_ref().map(|_| existing_path.clone());
            let out = out_path.clone();
            let loc = location.clone();
            tokio::task::spawn_blocking(move || {
                merge_to_file(existing.as_deref(), &events, &out, &loc)
            })
            .await
        };
        let stats = match merged {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                result.error = Some(e.to_string());
                return result;
            }
            Err(e) => {
                // A panic while reading or merging (a damaged file the
                // parquet reader trips on): this group waits, untouched.
                result.error = Some(format!("{location}: merging failed: {e}"));
                return result;
            }
        };
        result.stats = stats.clone();
        if !stats.changed() {
            result.status = GroupStatus::Unchanged;
            return result;
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
            Ok(_) => {
                result.status = GroupStatus::Committed;
                result.size_bytes = size;
                return result;
            }
            Err(e) if e.is_precondition() && result.conflicts + 1 < max_attempts => {
                result.conflicts += 1;
                tracing::info!(checkpoint = %location, conflicts = result.conflicts, "checkpoint changed by another run; merging again");
                tokio::time::sleep(backoff(result.conflicts)).await;
            }
            Err(e) => {
                result.error = Some(e.to_string());
                return result;
            }
        }
    }
}
