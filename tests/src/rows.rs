//! Reading checkpoints and ledgers back as JSON rows, independently of the
//! pipeline's own merge code.

use std::collections::BTreeMap;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value};

pub const COLUMNS: [&str; 15] = [
    "action",
    "study",
    "pipeline_adcid",
    "project_label",
    "center_label",
    "gear_name",
    "ptid",
    "naccid",
    "visit_date",
    "visit_number",
    "datatype",
    "module",
    "packet",
    "modality",
    "timestamp",
];

fn batches(bytes: Vec<u8>) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .expect("parquet")
        .build()
        .expect("reader")
        .map(|b| b.expect("batch"))
        .collect()
}

fn rfc3339(micros: i64) -> String {
    let dt = chrono::DateTime::from_timestamp_micros(micros).expect("in range");
    if micros.rem_euclid(1_000_000) == 0 {
        dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }
}

/// Every row of a checkpoint, in file order, as the reference's normalised
/// JSON (ADCID as a number, timestamp as `…Z` text, nulls kept).
pub fn checkpoint_rows(bytes: Vec<u8>) -> Vec<Value> {
    let mut out = Vec::new();
    for b in batches(bytes) {
        let names: Vec<String> = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, COLUMNS, "checkpoint columns and order");
        for i in 0..b.num_rows() {
            let mut row = Map::new();
            for name in COLUMNS {
                let col = b.column_by_name(name).unwrap();
                let v = if col.is_null(i) {
                    Value::Null
                } else if name == "pipeline_adcid" {
                    Value::from(col.as_primitive::<Int32Type>().value(i))
                } else if name == "timestamp" {
                    Value::from(rfc3339(
                        col.as_primitive::<TimestampMicrosecondType>().value(i),
                    ))
                } else {
                    Value::from(col.as_string::<i64>().value(i))
                };
                row.insert(name.to_string(), v);
            }
            out.push(Value::Object(row));
        }
    }
    out
}

/// Ledger rows keyed by source key: (outcome, etag).
pub fn ledger_rows(bytes: Vec<u8>) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for b in batches(bytes) {
        let key = b.column_by_name("key").unwrap().as_string::<i32>().clone();
        let outcome = b
            .column_by_name("outcome")
            .unwrap()
            .as_string::<i32>()
            .clone();
        let etag = b.column_by_name("etag").unwrap().as_string::<i32>().clone();
        let _size = b
            .column_by_name("size")
            .unwrap()
            .as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            out.insert(
                key.value(i).to_string(),
                (outcome.value(i).to_string(), etag.value(i).to_string()),
            );
        }
    }
    out
}

/// Sort key the reference promises: (timestamp, ptid, action).
pub fn order_key(row: &Value) -> (String, String, String) {
    let s = |k: &str| row[k].as_str().unwrap_or("").to_string();
    (s("timestamp"), s("ptid"), s("action"))
}

pub fn read_file(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A parquet file with the checkpoint's 15 column names whose `ptid` is an
/// int64: a foreign file a reader must reject by name, not read.
pub fn checkpoint_with_int_ptid() -> Vec<u8> {
    use arrow_array::{ArrayRef, Int32Array, Int64Array, StringArray, TimestampMicrosecondArray};
    use std::sync::Arc;
    let columns: Vec<(String, ArrayRef)> = COLUMNS
        .iter()
        .map(|c| {
            let a: ArrayRef = match *c {
                "ptid" => Arc::new(Int64Array::from(vec![1i64])),
                "pipeline_adcid" => Arc::new(Int32Array::from(vec![42])),
                "timestamp" => {
                    Arc::new(TimestampMicrosecondArray::from(vec![0i64]).with_timezone("UTC"))
                }
                _ => Arc::new(StringArray::from(vec!["x"])),
            };
            (c.to_string(), a)
        })
        .collect();
    let batch = RecordBatch::try_from_iter(columns).expect("batch");
    let mut buf = Vec::new();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(&mut buf, batch.schema(), None).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
    buf
}

/// `file` (a parquet file) with twenty unknown fields put before its
/// footer's first: each a list of 2^31 - 1 booleans in 7 bytes, which the
/// parquet crate would skip one boolean at a time (minutes for this
/// footer). eventlog refuses such a footer before the crate reads it.
pub fn with_footer_of_boolean_lists(file: &[u8]) -> Vec<u8> {
    let count = [0xff, 0xff, 0xff, 0xff, 0x07];
    let mut fields = vec![0x09, 0xc8, 0x01, 0xf1];
    fields.extend_from_slice(&count);
    for _ in 1..20 {
        fields.extend_from_slice(&[0x19, 0xf1]);
        fields.extend_from_slice(&count);
    }
    let n = file.len();
    let footer = u32::from_le_bytes(file[n - 8..n - 4].try_into().expect("a tail")) as usize;
    let mut out = file[..n - 8 - footer].to_vec();
    out.extend_from_slice(&fields);
    out.extend_from_slice(&file[n - 8 - footer..n - 8]);
    out.extend_from_slice(&((fields.len() + footer) as u32).to_le_bytes());
    out.extend_from_slice(b"PAR1");
    out
}
