//! The reference Lambda's timestamp rule (spec §4.3): Python 3.11's
//! `datetime.fromisoformat`, step for step, after the Lambda's own
//! preparation (strip, a trailing `Z` as `+00:00`, a second try with the
//! fraction cut to six digits), then UTC milliseconds, truncated.
//!
//! The grammar is CPython's C parser, quirks included: any one ASCII
//! character separates date and time, basic and extended forms may mix
//! between date and time, ISO week dates are dates, a fraction may follow
//! the hour or the minute, and an offset may carry seconds. Kept to the
//! years ClickHouse's `DateTime64` holds (1900–2299): a timestamp outside
//! them cannot be stored, so it fails its object like an unparsable one.

use crate::calendar::{days_from_civil, days_in_month};

/// Milliseconds since the epoch, UTC, of the timestamp text as the Lambda
/// reads it; `None` where it fails the object.
pub fn parse_ms(raw: &str) -> Option<i64> {
    let s = super::py::strip(raw);
    let mut owned;
    let s = match s.strip_suffix('Z') {
        Some(head) => {
            owned = alloc::string::String::from(head);
            owned.push_str("+00:00");
            owned.as_str()
        }
        None => s,
    };
    let micros = from_iso(s.as_bytes())?;
    let ms = micros.div_euclid(1000);
    (MIN_MS..=MAX_MS).contains(&ms).then_some(ms)
}

/// 1900-01-01T00:00:00.000Z and 2299-12-31T23:59:59.999Z.
pub const MIN_MS: i64 = -2_208_988_800_000;
pub const MAX_MS: i64 = 10_413_791_999_999;

/// Where the date ends (CPython `_find_isoformat_datetime_separator`).
fn separator(s: &[u8]) -> Option<usize> {
    let len = s.len();
    if len == 7 {
        return Some(7);
    }
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    if at(4) == b'-' {
        if at(5) == b'W' {
            if len < 8 {
                return None;
            }
            if len > 8 && at(8) == b'-' {
                if len == 9 {
                    return None;
                }
                if len > 10 && at(10).is_ascii_digit() {
                    return Some(8);
                }
                return Some(10);
            }
            return Some(8);
        }
        return Some(10);
    }
    if at(4) == b'W' {
        let mut idx = 7;
        while idx < len && s[idx].is_ascii_digit() {
            idx += 1;
        }
        if idx < 9 {
            return Some(idx);
        }
        return Some(if idx % 2 == 0 { 7 } else { 8 });
    }
    Some(8)
}

