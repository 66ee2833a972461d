//! Stage 1 of an event-driven run: the keys named by S3 notifications (or
//! a file of keys), looked up one by one instead of listed. A run costs
//! what it was told about, whatever the size of the prefix.

use futures::StreamExt;

use eventlog_store::{ObjectMeta, ObjectStore};

use crate::config::RunSettings;
use crate::error::RunError;
use crate::ledger::State;
use crate::plan::{Plan, Planner};

/// A key to process, with its version when the caller knows it (an S3
/// notification's eTag); otherwise it is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef {
    pub key: String,
    pub version: Option<eventlog_store::Version>,
}

/// What became of the keys a run was given.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NamedCounts {
    /// Keys given, duplicates included.
    pub named: usize,
    /// The same key given more than once (processed once).
    pub duplicates: usize,
    /// Not under the source prefix, or under an excluded one: ignored.
    pub outside_prefix: usize,
    /// Gone by the time they were looked up: nothing to do.
    pub missing: usize,
    /// Already processed at the version the notification named (no lookup).
    pub known_versions: usize,
}

pub struct Named {
    pub plan: Plan,
    pub counts: NamedCounts,
    /// Keys whose lookup failed (after the store's retries): reported as
    /// unreadable and left for a retry, without stopping the others.
    pub failed: Vec<(String, String)>,
}

/// Look the keys up and plan them against the ledger.
#[tracing::instrument(name = "lookup", skip_all, fields(named = refs.len(), missing, duration_ms))]
pub async fn lookup<S: ObjectStore, C: ObjectStore>(
    source: &S,
    prefix: &str,
    exclude: &[String],
    refs: &[KeyRef],
    settings: &RunSettings,
    ledger: &State<'_, C>,
) -> Result<Named, RunError> {
    let _timed = crate::timed::Timed::start();
    let folder = if prefix.is_empty() || prefix.ends_with('/') {
        prefix.to_string()
    } else {
        format!("{prefix}/")
    };
    let mut counts = NamedCounts {
        named: refs.len(),
        ..NamedCounts::default()
    };
    let mut wanted: Vec<&KeyRef> = refs
        .iter()
        .filter(|r| {
            r.key.starts_with(&folder)
                && !exclude
                    .iter()
                    .any(|x| !x.is_empty() && r.key.starts_with(x.as_str()))
        })
        .collect();
    counts.outside_prefix = refs.len() - wanted.len();
    wanted.sort_by(|a, b| a.key.cmp(&b.key));
    let before = wanted.len();
    wanted.dedup_by(|a, b| a.key == b.key);
    counts.duplicates = before - wanted.len();
    // A notification's version the ledger already has needs no lookup:
    // redelivered messages cost nothing.
    let mut to_look: Vec<&KeyRef> = Vec::new();
    let mut cursor = ledger.cursor();
    for r in wanted {
        if r.version.is_none() {
            to_look.push(r);
            continue;
        }
        let seen = cursor.seek(&r.key).await?;
        match (&r.version, seen) {
            // Notifications carry the ETag without the quotes listings have.
            (Some(v), Some(e))
                if v.is_reliable() && e.etag.trim_matches('"') == v.0.trim_matches('"') =>
            {
                counts.known_versions += 1
            }
            _ => to_look.push(r),
        }
    }
    let found: Vec<(&KeyRef, Result<Option<ObjectMeta>, _>)> = futures::stream::iter(to_look)
        .map(|r| async move { (r, source.head(&r.key).await) })
        .buffered(settings.concurrency.max(1))
        .collect()
        .await;
    let (mut metas, mut failed) = (Vec::with_capacity(found.len()), Vec::new());
    for (r, f) in found {
        match f {
            Ok(Some(meta)) => metas.push(meta),
            Ok(None) => counts.missing += 1,
            Err(e) => failed.push((r.key.clone(), e.to_string())),
        }
    }
    let planner = Planner::new(settings.max_files);
    planner.page(metas, &mut ledger.cursor()).await?;
    let mut plan = planner.finish();
    plan.already_processed += counts.known_versions;
    tracing::Span::current().record("missing", counts.missing);
    Ok(Named {
        plan,
        counts,
        failed,
    })
}
