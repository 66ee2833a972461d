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
