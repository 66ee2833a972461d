//! # eventlog-formats
//!
//! The files eventlog reads and writes besides the event files themselves:
//!
//! * [`checkpoint`]: the reference consumer's parquet checkpoint (15
//!   columns in its order, strings as `large_string`, `pipeline_adcid`
//!   int32, timestamps in microseconds UTC, ZSTD), and reading the files
//!   others wrote (Polars, v1.1 and v1.2) into that shape;
//! * [`ledger`]: the processed-objects ledger.
//!
//! Both readers take outside bytes: any damage or foreign shape is a typed
//! error naming the object and the column, never a panic, never "empty".
//! They are fuzzed (`fuzz/`).

pub mod checkpoint;
pub mod ledger;
mod pages;
mod thrift;

use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::reader::ChunkReader;

/// What a parquet reader reads from, which the page check reads a second
/// time.
pub trait Source: ChunkReader + Sized + 'static {
    fn again(&self) -> std::io::Result<Self>;
}

impl Source for bytes::Bytes {
    fn again(&self) -> std::io::Result<Self> {
        Ok(self.clone())
    }
}

impl Source for std::fs::File {
    fn again(&self) -> std::io::Result<Self> {
        self.try_clone()
    }
}

/// The record batch reader's builder over `source`, once the pages of
/// `groups` (all when `None`) passed [`check_pages`]:
/// how every reader of outside parquet opens a whole file.
pub fn checked_builder<S: Source>(
    source: S,
    groups: Option<&[usize]>,
) -> Result<ParquetRecordBatchReaderBuilder<S>, String> {
    footer_of(&source)?;
    let again = source.again().map_err(|e| e.to_string())?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(source).map_err(|e| e.to_string())?;
    check_pages(again, builder.metadata(), groups)?;
    Ok(builder)
}

/// The file's footer checked ([`thrift::check_footer`]) before the
/// parquet crate reads it; a file too short or without the magic is left
/// to the crate to refuse.
fn footer_of<R: ChunkReader>(source: &R) -> Result<(), String> {
    let len = source.len();
    let Some(tail_at) = len.checked_sub(8) else {
        return Ok(());
    };
    let tail = source.get_bytes(tail_at, 8).map_err(|e| e.to_string())?;
    let [a, b, c, d, b'P', b'A', b'R', b'1'] = tail[..] else {
        return Ok(());
    };
    let footer = u64::from(u32::from_le_bytes([a, b, c, d]));
    let Some(at) = tail_at.checked_sub(footer) else {
        return Ok(());
    };
    let metadata = source
        .get_bytes(at, footer as usize)
        .map_err(|e| e.to_string())?;
    thrift::check_footer(&metadata)
}

/// Every page the file's column chunks (of `groups`, all when `None`)
/// hold declares sizes its bytes can hold ([`pages`]): the parquet crate
/// allocates by those declarations before it reads a value (a damaged
/// dictionary count of two billion in a 3 KB file took 8 GB and ended the
/// process; found by fuzzing `checkpoint_decode`). Readers run it through
/// [`checked_builder`], or directly where they hold only part of a file.
/// It reads page headers only, never a page.
pub(crate) fn check_pages<R: ChunkReader + 'static>(
    reader: R,
    meta: &ParquetMetaData,
    groups: Option<&[usize]>,
) -> Result<(), String> {
    let reader = std::sync::Arc::new(reader);
    for (i, group) in meta.row_groups().iter().enumerate() {
        if groups.is_some_and(|g| !g.contains(&i)) {
            continue;
        }
        let rows = usize::try_from(group.num_rows()).unwrap_or(0);
        for column in group.columns() {
            pages::check_column(&reader, column, rows)?;
        }
    }
    Ok(())
}

/// Every column of a batch the parquet reader produced, checked in full
/// (offsets, and UTF-8 value by value). In release builds the parquet
/// crate can hand out string arrays whose bytes are not UTF-8 (found by
/// fuzzing: damaged pages it decodes without checking); read as `str`,
/// they would be undefined behaviour, so a batch is used only once it
/// passes.
pub(crate) fn check_batch(batch: &RecordBatch) -> Result<(), String> {
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        column
            .to_data()
            .validate_full()
            .map_err(|e| format!("column `{}` is damaged: {e}", field.name()))?;
    }
    Ok(())
}
