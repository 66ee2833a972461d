//! The report page: one HTML file, inline CSS and inline SVG charts
//! ([`crate::svg`]), no script, no font and no request. Each section opens
//! with its finding in a sentence, then a chart that needs no table beside
//! it (every category labelled where its mark is), then the numbers in a
//! table with words for headers. Each chart is drawn twice, for a desktop
//! and for a phone, and CSS shows the one that fits: never one picture
//! scaled down.

use std::collections::BTreeMap;

use crate::aggregate::Filter;
use crate::svg::{Bar, columns, esc, hbar_columns, hbars, number};
use crate::tables::{Table, Tables};

/// The widths charts are drawn at: the page's column on a desktop, and a
/// phone's (390 px less the margins).
const WIDE: f64 = 940.0;
const NARROW: f64 = 340.0;

const SUBMITTED: &str = "#2457c5";
const PASSED: &str = "#1f7a4d";
const FAILED: &str = "#b3261e";
const WAITING: &str = "#8a5a00";
const TIME: &str = "#6b3fa0";

fn num(c: &str) -> f64 {
    c.parse().unwrap_or(0.0)
}

fn whole(c: &str) -> u64 {
    c.parse().unwrap_or(0)
}

/// `1 event`, `2 events`.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A CSV header as words.
fn header_words(h: &str) -> &str {
    match h {
        "month" => "Month",
        "center_label" => "Center",
        "submitted" => "Submitted",
        "passed_qc" => "Passed QC",
        "failed_qc" => "Failed QC",
        "events" => "Events",
        "before_visit" => "QC dated before the visit",
        "mean_days" => "Mean days",
        "median_days" => "Median days",
        "p90_days" => "90th percentile, days",
        "visits" => "Visits",
        "latest_failed_qc" => "Latest event failed QC",
        "waiting_for_qc" => "Waiting for QC",
        "deleted" => "Deleted",
        "median_days_to_qc" => "Median days from submit to QC",
        "study" => "Study",
        "datatype" => "Datatype",
        other => other,
    }
}

/// A table of `rows` (cells as the CSV has them) under word headers, and
/// where all its rows are.
fn table_html(t: &Table, rows: &[Vec<String>]) -> String {
    table_of(&t.header, t.file, rows)
}

fn table_of(header: &[&str], file: &str, rows: &[Vec<String>]) -> String {
    let mut s = String::from("<div class=\"table\"><table><thead><tr>");
    for h in header {
        s.push_str(&format!("<th scope=\"col\">{}</th>", esc(header_words(h))));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let class = if i > 0 && c.parse::<f64>().is_ok() {
                " class=\"num\""
            } else {
                ""
            };
            s.push_str(&format!("<td{class}>{}</td>", esc(c)));
        }
        s.push_str("</tr>");
    }
    s.push_str(&format!(
        "</tbody></table></div><p class=\"file\">These numbers: <a href=\"{0}\">{0}</a></p>",
        file
    ));
    s
}

/// A chart drawn for both widths; CSS shows one.
fn figure(caption: &str, wide: String, narrow: String) -> String {
    format!(
        "<figure><figcaption>{}</figcaption><div class=\"wide\">{wide}</div><div class=\"narrow\">{narrow}</div></figure>",
        esc(caption)
    )
}

fn section(id: &str, title: &str, finding: &str, body: &str) -> String {
    format!(
        "<section id=\"{id}\"><h2>{}</h2><p class=\"finding\">{}</p>{body}</section>",
        esc(title),
        esc(finding)
    )
}

/// Months, summed over centers.
fn monthly_section(t: &Tables) -> String {
    let mut by_month: BTreeMap<&str, [f64; 3]> = BTreeMap::new();
    for r in &t.monthly.rows {
        let m = by_month.entry(r[0].as_str()).or_default();
        for k in 0..3 {
            m[k] += num(&r[2 + k]);
        }
    }
    let most = |k: usize| {
        by_month
            .iter()
            .max_by(|a, b| a.1[k].total_cmp(&b.1[k]).then(b.0.cmp(a.0)))
            .map(|(m, v)| (*m, v[k] as u64))
    };
    let mut finding = String::new();
    if let Some((m, n)) = most(0) {
        finding.push_str(&format!(
            "The busiest month was {m}, with {}. ",
            count(n, "visit event submitted", "visit events submitted")
        ));
    }
    match most(2) {
        Some((m, n)) if n > 0 => finding.push_str(&format!(
            "Most QC failures: {m} ({}).",
            count(n, "failure", "failures")
        )),
        _ => finding.push_str("No QC failures in these months."),
    }
    let mut body = String::new();
    for (k, (name, color)) in [
        ("Submitted", SUBMITTED),
        ("Passed QC", PASSED),
        ("Failed QC", FAILED),
    ]
    .into_iter()
    .enumerate()
    {
        let bars: Vec<Bar> = by_month.iter().map(|(m, v)| Bar::new(*m, v[k])).collect();
        let title = format!("{name} per visit month");
        body.push_str(&figure(
            &title,
            columns(&title, &bars, WIDE, 170.0, color),
            columns(&title, &bars, NARROW, 170.0, color),
        ));
    }
    let rows: Vec<Vec<String>> = by_month
        .iter()
        .map(|(m, v)| {
            let mut r = vec![m.to_string()];
            r.extend(v.iter().map(|x| number(*x, true)));
            r
        })
        .collect();
    body.push_str(&table_of(
        &["month", "submitted", "passed_qc", "failed_qc"],
        "monthly_by_center.csv",
        &rows,
    ));
    section(
        "monthly",
        "Submissions and QC by visit month",
        &finding,
        &body,
    )
}

