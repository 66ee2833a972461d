//! Event file names (S3 keys): parsing, the reference's filter, and the
//! cross-check of a name against the content of its file.
//!
//! Producers name files
//! `{env}/log-{action}-{YYYYMMDD-HHMMSS}-{adcid}-{project}-{ptid}-{visit_date}.json`
//! (older ones ended in a visit number instead of the date). The reference
//! consumer keeps a key only if it matches one regular expression and
//! ignores every other key without a trace; [`reference_skip_reason`] says
//! why it would have ignored one.
//!
//! Hand-written, not a regex crate: the reference's pattern is a Python
//! `re.match` with Unicode `\d`/`\w` and Python's `$`, which this module
//! emulates exactly to say which keys the reference silently skipped.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::model::{Action, VisitEvent};
use super::rules::Seen;
use crate::report::{Code, Issue, excerpt};
use crate::unicode::{is_digit, is_word};

/// The last path segment of a key.
pub fn basename(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

/// How a name ends: the current visit-date form or the older visit-number one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameSuffix<'a> {
    VisitDate(&'a str),
    VisitNumber(&'a str),
}

/// The parts of an event file name, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventName<'a> {
    pub action: &'a str,
    /// `YYYYMMDD-HHMMSS`, the producer's wall-clock time.
    pub stamp: &'a str,
    /// Digits (maybe signed) or the text `None`.
    pub adcid: &'a str,
    /// `{project}-{ptid}`: both may contain `-`, so only their join is
    /// unambiguous.
    pub project_and_ptid: &'a str,
    pub suffix: NameSuffix<'a>,
}

/// Why a key is not an event file name we can parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameProblem {
    pub reason: &'static str,
}

/// `-YYYY-MM-DD`, in bytes.
const DATE_TAIL: usize = 11;

