//! The ledger file: one row per processed source object (key, listing
//! version, size, content hash, outcome, group, detail, run id, time), as
//! parquet, so it can be queried like the checkpoints themselves.
//!
//! The same file shape serves as a whole ledger (the single-file format of
//! earlier versions), as a segment (what one run recorded) and as a
//! snapshot (every entry up to a segment, sorted by key, in row groups whose
//! key statistics let a reader fetch only the part it needs).
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

/// What is wrong with a ledger file, or why one could not be written. The
/// messages are the ones a run's error shows after the ledger's location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerFileError {
    /// The parquet layer refused the bytes or the write.
    #[error("{0}")]
    Parquet(String),
    /// The parquet reader panicked on these bytes (caught here).
    #[error("the parquet reader failed on this {0}")]
    ReaderFailed(&'static str),
    #[error("not a parquet file (no PAR1 footer)")]
    NotParquet,
    #[error("missing column `{0}`")]
    MissingColumn(&'static str),
    #[error("column `{column}` has type {found}, expected {expected}")]
    ColumnType {
        column: &'static str,
        found: String,
        expected: &'static str,
    },
    /// A column whose values fail arrow's full validation.
    #[error("{0}")]
    Damaged(String),
    #[error("row {row}: {problem}")]
    Row { row: usize, problem: String },
    #[error("row group {0}: a column's offset or length is negative")]
    NegativeOffset(usize),
    #[error("no such row group")]
    NoRowGroup,
    /// A snapshot's keys must increase.
    #[error("snapshot keys out of order at {0:?}")]
    OutOfOrder(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

fn parquet_error(e: impl std::fmt::Display) -> LedgerFileError {
    LedgerFileError::Parquet(e.to_string())
}

fn io_error(path: &std::path::Path, e: std::io::Error) -> LedgerFileError {
    LedgerFileError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

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

/// The ledger file's schema.
pub fn schema() -> SchemaRef {
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
pub fn encode(entries: &BTreeMap<String, Entry>) -> Result<Vec<u8>, LedgerFileError> {
    let mut buf = Vec::new();
    let mut w = SnapshotWriter::new(&mut buf)?;
    for e in entries.values() {
        w.push(e.clone())?;
    }
    w.finish()?;
    Ok(buf)
}

/// Entries per row group of a snapshot: a lookup reads one row group
/// (a few hundred KB) for the keys it needs, and a planning cursor holds
/// one decoded (a few MB).
pub const SNAPSHOT_ROW_GROUP: usize = 8 * 1024;
const BATCH: usize = 8192;

fn batch_of(entries: &[Entry]) -> Result<RecordBatch, LedgerFileError> {
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
    for e in entries {
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
    RecordBatch::try_new(schema(), columns).map_err(parquet_error)
}

/// Writes entries, given in key order, as a snapshot: memory stays at one
/// batch whatever the number of entries.
pub struct SnapshotWriter<W: std::io::Write + Send> {
    writer: ArrowWriter<W>,
    pending: Vec<Entry>,
    last: Option<String>,
    written: u64,
    disordered: bool,
}

impl<W: std::io::Write + Send> SnapshotWriter<W> {
    pub fn new(out: W) -> Result<Self, LedgerFileError> {
        Self::with_row_group(out, SNAPSHOT_ROW_GROUP)
    }

    /// A writer with row groups of `rows` entries (small ones in tests).
    pub fn with_row_group(out: W, rows: usize) -> Result<Self, LedgerFileError> {
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::ZSTD(
                parquet::basic::ZstdLevel::try_new(3).unwrap_or_default(),
            ))
            .set_max_row_group_row_count(Some(rows.max(1)))
            .set_created_by(format!("eventlog {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = ArrowWriter::try_new(out, schema(), Some(props)).map_err(parquet_error)?;
        Ok(SnapshotWriter {
            writer,
            pending: Vec::with_capacity(BATCH),
            last: None,
            written: 0,
            disordered: false,
        })
    }

    /// The next entry; keys must increase.
    pub fn push(&mut self, e: Entry) -> Result<(), LedgerFileError> {
        if self.last.as_deref().is_some_and(|l| l >= e.key.as_str()) {
            self.disordered = true;
            return Err(LedgerFileError::OutOfOrder(e.key));
        }
        self.last = Some(e.key.clone());
        self.pending.push(e);
        if self.pending.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), LedgerFileError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = batch_of(&self.pending)?;
        self.written += self.pending.len() as u64;
        self.pending.clear();
        self.writer.write(&batch).map_err(parquet_error)
    }

    /// Whether a push was refused because its key did not increase.
    pub fn out_of_order(&self) -> bool {
        self.disordered
    }

    /// Finish the file; the number of entries written.
    pub fn finish(mut self) -> Result<u64, LedgerFileError> {
        self.flush()?;
        self.writer.close().map_err(parquet_error)?;
        Ok(self.written)
    }
}

/// Where a row group of a snapshot is, and which keys it holds.
#[derive(Debug, Clone)]
pub struct RowGroupSpan {
    pub index: usize,
    /// Lowest and highest key (bounds: statistics may be truncated).
    pub min_key: Option<String>,
    pub max_key: Option<String>,
    pub start: u64,
    pub len: u64,
    pub rows: usize,
}

/// A snapshot's footer, read without its data: enough to fetch only the
/// row groups a run needs.
#[derive(Debug, Clone)]
pub struct SnapshotIndex {
    pub file_len: u64,
    pub metadata: Arc<parquet::file::metadata::ParquetMetaData>,
    pub row_groups: Vec<RowGroupSpan>,
}

/// The length of the metadata, from a file's last 8 bytes.
pub fn footer_len(tail: &[u8]) -> Result<u64, LedgerFileError> {
    match tail {
        [a, b, c, d, b'P', b'A', b'R', b'1'] => Ok(u64::from(u32::from_le_bytes([*a, *b, *c, *d]))),
        _ => Err(LedgerFileError::NotParquet),
    }
}

/// A column chunk's byte range, as `ColumnChunkMetaData::byte_range` gives
/// it, but `None` where a damaged footer holds negative numbers: the
/// parquet crate asserts on those, and a footer is outside bytes.
fn column_range(c: &parquet::file::metadata::ColumnChunkMetaData) -> Option<(u64, u64)> {
    let start = c
        .dictionary_page_offset()
        .unwrap_or_else(|| c.data_page_offset());
    Some((
        u64::try_from(start).ok()?,
        u64::try_from(c.compressed_size()).ok()?,
    ))
}

impl SnapshotIndex {
    /// From the metadata bytes (the `footer_len` bytes before the tail).
    pub fn from_metadata(metadata: &[u8], file_len: u64) -> Result<Self, LedgerFileError> {
        crate::thrift::check_footer(metadata).map_err(LedgerFileError::Damaged)?;
        let md = std::panic::catch_unwind(|| {
            parquet::file::metadata::ParquetMetaDataReader::decode_metadata(metadata)
        })
        .map_err(|_| LedgerFileError::ReaderFailed("footer"))?
        .map_err(parquet_error)?;
        let key_col = md
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .position(|c| c.name() == "key")
            .ok_or(LedgerFileError::MissingColumn("key"))?;
        let row_groups = md
            .row_groups()
            .iter()
            .enumerate()
            .map(|(index, rg)| {
                let (mut start, mut end) = (u64::MAX, 0u64);
                for c in rg.columns() {
                    let (s, l) = column_range(c).ok_or(LedgerFileError::NegativeOffset(index))?;
                    start = start.min(s);
                    end = end.max(s.saturating_add(l));
                }
                // A footer is outside bytes: a row group may lack columns.
                let stats = rg.columns().get(key_col).and_then(|c| c.statistics());
                let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
                Ok(RowGroupSpan {
                    index,
                    min_key: text(stats.and_then(|s| s.min_bytes_opt())),
                    max_key: text(stats.and_then(|s| s.max_bytes_opt())),
                    start: if start == u64::MAX { 0 } else { start },
                    len: end.saturating_sub(start),
                    rows: usize::try_from(rg.num_rows()).unwrap_or(0),
                })
            })
            .collect::<Result<_, LedgerFileError>>()?;
        Ok(SnapshotIndex {
            file_len,
            metadata: Arc::new(md),
            row_groups,
        })
    }

    /// Decode row group `i` from its bytes (`RowGroupSpan::start`..+`len`).
    pub fn read_row_group(
        &self,
        i: usize,
        bytes: bytes::Bytes,
    ) -> Result<Vec<Entry>, LedgerFileError> {
        let span = self.row_groups.get(i).ok_or(LedgerFileError::NoRowGroup)?;
        let region = Region {
            file_len: self.file_len,
            offset: span.start,
            bytes,
        };
        let metadata = self.metadata.clone();
        // The reader holds no state of ours a panic could leave half-done.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let meta = parquet::arrow::arrow_reader::ArrowReaderMetadata::try_new(
                metadata,
                Default::default(),
            )
            .map_err(parquet_error)?;
            crate::check_pages(&region, meta.metadata(), Some(&[i]))
                .map_err(LedgerFileError::Damaged)?;
            let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(region, meta)
                .with_row_groups(vec![i])
                .build()
                .map_err(parquet_error)?;
            let mut out = Vec::new();
            for b in reader {
                entries_of(&b.map_err(parquet_error)?, &mut |e| out.push(e))?;
            }
            Ok(out)
        }))
        .unwrap_or(Err(LedgerFileError::ReaderFailed("row group")))
    }
}

/// Part of a file held in memory: what a reader of one row group needs.
struct Region {
    file_len: u64,
    offset: u64,
    bytes: bytes::Bytes,
}

impl parquet::file::reader::Length for Region {
    fn len(&self) -> u64 {
        self.file_len
    }
}

impl parquet::file::reader::ChunkReader for Region {
    type T = std::io::Cursor<bytes::Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        let at = start
            .checked_sub(self.offset)
            .filter(|a| *a <= self.bytes.len() as u64)
            .ok_or_else(|| {
                parquet::errors::ParquetError::EOF(format!("{start} is outside the region read"))
            })?;
        Ok(std::io::Cursor::new(self.bytes.slice(at as usize..)))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        let at = start
            .checked_sub(self.offset)
            .map(|a| a as usize)
            .filter(|a| a + length <= self.bytes.len())
            .ok_or_else(|| {
                parquet::errors::ParquetError::EOF(format!(
                    "{start}+{length} is outside the region read"
                ))
            })?;
        Ok(self.bytes.slice(at..at + length))
    }
}

/// Decode a ledger file. Every problem is an error naming the column or
/// row at fault: a foreign or damaged ledger must never panic the run nor
/// be taken for an empty one.
pub fn decode(bytes: &[u8]) -> Result<BTreeMap<String, Entry>, LedgerFileError> {
    // The parquet reader is a large parser of outside bytes: if it ever
    // panics on a damaged file, that is this ledger's error, not the run's end.
    std::panic::catch_unwind(|| decode_unguarded(bytes))
        .unwrap_or(Err(LedgerFileError::ReaderFailed("file")))
}

/// Rewrite a ledger file (any row grouping, e.g. the single-file ledger of
/// earlier versions) as a snapshot, a batch at a time. Returns the number
/// of entries, or `Ok(None)` when its keys are not in increasing order (a
/// file not written by eventlog): the caller then sorts it in memory.
pub fn rewrite_as_snapshot(
    from: &std::path::Path,
    to: &std::path::Path,
    row_group: usize,
) -> Result<Option<u64>, LedgerFileError> {
    std::panic::catch_unwind(|| {
        let file = std::fs::File::open(from).map_err(|e| io_error(from, e))?;
        let reader = crate::checked_builder(file, None)
            .map_err(LedgerFileError::Parquet)?
            .with_batch_size(BATCH)
            .build()
            .map_err(parquet_error)?;
        let out = std::fs::File::create(to).map_err(|e| io_error(to, e))?;
        let mut w = SnapshotWriter::with_row_group(std::io::BufWriter::new(out), row_group)?;
        let mut in_order = true;
        for batch in reader {
            let mut failed = None;
            entries_of(&batch.map_err(parquet_error)?, &mut |e| {
                if in_order && failed.is_none() {
                    match w.push(e) {
                        Ok(()) => {}
                        Err(_) if w.out_of_order() => in_order = false,
                        Err(e) => failed = Some(e),
                    }
                }
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
            if !in_order {
                return Ok(None);
            }
        }
        w.finish().map(Some)
    })
    .unwrap_or(Err(LedgerFileError::ReaderFailed("file")))
}

fn column<'b>(b: &'b RecordBatch, name: &'static str) -> Result<&'b ArrayRef, LedgerFileError> {
    b.column_by_name(name)
        .ok_or(LedgerFileError::MissingColumn(name))
}

fn wrong_type(name: &'static str, col: &ArrayRef, expected: &'static str) -> LedgerFileError {
    LedgerFileError::ColumnType {
        column: name,
        found: col.data_type().to_string(),
        expected,
    }
}

fn string_column<'b>(
    b: &'b RecordBatch,
    name: &'static str,
) -> Result<&'b StringArray, LedgerFileError> {
    let col = column(b, name)?;
    col.as_string_opt::<i32>()
        .ok_or_else(|| wrong_type(name, col, "a string"))
}

fn decode_unguarded(bytes: &[u8]) -> Result<BTreeMap<String, Entry>, LedgerFileError> {
    let reader = crate::checked_builder(bytes::Bytes::copy_from_slice(bytes), None)
        .map_err(LedgerFileError::Parquet)?
        .build()
        .map_err(parquet_error)?;
    let mut out = BTreeMap::new();
    for batch in reader {
        entries_of(&batch.map_err(parquet_error)?, &mut |e| {
            out.insert(e.key.clone(), e);
        })?;
    }
    Ok(out)
}

/// Every entry of a batch, typed: a column of another type or a null where
/// a value is required is an error naming it.
fn entries_of(b: &RecordBatch, each: &mut dyn FnMut(Entry)) -> Result<(), LedgerFileError> {
    crate::check_batch(b).map_err(LedgerFileError::Damaged)?;
    let (key, etag, sha, outcome, group, detail, run_id) = (
        string_column(b, "key")?,
        string_column(b, "etag")?,
        string_column(b, "sha256")?,
        string_column(b, "outcome")?,
        string_column(b, "group")?,
        string_column(b, "detail")?,
        string_column(b, "run_id")?,
    );
    let size_col = column(b, "size")?;
    let size = size_col
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| wrong_type("size", size_col, "int64"))?;
    let at_col = column(b, "processed_at")?;
    let at = at_col
        .as_primitive_opt::<TimestampMicrosecondType>()
        .ok_or_else(|| wrong_type("processed_at", at_col, "timestamp[us]"))?;
    let row = |row: usize, problem: String| LedgerFileError::Row { row, problem };
    let opt = |a: &StringArray, i: usize| a.is_valid(i).then(|| a.value(i).to_string());
    let required = |a: &StringArray, name: &str, i: usize| {
        opt(a, i).ok_or_else(|| row(i, format!("`{name}` is null")))
    };
    for i in 0..b.num_rows() {
        let outcome_text = required(outcome, "outcome", i)?;
        let outcome = Outcome::parse(&outcome_text)
            .ok_or_else(|| row(i, format!("unknown outcome {outcome_text:?}")))?;
        if size.is_null(i) || at.is_null(i) {
            return Err(row(i, "`size` or `processed_at` is null".into()));
        }
        each(Entry {
            key: required(key, "key", i)?,
            etag: required(etag, "etag", i)?,
            size: u64::try_from(size.value(i))
                .map_err(|_| row(i, format!("negative size {}", size.value(i))))?,
            sha256: opt(sha, i),
            outcome,
            group: opt(group, i),
            detail: opt(detail, i),
            run_id: required(run_id, "run_id", i)?,
            processed_at_micros: at.value(i),
        });
    }
    Ok(())
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
    fn a_file_is_rewritten_as_a_snapshot_unless_out_of_order() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, keys: &[&str]| {
            let p = dir.path().join(name);
            let es: Vec<Entry> = keys.iter().map(|k| entry(k, Outcome::Merged)).collect();
            let mut w =
                ArrowWriter::try_new(std::fs::File::create(&p).unwrap(), schema(), None).unwrap();
            w.write(&batch_of(&es).unwrap()).unwrap();
            w.close().unwrap();
            p
        };
        let to = dir.path().join("snapshot.parquet");
        let sorted = write("sorted.parquet", &["a", "b", "c", "d", "e"]);
        assert_eq!(rewrite_as_snapshot(&sorted, &to, 2).unwrap(), Some(5));
        let bytes = std::fs::read(&to).unwrap();
        let n = bytes.len();
        let meta_len = footer_len(&bytes[n - 8..]).unwrap() as usize;
        let index =
            SnapshotIndex::from_metadata(&bytes[n - 8 - meta_len..n - 8], n as u64).unwrap();
        assert_eq!(index.row_groups.len(), 3, "row groups of 2");
        let reversed = write("reversed.parquet", &["b", "a"]);
        assert_eq!(rewrite_as_snapshot(&reversed, &to, 2).unwrap(), None);
        let junk = dir.path().join("junk.parquet");
        std::fs::write(&junk, b"PAR1 nothing PAR1").unwrap();
        assert!(rewrite_as_snapshot(&junk, &to, 2).is_err());
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
    fn snapshots_are_read_a_row_group_at_a_time() {
        let mut buf = Vec::new();
        let mut w = SnapshotWriter::new(&mut buf).unwrap();
        let n = SNAPSHOT_ROW_GROUP + 10;
        for i in 0..n {
            w.push(entry(&format!("k{i:08}"), Outcome::Merged)).unwrap();
        }
        assert_eq!(w.finish().unwrap(), n as u64);
        let len = buf.len() as u64;
        let meta_len = footer_len(&buf[buf.len() - 8..]).unwrap();
        let meta = &buf[buf.len() - 8 - meta_len as usize..buf.len() - 8];
        let index = SnapshotIndex::from_metadata(meta, len).unwrap();
        assert_eq!(index.row_groups.len(), 2);
        assert_eq!(
            index.row_groups[1].min_key.as_deref(),
            Some(format!("k{:08}", SNAPSHOT_ROW_GROUP).as_str())
        );
        let rg = &index.row_groups[1];
        let bytes =
            bytes::Bytes::copy_from_slice(&buf[rg.start as usize..(rg.start + rg.len) as usize]);
        let entries = index.read_row_group(1, bytes).unwrap();
        assert_eq!(entries.len(), 10);
        assert_eq!(entries[0].key, format!("k{:08}", SNAPSHOT_ROW_GROUP));
        let mut w = SnapshotWriter::new(Vec::new()).unwrap();
        w.push(entry("b", Outcome::Merged)).unwrap();
        assert!(
            w.push(entry("a", Outcome::Merged)).is_err(),
            "keys must increase"
        );
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
        assert!(
            matches!(e, LedgerFileError::ColumnType { column: "key", .. }),
            "{e}"
        );
        assert!(e.to_string().contains("`key`"), "{e}");
    }
}
