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

// The JSON errors' words live with the parser (the checks that produce
// them sit below this module); they are part of this vocabulary too.
pub use crate::json::words::{EMPTY_FILE, json_file_words, json_phrase, json_words};

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
        "string_pattern_mismatch" => match f {
            "visit_date" => "Write visit_date as YYYY-MM-DD, like 2025-03-18.".into(),
            "ptid" => "Write ptid as 1 to 10 letters, digits or punctuation marks, without spaces or accents.".into(),
            _ => format!("Write `{f}` as the event fields describe it."),
        },
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
        "name_not_read" => match suggested_name {
            Some(n) => format!("Name the file {n} so the pipeline reads it."),
            None => "Name it {env}/log-{action}-{YYYYMMDD-HHMMSS}-{adcid}-{project}-{ptid}-{visit_date}.json, from its content (once the content is valid), so the pipeline reads it.".into(),
        },
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
    let what = what(code, message);
    let todo = if message.starts_with(EMPTY_FILE) {
        String::from("Write the event into it, or remove it.")
    } else {
        fix(code, field, suggested_name)
    };
    unmark(&if todo.is_empty() {
        what
    } else {
        format!("{what} {todo}")
    })
}

/// What is wrong, as a sentence for people (no advice): the message a
/// report a person reads carries (the errors file, for one).
pub fn what(code: &str, message: &str) -> String {
    let text = match code {
        "name_reference_skip" => sentence(&message.replace(
            "the reference consumer would silently never read this file",
            "the old pipeline would have skipped this file without a word",
        )),
        _ => sentence(message),
    };
    unmark(&text)
}

/// Every problem of a file, errors then name findings, each explained; the
/// name the content calls for is suggested once, on the first name
/// finding that needs it, not under every one.
pub fn explain_all(r: &FileReport) -> alloc::vec::Vec<String> {
    let mut suggested = r.suggested_name.as_deref();
    let mut out = alloc::vec::Vec::new();
    for i in r.errors.iter().chain(r.name_findings.iter().flatten()) {
        let code = i.code.as_str();
        let names_file = matches!(
            code,
            "name_mismatch" | "name_unparsed" | "name_reference_skip" | "name_not_read"
        );
        if names_file && suggested.is_none() && r.suggested_name.is_some() {
            // Said already: this one only says what is wrong.
            out.push(what(code, &i.message));
            continue;
        }
        out.push(explain(&i.field, code, &i.message, suggested));
        if names_file {
            suggested = None;
        }
    }
    out
}

/// Backtick marks (`field`) as quotes, for text people read.
fn unmark(s: &str) -> String {
    s.replace('`', "\"")
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
    let tinted = r
        .errors
        .iter()
        .map(|i| ("31", i))
        .chain(r.name_findings.iter().flatten().map(|i| ("33", i)));
    for ((tint, i), text) in tinted.zip(explain_all(r)) {
        out.push_str(&format!(
            "        {}: {} [{}]\n",
            paint(tint, &place(&i.field)),
            text,
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
        let crate::xapi::check::Judgement::Invalid { reason } =
            crate::xapi::check::judge("{\"verb\": }")
        else {
            panic!("a broken line")
        };
        let text = explain("line 3", "xapi_invalid_line", &reason, None);
        assert!(
            text.starts_with("The line is not valid JSON: at column 10, a value was expected"),
            "{text}"
        );
        assert!(
            !text.contains("Expecting") && !text.contains("char"),
            "{text}"
        );
    }

    #[test]
    fn an_empty_file_is_called_empty() {
        for body in [&b""[..], b"  \n\t"] {
            let r = check_file(None, body);
            let text = explain_issue(&r.errors[0], None);
            assert_eq!(
                text,
                "The file is empty. Write the event into it, or remove it."
            );
        }
    }

    #[test]
    fn a_name_the_pipeline_never_reads_is_said_so() {
        let body = br#"{"action":"submit","study":"adrc","pipeline_adcid":42,"project_label":"ingest-form","center_label":"alpha","gear_name":"g","ptid":"44914","visit_date":"2025-03-03","datatype":"form","module":"UDS","packet":"I","timestamp":"2025-03-18T20:22:50Z"}"#;
        let r = check_file(Some("drop/submit-44914.json"), body);
        assert!(r.valid, "the verdict on the content stays");
        let findings = r.name_findings.as_ref().expect("a finding");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].code.as_str(), "name_not_read");
        let text = explain_issue(&findings[0], r.suggested_name.as_deref());
        assert!(text.contains("will never read"), "{text}");
        assert!(
            text.ends_with("Name the file drop/log-submit-20250318-202250-42-ingest-form-44914-2025-03-03.json so the pipeline reads it."),
            "{text}"
        );
        let ok = check_file(
            Some("drop/log-submit-20250318-202250-42-ingest-form-44914-2025-03-03.json"),
            body,
        );
        assert_eq!(ok.name_findings.as_deref(), Some(&[][..]));
    }

    const MISNAMED: &[u8] = br#"{"action":"submit","study":"adrc","pipeline_adcid":42,"project_label":"ingest-form","center_label":"alpha","gear_name":"g","ptid":"899485","visit_date":"2025-03-03","datatype":"form","module":"UDS","packet":"I","timestamp":"2025-03-18T20:22:50Z"}"#;

    #[test]
    fn one_voice_for_people() {
        // Two parts of the name are off: the name to use is said once.
        let r = check_file(
            Some("log-submit-20250318-202250-42-ingest-form-111111-2025-03-04.json"),
            MISNAMED,
        );
        let texts = explain_all(&r);
        assert_eq!(texts.len(), 2, "{texts:?}");
        let named = texts.iter().filter(|t| t.contains("Name the file")).count();
        assert_eq!(named, 1, "{texts:?}");
        let block = text_block(&r, &plain_paint);
        assert_eq!(block.matches("Name the file").count(), 1, "{block}");
        // No backtick marks, no "None", no jargon.
        let r = check_file(None, br#"{"visit_date": "2025-02-30", "ptid": "a b"}"#);
        for t in explain_all(&r) {
            assert!(!t.contains('`'), "{t}");
            assert!(
                !t.contains("ASCII") && !t.contains("in the form given"),
                "{t}"
            );
        }
        let old_form = check_file(
            Some("log-submit-20250318-202250-42-ingest-form-899485-01.json"),
            MISNAMED,
        );
        for t in explain_all(&old_form) {
            assert!(!t.contains("None"), "{t}");
        }
    }

    #[test]
    fn never_a_name_with_a_day_that_does_not_exist() {
        let body = core::str::from_utf8(MISNAMED)
            .unwrap()
            .replace("2025-03-03", "2025-02-30");
        let r = check_file(Some("log-submit-x.json"), body.as_bytes());
        assert!(!r.valid);
        assert_eq!(r.suggested_name, None);
        let texts = explain_all(&r);
        assert!(
            texts.iter().all(|t| !t.contains("2025-02-30.json")),
            "{texts:?}"
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
