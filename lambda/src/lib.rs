//! # eventlog: the fronts
//!
//! The `eventlog` CLI and the two Lambda functions (`checkpoint-bootstrap` for the
//! checkpoint pipeline, `xapi-bootstrap` for the xAPI loader). A front
//! parses its input (flags, environment, an invocation event), calls the
//! stage crates and shapes the answer; the work itself lives in:
//!
//! * `eventlog-core`: the models and every validation rule (no I/O);
//! * `eventlog-store`: the object stores (a local directory, S3);
//! * `eventlog-formats`: the checkpoint and ledger files;
//! * `eventlog-trigger`: invocation events, parsed;
//! * `eventlog-checkpoint`: the checkpoint pipeline, a module per stage;
//! * `eventlog-xapi`: the xAPI loader and its ClickHouse client.

pub mod aws;
pub mod budget;
pub mod checkpoint_front;
pub mod dlq;
pub mod env;
pub mod init;
pub mod logging;
pub mod metrics;
pub mod secrets;
pub mod walk;
pub mod xapi_front;

/// A failed invocation, as the Lambda runtime reports it: a type the
/// function's `Errors` alarm and logs can tell apart, whether another
/// attempt could succeed, and the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct InvocationError {
    pub kind: &'static str,
    /// A network fault or a conflict (try again), or a problem that will
    /// recur (configuration, data): `Retryable.<kind>` or
    /// `NonRetryable.<kind>` in the runtime's `errorType`, so a queue
    /// redrive or an alarm can tell the two apart.
    pub retryable: bool,
    pub message: String,
}

impl InvocationError {
    /// The runtime's `errorType`.
    pub fn error_type(&self) -> String {
        let class = if self.retryable {
            "Retryable"
        } else {
            "NonRetryable"
        };
        format!("{class}.{}", self.kind)
    }
}

impl From<InvocationError> for lambda_runtime::Diagnostic {
    fn from(e: InvocationError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.error_type(),
            error_message: e.message,
        }
    }
}

/// Why a CLI command could not do its work (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A flag, a setting or an argument that cannot be used.
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Run(#[from] eventlog_checkpoint::RunError),
    #[error(transparent)]
    Store(#[from] eventlog_store::StoreError),
    #[error(transparent)]
    XapiConfig(#[from] eventlog_xapi::ConfigError),
    #[error(transparent)]
    Xapi(#[from] eventlog_xapi::XapiError),
    #[error(transparent)]
    ClickHouse(#[from] eventlog_xapi::clickhouse::ClickHouseError),
    #[error(transparent)]
    Invocation(#[from] InvocationError),
}
