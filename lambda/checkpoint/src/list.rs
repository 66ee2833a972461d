//! Stage 1, list (with stage 2, plan, page by page): every object under
//! the source prefix, minus the ones under excluded prefixes (the state and
//! checkpoint area, when they overlap), planned against the ledger as the
//! pages arrive so that a run holds pages, not the whole listing.
//!
//! On S3 a sweep does not walk one paginator: it first finds where the key
//! space divides (delimiter listings, `/` at the top, then `-`, which splits
//! `log-{action}-{date}-…` names by action and day), then lists contiguous
//! runs of those divisions concurrently, each with its own ledger cursor.
//! A local directory is walked in one pass.

use futures::StreamExt;

use eventlog_store::{ListRequest, ObjectMeta, ObjectStore};

use crate::error::RunError;
use crate::ledger::State;
use crate::plan::{Plan, Planner};
use crate::progress::Progress;

/// How many listings a sweep aims to divide into.
const RANGES: usize = 64;
/// How deep discovery looks for divisions.
const DEPTH: usize = 4;
/// Pages of plain objects after which a discovery listing stops: that part
/// of the key space does not divide, and is listed as one range.
const LOOSE_PAGES: usize = 4;

/// Counts of what was listed.
#[derive(Debug, Default)]
pub struct Listing {
    /// How many were listed in all.
    pub listed: usize,
    /// How many were under an excluded prefix.
    pub excluded: usize,
    /// The listings run (one per range), and the discovery listings before them.
    pub ranges: usize,
    pub discovery_requests: usize,
}

/// Where to list.
pub struct Source<'a, S> {
    pub store: &'a S,
    pub prefix: &'a str,
    pub exclude: &'a [String],
    /// Listings at once (S3 only).
    pub concurrency: usize,
}

/// List the source and plan every page against the ledger.
#[tracing::instrument(
    name = "list_and_plan",
    skip_all,
    fields(
        listed,
        excluded,
        ranges,
        to_fetch,
        changed,
        skipped,
        already_processed,
        duration_ms
    )
)]
pub async fn list_and_plan<S: ObjectStore, C: ObjectStore>(
    src: &Source<'_, S>,
    ledger: &State<'_, C>,
    cap: Option<usize>,
    progress: &dyn Progress,
) -> Result<(Listing, Plan), RunError> {
    let _timed = crate::timed::Timed::start();
    progress.stage("listing", None);
    let root = folder(src.prefix);
    // One listing at a time: one paginator, nothing to divide.
    let (leaves, loose, requests) = if src.store.lists_in_parallel() && src.concurrency > 1 {
        discover(src.store, &root).await.map_err(RunError::List)?
    } else {
        (vec![root], Vec::new(), 0)
    };
    let planner = Planner::new(cap);
    let counts = Counts::default();
    let chunks = chunk(leaves, RANGES);
    let ranges = chunks.len();
    let listed: Vec<Result<(), RunError>> = futures::stream::iter(chunks)
        .map(|chunk| list_range(src, chunk, ledger, &planner, &counts))
        .buffer_unordered(src.concurrency.max(1))
        .collect()
        .await;
    listed.into_iter().collect::<Result<Vec<()>, _>>()?;
    // Objects found while discovering are in order, and planned like a page.
    let mut loose = loose;
    loose.sort_by(|a, b| a.key.cmp(&b.key));
    let loose = counts.admit(loose, src.exclude);
    planner.page(loose, &mut ledger.cursor()).await?;
    let listing = Listing {
        listed: counts.listed.into_inner(),
        excluded: counts.excluded.into_inner(),
        ranges,
        discovery_requests: requests,
    };
    let span = tracing::Span::current();
    span.record("listed", listing.listed);
    span.record("excluded", listing.excluded);
    span.record("ranges", listing.ranges);
    Ok((listing, planner.finish()))
}

#[derive(Default)]
struct Counts {
    listed: std::sync::atomic::AtomicUsize,
    excluded: std::sync::atomic::AtomicUsize,
}

impl Counts {
    /// Count a page and drop its excluded keys.
    fn admit(&self, objects: Vec<ObjectMeta>, exclude: &[String]) -> Vec<ObjectMeta> {
        use std::sync::atomic::Ordering::Relaxed;
        let n = objects.len();
        self.listed.fetch_add(n, Relaxed);
        let kept: Vec<ObjectMeta> = objects
            .into_iter()
            .filter(|m| !is_excluded(&m.key, exclude))
            .collect();
        self.excluded.fetch_add(n - kept.len(), Relaxed);
        kept
    }
}

/// List a run of divisions in order, planning each page with one cursor.
async fn list_range<S: ObjectStore, C: ObjectStore>(
    src: &Source<'_, S>,
    prefixes: Vec<String>,
    ledger: &State<'_, C>,
    planner: &Planner,
    counts: &Counts,
) -> Result<(), RunError> {
    let mut cursor = ledger.cursor();
    for prefix in prefixes {
        let mut req = ListRequest {
            prefix,
            ..ListRequest::default()
        };
        loop {
            let page = src.store.list_page(&req).await.map_err(RunError::List)?;
            let kept = counts.admit(page.objects, src.exclude);
            planner.page(kept, &mut cursor).await?;
            match page.next {
                Some(t) => req.token = Some(t),
                None => break,
            }
        }
    }
    Ok(())
}

