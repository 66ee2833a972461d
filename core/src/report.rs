//! Findings about one input: `(field path, code, message)` triples, and the
//! one JSON serialisation every front (CLI, Lambda, wasm, browser) emits.

use alloc::string::String;
use core::fmt::Write;

/// Machine-readable finding codes. Where the reference consumer reports the
/// same problem, the code is the pydantic error type it uses, so reports
/// can be compared with the reference's; the rest are ours (see
/// `docs/differences.md` for the codes that make us stricter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Code {
    // Document level.
    JsonInvalid,
    JsonEncoding,
    JsonIntegerTooLong,
    JsonTooDeep,
    ModelType,
    ValueError,
    Missing,
    ExtraForbidden,
    // Strings and literals.
    StringType,
    StringUnicode,
    StringTooLong,
    StringPatternMismatch,
    LiteralError,
    // Integers.
    IntType,
    IntParsing,
    IntParsingSize,
    IntFromFloat,
    FiniteNumber,
    BoolNotInt,
    Int32Range,
    // Dates and times.
    DatetimeType,
    DatetimeParsing,
    DatetimeFromDateParsing,
    DatetimeUtcOverflow,
    DateNotCalendar,
    // Grouping.
    StudyNotPathSafe,
    /// The file could not be read at all (I/O, permissions, size limit).
    Unreadable,
    /// Checking the file failed on our side (a bug, caught): never a
    /// verdict on the file.
    InternalError,
    // File-name checks.
    NameMismatch,
    NameUnparsed,
    NameReferenceSkip,
    /// The pipeline will not read a file of this name (it reads only
    /// `log-….json`): whatever the content, it never arrives.
    NameNotRead,
    // xAPI statements.
    SchemaType,
    SchemaConst,
    SchemaRequired,
    SchemaAdditional,
    SchemaNoMatch,
}

impl Code {
    /// Every code, for documentation checks.
    pub const ALL: [Code; 37] = [
        Code::JsonInvalid,
        Code::JsonEncoding,
        Code::JsonIntegerTooLong,
        Code::JsonTooDeep,
        Code::ModelType,
        Code::ValueError,
        Code::Missing,
        Code::ExtraForbidden,
        Code::StringType,
        Code::StringUnicode,
        Code::StringTooLong,
        Code::StringPatternMismatch,
        Code::LiteralError,
        Code::IntType,
        Code::IntParsing,
        Code::IntParsingSize,
        Code::IntFromFloat,
        Code::FiniteNumber,
        Code::BoolNotInt,
        Code::Int32Range,
        Code::DatetimeType,
        Code::DatetimeParsing,
        Code::DatetimeFromDateParsing,
        Code::DatetimeUtcOverflow,
        Code::DateNotCalendar,
        Code::StudyNotPathSafe,
        Code::Unreadable,
        Code::InternalError,
        Code::NameMismatch,
        Code::NameUnparsed,
        Code::NameReferenceSkip,
        Code::NameNotRead,
        Code::SchemaType,
        Code::SchemaConst,
        Code::SchemaRequired,
        Code::SchemaAdditional,
        Code::SchemaNoMatch,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Code::JsonInvalid => "json_invalid",
            Code::JsonEncoding => "json_encoding",
            Code::JsonIntegerTooLong => "json_integer_too_long",
            Code::JsonTooDeep => "json_too_deep",
            Code::ModelType => "model_type",
            Code::ValueError => "value_error",
            Code::Missing => "missing",
            Code::ExtraForbidden => "extra_forbidden",
            Code::StringType => "string_type",
            Code::StringUnicode => "string_unicode",
            Code::StringTooLong => "string_too_long",
            Code::StringPatternMismatch => "string_pattern_mismatch",
            Code::LiteralError => "literal_error",
            Code::IntType => "int_type",
            Code::IntParsing => "int_parsing",
            Code::IntParsingSize => "int_parsing_size",
            Code::IntFromFloat => "int_from_float",
            Code::FiniteNumber => "finite_number",
            Code::BoolNotInt => "bool_not_int",
            Code::Int32Range => "int32_range",
            Code::DatetimeType => "datetime_type",
            Code::DatetimeParsing => "datetime_parsing",
            Code::DatetimeFromDateParsing => "datetime_from_date_parsing",
            Code::DatetimeUtcOverflow => "datetime_utc_overflow",
            Code::DateNotCalendar => "date_not_calendar",
            Code::StudyNotPathSafe => "study_not_path_safe",
            Code::Unreadable => "unreadable",
            Code::InternalError => "internal_error",
            Code::NameMismatch => "name_mismatch",
            Code::NameUnparsed => "name_unparsed",
            Code::NameReferenceSkip => "name_reference_skip",
            Code::NameNotRead => "name_not_read",
            Code::SchemaType => "schema_type",
            Code::SchemaConst => "schema_const",
            Code::SchemaRequired => "schema_required",
            Code::SchemaAdditional => "schema_additional",
            Code::SchemaNoMatch => "schema_no_match",
        }
    }

    /// Codes for rules the reference does not have (it accepts the input,
    /// or crashes on it). Every one is listed in `docs/differences.md`.
    pub const fn is_deliberate_difference(self) -> bool {
        matches!(
            self,
            Code::JsonEncoding
                | Code::JsonIntegerTooLong
                | Code::JsonTooDeep
                | Code::DatetimeUtcOverflow
                | Code::BoolNotInt
                | Code::Int32Range
                | Code::DateNotCalendar
                | Code::StudyNotPathSafe
        )
    }
}

