//! Stage 1, list (with stage 2, plan, page by page): every object under
//! the source prefix, minus the ones under excluded prefixes (the state and
//! checkpoint area, when they overlap), planned against the ledger as the
//! pages arrive so that a run holds pages, not the whole listing.
//!
//! On S3 a large sweep does not walk one paginator. It lists the first few
//! pages as they come (a small prefix is listed fastest that way, and costs
//! no more requests than a plain client); if there is more, it finds where
//! the rest of the key space divides (delimiter listings, `/` at the top,
//! then `-`, which splits `log-{action}-{date}-…` names by action and day),
//! estimates from the pages already seen how many pages are left, picks
//! about one boundary per few pages among those divisions, and lists the
//! intervals between them concurrently (each a paginator that starts after
//! its lower bound and stops at the next one, the first one continuing the
//! first paginator), each with its own ledger cursor. The intervals cover
//! the key space exactly once, so requests stay close to one per page of
//! keys. A local directory is walked in one pass.

use futures::StreamExt;

use eventlog_store::{ListRequest, ObjectMeta, ObjectStore, Page};

use crate::error::RunError;
use crate::ledger::State;
use crate::plan::{Plan, Planner};
use crate::progress::Progress;

/// The most listings a sweep divides into.
const RANGES: usize = 64;
/// Pages each divided interval should hold, about: every interval costs a
/// request beyond its pages, and on a server that walks its index for each
/// request (s3s-fs, MinIO on a disk) that is what a request costs.
const PAGES_PER_RANGE: usize = 4;
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
    /// Pages listed by one paginator before the rest is divided.
    pub first_pages: usize,
    /// The listing's first page, when it was read already (see `first_page`).
    pub first: Option<Page>,
}

/// The first page of a sweep's listing, read while the ledger loads: the
/// two are independent, and at S3's round trips a short listing is mostly
/// waiting. A failure is left for the listing to meet (and report) again.
pub async fn first_page<S: ObjectStore>(store: &S, prefix: &str) -> Option<Page> {
    let req = ListRequest {
        prefix: folder(prefix),
        ..ListRequest::default()
    };
    store.list_page(&req).await.ok()
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
    planner: Planner,
    progress: &dyn Progress,
) -> Result<(Listing, Plan), RunError> {
    let _timed = crate::timed::Timed::start();
    // A streaming sweep reads while it lists: the count that moves is the
    // files read.
    progress.stage(
        if planner.streams() {
            "listing and reading"
        } else {
            "listing"
        },
        None,
    );
    let root = folder(src.prefix);
    let counts = Counts::default();
    // One listing at a time: one paginator, nothing to divide.
    let divide = src.store.lists_in_parallel() && src.concurrency > 1;
    let head = Interval::whole(&root);
    let first = divide.then_some(src.first_pages.max(1));
    let read = src.first.clone();
    let rest = list_range(src, head, ledger, &planner, &counts, first, read).await?;
    let (mut ranges, mut requests) = (1, 0);
    if let Some(resume) = rest {
        let (leaves, asked) = discover(src.store, &root).await.map_err(RunError::List)?;
        let intervals = intervals_after(&root, resume, leaves, src.first_pages.max(1));
        (ranges, requests) = (ranges + intervals.len(), asked);
        let listed: Vec<Result<_, RunError>> = futures::stream::iter(intervals)
            .map(|range| list_range(src, range, ledger, &planner, &counts, None, None))
            .buffer_unordered(src.concurrency)
            .collect()
            .await;
        listed.into_iter().collect::<Result<Vec<_>, _>>()?;
    }
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

/// Keys of `prefix` from `from` (inclusive) to `to` (exclusive); or, with
/// a `token`, the rest of a paginator's keys up to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Interval {
    prefix: String,
    token: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl Interval {
    fn whole(root: &str) -> Self {
        Interval {
            prefix: root.to_string(),
            token: None,
            from: None,
            to: None,
        }
    }
}

/// Where a paginator stopped before the end of its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Resume {
    token: String,
    /// The last key it listed.
    last: String,
}

