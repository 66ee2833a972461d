//! The reference Lambda's value conversions (spec `xapi-raw-events.md`
//! §4.1–§4.2), which are Python's: `str()`, `int()`, `float()`, a
//! truthiness test and `json.dumps` with its default layout. Written here
//! once, as plain functions over a decoded statement; [`super::sql`]
//! renders the same rules as ClickHouse expressions, and the parity test
//! holds the two to the same rows.
//!
//! Where ClickHouse cannot see what Python sees, both paths follow what
//! ClickHouse can do (listed in `docs/differences.md`): a duplicated
//! member is read at its first occurrence, and JSON text keeps both.

use alloc::string::String;
use core::fmt::Write;

use crate::json::{Int, Value};

/// Python's `str.isspace()` characters, which `str.strip()` removes.
pub fn is_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '\n'
            | '\r'
            | '\u{0b}'
            | '\u{0c}'
            | '\u{1c}'..='\u{1f}'
                | '\u{85}'
                | '\u{a0}'
                | '\u{1680}'
                | '\u{2000}'..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
    )
}

/// `str.strip()`.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python's truthiness: `None`, `""`, `0`, `0.0`, `False`, `[]`, `{}` are
/// false.
pub fn truthy(v: &Value) -> bool {
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

/// An integer as Python computes it, before the column's range is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whole {
    Value(i128),
    /// Beyond any column's range (a 40-digit integer, `1e300`).
    Huge,
}

/// An integer within `i128`, `None` beyond.
pub fn small_int(i: &Int) -> Option<i128> {
    match i {
        Int::Small(n) => Some(i128::from(*n)),
        Int::Big { negative, digits } => {
            let n: i128 = digits.parse().ok()?;
            Some(if *negative { -n } else { n })
        }
    }
}

/// Digits with single `_` between them (Python's numeric literals).
fn digit_part(s: &[u8]) -> bool {
    !s.is_empty()
        && s[0].is_ascii_digit()
        && s[s.len() - 1].is_ascii_digit()
        && s.iter().all(|b| b.is_ascii_digit() || *b == b'_')
        && !s.windows(2).any(|w| w == b"__")
}

/// Python's `int(s)` for text in base 10 (ASCII digits).
pub fn int_text(s: &str) -> Option<Whole> {
    let t = strip(s);
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    if !digit_part(body.as_bytes()) {
        return None;
    }
    let negative = t.starts_with('-');
    let mut n: i128 = 0;
    for b in body.bytes().filter(u8::is_ascii_digit) {
        n = match n
            .checked_mul(10)
            .and_then(|n| n.checked_add(i128::from(b - b'0')))
        {
            Some(n) => n,
            None => return Some(Whole::Huge),
        };
    }
    Some(Whole::Value(if negative { -n } else { n }))
}

