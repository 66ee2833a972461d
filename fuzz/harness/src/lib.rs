//! The fuzz targets' bodies: every boundary that takes outside bytes, with
//! the invariants that must hold for any input. Each function panics only
//! when the code under test breaks an invariant (or panics itself), which
//! is what the fuzzer reports. `cargo fuzz run <target>` drives them from
//! `fuzz/`; the tests below replay the seeds and every saved crash.

use eventlog_core::json;
use eventlog_core::visit::{check_file, key, validate};
use eventlog_core::xapi::check::{Judgement, check_jsonl, judge_bytes};
use eventlog_core::xapi::columns::columns;
use eventlog_core::xapi::extract::{row, write_json_each_row};
use eventlog_trigger::checkpoint::Overrides;
use eventlog_trigger::xapi::{Route, referenced, route, sqs_messages};

/// A target's body.
pub type Target = fn(&[u8]);

/// The targets, by name (the file names under `fuzz/fuzz_targets/`).
pub const TARGETS: [(&str, Target); 10] = [
    ("key_name", key_name),
    ("check_file", check_file_target),
    ("validate", validate_target),
    ("xapi_line", xapi_line),
    ("xapi_raw_object", xapi_raw_object),
    ("ledger_decode", ledger_decode),
    ("checkpoint_decode", checkpoint_decode),
    ("report_reader", report_reader),
    ("checkpoint_lambda_event", checkpoint_lambda_event),
    ("xapi_lambda_event", xapi_lambda_event),
];

const VALID_EVENT: &[u8] = br#"{"action":"submit","study":"adrc","project_label":"ingest-form","center_label":"alpha","gear_name":"g","datatype":"form","module":"UDS","timestamp":"2024-01-15T10:00:00Z","visit_date":"2024-01-15","pipeline_adcid":42,"ptid":"110001"}"#;

/// S3 keys and file names: the parser, the reference filter's emulation,
/// the candidate test and the name/content cross-check.
pub fn key_name(data: &[u8]) {
    let key = String::from_utf8_lossy(data);
    if let Ok(n) = key::parse_name(&key) {
        assert!(
            key.contains(n.action) && key.contains(n.stamp) && key.contains(n.project_and_ptid)
        );
        assert_eq!(n.stamp.len(), 15);
    }
    let matches = key::reference_matches(&key);
    assert_eq!(key::reference_skip_reason(&key).is_none(), matches);
    if matches {
        assert!(key::is_event_candidate(&key));
    }
    // A name never changes the verdict on the content.
    let report = check_file(Some(&key), VALID_EVENT);
    assert!(report.valid, "{key:?}");
}

/// Event files: the first byte says how long the name is.
pub fn check_file_target(data: &[u8]) {
    let (name, bytes) = match data.split_first() {
        Some((n, rest)) if (*n as usize) <= rest.len() => {
            let (name, body) = rest.split_at(*n as usize);
            (Some(String::from_utf8_lossy(name).into_owned()), body)
        }
        _ => (None, data),
    };
    let report = check_file(name.as_deref(), bytes);
    assert_eq!(report.valid, report.event.is_some());
    assert_eq!(report.valid, report.errors.is_empty());
    assert!(
        json::decode(report.to_json().as_bytes()).is_ok(),
        "the report is JSON"
    );
}

/// Decoding and validation: a valid event's normal form validates to itself.
pub fn validate_target(data: &[u8]) {
    let v = validate(data);
    assert_eq!(v.event.is_some(), v.errors.is_empty());
    if let Some(e) = v.event {
        let text = e.to_json();
        let again = validate(text.as_bytes());
        assert_eq!(again.event.as_ref(), Some(&e), "{text}");
    }
}

