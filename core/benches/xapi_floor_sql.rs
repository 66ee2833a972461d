//! Prints the engine floor of bench/xapi_load.py: the simplest SQL a person
//! would write by hand to load the same five tables from one staged read,
//! as JSON (`{"stage": "...", "inserts": ["...", ...]}`). Each column takes
//! its first path with one typed `JSONExtract`, with none of the lax
//! conversions or loadability checks the real path makes; the floor is the
//! engine's cost for the same read and the same rows, not a second
//! implementation.
//!
//!     cargo bench -q -p eventlog-core --bench xapi_floor_sql -- DATABASE STAGE S3_SOURCE [raw-events]
//!
//! With `raw-events`, the floor of that target: one `INSERT … SELECT` into
//! `raw_events` straight from the read, each column by its first path.

use eventlog_core::xapi::columns::{Rule, columns};
use eventlog_core::xapi::sql::{Target, ident, literal};
use eventlog_core::xapi::{self, Category};

fn path_args(path: &[&str]) -> String {
    path.iter().map(|k| format!(", {}", literal(k))).collect()
}

fn naive(rule: Rule, ch_type: &str) -> String {
    let typed =
        |path: &[&str]| format!("JSONExtract(line{}, {})", path_args(path), literal(ch_type));
    match rule {
        Rule::EventId => "JSONExtractString(line, 'id')".into(),
        Rule::Text(p) | Rule::UInt64(p) | Rule::UInt32(p) | Rule::Float(p) => typed(p[0]),
        Rule::Bool(p) => typed(p),
        Rule::Count(p) => format!("toUInt32(JSONLength(line{}))", path_args(p)),
        Rule::Response => typed(&["result", "response"]),
        Rule::Timestamp => {
            "parseDateTime64BestEffort(JSONExtractString(line, 'timestamp'), 6, 'UTC')".into()
        }
        Rule::Verb => "JSONExtractString(line, 'verb', 'id')".into(),
        Rule::SourceFile => "concat('s3://', _path)".into(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (database, stage, source, raw) = match &args[..] {
        [d, st, so] => (d, st, so, false),
        [d, st, so, t] if t == "raw-events" => (d, st, so, true),
        _ => {
            eprintln!("usage: xapi_floor_sql DATABASE STAGE S3_SOURCE [raw-events]");
            std::process::exit(2);
        }
    };
    if raw {
        println!("{}", raw_floor(database, source));
        return;
    }
    let target = Target {
        database,
        cluster: None,
    };
    let stage = format!("{}.{}", ident(database), ident(stage));
    let verb = "JSONExtractString(line, 'verb', 'id')";
    let kind = "JSONExtractString(line, 'object', 'definition', 'type')";
    let videos: Vec<String> = xapi::VIDEO_VERBS.iter().map(|v| literal(v)).collect();
    let done = literal(xapi::VERB_COMPLETED);
    let create = format!(
        "CREATE TABLE {stage} ENGINE = Memory AS SELECT line, _path, multiIf({verb} IN ({}), 'video', {verb} = {done} AND {kind} = {}, 'activity_attempt', {verb} = {done} AND {kind} = {}, 'page_attempt', {verb} = {} AND {kind} = {}, 'page_viewed', {verb} = {done} AND {kind} = {}, 'part_attempt', 'unknown') AS category FROM {source} WHERE isValidJSON(line)",
        videos.join(", "),
        literal(xapi::TYPE_ACTIVITY_ATTEMPT),
        literal(xapi::TYPE_PAGE_ATTEMPT),
        literal(xapi::VERB_VIEWED),
        literal(xapi::TYPE_PAGE),
        literal(xapi::TYPE_QUESTION),
    );
    let inserts: Vec<String> = Category::LOADED
        .iter()
        .map(|c| {
            let cols = columns(*c);
            let names: Vec<String> = cols.iter().map(|c| ident(c.name)).collect();
            let exprs: Vec<String> = cols.iter().map(|c| naive(c.rule, c.ch_type)).collect();
            format!(
                "INSERT INTO {} ({}) SELECT {} FROM {stage} WHERE category = {}",
                target.table(*c),
                names.join(", "),
                exprs.join(", "),
                literal(c.as_str())
            )
        })
        .collect();
    let out = serde_json::json!({ "stage": create, "inserts": inserts });
    println!("{out}");
}

/// The raw-events floor: `{"stage": "", "inserts": [one INSERT … SELECT]}`.
fn raw_floor(database: &str, source: &str) -> serde_json::Value {
    use eventlog_core::xapi::raw::{RAW, RAW_TABLE, Rule as R};
    let typed =
        |path: &[&str], ty: &str| format!("JSONExtract(line{}, {})", path_args(path), literal(ty));
    let verb = "JSONExtractString(line, 'verb', 'id')";
    let kind = "JSONExtractString(line, 'object', 'definition', 'type')";
    let videos: Vec<String> = xapi::VIDEO_VERBS.iter().map(|v| literal(v)).collect();
    let done = literal(xapi::VERB_COMPLETED);
    let category = format!(
        "multiIf({verb} IN ({}), 'video', {verb} = {done} AND {kind} = {}, 'activity_attempt', {verb} = {done} AND {kind} = {}, 'page_attempt', {verb} = {} AND {kind} = {}, 'page_viewed', {verb} = {done} AND {kind} = {}, 'part_attempt', 'unknown')",
        videos.join(", "),
        literal(xapi::TYPE_ACTIVITY_ATTEMPT),
        literal(xapi::TYPE_PAGE_ATTEMPT),
        literal(xapi::VERB_VIEWED),
        literal(xapi::TYPE_PAGE),
        literal(xapi::TYPE_QUESTION),
    );
    let exprs: Vec<String> = RAW
        .iter()
        .map(|c| match c.rule {
            R::Text(p) | R::Float(p) | R::Bool(p) | R::Int(p, _) => typed(p, c.ch_type),
            R::TextFirstTruthy(ps) | R::FloatFirstTruthy(ps) => typed(ps[0], c.ch_type),
            R::Json(p) => format!("JSONExtractRaw(line{})", path_args(p)),
            R::Count(p) => format!("toUInt32(JSONLength(line{}))", path_args(p)),
            R::Response => typed(&["result", "response"], "Nullable(String)"),
            R::SubType => typed(&["object", "definition", "subType"], "Nullable(String)"),
            R::VideoUrl => "JSONExtractString(line, 'object', 'id')".into(),
            R::Timestamp => {
                "parseDateTime64BestEffortOrZero(JSONExtractString(line, 'timestamp'), 3, 'UTC')"
                    .into()
            }
            R::EventType => category.clone(),
            R::Verb => verb.into(),
            R::EventHash => "lower(hex(SHA256(line)))".into(),
            R::SourceFile => "concat('s3://', _path)".into(),
            R::SourceEtag => "_etag".into(),
            R::SourceLine => "toUInt32(_row_number + 1)".into(),
        })
        .collect();
    let names: Vec<String> = RAW.iter().map(|c| ident(c.name)).collect();
    let insert = format!(
        "INSERT INTO {}.{} ({}) SELECT {} FROM {source} WHERE isValidJSON(line)",
        ident(database),
        ident(RAW_TABLE),
        names.join(", "),
        exprs.join(", ")
    );
    serde_json::json!({ "stage": "", "inserts": [insert] })
}
