//! # eventlog-checkpoint
//!
//! The visit-event checkpoint pipeline: event files (a local directory or
//! S3) validated and merged, exactly once per file version, into one
//! parquet checkpoint per (study, datatype) in the reference's format.
//!
//! One module per stage, called in order by [`run::run`]:
//!
//! 1. [`list`]: the objects under the source prefix;
//! 2. [`plan`]: the ones the ledger has not seen at this version;
//! 3. [`fetch`]: read and validated, each file isolated from the others;
//! 4. [`filter`]: events, problems, and the sandbox filter;
//! 5. [`group`]: by (study, datatype), one version per identity;
//! 6. [`merge`]: streamed into the existing checkpoint;
//! 7. [`commit`]: conditional writes, merged again on conflict;
//! 8. [`ledger`]: which files are done, committed last;
//! 9. [`report`]: the summary and the errors file.
//!
//! Only validated events reach the merge (`Valid<VisitEvent>`); every
//! error names the object it is about ([`error`]).

pub mod commit;
pub mod config;
pub mod error;
pub mod fault;
pub mod fetch;
pub mod filter;
pub mod group;
pub mod keys;
pub mod ledger;
pub mod list;
pub mod merge;
pub mod plan;
pub mod progress;
pub mod report;
pub mod run;
mod timed;

pub use error::{GroupError, RunError};
pub use run::{KeyRef, RunInput, RunOptions, new_run_id, run};

/// A ledger entry for `key` at version `etag`, merged by run "r".
#[cfg(test)]
pub(crate) fn test_entry(key: &str, etag: &str) -> ledger::Entry {
    ledger::Entry {
        key: key.into(),
        etag: etag.into(),
        size: 1,
        sha256: None,
        outcome: ledger::Outcome::Merged,
        group: None,
        detail: None,
        run_id: "r".into(),
        processed_at_micros: 0,
    }
}

/// A single-threaded runtime for the stage tests.
#[cfg(test)]
pub(crate) fn test_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}
