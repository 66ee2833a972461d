//! The ledger stage: which source objects have been processed, at which
//! version, with what outcome. It is what makes runs exactly-once by files
//! rather than by clocks: an object is processed when it is not in the
//! ledger or its version changed, whatever its timestamps say.
//!
//! The file format is `eventlog_formats::ledger`; this is how runs load it
//! and commit to it without losing each other's records.

use std::collections::BTreeMap;

pub use eventlog_formats::ledger::{Entry, Outcome};
use eventlog_formats::ledger::{decode, encode};
use eventlog_store::{Body, Condition, ObjectStore, StoreError, Version};

/// Ledger problems. A ledger that exists but cannot be read is never
/// treated as empty: that is how the reference wiped histories.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{location}: the ledger exists but cannot be read ({message}); refusing to start over from an empty one"
    )]
    Corrupt { location: String, message: String },
}

/// The ledger as read at the start of a run, with the version a commit
/// must still find.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub entries: BTreeMap<String, Entry>,
    pub version: Option<Version>,
}

impl Ledger {
    pub async fn load(store: &impl ObjectStore, key: &str) -> Result<Ledger, LedgerError> {
        let Some(obj) = store.get(key, u64::MAX).await? else {
            return Ok(Ledger::default());
        };
        let entries = decode(&obj.bytes).map_err(|message| LedgerError::Corrupt {
            location: store.locate(key),
            message,
        })?;
        Ok(Ledger {
            entries,
            version: Some(obj.version),
        })
    }

    /// Commit `updates` on top of this ledger. If another run committed
    /// since this one was read, re-read it and apply the updates again, so
    /// neither run's records are lost.
    pub async fn commit(
        self,
        store: &impl ObjectStore,
        key: &str,
        updates: &[Entry],
        max_attempts: u32,
    ) -> Result<(Ledger, u32), LedgerError> {
        let mut current = self;
        let mut conflicts = 0;
        let mut waits =
            backon::BackoffBuilder::build(crate::commit::conflict_backoff(max_attempts));
        loop {
            let mut next = current.entries.clone();
            for u in updates {
                next.insert(u.key.clone(), u.clone());
            }
            let bytes = encode(&next).map_err(|message| LedgerError::Corrupt {
                location: store.locate(key),
                message,
            })?;
            match store
                .put(
                    key,
                    Body::Bytes(bytes),
                    Condition::expecting(current.version.as_ref()),
                )
                .await
            {
                Ok(version) => {
                    return Ok((
                        Ledger {
                            entries: next,
                            version: Some(version),
                        },
                        conflicts,
                    ));
                }
                Err(e) if e.is_precondition() => {
                    let Some(wait) = waits.next() else {
                        return Err(e.into());
                    };
                    conflicts += 1;
                    tokio::time::sleep(wait).await;
                    current = Ledger::load(store, key).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eventlog_store::local::LocalStore;

    fn entry(key: &str, outcome: Outcome) -> Entry {
        Entry {
            key: key.into(),
            etag: "e".into(),
            size: 3,
            sha256: Some("abc".into()),
            outcome,
            group: None,
            detail: Some("why".into()),
            run_id: "r".into(),
            processed_at_micros: 1,
        }
    }

    #[test]
    fn round_trip_and_concurrent_commits_keep_both() {
        let rt = crate::test_runtime();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let s = LocalStore::new(dir.path());
            let a = Ledger::load(&s, "l.parquet").await.unwrap();
            let b = Ledger::load(&s, "l.parquet").await.unwrap();
            a.commit(&s, "l.parquet", &[entry("x", Outcome::Merged)], 5)
                .await
                .unwrap();
            let (_, conflicts) = b
                .commit(&s, "l.parquet", &[entry("y", Outcome::Invalid)], 5)
                .await
                .unwrap();
            assert_eq!(conflicts, 1);
            let l = Ledger::load(&s, "l.parquet").await.unwrap();
            assert_eq!(l.entries.len(), 2);
            assert_eq!(l.entries["y"], entry("y", Outcome::Invalid));
        });
    }

    #[test]
    fn corrupt_ledger_is_an_error_not_empty() {
        let rt = crate::test_runtime();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("l.parquet"), b"garbage").unwrap();
            let s = LocalStore::new(dir.path());
            assert!(matches!(
                Ledger::load(&s, "l.parquet").await,
                Err(LedgerError::Corrupt { .. })
            ));
        });
    }
}
