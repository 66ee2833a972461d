//! The `raw_events` target: what Torus loads today (spec
//! `xapi-raw-events.md`). One row per statement, whatever its type, plus
//! zero or more `experiment_attributions` rows; the rules are the
//! reference Lambda's (§4–§6), written once here as tables of columns.
//!
//! ```text
//! line ─► decode (strict JSON, one object) ─► containers (§2)
//!      ─► RAW: 42 columns, each a Rule over paths ─► raw row
//!      └► context.extensions.…experiment_attributions ─► ATTRIBUTION rows
//! ```
//!
//! [`derive`] computes the rows here (the in-process path, `xapi check`,
//! WebAssembly); [`sql`] renders the same rules as ClickHouse expressions
//! for the server-side path. A statement either yields its rows or a
//! [`Problem`], which fails its whole object, as the reference does.

pub mod attribution;
pub mod check;
pub mod isotime;
pub mod py;
pub mod sql;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::columns::Path;
use super::containers::{At, Containers};
use super::extract::{Cell, lookup};
use super::{Category, classify_ids};
use crate::json::{self, Value};

pub const RAW_TABLE: &str = "raw_events";
pub const ATTRIBUTION_TABLE: &str = "experiment_attributions";

/// How a column's value is computed (spec §4.1). Paths are read at the
/// first occurrence of a duplicated member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// text() of the value at the path; NULL when absent or null.
    Text(Path),
    /// text() of the first truthy value.
    TextFirstTruthy(&'static [Path]),
    /// int(), which must fit `0..=max` or the object fails.
    Int(Path, u64),
    /// float().
    Float(Path),
    /// float() of the first truthy value.
    FloatFirstTruthy(&'static [Path]),
    /// bool().
    Bool(Path),
    /// json().
    Json(Path),
    /// A list's length, else int() as `UInt32`.
    Count(Path),
    /// `result.response`: an object's truthy `input` as text(), else
    /// json(); a string as is; anything else text().
    Response,
    /// `object.definition.subType`: text() of a scalar; a container fails
    /// the object.
    SubType,
    /// `object.id`, text(), only on video statements.
    VideoUrl,
    /// §4.3.
    Timestamp,
    /// §3, on `verb.id` and `object.definition.type` as given.
    EventType,
    /// `verb.id`; `''` when absent or falsy.
    Verb,
    /// §5: SHA-256 of the line's bytes.
    EventHash,
    SourceFile,
    SourceEtag,
    SourceLine,
}

#[derive(Debug, Clone, Copy)]
pub struct RawColumn {
    pub name: &'static str,
    pub ch_type: &'static str,
    pub rule: Rule,
    /// `ch_type` as RowBinary writes it.
    pub wire: super::extract::WireType,
    /// The rule's paths (up to three) with their containers.
    pub at: [At; 3],
}

impl super::extract::Typed for RawColumn {
    fn name(&self) -> &str {
        self.name
    }
    fn ch_type(&self) -> &str {
        self.ch_type
    }
    fn wire(&self) -> super::extract::WireType {
        self.wire
    }
}

const fn col(name: &'static str, ch_type: &'static str, rule: Rule) -> RawColumn {
    RawColumn {
        name,
        ch_type,
        rule,
        wire: super::extract::wire_type(ch_type),
        at: rule_paths(rule),
    }
}

/// A path with its §2 container, found at compile time.
const fn at(path: Path) -> At {
    super::containers::at(&TABLE.paths, path)
}

const fn rule_paths(rule: Rule) -> [At; 3] {
    use super::containers::at_each;
    match rule {
        Rule::Text(p)
        | Rule::Int(p, _)
        | Rule::Float(p)
        | Rule::Bool(p)
        | Rule::Json(p)
        | Rule::Count(p) => at_each(&TABLE.paths, &[p]),
        Rule::TextFirstTruthy(ps) | Rule::FloatFirstTruthy(ps) => at_each(&TABLE.paths, ps),
        _ => [At::NONE; 3],
    }
}

const RESPONSE: At = at(&["result", "response"]);
const SUB_TYPE: At = at(&["object", "definition", "subType"]);
const OBJECT_ID: At = at(&["object", "id"]);
const VERB_ID: At = at(&["verb", "id"]);
const OBJECT_TYPE: At = at(&["object", "definition", "type"]);

macro_rules! ext {
    ($k:literal) => {
        &[
            "context",
            "extensions",
            concat!("http://oli.cmu.edu/extensions/", $k),
        ]
    };
}
macro_rules! video {
    ($at:literal, $k:literal) => {
        &[
            $at,
            "extensions",
            concat!("https://w3id.org/xapi/video/extensions/", $k),
        ]
    };
}

const S: &str = "Nullable(String)";
const U64: &str = "Nullable(UInt64)";
const U32: &str = "Nullable(UInt32)";
const F64: &str = "Nullable(Float64)";
const B: &str = "Nullable(Bool)";
const LC: &str = "LowCardinality(String)";
const MAX64: u64 = u64::MAX;
const MAX32: u64 = u32::MAX as u64;

/// The attributions' member, for the statement's list of them.
pub const ATTRIBUTIONS: Path = ext!("experiment_attributions");

/// The columns the loader writes, in the reference's insert order (table
/// order without `inserted_at` and `event_version`, which the server
/// fills).
pub const RAW: &[RawColumn] = &[
    col(
        "user_id",
        S,
        Rule::TextFirstTruthy(&[&["actor", "account", "name"], &["actor", "mbox"]]),
    ),
    col(
        "home_page",
        S,
        Rule::Text(&["actor", "account", "homePage"]),
    ),
    col("section_id", U64, Rule::Int(ext!("section_id"), MAX64)),
    col("project_id", U64, Rule::Int(ext!("project_id"), MAX64)),
    col(
        "publication_id",
        U64,
        Rule::Int(ext!("publication_id"), MAX64),
    ),
    col(
        "enrollment_id",
        U64,
        Rule::Int(ext!("enrollment_id"), MAX64),
    ),
    col("timestamp", "DateTime64(3)", Rule::Timestamp),
    col("event_type", LC, Rule::EventType),
    col("verb_id", LC, Rule::Verb),
    col("page_id", U64, Rule::Int(ext!("page_id"), MAX64)),
    col(
        "content_element_id",
        S,
        Rule::TextFirstTruthy(&[
            &["result", "extensions", "content_element_id"],
            ext!("content_element_id"),
        ]),
    ),
    col("video_url", S, Rule::VideoUrl),
    col("video_time", F64, Rule::Float(video!("result", "time"))),
    col(
        "video_length",
        F64,
        Rule::FloatFirstTruthy(&[
            video!("result", "length"),
            video!("context", "length"),
            &[
                "object",
                "definition",
                "extensions",
                "https://w3id.org/xapi/video/extensions/length",
            ],
        ]),
    ),
    col(
        "video_progress",
        F64,
        Rule::Float(video!("result", "progress")),
    ),
    col(
        "video_played_segments",
        S,
        Rule::Json(video!("result", "played-segments")),
    ),
    col(
        "video_seek_from",
        F64,
        Rule::Float(video!("result", "time-from")),
    ),
    col(
        "video_seek_to",
        F64,
        Rule::Float(video!("result", "time-to")),
    ),
    col(
        "activity_attempt_guid",
        S,
        Rule::Text(ext!("activity_attempt_guid")),
    ),
    col(
        "activity_attempt_number",
        U32,
        Rule::Int(ext!("activity_attempt_number"), MAX32),
    ),
    col(
        "page_attempt_guid",
        S,
        Rule::Text(ext!("page_attempt_guid")),
    ),
    col(
        "page_attempt_number",
        U32,
        Rule::Int(ext!("page_attempt_number"), MAX32),
    ),
    col(
        "part_attempt_guid",
        S,
        Rule::Text(ext!("part_attempt_guid")),
    ),
    col(
        "part_attempt_number",
        U32,
        Rule::Int(ext!("part_attempt_number"), MAX32),
    ),
    col("activity_id", U64, Rule::Int(ext!("activity_id"), MAX64)),
    col(
        "activity_revision_id",
        U64,
        Rule::Int(ext!("activity_revision_id"), MAX64),
    ),
    col("part_id", S, Rule::Text(ext!("part_id"))),
    col("page_sub_type", S, Rule::SubType),
    col("score", F64, Rule::Float(&["result", "score", "raw"])),
    col("out_of", F64, Rule::Float(&["result", "score", "max"])),
    col(
        "scaled_score",
        F64,
        Rule::Float(&["result", "score", "scaled"]),
    ),
    col("success", B, Rule::Bool(&["result", "success"])),
    col("completion", B, Rule::Bool(&["result", "completion"])),
    col("response", S, Rule::Response),
    col(
        "feedback",
        S,
        Rule::Json(&[
            "result",
            "extensions",
            "http://oli.cmu.edu/extensions/feedback",
        ]),
    ),
    col("hints_requested", U32, Rule::Count(ext!("hints_requested"))),
    col(
        "attached_objectives",
        S,
        Rule::Json(ext!("attached_objectives")),
    ),
    col("session_id", S, Rule::Text(ext!("session_id"))),
    col("event_hash", "String", Rule::EventHash),
    col("source_file", S, Rule::SourceFile),
    col("source_etag", S, Rule::SourceEtag),
    col("source_line", U32, Rule::SourceLine),
];

/// Members that must be JSON objects when present and truthy (§2); a
/// falsy value of another type reads as empty.
pub const CONTAINERS: [&[&str]; 10] = TABLE.paths;

const TABLE: Containers<10> = Containers::new([
    &["context"],
    &["context", "extensions"],
    &["actor"],
    &["actor", "account"],
    &["verb"],
    &["result"],
    &["result", "extensions"],
    &["object"],
    &["object", "definition"],
    &["object", "definition", "extensions"],
]);

/// A statement with its §2 containers looked up.
pub type Doc<'v, 'd> = super::containers::Doc<'v, 'd, 10>;

/// The statement with its containers looked up.
pub fn doc<'v, 'd>(statement: &'v Value<'d>) -> Doc<'v, 'd> {
    Doc::new(statement, &TABLE)
}

/// §2: a container of the wrong type fails the object when truthy; the
/// first such, in [`CONTAINERS`] order.
pub fn structure(doc: &Doc) -> Result<(), Problem> {
    for (path, v) in CONTAINERS.iter().zip(doc.containers()) {
        if let Some(v) = v
            && !matches!(v, Value::Object(_))
            && py::truthy(v)
        {
            return Err(Problem::new(
                dotted(path),
                "container_type",
                format!("`{}` must be a JSON object, not {}", dotted(path), v.kind()),
            ));
        }
    }
    Ok(())
}

/// Where a statement came from (§5).
#[derive(Debug, Clone, Default)]
pub struct Provenance<'a> {
    /// `s3://bucket/key`, or the local path.
    pub file: &'a str,
    /// The ETag without quotes; `None` when the store gave none.
    pub etag: Option<&'a str>,
}

