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