/// xAPI lines: the judge, row extraction and the JSONEachRow encoding of a
/// loadable statement; the whole input as a document.
pub fn xapi_line(data: &[u8]) {
    for raw in data.split(|b| *b == b'\n') {
        if let Judgement::Loadable {
            category,
            statement,
            ..
        } = judge_bytes(raw)
        {
            let line = std::str::from_utf8(raw).expect("loadable lines are UTF-8");
            let cols = columns(category);
            let cells = row(cols, &statement, line, "s3://bucket/key.jsonl");
            assert_eq!(cells.len(), cols.len());
            let mut out = String::new();
            write_json_each_row(&mut out, cols, &cells);
            assert!(json::decode(out.as_bytes()).is_ok(), "{out}");
        }
    }
    let (out, tally) = check_jsonl(data, Some("f.jsonl"));
    assert_eq!(
        out.lines().count() as u64,
        tally.loadable + tally.unknown + tally.invalid
    );
}

/// An object for the raw-events target: every line derives rows or a
/// problem (never a panic), the rows have their tables' width and encode,
/// the hash is of the line's bytes, and the check reports one line per
/// non-empty line and agrees with `derive` on which fail.
pub fn xapi_raw_object(data: &[u8]) {
    use eventlog_core::xapi::extract::write_row_binary;
    use eventlog_core::xapi::raw::{self, Limits, Provenance, attribution};
    let limits = Limits {
        max_attributions: 3,
    };
    let prov = Provenance {
        file: "s3://b/k.jsonl",
        etag: Some("e"),
    };
    let mut n = 0u32;
    let mut failing = 0u64;
    for (_, line) in raw::lines(data) {
        if line.is_empty() {
            continue;
        }
        n += 1;
        match raw::derive(line, &prov, n, &limits) {
            Ok(d) => {
                assert_eq!(d.raw.len(), raw::RAW.len());
                assert_eq!(d.event_hash(), eventlog_core::xapi::sha256_hex(line));
                let mut out = Vec::new();
                write_row_binary(&mut out, raw::RAW, &d.raw);
                for a in &d.attributions {
                    assert_eq!(a.len(), attribution::COLUMNS.len());
                    write_row_binary(&mut out, attribution::COLUMNS, a);
                }
                assert!(d.attributions.len() <= 3);
            }
            Err(p) => {
                assert!(!p.field.is_empty() && !p.message.is_empty());
                failing += 1;
            }
        }
    }
    let (out, tally) = raw::check::check_object(data, Some("k.jsonl"), &limits);
    assert_eq!(out.lines().count() as u64, tally.statements);
    assert_eq!(tally.statements, u64::from(n));
    assert!(
        tally.failing >= failing,
        "the check also fails mixed timestamps"
    );
}

/// The parquet crate panics on some damaged files (for example "offset +
/// len out of bounds" in arrow-buffer's bit iterator). Our readers catch
/// that and return a typed error, as they do in production. libFuzzer's
/// panic hook would abort even on a panic that is caught, so these targets
/// put back a hook that only prints: a panic our code catches is tolerated,
/// one that escapes it still reaches libfuzzer-sys, which aborts.
fn tolerate_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            eprintln!("caught inside the reader: {info}")
        }));
    });
}

/// The ledger readers on any bytes: the whole-file decoder (segments, the
/// single-file ledger) gives an error or entries that survive a round
/// trip; the snapshot reader (footer, then one row group at a time, as a
/// run reads it from ranges) gives errors or entries, never a panic.
pub fn ledger_decode(data: &[u8]) {
    use eventlog_formats::ledger::{SnapshotIndex, decode, encode, footer_len};
    tolerate_caught_panics();
    if let Ok(entries) = decode(data) {
        let bytes = encode(&entries).expect("re-encode");
        assert_eq!(decode(&bytes).expect("decode again"), entries);
    }
    let len = data.len() as u64;
    let Some(tail) = data.len().checked_sub(8).map(|i| &data[i..]) else {
        return;
    };
    let Ok(meta_len) = footer_len(tail) else {
        return;
    };
    let Some(meta_start) = len.checked_sub(8 + meta_len) else {
        return;
    };
    let Ok(index) = SnapshotIndex::from_metadata(&data[meta_start as usize..data.len() - 8], len)
    else {
        return;
    };
    for (i, g) in index.row_groups.iter().enumerate().take(64) {
        let start = g.start.min(len) as usize;
        let end = g.start.saturating_add(g.len).min(len) as usize;
        let bytes = bytes::Bytes::copy_from_slice(&data[start..end.max(start)]);
        // Errors are fine; a panic escaping the reader is the finding.
        let _ = index.read_row_group(i, bytes);
    }
}