impl core::fmt::Display for Code {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem: where (`field`), what (`code`), and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// A top-level field name, `__root__` for the document as a whole,
    /// `__json__` for decoding problems, `name.<part>` for file-name checks.
    pub field: String,
    pub code: Code,
    pub message: String,
}

impl Issue {
    pub fn new(field: impl Into<String>, code: Code, message: impl Into<String>) -> Self {
        Issue {
            field: field.into(),
            code,
            message: message.into(),
        }
    }

    pub fn write_json(&self, out: &mut String) {
        out.push_str("{\"field\":");
        write_json_str(out, &self.field);
        out.push_str(",\"code\":");
        write_json_str(out, self.code.as_str());
        out.push_str(",\"message\":");
        write_json_str(out, &self.message);
        out.push('}');
    }
}

/// Write `items` as a JSON array of issues.
pub fn write_issues(out: &mut String, items: &[Issue]) {
    out.push('[');
    for (i, issue) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        issue.write_json(out);
    }
    out.push(']');
}

/// A JSON string literal: UTF-8 kept as is, quotes, backslashes and control
/// characters escaped. The same bytes on every target.
pub fn write_json_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut rest = s;
    // Runs without an escape go in whole; most strings are one run.
    while let Some(i) = rest.bytes().position(|b| NEEDS_ESCAPE[usize::from(b)]) {
        out.push_str(&rest[..i]);
        let b = rest.as_bytes()[i];
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0C => out.push_str("\\f"),
            _ => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        // An ASCII byte: the next one starts a character.
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out.push('"');
}

/// The bytes [`write_json_str`] escapes: quote, backslash, the C0 controls
/// and DEL.
const NEEDS_ESCAPE: [bool; 256] = crate::json::stop_bytes(&[0x7F]);

/// `n` in decimal, appended without the formatting machinery.
pub fn push_int(out: &mut String, n: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push('-');
    }
    out.push_str(core::str::from_utf8(&buf[i..]).unwrap_or_default());
}

/// `Some(s)` as a string literal, `None` as `null`.
pub fn write_json_opt_str(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => write_json_str(out, s),
        None => out.push_str("null"),
    }
}

/// Shorten `s` for quoting in a message, on a character boundary.
pub(crate) fn excerpt(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        return String::from(s);
    }
    let mut t: String = s.chars().take(MAX).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_json_requires() {
        let mut s = String::new();
        write_json_str(&mut s, "a\"b\\c\nd\u{1}é\u{7f}");
        assert_eq!(s, r#""a\"b\\c\nd\u0001é\u007f""#);
    }

    #[test]
    fn integers_as_display_writes_them() {
        for n in [
            0,
            7,
            -7,
            10,
            2161,
            -100,
            i64::from(i32::MAX),
            i64::MAX,
            i64::MIN,
        ] {
            let mut s = String::new();
            push_int(&mut s, n);
            assert_eq!(s, alloc::format!("{n}"));
        }
    }

    #[test]
    fn issue_shape() {
        let mut s = String::new();
        Issue::new("ptid", Code::StringTooLong, "too long").write_json(&mut s);
        assert_eq!(
            s,
            r#"{"field":"ptid","code":"string_too_long","message":"too long"}"#
        );
    }
}
