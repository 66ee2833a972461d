//! Stage 2, plan: which listed objects this run must read. Nothing here
//! looks at times: a file is read because the ledger has not seen this
//! version of it.
//!
//! Planning walks listing pages and the ledger together in key order (a
//! [`Cursor`]), so it holds a page and a row group of the ledger, never the
//! history. What it keeps is the work: files to read and names to record,
//! at most `cap` of them, the first in key order; the rest are deferred.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use eventlog_core::visit::key;
use eventlog_store::{ObjectMeta, ObjectStore};

use crate::ledger::{Cursor, Entry, LedgerError, Outcome};

/// A file to read, with what the ledger says of its key (another version).
#[derive(Debug, Clone)]
pub struct Planned {
    pub meta: ObjectMeta,
    pub prev: Option<Entry>,
}

/// One piece of work for this run.
#[derive(Debug)]
enum Work {
    Read(Planned),
    /// Not an event file name, with the reason.
    Skip(ObjectMeta, String),
}

#[derive(Debug, Default)]
pub struct Plan {
    /// Event-file candidates to read, in key order: not in the ledger, or changed.
    pub to_fetch: Vec<Planned>,
    /// Candidates already handed to the reader while the listing went on
    /// (a sweep without a cap), in key order.
    pub streamed: Vec<String>,
    /// How many of `to_fetch` the ledger had at another version.
    pub changed: usize,
    /// Not event files and not yet recorded, with the reason.
    pub skipped: Vec<(ObjectMeta, String)>,
    /// Already processed at this version.
    pub already_processed: usize,
    /// New work beyond the cap, left for later runs.
    pub deferred: usize,
}

/// Collects the work of many pages (from concurrent listings), keeping the
/// first `cap` items in key order.
#[derive(Debug)]
pub struct Planner {
    cap: Option<usize>,
    work: Mutex<BTreeMap<String, Work>>,
    already_processed: AtomicUsize,
    deferred: AtomicUsize,
    reader: Option<Reader>,
}

/// Where a planner without a cap sends files to read as each page is
/// planned: reading starts with the first page instead of after the last.
/// (With a cap, a later page may still push a planned key out.)
#[derive(Debug)]
struct Reader {
    tx: tokio::sync::mpsc::UnboundedSender<Planned>,
    sent: Mutex<Vec<String>>,
    changed: AtomicUsize,
}

impl Planner {
    pub fn new(cap: Option<usize>) -> Self {
        Planner {
            cap,
            work: Mutex::new(BTreeMap::new()),
            already_processed: AtomicUsize::new(0),
            deferred: AtomicUsize::new(0),
            reader: None,
        }
    }

    /// A planner that sends each file to read to `tx` at once; it closes
    /// the channel when it is finished or dropped.
    pub fn streaming(tx: tokio::sync::mpsc::UnboundedSender<Planned>) -> Self {
        Planner {
            reader: Some(Reader {
                tx,
                sent: Mutex::new(Vec::new()),
                changed: AtomicUsize::new(0),
            }),
            ..Planner::new(None)
        }
    }

    /// Whether files are read while the listing goes on.
    pub fn streams(&self) -> bool {
        self.reader.is_some()
    }