/// Python's `float(s)`: decimal forms with `_` between digits, `inf`,
/// `infinity` and `nan` in any case, surrounded by whitespace.
pub fn float_text(s: &str) -> Option<f64> {
    let t = strip(s);
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let negative = t.starts_with('-');
    let word = body.to_ascii_lowercase();
    let special = match word.as_str() {
        "inf" | "infinity" => Some(f64::INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    };
    if let Some(v) = special {
        return Some(if negative { -v } else { v });
    }
    let b = body.as_bytes();
    let (mantissa, exponent) = match b.iter().position(|c| matches!(c, b'e' | b'E')) {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    let (int, frac) = match mantissa.iter().position(|c| *c == b'.') {
        Some(i) => (&mantissa[..i], Some(&mantissa[i + 1..])),
        None => (mantissa, None),
    };
    let ok_int = int.is_empty() || digit_part(int);
    let ok_frac = frac.is_none_or(|f| f.is_empty() || digit_part(f));
    let has_digits = !int.is_empty() || frac.is_some_and(|f| !f.is_empty());
    let ok_exp = exponent
        .is_none_or(|e| digit_part(e.strip_prefix(b"+").or(e.strip_prefix(b"-")).unwrap_or(e)));
    if !(ok_int && ok_frac && has_digits && ok_exp) {
        return None;
    }
    let clean: String = t.chars().filter(|c| *c != '_').collect();
    let clean = clean.trim_end_matches('.');
    let clean = if clean.ends_with(['+', '-']) {
        t
    } else {
        clean
    };
    // `5.` and `5.e3` are Python floats; Rust's parser wants a digit after
    // the point, so one is supplied.
    let fixed = clean.replace(".e", ".0e").replace(".E", ".0E");
    let fixed = if fixed.ends_with('.') {
        alloc::format!("{fixed}0")
    } else {
        fixed
    };
    fixed.parse::<f64>().ok()
}

/// int(v) (§4.2), before the column's range check: `None` is NULL.
pub fn int(v: &Value) -> Option<Whole> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(Whole::Value(i128::from(*b))),
        Value::Int(i) => Some(small_int(i).map_or(Whole::Huge, Whole::Value)),
        Value::Float(f) => float_to_whole(*f),
        Value::Str(s) if s.text.is_empty() => None,
        Value::Str(s) if s.text.contains('.') => float_text(&s.text).and_then(float_to_whole),
        Value::Str(s) => int_text(&s.text),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn float_to_whole(f: f64) -> Option<Whole> {
    if !f.is_finite() {
        return None;
    }
    let t = libm::trunc(f);
    if t.abs() >= 1e30 {
        return Some(Whole::Huge);
    }
    Some(Whole::Value(t as i128))
}

/// float(v) (§4.2): a number as is (NULL for NaN and infinities), a
/// boolean as 0/1, text by Python's `float()` (where `"nan"` and `"inf"`
/// stay what they say).
pub fn float(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        // Correctly rounded, as Python's `float(int)`; beyond a double's
        // range it is NULL like the other non-finite numbers.
        Value::Int(i) => big_digits(i).parse::<f64>().ok().filter(|f| f.is_finite()),
        Value::Float(f) => f.is_finite().then_some(*f),
        Value::Str(s) if s.text.is_empty() => None,
        Value::Str(s) => float_text(&s.text),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// The words the reference reads as booleans (trimmed, lower-cased).
pub const TRUE_WORDS: [&str; 5] = ["true", "1", "t", "yes", "y"];
pub const FALSE_WORDS: [&str; 5] = ["false", "0", "f", "no", "n"];

/// bool(v) (§4.2).
pub fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Int(Int::Small(n)) => Some(*n != 0),
        // A big integer is never zero.
        Value::Int(Int::Big { .. }) => Some(true),
        Value::Float(f) => Some(*f != 0.0),
        Value::Str(s) => word(&s.text),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn word(s: &str) -> Option<bool> {
    let w = strip(s).to_lowercase();
    if TRUE_WORDS.contains(&w.as_str()) {
        Some(true)
    } else if FALSE_WORDS.contains(&w.as_str()) {
        Some(false)
    } else {
        None
    }
}

fn big_digits(i: &Int) -> String {
    match i {
        Int::Small(n) => alloc::format!("{n}"),
        Int::Big { digits, .. } if digits.bytes().all(|b| b == b'0') => String::from("0"),
        Int::Big { negative, digits } => {
            let mut s = String::with_capacity(digits.len() + 1);
            if *negative {
                s.push('-');
            }
            s.push_str(digits);
            s
        }
    }
}

/// text(v) (§4.1): a string as is, an integer's digits, a float as Python
/// writes it, `True`/`False`; arrays and objects as their JSON text (the
/// reference writes Python's repr, which no reader can parse).
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Str(s) => Some(String::from(s.as_str())),
        Value::Int(i) => Some(big_digits(i)),
        Value::Float(f) => Some(float_repr(*f)),
        Value::Bool(b) => Some(String::from(if *b { "True" } else { "False" })),
        Value::Array(_) | Value::Object(_) => Some(json_text(v)),
    }
}

/// json(v) (§4.1): a string as is; anything else as `json.dumps` writes it.
pub fn json(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Str(s) => Some(String::from(s.as_str())),
        other => Some(json_text(other)),
    }
}

/// `json.dumps(v)`: `", "` and `": "` between items, non-ASCII escaped.
pub fn json_text(v: &Value) -> String {
    let mut out = String::new();
    write_json(&mut out, v);
    out
}

fn write_json(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&big_digits(i)),
        Value::Float(f) => out.push_str(&float_json(*f)),
        Value::Str(s) => write_str(out, &s.text),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, v)) in o.entries().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str(out, &k.text);
                out.push_str(": ");
                write_json(out, v);
            }
            out.push('}');
        }
    }
}

