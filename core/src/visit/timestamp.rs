//! Event timestamps: parsing with the reference's (pydantic/speedate) rules,
//! UTC normalisation, and the normalised text form.
//!
//! Accepted: RFC 3339-like strings (`T`, `t`, space or `_` between date and
//! time; seconds and a `.`/`,` fraction optional; `Z`, `z`, `±HH:MM`, `±HHMM`
//! or U+2212 minus offsets below 24 h), a bare `YYYY-MM-DD`, and Unix times as
//! numeric strings or JSON numbers (milliseconds when the magnitude exceeds
//! 2e10). The arithmetic below reproduces the reference's, rounding quirks
//! included, because the normalised value is what gets merged and stored.
//! That is why this is hand-written rather than chrono's parser: chrono
//! accepts and rejects other strings, and rounds Unix times differently.

use alloc::string::String;

use crate::calendar::days_from_civil;
use libm::{fabs as abs, floor, round, trunc};

/// Magnitudes above this are milliseconds, at or below it seconds.
const MS_WATERSHED: i64 = 20_000_000_000;
/// 0000-01-01T00:00:00 and 9999-12-31T23:59:59 as Unix seconds.
const UNIX_0000: i64 = -62_167_219_200;
const UNIX_9999: i64 = 253_402_300_799;
/// 0001-01-01T00:00:00, the first instant a Python datetime can hold.
const UNIX_0001: i64 = -62_135_596_800;

/// A UTC instant with microsecond precision, between years 1 and 9999.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    micros: i64,
}

impl Timestamp {
    /// `None` outside 0001-01-01T00:00:00Z ..= 9999-12-31T23:59:59.999999Z.
    pub fn from_micros(micros: i64) -> Option<Self> {
        let secs = micros.div_euclid(1_000_000);
        (UNIX_0001..=UNIX_9999)
            .contains(&secs)
            .then_some(Timestamp { micros })
    }

    /// Microseconds since 1970-01-01T00:00:00Z.
    pub fn micros(self) -> i64 {
        self.micros
    }

    /// Calendar fields in UTC: (year, month, day, hour, minute, second, micro).
    pub fn civil(self) -> (i32, u32, u32, u32, u32, u32, u32) {
        let secs = self.micros.div_euclid(1_000_000);
        let micro = self.micros.rem_euclid(1_000_000) as u32;
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400) as u32;
        let (year, month, day) = crate::calendar::civil_from_days(days);
        (
            year as i32,
            month,
            day,
            sod / 3600,
            sod % 3600 / 60,
            sod % 60,
            micro,
        )
    }

    /// `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, microseconds only when non-zero: the
    /// reference's normalised form.
    pub fn to_rfc3339(self) -> String {
        let mut out = String::with_capacity(27);
        self.write_rfc3339(&mut out);
        out
    }

    /// [`Self::to_rfc3339`] appended to `out`, digits by hand: `write!`
    /// was the largest part of writing a report.
    pub fn write_rfc3339(self, out: &mut String) {
        let (y, mo, d, h, mi, s, us) = self.civil();
        let mut b = *b"0000-00-00T00:00:00.000000";
        // Years are 1..=9999 by construction.
        put_digits(&mut b[0..4], y as u32);
        put_digits(&mut b[5..7], mo);
        put_digits(&mut b[8..10], d);
        put_digits(&mut b[11..13], h);
        put_digits(&mut b[14..16], mi);
        put_digits(&mut b[17..19], s);
        put_digits(&mut b[20..26], us);
        let len = if us == 0 { 19 } else { 26 };
        out.push_str(core::str::from_utf8(&b[..len]).unwrap_or_default());
        out.push('Z');
    }

    /// `YYYYMMDD-HHMMSS` in UTC, the file-name form for a UTC event.
    pub fn name_stamp(self) -> String {
        let (y, mo, d, h, mi, s, _) = self.civil();
        String::from(WallStamp::new(y as u16, mo as u8, d as u8, h * 3600 + mi * 60 + s).as_str())
    }
}

