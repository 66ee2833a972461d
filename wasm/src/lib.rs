//! # eventlog-wasm
//!
//! The visit-event validator of `eventlog-core`, compiled to WebAssembly.
//! Only conversion happens here: every rule lives in the core, so a report
//! from the browser, from Node, from a wasmtime host and from the
//! `eventlog` CLI are the same bytes for the same input.
//!
//! * With the default `bindgen` feature (built by wasm-pack for `--target
//!   web` and `--target nodejs`): `validate`, `validateJson`,
//!   `validateBatch`, `checkXapi`, `checkXapiJson`, `version`.
//! * With `--no-default-features --features raw`: a C ABI for other hosts,
//!   documented in [`raw`].

#[cfg(feature = "bindgen")]
mod bindgen;
/// The wasm-bindgen exports, callable from Rust too (tests).
#[cfg(feature = "bindgen")]
pub mod exports {
    pub use crate::bindgen::{
        check_xapi, check_xapi_json, validate, validate_batch, validate_json, version,
    };
}
// Only in wasm: natively, an exported `free` would replace libc's.
#[cfg(all(feature = "raw", target_arch = "wasm32"))]
pub mod raw;

/// The report for one file, as the CLI's `--format json` prints it
/// (`path` is the name, when given).
pub fn report_json(input: &[u8], name: Option<&str>) -> String {
    inject_fault(name);
    eventlog_core::visit::check_file(name.filter(|n| !n.is_empty()), input).to_json()
}

/// The xAPI report for a JSONL document, as `eventlog xapi check --format
/// json` prints it: one JSON line per non-blank line.
pub fn xapi_report_jsonl(input: &[u8], name: Option<&str>) -> String {
    inject_fault(name);
    eventlog_core::xapi::check::check_jsonl(input, name.filter(|n| !n.is_empty())).0
}

#[cfg(feature = "fault-injection")]
fn inject_fault(name: Option<&str>) {
    if name.is_some_and(|n| n.contains("EVENTLOG-TEST-PANIC")) {
        panic!("panic injected for {name:?}");
    }
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
fn inject_fault(_name: Option<&str>) {}

/// The version of the rules.
pub fn version() -> &'static str {
    eventlog_core::VERSION
}
