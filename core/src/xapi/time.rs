//! xAPI timestamps, as both load paths accept them:
//! `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]`, real calendar dates, hours
//! 00–23, no leap seconds, offsets below 24 h, years 1900–2299 (the range
//! of ClickHouse's `DateTime64`). No zone means UTC. Fractions beyond
//! microseconds are truncated.

use crate::calendar::days_from_civil;

/// Microseconds since the epoch, UTC.
pub fn parse(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |i: usize, n: usize| -> Option<i64> {
        let part = b.get(i..i + n)?;
        part.iter().try_fold(0i64, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || b.get(10) != Some(&b'T') {
        return None;
    }
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    if !(1900..=2299).contains(&year) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days_in = crate::calendar::days_in_month(year as u32, month as u32)?;
    if day < 1 || day > i64::from(days_in) {
        return None;
    }
    let mut pos = 19;
    let mut micro = 0i64;
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while b.get(pos).is_some_and(u8::is_ascii_digit) {
            if pos - start < 6 {
                micro = micro * 10 + i64::from(b[pos] - b'0');
            }
            pos += 1;
        }
        let n = pos - start;
        if n == 0 {
            return None;
        }
        for _ in n..6 {
            micro *= 10;
        }
    }
    let offset = match b.get(pos) {
        None => 0,
        Some(b'Z') => {
            pos += 1;
            0
        }
        Some(&c @ (b'+' | b'-')) => {
            let (oh, om) = (num(pos + 1, 2)?, num(pos + 4, 2)?);
            if b.get(pos + 3) != Some(&b':') || oh > 23 || om > 59 {
                return None;
            }
            pos += 6;
            let v = oh * 3600 + om * 60;
            if c == b'-' { -v } else { v }
        }
        _ => return None,
    };
    if pos != b.len() {
        return None;
    }
    let days = days_from_civil(year, month as u32, day as u32);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(secs * 1_000_000 + micro)
}

/// ClickHouse's text form of a `DateTime64(6)`: `YYYY-MM-DD HH:MM:SS.ffffff`.
pub fn format(micros: i64) -> alloc::string::String {
    use core::fmt::Write;
    let secs = micros.div_euclid(1_000_000);
    let us = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = crate::calendar::civil_from_days(days);
    let mut s = alloc::string::String::with_capacity(26);
    let _ = write!(
        s,
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{us:06}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    );
    s
}

/// ClickHouse's text form of a `DateTime64(3)`: `YYYY-MM-DD HH:MM:SS.fff`.
pub fn format_millis(millis: i64) -> alloc::string::String {
    let mut s = format(millis.div_euclid(1000) * 1_000_000);
    s.truncate(s.len() - 6);
    let ms = millis.rem_euclid(1000);
    use core::fmt::Write;
    let _ = write!(s, "{ms:03}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_both_paths_accept() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse("2025-10-07T15:04:05Z"), Some(1_759_849_445_000_000));
        assert_eq!(
            parse("2025-10-07T15:04:05.1234567+05:30"),
            Some(1_759_829_645_123_456)
        );
        assert_eq!(parse("2025-10-07T15:04:05"), parse("2025-10-07T15:04:05Z"));
        assert_eq!(parse("1969-12-31T23:59:59.5Z"), Some(-500_000));
        for bad in [
            "2025-02-30T00:00:00Z",
            "2025-10-07T24:00:00Z",
            "2025-10-07T23:59:60Z",
            "2025-10-07T15:04:05+24:00",
            "2025-10-07 15:04:05Z",
            "2025-10-07T15:04:05.Z",
            "0000-01-01T00:00:00Z",
            "2300-01-01T00:00:00Z",
            "2025-10-07T15:04:05+0530",
            " 2025-10-07T15:04:05Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(format(1_759_829_645_123_456), "2025-10-07 09:34:05.123456");
        assert_eq!(format(-500_000), "1969-12-31 23:59:59.500000");
    }
}