/// Whether `b` is `-dddd-dd-dd` with ASCII digits.
fn is_date_tail(b: &[u8]) -> bool {
    b.len() == DATE_TAIL
        && b.iter().enumerate().all(|(i, c)| match i {
            0 | 5 | 8 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// Parse the file name of `key` (its last path segment).
pub fn parse_name(key: &str) -> Result<EventName<'_>, NameProblem> {
    let name = basename(key);
    let Some(stem) = name.strip_suffix(".json") else {
        let reason = if name.to_ascii_lowercase().ends_with(".json") {
            "the extension must be lower-case `.json`"
        } else {
            "not a `.json` file"
        };
        return Err(NameProblem { reason });
    };
    let Some(rest) = stem.strip_prefix("log-") else {
        return Err(NameProblem {
            reason: "the name does not start with `log-`",
        });
    };
    // `-YYYYMMDD-HHMMSS-` marks the end of the action.
    let b = rest.as_bytes();
    let stamp_at = (1..b.len()).find(|&i| {
        b.len() >= i + 17
            && b[i] == b'-'
            && b[i + 1..i + 9].iter().all(u8::is_ascii_digit)
            && b[i + 9] == b'-'
            && b[i + 10..i + 16].iter().all(u8::is_ascii_digit)
            && b[i + 16] == b'-'
    });
    let Some(i) = stamp_at else {
        return Err(NameProblem {
            reason: "no `-YYYYMMDD-HHMMSS-` timestamp after the action",
        });
    };
    let action = &rest[..i];
    let stamp = &rest[i + 1..i + 16];
    let after = &rest[i + 17..];
    let (adcid, after) = if let Some(r) = after.strip_prefix("None-") {
        ("None", r)
    } else {
        let neg = usize::from(after.starts_with('-'));
        let end = after[neg..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(after.len(), |e| e + neg);
        if end == neg || !after[end..].starts_with('-') {
            return Err(NameProblem {
                reason: "no numeric ADCID after the timestamp",
            });
        }
        (&after[..end], &after[end + 1..])
    };
    // The visit-date tail `-YYYY-MM-DD` is checked on bytes first: only
    // when those 11 bytes are ASCII is the cut before them a character
    // boundary (a multi-byte character near the end must not be sliced).
    let (middle, suffix) = match after.len().checked_sub(DATE_TAIL) {
        Some(k) if k > 0 && is_date_tail(&after.as_bytes()[k..]) => {
            (&after[..k], NameSuffix::VisitDate(&after[k + 1..]))
        }
        _ => match after.rfind('-') {
            Some(k) if k > 0 => (&after[..k], NameSuffix::VisitNumber(&after[k + 1..])),
            _ => {
                return Err(NameProblem {
                    reason: "missing the project, ptid and visit parts",
                });
            }
        },
    };
    Ok(EventName {
        action,
        stamp,
        adcid,
        project_and_ptid: middle,
        suffix,
    })
}

/// Whether the reference consumer's pattern (Python `re.match`)
/// `^.*log-(submit|pass-qc|not-pass-qc|delete)-\d{8}-\d{6}-\d+-[\w\-]+-[\w]+-\d{4}-\d{2}-\d{2}\.json$`
/// accepts `key`. `\d` and `\w` are Unicode-aware there, `.` stops at a
/// newline and `$` also matches before a final newline.
pub fn reference_matches(key: &str) -> bool {
    let first_newline = key.find('\n').unwrap_or(key.len());
    let starts: Vec<usize> = key
        .match_indices("log-")
        .map(|(i, _)| i)
        .take_while(|i| *i <= first_newline)
        .collect();
    if starts.is_empty() {
        return false;
    }
    let mut ends = alloc::vec![key.len()];
    if key.ends_with('\n') {
        ends.push(key.len() - 1);
    }
    ends.iter().any(|&end| {
        Ending::of(&key[..end]).is_some_and(|e| {
            starts
                .iter()
                .any(|&i| i + 4 + ".json".len() <= end && e.body_matches_from(i + 4))
        })
    })
}

/// What the pattern needs of a key up to one of its possible ends,
/// worked out once for every `log-` in it: each `log-` is then checked in
/// time independent of the key's length (a key of many `log-` took time
/// quadratic in its length when each one re-read the rest).
struct Ending {
    /// The characters before `.json`, with their byte offsets.
    chars: Vec<(usize, char)>,
    /// Where the fixed `-dddd-dd-dd` tail starts (a character index).
    tail: usize,
    /// `word_from[j]`: every character from `j` to `tail` is a word
    /// character or a hyphen.
    word_from: Vec<bool>,
    /// The last hyphen before `tail` (a character index).
    last_hyphen: Option<usize>,
}

impl Ending {
    /// `None` when no `log-` can match up to here: no `.json`, or no
    /// `-dddd-dd-dd` before it.
    fn of(key: &str) -> Option<Ending> {
        let body = key.strip_suffix(".json")?;
        let chars: Vec<(usize, char)> = body.char_indices().collect();
        let tail = chars.len().checked_sub(11)?;
        let tail_ok = chars[tail..]
            .iter()
            .enumerate()
            .all(|(i, &(_, c))| match i {
                0 | 5 | 8 => c == '-',
                _ => is_digit(c),
            });
        if !tail_ok {
            return None;
        }
        let mut word_from = alloc::vec![true; tail + 1];
        for j in (0..tail).rev() {
            let c = chars[j].1;
            word_from[j] = word_from[j + 1] && (c == '-' || is_word(c));
        }
        let last_hyphen = chars[..tail].iter().rposition(|&(_, c)| c == '-');
        Some(Ending {
            chars,
            tail,
            word_from,
            last_hyphen,
        })
    }

    /// Whether the body from byte `at` (after a `log-`) is
    /// `(submit|pass-qc|not-pass-qc|delete)-\d{8}-\d{6}-\d+-[\w\-]+-[\w]+`
    /// up to the tail.
    fn body_matches_from(&self, at: usize) -> bool {
        let Ok(start) = self.chars.binary_search_by_key(&at, |&(b, _)| b) else {
            return false;
        };
        if start > self.tail {
            return false;
        }
        let head = &self.chars[start..self.tail];
        ["submit", "pass-qc", "not-pass-qc", "delete"]
            .iter()
            .any(|action| {
                let n = action.len();
                head.len() > n
                    && head[..n].iter().map(|&(_, c)| c).eq(action.chars())
                    && head[n].1 == '-'
                    && self.after_action(start + n + 1)
            })
    }

    /// `\d{8}-\d{6}-\d+-[\w\-]+-[\w]+` from character `s` to the tail.
    fn after_action(&self, s: usize) -> bool {
        let c = |i: usize| self.chars[i].1;
        if self.tail < s + 16 || !(s..s + 8).all(|i| is_digit(c(i))) || c(s + 8) != '-' {
            return false;
        }
        if !(s + 9..s + 15).all(|i| is_digit(c(i))) || c(s + 15) != '-' {
            return false;
        }
        let r = s + 16;
        let digits = (r..self.tail).take_while(|&i| is_digit(c(i))).count();
        if digits == 0 || r + digits >= self.tail || c(r + digits) != '-' {
            return false;
        }
        // `[\w-]+-\w+`: word characters and hyphens, a last hyphen with
        // at least one character on each side.
        let e = r + digits + 1;
        self.word_from[e] && self.last_hyphen.is_some_and(|k| k > e && k + 1 < self.tail)
    }
}

/// Why the reference would silently ignore `key`, or `None` if it reads it.
pub fn reference_skip_reason(key: &str) -> Option<String> {
    if reference_matches(key) {
        return None;
    }
    let reason = match parse_name(key) {
        Err(p)
            if !basename(key).starts_with("log-")
                && key.contains("log-")
                && p.reason.contains("log-") =>
        {
            String::from("does not match the reference's file-name pattern")
        }
        Err(p) => String::from(p.reason),
        Ok(n) => {
            if Action::parse(n.action).is_none() {
                format!(
                    "action `{}` is not one of submit, pass-qc, not-pass-qc, delete",
                    excerpt(n.action)
                )
            } else if n.adcid == "None" || n.adcid.starts_with('-') {
                format!("the ADCID part is `{}`, not a plain number", n.adcid)
            } else if let NameSuffix::VisitNumber(v) = n.suffix {
                format!(
                    "it ends in a visit number (`{}`) instead of a visit date: the older naming form, which the reference stopped reading in 1.0.1",
                    excerpt(v)
                )
            } else if n.project_and_ptid.ends_with('-') {
                String::from("the ptid part is empty")
            } else if !n.project_and_ptid.chars().all(|c| c == '-' || is_word(c)) {
                String::from(
                    "the project or ptid part has characters other than letters, digits, `_` and `-`",
                )
            } else {
                String::from("does not match the reference's file-name pattern")
            }
        }
    };
    Some(reason)
}

/// Whether the pipeline treats `key` as an event file: a `log-*.json`
/// name, or anything the reference would have read.
pub fn is_event_candidate(key: &str) -> bool {
    let name = basename(key);
    (name.starts_with("log-") && name.ends_with(".json")) || reference_matches(key)
}

fn sanitize_project(label: &str) -> String {
    label.replace(['/', '\\'], "-")
}

/// The producer's file name for a (normalised, hence UTC) event.
pub fn event_file_name(e: &VisitEvent) -> String {
    format!(
        "log-{}-{}-{}-{}-{}-{}.json",
        e.action.as_str(),
        e.timestamp.name_stamp(),
        e.pipeline_adcid,
        sanitize_project(&e.project_label),
        e.ptid,
        e.visit_date
    )
}

/// The name a file with this content should have, in the directory of
/// `key`: the producer's form, with the time as the content writes it
/// (the wall clock, as the name check compares it). `None` until the
/// content has every part.
pub(crate) fn suggested_name(key: &str, parsed: &Seen<'_>) -> Option<String> {
    let (Some(action), Some(ts), Some(adcid), Some(project), Some(ptid), Some(visit_date)) = (
        parsed.action,
        parsed.timestamp,
        parsed.pipeline_adcid,
        parsed.project_label,
        parsed.ptid,
        parsed.visit_date,
    ) else {
        return None;
    };
    // Never a name with a day that does not exist (`…-2025-02-30.json`).
    if !is_calendar_date(visit_date) {
        return None;
    }
    let dir = key.rsplit_once('/').map_or("", |(d, _)| d);
    let name = format!(
        "log-{}-{}-{adcid}-{}-{ptid}-{visit_date}.json",
        action.as_str(),
        ts.wall_stamp,
        sanitize_project(project)
    );
    Some(if dir.is_empty() && !key.starts_with('/') {
        name
    } else {
        format!("{dir}/{name}")
    })
}

/// `YYYY-MM-DD` of ASCII digits naming a day that exists (years 1-9999).
fn is_calendar_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: core::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    match (num(0..4), num(5..7), num(8..10)) {
        (Some(y), Some(m), Some(d)) => {
            y >= 1 && d >= 1 && crate::calendar::days_in_month(y, m).is_some_and(|n| d <= n)
        }
        _ => false,
    }
}

fn mismatch(part: &str, label: &str, in_name: &str, in_content: &str) -> Issue {
    Issue::new(
        format!("name.{part}"),
        Code::NameMismatch,
        format!(
            "the file name says {label} is \"{}\" but the content says \"{}\"",
            excerpt(in_name),
            excerpt(in_content)
        ),
    )
}

/// Findings about `key` for a file whose content parsed into `parsed`.
/// Only names starting with `log-` are checked.
pub(crate) fn check(key: &str, parsed: &Seen<'_>) -> Vec<Issue> {
    let mut out = Vec::new();
    if !basename(key).starts_with("log-") {
        return out;
    }
    let name = match parse_name(key) {
        Ok(n) => n,
        Err(p) => {
            out.push(Issue::new(
                "name",
                Code::NameUnparsed,
                format!(
                    "the file name is not in the event naming form: {}",
                    p.reason
                ),
            ));
            if let Some(why) = reference_skip_reason(key) {
                out.push(skip_issue(&why));
            }
            return out;
        }
    };
    if let Some(why) = reference_skip_reason(key) {
        out.push(skip_issue(&why));
    }
    if let Some(a) = parsed.action
        && a.as_str() != name.action
    {
        out.push(mismatch("action", "the action", name.action, a.as_str()));
    }
    if let Some(ts) = parsed.timestamp
        && ts.wall_stamp != name.stamp
    {
        out.push(mismatch(
            "timestamp",
            "the time (YYYYMMDD-HHMMSS, as written)",
            name.stamp,
            &ts.wall_stamp,
        ));
    }
    if let Some(adcid) = parsed.pipeline_adcid {
        let content = adcid.to_string();
        if content != name.adcid {
            out.push(mismatch(
                "pipeline_adcid",
                "the ADCID",
                name.adcid,
                &content,
            ));
        }
    }
    if let (Some(project), Some(ptid)) = (parsed.project_label, parsed.ptid) {
        out.extend(project_and_ptid(&name, project, ptid));
    }
    out.extend(visit(&name, parsed));
    out
}

/// The `{project}-{ptid}` part against the content. Both may contain `-`,
/// so the one that does not fit is named when the other one does.
fn project_and_ptid(name: &EventName<'_>, project: &str, ptid: &str) -> Option<Issue> {
    let project = sanitize_project(project);
    let expected = format!("{project}-{ptid}");
    if name.project_and_ptid == expected {
        return None;
    }
    let tail = format!("-{ptid}");
    let head = format!("{project}-");
    Some(if name.project_and_ptid.ends_with(&tail) {
        let in_name = &name.project_and_ptid[..name.project_and_ptid.len() - tail.len()];
        mismatch("project_label", "the project", in_name, &project)
    } else if let Some(in_name) = name.project_and_ptid.strip_prefix(&head) {
        mismatch("ptid", "the ptid", in_name, ptid)
    } else {
        mismatch(
            "project_label",
            "the project and ptid",
            name.project_and_ptid,
            &expected,
        )
    })
}

/// The visit date (or, in the older form, the visit number) against the content.
fn visit(name: &EventName<'_>, parsed: &Seen<'_>) -> Option<Issue> {
    match name.suffix {
        NameSuffix::VisitDate(d) => parsed
            .visit_date
            .filter(|vd| *vd != d)
            .map(|vd| mismatch("visit_date", "the visit date", d, vd)),
        NameSuffix::VisitNumber(n) => parsed.visit_number.and_then(|vn| match vn {
            Some(content) => {
                (content != n).then(|| mismatch("visit_number", "the visit number", n, content))
            }
            // The producer writes "None" for no visit number: that agrees.
            None if n == "None" => None,
            None => Some(Issue::new(
                "name.visit_number",
                Code::NameMismatch,
                format!(
                    "the file name says the visit number is \"{}\" but the content has no visit number",
                    excerpt(n)
                ),
            )),
        }),
    }
}

/// The pipeline will never read `key`: its name is not an event file's.
pub fn not_read_issue(key: &str) -> Issue {
    Issue::new(
        "name",
        Code::NameNotRead,
        format!(
            "the pipeline reads only files named log-….json, so it will never read \"{}\", whatever it holds",
            excerpt(basename(key))
        ),
    )
}

fn skip_issue(why: &str) -> Issue {
    Issue::new(
        "name",
        Code::NameReferenceSkip,
        format!("the reference consumer would silently never read this file: {why}"),
    )
}

#[cfg(test)]
mod tests {

    use alloc::string::String;

    /// The first implementation, kept as the oracle: it re-read the rest of
    /// the key for every `log-` in it.
    fn quadratic_reference_matches(key: &str) -> bool {
        let mut ends = alloc::vec![key.len()];
        if key.ends_with('\n') {
            ends.push(key.len() - 1);
        }
        let first_newline = key.find('\n').unwrap_or(key.len());
        key.match_indices("log-")
            .take_while(|(i, _)| *i <= first_newline)
            .any(|(i, _)| {
                ends.iter()
                    .any(|&end| end >= i + 4 && quadratic_body_matches(&key[i + 4..end]))
            })
    }

    fn quadratic_body_matches(body: &str) -> bool {
        let Some(body) = body.strip_suffix(".json") else {
            return false;
        };
        let chars: Vec<char> = body.chars().collect();
        // Fixed tail: -dddd-dd-dd
        let n = chars.len();
        if n < 11 {
            return false;
        }
        let tail = &chars[n - 11..];
        let tail_ok = tail.iter().enumerate().all(|(i, &c)| match i {
            0 | 5 | 8 => c == '-',
            _ => is_digit(c),
        });
        if !tail_ok {
            return false;
        }
        let head = &chars[..n - 11];
        ["submit", "pass-qc", "not-pass-qc", "delete"]
            .iter()
            .any(|action| {
                let a: Vec<char> = action.chars().collect();
                head.len() > a.len()
                    && head[..a.len()] == a[..]
                    && head[a.len()] == '-'
                    && quadratic_after_action(&head[a.len() + 1..])
            })
    }

    /// `\d{8}-\d{6}-\d+-[\w\-]+-[\w]+` over the whole slice.
    fn quadratic_after_action(s: &[char]) -> bool {
        if s.len() < 16 || !s[..8].iter().all(|&c| is_digit(c)) || s[8] != '-' {
            return false;
        }
        if !s[9..15].iter().all(|&c| is_digit(c)) || s[15] != '-' {
            return false;
        }
        let r = &s[16..];
        let digits = r.iter().take_while(|&&c| is_digit(c)).count();
        if digits == 0 || r.get(digits) != Some(&'-') {
            return false;
        }
        // `[\w-]+-\w+`: word chars and hyphens, a last hyphen with at least one
        // character on each side.
        let e = &r[digits + 1..];
        if !e.iter().all(|&c| c == '-' || is_word(c)) {
            return false;
        }
        match e.iter().rposition(|&c| c == '-') {
            Some(k) => k >= 1 && k + 1 < e.len(),
            None => false,
        }
    }

    /// The linear matcher agrees with the first one on keys built from the
    /// pieces that matter (every action, digits of several scripts, word
    /// and other characters, newlines, `.json`), and takes linear time on
    /// a key of thousands of `log-`.
    #[test]
    fn reference_matches_agrees_with_the_first_implementation() {
        let pieces = [
            "log-",
            "submit",
            "pass-qc",
            "not-pass-qc",
            "delete",
            "-",
            "1",
            "12345678",
            "123456",
            "2024",
            "01",
            "\u{663}",
            "\u{663}\u{663}",
            ".json",
            "\n",
            "a",
            "_",
            "\u{e9}",
            " ",
            "x",
            "/",
            "log-submit-20240101-120000-12-p-1-2024-01-01.json",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |k: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % k as u64) as usize
        };
        let mut matched = 0;
        for _ in 0..200_000 {
            let mut key = String::new();
            for _ in 0..next(24) {
                key.push_str(pieces[next(pieces.len())]);
            }
            let want = quadratic_reference_matches(&key);
            assert_eq!(reference_matches(&key), want, "{key:?}");
            matched += usize::from(want);
        }
        assert!(
            matched > 100,
            "the generator reaches matching keys: {matched}"
        );
        let long = "log-".repeat(20_000) + "submit-20240101-120000-12-p-1-2024-01-01.json";
        assert!(reference_matches(&long));
    }
    use super::*;

    const CURRENT: &str = "prod/log-submit-20240115-100000-42-ingest-form-110001-2024-01-15.json";

    #[test]
    fn parses_both_forms() {
        let n = parse_name(CURRENT).unwrap();
        assert_eq!(n.action, "submit");
        assert_eq!(n.stamp, "20240115-100000");
        assert_eq!(n.adcid, "42");
        assert_eq!(n.project_and_ptid, "ingest-form-110001");
        assert_eq!(n.suffix, NameSuffix::VisitDate("2024-01-15"));
        let old =
            parse_name("dev/log-not-pass-qc-20251201-080000-7-ingest-form-AB-12-01.json").unwrap();
        assert_eq!(old.action, "not-pass-qc");
        assert_eq!(old.suffix, NameSuffix::VisitNumber("01"));
        assert_eq!(old.project_and_ptid, "ingest-form-AB-12");
        let none = parse_name("log-submit-20251201-080000-7-ingest-form-X1-None.json").unwrap();
        assert_eq!(none.suffix, NameSuffix::VisitNumber("None"));
    }

    #[test]
    fn reference_regex_table() {
        // The verified rows of the spec's table.
        let base = "prod/log-submit-20240115-100000-42-ingest-form-110001-2024-01-15.json";
        assert!(reference_matches(base));
        assert!(!reference_matches(
            "prod/log-submit-20240115-100000-42-ingest-form-110001-01.json"
        ));
        assert!(!reference_matches(
            "prod/log-submit-20240115-100000-42-ingest-form-110001-None.json"
        ));
        assert!(!reference_matches(
            "prod/log-duplicate-submit-20240115-100000-42-ingest-form-110001-2024-01-15.json"
        ));
        assert!(!reference_matches(
            "prod/log-submit-20240115-100000-None-ingest-form-110001-2024-01-15.json"
        ));
        assert!(!reference_matches(
            "prod/log-submit-20240115-100000-42-ingest-form--2024-01-15.json"
        ));
        assert!(!reference_matches(
            "prod/log-submit-20240115-100000-42-ingest-form-1.0-2024-01-15.json"
        ));
        assert!(!reference_matches(
            "prod/log-submit-20240115-100000-42-ingest-form-1!0-2024-01-15.json"
        ));
        assert!(reference_matches(
            "prod/log-submit-20240115-100000-42-ingest-form-AB-12-2024-01-15.json"
        ));
        assert!(reference_matches(
            "prod/log-submit-20240115-100000-42-ingest-form-ÄBC-2024-01-15.json"
        ));
        assert!(reference_matches(
            "prod/log-submit-20240115-100000-42-ingest-form-1-２０２４-01-15.json"
        ));
        assert!(reference_matches(
            "prod/log-submit-20240115-100000-42-ingest-form-1-2024-02-30.json"
        ));
        assert!(reference_matches(&format!("{base}\n")));
        assert!(!reference_matches(
            "prod/log-submit-20240115-100000-42-ingest-form-110001-2024-01-15.JSON"
        ));
        assert!(reference_matches(
            "prod/catalog-submit-20240115-100000-42-ingest-form-110001-2024-01-15.json"
        ));
    }

    #[test]
    fn skip_reasons_name_the_cause() {
        let r =
            reference_skip_reason("prod/log-submit-20240115-100000-42-ingest-form-110001-01.json")
                .unwrap();
        assert!(r.contains("visit number"), "{r}");
        let r = reference_skip_reason(
            "prod/log-duplicate-submit-20240115-100000-42-p-1-2024-01-15.json",
        )
        .unwrap();
        assert!(r.contains("duplicate-submit"), "{r}");
        let r = reference_skip_reason(
            "prod/log-submit-20240115-100000-42-ingest-form--2024-01-15.json",
        )
        .unwrap();
        assert!(r.contains("empty"), "{r}");
        assert!(reference_skip_reason(CURRENT).is_none());
        assert!(
            reference_skip_reason("prod/x.JSON")
                .unwrap()
                .contains("lower-case")
        );
    }

    /// Regression: a multi-byte character within the last 11 bytes of a
    /// name used to be sliced through (a panic that killed every run).
    #[test]
    fn multibyte_characters_near_the_end_are_not_sliced() {
        for key in [
            "prod/log-submit-20240115-100000-42-p-1€€€€.json",
            "prod/log-submit-20240115-100000-42-p-1-2024-01-1€.json",
            "prod/log-submit-20240115-100000-42-p-€-2024-01-15.json",
            "prod/log-submit-20240115-100000-42-€€€€€€€€€€€€.json",
            "prod/log-submit-20240115-100000-42-😀-😀.json",
            "prod/log-submit-20240115-100000-42-p-1-２０２４-01-15.json",
            "log-----------------------------.json",
            "log-submit-20240115-100000--.json",
        ] {
            let parsed = parse_name(key);
            let _ = reference_skip_reason(key);
            if let Ok(n) = parsed {
                assert!(key.contains(n.project_and_ptid), "{key}");
            }
        }
        let n = parse_name("prod/log-submit-20240115-100000-42-p-1€€€€.json").unwrap();
        assert_eq!(n.suffix, NameSuffix::VisitNumber("1€€€€"));
        assert_eq!(n.project_and_ptid, "p");
    }

    #[test]
    fn candidates() {
        assert!(is_event_candidate(CURRENT));
        assert!(is_event_candidate("prod/log-duplicate-submit-x.json"));
        assert!(!is_event_candidate(
            "prod/checkpoints/processing_state.json"
        ));
        assert!(!is_event_candidate("prod/log-submit-x.parquet"));
    }
}