    /// Plan one page of a listing; its keys must come after the ones this
    /// cursor has seen.
    pub async fn page<S: ObjectStore>(
        &self,
        objects: Vec<ObjectMeta>,
        cursor: &mut Cursor<'_, S>,
    ) -> Result<(), LedgerError> {
        let mut found = Vec::new();
        for meta in objects {
            let seen = cursor.seek(&meta.key).await?;
            if meta.version.is_reliable() && seen.as_ref().is_some_and(|e| e.etag == meta.version.0)
            {
                self.already_processed.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let work = if key::is_event_candidate(&meta.key) {
                Work::Read(Planned { meta, prev: seen })
            } else {
                let reason = key::parse_name(&meta.key).err().map_or_else(
                    || String::from("the pipeline reads only files named log-….json"),
                    |problem| {
                        format!(
                            "the pipeline reads only files named log-….json, and {}",
                            problem.reason.replace('`', "\"")
                        )
                    },
                );
                Work::Skip(meta, reason)
            };
            found.push(work);
        }
        self.keep(found);
        Ok(())
    }

    fn keep(&self, found: Vec<Work>) {
        let found = match &self.reader {
            Some(reader) => reader.send(found),
            None => found,
        };
        let mut work = self.work.lock().unwrap_or_else(|p| p.into_inner());
        for w in found {
            let key = match &w {
                Work::Read(p) => p.meta.key.clone(),
                Work::Skip(m, _) => m.key.clone(),
            };
            work.insert(key, w);
            if self.cap.is_some_and(|cap| work.len() > cap) {
                work.pop_last();
                self.deferred.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub fn finish(self) -> Plan {
        let mut p = Plan {
            already_processed: self.already_processed.into_inner(),
            deferred: self.deferred.into_inner(),
            ..Plan::default()
        };
        if let Some(reader) = self.reader {
            p.changed = reader.changed.into_inner();
            p.streamed = reader.sent.into_inner().unwrap_or_else(|e| e.into_inner());
            p.streamed.sort();
        }
        for (_, w) in self.work.into_inner().unwrap_or_else(|e| e.into_inner()) {
            match w {
                Work::Read(planned) => {
                    p.changed += usize::from(planned.prev.is_some());
                    p.to_fetch.push(planned);
                }
                Work::Skip(meta, reason) => p.skipped.push((meta, reason)),
            }
        }
        let span = tracing::Span::current();
        span.record("to_fetch", p.fetch_count());
        span.record("changed", p.changed);
        span.record("skipped", p.skipped.len());
        span.record("already_processed", p.already_processed);
        p
    }
}

impl Plan {
    /// Files this run reads, handed over during the listing or after it.
    pub fn fetch_count(&self) -> usize {
        self.to_fetch.len() + self.streamed.len()
    }
}

impl Reader {
    /// Send the files to read on; the rest is kept by the planner.
    fn send(&self, found: Vec<Work>) -> Vec<Work> {
        let mut rest = Vec::new();
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        for w in found {
            match w {
                Work::Read(planned) => {
                    sent.push(planned.meta.key.clone());
                    self.changed
                        .fetch_add(usize::from(planned.prev.is_some()), Ordering::Relaxed);
                    // The reader outlives the listing; were it gone, the run
                    // is failing already and the key stays unrecorded.
                    let _ = self.tx.send(planned);
                }
                skip => rest.push(skip),
            }
        }
        rest
    }
}

/// What the ledger had under this key, if it holds this very content.
pub fn same_content<'e>(prev: Option<&'e Entry>, sha256: &str) -> Option<&'e Entry> {
    prev.filter(|e| e.sha256.as_deref() == Some(sha256) && e.outcome != Outcome::Skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Ledger, LedgerKeys};
    use eventlog_store::Version;
    use eventlog_store::local::LocalStore;

    fn meta(key: &str, v: &str) -> ObjectMeta {
        ObjectMeta {
            key: key.into(),
            size: 1,
            version: Version(v.into()),
            modified_micros: Some(0),
        }
    }

    use crate::test_entry as entry;

    const DONE: &str = "prod/log-submit-20240115-100000-42-p-1-2024-01-15.json";
    const NEW: &str = "prod/log-submit-20240115-100001-42-p-2-2024-01-15.json";

    async fn plan_with(
        ledger: &Ledger,
        store: &LocalStore,
        cap: Option<usize>,
        pages: Vec<Vec<ObjectMeta>>,
    ) -> Plan {
        let planner = Planner::new(cap);
        // A cursor per page, as for concurrent listings of disjoint ranges.
        for page in pages {
            planner.page(page, &mut ledger.cursor(store)).await.unwrap();
        }
        planner.finish()
    }

    /// A ledger that has `DONE` at version `v1`.
    async fn ledger_with_done(store: &LocalStore) -> Ledger {
        let mut ledger = Ledger::load(store, LedgerKeys::new("_eventlog"))
            .await
            .unwrap();
        ledger.commit(store, &[entry(DONE, "v1")], 1).await.unwrap();
        Ledger::load(store, LedgerKeys::new("_eventlog"))
            .await
            .unwrap()
    }

    #[test]
    fn plans_by_version_not_time() {
        crate::test_runtime().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let store = LocalStore::new(dir.path());
            let ledger = ledger_with_done(&store).await;
            let p = plan_with(
                &ledger,
                &store,
                None,
                vec![
                    vec![meta(DONE, "v1"), meta(NEW, "x")],
                    vec![meta("prod/readme.txt", "z")],
                ],
            )
            .await;
            assert_eq!(p.already_processed, 1);
            assert_eq!(p.to_fetch.len(), 1);
            assert_eq!(p.skipped.len(), 1);
            let changed = plan_with(&ledger, &store, None, vec![vec![meta(DONE, "v2")]]).await;
            assert_eq!((changed.to_fetch.len(), changed.changed), (1, 1));
            assert_eq!(changed.to_fetch[0].prev.as_ref().unwrap().etag, "v1");
        });
    }

