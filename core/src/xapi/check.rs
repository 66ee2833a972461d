//! What one JSONL line is to the loader, decided in one place: the
//! in-process load path, `eventlog xapi check` and the WebAssembly checker
//! all call [`judge`], so a line a gear or a person sees as loadable is the
//! line the loader loads, into the table they were told.

use alloc::format;
use alloc::string::{String, ToString};
use core::fmt::Write;

use super::containers::Doc;
use super::schema::{self, SchemaReport};
use super::{Category, LineError, classify, decode_line, event_id, string_at, time, trim_line};
use crate::json::Value;
use crate::report::{write_issues, write_json_str};

/// The verdict on one line.
#[derive(Debug, Clone)]
pub enum Judgement<'a> {
    /// Empty or only whitespace: skipped by both load paths, not reported.
    Blank,
    /// Not a statement either path can load; `reason` says why.
    Invalid { reason: String },
    /// A statement of no loaded category (counted per verb by the loader).
    Unknown { verb: String },
    /// Loaded into `category`'s table. Schema problems do not stop the
    /// load (Torus's own statements are the data of record); they are
    /// reported beside the row.
    Loadable {
        category: Category,
        statement: Value<'a>,
        schema: SchemaReport,
    },
}

impl Judgement<'_> {
    /// The verdict's name in reports.
    pub fn verdict(&self) -> &'static str {
        match self {
            Judgement::Blank => "blank",
            Judgement::Invalid { .. } => "invalid",
            Judgement::Unknown { .. } => "unknown",
            Judgement::Loadable { .. } => "loadable",
        }
    }
}

/// Judge one line given as bytes (a line of a file, without its `\n`).
pub fn judge_bytes(line: &[u8]) -> Judgement<'_> {
    match core::str::from_utf8(line) {
        Ok(text) => judge(text),
        Err(_) => Judgement::Invalid {
            reason: String::from("not UTF-8 text"),
        },
    }
}

/// Members the columns read into ([`super::columns::CONTAINERS`]).
pub const CONTAINERS: [&[&str]; 10] = super::columns::CONTAINERS.paths;

/// Why a statement's structure cannot be loaded, if it cannot.
pub fn structure_problem(statement: &Value) -> Option<String> {
    let doc = Doc::new(statement, &super::columns::CONTAINERS);
    CONTAINERS
        .iter()
        .zip(doc.containers())
        .find_map(|(path, v)| match v {
            None | Some(Value::Null | Value::Object(_)) => None,
            Some(other) => Some(format!(
                "`{}` must be a JSON object, not {}",
                path.join("."),
                other.kind()
            )),
        })
}

/// Judge one line of text.
pub fn judge(line: &str) -> Judgement<'_> {
    if trim_line(line).is_empty() {
        return Judgement::Blank;
    }
    let statement = match decode_line(line) {
        Ok(v) => v,
        Err(LineError::Json(e)) => {
            return Judgement::Invalid {
                reason: format!("the line is not valid JSON: {e}"),
            };
        }
        Err(LineError::NotAnObject) => {
            return Judgement::Invalid {
                reason: String::from("not a JSON object"),
            };
        }
    };
    if let Some(reason) = structure_problem(&statement) {
        return Judgement::Invalid { reason };
    }
    let ts = string_at(&statement, &["timestamp"]);
    if time::parse(ts).is_none() {
        return Judgement::Invalid {
            reason: format!(
                "timestamp {ts:?} is missing or not YYYY-MM-DDTHH:MM:SS[.f][Z|±HH:MM] (years 1900-2299)"
            ),
        };
    }
    let category = classify(&statement);
    if category == Category::Unknown {
        return Judgement::Unknown {
            verb: string_at(&statement, &["verb", "id"]).to_string(),
        };
    }
    let schema = schema::validate(&statement);
    Judgement::Loadable {
        category,
        statement,
        schema,
    }
}

/// One JSON object for a non-blank line (the same bytes on every target):
///
/// `{"file":…,"line":N,"verdict":"loadable","table":…,"kind":…,"event_id":…,"issues":[…]}`,
/// `{"file":…,"line":N,"verdict":"unknown","verb":…}` or
/// `{"file":…,"line":N,"verdict":"invalid","reason":…}`.
///
/// `file` is present when a name is given; `kind` is the statement kind of
/// Torus's schema, `null` when none matches; `issues` are the schema's.
pub fn write_line_json(
    out: &mut String,
    name: Option<&str>,
    lineno: u64,
    line: &str,
    j: &Judgement,
) {
    out.push('{');
    if let Some(name) = name {
        out.push_str("\"file\":");
        write_json_str(out, name);
        out.push(',');
    }
    let _ = write!(out, "\"line\":{lineno},\"verdict\":\"");
    out.push_str(j.verdict());
    out.push('"');
    match j {
        Judgement::Blank => {}
        Judgement::Invalid { reason } => {
            out.push_str(",\"reason\":");
            write_json_str(out, reason);
        }
        Judgement::Unknown { verb } => {
            out.push_str(",\"verb\":");
            write_json_str(out, verb);
        }
        Judgement::Loadable {
            category,
            statement,
            schema,
        } => {
            out.push_str(",\"table\":");
            write_json_str(out, category.table());
            out.push_str(",\"kind\":");
            match schema.kind {
                Some(k) => write_json_str(out, k),
                None => out.push_str("null"),
            }
            out.push_str(",\"event_id\":");
            write_json_str(out, &event_id(statement, line));
            out.push_str(",\"issues\":");
            write_issues(out, &schema.issues);
        }
    }
    out.push('}');
}

