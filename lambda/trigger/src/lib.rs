//! # eventlog-trigger
//!
//! What starts work, parsed: the invocation payloads of both Lambdas (and
//! of `eventlog xapi notify`). These are outside bytes, so every shape is
//! handled and every problem is a [`TriggerError`] naming the field; the
//! parsers are fuzzed (`fuzz/`).
//!
//! * [`checkpoint`]: the checkpoint function's event: a sweep (with
//!   configuration overrides), or the objects S3 notifications name,
//!   directly or in an SQS batch.
//! * [`notification`]: S3 notifications in all their envelopes.
//! * [`xapi`]: the xAPI loader's S3 notifications, SQS batches, bulk
//!   requests and health checks, routed.

pub mod checkpoint;
pub mod notification;
pub mod xapi;

/// An invocation event that cannot be used: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct TriggerError {
    pub field: String,
    pub message: String,
}

impl TriggerError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        TriggerError {
            field: field.into(),
            message: message.into(),
        }
    }
}
