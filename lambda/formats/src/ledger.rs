//! The ledger file: one row per processed source object (key, listing
//! version, size, content hash, outcome, group, detail, run id, time), as
//! parquet, so it can be queried like the checkpoints themselves.
//!
//! Only the encoding lives here; how runs read, extend and commit the
//! ledger is the checkpoint pipeline's `ledger` stage.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::builder::{Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

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

    pub fn parse(s: &str) -> Option<Self> {
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
    fn round_trip() {
        let mut m = BTreeMap::new();
        for (k, o) in [
            ("a", Outcome::Merged),
            ("b", Outcome::Skipped),
            ("c", Outcome::Invalid),
        ] {
            m.insert(k.to_string(), entry(k, o));
        }
        assert_eq!(decode(&encode(&m).unwrap()).unwrap(), m);
    }

    #[test]
    fn foreign_shapes_are_errors_not_panics() {
        assert!(decode(b"garbage").is_err());
        // A parquet file whose `key` column is an integer.
        let batch = RecordBatch::try_from_iter([(
            "key",
            Arc::new(arrow_array::Int64Array::from(vec![1i64])) as ArrayRef,
        )])
        .unwrap();
        let mut buf = Vec::new();
        let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let e = decode(&buf).unwrap_err();
        assert!(e.contains("`key`"), "{e}");
    }
}
