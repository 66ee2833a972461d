//! The ledger: which source objects have been processed, at which version,
//! with what outcome. It is what makes runs exactly-once by files rather
//! than by clocks: an object is processed when it is not in the ledger or
//! its version changed, whatever its timestamps say.
//!
//! Stored as a parquet file (`_eventlog/ledger.parquet` beside the
//! checkpoints), so it can be queried like the checkpoints themselves.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::builder::{Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::store::{Body, Condition, ObjectStore, StoreError, Version};

/// What happened to a processed object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Its event is in a committed checkpoint.
    Merged,
    /// It failed validation (details in that run's errors file).
    Invalid,
    /// Valid, but dropped by the sandbox filter.
    Filtered,
    /// Not an event file name; never read.
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Merged => "merged",
            Outcome::Invalid => "invalid",
            Outcome::Filtered => "filtered",
            Outcome::Skipped => "skipped",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Outcome::Merged,
            Outcome::Invalid,
            Outcome::Filtered,
            Outcome::Skipped,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    /// The listing version (S3 ETag, or the local file fingerprint).
    pub etag: String,
    pub size: u64,
    /// SHA-256 of the content, when it was read.
    pub sha256: Option<String>,
    pub outcome: Outcome,
    /// `study/datatype` for merged events.
    pub group: Option<String>,
    /// Why it was skipped, or its first error.
    pub detail: Option<String>,
    pub run_id: String,
    pub processed_at_micros: i64,
}

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

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("etag", DataType::Utf8, false),
        Field::new("size", DataType::Int64, false),
        Field::new("sha256", DataType::Utf8, true),
        Field::new("outcome", DataType::Utf8, false),
        Field::new("group", DataType::Utf8, true),
        Field::new("detail", DataType::Utf8, true),
        Field::new("run_id", DataType::Utf8, false),
        Field::new(
            "processed_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]))
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
                Err(e) if e.is_precondition() && conflicts + 1 < max_attempts => {
                    conflicts += 1;
                    tokio::time::sleep(crate::commit::backoff(conflicts)).await;
                    current = Ledger::load(store, key).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Encode entries as a ledger file (key order).
pub fn encode(entries: &BTreeMap<String, Entry>) -> Result<Vec<u8>, String> {
    let n = entries.len();
    let mut key = StringBuilder::with_capacity(n, n * 64);
    let mut etag = StringBuilder::with_capacity(n, n * 34);
    let mut size = Int64Builder::with_capacity(n);
    let mut sha = StringBuilder::with_capacity(n, n * 64);
    let mut outcome = StringBuilder::with_capacity(n, n * 7);
    let mut group = StringBuilder::new();
    let mut detail = StringBuilder::new();
    let mut run_id = StringBuilder::with_capacity(n, n * 24);
    let mut at = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    for e in entries.values() {
        key.append_value(&e.key);
        etag.append_value(&e.etag);
        size.append_value(e.size as i64);
        sha.append_option(e.sha256.as_deref());
        outcome.append_value(e.outcome.as_str());
        group.append_option(e.group.as_deref());
        detail.append_option(e.detail.as_deref());
        run_id.append_value(&e.run_id);
        at.append_value(e.processed_at_micros);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(key.finish()),
        Arc::new(etag.finish()),
        Arc::new(size.finish()),
        Arc::new(sha.finish()),
        Arc::new(outcome.finish()),
        Arc::new(group.finish()),
        Arc::new(detail.finish()),
        Arc::new(run_id.finish()),
        Arc::new(at.finish()),
    ];
    let batch = RecordBatch::try_new(schema(), columns).map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(
        &mut buf,
        schema(),
        Some(crate::checkpoint::writer_properties()),
    )
    .map_err(|e| e.to_string())?;
    w.write(&batch).map_err(|e| e.to_string())?;
    w.close().map_err(|e| e.to_string())?;
    Ok(buf)
}

/// Decode a ledger file. Every problem is an error naming the column or
/// row at fault: a foreign or damaged ledger must never panic the run nor
/// be taken for an empty one.
pub fn decode(bytes: &[u8]) -> Result<BTreeMap<String, Entry>, String> {
    // The parquet reader is a large parser of outside bytes: if it ever
    // panics on a damaged file, that is this ledger's error, not the run's end.
    std::panic::catch_unwind(|| decode_unguarded(bytes))
        .unwrap_or_else(|_| Err(String::from("the parquet reader failed on this file")))
}

fn string_column<'b>(b: &'b RecordBatch, name: &str) -> Result<&'b StringArray, String> {
    let col = b
        .column_by_name(name)
        .ok_or_else(|| format!("missing column `{name}`"))?;
    col.as_string_opt::<i32>().ok_or_else(|| {
        format!(
            "column `{name}` has type {}, expected a string",
            col.data_type()
        )
    })
}

fn decode_unguarded(bytes: &[u8]) -> Result<BTreeMap<String, Entry>, String> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(bytes))
        .map_err(|e| e.to_string())?
        .build()
        .map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    for batch in reader {
        let b = batch.map_err(|e| e.to_string())?;
        let (key, etag, sha, outcome, group, detail, run_id) = (
            string_column(&b, "key")?,
            string_column(&b, "etag")?,
            string_column(&b, "sha256")?,
            string_column(&b, "outcome")?,
            string_column(&b, "group")?,
            string_column(&b, "detail")?,
            string_column(&b, "run_id")?,
        );
        let size = b.column_by_name("size").ok_or("missing column `size`")?;
        let size = size.as_primitive_opt::<Int64Type>().ok_or_else(|| {
            format!(
                "column `size` has type {}, expected int64",
                size.data_type()
            )
        })?;
        let at = b
            .column_by_name("processed_at")
            .ok_or("missing column `processed_at`")?;
        let at = at
            .as_primitive_opt::<TimestampMicrosecondType>()
            .ok_or_else(|| {
                format!(
                    "column `processed_at` has type {}, expected timestamp[us]",
                    at.data_type()
                )
            })?;
        let opt = |a: &StringArray, i: usize| a.is_valid(i).then(|| a.value(i).to_string());
        let required = |a: &StringArray, name: &str, i: usize| {
            opt(a, i).ok_or_else(|| format!("row {i}: `{name}` is null"))
        };
        for i in 0..b.num_rows() {
            let outcome_text = required(outcome, "outcome", i)?;
            let outcome = Outcome::parse(&outcome_text)
                .ok_or_else(|| format!("row {i}: unknown outcome {outcome_text:?}"))?;
            if size.is_null(i) || at.is_null(i) {
                return Err(format!("row {i}: `size` or `processed_at` is null"));
            }
            let e = Entry {
                key: required(key, "key", i)?,
                etag: required(etag, "etag", i)?,
                size: u64::try_from(size.value(i))
                    .map_err(|_| format!("row {i}: negative size {}", size.value(i)))?,
                sha256: opt(sha, i),
                outcome,
                group: opt(group, i),
                detail: opt(detail, i),
                run_id: required(run_id, "run_id", i)?,
                processed_at_micros: at.value(i),
            };
            out.insert(e.key.clone(), e);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::local::LocalStore;

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
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
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
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
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
