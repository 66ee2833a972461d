//! # eventlog
//!
//! The pipelines around `eventlog-core`: reading event files from a local
//! directory or S3, validating them, merging them into parquet checkpoints,
//! and loading xAPI statements into ClickHouse; plus the `eventlog` CLI and
//! the Lambda binaries that drive them.

pub mod checkpoint;
pub mod clickhouse;
pub mod commit;
pub mod config;
pub mod fault;
pub mod fetch;
pub mod group;
pub mod lambda_fn;
pub mod ledger;
pub mod location;
pub mod merge;
pub mod metrics;
pub mod plan;
pub mod progress;
pub mod run;
pub mod store;
pub mod summary;
pub mod walk;
pub mod xapi;
