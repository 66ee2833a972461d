//! Reading checkpoints for the report: only the nine columns it counts
//! with, in whatever string and timestamp types the writer chose (ours,
//! Polars'), a file's row groups shared out between threads. Nothing is
//! converted to the checkpoint's canonical types first: the report reads
//! values, it does not rewrite files.
//!
//! Damage is an error naming the file (and the column), never a panic: the
//! parquet crate asserts on some corrupt pages, so reads run under
//! `catch_unwind`, and every batch is validated before it is read.

use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{Array, ArrayRef, LargeStringArray, RecordBatch, StringArray, StringViewArray};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::ProjectionMask;

use crate::ReportError;
use crate::aggregate::{Field, Filter, Numbers, Source};

/// The columns the report reads, and whether a file may lack them (older
/// checkpoints have no `visit_number` or `module`: they read as nulls).
const COLUMNS: [(&str, bool); 9] = [
    ("action", false),
    ("study", false),
    ("center_label", false),
    ("ptid", false),
    ("visit_date", false),
    ("visit_number", true),
    ("datatype", false),
    ("module", true),
    ("timestamp", false),
];

fn damaged(location: &str, message: impl std::fmt::Display) -> ReportError {
    ReportError::Read {
        location: location.to_string(),
        message: format!("not a readable parquet checkpoint: {message}"),
    }
}

fn column_error(location: &str, column: &str, message: impl std::fmt::Display) -> ReportError {
    ReportError::Read {
        location: location.to_string(),
        message: format!("column `{column}` {message}"),
    }
}

/// Row groups in the file at `path`.
pub fn row_groups(path: &Path, location: &str) -> Result<usize, ReportError> {
    let file = std::fs::File::open(path).map_err(|e| damaged(location, e))?;
    guarded(location, || {
        let b =
            eventlog_formats::checked_builder(file, Some(&[])).map_err(|e| damaged(location, e))?;
        Ok(b.metadata().num_row_groups())
    })
}

fn guarded<T>(
    location: &str,
    f: impl FnOnce() -> Result<T, ReportError>,
) -> Result<T, ReportError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(damaged(location, "the parquet reader failed on this file")))
}

/// Add the rows of `groups` (all when `None`) of the file at `path` to
/// `numbers`.
pub fn read_groups(
    path: &Path,
    location: &str,
    groups: Option<Vec<usize>>,
    numbers: &mut Numbers,
    filter: &Filter,
) -> Result<(), ReportError> {
    let file = std::fs::File::open(path).map_err(|e| damaged(location, e))?;
    guarded(location, || {
        let builder = eventlog_formats::checked_builder(file, groups.as_deref())
            .map_err(|e| damaged(location, e))?;
        let schema = builder.parquet_schema();
        let mut leaves = Vec::new();
        for (name, optional) in COLUMNS {
            match (0..schema.num_columns()).find(|&i| schema.column(i).name() == name) {
                Some(i) => leaves.push(i),
                None if optional => {}
                None => return Err(column_error(location, name, "is missing")),
            }
        }
        let mask = ProjectionMask::leaves(schema, leaves);
        let mut builder = builder.with_projection(mask).with_batch_size(8192);
        if let Some(g) = groups {
            builder = builder.with_row_groups(g);
        }
        let reader = builder.build().map_err(|e| damaged(location, e))?;
        for batch in reader {
            let batch = batch.map_err(|e| damaged(location, e))?;
            let plain = dictionaries_as_text(&batch, location)?;
            let columns = Columns::new(&batch, &plain, location)?;
            numbers.add(&columns, filter);
        }
        Ok(())
    })
}

/// A string column of any of the types writers use.
enum Text<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
    /// Absent from the file, or a column of nulls.
    Nulls,
}

impl Text<'_> {
    fn get(&self, i: usize) -> Option<&str> {
        match self {
            Text::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Text::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Text::View(a) => a.is_valid(i).then(|| a.value(i)),
            Text::Nulls => None,
        }
    }
}

/// The nine columns of one batch, typed.
pub struct Columns<'a> {
    text: [Text<'a>; 8],
    ts: &'a arrow_array::TimestampMicrosecondArray,
    len: usize,
}

/// The batch's columns that need a conversion first, by name: text kept
/// as a dictionary (rare: our writer and Polars write plain strings) as
/// plain text, and a timestamp of another unit in microseconds.
fn dictionaries_as_text(
    batch: &RecordBatch,
    location: &str,
) -> Result<Vec<(String, ArrayRef)>, ReportError> {
    let mut out = Vec::new();
    for (field, col) in batch.schema().fields().iter().zip(batch.columns()) {
        let to = match col.data_type() {
            DataType::Dictionary(_, v) if v.is_string() => DataType::LargeUtf8,
            DataType::Timestamp(unit, _) if *unit != TimeUnit::Microsecond => {
                DataType::Timestamp(TimeUnit::Microsecond, None)
            }
            _ => continue,
        };
        let converted =
            arrow_cast::cast(col, &to).map_err(|e| column_error(location, field.name(), e))?;
        out.push((field.name().clone(), converted));
    }
    Ok(out)
}

impl<'a> Columns<'a> {
    fn new(
        batch: &'a RecordBatch,
        plain: &'a [(String, ArrayRef)],
        location: &str,
    ) -> Result<Columns<'a>, ReportError> {
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            column
                .to_data()
                .validate_full()
                .map_err(|e| column_error(location, field.name(), format!("is damaged: {e}")))?;
        }
        let mut text: Vec<Text<'a>> = Vec::with_capacity(8);
        for (name, _) in COLUMNS.iter().filter(|(n, _)| *n != "timestamp") {
            let col = plain
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, a)| a)
                .or_else(|| batch.column_by_name(name));
            let Some(col) = col else {
                text.push(Text::Nulls);
                continue;
            };
            text.push(match col.data_type() {
                DataType::Utf8 => Text::Utf8(col.as_string::<i32>()),
                DataType::LargeUtf8 => Text::Large(col.as_string::<i64>()),
                DataType::Utf8View => Text::View(col.as_string_view()),
                DataType::Null => Text::Nulls,
                other => {
                    return Err(column_error(
                        location,
                        name,
                        format!("has type {other}, expected text"),
                    ));
                }
            });
        }
        let ts_col = plain
            .iter()
            .find(|(n, _)| n == "timestamp")
            .map(|(_, a)| a)
            .or_else(|| batch.column_by_name("timestamp"))
            .ok_or_else(|| column_error(location, "timestamp", "is missing"))?;
        let ts = match ts_col.data_type() {
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                ts_col.as_primitive::<TimestampMicrosecondType>()
            }
            other => {
                return Err(column_error(
                    location,
                    "timestamp",
                    format!("has type {other}, expected a timestamp"),
                ));
            }
        };
        let text: [Text<'a>; 8] = text.try_into().unwrap_or_else(|_| unreachable!());
        Ok(Columns {
            text,
            ts,
            len: batch.num_rows(),
        })
    }
}

impl Source for Columns<'_> {
    fn len(&self) -> usize {
        self.len
    }

    fn text(&self, f: Field, i: usize) -> Option<&str> {
        self.text[f as usize].get(i)
    }

    fn ts(&self, i: usize) -> Option<i64> {
        self.ts.is_valid(i).then(|| self.ts.value(i))
    }
}