/// A well-formed parquet file of the shape `data` describes: some of the
/// checkpoint's columns, maybe foreign ones, each of some Arrow type, with
/// values taken from the bytes. Foreign shapes in valid files are what a
/// byte-level fuzzer rarely reaches.
fn shaped_parquet(data: &[u8]) -> Vec<u8> {
    use arrow_array::*;
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    use std::sync::Arc;
    let mut bytes = data.iter().copied().cycle().take(data.len().max(1) * 4);
    let mut next = || bytes.next().unwrap_or(0);
    let rows = usize::from(next() % 6);
    let ncols = usize::from(next() % 18) + 1;
    let names = eventlog_core::visit::VisitEvent::FIELDS;
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for c in 0..ncols {
        let pick = next();
        let name = match names.get(usize::from(pick % 20)) {
            Some(n) => (*n).to_string(),
            None => format!("extra_{c}"),
        };
        if fields.iter().any(|f: &Field| f.name() == &name) {
            continue;
        }
        let vals: Vec<u8> = (0..rows).map(|_| next()).collect();
        let nulls = next();
        let valid = |i: usize| (nulls >> (i % 8)) & 1 == 0;
        let (dt, array): (DataType, ArrayRef) = match next() % 9 {
            0 => (
                DataType::Utf8,
                Arc::new(StringArray::from_iter(
                    (0..rows).map(|i| valid(i).then(|| format!("v{}", vals[i]))),
                )),
            ),
            1 => (
                DataType::LargeUtf8,
                Arc::new(LargeStringArray::from_iter(
                    (0..rows).map(|i| valid(i).then(|| format!("{}", vals[i]))),
                )),
            ),
            2 => (
                DataType::Int32,
                Arc::new(Int32Array::from_iter(
                    (0..rows).map(|i| valid(i).then_some(i32::from(vals[i]) - 100)),
                )),
            ),
            3 => (
                DataType::Int64,
                Arc::new(Int64Array::from_iter(
                    (0..rows).map(|i| valid(i).then_some(i64::from(vals[i]) << 33)),
                )),
            ),
            4 => (
                DataType::Float64,
                Arc::new(Float64Array::from_iter(
                    (0..rows).map(|i| valid(i).then_some(f64::from(vals[i]) / 3.0)),
                )),
            ),
            5 => (
                DataType::Boolean,
                Arc::new(BooleanArray::from_iter(
                    (0..rows).map(|i| valid(i).then_some(vals[i].is_multiple_of(2))),
                )),
            ),
            6 => (
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                Arc::new(TimestampNanosecondArray::from_iter(
                    (0..rows).map(|i| valid(i).then_some(i64::from(vals[i]) * 1_000_000_007)),
                )),
            ),
            7 => (
                DataType::Timestamp(TimeUnit::Millisecond, Some("+02:00".into())),
                Arc::new(
                    TimestampMillisecondArray::from_iter(
                        (0..rows).map(|i| valid(i).then_some(i64::from(vals[i]) * 86_400_000)),
                    )
                    .with_timezone("+02:00"),
                ),
            ),
            _ => (DataType::Null, Arc::new(NullArray::new(rows))),
        };
        fields.push(Field::new(name, dt, true));
        columns.push(array);
    }
    let Ok(batch) = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns) else {
        return Vec::new();
    };
    let mut buf = Vec::new();
    if let Ok(mut w) = parquet::arrow::ArrowWriter::try_new(&mut buf, batch.schema(), None) {
        let _ = w.write(&batch);
        let _ = w.close();
    }
    buf
}

