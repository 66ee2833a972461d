//! Files earlier writers produced, read today: checkpoints Polars wrote
//! with the reference's schemas v1.1 (no `naccid`, no `modality`) and
//! v1.2, a checkpoint of our 0.1.0 release, and our 0.1.0 ledger. Each
//! must decode to exactly what pyarrow reads in it, row by row
//! (`testdata/formats/expected.json`, written by `expected.py` there), so
//! a change to the readers that silently drops or alters an old file's
//! values fails here, not in a user's bucket.

use std::path::{Path, PathBuf};

use arrow_array::{Array, Int32Array, LargeStringArray, TimestampMicrosecondArray};
use arrow_schema::DataType;
use serde_json::{Map, Value, json};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/formats")
}

fn expected(file: &str) -> Vec<Map<String, Value>> {
    let all: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("expected.json")).unwrap())
            .unwrap();
    all[file]
        .as_array()
        .unwrap_or_else(|| panic!("{file} is listed in expected.json"))
        .iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect()
}

fn cell(col: &dyn Array, i: usize) -> Value {
    if col.is_null(i) {
        return Value::Null;
    }
    let any = col.as_any();
    match col.data_type() {
        DataType::LargeUtf8 => json!(any.downcast_ref::<LargeStringArray>().unwrap().value(i)),
        DataType::Int32 => json!(any.downcast_ref::<Int32Array>().unwrap().value(i)),
        DataType::Timestamp(..) => {
            json!(
                any.downcast_ref::<TimestampMicrosecondArray>()
                    .unwrap()
                    .value(i)
            )
        }
        other => panic!("a checkpoint column of type {other}"),
    }
}

#[test]
fn old_checkpoints_read_as_they_were_written() {
    let mut files = 0;
    for entry in std::fs::read_dir(dir().join("checkpoints")).unwrap() {
        let path = entry.unwrap().path();
        let name = format!(
            "checkpoints/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let batches =
            eventlog_formats::checkpoint::decode(&std::fs::read(&path).unwrap(), &name).unwrap();
        let mut got = Vec::new();
        for b in &batches {
            for i in 0..b.num_rows() {
                let row: Map<String, Value> = b
                    .schema()
                    .fields()
                    .iter()
                    .zip(b.columns())
                    .map(|(f, c)| (f.name().clone(), cell(c.as_ref(), i)))
                    .collect();
                got.push(row);
            }
        }
        let want = expected(&name);
        assert!(!want.is_empty(), "{name} holds rows");
        assert_eq!(got.len(), want.len(), "{name}: rows");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "{name}: row {i}");
        }
        files += 1;
    }
    assert_eq!(files, 3, "Polars v1.1, Polars v1.2 and eventlog 0.1.0");
}

#[test]
fn the_old_ledger_reads_as_it_was_written() {
    let name = "ledger/eventlog-0.1.0.parquet";
    let entries = eventlog_formats::ledger::decode(&std::fs::read(dir().join(name)).unwrap())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let want = expected(name);
    assert_eq!(entries.len(), want.len(), "{name}: one entry per row");
    for w in &want {
        let key = w["key"].as_str().unwrap();
        let e = entries
            .get(key)
            .unwrap_or_else(|| panic!("{name}: {key} is read"));
        let got = json!({
            "key": e.key,
            "etag": e.etag,
            "size": e.size,
            "sha256": e.sha256,
            "outcome": e.outcome.as_str(),
            "group": e.group,
            "detail": e.detail,
            "run_id": e.run_id,
            "processed_at": e.processed_at_micros,
        });
        assert_eq!(&got, &Value::Object(w.clone()), "{name}: {key}");
    }
}
