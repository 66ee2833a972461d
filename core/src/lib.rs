//! # eventlog-core
//!
//! The models and every rule of eventlog, with no I/O, clock or threads, so
//! the same code runs in the Lambda, the CLI, a browser and a wasm host.
//!
//! ```text
//! bytes ─► json::decode ─► visit::validate ─► VisitEvent ─► Identity (merge)
//!                                    └──────► FileReport (errors, name findings)
//! ```
//!
//! `no_std` + `alloc`; the default `std` feature only adds
//! `std::error::Error` impls.
//!
//! One event file, checked as the pipeline checks it (content and name):
//!
//! ```
//! let event = br#"{"action":"submit","study":"adrc","pipeline_adcid":42,"project_label":"ingest-form","center_label":"alpha","gear_name":"form-scheduler","ptid":"899485","visit_date":"2025-03-03","datatype":"form","module":"UDS","packet":"I","timestamp":"2025-03-18T20:22:50Z"}"#;
//! let report = eventlog_core::visit::check_file(
//!     Some("prod/log-submit-20250318-202250-42-ingest-form-899485-2025-03-03.json"),
//!     event,
//! );
//! assert!(report.valid, "{:?}", report.errors);
//! assert!(report.name_findings.iter().flatten().next().is_none());
//!
//! // The same content under a name the pipeline never reads:
//! let misnamed = eventlog_core::visit::check_file(Some("event.json"), event);
//! assert!(misnamed.valid);
//! assert!(misnamed.name_findings.iter().flatten().any(|i| i.code.as_str() == "name_not_read"));
//! ```

#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod calendar;
pub mod json;
pub mod plain;
pub mod report;
mod unicode;
mod unicode_tables;
pub mod visit;
pub mod xapi;

pub use report::{Code, Issue};

/// The version of the rules, as built.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
