//! JSON text exactly as ClickHouse's `JSONExtractRaw` re-serialises a
//! value, so a column holding JSON (an object `response`, `feedback`,
//! `attached_objectives`) has the same bytes whichever path loaded it.
//!
//! Compact; strings escape `"`, `\`, `\b`, `\f`, `\n`, `\r`, `\t`, other
//! control characters as `\u00XX` (upper-case hex), and U+2028/U+2029;
//! integers beyond the 64-bit ranges become strings; doubles use the
//! shortest round-trip digits, in plain notation for magnitudes in
//! [1e-6, 1e21) and as `1e300` / `1.5e-7` otherwise.

use alloc::string::String;
use core::fmt::Write;

use crate::json::{Int, Value};

pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    write(&mut out, v);
    out
}

pub fn write(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(Int::Small(i)) => {
            let _ = write!(out, "{i}");
        }
        Value::Int(Int::Big { negative, digits }) => match (negative, digits.parse::<u64>()) {
            (false, Ok(u)) => {
                let _ = write!(out, "{u}");
            }
            _ => {
                out.push('"');
                if *negative {
                    out.push('-');
                }
                out.push_str(digits);
                out.push('"');
            }
        },
        Value::Float(f) => write_double(out, *f),
        Value::Str(s) => write_string(out, &s.text),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, v)) in o.entries().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, &k.text);
                out.push(':');
                write(out, v);
            }
            out.push('}');
        }
    }
}

pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Shortest round-trip digits, laid out like JavaScript's number-to-string
/// but without a `+` in positive exponents.
pub fn write_double(out: &mut String, f: f64) {
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    // `{:e}` gives the shortest digits that round-trip: d[.ddd]e<exp>.
    let mut sci = String::new();
    let _ = write!(sci, "{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let n = digits.len() as i32;
    // The decimal point sits after `point` digits: value = 0.digits × 10^point.
    let point = exp + 1;
    if f < 0.0 {
        out.push('-');
    }
    if (-5..=21).contains(&point) {
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
        let _ = write!(out, "e{}", point - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(f: f64) -> String {
        let mut s = String::new();
        write_double(&mut s, f);
        s
    }

    #[test]
    fn doubles_like_clickhouse() {
        // Observed from ClickHouse 26.9 JSONExtractRaw.
        assert_eq!(d(1e-7), "1e-7");
        assert_eq!(d(0.1), "0.1");
        assert_eq!(d(100.0), "100");
        assert_eq!(d(-0.0), "-0");
        assert_eq!(d(1e300), "1e300");
        assert_eq!(d(1.7976931348623157e308), "1.7976931348623157e308");
        assert_eq!(d(5e-324), "5e-324");
        assert_eq!(d(0.30000000000000004), "0.30000000000000004");
        assert_eq!(d(12345678.9), "12345678.9");
        assert_eq!(d(1e16), "10000000000000000");
        assert_eq!(d(1e15), "1000000000000000");
        assert_eq!(d(123e-20), "1.23e-18");
        assert_eq!(d(1e5), "100000");
        assert_eq!(d(0.000001), "0.000001");
    }

    #[test]
    fn values_like_clickhouse() {
        let v = crate::json::decode(br#"{ "b" : [ 1 , "x\u0001\u007f\u2028/" ] , "a" : { }, "big": 123456789012345678901234567890, "u": 18446744073709551615 }"#).unwrap();
        assert_eq!(
            to_string(&v),
            "{\"b\":[1,\"x\\u0001\u{7f}\\u2028/\"],\"a\":{},\"big\":\"123456789012345678901234567890\",\"u\":18446744073709551615}"
        );
    }
}