/// Why a line fails its object: the member (a dotted path, `line` for
/// the line as a whole), a code for machines and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Problem {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

impl core::fmt::Display for Problem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {} [{}]", self.field, self.message, self.code)
    }
}

/// The dotted name of a path, for messages.
pub fn dotted(path: &[&str]) -> String {
    path.join(".")
}

/// One statement's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    pub event_type: Category,
    /// The cells of [`RAW`], in order.
    pub raw: Vec<Cell>,
    /// The cells of each attribution row, in [`attribution::COLUMNS`] order.
    pub attributions: Vec<Vec<Cell>>,
    /// How the attributions' timestamps were written, for the object-wide
    /// check (§6.3): strings and integers cannot mix in one object.
    pub attribution_times: attribution::TimeKind,
}

/// Settings of the derivation that come from the deployment.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `MAX_EXPERIMENT_ATTRIBUTIONS_PER_STATEMENT` (at least 1).
    pub max_attributions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_attributions: 100,
        }
    }
}

/// Decode a line as both paths can: JSON as RFC 8259 has it (ClickHouse's
/// parser; no `NaN`, no lone surrogate, numbers within a double), UTF-8,
/// a byte-order mark allowed, one object.
pub fn decode(line: &[u8]) -> Result<Value<'_>, Problem> {
    let body = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let Ok(body) = core::str::from_utf8(body) else {
        return Err(Problem::new(
            "line",
            "not_utf8",
            "the line is not UTF-8 text",
        ));
    };
    let (v, loose) = json::decode_str_flagged(body).map_err(|e| {
        Problem::new(
            "line",
            "json_invalid",
            format!(
                "the line is not valid JSON: {}",
                crate::json::words::json_words(&e)
            ),
        )
    })?;
    if let Some(why) = loose.then(|| not_strict(&v)).flatten() {
        return Err(Problem::new("line", "json_invalid", why));
    }
    match v {
        Value::Object(_) => Ok(v),
        other => Err(Problem::new(
            "line",
            "not_object",
            format!("a statement must be a JSON object, not {}", other.kind()),
        )),
    }
}

