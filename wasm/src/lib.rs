//! # eventlog-wasm
//!
//! The visit-event validator of `eventlog-core`, compiled to WebAssembly.
//! Only conversion happens here: every rule lives in the core, so a report
//! from the browser, from Node, from a wasmtime host and from the
//! `eventlog` CLI are the same bytes for the same input.
//!
//! * With the default `bindgen` feature (built by scripts/build-wasm.sh, wasm-bindgen `--target
//!   web` and `--target nodejs`): `validate`, `validateJson`,
//!   `validateBatch`, `validateBatchPlain`, `explain`, `checkXapi`,
//!   `checkXapiJson`, `checkXapiRawJson`, `version`.
//! * With `--no-default-features --features raw`: a C ABI for other hosts,
//!   documented in [`raw`].

#[cfg(feature = "bindgen")]
mod bindgen;
/// The wasm-bindgen exports, callable from Rust too (tests).
#[cfg(feature = "bindgen")]
pub mod exports {
    pub use crate::bindgen::{
        check_xapi, check_xapi_json, check_xapi_raw_json, explain, validate, validate_batch,
        validate_batch_plain, validate_json, version,
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

/// The report with what the browser checker shows beside it: `plain`, each
/// problem (errors, then name findings) in plain words with what to do;
/// `places`, where each is, for people; `suggested_name`, the name the
/// content calls for when the name is off. The JSON report's own members
/// come first and are unchanged.
pub fn report_plain_json(input: &[u8], name: Option<&str>) -> String {
    use eventlog_core::plain::{explain_all, place};
    use eventlog_core::report::write_json_str;
    inject_fault(name);
    let r = eventlog_core::visit::check_file(name.filter(|n| !n.is_empty()), input);
    let mut out = r.to_json();
    out.pop();
    let issues: Vec<_> = r
        .errors
        .iter()
        .chain(r.name_findings.iter().flatten())
        .collect();
    let suggested = r.suggested_name.as_deref();
    for (key, text) in [
        ("plain", explain_all(&r)),
        ("places", issues.iter().map(|i| place(&i.field)).collect()),
    ] {
        out.push_str(&format!(",\"{key}\":["));
        for (k, t) in text.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            write_json_str(&mut out, t);
        }
        out.push(']');
    }
    if let Some(n) = suggested {
        out.push_str(",\"suggested_name\":");
        write_json_str(&mut out, n);
    }
    out.push('}');
    out
}

/// The CLI's text for one file (`eventlog validate`, without the summary
/// line), coloured like a terminal's when `color`.
pub fn report_text(input: &[u8], name: Option<&str>, color: bool) -> String {
    inject_fault(name);
    let r = eventlog_core::visit::check_file(name.filter(|n| !n.is_empty()), input);
    let paint = |tint: &str, text: &str| {
        if color {
            format!("\x1b[{tint}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    eventlog_core::plain::text_block(&r, &paint)
}

/// The xAPI report for a JSONL document, as `eventlog xapi check --format
/// json` prints it: one JSON line per non-blank line.
pub fn xapi_report_jsonl(input: &[u8], name: Option<&str>) -> String {
    inject_fault(name);
    eventlog_core::xapi::check::check_jsonl(input, name.filter(|n| !n.is_empty())).0
}

/// The raw-events target's check of a JSONL object, as `eventlog xapi
/// check --target raw-events --format json` prints it: one JSON line per
/// non-empty line (universal newlines), with its event type, its hash and
/// the problem that fails the object, if any.
pub fn xapi_raw_report_jsonl(input: &[u8], name: Option<&str>) -> String {
    inject_fault(name);
    let limits = eventlog_core::xapi::raw::Limits::default();
    eventlog_core::xapi::raw::check::check_object(input, name.filter(|n| !n.is_empty()), &limits).0
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
