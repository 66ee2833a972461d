//! The checkpoint pipeline's scenarios, written once and run against every
//! backend (local directory, S3).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::backend::Backend;
use crate::rows::order_key;
use crate::testdata;

pub type Make<'a> = &'a dyn Fn() -> Box<dyn Backend>;

/// The golden set's expected rows per group, from the oracle.
pub fn expected() -> (Value, BTreeMap<String, Vec<Value>>) {
    let text = std::fs::read_to_string(testdata("visit-events/golden/expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let groups = v["groups"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, rows)| (k.clone(), rows.as_array().unwrap().clone()))
        .collect();
    (v["counts"].clone(), groups)
}

fn golden_files() -> std::path::PathBuf {
    testdata("visit-events/golden/files")
}

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Rows equal, and each group in (timestamp, ptid, action) order.
pub fn assert_rows(b: &dyn Backend, want: &BTreeMap<String, Vec<Value>>) {
    let got = b.rows();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "[{}] groups",
        b.name()
    );
    for (g, rows) in &got {
        let keys: Vec<_> = rows.iter().map(order_key).collect();
        assert!(
            keys.windows(2).all(|w| w[0] <= w[1]),
            "[{}] {g} not sorted",
            b.name()
        );
        let mut a: Vec<String> = rows.iter().map(Value::to_string).collect();
        let mut e: Vec<String> = want[g].iter().map(Value::to_string).collect();
        a.sort();
        e.sort();
        assert_eq!(a, e, "[{}] rows of {g}", b.name());
    }
}

fn run_ok(b: &dyn Backend) -> Value {
    let (out, summary) = b.run(&[]);
    let s = summary.unwrap_or_else(|| {
        panic!(
            "[{}] no summary; exit {:?}; stderr: {}",
            b.name(),
            code(&out),
            stderr(&out)
        )
    });
    assert_ne!(code(&out), Some(2), "[{}] run failed: {s}", b.name());
    s
}

fn event_text(ptid: &str, ts: &str, packet: &str, project: &str) -> String {
    format!(
        r#"{{"action":"submit","study":"adrc","project_label":"{project}","center_label":"alpha","gear_name":"identifier-lookup","datatype":"form","timestamp":"{ts}","visit_date":"2024-03-01","pipeline_adcid":42,"ptid":"{ptid}","module":"UDS","packet":"{packet}"}}"#
    )
}

/// First run over the golden set: exactly the oracle's rows, bad files
/// reported, exit code "partial" because of them.
pub fn golden_first_run(make: Make) {
    let b = make();
    b.put_tree(&golden_files());
    let (out, summary) = b.run(&[]);
    let s = summary.unwrap_or_else(|| panic!("no summary: {}", stderr(&out)));
    assert_eq!(
        code(&out),
        Some(1),
        "[{}] invalid files make the run partial: {s}",
        b.name()
    );
    let (counts, want) = expected();
    assert_eq!(s["listed"], counts["files"]);
    assert_eq!(s["valid_events"], counts["valid"], "{s}");
    assert_eq!(s["invalid"], counts["invalid"]);
    assert_eq!(s["filtered"], counts["filtered"]);
    assert_eq!(s["skipped_names"], counts["skipped"]);
    assert_eq!(s["status"], "partial");
    assert_rows(b.as_ref(), &want);
    let errors = b.errors_files();
    assert_eq!(errors.len(), 1);
    let lines: Vec<Value> = errors[0]
        .1
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let prefix = b.recorded_key("prod/");
    assert!(
        lines
            .iter()
            .all(|l| !l["errors"].as_array().unwrap().is_empty()
                && l["key"].as_str().unwrap().starts_with(&prefix))
    );
    let ledger = b.ledger();
    assert_eq!(ledger.len(), 60, "every object is recorded");
    assert_eq!(ledger.values().filter(|(o, _)| o == "merged").count(), 54);
    assert_eq!(ledger[&b.recorded_key("prod/README.txt")].0, "skipped");
}

/// A second run with nothing new reads nothing and rewrites nothing.
pub fn no_new_files(make: Make) {
    let b = make();
    b.put_tree(&golden_files());
    run_ok(b.as_ref());
    let before = b.state_fingerprint();
    let (out, summary) = b.run(&[]);
    let s = summary.unwrap();
    assert_eq!(code(&out), Some(0), "{s}");
    assert_eq!(s["new_objects"], 0);
    assert_eq!(s["valid_events"], 0);
    assert_eq!(s["already_processed"], 60, "{s}");
    assert_eq!(
        before,
        b.state_fingerprint(),
        "[{}] nothing may be rewritten",
        b.name()
    );
    assert!(b.errors_files().len() == 1, "no new errors file");
}

/// A file written later but carrying an old event time is processed.
pub fn backfill(make: Make) {
    let b = make();
    b.put_tree(&golden_files());
    run_ok(b.as_ref());
    let text = event_text("B1", "2001-02-03T04:05:06Z", "I", "ingest-form");
    b.put_source(
        "prod/log-submit-20010203-040506-42-ingest-form-B1-2024-03-01.json",
        text.as_bytes(),
    );
    let s = run_ok(b.as_ref());
    assert_eq!(s["events_added"], 1, "{s}");
    let rows = &b.rows()["adrc/form"];
    assert_eq!(rows[0]["ptid"], "B1", "the backfill sorts first");
    assert_eq!(rows[0]["timestamp"], "2001-02-03T04:05:06Z");
}

/// The same event again under another key adds nothing.
pub fn duplicate_under_new_key(make: Make) {
    let b = make();
    b.put_tree(&golden_files());
    run_ok(b.as_ref());
    let before = b.rows();
    let src = golden_files()
        .join("prod/log-submit-20250318-202250-42-ingest-form-899485-2025-03-03.json");
    b.put_source(
        "prod/redelivered/log-submit-20250318-202250-42-ingest-form-899485-2025-03-03.json",
        &std::fs::read(src).unwrap(),
    );
    let s = run_ok(b.as_ref());
    assert_eq!(s["valid_events"], 1);
    assert_eq!(s["events_added"], 0, "{s}");
    assert_eq!(s["events_replaced"], 0);
    assert_eq!(s["groups"][0]["status"], "unchanged");
    assert_eq!(before, b.rows());
    assert_eq!(
        b.ledger()[&b.recorded_key(
            "prod/redelivered/log-submit-20250318-202250-42-ingest-form-899485-2025-03-03.json"
        )]
            .0,
        "merged"
    );
}

/// A corrected version of an event replaces its row.
pub fn corrected_event(make: Make) {
    let b = make();
    b.put_source(
        "prod/log-submit-20240301-100000-42-ingest-form-C1-2024-03-01.json",
        event_text("C1", "2024-03-01T10:00:00Z", "I", "ingest-form").as_bytes(),
    );
    run_ok(b.as_ref());
    b.put_source(
        "prod/fix/log-submit-20240301-100000-42-ingest-form-C1-2024-03-01.json",
        event_text("C1", "2024-03-01T10:00:00Z", "F", "ingest-form").as_bytes(),
    );
    let s = run_ok(b.as_ref());
    assert_eq!(s["events_replaced"], 1, "{s}");
    assert_eq!(s["events_added"], 0);
    let rows = &b.rows()["adrc/form"];
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["packet"], "F");
}