/// Counts over a file's lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub loadable: u64,
    /// Loadable lines with schema issues.
    pub schema_warnings: u64,
    pub unknown: u64,
    pub invalid: u64,
}

impl Tally {
    /// Nothing a data manager needs to look at.
    pub fn is_clean(&self) -> bool {
        self.invalid == 0 && self.schema_warnings == 0
    }

    /// Judge a line (without its `\n`) and count it; `None` for a blank
    /// line, which neither load path counts.
    pub fn judge<'l>(&mut self, raw: &'l [u8]) -> Option<Judgement<'l>> {
        let j = judge_bytes(raw);
        if matches!(j, Judgement::Blank) {
            return None;
        }
        self.add(&j);
        Some(j)
    }

    /// Add another file's counts.
    pub fn absorb(&mut self, other: &Tally) {
        self.loadable += other.loadable;
        self.schema_warnings += other.schema_warnings;
        self.unknown += other.unknown;
        self.invalid += other.invalid;
    }

    fn add(&mut self, j: &Judgement) {
        match j {
            Judgement::Blank => {}
            Judgement::Invalid { .. } => self.invalid += 1,
            Judgement::Unknown { .. } => self.unknown += 1,
            Judgement::Loadable { schema, .. } => {
                self.loadable += 1;
                if !schema.is_valid() {
                    self.schema_warnings += 1;
                }
            }
        }
    }
}

/// Check a whole JSONL document: one [`write_line_json`] line per non-blank
/// line, `\n`-terminated, and the counts. Lines end at `\n` (a trailing
/// `\r` is trimmed like the loader trims it); the last line needs none.
pub fn check_jsonl(input: &[u8], name: Option<&str>) -> (String, Tally) {
    let mut out = String::new();
    let mut tally = Tally::default();
    let body = input.strip_suffix(b"\n").unwrap_or(input);
    if input.is_empty() {
        return (out, tally);
    }
    for (i, raw) in body.split(|b| *b == b'\n').enumerate() {
        let Some(j) = tally.judge(raw) else {
            continue;
        };
        let text = core::str::from_utf8(raw).unwrap_or("");
        write_line_json(&mut out, name, i as u64 + 1, text, &j);
        out.push('\n');
    }
    (out, tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIDEO: &str = r#"{"id":"v-1","timestamp":"2024-09-02T18:37:41.000Z","verb":{"id":"https://w3id.org/xapi/video/verbs/played"},"object":{"definition":{"type":"https://w3id.org/xapi/video/activity-type/video"}}}"#;

    #[test]
    fn verdicts() {
        assert!(matches!(judge("  \r"), Judgement::Blank));
        assert!(
            matches!(judge("{\"a\":"), Judgement::Invalid { reason } if reason.starts_with("the line is not valid JSON"))
        );
        assert!(
            matches!(judge("[1]"), Judgement::Invalid { reason } if reason == "not a JSON object")
        );
        assert!(
            matches!(judge(r#"{"timestamp":"yesterday"}"#), Judgement::Invalid { reason } if reason.contains("\"yesterday\""))
        );
        assert!(
            matches!(judge(r#"{"timestamp":"2024-01-01T00:00:00Z","verb":{"id":"x:y"}}"#), Judgement::Unknown { verb } if verb == "x:y")
        );
        match judge(VIDEO) {
            Judgement::Loadable {
                category, schema, ..
            } => {
                assert_eq!(category, Category::Video);
                // Only the verb and type: the schema wants much more.
                assert!(!schema.is_valid());
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(judge_bytes(b"{\"a\":\"\xff\"}"), Judgement::Invalid { reason } if reason == "not UTF-8 text")
        );
        for (line, path) in [
            (
                r#"{"timestamp":"2024-01-01T00:00:00Z","verb":"played"}"#,
                "`verb`",
            ),
            (
                r#"{"timestamp":"2024-01-01T00:00:00Z","result":[1]}"#,
                "`result`",
            ),
            (
                r#"{"timestamp":"2024-01-01T00:00:00Z","context":{"extensions":"x"}}"#,
                "`context.extensions`",
            ),
        ] {
            assert!(
                matches!(judge(line), Judgement::Invalid { reason } if reason.starts_with(path) && reason.contains("must be a JSON object")),
                "{line}"
            );
        }
        assert!(!matches!(
            judge(r#"{"timestamp":"2024-01-01T00:00:00Z","result":null,"verb":{"id":"x"}}"#),
            Judgement::Invalid { .. }
        ));
    }

    #[test]
    fn document_report() {
        let doc = alloc::format!("{VIDEO}\r\n\n[1]\n{{\"timestamp\":\"2024-01-01T00:00:00Z\"}}");
        let (out, tally) = check_jsonl(doc.as_bytes(), Some("a \"b\".jsonl"));
        let lines: alloc::vec::Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(lines[0].starts_with(
            r#"{"file":"a \"b\".jsonl","line":1,"verdict":"loadable","table":"video_events","kind":"videoPlayed","event_id":"v-1","issues":[{"#
        ), "{}", lines[0]);
        assert_eq!(
            lines[1],
            r#"{"file":"a \"b\".jsonl","line":3,"verdict":"invalid","reason":"not a JSON object"}"#
        );
        assert_eq!(
            lines[2],
            r#"{"file":"a \"b\".jsonl","line":4,"verdict":"unknown","verb":""}"#
        );
        assert_eq!(
            tally,
            Tally {
                loadable: 1,
                schema_warnings: 1,
                unknown: 1,
                invalid: 1
            }
        );
        assert!(!tally.is_clean());
        assert_eq!(check_jsonl(b"", None).0, "");
        assert_eq!(check_jsonl(b"\n\n", None).1, Tally::default());
    }
}
