//! Events validated per second on one core.
//!
//!     cargo bench -p eventlog-core --bench validate [-- COUNT]
//!
//! Generates COUNT (default 100 000) producer-style event files: compact
//! JSON in the producer's field order, a mix of datatypes, UTC/naive/offset
//! timestamps, about 5 % invalid. Prints a table. With
//! `EVENTLOG_BENCH_DUMP=FILE`, also writes the documents there, one per
//! line, for peers timed on the same data (bench/validate_peer.py).

use std::time::Instant;

use eventlog_core::json;
use eventlog_core::visit::{check_file, validate};

mod common;
use common::Rng;

fn event(r: &mut Rng) -> (String, Vec<u8>) {
    let actions = ["submit", "pass-qc", "not-pass-qc", "delete"];
    let action = actions[r.below(4) as usize];
    let (datatype, extra) = match r.below(10) {
        0..=5 => (
            "form",
            format!(
                ",\"module\":\"{}\",\"packet\":\"I\"",
                ["UDS", "FTLD", "LBD"][r.below(3) as usize]
            ),
        ),
        6 | 7 => ("dicom", String::from(",\"modality\":\"MR\"")),
        8 => ("enrollment", String::new()),
        _ => ("biomarker", String::new()),
    };
    let (y, mo, d, h, mi, s) = (
        2020 + r.below(6),
        1 + r.below(12),
        1 + r.below(28),
        r.below(24),
        r.below(60),
        r.below(60),
    );
    let ts = match r.below(3) {
        0 => format!("{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
        1 => format!("{y}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"),
        _ => format!(
            "{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:06}-05:00",
            r.below(1_000_000)
        ),
    };
    let adcid = r.below(60);
    let ptid = if r.below(20) == 0 {
        String::from("12345678901")
    } else {
        r.below(999_999).to_string()
    };
    let visit = format!("{y}-{:02}-{:02}", 1 + r.below(12), 1 + r.below(28));
    let body = format!(
        "{{\"action\":\"{action}\",\"study\":\"adrc\",\"project_label\":\"ingest-{datatype}\",\"center_label\":\"alpha\",\
\"gear_name\":\"form-qc-checker\",\"datatype\":\"{datatype}\",\"timestamp\":\"{ts}\",\"visit_date\":\"{visit}\",\
\"pipeline_adcid\":{adcid},\"ptid\":\"{ptid}\",\"naccid\":\"NACC{:06}\",\"visit_number\":\"01\"{extra}}}",
        r.below(999_999)
    );
    let key = format!(
        "prod/log-{action}-{y}{mo:02}{d:02}-{h:02}{mi:02}{s:02}-{adcid}-ingest-{datatype}-{ptid}-{visit}.json"
    );
    (key, body.into_bytes())
}

#[derive(Clone, Copy)]
enum Pass {
    Decode,
    Validate,
    CheckFile,
    Report,
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let files: Vec<(String, Vec<u8>)> = (0..count).map(|_| event(&mut r)).collect();
    let bytes: usize = files.iter().map(|f| f.1.len()).sum();
    if let Some(path) = std::env::var_os("EVENTLOG_BENCH_DUMP") {
        let mut out = Vec::with_capacity(bytes + count);
        for (_, body) in &files {
            out.extend_from_slice(body);
            out.push(b'\n');
        }
        std::fs::write(&path, out).expect("write the documents");
    }

    let mut rows = Vec::new();
    for (label, pass) in [
        ("JSON decode only (json::decode)", Pass::Decode),
        ("content only (validate)", Pass::Validate),
        ("content + file name (check_file)", Pass::CheckFile),
        // What the wasm build's validateJson does for a document.
        (
            "content + JSON report, no name (check_file(None).to_json)",
            Pass::Report,
        ),
    ] {
        // Warm up, then take the best of three passes.
        let mut best = f64::MAX;
        let mut valid = 0;
        for _ in 0..3 {
            let start = Instant::now();
            valid = 0;
            for (key, body) in &files {
                let ok = match pass {
                    Pass::Decode => json::decode(body).is_ok(),
                    Pass::Validate => validate(body).event.is_some(),
                    Pass::CheckFile => check_file(Some(key), body).valid,
                    Pass::Report => {
                        let r = check_file(None, body);
                        r.valid && !r.to_json().is_empty()
                    }
                };
                valid += usize::from(ok);
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        rows.push((label, valid, best));
    }
    println!("| pass | events | valid | seconds | events/s (1 core) | MB/s |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (label, valid, secs) in rows {
        println!(
            "| {label} | {count} | {valid} | {secs:.3} | {:.0} | {:.1} |",
            count as f64 / secs,
            bytes as f64 / secs / 1e6
        );
    }
}