/// The rest of `root` after `resume`, divided at boundaries among the
/// `leaves` that follow it: about one interval per `PAGES_PER_RANGE` pages
/// left, estimated from how many leaves the `first_pages` went through.
fn intervals_after(
    root: &str,
    resume: Resume,
    leaves: Vec<String>,
    first_pages: usize,
) -> Vec<Interval> {
    let seen = leaves.iter().filter(|l| **l <= resume.last).count();
    let later: Vec<String> = leaves.into_iter().filter(|l| *l > resume.last).collect();
    let pages_left = match seen {
        // The first pages did not leave one leaf: at least a page a leaf.
        0 => later.len(),
        seen => later.len() * first_pages / seen,
    };
    let n = (pages_left / PAGES_PER_RANGE).clamp(1, RANGES);
    let bounds = boundaries(later, n);
    let mut lows: Vec<Option<String>> = vec![None];
    lows.extend(bounds.into_iter().map(Some));
    let highs: Vec<Option<String>> = lows.iter().skip(1).cloned().chain([None]).collect();
    lows.into_iter()
        .zip(highs)
        .map(|(from, to)| Interval {
            prefix: root.to_string(),
            // The first interval goes on where the first paginator stopped.
            token: from.is_none().then(|| resume.token.clone()),
            from,
            to,
        })
        .collect()
}

/// List one interval in order, planning each page with one cursor; with
/// `max_pages`, stop after that many and say where. `read`: its first
/// page, already listed.
async fn list_range<S: ObjectStore, C: ObjectStore>(
    src: &Source<'_, S>,
    range: Interval,
    ledger: &State<'_, C>,
    planner: &Planner,
    counts: &Counts,
    max_pages: Option<usize>,
    mut read: Option<Page>,
) -> Result<Option<Resume>, RunError> {
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
        token: range.token.clone(),
        ..ListRequest::default()
    };
    let mut pages = 0;
    loop {
        let page = match read.take() {
            Some(page) => page,
            None => src.store.list_page(&req).await.map_err(RunError::List)?,
        };
        counts
            .pages
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let beyond = |k: &str| range.to.as_deref().is_some_and(|t| k >= t);
        let last = page.objects.last().map(|m| m.key.clone());
        let done = page.next.is_none() || last.as_deref().is_some_and(beyond);
        let inside: Vec<ObjectMeta> = page
            .objects
            .into_iter()
            .filter(|m| {
                range.from.as_deref().is_none_or(|f| m.key.as_str() >= f) && !beyond(&m.key)
            })
            .collect();
        let kept = counts.admit(inside, src.exclude);
        planner.page(kept, &mut cursor).await?;
        pages += 1;
        match (page.next, last) {
            (Some(token), Some(last)) if !done && max_pages.is_some_and(|m| pages >= m) => {
                return Ok(Some(Resume { token, last }));
            }
            (Some(t), _) if !done => req.token = Some(t),
            _ => return Ok(None),
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
                first_pages: 1,
                first: None,
            };
            let state = State {
                ledger: &ledger,
                store: &store,
            };
            let planner = Planner::new(None);
            let (l, plan) = list_and_plan(&src, &state, planner, &Silent).await.unwrap();
            assert_eq!((l.listed, l.excluded), (3, 1));
            assert_eq!((plan.to_fetch.len(), plan.skipped.len()), (1, 1));
        });
    }

    #[test]
    fn intervals_cover_the_key_space_once() {
        let leaves: Vec<String> = (0..10).map(|i| format!("p/{i}-")).collect();
        assert_eq!(boundaries(leaves.clone(), 4), ["p/1-", "p/4-", "p/7-"]);
        // The first pages went through 1 leaf of 10: about 72 pages left,
        // so one interval per leaf, the first continuing the paginator.
        let resume = Resume {
            token: "t".into(),
            last: "p/0-9".into(),
        };
        let iv = intervals_after("p/", resume.clone(), leaves, 8);
        assert_eq!(iv.len(), 9);
        assert_eq!(iv[0].token.as_deref(), Some("t"));
        assert_eq!(iv[0].from, None);
        assert!(
            iv[1..]
                .iter()
                .all(|i| i.token.is_none() && i.from.is_some())
        );
        assert_eq!(iv[8].to, None);
        assert!(iv.windows(2).all(|w| w[0].to == w[1].from));
        assert!(iv[1..].iter().all(|i| i.from.as_deref() > Some("p/0-9")));
        // Little left: one interval, the rest of the paginator.
        let few: Vec<String> = ["p/0-", "p/1-"].map(String::from).to_vec();
        let iv = intervals_after("p/", resume, few, 8);
        assert_eq!(iv.len(), 1);
        assert_eq!(
            (iv[0].token.as_deref(), iv[0].to.as_deref()),
            (Some("t"), None)
        );
    }
}
