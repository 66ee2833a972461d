//! The checkpoint file format: the reference's parquet schema, conversion
//! of events to Arrow, and reading checkpoints others wrote.
//!
//! Schema (15 columns, reference order, all nullable as Polars writes
//! them): strings as `large_string` (parquet BYTE_ARRAY/STRING),
//! `pipeline_adcid` int32, `timestamp` microseconds UTC; ZSTD compression.

use std::sync::{Arc, LazyLock};

use arrow_array::builder::{Int32Builder, LargeStringBuilder, TimestampMicrosecondBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, TimestampMicrosecondType};
use arrow_array::{
    Array, ArrayRef, Int32Array, LargeStringArray, RecordBatch, TimestampMicrosecondArray,
    new_null_array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use eventlog_core::visit::VisitEvent;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

/// Problems with a checkpoint file's content.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{location}: not a readable parquet checkpoint: {message}")]
    Unreadable { location: String, message: String },
    #[error("{location}: column `{column}` {message}")]
    Column {
        location: String,
        column: String,
        message: String,
    },
    #[error("{location}: writing the checkpoint failed: {message}")]
    Write { location: String, message: String },
}

pub const TIMESTAMP_TZ: &str = "UTC";
const STRING_FIELDS: [&str; 13] = [
    "action",
    "study",
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
];

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let fields: Vec<Field> = VisitEvent::FIELDS
        .iter()
        .map(|name| {
            let dt = match *name {
                "pipeline_adcid" => DataType::Int32,
                "timestamp" => {
                    DataType::Timestamp(TimeUnit::Microsecond, Some(TIMESTAMP_TZ.into()))
                }
                _ => DataType::LargeUtf8,
            };
            Field::new(*name, dt, true)
        })
        .collect();
    Arc::new(Schema::new(fields))
});

/// The checkpoint schema.
pub fn schema() -> SchemaRef {
    SCHEMA.clone()
}

/// Rows per parquet row group: large enough for good compression, small
/// enough that the writer's buffer stays a few megabytes.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

pub fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("eventlog {}", env!("CARGO_PKG_VERSION")))
        .build()
}

pub fn writer<W: std::io::Write + Send>(
    w: W,
    location: &str,
) -> Result<ArrowWriter<W>, CheckpointError> {
    ArrowWriter::try_new(w, schema(), Some(writer_properties())).map_err(|e| {
        CheckpointError::Write {
            location: location.to_string(),
            message: e.to_string(),
        }
    })
}

/// Events as one record batch, in the given order. A batch that cannot be
/// built fails its group: it is never replaced by an empty one.
pub fn events_to_batch(
    events: &[&VisitEvent],
    location: &str,
) -> Result<RecordBatch, CheckpointError> {
    let n = events.len();
    let mut strings: Vec<LargeStringBuilder> = (0..STRING_FIELDS.len())
        .map(|_| LargeStringBuilder::with_capacity(n, n * 12))
        .collect();
    let mut adcid = Int32Builder::with_capacity(n);
    let mut ts = TimestampMicrosecondBuilder::with_capacity(n).with_timezone(TIMESTAMP_TZ);
    for e in events {
        let values: [Option<&str>; 13] = [
            Some(e.action.as_str()),
            Some(&e.study),
            Some(&e.project_label),
            Some(&e.center_label),
            Some(&e.gear_name),
            Some(&e.ptid),
            e.naccid.as_deref(),
            Some(&e.visit_date),
            e.visit_number.as_deref(),
            Some(e.datatype.as_str()),
            e.module.as_deref(),
            e.packet.as_deref(),
            e.modality.as_deref(),
        ];
        for (b, v) in strings.iter_mut().zip(values) {
            b.append_option(v);
        }
        adcid.append_value(e.pipeline_adcid);
        ts.append_value(e.timestamp.micros());
    }
    let mut by_name: Vec<(&str, ArrayRef)> = STRING_FIELDS
        .iter()
        .zip(strings.iter_mut())
        .map(|(name, b)| (*name, Arc::new(b.finish()) as ArrayRef))
        .collect();
    by_name.push(("pipeline_adcid", Arc::new(adcid.finish())));
    by_name.push(("timestamp", Arc::new(ts.finish())));
    let columns: Vec<ArrayRef> = VisitEvent::FIELDS
        .iter()
        .map(|f| {
            by_name
                .iter()
                .find(|(n, _)| n == f)
                .map(|(_, a)| a.clone())
                .unwrap_or_else(|| new_null_array(&DataType::LargeUtf8, n))
        })
        .collect();
    RecordBatch::try_new(schema(), columns).map_err(|e| CheckpointError::Write {
        location: location.to_string(),
        message: format!("building the batch of new events: {e}"),
    })
}

