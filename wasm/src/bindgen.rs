//! wasm-bindgen exports for JavaScript.

use std::cell::Cell;

use js_sys::{Array, ArrayBuffer, JSON, JsString, Uint8Array};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** One problem: where, what, and a sentence for people. */
export interface Issue {
  /** A field name, `__root__` (the document), `__json__` (decoding), or `name.<part>` (file name). */
  field: string;
  /** Machine-readable code, e.g. `missing`, `int_parsing`, `name_mismatch`. */
  code: string;
  message: string;
}

/** A valid event, normalised: the reference's 15 fields in its order. */
export interface VisitEvent {
  action: "submit" | "delete" | "not-pass-qc" | "pass-qc";
  study: string;
  pipeline_adcid: number;
  project_label: string;
  center_label: string;
  gear_name: string;
  ptid: string;
  naccid: string | null;
  visit_date: string;
  visit_number: string | null;
  datatype: "apoe" | "biomarker" | "dicom" | "enrollment" | "form" | "genetic-availability" | "gwas" | "imputation" | "scan-analysis";
  module: string | null;
  packet: string | null;
  modality: string | null;
  /** UTC, `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`. */
  timestamp: string;
}

/** The report for one file (the same JSON as `eventlog validate --format json`). */
export interface Report {
  /** The name given, if any. */
  path?: string;
  /** The verdict on the content alone. */
  valid: boolean;
  /** Present when valid. */
  event?: VisitEvent;
  errors: Issue[];
  /** Present when the name starts with `log-`: the name checked against the content. */
  name_findings?: Issue[];
}

/** One non-blank line of an xAPI JSONL document, as the loader sees it. */
export type XapiLine =
  | { file?: string; line: number; verdict: "loadable";
      /** The ClickHouse table it loads into. */
      table: "video_events" | "activity_attempt_events" | "page_attempt_events" | "page_viewed_events" | "part_attempt_events";
      /** The statement kind of Torus's schema, null when none matches. */
      kind: string | null;
      /** The statement id, or the SHA-256 of the line when it has none. */
      event_id: string;
      /** Schema problems: the row still loads. */
      issues: Issue[] }
  | { file?: string; line: number; verdict: "unknown"; verb: string }
  | { file?: string; line: number; verdict: "invalid"; reason: string };

/** One non-empty line of an object for the raw-events target. */
export interface XapiRawLine {
  file?: string;
  /** The physical line, 1-based (universal newlines). */
  line: number;
  /** The row's `source_line`: its place among the non-empty lines. */
  source_line: number;
  event_type: "video" | "activity_attempt" | "page_attempt" | "page_viewed" | "part_attempt" | "unknown" | null;
  /** SHA-256 of the line's bytes. */
  event_hash: string;
  /** Rows it gives in experiment_attributions (absent with a problem). */
  attributions?: number;
  /** Why it fails its object: nothing of the object loads. */
  problem?: { field: string; code: string; message: string };
}
"#;

#[wasm_bindgen]
extern "C" {
    /// The host's `TextEncoder`.
    type TextEncoder;
    #[wasm_bindgen(constructor)]
    fn new() -> TextEncoder;
    #[wasm_bindgen(method, js_name = encodeInto)]
    fn encode_into(this: &TextEncoder, source: &JsString, into: &Uint8Array) -> Encoded;

    /// What `encodeInto` reports.
    type Encoded;
    #[wasm_bindgen(method, getter)]
    fn written(this: &Encoded) -> u32;
}

thread_local! {
    static ENCODER: TextEncoder = TextEncoder::new();
    /// The buffer for the input's bytes, kept between calls: allocating
    /// it per document cost more than filling it. Taken out for the call,
    /// so a call that traps leaves an empty one, not a borrowed one.
    static INPUT: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    /// A view of that buffer for the host to encode strings into.
    static VIEW: Cell<Option<View>> = const { Cell::new(None) };
}

/// Inputs larger than this do not keep their buffer after the call.
const KEPT_INPUT: usize = 1 << 20;

/// What a string is first encoded into: most documents fit, and a longer
/// one is encoded again into room made for it.
const FIRST_TRY: usize = 64 << 10;

/// A `Uint8Array` over `len` bytes of this module's memory at `at`. It is
/// good while the memory has not grown (growing detaches every view), so
/// it is kept with the memory's size when it was made.
struct View {
    array: Uint8Array,
    at: usize,
    len: usize,
    pages: usize,
}