/// The source prefix as S3 folder text (`prod` lists `prod/…`, not `production/…`).
fn folder(prefix: &str) -> String {
    if prefix.is_empty() || prefix.ends_with('/') {
        prefix.to_string()
    } else {
        format!("{prefix}/")
    }
}

/// Divide the key space under `root`: the prefixes to list (in key order)
/// and the objects the discovery listings found on the way.
async fn discover<S: ObjectStore>(
    store: &S,
    root: &str,
) -> Result<(Vec<String>, Vec<ObjectMeta>, usize), eventlog_store::StoreError> {
    let mut leaves: Vec<String> = Vec::new();
    let mut frontier = vec![root.to_string()];
    let mut loose = Vec::new();
    let mut requests = 0;
    for depth in 0..DEPTH {
        if frontier.is_empty() || leaves.len() + frontier.len() >= RANGES {
            break;
        }
        let delimiter = if depth == 0 { '/' } else { '-' };
        let found: Vec<Result<Divided, _>> = futures::stream::iter(frontier)
            .map(|prefix| divide(store, prefix, delimiter))
            .buffered(8)
            .collect()
            .await;
        let mut next = Vec::new();
        for d in found {
            let d = d?;
            requests += d.requests;
            match d.parts {
                Some(parts) => {
                    loose.extend(d.loose);
                    next.extend(parts);
                }
                None => leaves.push(d.prefix),
            }
        }
        frontier = next;
    }
    leaves.extend(frontier);
    leaves.sort();
    Ok((leaves, loose, requests))
}

struct Divided {
    prefix: String,
    /// The divisions, or `None` when this prefix is listed whole.
    parts: Option<Vec<String>>,
    loose: Vec<ObjectMeta>,
    requests: usize,
}

/// One delimiter listing of `prefix`.
async fn divide<S: ObjectStore>(
    store: &S,
    prefix: String,
    delimiter: char,
) -> Result<Divided, eventlog_store::StoreError> {
    let mut req = ListRequest {
        prefix: prefix.clone(),
        delimiter: Some(delimiter),
        ..ListRequest::default()
    };
    let (mut parts, mut loose, mut requests, mut loose_pages) = (Vec::new(), Vec::new(), 0, 0);
    loop {
        let page = store.list_page(&req).await?;
        requests += 1;
        loose_pages += usize::from(!page.objects.is_empty());
        parts.extend(page.prefixes);
        loose.extend(page.objects);
        if loose_pages > LOOSE_PAGES || (parts.is_empty() && page.next.is_none()) {
            // Mostly plain objects, or nothing to divide: list it whole.
            return Ok(Divided {
                prefix,
                parts: None,
                loose: Vec::new(),
                requests,
            });
        }
        match page.next {
            Some(t) => req.token = Some(t),
            None => break,
        }
    }
    Ok(Divided {
        prefix,
        parts: Some(parts),
        loose,
        requests,
    })
}

/// At most `n` contiguous runs of `leaves`, as even as can be.
fn chunk(leaves: Vec<String>, n: usize) -> Vec<Vec<String>> {
    let per = leaves.len().div_ceil(n.max(1)).max(1);
    let mut out: Vec<Vec<String>> = Vec::new();
    for leaf in leaves {
        match out.last_mut() {
            Some(c) if c.len() < per => c.push(leaf),
            _ => out.push(vec![leaf]),
        }
    }
    out
}

fn is_excluded(key: &str, exclude: &[String]) -> bool {
    exclude
        .iter()
        .any(|x| !x.is_empty() && key.starts_with(x.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Ledger, LedgerKeys};
    use crate::progress::Silent;
    use eventlog_store::local::LocalStore;

    #[test]
    fn lists_all_but_excluded_prefixes() {
        let rt = crate::test_runtime();
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "prod/log-submit-20240115-100000-42-p-1-2024-01-15.json",
            "prod/b.json",
            "prod/checkpoints/x.parquet",
        ] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"{}").unwrap();
        }
        let store = LocalStore::new(dir.path());
        rt.block_on(async {
            let ledger = Ledger::load(&store, LedgerKeys::new("_eventlog"))
                .await
                .unwrap();
            let src = Source {
                store: &store,
                prefix: "",
                exclude: &["prod/checkpoints/".into()],
                concurrency: 4,
            };
            let state = State {
                ledger: &ledger,
                store: &store,
            };
            let (l, plan) = list_and_plan(&src, &state, None, &Silent).await.unwrap();
            assert_eq!((l.listed, l.excluded), (3, 1));
            assert_eq!((plan.to_fetch.len(), plan.skipped.len()), (1, 1));
        });
    }

    #[test]
    fn chunks_are_contiguous_and_cover_everything() {
        let leaves: Vec<String> = (0..10).map(|i| format!("p/{i}-")).collect();
        let chunks = chunk(leaves.clone(), 4);
        assert_eq!(chunks.len(), 4);
        assert_eq!(chunks.concat(), leaves);
        assert_eq!(chunk(vec!["a/".into()], 64), vec![vec!["a/".to_string()]]);
    }
}