fn not_strict(v: &Value) -> Option<String> {
    match v {
        Value::Float(f) if !f.is_finite() => Some(String::from(
            "the line has NaN, Infinity or a number too large for a double, which JSON does not allow",
        )),
        Value::Str(s) if s.unpaired_surrogate => Some(String::from(
            "the line has a lone UTF-16 surrogate escape (\\ud800–\\udfff), which is not text",
        )),
        Value::Array(items) => items.iter().find_map(not_strict),
        Value::Object(o) => o.entries().find_map(|(k, v)| {
            if k.unpaired_surrogate {
                Some(String::from(
                    "the line has a lone UTF-16 surrogate escape in a member name",
                ))
            } else {
                not_strict(v)
            }
        }),
        _ => None,
    }
}

fn first_truthy<'v, 'd>(doc: &Doc<'v, 'd>, paths: &[At]) -> Option<&'v Value<'d>> {
    paths
        .iter()
        .find_map(|a| doc.get(*a).filter(|x| py::truthy(x)))
}

/// int() into `0..=max`, or the problem that fails the object.
/// `field` names the member in the problem; it is only spelled out then.
pub fn ranged(v: &Value, max: u64, field: impl FnOnce() -> String) -> Result<Cell, Problem> {
    match py::int(v) {
        None => Ok(Cell::Null),
        Some(py::Whole::Value(n)) if n >= 0 && n <= i128::from(max) => Ok(Cell::UInt(n as u64)),
        Some(w) => Err(Problem::new(
            field(),
            "int_range",
            format!(
                "{} does not fit an unsigned {}-bit column (0 to {max})",
                match w {
                    py::Whole::Value(n) => format!("{n}"),
                    py::Whole::Huge => String::from("the number"),
                },
                if max == MAX32 { 32 } else { 64 }
            ),
        )),
    }
}