#[cfg(target_arch = "wasm32")]
fn memory_pages() -> usize {
    core::arch::wasm32::memory_size(0)
}

/// Built natively only for checks and tests, where no JavaScript runs.
#[cfg(not(target_arch = "wasm32"))]
fn memory_pages() -> usize {
    0
}

/// `f` of a view of `buf`'s whole capacity (`buf` is empty), for the host
/// to write into; the view is kept for the next call while the buffer
/// stays where it is.
fn with_spare_view<R>(buf: &mut Vec<u8>, f: impl FnOnce(&Uint8Array) -> R) -> R {
    let (at, len) = (buf.as_mut_ptr() as usize, buf.capacity());
    let pages = memory_pages();
    let view = match VIEW.take() {
        Some(v) if (v.at, v.len, v.pages) == (at, len, pages) => v,
        // SAFETY: the view covers the vector's capacity; it is used only
        // while nothing else writes to the vector (the host's
        // `encodeInto` or `set`, which run no code of this module).
        _ => View {
            array: unsafe { Uint8Array::view_mut_raw(buf.as_mut_ptr(), len) },
            at,
            len,
            pages,
        },
    };
    let out = f(&view.array);
    VIEW.set(Some(view));
    out
}

/// Lets the host encode `s` into `buf`'s spare capacity (`buf` is empty)
/// and returns how many bytes it wrote.
fn encode_into_spare(buf: &mut Vec<u8>, s: &JsString) -> usize {
    let len = buf.capacity();
    let written = with_spare_view(buf, |view| {
        ENCODER.with(|e| e.encode_into(s, view).written())
    }) as usize;
    written.min(len)
}

/// A string's UTF-8 into the empty `buf`, written by the host straight
/// into this module's memory. wasm-bindgen's own copy (`as_string`) walks
/// the string a character at a time in JavaScript, which took longer than
/// validating the document; `encodeInto` is one native call, and with the
/// view kept from call to call a string costs three calls into
/// JavaScript in all.
fn fill_from_string(buf: &mut Vec<u8>, s: &JsString) {
    buf.reserve(FIRST_TRY);
    let mut written = encode_into_spare(buf, s);
    // With four bytes to spare every character fitted (none takes more),
    // so the whole string was encoded.
    if written + 4 > buf.capacity() {
        // One UTF-16 unit is at most three bytes of UTF-8.
        buf.reserve(s.length() as usize * 3);
        written = encode_into_spare(buf, s);
    }
    // SAFETY: the host wrote `written` bytes of UTF-8, within the capacity.
    unsafe { buf.set_len(written) };
}

/// An array's bytes into the empty `buf`: one `set` on the kept view,
/// where `copy_to` would make a new view per call and the vector would be
/// zeroed first.
fn fill_from_array(buf: &mut Vec<u8>, a: &Uint8Array) {
    let len = a.length() as usize;
    buf.reserve(len.max(FIRST_TRY));
    with_spare_view(buf, |view| view.set(a, 0));
    // SAFETY: the host copied `len` bytes to the start of the capacity,
    // which is at least `len`.
    unsafe { buf.set_len(len) };
}

/// `f` of the input's bytes.
fn with_bytes<R>(input: &JsValue, f: impl FnOnce(&[u8]) -> R) -> Result<R, JsError> {
    let mut buf = INPUT.take();
    buf.clear();
    // Bytes first: they are what files are read as, and probing for a
    // string first cost a call into JavaScript per document.
    if let Some(a) = input.dyn_ref::<Uint8Array>() {
        fill_from_array(&mut buf, a);
    } else if let Some(s) = input.dyn_ref::<JsString>() {
        fill_from_string(&mut buf, s);
    } else if let Some(b) = input.dyn_ref::<ArrayBuffer>() {
        fill_from_array(&mut buf, &Uint8Array::new(b));
    } else {
        return Err(JsError::new(
            "input must be a string, a Uint8Array or an ArrayBuffer",
        ));
    }
    let out = f(&buf);
    if buf.capacity() <= KEPT_INPUT {
        INPUT.set(buf);
    }
    Ok(out)
}

/// The report for one file, as JSON text (byte-identical to the CLI's).
/// Pass bytes (`Uint8Array`) to have a BOM, UTF-16 and the like judged
/// exactly as the pipeline judges the S3 object.
#[wasm_bindgen(js_name = validateJson)]
pub fn validate_json(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | ArrayBuffer")] input: JsValue,
    name: Option<String>,
) -> Result<String, JsError> {
    with_bytes(&input, |b| crate::report_json(b, name.as_deref()))
}