/// The checkpoint reader on any bytes (or, when the input starts with `S`,
/// on a well-formed file of a foreign shape): an error naming the object,
/// or batches of exactly the checkpoint schema.
pub fn checkpoint_decode(data: &[u8]) {
    tolerate_caught_panics();
    let shaped;
    let data = match data.split_first() {
        Some((b'S', rest)) => {
            shaped = shaped_parquet(rest);
            &shaped[..]
        }
        _ => data,
    };
    match eventlog_formats::checkpoint::decode(data, "fuzz.parquet") {
        Ok(batches) => {
            for b in batches {
                assert_eq!(b.schema(), eventlog_formats::checkpoint::schema());
            }
        }
        Err(e) => assert!(e.to_string().contains("fuzz.parquet"), "{e}"),
    }
}

/// A checkpoint-schema file whose values come from `data`: strings cut at
/// 0xFF bytes (any UTF-8, empty, or null for a cut of one 0xFE), ADCIDs and
/// timestamps from the bytes, so the report's aggregation sees odd values
/// (dates that are not dates, intervals of any sign) in a valid file.
fn checkpoint_of(data: &[u8]) -> Vec<u8> {
    use arrow_array::{
        ArrayRef, Int32Array, LargeStringArray, RecordBatch, TimestampMicrosecondArray,
    };
    use std::sync::Arc;
    let pieces: Vec<Option<String>> = data
        .split(|b| *b == 0xFF)
        .map(|p| (p != [0xFE]).then(|| String::from_utf8_lossy(p).into_owned()))
        .collect();
    let rows = (pieces.len() / 4).clamp(1, 64);
    let schema = eventlog_formats::checkpoint::schema();
    let pick = |r: usize, c: usize| pieces[(r * 7 + c * 3) % pieces.len()].clone();
    let number = |r: usize, c: usize| {
        let b = data
            .get((r * 5 + c) % data.len().max(1))
            .copied()
            .unwrap_or(0);
        i64::from(b) - 64
    };
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(c, f)| -> ArrayRef {
            match f.name().as_str() {
                "pipeline_adcid" => Arc::new(Int32Array::from_iter(
                    (0..rows).map(|r| Some(number(r, c) as i32)),
                )),
                "timestamp" => Arc::new(
                    TimestampMicrosecondArray::from_iter(
                        (0..rows)
                            .map(|r| Some(1_700_000_000_000_000 + number(r, c) * 86_400_000_000)),
                    )
                    .with_timezone(eventlog_formats::checkpoint::TIMESTAMP_TZ),
                ),
                _ => Arc::new(LargeStringArray::from_iter((0..rows).map(|r| pick(r, c)))),
            }
        })
        .collect();
    let Ok(batch) = RecordBatch::try_new(schema.clone(), columns) else {
        return Vec::new();
    };
    let mut buf = Vec::new();
    if let Ok(mut w) = parquet::arrow::ArrowWriter::try_new(&mut buf, schema, None) {
        let _ = w.write(&batch);
        let _ = w.close();
    }
    buf
}

/// The report's checkpoint reader and everything after it: a file of any
/// bytes (`S`: a well-formed file of a foreign shape; `C`: a checkpoint of
/// odd values) is read into the numbers, or refused with an error naming
/// it; what was read always makes CSV tables whose rows have their
/// header's width, and a page.
pub fn report_reader(data: &[u8]) {
    tolerate_caught_panics();
    let bytes = match data.split_first() {
        Some((b'S', rest)) => shaped_parquet(rest),
        Some((b'C', rest)) => checkpoint_of(rest),
        _ => data.to_vec(),
    };
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::io::Write::write_all(&mut file, &bytes).expect("written");
    let mut numbers = eventlog_report::Numbers::default();
    let filter = eventlog_report::Filter::default();
    match eventlog_report::read_file(file.path(), "fuzz.parquet", &mut numbers, &filter) {
        Ok(()) => {
            let tables = eventlog_report::tables::Tables::from(&numbers);
            for (name, text) in tables.csv_files() {
                let records = csv_widths(&text);
                let width = records.first().copied().unwrap_or(0);
                assert!(
                    records.iter().all(|w| *w == width),
                    "{name}: records of widths {records:?}\n{text}"
                );
            }
            let page = eventlog_report::page::html(&tables, &filter, "fuzz");
            assert!(page.contains("</html>"));
        }
        Err(e) => assert!(e.to_string().contains("fuzz.parquet"), "{e}"),
    }
}

