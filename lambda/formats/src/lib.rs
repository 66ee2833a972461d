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
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use parquet::file::reader::ChunkReader;

/// The record batch reader's builder over `source`, once its footer
/// passed [`thrift::check_footer`] and the pages of `groups` (all when
/// `None`) [`check_pages`]: how every reader of outside parquet opens a
/// whole file. The footer is read once, here, and handed to the builder.
pub fn checked_builder<R: ChunkReader + 'static>(
    source: R,
    groups: Option<&[usize]>,
) -> Result<ParquetRecordBatchReaderBuilder<R>, String> {
    let Some(metadata) = footer(&source)? else {
        // Too short, or no magic: the crate says what is wrong.
        return match ParquetRecordBatchReaderBuilder::try_new(source) {
            Err(e) => Err(e.to_string()),
            Ok(_) => Err("no parquet footer".into()),
        };
    };
    thrift::check_footer(&metadata)?;
    let parsed = ParquetMetaDataReader::decode_metadata(&metadata).map_err(|e| e.to_string())?;
    let meta = ArrowReaderMetadata::try_new(std::sync::Arc::new(parsed), Default::default())
        .map_err(|e| e.to_string())?;
    check_pages(&source, meta.metadata(), groups)?;
    Ok(ParquetRecordBatchReaderBuilder::new_with_metadata(
        source, meta,
    ))
}

/// The file's footer (the metadata bytes before its last 8); `None` for a
/// file too short or without the magic, or a footer longer than the file.
fn footer<R: ChunkReader>(source: &R) -> Result<Option<bytes::Bytes>, String> {
    let Some(tail_at) = source.len().checked_sub(8) else {
        return Ok(None);
    };
    let tail = source.get_bytes(tail_at, 8).map_err(|e| e.to_string())?;
    let Ok(len) = ledger::footer_len(&tail) else {
        return Ok(None);
    };
    let Some(at) = tail_at.checked_sub(len) else {
        return Ok(None);
    };
    source
        .get_bytes(at, len as usize)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// Every page the file's column chunks (of `groups`, all when `None`)
/// hold declares sizes its bytes can hold ([`pages`]): the parquet crate
/// allocates by those declarations before it reads a value (a damaged
/// dictionary count of two billion in a 3 KB file took 8 GB and ended the
/// process; found by fuzzing `checkpoint_decode`). Readers run it through
/// [`checked_builder`], or directly where they hold only part of a file.
/// It reads page headers only, never a page.
pub(crate) fn check_pages<R: ChunkReader>(
    reader: &R,
    meta: &ParquetMetaData,
    groups: Option<&[usize]>,
) -> Result<(), String> {
    for (i, group) in meta.row_groups().iter().enumerate() {
        if groups.is_some_and(|g| !g.contains(&i)) {
            continue;
        }
        let rows = usize::try_from(group.num_rows()).unwrap_or(0);
        for column in group.columns() {
            pages::check_column(reader, column, rows)?;
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
