//! The in-process path: a statement to the cells of its row, by the column
//! table's rules, and the row as a JSONEachRow line or in RowBinary for
//! ClickHouse.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::columns::{Column, Rule};
use super::containers::At;
use super::{canonical, time};
use crate::json::{Int, Str, Value};
use crate::report::write_json_str;

/// A column as the row writers need it: its name and ClickHouse type,
/// and that type as RowBinary writes it.
pub trait Typed {
    fn name(&self) -> &str;
    fn ch_type(&self) -> &str;
    fn wire(&self) -> WireType;
}

impl Typed for Column {
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

/// How RowBinary writes a value of a column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    UInt64,
    UInt32,
    Float64,
    Bool,
    /// `DateTime64(…)`: the count as `Int64`.
    DateTime64,
    /// `String` and `LowCardinality(String)`: the same bytes.
    Text,
}

/// A column type as RowBinary writes it: `Nullable(T)` is a null byte
/// before `T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireType {
    pub nullable: bool,
    pub wire: Wire,
}

/// The RowBinary shape of a ClickHouse type name, worked out when the
/// column tables are compiled: matching the names for every cell of every
/// row cost the writer a dozen byte comparisons per cell.
pub const fn wire_type(ch_type: &str) -> WireType {
    use super::containers::same_bytes as eq;
    const fn starts(a: &[u8], p: &[u8]) -> bool {
        a.len() >= p.len() && eq(a.split_at(p.len()).0, p)
    }
    let b = ch_type.as_bytes();
    let nullable = starts(b, b"Nullable(") && b[b.len() - 1] == b')';
    let base = if nullable {
        b.split_at(b.len() - 1).0.split_at(9).1
    } else {
        b
    };
    let wire = if eq(base, b"UInt64") {
        Wire::UInt64
    } else if eq(base, b"UInt32") {
        Wire::UInt32
    } else if eq(base, b"Float64") {
        Wire::Float64
    } else if eq(base, b"Bool") {
        Wire::Bool
    } else if starts(base, b"DateTime64(") {
        Wire::DateTime64
    } else {
        Wire::Text
    };
    WireType { nullable, wire }
}

/// One computed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    UInt(u64),
    Float(f64),
    Bool(bool),
    /// Since the epoch, UTC, in the column's unit: microseconds for
    /// `DateTime64(6)`, milliseconds for `DateTime64(3)`.
    Timestamp(i64),
}

/// The value at `path`, reading the first occurrence of a duplicated key.
pub fn lookup<'v, 'd>(v: &'v Value<'d>, path: &[&str]) -> Option<&'v Value<'d>> {
    path.iter().try_fold(v, |cur, key| match cur {
        Value::Object(o) => o.get_first(key),
        _ => None,
    })
}