/// The report for one file, as an object.
#[wasm_bindgen(unchecked_return_type = "Report")]
pub fn validate(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | ArrayBuffer")] input: JsValue,
    name: Option<String>,
) -> Result<JsValue, JsError> {
    let text = validate_json(input, name)?;
    JSON::parse(&text).map_err(|_| JsError::new("internal: report is not JSON"))
}

/// Many files in one call: one JSON line per input, in order (JSON Lines).
/// `names[i]` (optional) names `inputs[i]`.
#[wasm_bindgen(js_name = validateBatch)]
pub fn validate_batch(
    #[wasm_bindgen(unchecked_param_type = "Array<string | Uint8Array | ArrayBuffer>")]
    inputs: Array,
    #[wasm_bindgen(unchecked_param_type = "Array<string | null | undefined> | undefined")]
    names: Option<Array>,
) -> Result<String, JsError> {
    batch(&inputs, names.as_ref(), crate::report_json)
}

/// One line per input, each `report(input, name)`.
fn batch(
    inputs: &Array,
    names: Option<&Array>,
    report: fn(&[u8], Option<&str>) -> String,
) -> Result<String, JsError> {
    let mut out = String::new();
    for (i, input) in inputs.iter().enumerate() {
        let name = names.and_then(|n| n.get(i as u32).as_string());
        out.push_str(&with_bytes(&input, |b| report(b, name.as_deref()))?);
        out.push('\n');
    }
    Ok(out)
}

/// As [`validate_batch`], each report with what the browser checker shows:
/// `plain` (each problem, errors then name findings, in plain words with
/// what to do), `places` (where each is, for people) and `suggested_name`
/// (the name the content calls for, when the name is off).
#[wasm_bindgen(js_name = validateBatchPlain)]
pub fn validate_batch_plain(
    #[wasm_bindgen(unchecked_param_type = "Array<string | Uint8Array | ArrayBuffer>")]
    inputs: Array,
    #[wasm_bindgen(unchecked_param_type = "Array<string | null | undefined> | undefined")]
    names: Option<Array>,
) -> Result<String, JsError> {
    batch(&inputs, names.as_ref(), crate::report_plain_json)
}

/// One problem (`field`, `code`, `message`, as in a report) in plain words
/// with what to do; `suggestedName` completes the advice on a file name.
#[wasm_bindgen]
pub fn explain(
    field: &str,
    code: &str,
    message: &str,
    #[wasm_bindgen(js_name = suggestedName)] suggested_name: Option<String>,
) -> String {
    eventlog_core::plain::explain(field, code, message, suggested_name.as_deref())
}

/// Check an xAPI JSONL document line by line: JSON Lines text, one line
/// per non-blank input line (byte-identical to `eventlog xapi check
/// --format json`).
#[wasm_bindgen(js_name = checkXapiJson)]
pub fn check_xapi_json(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | ArrayBuffer")] input: JsValue,
    name: Option<String>,
) -> Result<String, JsError> {
    with_bytes(&input, |b| crate::xapi_report_jsonl(b, name.as_deref()))
}

/// Check an xAPI JSONL object for the raw-events target (`raw_events`,
/// `experiment_attributions`): JSON Lines text, one line per non-empty
/// line, byte-identical to `eventlog xapi check --target raw-events
/// --format json`.
#[wasm_bindgen(js_name = checkXapiRawJson)]
pub fn check_xapi_raw_json(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | ArrayBuffer")] input: JsValue,
    name: Option<String>,
) -> Result<String, JsError> {
    with_bytes(&input, |b| crate::xapi_raw_report_jsonl(b, name.as_deref()))
}

/// Check an xAPI JSONL document line by line, as objects.
#[wasm_bindgen(js_name = checkXapi, unchecked_return_type = "XapiLine[]")]
pub fn check_xapi(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | ArrayBuffer")] input: JsValue,
    name: Option<String>,
) -> Result<JsValue, JsError> {
    let out = Array::new();
    for line in check_xapi_json(input, name)?.lines() {
        out.push(&JSON::parse(line).map_err(|_| JsError::new("internal: report is not JSON"))?);
    }
    Ok(out.into())
}

/// The version of the rules.
#[wasm_bindgen]
pub fn version() -> String {
    crate::version().to_string()
}
