//! JSON decoding errors in plain words (Python's `json` phrasing
//! translated), shared by every check that reads JSON and by the plain
//! rendering of reports.

use alloc::format;
use alloc::string::String;

/// Python's `json` phrasing, in plain words.
pub fn json_phrase(python: &str) -> &'static str {
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

/// What an empty file (or one of nothing but white space) is told.
pub const EMPTY_FILE: &str = "the file is empty";

/// A JSON decoding error of a whole file, in plain words with its place.
pub fn json_file_words(e: &super::JsonError) -> String {
    match (e.kind, e.encoding) {
        (_, Some((encoding, at))) => {
            format!(
                "the file is not readable text: its bytes are not valid {encoding} at byte {at}"
            )
        }
        (super::JsonErrorKind::Syntax, None) => format!(
            "the file is not valid JSON: at line {}, column {}, {}",
            e.line,
            e.column,
            json_phrase(e.message)
        ),
        (_, None) => format!(
            "the file cannot be read as JSON: at line {}, column {}, {}",
            e.line, e.column, e.message
        ),
    }
}

/// A JSON decoding error of one line, in plain words with its column.
pub fn json_words(e: &super::JsonError) -> String {
    match e.encoding {
        Some(_) => String::from("its bytes are not readable text"),
        None => format!("at column {}, {}", e.column, json_phrase(e.message)),
    }
}
