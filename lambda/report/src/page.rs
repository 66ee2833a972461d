//! The report page: one HTML file, inline CSS and inline SVG charts
//! (plotters), no script, no font and no request; each chart beside the
//! table of its numbers (the CSV rows) and a line saying what it shows.

use std::collections::BTreeMap;

use plotters::prelude::*;

use crate::aggregate::Filter;
use crate::tables::{Table, Tables};

const COLORS: [RGBColor; 6] = [
    RGBColor(36, 87, 197),
    RGBColor(31, 122, 77),
    RGBColor(179, 38, 30),
    RGBColor(138, 90, 0),
    RGBColor(107, 63, 160),
    RGBColor(0, 121, 140),
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Grouped bars: one group per label, one bar per series.
fn bars(labels: &[String], series: &[(&str, Vec<f64>)]) -> String {
    let mut svg = String::new();
    let max = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(0.0f64, f64::max)
        .max(1.0);
    let n = labels.len().max(1);
    let width = (120 + n * 18 * series.len().max(1)).clamp(480, 960) as u32;
    {
        let root = SVGBackend::with_string(&mut svg, (width, 300)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let Ok(mut chart) = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(60)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..n as f64, 0f64..max * 1.1)
        else {
            drop(root);
            return svg;
        };
        let _ = chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n.min(24))
            .x_label_formatter(&|x| {
                let i = x.floor() as usize;
                labels.get(i).cloned().unwrap_or_default()
            })
            .draw();
        let k = series.len().max(1) as f64;
        for (s, (name, values)) in series.iter().enumerate() {
            let color = COLORS[s % COLORS.len()];
            let w = 0.8 / k;
            let drawn = chart.draw_series(values.iter().enumerate().map(|(i, v)| {
                let x0 = i as f64 + 0.1 + s as f64 * w;
                Rectangle::new([(x0, 0.0), (x0 + w * 0.9, *v)], color.filled())
            }));
            if let Ok(d) = drawn {
                d.label(*name).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
            }
        }
        let _ = chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw();
        let _ = root.present();
    }
    svg
}

/// One line per series over the labels.
fn lines(labels: &[String], series: &[(String, Vec<f64>)]) -> String {
    let mut svg = String::new();
    let max = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(0.0f64, f64::max)
        .max(1.0);
    let n = labels.len().max(2);
    {
        let root = SVGBackend::with_string(&mut svg, (720, 300)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let Ok(mut chart) = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..(n - 1) as f64, 0f64..max * 1.1)
        else {
            drop(root);
            return svg;
        };
        let _ = chart
            .configure_mesh()
            .x_labels(n.min(12))
            .x_label_formatter(&|x| {
                let i = x.round() as usize;
                labels.get(i).cloned().unwrap_or_default()
            })
            .draw();
        for (s, (name, values)) in series.iter().enumerate() {
            let color = COLORS[s % COLORS.len()];
            let drawn = chart.draw_series(LineSeries::new(
                values.iter().enumerate().map(|(i, v)| (i as f64, *v)),
                color.stroke_width(2),
            ));
            if let Ok(d) = drawn {
                d.label(name.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 12, y)], color.stroke_width(2))
                });
            }
        }
        let _ = chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw();
        let _ = root.present();
    }
    svg
}

fn table_html(t: &Table, rows: &[Vec<String>]) -> String {
    let mut s = String::from("<div class=\"table\"><table><thead><tr>");
    for h in &t.header {
        s.push_str(&format!("<th scope=\"col\">{}</th>", esc(h)));
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
        "</tbody></table><p class=\"file\">All rows: <code>{}</code></p></div>",
        t.file
    ));
    s
}

fn section(id: &str, title: &str, reading: &str, svg: &str, table: &str) -> String {
    format!(
        "<section id=\"{id}\"><h2>{}</h2><p class=\"reading\">{}</p><div class=\"pair\"><figure>{svg}</figure>{table}</div></section>",
        esc(title),
        esc(reading)
    )
}

/// A section whose chart is grouped bars over `labels`.
fn bar_section(
    id: &str,
    title: &str,
    reading: &str,
    chart: (&[String], &[(&str, Vec<f64>)]),
    table: &Table,
    rows: &[Vec<String>],
) -> String {
    section(
        id,
        title,
        reading,
        &bars(chart.0, chart.1),
        &table_html(table, rows),
    )
}

fn num(c: &str) -> f64 {
    c.parse().unwrap_or(0.0)
}

fn monthly_section(t: &Tables) -> String {
    let mut by_month: BTreeMap<&str, [f64; 3]> = BTreeMap::new();
    for r in &t.monthly.rows {
        let m = by_month.entry(r[0].as_str()).or_default();
        for k in 0..3 {
            m[k] += num(&r[2 + k]);
        }
    }
    let labels: Vec<String> = by_month.keys().map(|m| m.to_string()).collect();
    let series: Vec<(&str, Vec<f64>)> = ["submitted", "passed QC", "failed QC"]
        .iter()
        .enumerate()
        .map(|(k, name)| (*name, by_month.values().map(|v| v[k]).collect()))
        .collect();
    let reading = match by_month.iter().next_back() {
        Some((m, v)) => format!(
            "Events per visit month, all centers. In {m}: {} submitted, {} passed QC, {} failed QC.",
            v[0], v[1], v[2]
        ),
        None => "No events in the chosen months.".into(),
    };
    bar_section(
        "monthly",
        "Events by visit month and center",
        &reading,
        (&labels, &series),
        &t.monthly,
        &t.monthly.rows,
    )
}

