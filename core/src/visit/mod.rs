//! Visit events: the model, its validation, file names, merge identity.
//!
//! [`validate`] turns raw file bytes into a [`VisitEvent`] or a list of
//! [`Issue`]s, with the reference consumer's verdict on every input except
//! the deliberate differences listed in `docs/differences.md`.
//!
//! ```
//! use eventlog_core::visit;
//! let body = br#"{"action":"submit","project_label":"ingest-form","center_label":"alpha",
//!   "gear_name":"identifier-lookup","datatype":"form","module":"UDS",
//!   "timestamp":"2024-01-15T10:00:00-05:00","visit_date":"2024-01-15",
//!   "pipeline_adcid":"42","ptid":" 110001 "}"#;
//! let checked = visit::validate(body);
//! let event = checked.event.expect("valid");
//! assert_eq!(event.pipeline_adcid, 42);
//! assert_eq!(event.ptid, "110001");
//! assert_eq!(event.timestamp.to_rfc3339(), "2024-01-15T15:00:00Z");
//! ```

mod file;
mod identity;
pub mod key;
mod model;
mod rules;
mod timestamp;
mod valid;

pub use file::{FileReport, check_file};
pub use identity::Identity;
pub use model::{Action, Datatype, Text, VisitEvent};
pub use rules::{Validation, validate, validate_value};
pub use timestamp::{ParsedTimestamp, Timestamp, WallStamp};
pub use valid::Valid;
