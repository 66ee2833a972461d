//! The errors of the checkpoint pipeline. Each names the object it is
//! about; [`RunError::is_retryable`] says whether running again could help.

use eventlog_formats::checkpoint::CheckpointError;
use eventlog_store::StoreError;

use crate::config::SettingsError;
use crate::ledger::LedgerError;

/// What stops a run before anything is committed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] SettingsError),
    #[error("listing the source failed: {0}")]
    List(StoreError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl RunError {
    /// A short name of the kind, for structured errors (Lambda diagnostics).
    pub fn kind(&self) -> &'static str {
        match self {
            RunError::Config(_) => "ConfigError",
            RunError::List(_) => "ListError",
            RunError::Ledger(LedgerError::Corrupt { .. }) => "LedgerCorrupt",
            RunError::Ledger(LedgerError::Store(_)) => "LedgerUnreadable",
        }
    }

    /// Whether the same run later could succeed (a network fault, not a
    /// bad configuration or a damaged ledger).
    pub fn is_retryable(&self) -> bool {
        match self {
            RunError::Config(_) | RunError::Ledger(LedgerError::Corrupt { .. }) => false,
            RunError::List(e) | RunError::Ledger(LedgerError::Store(e)) => e.is_retryable(),
        }
    }
}

/// Why one group was not committed (its files wait for the next run).
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    /// The local scratch space for the merge (a directory under `path`).
    #[error("scratch directory in {path}: {source}")]
    Scratch {
        path: String,
        source: std::io::Error,
    },
    /// The checkpoint exists but could not be read: never "no checkpoint yet".
    #[error(transparent)]
    Read(StoreError),
    #[error(transparent)]
    Merge(#[from] CheckpointError),
    #[error("{location}: merging failed: {message}")]
    Panicked { location: String, message: String },
    #[error(transparent)]
    Write(StoreError),
    /// The run's deadline came first: nothing of this group was written,
    /// and its files are left for the next run.
    #[error(
        "{location}: the run's deadline was reached before this group was {what}; left for the next run"
    )]
    Deadline {
        location: String,
        what: &'static str,
    },
}

impl GroupError {
    /// The run's time ran out (here or inside a store request): nothing
    /// to retry in this run, but the next run has its own time.
    pub fn is_deadline(&self) -> bool {
        matches!(
            self,
            GroupError::Deadline { .. }
                | GroupError::Read(StoreError::Deadline { .. })
                | GroupError::Write(StoreError::Deadline { .. })
        )
    }

    pub fn is_retryable(&self) -> bool {
        match self {
            GroupError::Read(e) | GroupError::Write(e) => e.is_retryable() || e.is_precondition(),
            GroupError::Scratch { .. } => true,
            GroupError::Merge(_) | GroupError::Panicked { .. } | GroupError::Deadline { .. } => {
                false
            }
        }
    }
}
