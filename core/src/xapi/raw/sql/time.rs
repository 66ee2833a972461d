//! [`super::super::isotime`] as a ClickHouse expression: CPython 3.11's
//! `fromisoformat` over bytes, its position arithmetic as `multiIf`, its
//! time loop as the table of shapes it accepts.

use alloc::format;
use alloc::string::String;

use super::{Names, bind, strip};
use crate::xapi::raw::isotime::{MAX_MS, MIN_MS};
use crate::xapi::sql::literal;

/// What follows the digits a time shape ends with.
#[derive(Clone, Copy)]
enum More {
    /// Whether an offset follows (the C code reads its first character).
    Offset,
    /// Something else follows: fine only before an offset.
    Always,
    /// A fraction (the last group): its first six bytes are digits, and
    /// anything after its digits is more.
    Fraction,
}

/// The shapes `parse_hh_mm_ss_ff` accepts, with how many of (hour,
/// minute, second) they hold. `X` is any one byte.
const SHAPES: [(&str, usize, More); 16] = [
    (r"^([0-9]{2})$", 1, More::Offset),
    (r"^([0-9]{2})[\x00-\x7f]$", 1, More::Always),
    (r"^([0-9]{2}):([0-9]{2})$", 2, More::Offset),
    (r"^([0-9]{2}):([0-9]{2})[\x00-\x7f]$", 2, More::Always),
    (r"^([0-9]{2}):([0-9]{2}):([0-9]{2})$", 3, More::Offset),
    (
        r"^([0-9]{2}):([0-9]{2}):([0-9]{2})[\x00-\x7f]$",
        3,
        More::Always,
    ),
    (
        r"(?s)^([0-9]{2}):([0-9]{2}):([0-9]{2})[:.,](.+)$",
        3,
        More::Fraction,
    ),
    (r"(?s)^([0-9]{2}):([0-9]{2})[.,](.+)$", 2, More::Fraction),
    (r"(?s)^([0-9]{2})[.,](.+)$", 1, More::Fraction),
    (r"^([0-9]{2})([0-9]{2})$", 2, More::Offset),
    (r"^([0-9]{2})([0-9]{2})[\x00-\x7f]$", 2, More::Always),
    (r"(?s)^([0-9]{2})([0-9]{2})[.,](.+)$", 2, More::Fraction),
    (r"^([0-9]{2})([0-9]{2})([0-9]{2})$", 3, More::Offset),
    (
        r"^([0-9]{2})([0-9]{2})([0-9]{2})[\x00-\x7f]$",
        3,
        More::Always,
    ),
    (
        r"(?s)^([0-9]{2})([0-9]{2})([0-9]{2})[.,](.+)$",
        3,
        More::Fraction,
    ),
    (
        r"(?s)^([0-9]{2})([0-9]{2})([0-9]{2})(.+)$",
        3,
        More::Fraction,
    ),
];

/// `(ok, hour, minute, second, microsecond, more)` of a time text `t`;
/// `offset` says whether an offset's sign follows it.
fn hms(t: &str, offset: &str, n: &mut Names) -> String {
    let mut out = String::from(
        "tuple(toUInt8(0), toUInt32(0), toUInt32(0), toUInt32(0), toUInt32(0), toUInt8(0))",
    );
    for (re, fields, more) in SHAPES.iter().rev() {
        let g = n.fresh();
        let num = |i: usize| {
            if i < *fields {
                format!("toUInt32OrZero({g}[{}])", i + 1)
            } else {
                String::from("toUInt32(0)")
            }
        };
        let f = format!("{g}[{}]", fields + 1);
        let take = format!("least(length({f}), 6)");
        let (ok, us, more) = match more {
            More::Offset => (String::from("1"), String::from("0"), String::from(offset)),
            More::Always => (String::from("1"), String::from("0"), String::from("1")),
            More::Fraction => (
                format!("match(substring({f}, 1, {take}), '^[0-9]+$')"),
                format!("toUInt32OrZero(substring({f}, 1, {take})) * toUInt32(exp10(6 - {take}))"),
                format!("(NOT match({f}, '^[0-9]+$')) OR ({offset})"),
            ),
        };
        let value = format!(
            "tuple(toUInt8({ok}), {}, {}, {}, toUInt32({us}), toUInt8({more}))",
            num(0),
            num(1),
            num(2)
        );
        let re = literal(re);
        out = format!(
            "if(match({t}, {re}), {}, {out})",
            bind(&format!("extractGroups({t}, {re})"), &g, &value)
        );
    }
    out
}