/// A JSON string with `ensure_ascii`: `\"`, `\\`, the five short escapes,
/// every other character outside printable ASCII as `\uXXXX` (lower-case
/// hex; UTF-16 pairs above U+FFFF).
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// `json.dumps` of a float: its repr, with `NaN` and `Infinity` spelled
/// as JSON extensions.
fn float_json(f: f64) -> String {
    if f.is_nan() {
        String::from("NaN")
    } else if f.is_infinite() {
        String::from(if f > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        float_repr(f)
    }
}

/// Python's `repr(float)`: the shortest digits that read back, in fixed
/// notation with at least one fractional digit for exponents -4 to 15,
/// otherwise `d.ddde±XX`.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return String::from("nan");
    }
    if f.is_infinite() {
        return String::from(if f > 0.0 { "inf" } else { "-inf" });
    }
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    if f == 0.0 {
        out.push_str("0.0");
        return out;
    }
    let mut sci = String::new();
    let _ = write!(sci, "{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let n = digits.len() as i32;
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        if point <= 0 {
            out.push_str("0.");
            for _ in 0..-point {
                out.push('0');
            }
            out.push_str(&digits);
        } else if point >= n {
            out.push_str(&digits);
            for _ in 0..point - n {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point as usize]);
            out.push('.');
            out.push_str(&digits[point as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if n > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exp.abs());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::decode;

    fn v(text: &str) -> Value<'_> {
        decode(text.as_bytes()).unwrap()
    }

    #[test]
    fn float_repr_is_pythons() {
        for (f, want) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-0.0, "-0.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (1e300, "1e+300"),
            (2.5, "2.5"),
            (98.5, "98.5"),
            (-1234.5678, "-1234.5678"),
        ] {
            assert_eq!(float_repr(f), want, "{f:e}");
        }
    }

    #[test]
    fn int_follows_the_reference() {
        let w = |s: &str| int(&v(s));
        assert_eq!(w("null"), None);
        assert_eq!(w(r#""""#), None);
        assert_eq!(w("true"), Some(Whole::Value(1)));
        assert_eq!(w("12.7"), Some(Whole::Value(12)));
        assert_eq!(w("-0.5"), Some(Whole::Value(0)));
        assert_eq!(w("-1.5"), Some(Whole::Value(-1)));
        assert_eq!(w(r#""8625.9""#), Some(Whole::Value(8625)));
        assert_eq!(w(r#""1.5e3""#), Some(Whole::Value(1500)));
        assert_eq!(w(r#"" 42 ""#), Some(Whole::Value(42)));
        assert_eq!(w(r#""+7""#), Some(Whole::Value(7)));
        assert_eq!(w(r#""1_000""#), Some(Whole::Value(1000)));
        assert_eq!(w(r#""1__0""#), None);
        assert_eq!(w(r#""1e3""#), None);
        assert_eq!(w(r#""abc""#), None);
        assert_eq!(w("[1]"), None);
        assert_eq!(w("1e300"), Some(Whole::Huge));
        assert_eq!(
            w("123456789012345678901234567890"),
            Some(Whole::Value(123456789012345678901234567890))
        );
        assert_eq!(
            w("1234567890123456789012345678901234567890"),
            Some(Whole::Huge)
        );
        assert_eq!(
            w(r#""99999999999999999999999999999999999999999""#),
            Some(Whole::Huge)
        );
        assert_eq!(w(r#"".5""#), Some(Whole::Value(0)));
        assert_eq!(w(r#""5.""#), Some(Whole::Value(5)));
        assert_eq!(w(r#""1.5e999""#), None);
    }

    #[test]
    fn float_and_bool_follow_the_reference() {
        let f = |s: &str| float(&v(s));
        assert_eq!(f("true"), Some(1.0));
        assert_eq!(f(r#""0.5""#), Some(0.5));
        assert_eq!(f(r#"" 3 ""#), Some(3.0));
        assert!(f(r#""nan""#).unwrap().is_nan());
        assert_eq!(f(r#""-Infinity""#), Some(f64::NEG_INFINITY));
        assert_eq!(f(r#""1e400""#), Some(f64::INFINITY));
        assert_eq!(f(r#""abc""#), None);
        assert_eq!(f(r#""""#), None);
        assert_eq!(f(r#""1_0.5""#), Some(10.5));
        assert_eq!(f(r#""5.""#), Some(5.0));
        assert_eq!(f(r#"".5e1""#), Some(5.0));
        assert_eq!(f(r#""e5""#), None);
        assert_eq!(f(r#""1e""#), None);
        assert_eq!(f("[]"), None);
        let b = |s: &str| boolean(&v(s));
        assert_eq!(b(r#"" YES ""#), Some(true));
        assert_eq!(b(r#""f""#), Some(false));
        assert_eq!(b(r#""maybe""#), None);
        assert_eq!(b("2.5"), Some(true));
        assert_eq!(b("0"), Some(false));
        assert_eq!(b("null"), None);
        assert_eq!(b("{}"), None);
    }

    #[test]
    fn text_and_json_are_pythons() {
        assert_eq!(text(&v("true")).as_deref(), Some("True"));
        assert_eq!(text(&v("15474.0")).as_deref(), Some("15474.0"));
        assert_eq!(text(&v("-0")).as_deref(), Some("0"));
        assert_eq!(json(&v("[1,2]")).as_deref(), Some("[1, 2]"));
        assert_eq!(
            json(&v(
                r#"{"id":"1","content":[],"é":"ü\u0001\u007f😀","n":1.0}"#
            ))
            .as_deref(),
            Some(
                r#"{"id": "1", "content": [], "\u00e9": "\u00fc\u0001\u007f\ud83d\ude00", "n": 1.0}"#
            )
        );
        assert_eq!(json(&v(r#""as is""#)).as_deref(), Some("as is"));
        assert_eq!(json(&v("true")).as_deref(), Some("true"));
        assert_eq!(json(&v("null")), None);
    }
}
