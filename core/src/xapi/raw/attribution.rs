//! `experiment_attributions` (spec §6): zero or more rows per statement,
//! from the list under `context.extensions.…experiment_attributions`.
//! Ids come from each attribution, not from the statement; every element
//! must be a valid attribution, or the whole object fails.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{MAX64, Problem, isotime, py, ranged, verb_and_type};
use crate::json::{Object, Value};
use crate::xapi::classify_ids;
use crate::xapi::extract::{Cell, Typed, WireType, wire_type};

/// How an attribution column's value is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The host row's `event_hash`.
    RawEventHash,
    /// SHA-256 of `<raw_event_hash>:<key trimmed>`.
    AttributionHash,
    /// The host row's column of this name (provenance).
    Host(&'static str),
    /// §3 on the trimmed verb and object type.
    RawEventType,
    /// The statement's timestamp, by the attribution's own rules.
    Timestamp,
    /// int() of the member, within `0..=max`.
    Int(&'static str, u64),
    /// str(): trimmed text, NULL when blank.
    Str(&'static str),
    /// float().
    Float(&'static str),
    /// str() of the member, `intervention` when it is missing or blank.
    AssignmentScope,
    /// str() of the first truthy of `algorithm`, `assigned_by_policy`.
    Algorithm,
}

#[derive(Debug, Clone, Copy)]
pub struct AttributionColumn {
    pub name: &'static str,
    pub ch_type: &'static str,
    pub rule: Rule,
    /// `ch_type` as RowBinary writes it.
    pub wire: WireType,
}

impl Typed for AttributionColumn {
    fn name(&self) -> &str {
        self.name
    }
    fn ch_type(&self) -> &str {
        self.ch_type
    }
    fn wire(&self) -> WireType {
        self.wire
    }
}

const fn col(name: &'static str, ch_type: &'static str, rule: Rule) -> AttributionColumn {
    AttributionColumn {
        name,
        ch_type,
        rule,
        wire: wire_type(ch_type),
    }
}

const S: &str = "Nullable(String)";
const U64: &str = "Nullable(UInt64)";
const F64: &str = "Nullable(Float64)";
const LC: &str = "LowCardinality(String)";

/// The columns the loader writes (every column but `event_version` and
/// `inserted_at`, which the server fills). Unlike the reference Lambda we
/// write `assignment_scope` (spec §6.4).
pub const COLUMNS: &[AttributionColumn] = &[
    col("raw_event_hash", "String", Rule::RawEventHash),
    col("attribution_hash", "String", Rule::AttributionHash),
    col("source_file", S, Rule::Host("source_file")),
    col("source_etag", S, Rule::Host("source_etag")),
    col("source_line", "Nullable(UInt32)", Rule::Host("source_line")),
    col("raw_event_type", LC, Rule::RawEventType),
    col("timestamp", "DateTime64(3)", Rule::Timestamp),
    col("section_id", U64, Rule::Int("section_id", MAX64)),
    col("project_id", U64, Rule::Int("project_id", MAX64)),
    col("publication_id", U64, Rule::Int("publication_id", MAX64)),
    col("enrollment_id", U64, Rule::Int("enrollment_id", MAX64)),
    col("experiment_role", LC, Rule::Str("role")),
    col("attribution_type", LC, Rule::Str("attribution_type")),
    col("experiment_id", U64, Rule::Int("experiment_id", MAX64)),
    col("experiment_uuid", S, Rule::Str("experiment_uuid")),
    col("condition_id", U64, Rule::Int("condition_id", MAX64)),
    col("condition_code", S, Rule::Str("condition_code")),
    col("assignment_id", U64, Rule::Int("assignment_id", MAX64)),
    col("assignment_key", S, Rule::Str("assignment_key")),
    col("assignment_scope", LC, Rule::AssignmentScope),
    col("algorithm", S, Rule::Algorithm),
    col("policy_version", S, Rule::Str("policy_version")),
    col(
        "content_revision_id",
        U64,
        Rule::Int("content_revision_id", MAX64),
    ),
    col("intervention_id", U64, Rule::Int("intervention_id", MAX64)),
    col("intervention_key", S, Rule::Str("intervention_key")),
    col(
        "assessment_binding_id",
        U64,
        Rule::Int("assessment_binding_id", MAX64),
    ),
    col(
        "assessment_page_resource_id",
        U64,
        Rule::Int("assessment_page_resource_id", MAX64),
    ),
    col(
        "resource_attempt_id",
        U64,
        Rule::Int("resource_attempt_id", MAX64),
    ),
    col("disposition", S, Rule::Str("disposition")),
    col("reward_threshold", F64, Rule::Float("reward_threshold")),
    col("normalized_score", F64, Rule::Float("normalized_score")),
    col(
        "page_revision_id",
        U64,
        Rule::Int("page_revision_id", MAX64),
    ),
    col("reward_value", F64, Rule::Float("reward_value")),
    col("reward_source", S, Rule::Str("reward_source")),
];

/// The role/type pairs an attribution may have (compared untrimmed).
pub fn allowed(role: &str, kind: &str) -> bool {
    const SAME: [&str; 5] = [
        "assignment",
        "exposure",
        "outcome",
        "reward",
        "policy_update",
    ];
    (role == kind && SAME.contains(&role))
        || (role == "rollup" && matches!(kind, "outcome" | "reward"))
        || (role == "media_interaction" && kind == "assignment")
}

/// How one statement's attributions wrote the timestamp they share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeKind {
    /// No attribution, or a null timestamp.
    #[default]
    None,
    Text,
    Integer,
}

impl TimeKind {
    /// The kind of an object's rows so far and one more statement's, or
    /// the problem: strings and integers in one object (spec §6.3).
    pub fn join(self, other: TimeKind) -> Result<TimeKind, Problem> {
        match (self, other) {
            (TimeKind::None, k) | (k, TimeKind::None) => Ok(k),
            (a, b) if a == b => Ok(a),
            _ => Err(Problem::new(
                "timestamp",
                "attribution_timestamp",
                "the object's attributed statements mix text and integer timestamps",
            )),
        }
    }
}

/// The attribution timestamp (§6.3): text as the raw row reads it but a
/// blank one fails; an integer is milliseconds since the epoch; a float,
/// a boolean or a container fails; null is the 1970 default.
pub fn timestamp(statement: &Value) -> Result<(Cell, TimeKind), Problem> {
    let bad = |what: &str| {
        Problem::new(
            "timestamp",
            "attribution_timestamp",
            format!("an attributed statement's timestamp cannot be {what}"),
        )
    };
    match crate::xapi::extract::lookup(statement, &["timestamp"]) {
        None | Some(Value::Null) => Ok((Cell::Null, TimeKind::None)),
        Some(Value::Str(s)) if py::strip(&s.text).is_empty() => Err(bad("blank")),
        Some(Value::Str(s)) => isotime::parse_ms(&s.text)
            .map(|ms| (Cell::Timestamp(ms), TimeKind::Text))
            .ok_or_else(|| super::bad_time(&s.text)),
        Some(Value::Int(i)) => match py::small_int(i) {
            Some(ms) if (isotime::MIN_MS..=isotime::MAX_MS).contains(&(ms as i64)) => {
                Ok((Cell::Timestamp(ms as i64), TimeKind::Integer))
            }
            _ => Err(bad("an integer outside the years 1900 to 2299")),
        },
        Some(other) => Err(bad(other.kind())),
    }
}

/// str(): a string trimmed (NULL when blank); anything else text().
fn str_cell(v: Option<&Value>) -> Cell {
    match v {
        None | Some(Value::Null) => Cell::Null,
        Some(Value::Str(s)) => {
            let t = py::strip(&s.text);
            if t.is_empty() {
                Cell::Null
            } else {
                Cell::Text(String::from(t))
            }
        }
        Some(other) => py::text(other).map_or(Cell::Null, Cell::Text),
    }
}

/// The list's elements that are objects, after the count limit and each
/// one's validation; the object fails on a problem.
pub fn validated<'v, 'd>(
    statement: &'v Value<'d>,
    max: usize,
) -> Result<Vec<&'v Object<'d>>, Problem> {
    let Some(Value::Array(items)) = crate::xapi::extract::lookup(statement, super::ATTRIBUTIONS)
    else {
        return Ok(Vec::new());
    };
    let max = max.max(1);
    if items.len() > max {
        return Err(Problem::new(
            "context.extensions.experiment_attributions",
            "attribution_count",
            format!(
                "experiment attribution count {} exceeds configured maximum {max}",
                items.len()
            ),
        ));
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Value::Object(o) = item else { continue };
        let field = |m: &str| format!("context.extensions.experiment_attributions[{i}].{m}");
        let s = |m: &str| match o.get_first(m) {
            Some(Value::Str(s)) => Some(s.as_str()),
            _ => None,
        };
        let (role, kind) = (s("role"), s("attribution_type"));
        if !role.zip(kind).is_some_and(|(r, k)| allowed(r, k)) {
            return Err(Problem::new(
                field("role"),
                "attribution_role",
                format!(
                    "role {:?} with attribution_type {:?} is not an allowed pair (assignment, exposure, outcome, reward or policy_update with the same type; rollup with outcome or reward; media_interaction with assignment)",
                    role.unwrap_or("(none)"),
                    kind.unwrap_or("(none)")
                ),
            ));
        }
        if s("key").is_none_or(str::is_empty) {
            return Err(Problem::new(
                field("key"),
                "attribution_key",
                "an attribution needs a non-empty text key",
            ));
        }
        out.push(o);
    }
    Ok(out)
}

fn cell(
    rule: Rule,
    a: &Object,
    host: &[Cell],
    event_hash: &str,
    raw_type: &str,
    time: &Cell,
) -> Result<Cell, Problem> {
    let member = |m: &str| a.get_first(m).filter(|v| !matches!(v, Value::Null));
    Ok(match rule {
        Rule::RawEventHash => Cell::Text(String::from(event_hash)),
        Rule::AttributionHash => {
            let key = match a.get_first("key") {
                Some(Value::Str(s)) => py::strip(&s.text),
                _ => "",
            };
            Cell::Text(crate::xapi::sha256_hex(
                format!("{event_hash}:{key}").as_bytes(),
            ))
        }
        Rule::Host(name) => super::RAW
            .iter()
            .position(|c| c.name == name)
            .map_or(Cell::Null, |i| host[i].clone()),
        Rule::RawEventType => Cell::Text(String::from(raw_type)),
        Rule::Timestamp => time.clone(),
        Rule::Int(m, max) => match member(m) {
            Some(v) => ranged(v, max, || format!("experiment_attributions.{m}"))?,
            None => Cell::Null,
        },
        Rule::Str(m) => str_cell(member(m)),
        Rule::Float(m) => member(m)
            .and_then(py::float)
            .map_or(Cell::Null, Cell::Float),
        Rule::AssignmentScope => match member("assignment_scope").filter(|v| py::truthy(v)) {
            Some(v) => match str_cell(Some(v)) {
                Cell::Null => Cell::Text(String::from("intervention")),
                c => c,
            },
            None => Cell::Text(String::from("intervention")),
        },
        Rule::Algorithm => str_cell(
            ["algorithm", "assigned_by_policy"]
                .iter()
                .find_map(|m| a.get_first(m).filter(|v| py::truthy(v))),
        ),
    })
}

/// The statement's attribution rows, and how their timestamp is written.
pub fn rows(
    doc: &super::Doc,
    host: &[Cell],
    event_hash: &str,
    limits: &super::Limits,
) -> Result<(Vec<Vec<Cell>>, TimeKind), Problem> {
    let statement = doc.root;
    let items = validated(statement, limits.max_attributions)?;
    if items.is_empty() {
        return Ok((Vec::new(), TimeKind::None));
    }
    let (verb, kind) = verb_and_type(doc);
    let raw_type = classify_ids(py::strip(verb), py::strip(kind)).as_str();
    let (time, time_kind) = timestamp(statement)?;
    let mut out = Vec::with_capacity(items.len());
    for a in items {
        let mut row = Vec::with_capacity(COLUMNS.len());
        for c in COLUMNS {
            row.push(cell(c.rule, a, host, event_hash, raw_type, &time)?);
        }
        out.push(row);
    }
    Ok((out, time_kind))
}