/// Days since the epoch of a checked civil date, NULL if it is none.
fn civil(y: &str, m: &str, d: &str) -> String {
    let leap = format!("(({y} % 4 = 0 AND {y} % 100 != 0) OR {y} % 400 = 0)");
    let dim = format!(
        "multiIf({m} IN (1, 3, 5, 7, 8, 10, 12), 31, {m} IN (4, 6, 9, 11), 30, {leap}, 29, 28)"
    );
    format!(
        "if({y} >= 1 AND {m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND {dim}, {}, NULL)",
        days(y, m, d)
    )
}

/// Days since 1970-01-01 of a date in years 1–9999 (Hinnant's algorithm).
fn days(y: &str, m: &str, d: &str) -> String {
    let yy = format!("({y} - if({m} <= 2, 1, 0))");
    let era = format!("intDiv({yy}, 400)");
    let yoe = format!("({yy} - {era} * 400)");
    let doy = format!("(intDiv(153 * ({m} + if({m} > 2, -3, 9)) + 2, 5) + {d} - 1)");
    let doe = format!("({yoe} * 365 + intDiv({yoe}, 4) - intDiv({yoe}, 100) + {doy})");
    format!("toInt64({era} * 146097 + {doe} - 719468)")
}

/// Days of an ISO week date, NULL if it is none.
fn week_date(y: &str, w: &str, d: &str) -> String {
    let jan1 = days(y, "1", "1");
    let jan4 = days(y, "1", "4");
    let weekday = |x: &str| format!("((({x} + 3) % 7 + 7) % 7)");
    let leap = format!("(({y} % 4 = 0 AND {y} % 100 != 0) OR {y} % 400 = 0)");
    format!(
        "if({y} >= 1 AND {d} BETWEEN 1 AND 7 AND {w} BETWEEN 1 AND 53 AND ({w} != 53 OR {} = 3 OR ({leap} AND {} = 2)), {jan4} - {} + ({w} - 1) * 7 + ({d} - 1), NULL)",
        weekday(&jan1),
        weekday(&jan1),
        weekday(&jan4)
    )
}

