//! Write a generated ledger of N entries, for the scale benchmark
//! (`bench/ledger_scale.py`): as a snapshot (today's format) or as the
//! single file earlier versions kept.
//!
//!     cargo run --release -p eventlog-formats --example gen_ledger -- \
//!         snapshot|single N STATE_DIR
//!
//! Keys look like producer file names under `prod/`, in key order: four
//! actions, each with timestamps spread over 2020-01-01..2026-06-30, so
//! files logged later sort after the history of their action.

use chrono::{Duration, NaiveDate};
use eventlog_formats::ledger::{Entry, Outcome, SnapshotWriter};

const ACTIONS: [&str; 4] = ["delete", "not-pass-qc", "pass-qc", "submit"];

fn entry(i: u64, n: u64) -> Entry {
    let per = n.div_ceil(4);
    let (action, j) = (ACTIONS[(i / per) as usize], i % per);
    let span: i64 = 6 * 365 * 86_400;
    let start = NaiveDate::from_ymd_opt(2020, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("date");
    let at = start + Duration::seconds(j as i64 * span / per as i64);
    let stamp = at.format("%Y%m%d-%H%M%S");
    let visit = at.format("%Y-%m-%d");
    let key = format!(
        "prod/log-{action}-{stamp}-42-ingest-form-{}-{visit}.json",
        100_000 + i
    );
    Entry {
        key,
        etag: format!(
            "\"{:032x}\"",
            u128::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ),
        size: 400,
        sha256: Some(format!("{:064x}", u128::from(i) * 31)),
        outcome: Outcome::Merged,
        group: Some(String::from("adrc/form")),
        detail: None,
        run_id: String::from("20260101T000000.000000Z-00000000"),
        processed_at_micros: 1_767_225_600_000_000,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, format, n, state] = args.as_slice() else {
        eprintln!("usage: gen_ledger snapshot|single N STATE_DIR");
        std::process::exit(2);
    };
    let n: u64 = n.parse().expect("N");
    let state = std::path::Path::new(state);
    let (path, rows) = match format.as_str() {
        "snapshot" => (
            state.join("ledger/snapshots/00000000000000000000.parquet"),
            eventlog_formats::ledger::SNAPSHOT_ROW_GROUP,
        ),
        // Earlier versions wrote parquet's default row groups.
        "single" => (state.join("ledger.parquet"), 1 << 20),
        other => panic!("unknown format {other}"),
    };
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let file = std::fs::File::create(&path).expect("create");
    let mut w =
        SnapshotWriter::with_row_group(std::io::BufWriter::new(file), rows).expect("writer");
    for i in 0..n {
        w.push(entry(i, n)).expect("push");
    }
    let written = w.finish().expect("finish");
    println!("{written} entries -> {}", path.display());
}
