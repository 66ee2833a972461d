//! The in-process path: a statement to the cells of its row, by the column
//! table's rules, and the row as a JSONEachRow line for ClickHouse.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::columns::{Column, Path, Rule};
use super::{canonical, time};
use crate::json::{Int, Value};
use crate::report::write_json_str;

/// One computed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    UInt(u64),
    Float(f64),
    Bool(bool),
    /// Microseconds since the epoch, UTC.
    Timestamp(i64),
}

/// The value at `path`, reading the first occurrence of a duplicated key.
pub fn lookup<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |cur, key| match cur {
        Value::Object(o) => o.get_first(key),
        _ => None,
    })
}

fn present<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    lookup(v, path).filter(|x| !matches!(x, Value::Null))
}

fn text(v: &Value) -> String {
    match v {
        Value::Str(s) => s.text.clone(),
        // Integers beyond 64 bits are strings to ClickHouse too.
        Value::Int(Int::Big { negative, digits })
            if *negative || digits.parse::<u64>().is_err() =>
        {
            let mut t = String::new();
            if *negative {
                t.push('-');
            }
            t.push_str(digits);
            t
        }
        other => canonical::to_string(other),
    }
}

fn uint(v: &Value, max: u64) -> Option<u64> {
    let u = match v {
        Value::Int(Int::Small(i)) if *i >= 0 => *i as u64,
        Value::Int(Int::Big {
            negative: false,
            digits,
        }) => digits.parse::<u64>().ok()?,
        _ => return None,
    };
    (u <= max).then_some(u)
}

fn float(v: &Value) -> Option<f64> {
    let f = match v {
        Value::Int(Int::Small(i)) => *i as f64,
        Value::Int(Int::Big {
            negative: false,
            digits,
        }) => digits.parse::<u64>().ok()? as f64,
        Value::Float(f) => *f,
        _ => return None,
    };
    f.is_finite().then_some(f)
}

fn first<T>(v: &Value, paths: &[Path], f: impl Fn(&Value) -> Option<T>) -> Option<T> {
    paths.iter().find_map(|p| present(v, p).and_then(&f))
}

/// Compute one cell.
pub fn cell(rule: Rule, statement: &Value, line: &str, source_file: &str) -> Cell {
    let opt = |o: Option<Cell>| o.unwrap_or(Cell::Null);
    match rule {
        Rule::EventId => Cell::Text(super::event_id(statement, line)),
        Rule::Text(paths) => opt(first(statement, paths, |x| Some(Cell::Text(text(x))))),
        Rule::UInt64(paths) => opt(first(statement, paths, |x| {
            uint(x, u64::MAX).map(Cell::UInt)
        })),
        Rule::UInt32(paths) => opt(first(statement, paths, |x| {
            uint(x, u64::from(u32::MAX)).map(Cell::UInt)
        })),
        Rule::Float(paths) => opt(first(statement, paths, |x| float(x).map(Cell::Float))),
        Rule::Bool(path) => match lookup(statement, path) {
            Some(Value::Bool(b)) => Cell::Bool(*b),
            _ => Cell::Null,
        },
        Rule::Count(path) => match present(statement, path) {
            Some(Value::Array(items)) => Cell::UInt(items.len() as u64),
            Some(x) => opt(uint(x, u64::from(u32::MAX)).map(Cell::UInt)),
            None => Cell::Null,
        },
        Rule::Response => {
            let input = lookup(statement, &["result", "response", "input"]);
            match (lookup(statement, &["result", "response"]), input) {
                (Some(Value::Object(_)), Some(Value::Str(s))) => Cell::Text(s.text.clone()),
                _ => opt(first(statement, &[&["result", "response"]], |x| {
                    Some(Cell::Text(text(x)))
                })),
            }
        }
        Rule::Timestamp => match lookup(statement, &["timestamp"]) {
            Some(Value::Str(s)) => opt(time::parse(&s.text).map(Cell::Timestamp)),
            _ => Cell::Null,
        },
        Rule::Verb => Cell::Text(String::from(super::string_at(statement, &["verb", "id"]))),
        Rule::SourceFile => Cell::Text(String::from(source_file)),
    }
}

/// The statement's row for `columns`.
pub fn row(columns: &[Column], statement: &Value, line: &str, source_file: &str) -> Vec<Cell> {
    columns
        .iter()
        .map(|c| cell(c.rule, statement, line, source_file))
        .collect()
}