/// Days of the date part `d`, NULL if it is none.
fn date(d: &str, n: &mut Names) -> String {
    let forms: [(&str, bool); 4] = [
        (r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$", false),
        (r"^([0-9]{4})([0-9]{2})([0-9]{2})$", false),
        (r"^([0-9]{4})-W([0-9]{2})(?:-([0-9]))?$", true),
        (r"^([0-9]{4})W([0-9]{2})([0-9])?$", true),
    ];
    let mut out = String::from("CAST(NULL AS Nullable(Int64))");
    for (re, week) in forms.iter().rev() {
        let g = n.fresh();
        let y = format!("toInt64OrZero({g}[1])");
        let a = format!("toInt64OrZero({g}[2])");
        let value = if *week {
            let day = format!("if({g}[3] = '', toInt64(1), toInt64OrZero({g}[3]))");
            week_date(&y, &a, &day)
        } else {
            civil(&y, &a, &format!("toInt64OrZero({g}[3])"))
        };
        let re = literal(re);
        out = format!(
            "if(match({d}, {re}), {}, {out})",
            bind(&format!("extractGroups({d}, {re})"), &g, &value)
        );
    }
    out
}

/// Where the date part ends (`_find_isoformat_datetime_separator`); -1
/// where the C code gives up.
fn separator(s: &str) -> String {
    let c = |i: usize| format!("substring({s}, {}, 1)", i + 1);
    let len = format!("length({s})");
    format!(
        "multiIf({len} < 7, -1, {len} = 7, 7, {c4} = '-' AND {c5} = 'W', multiIf({len} < 8, -1, {len} > 8 AND {c8} = '-', multiIf({len} = 9, -1, {len} > 10 AND match({c10}, '[0-9]'), 8, 10), 8), {c4} = '-', 10, {c4} = 'W', arrayMap(_x -> if(_x < 9, _x, if(_x % 2 = 0, 7, 8)), [7 + length(extract(substring({s}, 8), '^[0-9]*'))])[1], 8)",
        c4 = c(4),
        c5 = c(5),
        c8 = c(8),
        c10 = c(10)
    )
}

/// Milliseconds since the epoch (UTC) of a timestamp text, as
/// [`crate::xapi::raw::isotime::parse_ms`] computes them; NULL where that
/// gives none.
pub(super) fn timestamp_ms(text: &str, n: &mut Names) -> String {
    let s = n.fresh();
    let p = n.fresh();
    let t = n.fresh();
    let z = n.fresh();
    let tm = n.fresh();
    let o = n.fresh();
    let day = n.fresh();
    let us = n.fresh();
    let prepared = format!(
        "arrayMap(_st -> if(endsWith(_st, 'Z'), concat(substring(_st, 1, length(_st) - 1), '+00:00'), _st), [{}])[1]",
        strip(text)
    );
    // The time part, split at the offset's first character.
    let prefix = format!("extract({t}, '^[^Z+-]*')");
    let tz = format!(
        "tuple({prefix}, substring({t}, length({prefix}) + 1, 1), substring({t}, length({prefix}) + 2))"
    );
    let main = hms(&format!("{z}.1"), &format!("{z}.2 != ''"), n);
    let offset = hms(&format!("{z}.3"), "false", n);
    let sign = format!("if({z}.2 = '-', -1, 1)");
    let offset_us = format!(
        "if(toInt64({o}.2) * 3600 + toInt64({o}.3) * 60 + toInt64({o}.4) = 0, toInt64(0), {sign} * ((toInt64({o}.2) * 3600 + toInt64({o}.3) * 60 + toInt64({o}.4)) * 1000000 + toInt64({o}.5)))"
    );
    // (ok, micros of the time of day, offset micros)
    let time_part = bind(
        &tz,
        &z,
        &bind(
            &main,
            &tm,
            &bind(
                &offset,
                &o,
                &format!(
                    "multiIf({tm}.1 = 0 OR {tm}.2 > 23 OR {tm}.3 > 59 OR {tm}.4 > 59, tuple(0, toInt64(0), toInt64(0)), {z}.2 = '', tuple(toUInt8(NOT {tm}.6), toInt64({tm}.2) * 3600000000 + toInt64({tm}.3) * 60000000 + toInt64({tm}.4) * 1000000 + toInt64({tm}.5), toInt64(0)), {z}.2 = 'Z', tuple(toUInt8({z}.3 = ''), toInt64({tm}.2) * 3600000000 + toInt64({tm}.3) * 60000000 + toInt64({tm}.4) * 1000000 + toInt64({tm}.5), toInt64(0)), tuple(toUInt8({o}.1 = 1 AND {o}.6 = 0 AND abs({offset_us}) < 86400000000), toInt64({tm}.2) * 3600000000 + toInt64({tm}.3) * 60000000 + toInt64({tm}.4) * 1000000 + toInt64({tm}.5), {offset_us}))"
                ),
            ),
        ),
    );
    let whole = format!(
        "if({p} < 0, NULL, arrayMap({day} -> if(isNull({day}), NULL, if(length({s}) > {p}, arrayMap({us} -> if({us}.1 = 1, assumeNotNull({day}) * 86400000000 + {us}.2 - {us}.3, NULL), [{}])[1], assumeNotNull({day}) * 86400000000)), [{}])[1])",
        bind(
            &format!(
                "substring({s}, {p} + 1 + multiIf(reinterpretAsUInt8(substring({s}, {p} + 1, 1)) < 128, 1, reinterpretAsUInt8(substring({s}, {p} + 1, 1)) < 224, 2, reinterpretAsUInt8(substring({s}, {p} + 1, 1)) < 240, 3, 4))"
            ),
            &t,
            &time_part
        ),
        date(&format!("substring({s}, 1, {p})"), n)
    );
    let floor_ms = format!(
        "arrayMap(_u -> if(isNull(_u), NULL, arrayMap(_ms -> if(_ms BETWEEN {MIN_MS} AND {MAX_MS}, _ms, NULL), [intDiv(assumeNotNull(_u), 1000) - if(assumeNotNull(_u) % 1000 < 0, 1, 0)])[1]), [{}])[1]",
        bind(&separator(s.as_str()), &p, &whole)
    );
    bind(&prepared, &s, &floor_ms)
}