/// Why a value is not a timestamp, in the reference's three error kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimestampError {
    /// Not a string or number at all (`datetime_type`).
    Type,
    /// A number, or a parsed value, that is out of range (`datetime_parsing`).
    Parsing(&'static str),
    /// A string that is neither a datetime nor a date (`datetime_from_date_parsing`).
    FromDateParsing(&'static str),
    /// Valid where it was written, but outside years 1..=9999 once converted
    /// to UTC. The reference crashes here (an uncaught `OverflowError`).
    UtcOverflow,
}

/// A parsed timestamp: the UTC instant and the wall-clock `YYYYMMDD-HHMMSS`
/// it was written in, which is what producers put in file names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedTimestamp {
    pub utc: Timestamp,
    pub wall_stamp: WallStamp,
}

/// `YYYYMMDD-HHMMSS`, inline: one allocation fewer per document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallStamp([u8; 15]);

impl WallStamp {
    /// Years are 1..=9999 here (four digits in text; a number outside the
    /// range fails before it is formatted).
    fn new(year: u16, month: u8, day: u8, second_of_day: u32) -> Self {
        let mut b = *b"00000000-000000";
        put_digits(&mut b[0..4], u32::from(year));
        put_digits(&mut b[4..6], u32::from(month));
        put_digits(&mut b[6..8], u32::from(day));
        put_digits(&mut b[9..11], second_of_day / 3600);
        put_digits(&mut b[11..13], second_of_day % 3600 / 60);
        put_digits(&mut b[13..15], second_of_day % 60);
        WallStamp(b)
    }

