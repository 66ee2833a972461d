//! Stage 1, list (with stage 2, plan, page by page): every object under
//! the source prefix, minus the ones under excluded prefixes (the state and
//! checkpoint area, when they overlap), planned against the ledger as the
//! pages arrive so that a run holds pages, not the whole listing.
//!
//! On S3 a sweep does not walk one paginator: it first finds where the key
//! space divides (delimiter listings, `/` at the top, then `-`, which splits
//! `log-{action}-{date}-…` names by action and day), picks boundaries among
//! those divisions, and lists the key intervals between them concurrently
//! (each a paginator that starts after its lower bound and stops at the
//! next one), each with its own ledger cursor. The intervals cover the key
//! space exactly once, so requests stay about one per page of keys. A local
//! directory is walked in one pass.

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
    /// The listings run (one per range), and the requests they and the
    /// discovery before them made.
    pub ranges: usize,
    pub requests: usize,
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
    let (bounds, requests) = if src.store.lists_in_parallel() && src.concurrency > 1 {
        let (leaves, requests) = discover(src.store, &root).await.map_err(RunError::List)?;
        (boundaries(leaves, RANGES), requests)
    } else {
        (Vec::new(), 0)
    };
    let planner = Planner::new(cap);
    let counts = Counts::default();
    let intervals = intervals(&root, bounds);
    let ranges = intervals.len();
    let listed: Vec<Result<(), RunError>> = futures::stream::iter(intervals)
        .map(|range| list_range(src, range, ledger, &planner, &counts))
        .buffer_unordered(src.concurrency.max(1))
        .collect()
        .await;
    listed.into_iter().collect::<Result<Vec<()>, _>>()?;
    let listing = Listing {
        listed: counts.listed.into_inner(),
        excluded: counts.excluded.into_inner(),
        ranges,
        requests: requests + counts.pages.into_inner(),
    };
    let span = tracing::Span::current();
    span.record("listed", listing.listed);
    span.record("excluded", listing.excluded);
    span.record("ranges", listing.ranges);
    Ok((listing, planner.finish()))
}

#[derive(Default)]
struct Counts {
    pages: std::sync::atomic::AtomicUsize,
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

/// Keys of `prefix` from `from` (inclusive) to `to` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Interval {
    prefix: String,
    from: Option<String>,
    to: Option<String>,
}

/// The intervals between consecutive boundaries, covering `root` exactly.
fn intervals(root: &str, bounds: Vec<String>) -> Vec<Interval> {
    let mut lows: Vec<Option<String>> = vec![None];
    lows.extend(bounds.into_iter().map(Some));
    let highs: Vec<Option<String>> = lows.iter().skip(1).cloned().chain([None]).collect();
    lows.into_iter()
        .zip(highs)
        .map(|(from, to)| Interval {
            prefix: root.to_string(),
            from,
            to,
        })
        .collect()
}

/// List one interval in order, planning each page with one cursor.
async fn list_range<S: ObjectStore, C: ObjectStore>(
    src: &Source<'_, S>,
    range: Interval,
    ledger: &State<'_, C>,
    planner: &Planner,
    counts: &Counts,
) -> Result<(), RunError> {
    let mut cursor = ledger.cursor();
    // Start just before the lower bound: a bound is a key prefix, and a key
    // may equal it; the few keys between are dropped below.
    let start_after = range.from.as_deref().map(|f| {
        let mut s = f.to_string();
        s.pop();
        s
    });
    let mut req = ListRequest {
        prefix: range.prefix.clone(),
        start_after,
        ..ListRequest::default()
    };
    loop {
        let page = src.store.list_page(&req).await.map_err(RunError::List)?;
        counts
            .pages
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let beyond = |k: &str| range.to.as_deref().is_some_and(|t| k >= t);
        let done = page.next.is_none() || page.objects.last().is_some_and(|m| beyond(&m.key));
        let inside: Vec<ObjectMeta> = page
            .objects
            .into_iter()
            .filter(|m| {
                range.from.as_deref().is_none_or(|f| m.key.as_str() >= f) && !beyond(&m.key)
            })
            .collect();
        let kept = counts.admit(inside, src.exclude);
        planner.page(kept, &mut cursor).await?;
        match page.next {
            Some(t) if !done => req.token = Some(t),
            _ => return Ok(()),
        }
    }
}

/// The source prefix as S3 folder text (`prod` lists `prod/…`, not `production/…`).
fn folder(prefix: &str) -> String {
    if prefix.is_empty() || prefix.ends_with('/') {
        prefix.to_string()
    } else {
        format!("{prefix}/")
    }
}

/// Where the key space under `root` divides: key prefixes, in key order.
async fn discover<S: ObjectStore>(
    store: &S,
    root: &str,
) -> Result<(Vec<String>, usize), eventlog_store::StoreError> {
    let mut leaves: Vec<String> = Vec::new();
    let mut frontier = vec![root.to_string()];
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
                Some(parts) => next.extend(parts),
                None => leaves.push(d.prefix),
            }
        }
        frontier = next;
    }
    leaves.extend(frontier);
    leaves.sort();
    Ok((leaves, requests))
}

struct Divided {
    prefix: String,
    /// The divisions, or `None` when this prefix does not divide.
    parts: Option<Vec<String>>,
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
    let (mut parts, mut requests, mut loose_pages) = (Vec::new(), 0, 0);
    loop {
        let page = store.list_page(&req).await?;
        requests += 1;
        loose_pages += usize::from(!page.objects.is_empty());
        parts.extend(page.prefixes);
        if loose_pages > LOOSE_PAGES || (parts.is_empty() && page.next.is_none()) {
            // Mostly plain objects, or nothing to divide: a leaf.
            return Ok(Divided {
                prefix,
                parts: None,
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
        requests,
    })
}

/// At most `n - 1` boundaries among the sorted `leaves`, evenly spaced, so
/// the key space splits into at most `n` intervals.
fn boundaries(leaves: Vec<String>, n: usize) -> Vec<String> {
    let per = leaves.len().div_ceil(n.max(1)).max(1);
    leaves.into_iter().skip(1).step_by(per).collect()
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
    fn intervals_cover_the_key_space_once() {
        let leaves: Vec<String> = (0..10).map(|i| format!("p/{i}-")).collect();
        let bounds = boundaries(leaves, 4);
        assert_eq!(bounds, ["p/1-", "p/4-", "p/7-"]);
        let iv = intervals("p/", bounds);
        assert_eq!(iv.len(), 4);
        assert_eq!(
            (iv[0].from.as_deref(), iv[0].to.as_deref()),
            (None, Some("p/1-"))
        );
        assert_eq!(
            (iv[3].from.as_deref(), iv[3].to.as_deref()),
            (Some("p/7-"), None)
        );
        assert!(iv.windows(2).all(|w| w[0].to == w[1].from));
        assert_eq!(intervals("p/", boundaries(vec!["p/a".into()], 64)).len(), 1);
    }
}