fn failures_section(t: &Tables) -> String {
    let months: Vec<String> = {
        let mut m: Vec<String> = t.monthly.rows.iter().map(|r| r[0].clone()).collect();
        m.dedup();
        m
    };
    let mut per_center: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
    for r in &t.monthly.rows {
        *per_center
            .entry(r[1].as_str())
            .or_default()
            .entry(r[0].as_str())
            .or_default() += num(&r[4]);
    }
    let mut ranked: Vec<(&str, f64)> = per_center
        .iter()
        .map(|(c, m)| (*c, m.values().sum()))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let series: Vec<(String, Vec<f64>)> = ranked
        .iter()
        .take(6)
        .map(|(c, _)| {
            let m = &per_center[c];
            (
                c.to_string(),
                months
                    .iter()
                    .map(|x| m.get(x.as_str()).copied().unwrap_or(0.0))
                    .collect(),
            )
        })
        .collect();
    let rows: Vec<Vec<String>> = t
        .monthly
        .rows
        .iter()
        .filter(|r| r[4] != "0")
        .cloned()
        .collect();
    let reading = match ranked.first() {
        Some((c, n)) if *n > 0.0 => format!(
            "Failed QC per center and visit month (the six centers with the most). Most failures: {c}, {n} in all."
        ),
        _ => "No failed QC in the chosen months.".into(),
    };
    section(
        "failures",
        "Failed QC per center per month",
        &reading,
        &lines(&months, &series),
        &table_html(&t.monthly, &rows),
    )
}

fn timing_section(t: &Tables) -> String {
    let labels: Vec<String> = t.timing.rows.iter().map(|r| r[0].clone()).collect();
    let series = vec![
        (
            "median days",
            t.timing.rows.iter().map(|r| num(&r[3])).collect(),
        ),
        (
            "90th percentile",
            t.timing.rows.iter().map(|r| num(&r[4])).collect(),
        ),
    ];
    let slowest = t
        .timing
        .rows
        .iter()
        .max_by(|a, b| num(&a[3]).total_cmp(&num(&b[3])));
    let reading = match slowest {
        Some(r) => format!(
            "Days from the visit date to each QC event, per center. Slowest median: {}, {} days (90% within {} days).",
            r[0], r[3], r[4]
        ),
        None => "No QC events in the chosen months.".into(),
    };
    bar_section(
        "timing",
        "QC timing per center",
        &reading,
        (&labels, &series),
        &t.timing,
        &t.timing.rows,
    )
}

fn latest_section(t: &Tables) -> String {
    let rows = &t.latest_by_center.rows;
    let labels: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    let series = vec![
        (
            "latest event failed QC",
            rows.iter().map(|r| num(&r[2])).collect(),
        ),
        ("waiting for QC", rows.iter().map(|r| num(&r[3])).collect()),
    ];
    let failed: f64 = rows.iter().map(|r| num(&r[2])).sum();
    let waiting: f64 = rows.iter().map(|r| num(&r[3])).sum();
    let visits: f64 = rows.iter().map(|r| num(&r[1])).sum();
    bar_section(
        "latest",
        "Visits by their latest event",
        &format!(
            "Of {visits} visits, {failed} end in a failed QC and {waiting} are waiting for QC (latest event a submission), by center. Every visit's latest event is in latest_per_visit.csv."
        ),
        (&labels, &series),
        &t.latest_by_center,
        rows,
    )
}

fn totals_section(t: &Tables) -> String {
    let rows = &t.totals.rows;
    let labels: Vec<String> = rows.iter().map(|r| format!("{}/{}", r[0], r[1])).collect();
    let series = vec![("events", rows.iter().map(|r| num(&r[2])).collect())];
    let total: f64 = rows.iter().map(|r| num(&r[2])).sum();
    bar_section(
        "totals",
        "Per study and datatype",
        &format!(
            "{total} events in {} study and datatype groups.",
            rows.len()
        ),
        (&labels, &series),
        &t.totals,
        rows,
    )
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1d2430;margin:0 auto;max-width:1200px;padding:16px}\
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:32px}.reading{color:#3a4556}\
.pair{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}figure{margin:0;flex:1 1 480px;min-width:0}\
figure svg{max-width:100%;height:auto}.table{flex:1 1 320px;max-height:420px;overflow:auto;min-width:0}\
table{border-collapse:collapse;width:100%;font-size:.85rem}th,td{border-bottom:1px solid #d8dde6;padding:4px 8px;text-align:left}\
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#eef1f5;position:sticky;top:0}\
.file{color:#5b6576;font-size:.8rem}.meta{color:#5b6576}\
@media (max-width:420px){body{padding:8px}.pair{display:block}.table{max-height:none}}\
@media print{.table{max-height:none;overflow:visible}section{break-inside:avoid}}";

/// The whole page.
pub fn html(t: &Tables, filter: &Filter, source: &str) -> String {
    let scope = format!(
        "Checkpoints: {}. Visit months: {} to {}. Studies: {}.",
        source,
        filter.from.as_deref().unwrap_or("the first"),
        filter.to.as_deref().unwrap_or("the last"),
        if filter.studies.is_empty() {
            "all".to_string()
        } else {
            filter.studies.join(", ")
        }
    );
    let body = [
        monthly_section(t),
        failures_section(t),
        timing_section(t),
        latest_section(t),
        totals_section(t),
    ]
    .concat();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
<title>Visit events: monthly report</title><style>{STYLE}</style></head><body><h1>Visit events: monthly report</h1>\
<p class=\"meta\">{}</p>{body}</body></html>\n",
        esc(&scope)
    )
}