    pub fn as_str(&self) -> &str {
        // ASCII digits and a dash by construction.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl core::ops::Deref for WallStamp {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl core::fmt::Display for WallStamp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for WallStamp {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for WallStamp {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The low decimal digits of `n`, zero-padded, filling `out`.
fn put_digits(out: &mut [u8], mut n: u32) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// Date, time of day and offset before normalisation.
struct Local {
    year: u16,
    month: u8,
    day: u8,
    second_of_day: u32,
    micro: u32,
    offset: Option<i32>,
}

impl Local {
    fn finish(self) -> Result<ParsedTimestamp, TimestampError> {
        if self.year == 0 {
            return Err(TimestampError::Parsing("year 0 is out of range"));
        }
        let days = days_from_civil(self.year as i64, self.month as u32, self.day as u32);
        let local_secs = days * 86_400 + self.second_of_day as i64;
        let utc_secs = local_secs - self.offset.unwrap_or(0) as i64;
        if !(UNIX_0001..=UNIX_9999).contains(&utc_secs) {
            return Err(TimestampError::UtcOverflow);
        }
        let micros = utc_secs * 1_000_000 + self.micro as i64;
        Ok(ParsedTimestamp {
            utc: Timestamp { micros },
            // By hand: `write!` here was a twentieth of the validator's time.
            wall_stamp: WallStamp::new(self.year, self.month, self.day, self.second_of_day),
        })
    }
}

fn civil_from_days(days: i64) -> (u16, u8, u8) {
    let (y, m, d) = crate::calendar::civil_from_days(days);
    (y as u16, m as u8, d as u8)
}

/// Parse a JSON string value.
pub(crate) fn parse_str(s: &str) -> Result<ParsedTimestamp, TimestampError> {
    let b = s.as_bytes();
    if let Ok(local) = rfc3339(b) {
        return local.finish();
    }
    match number_text(b) {
        Number::Int(i) => {
            if let Ok(local) = from_unix(i, 0) {
                return local.finish();
            }
        }
        Number::Float(f) => {
            let in_ms = abs(f) > MS_WATERSHED as f64;
            let normalized = if in_ms { f / 1000.0 } else { f };
            let seconds = floor(normalized) as i64;
            let micros = round((normalized - seconds as f64) * 1_000_000.0) as u32;
            if let Ok(local) = from_unix(seconds, micros) {
                return local.finish();
            }
        }
        Number::Neither => {}
    }
    // Lax mode's last resort: a bare date at midnight.
    match date(b) {
        Some((year, month, day)) if b.len() == 10 => Local {
            year,
            month,
            day,
            second_of_day: 0,
            micro: 0,
            offset: None,
        }
        .finish(),
        _ => Err(TimestampError::FromDateParsing(
            "input is not a valid datetime or date",
        )),
    }
}

/// Parse a JSON integer.
pub(crate) fn parse_int(i: i64) -> Result<ParsedTimestamp, TimestampError> {
    from_unix(i, 0)
        .map_err(|_| TimestampError::Parsing("timestamp out of range"))?
        .finish()
}

/// Parse a JSON float.
pub(crate) fn parse_float(f: f64) -> Result<ParsedTimestamp, TimestampError> {
    if !f.is_finite() {
        return Err(TimestampError::Parsing(
            "NaN and infinite values are not permitted",
        ));
    }
    // The reference takes the floor for the seconds and the magnitude of the
    // fraction for the sub-second part (so -1.25 lands on -1.75), scaled as
    // milliseconds when the value is a millisecond timestamp.
    let seconds = floor(f) as i64;
    let frac = abs(f - trunc(f));
    let micros = if abs(f) > MS_WATERSHED as f64 {
        frac * 1_000.0
    } else {
        frac * 1_000_000.0
    };
    from_unix(seconds, round(micros) as u32)
        .map_err(|_| TimestampError::Parsing("timestamp out of range"))?
        .finish()
}

/// Unix seconds (or milliseconds past the watershed) plus extra microseconds.
fn from_unix(timestamp: i64, extra_micros: u32) -> Result<Local, ()> {
    let abs = timestamp.checked_abs().ok_or(())?;
    let (mut second, micro) = if abs > MS_WATERSHED {
        let mut s = timestamp / 1000;
        let mut us = (timestamp % 1000) * 1000;
        if us < 0 {
            s -= 1;
            us += 1_000_000;
        }
        (s, us as u32)
    } else {
        (timestamp, 0)
    };
    let mut total = extra_micros.checked_add(micro).ok_or(())?;
    if total >= 1_000_000 {
        second = second.checked_add((total / 1_000_000) as i64).ok_or(())?;
        total %= 1_000_000;
    }
    if !(UNIX_0000..=UNIX_9999).contains(&second) {
        return Err(());
    }
    let (year, month, day) = civil_from_days(second.div_euclid(86_400));
    Ok(Local {
        year,
        month,
        day,
        second_of_day: second.rem_euclid(86_400) as u32,
        micro: total,
        offset: Some(0),
    })
}

enum Number {
    Int(i64),
    Float(f64),
    Neither,
}

/// A numeric string: `[+-]digits` (fits i64), or anything with a `.` that
/// reads as a decimal float (`1.`, `.5`, `1.5e9`).
fn number_text(b: &[u8]) -> Number {
    if b.contains(&b'.') {
        let Ok(s) = core::str::from_utf8(b) else {
            return Number::Neither;
        };
        let ok_chars = s
            .bytes()
            .all(|c| matches!(c, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'));
        return match s.parse::<f64>() {
            Ok(f) if ok_chars && f.is_finite() => Number::Float(f),
            _ => Number::Neither,
        };
    }
    let (neg, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, b),
    };
    if digits.is_empty() {
        return Number::Neither;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Number::Neither;
        }
        v = match v
            .checked_mul(10)
            .and_then(|v| v.checked_add((d - b'0') as i64))
        {
            Some(v) => v,
            None => return Number::Neither,
        };
    }
    Number::Int(if neg { -v } else { v })
}

fn digit(b: &[u8], i: usize) -> Option<u32> {
    b.get(i)
        .filter(|c| c.is_ascii_digit())
        .map(|c| (c - b'0') as u32)
}

fn two(b: &[u8], i: usize) -> Option<u32> {
    Some(digit(b, i)? * 10 + digit(b, i + 1)?)
}

/// `YYYY-MM-DD` at the start of `b`, calendar-checked.
fn date(b: &[u8]) -> Option<(u16, u8, u8)> {
    let year = two(b, 0)? * 100 + two(b, 2)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = two(b, 5)?;
    let day = two(b, 8)?;
    let max = crate::calendar::days_in_month(year, month)?;
    (1..=max)
        .contains(&day)
        .then_some((year as u16, month as u8, day as u8))
}

fn rfc3339(b: &[u8]) -> Result<Local, ()> {
    let (year, month, day) = date(b).ok_or(())?;
    if !matches!(b.get(10), Some(b'T' | b't' | b' ' | b'_')) {
        return Err(());
    }
    let hour = two(b, 11).ok_or(())?;
    if b.get(13) != Some(&b':') {
        return Err(());
    }
    let minute = two(b, 14).ok_or(())?;
    if hour > 23 || minute > 59 {
        return Err(());
    }
    let mut pos = 16;
    let (second, micro) = seconds(b, &mut pos)?;
    let offset = zone(b, &mut pos)?;
    if pos != b.len() {
        return Err(());
    }
    Ok(Local {
        year,
        month,
        day,
        second_of_day: hour * 3600 + minute * 60 + second,
        micro,
        offset,
    })
}

/// Optional `:SS` with an optional fraction (`.` or `,`): digits past the
/// sixth are dropped, not rounded.
fn seconds(b: &[u8], pos: &mut usize) -> Result<(u32, u32), ()> {
    if b.get(*pos) != Some(&b':') {
        return Ok((0, 0));
    }
    let second = two(b, *pos + 1).ok_or(())?;
    if second > 59 {
        return Err(());
    }
    *pos += 3;
    let mut micro = 0u32;
    if matches!(b.get(*pos), Some(b'.' | b',')) {
        *pos += 1;
        let mut n = 0;
        while let Some(d) = digit(b, *pos + n) {
            if n < 6 {
                micro = micro * 10 + d;
            }
            n += 1;
        }
        if n == 0 {
            return Err(());
        }
        if n < 6 {
            micro *= 10u32.pow(6 - n as u32);
        }
        *pos += n;
    }
    Ok((second, micro))
}

/// An optional zone: `Z`/`z`, or `±HH:MM`/`±HHMM` (the minus also as U+2212),
/// as an offset in seconds under a day.
fn zone(b: &[u8], pos: &mut usize) -> Result<Option<i32>, ()> {
    let Some(&c) = b.get(*pos) else {
        return Ok(None);
    };
    *pos += 1;
    if c == b'Z' || c == b'z' {
        return Ok(Some(0));
    }
    let sign = match c {
        b'+' => 1,
        b'-' => -1,
        // U+2212 MINUS SIGN, as UTF-8.
        0xE2 if b.get(*pos) == Some(&0x88) && b.get(*pos + 1) == Some(&0x92) => {
            *pos += 2;
            -1
        }
        _ => return Err(()),
    };
    let hh = two(b, *pos).ok_or(())? as i32;
    let mm = match b.get(*pos + 2) {
        Some(b':') => {
            *pos += 3;
            two(b, *pos).ok_or(())?
        }
        Some(c) if c.is_ascii_digit() => {
            *pos += 2;
            two(b, *pos).ok_or(())?
        }
        _ => return Err(()),
    } as i32;
    if mm >= 60 {
        return Err(());
    }
    let value = sign * (hh * 3600 + mm * 60);
    if value.abs() >= 86_400 {
        return Err(());
    }
    *pos += 2;
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written forms agree with chrono's formatting over the
    /// whole range, with and without microseconds.
    #[test]
    fn forms_match_chrono() {
        let (lo, hi) = (UNIX_0001 * 1_000_000, UNIX_9999 * 1_000_000 + 999_999);
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for i in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let span = (hi - lo) as u64;
            let mut micros = lo + (x % span) as i64;
            if i % 2 == 0 {
                micros -= micros.rem_euclid(1_000_000);
            }
            for m in [micros, lo, hi] {
                let t = Timestamp::from_micros(m).unwrap();
                use chrono::{Datelike, Timelike};
                let c = chrono::DateTime::from_timestamp_micros(m)
                    .unwrap()
                    .naive_utc();
                let (y, mo, d) = (c.year(), c.month(), c.day());
                let (h, mi, se) = (c.hour(), c.minute(), c.second());
                let us = c.nanosecond() / 1000;
                let frac = if us == 0 {
                    String::new()
                } else {
                    alloc::format!(".{us:06}")
                };
                let want = alloc::format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}{frac}Z");
                assert_eq!(t.to_rfc3339(), want, "{m}");
                let stamp = alloc::format!("{y:04}{mo:02}{d:02}-{h:02}{mi:02}{se:02}");
                assert_eq!(t.name_stamp(), stamp, "{m}");
            }
        }
    }

