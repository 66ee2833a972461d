//! The report's tables, as rows of text cells: the CSV files and the tables
//! beside the charts are the same cells, so every number on the page is in
//! a CSV file.

use crate::aggregate::Numbers;

/// One table: a file name, a header and rows of cells.
#[derive(Debug, Clone)]
pub struct Table {
    pub file: &'static str,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn csv(&self) -> String {
        let mut out = self.header.join(",");
        out.push('\n');
        for r in &self.rows {
            let cells: Vec<String> = r.iter().map(|c| csv_field(c).into_owned()).collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }
}

fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// Days with two decimals (never `-0.00`).
pub fn days(d: f64) -> String {
    let s = format!("{d:.2}");
    if s == "-0.00" {
        String::from("0.00")
    } else {
        s
    }
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, written by hand: chrono's `format`
/// parses its pattern again for every one of half a million rows.
fn write_timestamp(out: &mut String, micros: i64) {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write as _;
    let Some(t) = chrono::DateTime::from_timestamp_micros(micros) else {
        return;
    };
    let (y, mo, d) = (t.year(), t.month(), t.day());
    let (h, mi, se) = (t.hour(), t.minute(), t.second());
    let frac = t.timestamp_subsec_micros();
    if (0..=9999).contains(&y) {
        let digits = |out: &mut String, v: u32, width: usize| {
            let mut buf = [b'0'; 6];
            let mut v = v;
            for i in (0..width).rev() {
                buf[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
            out.push_str(std::str::from_utf8(&buf[..width]).unwrap_or_default());
        };
        digits(out, y as u32, 4);
        out.push('-');
        digits(out, mo, 2);
        out.push('-');
        digits(out, d, 2);
        out.push('T');
        digits(out, h, 2);
        out.push(':');
        digits(out, mi, 2);
        out.push(':');
        digits(out, se, 2);
        out.push('.');
        digits(out, frac, 6);
        out.push('Z');
    } else {
        // Outside four-digit years, as chrono writes them (sign, more digits).
        let _ = write!(out, "{}", t.format("%Y-%m-%dT%H:%M:%S%.6fZ"));
    }
}

/// Every table of the report.
#[derive(Debug, Clone)]
pub struct Tables {
    pub monthly: Table,
    pub timing: Table,
    /// `latest_per_visit.csv`, as text: a row per visit is too many to keep
    /// as cells (and the page shows it only by center).
    pub latest_csv: String,
    pub latest_by_center: Table,
    pub visit_status: Table,
    pub totals: Table,
}

impl Tables {
    pub fn from(n: &Numbers) -> Tables {
        Tables {
            monthly: monthly(n),
            timing: timing(n),
            latest_csv: latest_csv(n),
            latest_by_center: latest_by_center(n),
            visit_status: visit_status(n),
            totals: totals(n),
        }
    }

    pub fn csv_files(&self) -> Vec<(&'static str, String)> {
        let mut files: Vec<(&'static str, String)> = [
            &self.monthly,
            &self.timing,
            &self.latest_by_center,
            &self.visit_status,
            &self.totals,
        ]
        .iter()
        .map(|t| (t.file, t.csv()))
        .collect();
        files.push((LATEST_FILE, self.latest_csv.clone()));
        files
    }
}

fn monthly(n: &Numbers) -> Table {
    Table {
        file: "monthly_by_center.csv",
        header: vec![
            "month",
            "center_label",
            "submitted",
            "passed_qc",
            "failed_qc",
        ],
        rows: n
            .monthly()
            .iter()
            .map(|((month, center), m)| {
                vec![
                    month.to_string(),
                    center.to_string(),
                    m.submitted.to_string(),
                    m.passed_qc.to_string(),
                    m.failed_qc.to_string(),
                ]
            })
            .collect(),
    }
}

fn timing(n: &Numbers) -> Table {
    Table {
        file: "qc_timing.csv",
        header: vec![
            "center_label",
            "events",
            "before_visit",
            "mean_days",
            "median_days",
            "p90_days",
        ],
        rows: n
            .timing()
            .into_iter()
            .map(|t| {
                vec![
                    t.center_label,
                    t.events.to_string(),
                    t.before_visit.to_string(),
                    days(t.mean_days),
                    days(t.median_days),
                    days(t.p90_days),
                ]
            })
            .collect(),
    }
}

const LATEST_FILE: &str = "latest_per_visit.csv";

/// Every visit's latest event, by time, written straight to text.
fn latest_csv(n: &Numbers) -> String {
    use std::fmt::Write as _;
    let mut out = String::from(
        "ptid,visit_date,visit_number,center_label,study,datatype,module,action,timestamp\n",
    );
    let name = |id| csv_field(n.names.get(id));
    for (visit, l) in n.latest_sorted() {
        let (ptid, date, number) = crate::aggregate::visit_parts(visit);
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{},",
            csv_field(ptid),
            csv_field(date),
            csv_field(number.unwrap_or_default()),
            name(l.center_label),
            name(l.study),
            name(l.datatype),
            l.module.map(name).unwrap_or_default(),
            name(l.action),
        );
        write_timestamp(&mut out, l.timestamp);
        out.push('\n');
    }
    out
}

fn latest_by_center(n: &Numbers) -> Table {
    Table {
        file: "latest_by_center.csv",
        header: vec![
            "center_label",
            "visits",
            "latest_failed_qc",
            "waiting_for_qc",
        ],
        rows: n
            .latest_by_center()
            .into_iter()
            .map(|(c, l)| {
                vec![
                    c,
                    l.visits.to_string(),
                    l.failed_qc.to_string(),
                    l.waiting_for_qc.to_string(),
                ]
            })
            .collect(),
    }
}

/// Where each center's visits stand; see [`Numbers::visit_status`].
fn visit_status(n: &Numbers) -> Table {
    Table {
        file: "visit_status.csv",
        header: vec![
            "center_label",
            "visits",
            "submitted",
            "passed_qc",
            "failed_qc",
            "waiting_for_qc",
            "deleted",
            "median_days_to_qc",
        ],
        rows: n
            .visit_status()
            .into_iter()
            .map(|(c, v)| {
                let median = crate::aggregate::quantile(&v.days_to_qc, 0.5);
                vec![
                    c,
                    v.visits.to_string(),
                    v.submitted.to_string(),
                    v.passed.to_string(),
                    v.failed.to_string(),
                    v.waiting.to_string(),
                    v.deleted.to_string(),
                    if median.is_nan() {
                        String::new()
                    } else {
                        days(median)
                    },
                ]
            })
            .collect(),
    }
}

fn totals(n: &Numbers) -> Table {
    Table {
        file: "totals_by_study_datatype.csv",
        header: vec![
            "study",
            "datatype",
            "events",
            "submitted",
            "passed_qc",
            "failed_qc",
            "deleted",
        ],
        rows: n
            .totals()
            .iter()
            .map(|((study, datatype), t)| {
                vec![
                    study.to_string(),
                    datatype.to_string(),
                    t.events.to_string(),
                    t.submitted.to_string(),
                    t.passed_qc.to_string(),
                    t.failed_qc.to_string(),
                    t.deleted.to_string(),
                ]
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timestamp(micros: i64) -> String {
        let mut s = String::new();
        write_timestamp(&mut s, micros);
        s
    }

    #[test]
    fn timestamps_are_written_as_chrono_formats_them() {
        for micros in [
            0,
            1,
            -1,
            1_740_005_620_000_000,
            1_740_005_620_123_456,
            -62_135_596_800_000_000,
            253_402_300_799_999_999,
            253_402_300_800_000_000,
            -62_135_596_800_000_001,
        ] {
            let want = chrono::DateTime::from_timestamp_micros(micros)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string();
            assert_eq!(timestamp(micros), want, "{micros}");
        }
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let t = Table {
            file: "x.csv",
            header: vec!["a", "b"],
            rows: vec![vec!["x,y".into(), "say \"hi\"".into()]],
        };
        assert_eq!(t.csv(), "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n");
    }
}
