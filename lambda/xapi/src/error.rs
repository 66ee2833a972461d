//! The xAPI loader's errors. Each names what it is about (a file, a
//! setting, the ClickHouse server) and says whether trying again could help.

use eventlog_store::StoreError;

use crate::clickhouse::ClickHouseError;

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