fn text_cell(v: Option<&Value>) -> Cell {
    v.and_then(py::text).map_or(Cell::Null, Cell::Text)
}

/// The classification's inputs: `verb.id` and `object.definition.type`,
/// `''` unless strings.
pub fn verb_and_type<'v>(doc: &Doc<'v, '_>) -> (&'v str, &'v str) {
    let s = |a: At| match doc.get(a) {
        Some(Value::Str(s)) => s.as_str(),
        _ => "",
    };
    (s(VERB_ID), s(OBJECT_TYPE))
}

/// The raw row's timestamp cell (§4.3): NULL (the 1970 default) unless
/// the member is a string.
pub fn timestamp(statement: &Value) -> Result<Cell, Problem> {
    match lookup(statement, &["timestamp"]) {
        Some(Value::Str(s)) if !py::strip(&s.text).is_empty() => isotime::parse_ms(&s.text)
            .map(Cell::Timestamp)
            .ok_or_else(|| bad_time(&s.text)),
        _ => Ok(Cell::Null),
    }
}

pub(crate) fn bad_time(text: &str) -> Problem {
    Problem::new(
        "timestamp",
        "timestamp_invalid",
        format!(
            "{:?} is not an ISO 8601 date and time Python reads (such as 2025-10-07T15:04:05.123Z), or is outside the years 1900 to 2299",
            crate::report::excerpt(text)
        ),
    )
}

/// Compute one raw cell.
fn cell(
    c: &RawColumn,
    doc: &Doc,
    category: Category,
    line: &[u8],
    prov: &Provenance,
    source_line: u32,
) -> Result<Cell, Problem> {
    let [first, ..] = c.at;
    Ok(match c.rule {
        Rule::Text(_) => text_cell(doc.present(first)),
        Rule::TextFirstTruthy(ps) => text_cell(first_truthy(doc, &c.at[..ps.len()])),
        Rule::Int(p, max) => match doc.present(first) {
            Some(v) => ranged(v, max, || dotted(p))?,
            None => Cell::Null,
        },
        Rule::Float(_) => doc
            .present(first)
            .and_then(py::float)
            .map_or(Cell::Null, Cell::Float),
        Rule::FloatFirstTruthy(ps) => first_truthy(doc, &c.at[..ps.len()])
            .and_then(py::float)
            .map_or(Cell::Null, Cell::Float),
        Rule::Bool(_) => doc
            .present(first)
            .and_then(py::boolean)
            .map_or(Cell::Null, Cell::Bool),
        Rule::Json(_) => doc
            .present(first)
            .and_then(py::json)
            .map_or(Cell::Null, Cell::Text),
        Rule::Count(p) => match doc.present(first) {
            Some(Value::Array(items)) => Cell::UInt(items.len() as u64),
            Some(v) => ranged(v, MAX32, || dotted(p))?,
            None => Cell::Null,
        },
        Rule::Response => match doc.present(RESPONSE) {
            Some(Value::Object(o)) => match o.get_first("input") {
                Some(input) if py::truthy(input) => text_cell(Some(input)),
                _ => py::json(&Value::Object(o.clone())).map_or(Cell::Null, Cell::Text),
            },
            Some(v @ Value::Array(_)) => py::json(v).map_or(Cell::Null, Cell::Text),
            other => text_cell(other),
        },
        Rule::SubType => match doc.present(SUB_TYPE) {
            Some(v @ (Value::Array(_) | Value::Object(_))) => {
                return Err(Problem::new(
                    "object.definition.subType",
                    "subtype_type",
                    format!("the page sub-type must be text, not {}", v.kind()),
                ));
            }
            other => text_cell(other),
        },
        Rule::VideoUrl if category == Category::Video => text_cell(doc.present(OBJECT_ID)),
        Rule::VideoUrl => Cell::Null,
        Rule::Timestamp => timestamp(doc.root)?,
        Rule::EventType => Cell::Text(String::from(category.as_str())),
        Rule::Verb => match doc.get(VERB_ID) {
            Some(v) if py::truthy(v) => text_cell(Some(v)),
            _ => Cell::Text(String::new()),
        },
        Rule::EventHash => Cell::Text(super::sha256_hex(line)),
        Rule::SourceFile => Cell::Text(prov.file.to_string()),
        Rule::SourceEtag => prov.etag.map_or(Cell::Null, |e| Cell::Text(e.to_string())),
        Rule::SourceLine => Cell::UInt(u64::from(source_line)),
    })
}