/// Bring a batch read from any checkpoint (ours, the reference's Polars
/// files of v1.1 or v1.2) to the canonical schema: columns by name, strings
/// to `large_string`, the ADCID to int32, timestamps to microseconds UTC
/// (naive ones are read as UTC, as the reference does), and absent optional
/// columns (`naccid`, `modality` in 13-column files) as nulls.
pub fn normalize_batch(
    batch: &RecordBatch,
    location: &str,
) -> Result<RecordBatch, CheckpointError> {
    crate::check_batch(batch).map_err(|message| CheckpointError::Unreadable {
        location: location.to_string(),
        message,
    })?;
    let n = batch.num_rows();
    let target = schema();
    // A column we do not know would be dropped by the rewrite: refuse, so
    // nobody's data disappears (the file is not ours to trim).
    if let Some(extra) = batch
        .schema()
        .fields()
        .iter()
        .find(|f| !VisitEvent::FIELDS.contains(&f.name().as_str()))
    {
        return Err(CheckpointError::Column {
            location: location.to_string(),
            column: extra.name().clone(),
            message: "is not a checkpoint column; the file is left as it is rather than rewritten without it".into(),
        });
    }
    let mut columns = Vec::with_capacity(15);
    for field in target.fields() {
        let name = field.name();
        let Some(col) = batch.column_by_name(name) else {
            if matches!(
                name.as_str(),
                "naccid" | "modality" | "visit_number" | "module" | "packet"
            ) {
                columns.push(new_null_array(field.data_type(), n));
                continue;
            }
            return Err(CheckpointError::Column {
                location: location.to_string(),
                column: name.clone(),
                message: "is missing".into(),
            });
        };
        columns.push(convert(col, field, location)?);
    }
    RecordBatch::try_new(target, columns).map_err(|e| CheckpointError::Unreadable {
        location: location.to_string(),
        message: e.to_string(),
    })
}

/// One column brought to its canonical type, or an error naming it.
fn convert(col: &ArrayRef, field: &Field, location: &str) -> Result<ArrayRef, CheckpointError> {
    let name = field.name();
    let col_err = |message: String| CheckpointError::Column {
        location: location.to_string(),
        column: name.clone(),
        message,
    };
    Ok(match (name.as_str(), col.data_type()) {
        (_, dt) if dt == field.data_type() => col.clone(),
        ("timestamp", DataType::Timestamp(_, _)) => {
            let micros = arrow_cast::cast(col, &DataType::Timestamp(TimeUnit::Microsecond, None))
                .map_err(|e| col_err(e.to_string()))?;
            let values: &TimestampMicrosecondArray =
                micros.as_primitive::<TimestampMicrosecondType>();
            Arc::new(values.clone().with_timezone(TIMESTAMP_TZ))
        }
        ("timestamp", other) => {
            return Err(col_err(format!("has type {other}, expected a timestamp")));
        }
        ("pipeline_adcid", dt) if dt.is_integer() => {
            let options = arrow_cast::CastOptions {
                safe: false,
                ..Default::default()
            };
            arrow_cast::cast_with_options(col, &DataType::Int32, &options)
                .map_err(|e| col_err(format!("does not fit int32: {e}")))?
        }
        ("pipeline_adcid", other) => {
            return Err(col_err(format!("has type {other}, expected an integer")));
        }
        (_, DataType::Utf8 | DataType::Utf8View | DataType::Dictionary(_, _) | DataType::Null) => {
            arrow_cast::cast(col, &DataType::LargeUtf8).map_err(|e| col_err(e.to_string()))?
        }
        (_, other) => return Err(col_err(format!("has type {other}, expected a string"))),
    })
}

