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

use arrow_array::{Array, RecordBatch};

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