/// A statement's rows (§4–§6), or the problem that fails its object.
/// `line` is the line's exact bytes (without its terminator);
/// `source_line` its ordinal among the object's non-empty lines.
pub fn derive(
    line: &[u8],
    prov: &Provenance,
    source_line: u32,
    limits: &Limits,
) -> Result<Derived, Problem> {
    let st = decode(line)?;
    let doc = doc(&st);
    structure(&doc)?;
    let (verb, kind) = verb_and_type(&doc);
    let category = classify_ids(verb, kind);
    let mut raw = Vec::with_capacity(RAW.len());
    for c in RAW {
        raw.push(cell(c, &doc, category, line, prov, source_line)?);
    }
    let event_hash = event_hash_of(&raw);
    let (attributions, attribution_times) = attribution::rows(&doc, &raw, event_hash, limits)?;
    Ok(Derived {
        event_type: category,
        raw,
        attributions,
        attribution_times,
    })
}

/// Where `event_hash` is among [`RAW`]'s cells.
const EVENT_HASH_AT: usize = {
    let mut i = 0;
    while !crate::xapi::containers::same_bytes(RAW[i].name.as_bytes(), b"event_hash") {
        i += 1;
    }
    i
};

/// The `event_hash` cell's text (the column table always fills it).
fn event_hash_of(raw: &[Cell]) -> &str {
    match raw.get(EVENT_HASH_AT) {
        Some(Cell::Text(h)) => h,
        _ => "",
    }
}

impl Derived {
    /// The SHA-256 of the line's bytes, in hex: the `event_hash` cell.
    pub fn event_hash(&self) -> &str {
        event_hash_of(&self.raw)
    }
}

/// Splits a JSONL object into lines the way the reference reads it
/// (universal newlines: `\n`, `\r\n` and `\r` end a line; the terminator
/// is not part of it). Yields `(physical line number, bytes)`.
pub fn lines(input: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let mut rest = input;
    let mut n = 0u64;
    core::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        n += 1;
        let end = line_end(rest);
        let (line, next) = match end {
            None => (rest, &rest[rest.len()..]),
            Some(i) if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') => {
                (&rest[..i], &rest[i + 2..])
            }
            Some(i) => (&rest[..i], &rest[i + 1..]),
        };
        rest = next;
        Some((n, line))
    })
}

/// Where the first `\n` or `\r` of `s` is, eight bytes a step (as the
/// parser scans its strings): the checker splits whole objects here.
fn line_end(s: &[u8]) -> Option<usize> {
    use crate::json::{ONES, zero_bytes};
    let mut done = 0;
    for chunk in s.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let hit =
            zero_bytes(w ^ (ONES * u64::from(b'\n'))) | zero_bytes(w ^ (ONES * u64::from(b'\r')));
        if hit != 0 {
            return Some(done + (hit.trailing_zeros() / 8) as usize);
        }
        done += 8;
    }
    s.get(done..)?
        .iter()
        .position(|b| *b == b'\n' || *b == b'\r')
        .map(|i| done + i)
}

#[cfg(test)]
mod tests;