    fn norm(s: &str) -> String {
        parse_str(s)
            .map(|p| p.utc.to_rfc3339())
            .unwrap_or_else(|e| alloc::format!("{e:?}"))
    }

    #[test]
    fn strings_normalise_to_utc() {
        assert_eq!(norm("2024-01-15T10:00:00-05:00"), "2024-01-15T15:00:00Z");
        assert_eq!(norm("2024-01-15T10:00:00+23:59"), "2024-01-14T10:01:00Z");
        assert_eq!(
            norm("2024-01-15 10:00:00.1234567"),
            "2024-01-15T10:00:00.123456Z"
        );
        assert_eq!(norm("2024-01-15_10:00"), "2024-01-15T10:00:00Z");
        assert_eq!(
            norm("2024-01-15T10:00:00\u{2212}05:00"),
            "2024-01-15T15:00:00Z"
        );
        assert_eq!(norm("2024-01-15"), "2024-01-15T00:00:00Z");
        assert_eq!(norm("1705312800123"), "2024-01-15T10:00:00.123000Z");
        assert_eq!(norm("-1.25"), "1969-12-31T23:59:58.750000Z");
        assert_eq!(norm("253402300799999.5"), "1978-01-11T21:31:41.798512Z");
    }

    #[test]
    fn rejects_what_the_reference_rejects() {
        for bad in [
            "2024-01-15T10:00:00+05",
            "2024-01-15T24:00:00",
            "2024-01-15T10:00:60",
            "2024-02-30T00:00:00",
            " 2024-01-15T10:00:00",
            "20240115T100000Z",
            "1e9",
            "1_705_312_800",
            "2024-01-15T10:00:00+24:00",
        ] {
            assert!(
                matches!(parse_str(bad), Err(TimestampError::FromDateParsing(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_str("0000-01-01T00:00:00"),
            Err(TimestampError::Parsing(_))
        ));
        assert_eq!(
            parse_str("9999-12-31T23:59:59-01:00"),
            Err(TimestampError::UtcOverflow)
        );
    }

    #[test]
    fn numbers_follow_the_reference_arithmetic() {
        let f = |x: f64| parse_float(x).map(|p| p.utc.to_rfc3339());
        assert_eq!(f(-1.25).unwrap(), "1969-12-31T23:59:58.250000Z");
        assert_eq!(f(-20_000_000_001.5).unwrap(), "1969-05-14T12:26:39.998500Z");
        assert_eq!(f(20_000_000_000.5).unwrap(), "2603-10-11T11:33:20.000500Z");
        assert_eq!(f(1_705_312_800.999_999_6).unwrap(), "2024-01-15T10:00:01Z");
        assert!(f(f64::NAN).is_err());
        assert!(parse_int(300_000_000_000_000).is_err());
        assert_eq!(
            parse_int(-62_135_596_800_000).unwrap().utc.to_rfc3339(),
            "0001-01-01T00:00:00Z"
        );
    }

    #[test]
    fn wall_stamp_keeps_the_written_zone() {
        let p = parse_str("2024-01-15T10:00:00-05:00").unwrap();
        assert_eq!(p.wall_stamp, "20240115-100000");
        assert_eq!(p.utc.name_stamp(), "20240115-150000");
    }

    #[test]
    fn civil_round_trip() {
        for days in [-719_162i64, -1, 0, 1, 19_737, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y as i64, m as u32, d as u32), days);
        }
    }
}
