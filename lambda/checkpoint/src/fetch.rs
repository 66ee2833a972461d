//! Stage 3, fetch and check: read the planned objects with bounded
//! concurrency and validate each one, isolated from the others.

use std::time::Instant;

use eventlog_core::Issue;
use eventlog_core::visit::{FileReport, check_file};
use eventlog_store::{ObjectMeta, ObjectStore, StoreError};
use futures::StreamExt;

use crate::progress::Progress;

/// What reading one object produced.
#[derive(Debug)]
pub enum Fetched {
    /// Read and checked (valid or not).
    Checked {
        sha256: String,
        report: Box<FileReport>,
    },
    /// Bigger than the limit: reported, never loaded.
    TooLarge { message: String },
    /// Could not be read this time; not recorded, so the next run retries.
    Unreadable { cause: ReadFailure },
    /// Checking it panicked (a bug of ours, never the file's fault): the
    /// file is reported with its key and left unrecorded, so a fixed
    /// version reads it; the other files go on.
    Internal { message: String },
}

/// Why a listed file could not be read this time.
#[derive(Debug, thiserror::Error)]
pub enum ReadFailure {
    /// Listed, then deleted before the read.
    #[error("listed, but gone when read")]
    Gone,
    /// The store's error, as it was (retryable or not, with its location).
    #[error(transparent)]
    Store(StoreError),
}

/// Validate one file, isolated: a panic in the checks becomes an error for
/// this file instead of the end of the run.
pub fn check_isolated(key: &str, bytes: &[u8]) -> Result<FileReport, String> {
    std::panic::catch_unwind(|| {
        crate::fault::panic_for(key);
        check_file(Some(key), bytes)
    })
    .map_err(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| String::from("unknown panic"));
        format!("internal error while checking this file (please report it): {what}")
    })
}

pub struct FetchResult {
    pub meta: ObjectMeta,
    /// The ledger's entry for this key (another version), from the plan.
    pub prev: Option<crate::ledger::Entry>,
    pub location: String,
    pub fetched: Fetched,
}

/// Read `objects` at most `concurrency` at a time, as they come (a listing
/// may still be producing them). Stops starting new reads once `deadline`
/// has passed; the objects not started are returned apart.
#[tracing::instrument(name = "fetch", skip_all, fields(read, deferred, duration_ms))]
pub async fn fetch_all(
    store: &impl ObjectStore,
    objects: impl futures::Stream<Item = crate::plan::Planned>,
    settings: &crate::config::RunSettings,
    deadline: Option<Instant>,
    progress: &dyn Progress,
    on_read: &mut (dyn FnMut(FetchResult) + Send),
) -> Vec<ObjectMeta> {
    let _timed = crate::timed::Timed::start();
    let (concurrency, max_bytes) = (settings.concurrency, settings.max_object_bytes);
    let deferred = std::sync::Mutex::new(Vec::new());
    let mut read = 0usize;
    objects
        .map(|crate::plan::Planned { meta, prev }| {
            let deferred = &deferred;
            async move {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    deferred
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(meta);
                    return None;
                }
                let location = store.locate(&meta.key);
                let fetched = if meta.size > max_bytes {
                    Fetched::TooLarge {
                        message: format!(
                            "{} bytes is over the {max_bytes}-byte limit; not read",
                            meta.size
                        ),
                    }
                } else {
                    match store.get(&meta.key, max_bytes).await {
                        Ok(Some(obj)) => match check_isolated(&meta.key, &obj.bytes) {
                            Ok(report) => Fetched::Checked {
                                sha256: eventlog_store::sha256_hex(&obj.bytes),
                                report: Box::new(report),
                            },
                            Err(message) => {
                                tracing::error!(key = %meta.key, error = %message, "file check panicked");
                                Fetched::Internal { message }
                            }
                        },
                        Ok(None) => Fetched::Unreadable {
                            cause: ReadFailure::Gone,
                        },
                        Err(StoreError::TooLarge { size, limit, .. }) => Fetched::TooLarge {
                            message: format!(
                                "{size} bytes is over the {limit}-byte limit; not read"
                            ),
                        },
                        Err(e) => Fetched::Unreadable {
                            cause: ReadFailure::Store(e),
                        },
                    }
                };
                progress.advance(1);
                Some(FetchResult {
                    meta,
                    prev,
                    location,
                    fetched,
                })
            }
        })
        .buffer_unordered(concurrency.max(1))
        .for_each(|r| {
            if let Some(r) = r {
                read += 1;
                on_read(r);
            }
            futures::future::ready(())
        })
        .await;
    let deferred = deferred.into_inner().unwrap_or_else(|p| p.into_inner());
    let span = tracing::Span::current();
    span.record("read", read);
    span.record("deferred", deferred.len());
    deferred
}

/// The first error of a report, for the ledger's detail column.
pub fn first_error(errors: &[Issue]) -> Option<String> {
    errors
        .first()
        .map(|e| format!("{}: {} [{}]", e.field, e.message, e.code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunSettings;
    use crate::progress::Silent;
    use eventlog_store::local::LocalStore;

    #[test]
    fn reads_checks_limits_and_defers() {
        let rt = crate::test_runtime();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("log-a.json"), b"{}").unwrap();
        std::fs::write(dir.path().join("big.json"), vec![b' '; 100]).unwrap();
        let store = LocalStore::new(dir.path());
        let listed: Vec<crate::plan::Planned> = rt
            .block_on(store.list(""))
            .unwrap()
            .into_iter()
            .map(|meta| crate::plan::Planned { meta, prev: None })
            .collect();
        let settings = RunSettings {
            max_object_bytes: 50,
            ..RunSettings::default()
        };
        let mut got = Vec::new();
        let deferred = rt.block_on(fetch_all(
            &store,
            futures::stream::iter(listed.clone()),
            &settings,
            None,
            &Silent,
            &mut |r| got.push(r),
        ));
        got.sort_by(|a, b| a.meta.key.cmp(&b.meta.key));
        assert!(deferred.is_empty());
        let kinds: Vec<(&str, &str)> = got
            .iter()
            .map(|r| {
                let k = match &r.fetched {
                    Fetched::Checked { report, .. } if !report.valid => "invalid",
                    Fetched::Checked { .. } => "valid",
                    Fetched::TooLarge { .. } => "too large",
                    Fetched::Unreadable { .. } => "unreadable",
                    Fetched::Internal { .. } => "internal",
                };
                (r.meta.key.as_str(), k)
            })
            .collect();
        assert_eq!(
            kinds,
            [("big.json", "too large"), ("log-a.json", "invalid")]
        );
        // Past the deadline nothing new starts: every object is deferred.
        let past = Some(Instant::now());
        let mut got = Vec::new();
        let deferred = rt.block_on(fetch_all(
            &store,
            futures::stream::iter(listed),
            &settings,
            past,
            &Silent,
            &mut |r| got.push(r),
        ));
        got.sort_by(|a, b| a.meta.key.cmp(&b.meta.key));
        assert_eq!((got.len(), deferred.len()), (0, 2));
    }

    #[test]
    fn a_checked_file_is_isolated() {
        let report = check_isolated("prod/log-x.json", b"{").unwrap();
        assert!(!report.valid);
        assert_eq!(
            first_error(&report.errors).unwrap().split(':').next(),
            Some("__json__")
        );
    }
}
