//! # eventlog
//!
//! The pipelines around `eventlog-core`: reading event files from a local
//! directory or S3, validating them, merging them into parquet checkpoints,
//! and loading xAPI statements into ClickHouse; plus the `eventlog` CLI and
//! the Lambda binaries that drive them.

pub mod walk;