fn digits(s: &[u8], at: usize, n: usize) -> Option<u32> {
    let part = s.get(at..at + n)?;
    part.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Days since the epoch of a date part (CPython `parse_isoformat_date`).
fn date(s: &[u8], len: usize) -> Option<i64> {
    let year = digits(s, 0, 4)?;
    let mut p = 4;
    let sep = s.get(p) == Some(&b'-');
    if sep {
        p += 1;
    }
    if s.get(p) == Some(&b'W') {
        p += 1;
        let week = digits(s, p, 2)?;
        p += 2;
        let day = if p < len {
            if sep {
                if s.get(p) != Some(&b'-') {
                    return None;
                }
                p += 1;
            }
            digits(s, p, 1)?
        } else {
            1
        };
        return iso_week_date(year, week, day);
    }
    let month = digits(s, p, 2)?;
    p += 2;
    if sep {
        if s.get(p) != Some(&b'-') {
            return None;
        }
        p += 1;
    }
    let day = digits(s, p, 2)?;
    if year == 0 || !(1..=12).contains(&month) {
        return None;
    }
    let max = days_in_month(year, month)?;
    (1..=max)
        .contains(&day)
        .then(|| days_from_civil(i64::from(year), month, day))
}

/// Monday = 0.
fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

fn iso_week_date(year: u32, week: u32, day: u32) -> Option<i64> {
    if year == 0 || !(1..=7).contains(&day) || week == 0 || week > 53 {
        return None;
    }
    let jan1 = days_from_civil(i64::from(year), 1, 1);
    if week == 53 {
        let leap = days_in_month(year, 2) == Some(29);
        let wd = weekday(jan1);
        if !(wd == 3 || (leap && wd == 2)) {
            return None;
        }
    }
    let jan4 = days_from_civil(i64::from(year), 1, 4);
    let monday = jan4 - weekday(jan4);
    Some(monday + i64::from(week - 1) * 7 + i64::from(day - 1))
}

/// `[HH[:?MM[:?SS]]][.,fraction]` from `s[start..end]` (CPython
/// `parse_hh_mm_ss_ff`): (h, m, s, µs, more), where `more` says the text
/// goes on after what was read. `s[end]` (or NUL past the end) is the
/// character the C code sees there.
fn hh_mm_ss_ff(s: &[u8], start: usize, end: usize) -> Option<([u32; 4], bool)> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut vals = [0u32; 4];
    let mut p = start;
    let mut has_sep = true;
    for (i, slot) in vals.iter_mut().take(3).enumerate() {
        *slot = digits(s, p, 2)?;
        p += 2;
        let c = at(p);
        p += 1;
        if i == 0 {
            has_sep = c == b':';
        }
        if p >= end {
            return Some((vals, c != 0));
        } else if has_sep && c == b':' {
            continue;
        } else if c == b'.' || c == b',' {
            break;
        } else if !has_sep {
            p -= 1;
        } else {
            return None;
        }
    }
    let remains = end.saturating_sub(p);
    let take = remains.min(6);
    // CPython reads a correction table at index -1 for an empty fraction
    // (undefined behaviour); we refuse it.
    if take == 0 {
        return None;
    }
    let f = digits(s, p, take)?;
    vals[3] = f * 10u32.pow((6 - take) as u32);
    p += take;
    while at(p).is_ascii_digit() {
        p += 1;
    }
    Some((vals, at(p) != 0))
}

fn utf8_width(lead: u8) -> usize {
    match lead {
        0..0x80 => 1,
        0xC0..0xE0 => 2,
        0xE0..0xF0 => 3,
        _ => 4,
    }
}