fn text(v: &Value) -> String {
    match v {
        Value::Str(s) => String::from(s.as_str()),
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

/// ASCII whitespace around numeric and boolean text, trimmed on both paths
/// (`trimBoth(s, ' \t\n\r')` on the server).
pub const VALUE_TRIM: [char; 4] = [' ', '\t', '\n', '\r'];

/// The largest float taken as an id: every integer up to it is exact.
pub const MAX_EXACT_FLOAT: f64 = 9_007_199_254_740_992.0;

fn trimmed<'v>(s: &'v Str<'_>) -> &'v str {
    s.text.trim_matches(VALUE_TRIM)
}

/// `+`? digits, then optionally `.` and only zeros: an integer written as
/// text (`"2161"`, `"2161.0"`).
fn uint_text(t: &str) -> Option<u64> {
    let t = t.strip_prefix('+').unwrap_or(t);
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit());
    (digits && frac.bytes().all(|b| b == b'0'))
        .then(|| int.parse().ok())
        .flatten()
}

/// A decimal number written as text: `[+-]?(d+(.d*)?|.d+)([eE][+-]?d+)?`.
pub fn is_number_text(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let int = digits(&mut i);
    let frac = if b.get(i) == Some(&b'.') {
        i += 1;
        digits(&mut i)
    } else {
        0
    };
    if int == 0 && frac == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// An id or count: a non-negative integer, an integral float up to 2^53,
/// or an integer written as text; `None` above `max` or for anything else
/// (a fraction, a negative number, a boolean is never an id).
fn uint(v: &Value, max: u64) -> Option<u64> {
    let u = match v {
        Value::Int(Int::Small(i)) if *i >= 0 => *i as u64,
        Value::Int(Int::Big {
            negative: false,
            digits,
        }) => digits.parse::<u64>().ok()?,
        Value::Float(f) if *f >= 0.0 && *f <= MAX_EXACT_FLOAT && libm::trunc(*f) == *f => *f as u64,
        Value::Str(s) if !s.unpaired_surrogate => uint_text(trimmed(s))?,
        _ => return None,
    };
    (u <= max).then_some(u)
}

/// A finite number, or a number written as text.
fn float(v: &Value) -> Option<f64> {
    let f = match v {
        Value::Int(Int::Small(i)) => *i as f64,
        Value::Int(Int::Big {
            negative: false,
            digits,
        }) => digits.parse::<u64>().ok()? as f64,
        Value::Float(f) => *f,
        Value::Str(s) if !s.unpaired_surrogate && is_number_text(trimmed(s)) => {
            trimmed(s).parse::<f64>().ok()?
        }
        _ => return None,
    };
    f.is_finite().then_some(f)
}

/// The words the reference reads as true and false (trimmed, any case).
pub const TRUE_WORDS: [&str; 5] = ["true", "1", "t", "yes", "y"];
pub const FALSE_WORDS: [&str; 5] = ["false", "0", "f", "no", "n"];

/// A boolean, a number by its truthiness, or one of the reference's words.
fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Int(Int::Small(i)) => Some(*i != 0),
        Value::Int(Int::Big { .. }) => Some(true),
        Value::Float(f) => Some(*f != 0.0),
        Value::Str(s) if !s.unpaired_surrogate => {
            let word = trimmed(s).to_ascii_lowercase();
            if TRUE_WORDS.contains(&word.as_str()) {
                Some(true)
            } else if FALSE_WORDS.contains(&word.as_str()) {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Python's truthiness, for `response.input`.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Int(Int::Small(i)) => *i != 0,
        Value::Int(Int::Big { .. }) => true,
        Value::Float(f) => *f != 0.0,
        Value::Str(s) => !s.text.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn first<T>(doc: &Doc, ats: &[At], f: impl Fn(&Value) -> Option<T>) -> Option<T> {
    ats.iter().find_map(|a| doc.present(*a).and_then(&f))
}

const RESPONSE: At =
    super::containers::at(&super::columns::CONTAINERS.paths, &["result", "response"]);

/// A statement with the five-table containers looked up.
type Doc<'v, 'd> = super::containers::Doc<'v, 'd, 10>;

/// Compute one cell of `column`.
pub fn cell(column: &Column, doc: &Doc, line: &str, source_file: &str) -> Cell {
    let opt = |o: Option<Cell>| o.unwrap_or(Cell::Null);
    let statement = doc.root;
    let ats = |n: usize| &column.at[..n];
    match column.rule {
        Rule::EventId => Cell::Text(super::event_id(statement, line)),
        Rule::Text(paths) => opt(first(doc, ats(paths.len()), |x| Some(Cell::Text(text(x))))),
        Rule::UInt64(paths) => opt(first(doc, ats(paths.len()), |x| {
            uint(x, u64::MAX).map(Cell::UInt)
        })),
        Rule::UInt32(paths) => opt(first(doc, ats(paths.len()), |x| {
            uint(x, u64::from(u32::MAX)).map(Cell::UInt)
        })),
        Rule::Float(paths) => opt(first(doc, ats(paths.len()), |x| float(x).map(Cell::Float))),
        Rule::Bool(_) => opt(first(doc, ats(1), boolean).map(Cell::Bool)),
        Rule::Count(_) => match doc.present(column.at[0]) {
            Some(Value::Array(items)) => Cell::UInt(items.len() as u64),
            Some(x) => opt(uint(x, u64::from(u32::MAX)).map(Cell::UInt)),
            None => Cell::Null,
        },
        // An object's `input` when it has a truthy one, else the value
        // itself (an object as its JSON text, as the reference stores it).
        Rule::Response => {
            let response = doc.present(RESPONSE);
            let input = match response {
                Some(Value::Object(o)) => o.get_first("input").filter(|i| truthy(i)),
                _ => None,
            };
            opt(input.or(response).map(|x| Cell::Text(text(x))))
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
    let doc = Doc::new(statement, &super::columns::CONTAINERS);
    columns
        .iter()
        .map(|c| cell(c, &doc, line, source_file))
        .collect()
}

/// A row as one JSONEachRow object (no trailing newline). Floats are
/// written with enough digits to read back exactly.
pub fn write_json_each_row<C: Typed>(out: &mut String, columns: &[C], cells: &[Cell]) {
    out.push('{');
    for (i, (c, v)) in columns.iter().zip(cells).enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_str(out, c.name());
        out.push(':');
        match v {
            Cell::Null => out.push_str("null"),
            Cell::Text(s) => write_json_str(out, s),
            Cell::UInt(u) => {
                let _ = write!(out, "{u}");
            }
            Cell::Float(f) => canonical::write_double(out, *f),
            Cell::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Cell::Timestamp(t) if c.ch_type().starts_with("DateTime64(3") => {
                write_json_str(out, &time::format_millis(*t))
            }
            Cell::Timestamp(us) => write_json_str(out, &time::format(*us)),
        }
    }
    out.push('}');
}

/// A row in ClickHouse's RowBinary format, for the column types of the
/// column tables: `Nullable(T)` is a null byte then `T`; strings are a
/// LEB128 length and the bytes; numbers little-endian; `DateTime64(6)`
/// the microseconds as `Int64`. Nothing is formatted or parsed on either
/// side, which is what makes it cheaper than JSONEachRow for both.
pub fn write_row_binary<C: Typed>(out: &mut Vec<u8>, columns: &[C], cells: &[Cell]) {
    for (c, v) in columns.iter().zip(cells) {
        let WireType { nullable, wire } = c.wire();
        if nullable {
            let null = matches!(v, Cell::Null);
            out.push(u8::from(null));
            if null {
                continue;
            }
        }
        // A cell always has its column's kind (the rules make it so); a
        // NULL in a non-nullable column is written as the type's default.
        match (wire, v) {
            (Wire::UInt64, Cell::UInt(u)) => out.extend_from_slice(&u.to_le_bytes()),
            (Wire::UInt32, Cell::UInt(u)) => {
                let narrow = u32::try_from(*u).unwrap_or(u32::MAX);
                out.extend_from_slice(&narrow.to_le_bytes())
            }
            (Wire::UInt64, _) => out.extend_from_slice(&0u64.to_le_bytes()),
            (Wire::UInt32, _) => out.extend_from_slice(&0u32.to_le_bytes()),
            (Wire::Float64, Cell::Float(f)) => out.extend_from_slice(&f.to_le_bytes()),
            (Wire::Float64, _) => out.extend_from_slice(&0f64.to_le_bytes()),
            (Wire::Bool, Cell::Bool(b)) => out.push(u8::from(*b)),
            (Wire::Bool, _) => out.push(0),
            (Wire::DateTime64, Cell::Timestamp(us)) => out.extend_from_slice(&us.to_le_bytes()),
            (Wire::DateTime64, _) => out.extend_from_slice(&0i64.to_le_bytes()),
            (Wire::Text, Cell::Text(s)) => write_binary_str(out, s.as_bytes()),
            (Wire::Text, _) => write_binary_str(out, b""),
        }
    }
}

fn write_binary_str(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut n = bytes.len();
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            break;
        }
        out.push(low | 0x80);
    }
    out.extend_from_slice(bytes);
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

    /// Every column of every table gets the shape its type name spells,
    /// read here the way the writer read the names before they were
    /// worked out ahead.
    #[test]
    fn wire_types_follow_the_type_names() {
        use crate::xapi::raw::{RAW, attribution};
        let mut types: Vec<&str> = Category::LOADED
            .iter()
            .flat_map(|c| {
                crate::xapi::columns::columns(*c)
                    .iter()
                    .map(|col| col.ch_type)
            })
            .chain(RAW.iter().map(|c| c.ch_type))
            .chain(attribution::COLUMNS.iter().map(|c| c.ch_type))
            .collect();
        types.extend(["Nullable(Bool)", "String", "Nullable(Float64)"]);
        for t in types {
            let (nullable, base) = match t.strip_prefix("Nullable(") {
                Some(inner) => (true, inner.strip_suffix(')').unwrap()),
                None => (false, t),
            };
            let wire = match base {
                "UInt64" => Wire::UInt64,
                "UInt32" => Wire::UInt32,
                "Float64" => Wire::Float64,
                "Bool" => Wire::Bool,
                b if b.starts_with("DateTime64(") => Wire::DateTime64,
                "String" | "LowCardinality(String)" => Wire::Text,
                other => panic!("a column type the writer does not know: {other}"),
            };
            assert_eq!(wire_type(t), WireType { nullable, wire }, "{t}");
        }
    }

    #[test]
    fn row_binary_bytes() {
        use crate::xapi::columns::col_for_tests as col;
        let cols = [
            col("a", "String"),
            col("b", "Nullable(String)"),
            col("c", "Nullable(UInt32)"),
            col("d", "Nullable(Float64)"),
            col("e", "Nullable(Bool)"),
            col("f", "DateTime64(6, 'UTC')"),
            col("g", "LowCardinality(String)"),
            col("h", "Nullable(UInt64)"),
        ];
        let long = "x".repeat(200);
        let cells = [
            Cell::Text("id".into()),
            Cell::Null,
            Cell::UInt(7),
            Cell::Float(1.5),
            Cell::Bool(true),
            Cell::Timestamp(-2),
            Cell::Text(long.clone()),
            Cell::UInt(u64::MAX),
        ];
        let mut out = Vec::new();
        write_row_binary(&mut out, &cols, &cells);
        let mut want = alloc::vec![2, b'i', b'd', 1, 0, 7, 0, 0, 0, 0];
        want.extend_from_slice(&1.5f64.to_le_bytes());
        want.extend_from_slice(&[0, 1]);
        want.extend_from_slice(&(-2i64).to_le_bytes());
        want.extend_from_slice(&[200, 1]);
        want.extend_from_slice(long.as_bytes());
        want.push(0);
        want.extend_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(out, want);
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

    /// The reference's value semantics (spec §3.9), cell by cell.
    #[test]
    fn ids_numbers_booleans_and_responses_as_the_reference_reads_them() {
        let with = |ext: &str, result: &str| {
            let text = alloc::format!(
                r#"{{"verb":{{"id":"http://adlnet.gov/expapi/verbs/completed"}},"object":{{"definition":{{"type":"http://adlnet.gov/expapi/activities/question"}}}},"context":{{"extensions":{{"http://oli.cmu.edu/extensions/section_id":{ext}}}}},"result":{result},"timestamp":"2025-01-01T00:00:00Z"}}"#
            );
            let v = decode_line(&text).unwrap();
            row(PART_ATTEMPT, &v, &text, "")
        };
        for (ext, want) in [
            ("2161", Cell::UInt(2161)),
            (r#""2161""#, Cell::UInt(2161)),
            (r#"" 42 ""#, Cell::UInt(42)),
            (r#""2161.00""#, Cell::UInt(2161)),
            (r#""+7""#, Cell::UInt(7)),
            ("2161.0", Cell::UInt(2161)),
            ("1e3", Cell::UInt(1000)),
            (r#""4.5""#, Cell::Null),
            ("2.5", Cell::Null),
            ("true", Cell::Null),
            (r#""-1""#, Cell::Null),
            (r#""1e3""#, Cell::Null),
            (r#""abc""#, Cell::Null),
            ("-3", Cell::Null),
        ] {
            let cells = with(ext, "{}");
            assert_eq!(get(PART_ATTEMPT, &cells, "section_id"), &want, "{ext}");
        }
        for (score, want) in [
            (r#""0.5""#, Cell::Float(0.5)),
            (r#"" 3 ""#, Cell::Float(3.0)),
            (r#""-1e-7""#, Cell::Float(-1e-7)),
            (r#""1e400""#, Cell::Null),
            (r#""abc""#, Cell::Null),
            (r#""""#, Cell::Null),
        ] {
            let cells = with("1", &alloc::format!(r#"{{"score":{{"raw":{score}}}}}"#));
            assert_eq!(get(PART_ATTEMPT, &cells, "score"), &want, "{score}");
        }
        for (success, want) in [
            (r#""TRUE""#, Cell::Bool(true)),
            (r#"" yes ""#, Cell::Bool(true)),
            (r#""n""#, Cell::Bool(false)),
            (r#""0""#, Cell::Bool(false)),
            ("0", Cell::Bool(false)),
            ("2.5", Cell::Bool(true)),
            (r#""maybe""#, Cell::Null),
            ("[]", Cell::Null),
        ] {
            let cells = with("1", &alloc::format!(r#"{{"success":{success}}}"#));
            assert_eq!(get(PART_ATTEMPT, &cells, "success"), &want, "{success}");
        }
        for (response, want) in [
            (r#"{"input":"x"}"#, r#"x"#),
            (r#"{"input":""}"#, r#"{"input":""}"#),
            (r#"{"input":0}"#, r#"{"input":0}"#),
            (r#"{"input":5}"#, "5"),
            (r#"{"other":1}"#, r#"{"other":1}"#),
            (r#""plain""#, "plain"),
        ] {
            let cells = with("1", &alloc::format!(r#"{{"response":{response}}}"#));
            assert_eq!(
                get(PART_ATTEMPT, &cells, "response"),
                &Cell::Text(want.into()),
                "{response}"
            );
        }
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