/// Sandbox projects are counted and dropped.
pub fn sandbox(make: Make) {
    let b = make();
    b.put_source(
        "prod/log-submit-20240301-100000-42-sandbox-form-S1-2024-03-01.json",
        event_text("S1", "2024-03-01T10:00:00Z", "I", "sandbox-form").as_bytes(),
    );
    b.put_source(
        "prod/log-submit-20240301-100001-42-Sandbox-form-S2-2024-03-01.json",
        event_text("S2", "2024-03-01T10:00:01Z", "I", "Sandbox-form").as_bytes(),
    );
    let s = run_ok(b.as_ref());
    assert_eq!(
        s["filtered"], 1,
        "the filter is case-sensitive, as the reference's: {s}"
    );
    let rows = b.rows();
    assert_eq!(rows["adrc/form"].len(), 1);
    assert_eq!(rows["adrc/form"][0]["ptid"], "S2");
    assert_eq!(
        b.ledger()
            [&b.recorded_key("prod/log-submit-20240301-100000-42-sandbox-form-S1-2024-03-01.json")]
            .0,
        "filtered"
    );
}

/// Bad files are reported and never stop the good ones; invalid ones are
/// not read again, unreadable ones are retried.
pub fn invalid_and_unreadable(make: Make) {
    let b = make();
    b.put_source(
        "prod/log-submit-20240301-100000-42-ingest-form-G1-2024-03-01.json",
        event_text("G1", "2024-03-01T10:00:00Z", "I", "ingest-form").as_bytes(),
    );
    b.put_source(
        "prod/log-submit-20240301-100001-42-ingest-form-G2-2024-03-01.json",
        b"{\"action\": \"submit\"",
    );
    b.put_source(
        "prod/log-submit-20240301-100002-42-ingest-form-G3-2024-03-01.json",
        event_text("G3", "not a time", "I", "ingest-form").as_bytes(),
    );
    b.put_source(
        "prod/log-submit-20240301-100003-42-ingest-form-G4-2024-03-01.json",
        &vec![b' '; 2 << 20],
    );
    let unreadable =
        b.put_unreadable("prod/log-submit-20240301-100004-42-ingest-form-G5-2024-03-01.json");
    b.put_source(
        "prod/log-submit-20240301-100005-42-ingest-form-G6-2024-03-01.json",
        event_text("G6", "2024-03-01T10:00:05Z", "I", "ingest-form").as_bytes(),
    );
    let (out, summary) = b.run(&[]);
    let s = summary.unwrap();
    assert_eq!(code(&out), Some(1), "{s}");
    assert_eq!(s["invalid"], 2);
    assert_eq!(s["too_large"], 1);
    assert_eq!(s["unreadable"], usize::from(unreadable));
    let rows = &b.rows()["adrc/form"];
    assert_eq!(
        rows.iter()
            .map(|r| r["ptid"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["G1", "G6"]
    );
    let errors = &b.errors_files()[0].1;
    let fields: Vec<String> = errors
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|l| {
            format!(
                "{}:{}",
                l["key"].as_str().unwrap().rsplit('-').nth(3).unwrap(),
                l["errors"][0]["field"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        fields.contains(&"G2:__json__".to_string()) && fields.contains(&"G3:timestamp".to_string()),
        "{fields:?}"
    );
    let s2 = run_ok(b.as_ref());
    assert_eq!(
        s2["invalid"], 0,
        "invalid files are recorded, not re-read: {s2}"
    );
    assert_eq!(s2["too_large"], 0);
    assert_eq!(
        s2["unreadable"],
        usize::from(unreadable),
        "unreadable files are retried"
    );
}

/// Crash at `point`, then a clean run: the same rows as one clean run.
pub fn crash_then_recover(make: Make, point: &str) {
    let b = make();
    b.put_tree(&golden_files());
    let (out, _) = b.run(&[("EVENTLOG_CRASH_AT", point)]);
    assert!(
        !out.status.success() && out.status.code() != Some(1),
        "[{}] crash at {point} did not abort: {:?}",
        b.name(),
        out.status
    );
    let (out, summary) = b.run(&[]);
    let s =
        summary.unwrap_or_else(|| panic!("no summary after crash at {point}: {}", stderr(&out)));
    assert_ne!(code(&out), Some(2), "{s}");
    let (_, want) = expected();
    assert_rows(b.as_ref(), &want);
    assert_eq!(
        b.ledger().len(),
        60,
        "[{}] after crash at {point}",
        b.name()
    );
    let s = run_ok(b.as_ref());
    assert_eq!(
        s["new_objects"],
        0,
        "[{}] a third run has nothing to do after crash at {point}",
        b.name()
    );
}

/// `n` runs at once on the same source and checkpoints. Returns how many
/// conditional writes lost a race and were redone.
pub fn parallel_runs(make: Make, n: usize) -> u64 {
    let b = make();
    b.put_tree(&golden_files());
    let children: Vec<_> = (0..n)
        .map(|_| {
            b.command(&[])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut conflicts = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        let s: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("no summary: {}", stderr(&out)));
        assert_ne!(
            code(&out),
            Some(2),
            "[{}] a parallel run failed: {s}",
            b.name()
        );
        conflicts += s["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["conflicts"].as_u64().unwrap())
            .sum::<u64>()
            + s["ledger"]["conflicts"].as_u64().unwrap();
    }
    let (_, want) = expected();
    assert_rows(b.as_ref(), &want);
    assert_eq!(b.ledger().len(), 60);
    eprintln!(
        "[{}] {n} parallel runs: {conflicts} commit conflicts resolved",
        b.name()
    );
    conflicts
}