    /// Streaming, each file to read leaves as its page is planned, and the
    /// plan counts what it handed over exactly as a kept plan would.
    #[test]
    fn a_streaming_plan_hands_files_over_page_by_page() {
        crate::test_runtime().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let store = LocalStore::new(dir.path());
            let ledger = ledger_with_done(&store).await;
            let pages = vec![
                vec![meta(DONE, "v2"), meta(NEW, "x")],
                vec![meta("prod/readme.txt", "z")],
            ];
            let kept = plan_with(&ledger, &store, None, pages.clone()).await;
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let planner = Planner::streaming(tx);
            planner
                .page(pages[0].clone(), &mut ledger.cursor(&store))
                .await
                .unwrap();
            let first: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok())
                .map(|p| p.meta.key)
                .collect();
            assert_eq!(first, [DONE, NEW], "handed over before the next page");
            planner
                .page(pages[1].clone(), &mut ledger.cursor(&store))
                .await
                .unwrap();
            let streamed = planner.finish();
            assert!(rx.recv().await.is_none(), "closed when the plan is done");
            assert!(streamed.to_fetch.is_empty());
            let kept_keys: Vec<String> = kept.to_fetch.iter().map(|p| p.meta.key.clone()).collect();
            assert_eq!(streamed.streamed, kept_keys);
            assert_eq!(streamed.fetch_count(), kept.fetch_count());
            assert_eq!((streamed.changed, streamed.skipped.len()), (1, 1));
            assert_eq!((kept.changed, kept.skipped.len()), (1, 1));
        });
    }

    #[test]
    fn a_cap_keeps_the_first_keys_whatever_order_pages_come_in() {
        crate::test_runtime().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let store = LocalStore::new(dir.path());
            let ledger = Ledger::load(&store, LedgerKeys::new("_eventlog"))
                .await
                .unwrap();
            let key =
                |i: u32| format!("prod/log-submit-20240115-1000{i:02}-42-p-{i}-2024-01-15.json");
            // Two listings' pages, the later range first.
            let p = plan_with(
                &ledger,
                &store,
                Some(3),
                vec![
                    (5..9).map(|i| meta(&key(i), "v")).collect(),
                    (0..5).map(|i| meta(&key(i), "v")).collect(),
                ],
            )
            .await;
            let kept: Vec<String> = p.to_fetch.iter().map(|t| t.meta.key.clone()).collect();
            assert_eq!(kept, [key(0), key(1), key(2)]);
            assert_eq!(p.deferred, 6);
        });
    }
}
