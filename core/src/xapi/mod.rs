//! xAPI statements written by Oli Torus: decoding, the statement schema's
//! rules, classification, and the column tables that turn a statement into
//! a row of its ClickHouse table.
//!
//! One table of columns per category ([`columns`]) drives both load paths:
//! [`extract`] computes a row here, [`sql`] generates the ClickHouse
//! expressions for `INSERT … SELECT … FROM s3(…)`. Each column's rule is
//! written once, as data, so the two paths cannot drift apart.

pub mod canonical;
pub mod check;
pub mod columns;
pub mod containers;
pub mod extract;
pub mod raw;
pub mod schema;
pub mod sql;
pub mod time;

use alloc::string::String;

use crate::json::{self, Value};

/// The five categories with a table, and everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    Video,
    ActivityAttempt,
    PageAttempt,
    PageViewed,
    PartAttempt,
    Unknown,
}

impl Category {
    pub const LOADED: [Category; 5] = [
        Category::Video,
        Category::ActivityAttempt,
        Category::PageAttempt,
        Category::PageViewed,
        Category::PartAttempt,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Video => "video",
            Category::ActivityAttempt => "activity_attempt",
            Category::PageAttempt => "page_attempt",
            Category::PageViewed => "page_viewed",
            Category::PartAttempt => "part_attempt",
            Category::Unknown => "unknown",
        }
    }

    /// The ClickHouse table of a category.
    pub const fn table(self) -> &'static str {
        match self {
            Category::Video => "video_events",
            Category::ActivityAttempt => "activity_attempt_events",
            Category::PageAttempt => "page_attempt_events",
            Category::PageViewed => "page_viewed_events",
            Category::PartAttempt => "part_attempt_events",
            Category::Unknown => "",
        }
    }
}

pub const VERB_COMPLETED: &str = "http://adlnet.gov/expapi/verbs/completed";
pub const VERB_VIEWED: &str = "http://id.tincanapi.com/verb/viewed";
/// Verbs that make a statement a video event, whatever its object.
pub const VIDEO_VERBS: [&str; 5] = [
    "https://w3id.org/xapi/video/verbs/played",
    "https://w3id.org/xapi/video/verbs/paused",
    "https://w3id.org/xapi/video/verbs/seeked",
    "https://w3id.org/xapi/video/verbs/completed",
    // Labelled "legacy" by the reference.
    "http://adlnet.gov/expapi/verbs/experienced",
];
pub const TYPE_ACTIVITY_ATTEMPT: &str = "http://oli.cmu.edu/extensions/activity_attempt";
pub const TYPE_PAGE_ATTEMPT: &str = "http://oli.cmu.edu/extensions/page_attempt";
pub const TYPE_PAGE: &str = "http://oli.cmu.edu/extensions/types/page";
pub const TYPE_QUESTION: &str = "http://adlnet.gov/expapi/activities/question";

/// The string at `path` (first occurrence of each key, as ClickHouse's
/// JSON functions read it), or `""` when absent or not a string.
pub fn string_at<'v>(v: &'v Value, path: &[&str]) -> &'v str {
    match extract::lookup(v, path) {
        Some(Value::Str(s)) if !s.unpaired_surrogate => &s.text,
        _ => "",
    }
}

/// The classification rule: the first match wins; comparisons are exact on
/// `verb.id` and `object.definition.type`.
pub fn classify(statement: &Value) -> Category {
    let verb = string_at(statement, &["verb", "id"]);
    let kind = string_at(statement, &["object", "definition", "type"]);
    classify_ids(verb, kind)
}

/// The classification rule over the two values it reads.
pub fn classify_ids(verb: &str, kind: &str) -> Category {
    if VIDEO_VERBS.contains(&verb) {
        Category::Video
    } else if verb == VERB_COMPLETED && kind == TYPE_ACTIVITY_ATTEMPT {
        Category::ActivityAttempt
    } else if verb == VERB_COMPLETED && kind == TYPE_PAGE_ATTEMPT {
        Category::PageAttempt
    } else if verb == VERB_VIEWED && kind == TYPE_PAGE {
        Category::PageViewed
    } else if verb == VERB_COMPLETED && kind == TYPE_QUESTION {
        Category::PartAttempt
    } else {
        Category::Unknown
    }
}

/// Why a line is not a loadable statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// Not JSON in the strict sense both load paths share (RFC 8259: no
    /// `NaN`/`Infinity`, no numbers that overflow a double): where and
    /// why, in plain words.
    Json(String),
    /// JSON, but not an object.
    NotAnObject,
}