/// A row as one JSONEachRow object (no trailing newline). Floats are
/// written with enough digits to read back exactly.
pub fn write_json_each_row(out: &mut String, columns: &[Column], cells: &[Cell]) {
    out.push('{');
    for (i, (c, v)) in columns.iter().zip(cells).enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_str(out, c.name);
        out.push(':');
        match v {
            Cell::Null => out.push_str("null"),
            Cell::Text(s) => write_json_str(out, s),
            Cell::UInt(u) => {
                let _ = write!(out, "{u}");
            }
            Cell::Float(f) => canonical::write_double(out, *f),
            Cell::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Cell::Timestamp(us) => write_json_str(out, &time::format(*us)),
        }
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xapi::columns::{PART_ATTEMPT, VIDEO};
    use crate::xapi::{Category, classify, decode_line};

    const PART: &str = r#"{"actor":{"account":{"homePage":"proton.oli.cmu.edu","name":15474},"objectType":"Agent"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed","display":{"en-US":"completed"}},"object":{"id":"x","definition":{"name":{"en-US":"Part Attempt"},"type":"http://adlnet.gov/expapi/activities/question"},"objectType":"Activity"},"result":{"score":{"scaled":0.0,"raw":0.0,"min":0,"max":1.0},"response":{"input":".138"},"completion":true,"success":true,"extensions":{"http://oli.cmu.edu/extensions/feedback":{"id":"1","content":[]}}},"context":{"extensions":{"http://oli.cmu.edu/extensions/hints_requested":[],"http://oli.cmu.edu/extensions/section_id":2161,"http://oli.cmu.edu/extensions/attached_objectives":[120498],"http://oli.cmu.edu/extensions/part_id":"132824041"}},"timestamp":"2025-05-21T13:41:06Z"}"#;

    fn get<'a>(cols: &[Column], cells: &'a [Cell], name: &str) -> &'a Cell {
        &cells[cols.iter().position(|c| c.name == name).unwrap()]
    }

    #[test]
    fn part_attempt_row() {
        let v = decode_line(PART).unwrap();
        assert_eq!(classify(&v), Category::PartAttempt);
        let cells = row(PART_ATTEMPT, &v, PART, "s3://b/k.jsonl");
        assert_eq!(
            get(PART_ATTEMPT, &cells, "user_id"),
            &Cell::Text("15474".into())
        );
        assert_eq!(
            get(PART_ATTEMPT, &cells, "host_name"),
            &Cell::Text("proton.oli.cmu.edu".into())
        );
        assert_eq!(get(PART_ATTEMPT, &cells, "section_id"), &Cell::UInt(2161));
        assert_eq!(get(PART_ATTEMPT, &cells, "project_id"), &Cell::Null);
        assert_eq!(
            get(PART_ATTEMPT, &cells, "response"),
            &Cell::Text(".138".into())
        );
        assert_eq!(
            get(PART_ATTEMPT, &cells, "feedback"),
            &Cell::Text(r#"{"id":"1","content":[]}"#.into())
        );
        assert_eq!(get(PART_ATTEMPT, &cells, "hints_requested"), &Cell::UInt(0));
        assert_eq!(
            get(PART_ATTEMPT, &cells, "attached_objectives"),
            &Cell::Text("[120498]".into())
        );
        assert_eq!(get(PART_ATTEMPT, &cells, "success"), &Cell::Bool(true));
        assert_eq!(get(PART_ATTEMPT, &cells, "score"), &Cell::Float(0.0));
        assert_eq!(
            get(PART_ATTEMPT, &cells, "event_id"),
            &Cell::Text(crate::xapi::sha256_hex(PART.as_bytes()))
        );
        let mut line = String::new();
        write_json_each_row(&mut line, PART_ATTEMPT, &cells);
        assert!(
            line.contains(r#""timestamp":"2025-05-21 13:41:06.000000""#),
            "{line}"
        );
    }

    #[test]
    fn first_usable_path_wins() {
        let v = decode_line(r#"{"verb":{"id":"https://w3id.org/xapi/video/verbs/played"},"context":{"extensions":{"http://oli.cmu.edu/extensions/resource_id":81181,"http://oli.cmu.edu/extensions/page_id":"x","https://w3id.org/xapi/video/extensions/length":98.5}},"timestamp":"2025-10-07T15:04:05.123456Z"}"#).unwrap();
        let cells = row(VIDEO, &v, "", "");
        assert_eq!(get(VIDEO, &cells, "page_id"), &Cell::UInt(81181));
        assert_eq!(get(VIDEO, &cells, "video_length"), &Cell::Float(98.5));
        assert_eq!(
            get(VIDEO, &cells, "timestamp"),
            &Cell::Timestamp(1_759_849_445_123_456)
        );
        assert_eq!(
            get(VIDEO, &cells, "verb_id"),
            &Cell::Text("https://w3id.org/xapi/video/verbs/played".into())
        );
    }
}