/// The number of fields of each record of a CSV text (RFC 4180: a quoted
/// field may hold commas, quotes doubled, and line breaks).
fn csv_widths(text: &str) -> Vec<usize> {
    let (mut widths, mut fields, mut quoted, mut any) = (Vec::new(), 1, false, false);
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields += 1,
            '\n' if !quoted => {
                widths.push(fields);
                (fields, any) = (1, false);
                continue;
            }
            _ => {}
        }
        any = true;
    }
    if any {
        widths.push(fields);
    }
    widths
}

fn as_event(data: &[u8]) -> Option<serde_json::Value> {
    serde_json::from_slice(data).ok()
}

/// The checkpoint Lambda's invocation event: overrides, or nothing.
pub fn checkpoint_lambda_event(data: &[u8]) {
    let Some(event) = as_event(data) else { return };
    match Overrides::from_event(&event) {
        Ok(o) => {
            for (name, value) in Overrides::FIELDS.iter().zip([
                &o.source_bucket,
                &o.prefix,
                &o.checkpoint_bucket,
                &o.checkpoint_key,
            ]) {
                if value.is_some() {
                    assert!(event.get(*name).is_some_and(serde_json::Value::is_string));
                }
            }
        }
        Err(e) => assert!(Overrides::FIELDS.contains(&e.field.as_str()), "{e}"),
    }
    // What to process: an SQS batch answers per message, and every
    // message is judged (usable or poisoned), none dropped.
    use eventlog_trigger::checkpoint::{Request, request};
    match request(&event) {
        Request::Queue(messages) => {
            let records = event["Records"].as_array().map_or(0, Vec::len);
            assert_eq!(messages.len(), records, "one answer per message");
        }
        Request::Objects(named) => assert!(!named.files.is_empty() || named.test_events > 0),
        Request::Sweep => {}
    }
}

/// The xAPI Lambda's event parsers: notifications, SQS batches, envelopes,
/// bulk requests, health checks, routed.
pub fn xapi_lambda_event(data: &[u8]) {
    let Some(event) = as_event(data) else { return };
    for f in &referenced(&event).files {
        assert!(f.uri().starts_with("s3://"));
    }
    if let Some(messages) = sqs_messages(&event) {
        assert!(!messages.is_empty());
    }
    match route(&event, Some("default-bucket")) {
        Ok(Route::Bulk(req)) => assert!(!req.bucket.is_empty()),
        Ok(Route::Notification(r)) => assert!(!r.files.is_empty() || r.test_events > 0),
        Ok(Route::Queue(m)) => assert!(!m.is_empty()),
        Ok(Route::Health) => {}
        Err(e) => assert!(!e.field.is_empty(), "{e}"),
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn dir(kind: &str, target: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(kind)
            .join(target)
    }

    /// Every seed and every saved crash (`fuzz/regressions/<target>/`) runs
    /// through its target without breaking an invariant.
    #[test]
    fn seeds_and_regressions_pass() {
        let mut n = 0;
        for (target, f) in super::TARGETS {
            // The old writers' files (testdata/formats) are seeds too.
            let old_files = match target {
                "checkpoint_decode" => Some("checkpoints"),
                "ledger_decode" => Some("ledger"),
                _ => None,
            }
            .map(|d| dir("..", "testdata").join("formats").join(d));
            let dirs = ["seeds", "regressions"].map(|kind| dir(kind, target));
            for d in dirs.iter().chain(old_files.iter()) {
                let Ok(entries) = std::fs::read_dir(d) else {
                    continue;
                };
                for e in entries {
                    let path = e.unwrap().path();
                    let data = std::fs::read(&path).unwrap();
                    let outcome = std::panic::catch_unwind(|| f(&data));
                    assert!(outcome.is_ok(), "{target}: {}", path.display());
                    n += 1;
                }
            }
        }
        assert!(n >= 8, "every target has inputs to replay: {n}");
    }
}