/// The characters trimmed from both ends of a line, by both paths (the
/// server side with `trimBoth(line, ' \t\r')`): JSON whitespace, so a CRLF
/// file reads like an LF one. Unicode spaces are not trimmed; a line that
/// starts with one is not JSON on either path.
pub const LINE_TRIM: [char; 3] = [' ', '\t', '\r'];

pub fn trim_line(line: &str) -> &str {
    // Byte by byte: `trim_matches` with a set of chars decodes each end
    // as UTF-8 and showed in the per-line profile. The set is ASCII, so
    // every cut falls on a character boundary.
    let is_trim = |b: &u8| LINE_TRIM.iter().any(|c| u32::from(*b) == u32::from(*c));
    let bytes = line.as_bytes();
    let start = bytes
        .iter()
        .position(|b| !is_trim(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_trim(b))
        .map_or(start, |i| i + 1);
    line.get(start..end).unwrap_or_default()
}

/// Decode one JSONL line (see [`trim_line`]).
pub fn decode_line(line: &str) -> Result<Value<'_>, LineError> {
    let (v, loose) = json::decode_str_flagged(trim_line(line))
        .map_err(|e| LineError::Json(crate::json::words::json_words(&e)))?;
    // The flag also covers lone surrogates, which this target keeps: only
    // a flagged tree is walked, to look for a non-finite number.
    if loose && !is_strict(&v) {
        return Err(LineError::Json(String::from(
            "NaN, Infinity or a number too large for a double",
        )));
    }
    match v {
        Value::Object(_) => Ok(v),
        _ => Err(LineError::NotAnObject),
    }
}

fn is_strict(v: &Value) -> bool {
    match v {
        Value::Float(f) => f.is_finite(),
        Value::Array(items) => items.iter().all(is_strict),
        Value::Object(o) => o.entries().all(|(_, v)| is_strict(v)),
        _ => true,
    }
}

/// The statement's stable id: its `id` when it has one, otherwise the
/// lowercase hex SHA-256 of the line as written (what ClickHouse computes
/// with `lower(hex(SHA256(json)))` on the same text).
pub fn event_id(statement: &Value, line: &str) -> String {
    match extract::lookup(statement, &["id"]) {
        Some(Value::Str(s)) if !s.unpaired_surrogate => String::from(s.as_str()),
        _ => sha256_hex(trim_line(line).as_bytes()),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    // Neither `write!("{b:02x}")` per byte (the formatter's padding was
    // about 2 % of the in-process raw-events load, which hashes every
    // line) nor `hex::encode`, which collects a `char` iterator: about
    // 1 600 instructions a hash against some 200 here.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = sha2::Sha256::digest(bytes);
    let mut out = [0u8; 64];
    for (pair, b) in out.chunks_exact_mut(2).zip(digest.iter()) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0xf)];
    }
    // Every byte is an ASCII hex digit, so this cannot fail.
    String::from(core::str::from_utf8(&out).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    /// Only spaces, tabs and carriage returns go, from both ends; other
    /// white space and anything inside stays.
    #[test]
    fn trim_line_cuts_the_json_blanks_at_both_ends() {
        for (line, want) in [
            ("", ""),
            (" \t\r", ""),
            ("\r{\"a\": 1} \r", "{\"a\": 1}"),
            ("{\"a\": \" é \"}\t", "{\"a\": \" é \"}"),
            ("\u{a0}{} \n", "\u{a0}{} \n"),
            ("é", "é"),
        ] {
            assert_eq!(super::trim_line(line), want, "{line:?}");
        }
    }

    /// FIPS 180-2's examples, and a digest whose bytes cover every nibble.
    /// Non-finite numbers fail a line at any depth; a lone surrogate,
    /// which also sets the parser's flag, does not.
    #[test]
    fn decode_line_refuses_non_finite_numbers_only() {
        for bad in [
            r#"{"a":NaN}"#,
            r#"{"a":[1,{"b":-Infinity}]}"#,
            r#"{"a":{"b":{"c":1e400}}}"#,
        ] {
            assert!(
                matches!(super::decode_line(bad), Err(super::LineError::Json(_))),
                "{bad}"
            );
        }
        for good in [
            r#"{"a":"\ud800"}"#,
            r#"{"\udc00":[1.5e300]}"#,
            r#"{"a":[1,{"b":2.5}]}"#,
        ] {
            assert!(super::decode_line(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn sha256_hex_is_lowercase_and_padded() {
        assert_eq!(
            super::sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // Every length through a few blocks, against the hex crate.
        let bytes: alloc::vec::Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for n in 0..bytes.len() {
            use sha2::Digest;
            assert_eq!(
                super::sha256_hex(&bytes[..n]),
                hex::encode(sha2::Sha256::digest(&bytes[..n]))
            );
        }
        let h = super::sha256_hex(b"eventlog");
        assert_eq!(h.len(), 64);
        assert!(
            h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }
}