/// Microseconds since the epoch, UTC (CPython `datetime_fromisoformat`,
/// then `astimezone(UTC)` or UTC for a naive value).
fn from_iso(s: &[u8]) -> Option<i64> {
    if s.len() < 7 {
        return None;
    }
    let len = s.len();
    let sep = separator(s)?;
    let days = date(s, sep)?;
    let (mut hms, mut offset_us) = ([0u32; 4], 0i64);
    if len > sep {
        // The separator is any one character, however many bytes it takes.
        let start = sep + utf8_width(s[sep]);
        let tz = (start..len)
            .find(|&i| matches!(s[i], b'Z' | b'+' | b'-'))
            .unwrap_or(len);
        let (vals, more) = hh_mm_ss_ff(s, start, tz)?;
        hms = vals;
        if tz == len {
            if more {
                return None;
            }
        } else if s[tz] == b'Z' {
            if tz + 1 != len {
                return None;
            }
        } else {
            let sign = if s[tz] == b'-' { -1 } else { 1 };
            let (o, more) = hh_mm_ss_ff(s, tz + 1, len)?;
            if more {
                return None;
            }
            // CPython 3.11 takes an offset of zero whole seconds as UTC,
            // dropping its fraction.
            let secs = i64::from(o[0]) * 3600 + i64::from(o[1]) * 60 + i64::from(o[2]);
            offset_us = if secs == 0 {
                0
            } else {
                sign * (secs * 1_000_000 + i64::from(o[3]))
            };
            if offset_us.abs() >= 86_400_000_000 {
                return None;
            }
        }
    }
    let [h, m, sec, us] = hms;
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let local = days * 86_400_000_000
        + i64::from(h) * 3_600_000_000
        + i64::from(m) * 60_000_000
        + i64::from(sec) * 1_000_000
        + i64::from(us);
    Some(local - offset_us)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> Option<i64> {
        parse_ms(s)
    }

    const T0: i64 = 1_759_849_445_000; // 2025-10-07T15:04:05Z

    #[test]
    fn forms_python_accepts() {
        assert_eq!(ms("2025-10-07T15:04:05Z"), Some(T0));
        assert_eq!(ms("2025-10-07T15:04:05"), Some(T0));
        assert_eq!(ms(" 2025-10-07T15:04:05+00:00 "), Some(T0));
        assert_eq!(ms("2025-10-07 15:04:05"), Some(T0));
        assert_eq!(ms("2025-10-07x15:04:05"), Some(T0));
        assert_eq!(ms("20251007T150405"), Some(T0));
        assert_eq!(ms("2025-10-07T150405"), Some(T0));
        assert_eq!(ms("2025-10-07T20:34:05+05:30"), Some(T0));
        assert_eq!(ms("2025-10-07T10:04:05-0500"), Some(T0));
        assert_eq!(ms("2025-10-07T16:04:05+01"), Some(T0));
        assert_eq!(ms("2025-10-07T15:04:05.640987Z"), Some(T0 + 640));
        assert_eq!(ms("2025-10-07T15:04:05.999999Z"), Some(T0 + 999));
        assert_eq!(ms("2025-10-07T15:04:05.1234567+00:00"), Some(T0 + 123));
        assert_eq!(ms("2025-10-07T15:04:05,5"), Some(T0 + 500));
        assert_eq!(ms("2025-10-07T15"), Some(T0 - 4 * 60_000 - 5000));
        assert_eq!(ms("2025-10-07T15.5"), Some(T0 - 245_000 + 500));
        assert_eq!(ms("2025-10-07"), Some(T0 - (15 * 3600 + 4 * 60 + 5) * 1000));
        assert_eq!(ms("20251007"), ms("2025-10-07"));
        // ISO week dates: 2025-W41-2 is Tuesday 7 October 2025.
        assert_eq!(ms("2025-W41-2T15:04:05"), Some(T0));
        assert_eq!(ms("2025W412T15:04:05"), Some(T0));
        assert_eq!(ms("2025-W41"), ms("2025-10-06"));
        // An offset with seconds; a fraction of a zero offset is dropped.
        assert_eq!(ms("2025-10-07T15:04:06+00:00:01"), Some(T0));
        assert_eq!(ms("2025-10-07T15:04:05+00:00:00.5"), Some(T0));
        // A separator of several bytes.
        assert_eq!(ms("2025-10-07é15:04:05"), Some(T0));
        assert_eq!(ms("2025-10-07😀15:04:05"), Some(T0));
        // CPython 3.11 takes a point with no digits when an offset follows.
        assert_eq!(ms("2025-10-07T15:04:05.Z"), Some(T0));
        // Before the epoch, truncation is toward the earlier millisecond.
        assert_eq!(ms("1969-12-31T23:59:59.9995Z"), Some(-1));
    }

    #[test]
    fn forms_that_fail_the_object() {
        for bad in [
            "",
            "   ",
            "not a time",
            "2025-02-30T00:00:00Z",
            "2025-10-07T24:00:00Z",
            "2025-10-07T15:04:05.",
            "2025-10-07T15:04:60",
            "2025-10-07T15:04:05+24:00",
            "2025-10-07T15:04:05Zjunk",
            "2025-13-01",
            "2025-10-07T15:4",
            "2025-W54-1",
            "2025-W53-1",
            "1899-12-31T23:59:59Z",
            "2300-01-01T00:00:00Z",
            "0000-01-01",
            "2025-10-07T15:04:05 ",
        ] {
            if bad == "2025-10-07T15:04:05 " {
                // Stripped first: fine.
                assert!(ms(bad).is_some());
                continue;
            }
            assert_eq!(ms(bad), None, "{bad:?}");
        }
        // 2020 has 53 ISO weeks.
        assert!(ms("2020-W53-5").is_some());
    }
}
