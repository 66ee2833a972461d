//! What the raw-events loader would make of each line of an object: the
//! same [`super::derive`] the loader runs, as one JSON object per line for
//! `eventlog xapi check --target raw-events` and the WebAssembly checker.
//!
//! `{"file":…,"line":N,"source_line":M,"event_type":…,"event_hash":…,"attributions":K}`
//! for a statement that loads, with `"problem":{"field","code","message"}`
//! (and no `attributions`) for one that fails its object. `line` is the
//! physical line (1-based, universal newlines); `source_line` is what the
//! row's `source_line` column holds. Empty lines are left out.

use alloc::string::String;

use super::attribution::TimeKind;
use super::{Limits, Problem, Provenance, decode, derive, doc, verb_and_type};
use crate::report::{push_int, write_json_str};
use crate::xapi::classify_ids;

/// The verdict on one line.
#[derive(Debug, Clone)]
pub struct LineVerdict {
    pub event_type: Option<&'static str>,
    pub event_hash: String,
    pub attributions: usize,
    pub problem: Option<Problem>,
}

/// Judge one non-empty line, `times` carrying the object's attribution
/// timestamp kind from line to line.
pub fn judge(
    line: &[u8],
    source_line: u32,
    name: &str,
    limits: &Limits,
    times: &mut TimeKind,
) -> LineVerdict {
    let prov = Provenance {
        file: name,
        etag: None,
    };
    match derive(line, &prov, source_line, limits) {
        Ok(d) => {
            let problem = times.join(d.attribution_times).err();
            if problem.is_none() {
                *times = times.join(d.attribution_times).unwrap_or(*times);
            }
            LineVerdict {
                event_type: Some(d.event_type.as_str()),
                attributions: d.attributions.len(),
                event_hash: d.event_hash().into(),
                problem,
            }
        }
        Err(p) => LineVerdict {
            event_type: decode(line).ok().map(|st| {
                let (v, k) = verb_and_type(&doc(&st));
                classify_ids(v, k).as_str()
            }),
            event_hash: crate::xapi::sha256_hex(line),
            attributions: 0,
            problem: Some(p),
        },
    }
}

/// One line's JSON object (no newline).
pub fn write_line_json(
    out: &mut String,
    name: Option<&str>,
    physical: u64,
    source_line: u32,
    v: &LineVerdict,
) {
    out.push('{');
    if let Some(name) = name {
        out.push_str("\"file\":");
        write_json_str(out, name);
        out.push(',');
    }
    out.push_str("\"line\":");
    push_int(out, physical as i64);
    out.push_str(",\"source_line\":");
    push_int(out, i64::from(source_line));
    out.push_str(",\"event_type\":");
    match v.event_type {
        Some(t) => write_json_str(out, t),
        None => out.push_str("null"),
    }
    out.push_str(",\"event_hash\":");
    write_json_str(out, &v.event_hash);
    match &v.problem {
        None => {
            out.push_str(",\"attributions\":");
            push_int(out, v.attributions as i64);
        }
        Some(p) => {
            out.push_str(",\"problem\":{\"field\":");
            write_json_str(out, &p.field);
            out.push_str(",\"code\":");
            write_json_str(out, p.code);
            out.push_str(",\"message\":");
            write_json_str(out, &p.message);
            out.push('}');
        }
    }
    out.push('}');
}

/// Counts over an object's lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Non-empty lines.
    pub statements: u64,
    /// Lines that fail the object.
    pub failing: u64,
    pub attributions: u64,
    /// The first failing line (physical), if any: the object does not load.
    pub first_failing: Option<u64>,
}

impl Tally {
    pub fn loads(&self) -> bool {
        self.failing == 0
    }
}

/// Judge a whole object: one JSON line per non-empty line, and the counts.
pub fn check_object(input: &[u8], name: Option<&str>, limits: &Limits) -> (String, Tally) {
    let mut out = String::new();
    let mut tally = Tally::default();
    let mut times = TimeKind::None;
    let mut n = 0u32;
    for (physical, line) in super::lines(input) {
        if line.is_empty() {
            continue;
        }
        n += 1;
        let v = judge(line, n, name.unwrap_or(""), limits, &mut times);
        tally.statements += 1;
        tally.attributions += v.attributions as u64;
        if v.problem.is_some() {
            tally.failing += 1;
            tally.first_failing.get_or_insert(physical);
        }
        write_line_json(&mut out, name, physical, n, &v);
        out.push('\n');
    }
    (out, tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_problems() {
        let doc = b"{\"verb\":{\"id\":\"https://w3id.org/xapi/video/verbs/played\"}}\r\n\n{\"timestamp\":\"soon\"}\r[1]";
        let (out, tally) = check_object(doc, Some("a.jsonl"), &Limits::default());
        let lines: alloc::vec::Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(
            lines[0].starts_with(
                r#"{"file":"a.jsonl","line":1,"source_line":1,"event_type":"video","event_hash":""#
            ) && lines[0].ends_with(r#","attributions":0}"#),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].starts_with(
                r#"{"file":"a.jsonl","line":3,"source_line":2,"event_type":"unknown""#
            ) && lines[1].contains(r#""problem":{"field":"timestamp","code":"timestamp_invalid""#),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].contains(r#""line":4,"source_line":3,"event_type":null"#),
            "{}",
            lines[2]
        );
        assert_eq!(
            tally,
            Tally {
                statements: 3,
                failing: 2,
                attributions: 0,
                first_failing: Some(3)
            }
        );
        assert!(!tally.loads());
    }
}
