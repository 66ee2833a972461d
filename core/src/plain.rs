//! Problems in a coordinator's words: what is wrong and what to do about
//! it, for the CLI's text output and the browser checker. The JSON reports
//! keep their fields, codes and messages; this is a rendering of them.
//!
//! One place for every host, so the CLI, the browser and the Python
//! console script say the same thing about the same file.

use alloc::format;
use alloc::string::{String, ToString};

use crate::report::Issue;
use crate::visit::FileReport;

/// Where a problem is, for people: a field by its name, the rest in words.
pub fn place(field: &str) -> String {
    match field {
        "__json__" => "file content".into(),
        "__root__" => "the event".into(),
        "__file__" => "the file".into(),
        "name" => "file name".into(),
        f => match f.strip_prefix("name.") {
            Some(part) => format!("file name ({part})"),
            None => f.to_string(),
        },
    }
}

/// Python's `json` phrasing, in plain words.
fn json_phrase(python: &str) -> &'static str {
    match python {
        "Expecting value" => {
            "a value was expected (text in quotes, a number, true, false, null, an object or a list)"
        }
        "Expecting property name enclosed in double quotes" => {
            "a field name in double quotes was expected (a trailing comma, or single quotes?)"
        }
        "Expecting ':' delimiter" => "a colon (:) was expected after the field name",
        "Expecting ',' delimiter" => "a comma or a closing bracket was expected",
        "Unterminated string starting at" => "a text value starts here and is never closed with \"",
        "Invalid control character at" => {
            "a text value holds a raw control character (a line break or tab?); write it as \\n or \\t"
        }
        "Invalid \\escape" => "a backslash escape is not one JSON knows",
        "Invalid \\uXXXX escape" => "a \\u escape needs four hexadecimal digits",
        "Extra data" => "more follows the end of the JSON value (two events in one file?)",
        _ => "the JSON is broken",
    }
}

/// A JSON decoding error of one line, in plain words with its column.
pub fn json_words(e: &crate::json::JsonError) -> String {
    match e.encoding {
        Some(_) => String::from("its bytes are not readable text"),
        None => format!("at column {}, {}", e.column, json_phrase(e.message)),
    }
}

/// `"<python message>: line L column C (char N)"` as plain words with the
/// position, or `None` when the message is not in that form.
fn broken_json(message: &str) -> Option<String> {
    let (phrase, line, column) = json_position(message)?;
    Some(format!(
        "The file is not valid JSON: at line {line}, column {column}, {}.",
        json_phrase(phrase)
    ))
}

/// The Python phrase, line and column of a "not valid JSON: …" message.
fn json_position(message: &str) -> Option<(&str, &str, &str)> {
    let body = message.strip_prefix("not valid JSON: ")?;
    let (phrase, at) = body.rsplit_once(": line ")?;
    let (line, rest) = at.split_once(" column ")?;
    let (column, _) = rest.split_once(" (char ")?;
    Some((phrase, line, column))
}

/// An xAPI line that is not JSON: the line is the problem's place already,
/// so only the column is said.
fn broken_line(message: &str) -> Option<String> {
    let (phrase, _, column) = json_position(message)?;
    Some(format!(
        "The line is not valid JSON: at column {column}, {}.",
        json_phrase(phrase)
    ))
}

/// The message of an encoding problem, in plain words.
fn unreadable_text(message: &str) -> Option<String> {
    let (_, at) = message.rsplit_once(": cannot decode as ")?;
    let (encoding, byte) = at.split_once(" at byte ")?;
    Some(format!(
        "The file is not readable text: its bytes are not valid {encoding} at byte {byte}."
    ))
}