/// QC failures per center, most first.
fn failures_section(t: &Tables) -> String {
    let mut by_center: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for r in &t.monthly.rows {
        let c = by_center.entry(r[1].as_str()).or_default();
        c.0 += whole(&r[3]) + whole(&r[4]);
        c.1 += whole(&r[4]);
    }
    let mut order: Vec<(&str, (u64, u64))> = by_center.into_iter().collect();
    order.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(b.0)));
    let finding = match order.first() {
        Some((c, (qc, failed))) if *failed > 0 => format!(
            "Most QC failures: {c}, {failed} of its {} ({:.0} %).",
            count(*qc, "QC event", "QC events"),
            *failed as f64 * 100.0 / (*qc).max(1) as f64
        ),
        _ => String::from("No center had a QC failure."),
    };
    let bars: Vec<Bar> = order
        .iter()
        .map(|(c, (qc, failed))| {
            Bar::new(*c, *failed as f64).with_note(format!("{failed} of {qc}"))
        })
        .collect();
    let title = "QC failures per center, of its QC events";
    let body = figure(
        title,
        hbars(title, &bars, WIDE, FAILED, true),
        hbars(title, &bars, NARROW, FAILED, true),
    );
    section("failures", "QC failures by center", &finding, &body)
}

/// Days from visit to QC per center, slowest first; QC events dated
/// before their visit are counted and named.
fn timing_section(t: &Tables) -> String {
    let mut rows: Vec<&Vec<String>> = t.timing.rows.iter().collect();
    rows.sort_by(|a, b| num(&b[4]).total_cmp(&num(&a[4])).then(a[0].cmp(&b[0])));
    let mut finding = match rows.first() {
        Some(r) => format!(
            "Slowest center: {}, a median of {} days from visit to QC. ",
            r[0],
            number(num(&r[4]), false)
        ),
        None => String::from("No QC events. "),
    };
    let events: u64 = rows.iter().map(|r| whole(&r[1])).sum();
    let early: Vec<(&str, u64)> = rows
        .iter()
        .map(|r| (r[0].as_str(), whole(&r[2])))
        .filter(|(_, n)| *n > 0)
        .collect();
    let early_total: u64 = early.iter().map(|(_, n)| n).sum();
    if early_total > 0 {
        let names: Vec<String> = early.iter().map(|(c, n)| format!("{c} ({n})")).collect();
        finding.push_str(&format!(
            "{early_total} of {} {} dated before their visit date: {}.",
            count(events, "QC event", "QC events"),
            if early_total == 1 { "is" } else { "are" },
            names.join(", ")
        ));
    } else if events > 0 {
        finding.push_str("No QC event is dated before its visit.");
    }
    let bars: Vec<Bar> = rows
        .iter()
        .map(|r| {
            Bar::new(r[0].as_str(), num(&r[4])).with_note(format!(
                "{} d (90 %: {} d)",
                number(num(&r[4]), false),
                number(num(&r[5]), false)
            ))
        })
        .collect();
    let title = "Median days from visit to QC per center";
    let mut body = figure(
        title,
        hbars(title, &bars, WIDE, TIME, false),
        hbars(title, &bars, NARROW, TIME, false),
    );
    body.push_str(&table_html(&t.timing, &t.timing.rows));
    section("timing", "Time from visit to QC by center", &finding, &body)
}

