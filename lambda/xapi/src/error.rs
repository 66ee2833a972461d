//! The xAPI loader's errors. Each names what it is about (a file, a
//! setting, the ClickHouse server) and says whether trying again could help.

use eventlog_store::StoreError;

/// A setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(variable: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            variable: variable.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClickHouseError {
    #[error("ClickHouse at {url} answered {status}: {message}")]
    Server {
        url: String,
        status: u16,
        code: Option<u32>,
        message: String,
    },
    #[error("ClickHouse at {url} could not be reached: {message}")]
    Transport { url: String, message: String },
    /// The run's time ran out before an answer: nothing more is waited for.
    #[error("ClickHouse at {url}: the run's deadline was reached ({what})")]
    Deadline { url: String, what: String },
}

impl ClickHouseError {
    /// The server could not be reached at all (after the retries): later
    /// requests of the same load would fail the same way.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            ClickHouseError::Transport { .. } | ClickHouseError::Deadline { .. }
        ) || matches!(
            self,
            ClickHouseError::Server {
                status: 502..=504,
                code: None,
                ..
            }
        )
    }

    /// A ClickHouse error code that says "later" (overload, timeouts, Keeper).
    pub fn is_transient(&self) -> bool {
        self.retryable(false)
    }

    /// Worth another attempt: the network, a gateway in between, or a
    /// ClickHouse error that says "later" (overload, timeouts, Keeper).
    pub(crate) fn retryable(&self, own_time_limit: bool) -> bool {
        // TIMEOUT_EXCEEDED, TOO_MANY_SIMULTANEOUS_QUERIES, SOCKET_TIMEOUT,
        // NETWORK_ERROR, MEMORY_LIMIT_EXCEEDED, TOO_MANY_PARTS,
        // UNKNOWN_STATUS_OF_INSERT, SYSTEM_ERROR, KEEPER_EXCEPTION.
        const TRANSIENT: [u32; 9] = [159, 202, 209, 210, 241, 252, 319, 425, 999];
        match self {
            ClickHouseError::Transport { .. } => true,
            ClickHouseError::Deadline { .. } => false,
            ClickHouseError::Server {
                status, code: None, ..
            } => matches!(status, 502..=504),
            // Our own max_execution_time ran out: the same query would too.
            ClickHouseError::Server {
                code: Some(159), ..
            } if own_time_limit => false,
            ClickHouseError::Server { code: Some(c), .. } => TRANSIENT.contains(c),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum XapiError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    ClickHouse(#[from] ClickHouseError),
    /// A statement file could not be opened or read.
    #[error("{file}: {message}")]
    Read {
        file: String,
        message: String,
        retryable: bool,
    },
    /// Listing a bucket failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The server-side path cannot take these files.
    #[error("{file}: {message}")]
    NotServerSide { file: String, message: String },
}

impl XapiError {
    pub fn read(file: impl Into<String>, message: impl std::fmt::Display, retryable: bool) -> Self {
        XapiError::Read {
            file: file.into(),
            message: message.to_string(),
            retryable,
        }
    }

    /// A short name of the kind, for structured errors (Lambda diagnostics).
    pub fn kind(&self) -> &'static str {
        match self {
            XapiError::Config(_) => "ConfigError",
            XapiError::ClickHouse(_) => "ClickHouseError",
            XapiError::Read { .. } => "ReadError",
            XapiError::Store(_) => "S3Error",
            XapiError::NotServerSide { .. } => "NotServerSide",
        }
    }

    pub fn is_retryable(&self) -> bool {
        match self {
            XapiError::Config(_) | XapiError::NotServerSide { .. } => false,
            XapiError::ClickHouse(e) => e.is_unreachable() || e.is_transient(),
            XapiError::Read { retryable, .. } => *retryable,
            XapiError::Store(e) => e.is_retryable(),
        }
    }
}