fn sentence(message: &str) -> String {
    // Messages start in ASCII; Unicode case tables would add to the wasm.
    let mut s = String::with_capacity(message.len() + 1);
    s.push_str(message);
    if let Some(first) = s.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// What to do about a problem with `code` (as its JSON code).
fn fix(code: &str, field: &str, suggested_name: Option<&str>) -> String {
    let f = field;
    match code {
        "json_invalid" => "Open the file in a text editor at that place and correct it.".into(),
        "json_encoding" => "Save the file as UTF-8 text.".into(),
        "json_integer_too_long" | "json_too_deep" => {
            "The file was not written as an event; check the program that wrote it.".into()
        }
        "model_type" => "Write exactly one JSON object, { … }, per file.".into(),
        "missing" => format!("Add `{f}`."),
        "extra_forbidden" => format!("Remove `{f}`, or check its spelling against the event fields."),
        "string_type" | "string_unicode" => format!("Write `{f}` as text in double quotes."),
        "string_too_long" => format!("Shorten `{f}`."),
        "string_pattern_mismatch" => format!("Write `{f}` in the form given."),
        "literal_error" => format!("Use one of the allowed values for `{f}`."),
        "int_type" | "int_parsing" | "int_from_float" | "bool_not_int" | "finite_number" => {
            format!("Write `{f}` as a whole number, without quotes or a fraction.")
        }
        "int_parsing_size" | "int32_range" => format!("Check `{f}`: the number is out of range."),
        "datetime_type" | "datetime_parsing" | "datetime_from_date_parsing" | "datetime_utc_overflow" => {
            format!("Write `{f}` as a date and time, like 2025-03-18T20:22:50Z.")
        }
        "date_not_calendar" => format!("Write `{f}` as a real calendar date, YYYY-MM-DD."),
        "value_error" => "Check the module and modality against the datatype.".into(),
        "study_not_path_safe" => "Use a study name that can be a folder name: 1 to 255 bytes, no /, \\, control characters, `.` or `..`.".into(),
        "unreadable" => "Check that the file still exists and can be read.".into(),
        "internal_error" => {
            "This is a fault of the checker, not of the file: please report it. The other files are checked as usual.".into()
        }
        "name_mismatch" | "name_unparsed" | "name_reference_skip" => match suggested_name {
            Some(n) => format!("Name the file {n}"),
            None => "Name the file {env}/log-{action}-{YYYYMMDD-HHMMSS}-{adcid}-{project}-{ptid}-{visit_date}.json, from its content (once the content is valid).".into(),
        },
        "xapi_invalid_line" => "Fix or remove the line; the loader skips it.".into(),
        c if c.starts_with("schema_") => {
            "The row still loads; tell whoever writes these statements.".into()
        }
        _ => String::new(),
    }
}

/// One problem as a sentence or two: what is wrong, then what to do.
/// `suggested_name` is the name the file should have (from its content),
/// for file-name findings.
pub fn explain(field: &str, code: &str, message: &str, suggested_name: Option<&str>) -> String {
    let what = match code {
        "json_invalid" => broken_json(message).unwrap_or_else(|| sentence(message)),
        "json_encoding" => unreadable_text(message).unwrap_or_else(|| sentence(message)),
        "xapi_invalid_line" => broken_line(message).unwrap_or_else(|| sentence(message)),
        "name_reference_skip" => sentence(&message.replace(
            "the reference consumer would silently never read this file",
            "the old pipeline would have skipped this file without a word",
        )),
        _ => sentence(message),
    };
    let todo = fix(code, field, suggested_name);
    if todo.is_empty() {
        what
    } else {
        format!("{what} {todo}")
    }
}

/// [`explain`] for an issue.
pub fn explain_issue(issue: &Issue, suggested_name: Option<&str>) -> String {
    explain(
        &issue.field,
        issue.code.as_str(),
        &issue.message,
        suggested_name,
    )
}

/// The text the CLI prints for one file: a verdict line, then each
/// problem indented, in plain words with its code. `paint(tint, text)`
/// colours a part (ANSI colour numbers; return `text` for none).
pub fn text_block(r: &FileReport, paint: &dyn Fn(&str, &str) -> String) -> String {
    let mut out = String::new();
    let path = r.path.as_deref().unwrap_or("-");
    let mark = if r.valid {
        paint("32", "ok     ")
    } else {
        paint("31", "INVALID")
    };
    out.push_str(&format!("{mark} {path}\n"));
    let suggested = r.suggested_name.as_deref();
    let tinted = r
        .errors
        .iter()
        .map(|i| ("31", i))
        .chain(r.name_findings.iter().flatten().map(|i| ("33", i)));
    for (tint, i) in tinted {
        out.push_str(&format!(
            "        {}: {} [{}]\n",
            paint(tint, &place(&i.field)),
            explain_issue(i, suggested),
            i.code.as_str()
        ));
    }
    out
}

/// No colour.
pub fn plain_paint(_: &str, text: &str) -> String {
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visit::check_file;

    #[test]
    fn broken_json_by_line_and_column_without_python_words() {
        let r = check_file(None, b"{'a': 1}");
        let text = explain_issue(&r.errors[0], None);
        assert_eq!(
            text,
            "The file is not valid JSON: at line 1, column 2, a field name in double quotes was expected (a trailing comma, or single quotes?). Open the file in a text editor at that place and correct it."
        );
        assert!(!text.contains("Expecting") && !text.contains("char"));
        assert_eq!(place(&r.errors[0].field), "file content");
        let r = check_file(None, b"{\"a\": 1,\n \"b\": }");
        assert!(
            explain_issue(&r.errors[0], None).contains("at line 2, column 7, a value was expected"),
            "{}",
            explain_issue(&r.errors[0], None)
        );
    }

    #[test]
    fn a_mismatching_name_gets_the_name_it_should_have() {
        let body = br#"{"action":"submit","study":"adrc","pipeline_adcid":42,"project_label":"ingest-form","center_label":"alpha","gear_name":"g","ptid":"899485","visit_date":"2025-03-03","datatype":"form","module":"UDS","packet":"I","timestamp":"2025-03-18T20:22:50-04:00"}"#;
        let r = check_file(
            Some("prod/log-submit-20250318-202250-42-ingest-form-111111-2025-03-03.json"),
            body,
        );
        assert!(r.valid);
        let want = "prod/log-submit-20250318-202250-42-ingest-form-899485-2025-03-03.json";
        assert_eq!(r.suggested_name.as_deref(), Some(want));
        let finding = &r.name_findings.as_ref().unwrap()[0];
        let text = explain_issue(finding, r.suggested_name.as_deref());
        assert!(text.ends_with(&format!("Name the file {want}")), "{text}");
        let block = text_block(&r, &plain_paint);
        assert!(block.starts_with("ok      prod/"), "{block}");
        assert!(
            block.contains("file name (ptid): The file name says"),
            "{block}"
        );
    }

    #[test]
    fn a_broken_xapi_line_by_its_column() {
        let text = explain(
            "line 3",
            "xapi_invalid_line",
            "not valid JSON: Expecting value: line 1 column 10 (char 9)",
            None,
        );
        assert!(
            text.starts_with("The line is not valid JSON: at column 10, a value was expected"),
            "{text}"
        );
    }

    #[test]
    fn every_code_has_something_to_do() {
        for c in crate::report::Code::ALL {
            assert!(
                !fix(c.as_str(), "x", None).is_empty(),
                "{} has no advice",
                c.as_str()
            );
        }
    }
}