/// Read a whole checkpoint file from memory into canonical batches (tools,
/// fuzzing). Any damage or foreign shape is a [`CheckpointError`], never a
/// panic and never "no rows".
pub fn decode(bytes: &[u8], location: &str) -> Result<Vec<RecordBatch>, CheckpointError> {
    let unreadable = |message: String| CheckpointError::Unreadable {
        location: location.to_string(),
        message,
    };
    std::panic::catch_unwind(|| {
        let reader = crate::checked_builder(bytes::Bytes::copy_from_slice(bytes), None)
            .map_err(unreadable)?
            .build()
            .map_err(|e| unreadable(e.to_string()))?;
        let mut out = Vec::new();
        for b in reader {
            out.push(normalize_batch(
                &b.map_err(|e| unreadable(e.to_string()))?,
                location,
            )?);
        }
        Ok(out)
    })
    .unwrap_or_else(|_| Err(unreadable("the parquet reader failed on this file".into())))
}

/// Stream a checkpoint file from disk as canonical batches of up to
/// `batch_size` rows, handing each to `each`. Damage is a
/// [`CheckpointError`] naming `location`, never a panic: the parquet crate
/// asserts on some corrupt pages (a division by zero in a dictionary page,
/// found by fuzzing), so the read runs under `catch_unwind`. Batches
/// handed out before the damage was met stay handed out.
pub fn stream_file(
    path: &std::path::Path,
    location: &str,
    batch_size: usize,
    mut each: impl FnMut(&RecordBatch),
) -> Result<(), CheckpointError> {
    let unreadable = |message: String| CheckpointError::Unreadable {
        location: location.to_string(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let reader = crate::checked_builder(file, None)
            .map_err(unreadable)?
            .with_batch_size(batch_size)
            .build()
            .map_err(|e| unreadable(e.to_string()))?;
        for b in reader {
            each(&normalize_batch(
                &b.map_err(|e| unreadable(e.to_string()))?,
                location,
            )?);
        }
        Ok(())
    }))
    .unwrap_or_else(|_| Err(unreadable("the parquet reader failed on this file".into())))
}

/// Typed access to the columns of a canonical batch.
pub struct Rows<'a> {
    strings: [&'a LargeStringArray; 13],
    adcid: &'a Int32Array,
    ts: &'a TimestampMicrosecondArray,
}

/// Index into `Rows::strings`, in `STRING_FIELDS` order.
#[derive(Clone, Copy)]
#[repr(usize)]
pub enum Col {
    Action = 0,
    Study,
    ProjectLabel,
    CenterLabel,
    GearName,
    Ptid,
    Naccid,
    VisitDate,
    VisitNumber,
    Datatype,
    Module,
    Packet,
    Modality,
}

impl<'a> Rows<'a> {
    /// `batch` must have the canonical schema (see [`normalize_batch`]).
    pub fn new(batch: &'a RecordBatch) -> Self {
        let s = |name: &str| {
            batch
                .column_by_name(name)
                .map(|c| c.as_string::<i64>())
                .expect("canonical batch")
        };
        Rows {
            strings: STRING_FIELDS.map(s),
            adcid: batch
                .column_by_name("pipeline_adcid")
                .expect("canonical batch")
                .as_primitive::<Int32Type>(),
            ts: batch
                .column_by_name("timestamp")
                .expect("canonical batch")
                .as_primitive::<TimestampMicrosecondType>(),
        }
    }

