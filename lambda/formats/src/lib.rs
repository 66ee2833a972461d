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

use std::sync::Arc;

use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Type as Physical;
use parquet::column::page::{Page, PageReader};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::reader::ChunkReader;
use parquet::file::serialized_reader::SerializedPageReader;

/// What a parquet reader reads from, which the dictionary check reads a
/// second time.
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

/// The record batch reader's builder over `source`, once its dictionary
/// pages (of `groups`, all when `None`) passed [`check_dictionaries`]:
/// how every reader of outside parquet opens a whole file.
pub fn checked_builder<S: Source>(
    source: S,
    groups: Option<&[usize]>,
) -> Result<ParquetRecordBatchReaderBuilder<S>, String> {
    let again = source.again().map_err(|e| e.to_string())?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(source).map_err(|e| e.to_string())?;
    check_dictionaries(again, builder.metadata(), groups)?;
    Ok(builder)
}

/// Every dictionary page of the file holds at most the values its bytes
/// can. The parquet crate sizes a dictionary by the count its page header
/// declares, before reading a value: a damaged header of two billion
/// values in a 3 KB file took 8 GB and ended the process (found by
/// fuzzing `checkpoint_decode`). Readers run it through
/// [`checked_builder`], or directly where they hold only part of a file.
/// Data pages are skipped by their headers, not decompressed, so the
/// check costs the dictionaries only.
/// `groups`: the row groups to check (all when `None`), for a reader
/// that holds only their bytes.
pub(crate) fn check_dictionaries<R: ChunkReader + 'static>(
    reader: R,
    meta: &ParquetMetaData,
    groups: Option<&[usize]>,
) -> Result<(), String> {
    let reader = Arc::new(reader);
    for (i, group) in meta.row_groups().iter().enumerate() {
        if groups.is_some_and(|g| !g.contains(&i)) {
            continue;
        }
        let rows = usize::try_from(group.num_rows()).unwrap_or(0);
        for column in group.columns() {
            let bits: u64 = match column.column_type() {
                Physical::BOOLEAN => 1,
                Physical::INT32 | Physical::FLOAT | Physical::BYTE_ARRAY => 32,
                Physical::INT64 | Physical::DOUBLE => 64,
                Physical::INT96 => 96,
                Physical::FIXED_LEN_BYTE_ARRAY => 8,
            };
            let mut pages = SerializedPageReader::new(reader.clone(), column, rows, None)
                .map_err(|e| e.to_string())?;
            while let Some(next) = pages.peek_next_page().map_err(|e| e.to_string())? {
                if !next.is_dict {
                    pages.skip_next_page().map_err(|e| e.to_string())?;
                    continue;
                }
                if let Some(Page::DictionaryPage {
                    buf, num_values, ..
                }) = pages.get_next_page().map_err(|e| e.to_string())?
                    && u64::from(num_values) * bits > buf.len() as u64 * 8
                {
                    return Err(format!(
                        "column `{}`: a dictionary page declares {num_values} values in {} bytes",
                        column.column_path(),
                        buf.len()
                    ));
                }
            }
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
