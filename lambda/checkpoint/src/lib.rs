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
//! 9. [`summary`]: the run summary and the errors file.
//!
//! Only validated events reach the merge (`Valid<VisitEvent>`); every
//! error names the object it is about ([`error`]).
//!
//! ```text
//!  list/keys ─► plan ─► fetch ─► filter ─► group ─► merge ─► commit ─► ledger
//!      │          ▲                 │                            │
//!  ObjectStore  ledger          summary (counts, errors file) ◄──┘
//! ```
//!
//! One run over a folder of event files, then a second that finds nothing
//! new (the ledger remembers every file version):
//!
//! ```
//! use eventlog_checkpoint::{RunInput, RunOptions, new_run_id, run};
//! use eventlog_checkpoint::{config::RunSettings, progress::Silent};
//! use eventlog_store::local::LocalStore;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let (src, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
//! std::fs::create_dir(src.path().join("prod")).unwrap();
//! std::fs::write(
//!     src.path().join("prod/log-submit-20250318-202250-42-ingest-form-899485-2025-03-03.json"),
//!     r#"{"action":"submit","study":"adrc","pipeline_adcid":42,"project_label":"ingest-form","center_label":"alpha","gear_name":"form-scheduler","ptid":"899485","visit_date":"2025-03-03","datatype":"form","module":"UDS","packet":"I","timestamp":"2025-03-18T20:22:50Z"}"#,
//! )
//! .unwrap();
//! let (source, sink) = (LocalStore::new(src.path()), LocalStore::new(out.path()));
//! let opts = || RunOptions {
//!     settings: RunSettings::default(),
//!     run_id: new_run_id(None),
//!     deadline: None,
//!     input: RunInput::Sweep,
//! };
//! let first = run(&source, "prod/", &sink, "", &[], &opts(), &Silent).await.unwrap();
//! assert_eq!(first.valid_events, 1);
//! assert!(out.path().join("adrc/form/events.parquet").exists());
//! let second = run(&source, "prod/", &sink, "", &[], &opts(), &Silent).await.unwrap();
//! assert_eq!((second.already_processed, second.valid_events), (1, 0));
//! # });
//! ```

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
pub mod run;
pub mod settings;
pub mod summary;
mod timed;

pub use error::{GroupError, RunError};
pub use keys::KeyRef;
pub use run::{RunInput, RunOptions, new_run_id, run};

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