    pub fn len(&self) -> usize {
        self.adcid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn str(&self, col: Col, i: usize) -> Option<&'a str> {
        let a = self.strings[col as usize];
        a.is_valid(i).then(|| a.value(i))
    }

    pub fn adcid(&self, i: usize) -> Option<i32> {
        self.adcid.is_valid(i).then(|| self.adcid.value(i))
    }

    pub fn ts(&self, i: usize) -> Option<i64> {
        self.ts.is_valid(i).then(|| self.ts.value(i))
    }

    /// The output order: (timestamp, ptid, action), then the rest of the
    /// identity. Nulls sort first.
    pub fn sort_key(&self, i: usize) -> SortKey<'a> {
        SortKey {
            ts: self.ts(i),
            ptid: self.str(Col::Ptid, i),
            action: self.str(Col::Action, i),
            visit_date: self.str(Col::VisitDate, i),
            datatype: self.str(Col::Datatype, i),
            module: self.str(Col::Module, i),
            adcid: self.adcid(i),
        }
    }

    /// Whether row `i` here and row `j` of `other` are the same in all 15 columns.
    pub fn same_content(&self, i: usize, other: &Rows<'_>, j: usize) -> bool {
        self.ts(i) == other.ts(j)
            && self.adcid(i) == other.adcid(j)
            && (0..13).all(|c| {
                let (a, b) = (self.strings[c], other.strings[c]);
                match (a.is_valid(i), b.is_valid(j)) {
                    (true, true) => a.value(i) == b.value(j),
                    (false, false) => true,
                    _ => false,
                }
            })
    }
}

/// Row order and merge identity in one key: the first three fields are the
/// reference's sort, all seven together are its identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SortKey<'a> {
    pub ts: Option<i64>,
    pub ptid: Option<&'a str>,
    pub action: Option<&'a str>,
    pub visit_date: Option<&'a str>,
    pub datatype: Option<&'a str>,
    pub module: Option<&'a str>,
    pub adcid: Option<i32>,
}

impl SortKey<'_> {
    /// The reference's sort prefix (timestamp, ptid, action).
    pub fn prefix(&self) -> (Option<i64>, Option<&str>, Option<&str>) {
        (self.ts, self.ptid, self.action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eventlog_core::visit::validate;

    #[test]
    fn events_round_trip_through_a_batch() {
        let body = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/visit-events/files/log-submit-20250513-213058-7-ingest-dicom-884348-2025-04-28.json")).unwrap();
        let e = validate(&body).event.unwrap();
        let batch = events_to_batch(&[&e], "test").unwrap();
        assert_eq!(batch.schema(), schema());
        let rows = Rows::new(&batch);
        assert_eq!(rows.str(Col::Ptid, 0), Some(e.ptid.as_str()));
        assert_eq!(rows.str(Col::Module, 0), None);
        assert_eq!(rows.str(Col::Modality, 0), e.modality.as_deref());
        assert_eq!(rows.ts(0), Some(e.timestamp.micros()));
        assert!(rows.same_content(0, &rows, 0));
    }

    /// A 3 KB file whose dictionary page declares 2^31 values, saved by
    /// the checkpoint_decode fuzz target: without the check the reader
    /// asked for 8 GB, and the process ended.
    #[test]
    fn a_dictionary_larger_than_its_page_is_refused_before_decoding() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fuzz/regressions/checkpoint_decode/oom-5e8b8e8e775cdd8f55eb4b5f0a3f9b056f49cc7a"
        );
        let bytes = std::fs::read(path).unwrap();
        for e in [
            decode(&bytes, "s3://b/c.parquet").unwrap_err(),
            stream_file(std::path::Path::new(path), "s3://b/c.parquet", 64, |_| {}).unwrap_err(),
        ] {
            let e = e.to_string();
            assert!(e.contains("s3://b/c.parquet"), "{e}");
            assert!(e.contains("a dictionary page declares"), "{e}");
        }
    }
}