/// Where visits stand, per center: passed, failed, waiting for QC.
fn status_section(t: &Tables) -> String {
    let rows = &t.visit_status.rows;
    let waiting: u64 = rows.iter().map(|r| whole(&r[5])).sum();
    let visits: u64 = rows.iter().map(|r| whole(&r[1])).sum();
    let most = rows
        .iter()
        .max_by(|a, b| whole(&a[5]).cmp(&whole(&b[5])).then(b[0].cmp(&a[0])));
    let finding = match most {
        Some(r) if waiting > 0 => format!(
            "{} of {} {} waiting for QC, most at {} ({}).",
            waiting,
            count(visits, "visit", "visits"),
            if waiting == 1 { "is" } else { "are" },
            r[0],
            whole(&r[5])
        ),
        _ => format!(
            "None of the {} is waiting for QC.",
            count(visits, "visit", "visits")
        ),
    };
    let labels: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    let col = |k: usize| rows.iter().map(|r| num(&r[k])).collect::<Vec<f64>>();
    let measures = [
        ("Passed QC", col(3), PASSED),
        ("Failed QC", col(4), FAILED),
        ("Waiting for QC", col(5), WAITING),
    ];
    let title = "Visits per center by where they stand";
    let wide = hbar_columns(title, &labels, &measures, WIDE);
    // On a phone, one chart per measure, each with the centers' names.
    let narrow = measures
        .iter()
        .map(|(name, values, color)| {
            let bars: Vec<Bar> = labels
                .iter()
                .zip(values)
                .map(|(l, v)| Bar::new(l.as_str(), *v))
                .collect();
            format!(
                "<p class=\"sub\">{}</p>{}",
                esc(name),
                hbars(&format!("{title}: {name}"), &bars, NARROW, color, true)
            )
        })
        .collect::<String>();
    let mut body = figure(title, wide, narrow);
    body.push_str(&table_html(&t.visit_status, rows));
    section("status", "Where visits stand", &finding, &body)
}

/// Events per study and datatype.
fn totals_section(t: &Tables) -> String {
    let rows = &t.totals.rows;
    let total: u64 = rows.iter().map(|r| whole(&r[2])).sum();
    let top = rows
        .iter()
        .max_by(|a, b| whole(&a[2]).cmp(&whole(&b[2])).then(b[0].cmp(&a[0])));
    let finding = match top {
        Some(r) => format!(
            "{} in {}; the most in {} / {} ({}).",
            count(total, "event", "events"),
            count(
                rows.len() as u64,
                "study and datatype",
                "studies and datatypes"
            ),
            r[0],
            r[1],
            whole(&r[2])
        ),
        None => String::new(),
    };
    let bars: Vec<Bar> = rows
        .iter()
        .map(|r| Bar::new(format!("{} / {}", r[0], r[1]), num(&r[2])))
        .collect();
    let title = "Events per study and datatype";
    let mut body = figure(
        title,
        hbars(title, &bars, WIDE, SUBMITTED, true),
        hbars(title, &bars, NARROW, SUBMITTED, true),
    );
    body.push_str(&table_html(&t.totals, rows));
    section("totals", "By study and datatype", &finding, &body)
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1d2430;margin:0 auto;max-width:1000px;padding:16px;line-height:1.45}\
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:36px}.finding{font-size:1.05rem}\
figure{margin:16px 0}figcaption,.sub{font-weight:600;margin:8px 0 4px}\
svg{display:block;overflow:visible}svg .label,svg .value,svg .head{fill:#1d2430}svg .tick{fill:#4a5466}\
svg .grid{stroke:#e3e7ee}svg .zero{stroke:#4a5466}svg .head{font-weight:600}\
.narrow{display:none}@media (max-width:760px){.wide{display:none}.narrow{display:block}body{padding:16px 12px}}\
.table{overflow-x:auto;margin-top:12px}table{border-collapse:collapse;font-size:.9rem}\
th,td{border-bottom:1px solid #d8dde6;padding:4px 10px;text-align:left;vertical-align:top}\
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#eef1f5}\
.file,.meta{color:#4a5466;font-size:.9rem}\
@media print{.narrow{display:none}.wide{display:block}section{break-inside:avoid}}";

/// What the page covers, in words.
fn scope(filter: &Filter, source: &str) -> String {
    let months = match (&filter.from, &filter.to) {
        (None, None) => String::from("all visit months"),
        (Some(f), None) => format!("visit months from {f}"),
        (None, Some(t)) => format!("visit months up to {t}"),
        (Some(f), Some(t)) if f == t => format!("visit month {f}"),
        (Some(f), Some(t)) => format!("visit months {f} to {t}"),
    };
    let studies = if filter.studies.is_empty() {
        String::from("every study")
    } else {
        format!("study {}", filter.studies.join(", "))
    };
    format!("From the checkpoints in {source}: {months}, {studies}.")
}

/// The whole page.
pub fn html(t: &Tables, filter: &Filter, source: &str) -> String {
    let events: u64 = t.totals.rows.iter().map(|r| whole(&r[2])).sum();
    let body = if events == 0 {
        String::from(
            "<p class=\"finding\">No events in this range: nothing to count or draw. Try other months or studies.</p>",
        )
    } else {
        [
            status_section(t),
            failures_section(t),
            timing_section(t),
            monthly_section(t),
            totals_section(t),
        ]
        .concat()
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
<title>Visit events: monthly report</title><style>{STYLE}</style></head><body><main><h1>Visit events: monthly report</h1>\
<p class=\"meta\">{}</p>{body}<p class=\"file\">Every visit's latest event: <a href=\"latest_per_visit.csv\">latest_per_visit.csv</a>; by center: <a href=\"latest_by_center.csv\">latest_by_center.csv</a>.</p></main></body></html>\n",
        esc(&scope(filter, source))
    )
}
