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
    let prefix = b.recorded_key("prod/");
    assert!(
        lines
            .iter()
            .all(|l| l["key"].as_str().unwrap().starts_with(&prefix))
    );
    // Every invalid file, with its errors; and every valid one whose name
    // disagrees with its content, with the findings.
    let invalid: Vec<&Value> = lines.iter().filter(|l| l["problem"] == "invalid").collect();
    assert_eq!(invalid.len(), 3);
    assert!(
        invalid
            .iter()
            .all(|l| !l["errors"].as_array().unwrap().is_empty())
    );
    let mismatched: Vec<String> = lines
        .iter()
        .filter(|l| l["problem"] == "name_mismatch")
        .map(|l| {
            assert!(!l["name_findings"].as_array().unwrap().is_empty(), "{l}");
            l["key"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(invalid.len() + mismatched.len(), lines.len(), "{lines:?}");
    let mut want_mismatched: Vec<String> = crate::backend::walk(&golden_files())
        .into_iter()
        .filter_map(|p| {
            let rel = p
                .strip_prefix(golden_files())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let report = eventlog_core::visit::check_file(Some(&rel), &std::fs::read(&p).unwrap());
            (report.valid && report.name_findings.is_some_and(|f| !f.is_empty()))
                .then(|| b.recorded_key(&rel))
        })
        .collect();
    let mut mismatched = mismatched;
    mismatched.sort();
    want_mismatched.sort();
    assert!(
        !want_mismatched.is_empty(),
        "the golden set has mismatching names"
    );
    assert_eq!(mismatched, want_mismatched);
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
/// The crashing run compacts the ledger (after one segment), so the
/// compaction's points are reached too.
pub fn crash_then_recover(make: Make, point: &str) {
    let b = make();
    b.put_tree(&golden_files());
    let (out, _) = b.run(&[
        ("EVENTLOG_CRASH_AT", point),
        ("EVENTLOG_LEDGER_COMPACT_SEGMENTS", "1"),
    ]);
    assert!(
        !out.status.success() && out.status.code() != Some(1),
        "[{}] crash at {point} did not abort: {:?} (the binaries must be built with --features eventlog/fault-injection, as scripts/test.sh does)",
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

fn errors_lines(b: &dyn Backend) -> Vec<Value> {
    b.errors_files()
        .iter()
        .flat_map(|(_, text)| {
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect()
}

/// Hostile names beside good files: every good file is merged, each hostile
/// one is reported, the run is partial (exit 1), never a crash. A panic in
/// one file's check (injected in test builds) is that file's internal
/// error: reported with its key, left unrecorded, retried next run.
pub fn hostile_names(make: Make) {
    use crate::hostile;
    let b = make();
    let mut want: Vec<String> = Vec::new();
    for i in 0..3 {
        let ptid = format!("G{i}");
        b.put_source(
            &format!("prod/log-submit-20240301-10000{i}-42-ingest-form-{ptid}-2024-03-01.json"),
            hostile::event(&ptid).as_bytes(),
        );
        want.push(ptid);
    }
    let mut named: Vec<String> = Vec::new();
    for (i, n) in hostile::names().iter().enumerate() {
        let ptid = format!("H{i}");
        b.put_source(&format!("prod/{n}"), hostile::event(&ptid).as_bytes());
        named.push(b.recorded_key(&format!("prod/{n}")));
        want.push(ptid);
    }
    if let Some(key) = b.put_source_raw_name(
        b"prod/log-submit-\xff\xfe-2024-01-15.json",
        hostile::event("R1").as_bytes(),
    ) {
        named.push(b.recorded_key(&key));
        want.push("R1".into());
    }
    let broken = "prod/log-submit-20240115-100000-42-p-😀-1.json";
    b.put_source(broken, b"{\"action\": \"sub");
    let panicking = format!(
        "prod/log-submit-20240115-100000-42-p-{}-2024-01-15.json",
        hostile::PANIC_MARKER
    );
    b.put_source(&panicking, hostile::event("P1").as_bytes());
    b.put_source("prod/------------", hostile::event("S1").as_bytes());

    let (out, summary) = b.run(&[]);
    let s = summary.unwrap_or_else(|| {
        panic!(
            "[{}] no summary (crash?): {:?} {}",
            b.name(),
            out.status,
            stderr(&out)
        )
    });
    assert_eq!(code(&out), Some(1), "[{}] {s}", b.name());
    assert_eq!(s["internal_errors"], 1, "{s}");
    assert_eq!(s["invalid"], 1, "{s}");
    assert_eq!(s["skipped_names"], 1, "{s}");
    let mut got: Vec<String> = b.rows()["adrc/form"]
        .iter()
        .map(|r| r["ptid"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    want.sort();
    assert_eq!(
        got,
        want,
        "[{}] every good and every merely odd-named file is merged",
        b.name()
    );

    let lines = errors_lines(b.as_ref());
    let problem = |key: &str| {
        lines
            .iter()
            .find(|l| l["key"] == key)
            .map(|l| l["problem"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("[{}] {key:?} not in the errors file: {lines:?}", b.name()))
    };
    assert_eq!(problem(&b.recorded_key(&panicking)), "internal_error");
    assert_eq!(problem(&b.recorded_key(broken)), "invalid");
    for k in &named {
        assert_eq!(problem(k), "name_mismatch", "[{}] {k}", b.name());
    }
    let ledger = b.ledger();
    assert!(
        !ledger.contains_key(&b.recorded_key(&panicking)),
        "an internal error is not recorded"
    );
    assert_eq!(ledger[&b.recorded_key(broken)].0, "invalid");

    // Next run: only the file we failed on is tried again.
    let before = b.rows();
    let (out, summary) = b.run(&[]);
    let s = summary.unwrap_or_else(|| panic!("no summary: {}", stderr(&out)));
    assert_eq!(code(&out), Some(1), "{s}");
    assert_eq!(s["new_objects"], 1, "{s}");
    assert_eq!(s["internal_errors"], 1, "{s}");
    assert_eq!(before, b.rows());
}

/// A checkpoint that exists but cannot be read (truncated, a foreign file
/// with the wrong column types, or a footer that would hold the parquet
/// crate in empty loops for minutes), then a ledger that cannot be read:
/// the run fails naming the object, and nothing is overwritten.
pub fn corrupt_state(make: Make) {
    let b = make();
    b.put_tree(&golden_files());
    run_ok(b.as_ref());
    let ck = "adrc/form/events.parquet";
    let good = b.checkpoint_objects()[ck].clone();
    let new_key = "prod/log-submit-20240301-100000-42-ingest-form-K1-2024-03-01.json";
    b.put_source(
        new_key,
        event_text("K1", "2024-03-01T10:00:00Z", "I", "ingest-form").as_bytes(),
    );
    for (what, damaged, needle) in [
        (
            "truncated",
            good[..good.len() / 2].to_vec(),
            "not a readable parquet checkpoint",
        ),
        (
            "int ptid",
            crate::rows::checkpoint_with_int_ptid(),
            "column `ptid`",
        ),
        (
            "a footer of boolean lists",
            crate::rows::with_footer_of_boolean_lists(&good),
            "the footer: a collection declares 2147483647 elements",
        ),
    ] {
        b.put_checkpoint(ck, &damaged);
        let (out, summary) = b.run(&[]);
        let s = summary
            .unwrap_or_else(|| panic!("[{}] {what}: no summary: {}", b.name(), stderr(&out)));
        assert_eq!(
            code(&out),
            Some(2),
            "[{}] {what}: the only group failed: {s}",
            b.name()
        );
        let g = &s["groups"][0];
        assert_eq!(g["status"], "failed", "{s}");
        let err = g["error"].as_str().unwrap();
        assert!(
            err.contains(ck) && err.contains(needle),
            "[{}] {what}: {err}",
            b.name()
        );
        assert!(
            b.checkpoint_objects()[ck] == damaged,
            "[{}] {what}: never overwritten",
            b.name()
        );
        assert!(
            !b.ledger().contains_key(&b.recorded_key(new_key)),
            "its file waits for the next run"
        );
    }

    b.put_checkpoint(ck, &good);
    // The latest segment of the ledger is damaged.
    let ledger_key = b
        .ledger_objects()
        .keys()
        .rfind(|k| k.contains("_eventlog/ledger/segments/"))
        .cloned()
        .unwrap_or_else(|| panic!("[{}] no ledger segment", b.name()));
    b.put_checkpoint(&ledger_key, b"PAR1 not really");
    let before = b.checkpoint_objects();
    let (out, summary) = b.run(&[]);
    assert_eq!(code(&out), Some(2), "[{}] {:?}", b.name(), summary);
    let err = stderr(&out);
    let name = ledger_key.rsplit('/').next().unwrap();
    assert!(
        err.contains(name) && err.contains("cannot be read"),
        "[{}] the ledger segment is named: {err}",
        b.name()
    );
    assert!(
        before == b.checkpoint_objects(),
        "[{}] nothing written",
        b.name()
    );
}

/// The errors file cannot be written (`block` makes it so): the files whose
/// details it would hold are not recorded as done, so the next run (after
/// `unblock`) reads and reports them again; clean files are recorded.
pub fn errors_file_unwritable(b: &dyn Backend, block: &dyn Fn(), unblock: &dyn Fn()) {
    let clean = "prod/log-submit-20240301-100000-42-ingest-form-E1-2024-03-01.json";
    let invalid = "prod/log-submit-20240301-100001-42-ingest-form-E2-2024-03-01.json";
    let misnamed = "prod/log-submit-20990101-000000-42-ingest-form-E3-2024-03-01.json";
    b.put_source(
        clean,
        event_text("E1", "2024-03-01T10:00:00Z", "I", "ingest-form").as_bytes(),
    );
    b.put_source(invalid, b"{\"action\": \"submit\"}");
    b.put_source(
        misnamed,
        event_text("E3", "2024-03-01T10:00:02Z", "I", "ingest-form").as_bytes(),
    );
    block();
    let (out, summary) = b.run(&[]);
    let s = summary.unwrap_or_else(|| panic!("[{}] no summary: {}", b.name(), stderr(&out)));
    assert_eq!(code(&out), Some(1), "{s}");
    assert!(s["errors_file"].is_null(), "{s}");
    assert!(s["errors_file_error"].is_string(), "{s}");
    let ledger = b.ledger();
    assert!(ledger.contains_key(&b.recorded_key(clean)));
    assert!(
        !ledger.contains_key(&b.recorded_key(invalid)),
        "its details were lost, so it is not done"
    );
    assert!(!ledger.contains_key(&b.recorded_key(misnamed)));
    unblock();
    let (out, summary) = b.run(&[]);
    let s = summary.unwrap();
    assert_eq!(code(&out), Some(1), "{s}");
    assert_eq!(s["new_objects"], 2, "{s}");
    assert_eq!(s["invalid"], 1);
    let keys: Vec<String> = errors_lines(b)
        .iter()
        .map(|l| l["key"].as_str().unwrap().to_string())
        .collect();
    assert!(
        keys.contains(&b.recorded_key(invalid)) && keys.contains(&b.recorded_key(misnamed)),
        "{keys:?}"
    );
    assert_eq!(b.ledger().len(), 3);
    assert_eq!(b.rows()["adrc/form"].len(), 2);
}

/// The golden set arrives in `runs` parts; after each part a run starts
/// and is killed with SIGKILL at a pseudo-random moment within `window`
/// (microseconds; a run that finished first shortens the window to its own
/// length, so the kills land inside runs). Then one run goes to the end: the rows are those of one
/// clean run, the ledger is whole, and what the last run reports matches
/// what is stored.
pub fn killed_runs_then_clean(b: &dyn Backend, runs: u64, window: std::ops::Range<u64>) {
    let files = crate::backend::walk(&golden_files());
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut killed = 0;
    let mut end = window.end;
    for i in 0..runs {
        for (k, f) in files.iter().enumerate() {
            if k as u64 % runs == i {
                let rel = f
                    .strip_prefix(golden_files())
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                b.put_source(&rel, &std::fs::read(f).unwrap());
            }
        }
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let after =
            std::time::Duration::from_micros(window.start + state % (end - window.start).max(1));
        let started = std::time::Instant::now();
        // Compacting every other run, so kills land in compactions too.
        let mut child = b
            .command(&[("EVENTLOG_LEDGER_COMPACT_SEGMENTS", "2")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(after);
        if child.try_wait().unwrap().is_none() {
            killed += 1;
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &child.id().to_string()])
                .status();
        } else {
            // It finished before the kill: aim within its length next time.
            end = (started.elapsed().as_micros() as u64).clamp(window.start + 1, end);
        }
        let _ = child.wait();
    }
    eprintln!("[{}] {killed} of {runs} runs killed mid-way", b.name());
    assert!(
        killed * 2 >= runs,
        "most runs must die mid-way, not finish: {killed}/{runs}"
    );
    let (out, summary) = b.run(&[]);
    let s = summary.unwrap_or_else(|| panic!("no summary: {}", stderr(&out)));
    assert_ne!(code(&out), Some(2), "{s}");
    let (_, want) = expected();
    assert_rows(b, &want);
    assert_eq!(b.ledger().len(), 60);
    let stored = b.rows();
    for g in s["groups"].as_array().unwrap() {
        let name = format!(
            "{}/{}",
            g["study"].as_str().unwrap(),
            g["datatype"].as_str().unwrap()
        );
        assert_eq!(
            g["rows_after"].as_u64().unwrap() as usize,
            stored[&name].len(),
            "[{}] reported vs stored rows of {name}",
            b.name()
        );
    }
    let s = run_ok(b);
    assert_eq!(s["new_objects"], 0, "{s}");
}

/// The golden files, relative paths and bytes, in key order.
fn golden_list() -> Vec<(String, Vec<u8>)> {
    crate::backend::walk(&golden_files())
        .into_iter()
        .map(|f| {
            let rel = f
                .strip_prefix(golden_files())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read(&f).unwrap())
        })
        .collect()
}

/// Runs that compact the ledger on every commit race each other and plain
/// runs, while files arrive in rounds: after each round the rows are those
/// of one run, every file is in the ledger once, and a later run finds
/// nothing new.
pub fn compaction_racing_runs(make: Make) {
    let b = make();
    let files = golden_list();
    let rounds = 3;
    for round in 0..rounds {
        for (i, (rel, bytes)) in files.iter().enumerate() {
            if i % rounds == round {
                b.put_source(rel, bytes);
            }
        }
        let children: Vec<_> = (0..3)
            .map(|i| {
                let compact = if i == 0 { "64" } else { "1" };
                b.command(&[("EVENTLOG_LEDGER_COMPACT_SEGMENTS", compact)])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert_ne!(code(&out), Some(2), "[{}] {}", b.name(), stderr(&out));
        }
        let ledger = b.ledger();
        let seen = files
            .iter()
            .enumerate()
            .filter(|(i, _)| i % rounds <= round)
            .count();
        assert_eq!(ledger.len(), seen, "[{}] round {round}", b.name());
    }
    let (_, want) = expected();
    assert_rows(b.as_ref(), &want);
    let snapshots = b
        .ledger_objects()
        .keys()
        .filter(|k| k.contains("/snapshots/"))
        .count();
    assert!(snapshots >= 1, "[{}] the runs compacted", b.name());
    let s = run_ok(b.as_ref());
    assert_eq!(s["new_objects"], 0, "[{}] {s}", b.name());
    assert_eq!(s["already_processed"], 60, "[{}] {s}", b.name());
    assert_eq!(
        s["ledger"]["segment"],
        Value::Null,
        "nothing to record: {s}"
    );
}

/// A ledger in the single-file format of earlier versions: the first run
/// takes it over without reading any file it lists, and processes only
/// what is new.
pub fn take_over_single_file_ledger(make: Make) {
    let b = make();
    b.put_tree(&golden_files());
    run_ok(b.as_ref());
    let before = b.ledger();
    // A one-run ledger's only segment holds every entry in the ledger
    // codec: as a single file, it is what earlier versions wrote.
    let objects = b.ledger_objects();
    let (segment, bytes) = objects
        .iter()
        .find(|(k, _)| k.ends_with("/segments/00000000000000000001.parquet"))
        .unwrap_or_else(|| panic!("[{}] one segment: {:?}", b.name(), objects.keys()));
    let legacy = segment.replace(
        "ledger/segments/00000000000000000001.parquet",
        "ledger.parquet",
    );
    b.put_checkpoint(&legacy, bytes);
    for k in objects.keys() {
        b.delete_checkpoint(k);
    }
    assert_eq!(
        b.ledger(),
        before,
        "[{}] the old format reads the same",
        b.name()
    );
    let new_key = "prod/log-submit-20240301-100000-42-ingest-form-T1-2024-03-01.json";
    b.put_source(
        new_key,
        event_text("T1", "2024-03-01T10:00:00Z", "I", "ingest-form").as_bytes(),
    );
    let s = run_ok(b.as_ref());
    assert_eq!(s["ledger"]["took_over"], true, "{s}");
    assert_eq!(
        s["already_processed"],
        60,
        "[{}] nothing re-read: {s}",
        b.name()
    );
    assert_eq!(s["new_objects"], 1, "{s}");
    assert_eq!(s["events_added"], 1, "{s}");
    let after = b.ledger();
    assert_eq!(after.len(), 61);
    assert!(before.iter().all(|(k, v)| after.get(k) == Some(v)));
    let s = run_ok(b.as_ref());
    assert_eq!(
        (
            s["new_objects"].as_u64(),
            s["ledger"]["took_over"].as_bool()
        ),
        (Some(0), Some(false)),
        "{s}"
    );
}

/// A backfill taken `cap` files a run: each run defers the rest, and
/// together the runs give the rows and ledger of one uncapped run.
pub fn capped_runs_equal_one_run(make: Make, cap: usize) {
    let b = make();
    b.put_tree(&golden_files());
    let cap_text = cap.to_string();
    let mut runs = 0;
    let mut deferred = Vec::new();
    loop {
        let (out, summary) = b.run(&[("EVENTLOG_MAX_FILES", &cap_text)]);
        let s = summary.unwrap_or_else(|| panic!("no summary: {}", stderr(&out)));
        assert_ne!(code(&out), Some(2), "{s}");
        let taken = s["new_objects"].as_u64().unwrap() + s["skipped_names"].as_u64().unwrap();
        assert!(taken as usize <= cap, "[{}] {taken} > {cap}: {s}", b.name());
        runs += 1;
        deferred.push(s["deferred"].as_u64().unwrap());
        if s["deferred"] == 0 {
            break;
        }
        assert!(runs < 100, "the backfill never ends: {deferred:?}");
    }
    assert_eq!(
        runs,
        60usize.div_ceil(cap),
        "[{}] deferred per run: {deferred:?}",
        b.name()
    );
    assert_eq!(deferred[0] as usize, 60 - cap, "{deferred:?}");
    let (_, want) = expected();
    assert_rows(b.as_ref(), &want);
    assert_eq!(b.ledger().len(), 60);
    let one = make();
    one.put_tree(&golden_files());
    run_ok(one.as_ref());
    assert_eq!(
        b.rows(),
        one.rows(),
        "[{}] capped runs vs one run",
        b.name()
    );
    let outcomes = |l: BTreeMap<String, (String, String)>| -> BTreeMap<String, String> {
        l.into_iter().map(|(k, (o, _))| (k, o)).collect()
    };
    assert_eq!(outcomes(b.ledger()), outcomes(one.ledger()));
}

/// `--keys`: exactly the keys named are processed (from a file, or stdin),
/// without listing; a sweep afterwards takes only the others.
pub fn keys_from_a_file(make: Make) {
    let b = make();
    let files = golden_list();
    for (rel, bytes) in &files {
        b.put_source(rel, bytes);
    }
    let named: Vec<String> = files
        .iter()
        .filter(|(rel, _)| rel.contains("log-"))
        .take(5)
        .map(|(rel, _)| b.recorded_key(rel))
        .collect();
    let mut list = named.join("\n");
    list.push_str(&format!(
        "\n# a comment\n\n{}\n{}\n",
        named[0],
        b.recorded_key("prod/log-submit-20240101-000000-1-p-gone-2024-01-01.json")
    ));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.txt");
    std::fs::write(&path, &list).unwrap();
    let (out, summary) = b.run_args(&["--keys", path.to_str().unwrap()], &[], None);
    let s = summary.unwrap_or_else(|| panic!("no summary: {}", stderr(&out)));
    assert_ne!(code(&out), Some(2), "{s}");
    assert_eq!(s["listed"], 0, "[{}] no listing: {s}", b.name());
    assert_eq!(s["named"]["named"], 7, "{s}");
    assert_eq!(s["named"]["duplicates"], 1, "{s}");
    assert_eq!(s["named"]["missing"], 1, "{s}");
    let ledger = b.ledger();
    assert_eq!(ledger.len(), 5, "[{}] exactly the keys named", b.name());
    assert!(named.iter().all(|k| ledger.contains_key(k)));
    // The same keys again, on stdin: nothing new.
    let (out, summary) = b.run_args(&["--keys", "-"], &[], Some(&list));
    let s = summary.unwrap_or_else(|| panic!("no summary: {}", stderr(&out)));
    assert_eq!(
        (s["new_objects"].as_u64(), s["already_processed"].as_u64()),
        (Some(0), Some(5)),
        "{s}"
    );
    // A sweep takes the rest, and the rows are those of one run.
    let s = run_ok(b.as_ref());
    assert_eq!(s["already_processed"], 5, "{s}");
    assert_eq!(
        s["new_objects"].as_u64().unwrap() + s["skipped_names"].as_u64().unwrap(),
        55,
        "{s}"
    );
    let (_, want) = expected();
    assert_rows(b.as_ref(), &want);
}

/// `eventlog report` over the checkpoints the golden run wrote, from this
/// backend (a directory or `s3://…`): every checkpoint row is counted once,
/// per study and datatype as the groups hold them.
pub fn report_over_the_checkpoints(make: Make) {
    let b = make();
    b.put_tree(&golden_files());
    let (out, _) = b.run(&[]);
    assert_eq!(code(&out), Some(1), "[{}] {}", b.name(), stderr(&out));
    let dir = tempfile::tempdir().unwrap();
    let report = std::process::Command::new(crate::bin("eventlog"))
        .args(["report", "--checkpoints", &b.checkpoints_arg(), "--out"])
        .arg(dir.path())
        .envs(b.env())
        .output()
        .unwrap();
    assert_eq!(code(&report), Some(0), "[{}] {}", b.name(), stderr(&report));
    let (_, want) = expected();
    let totals = std::fs::read_to_string(dir.path().join("totals_by_study_datatype.csv")).unwrap();
    let mut got = BTreeMap::new();
    for line in totals.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        got.insert(
            format!("{}/{}", cells[0], cells[1]),
            cells[2].parse::<usize>().unwrap(),
        );
    }
    let want: BTreeMap<String, usize> = want
        .iter()
        .map(|(g, rows)| (g.clone(), rows.len()))
        .collect();
    assert_eq!(got, want, "[{}] {totals}", b.name());
    assert!(dir.path().join("index.html").exists());
}

/// The scenarios every backend runs, written once: `scenario_suite!(make,
/// capped = N)` defines one `#[test]` per scenario over `make` (a
/// `fn() -> Box<dyn Backend>`), `N` files per capped run.
#[macro_export]
macro_rules! scenario_suite {
    ($make:ident, capped = $cap:expr) => {
        #[test]
        fn golden_first_run() {
            $crate::scenarios::golden_first_run(&$make);
        }
        #[test]
        fn no_new_files_rewrites_nothing() {
            $crate::scenarios::no_new_files(&$make);
        }
        #[test]
        fn backfilled_old_timestamp_is_processed() {
            $crate::scenarios::backfill(&$make);
        }
        #[test]
        fn duplicate_under_new_key_adds_nothing() {
            $crate::scenarios::duplicate_under_new_key(&$make);
        }
        #[test]
        fn corrected_event_replaces_the_row() {
            $crate::scenarios::corrected_event(&$make);
        }
        #[test]
        fn sandbox_projects_are_filtered() {
            $crate::scenarios::sandbox(&$make);
        }
        #[test]
        fn invalid_and_unreadable_files_do_not_stop_the_others() {
            $crate::scenarios::invalid_and_unreadable(&$make);
        }
        #[test]
        fn hostile_names_are_reported_and_never_stop_the_others() {
            $crate::scenarios::hostile_names(&$make);
        }
        #[test]
        fn compaction_racing_runs() {
            $crate::scenarios::compaction_racing_runs(&$make);
        }
        #[test]
        fn a_single_file_ledger_is_taken_over() {
            $crate::scenarios::take_over_single_file_ledger(&$make);
        }
        #[test]
        fn capped_runs_equal_one_run() {
            $crate::scenarios::capped_runs_equal_one_run(&$make, $cap);
        }
        #[test]
        fn keys_from_a_file_are_processed_without_listing() {
            $crate::scenarios::keys_from_a_file(&$make);
        }
        #[test]
        fn corrupt_checkpoint_and_ledger_fail_loudly_and_are_not_overwritten() {
            $crate::scenarios::corrupt_state(&$make);
        }
        #[test]
        fn report_over_the_checkpoints() {
            $crate::scenarios::report_over_the_checkpoints(&$make);
        }
        #[test]
        fn crash_at_every_stage_then_recover() {
            for point in $crate::CRASH_POINTS {
                $crate::scenarios::crash_then_recover(&$make, point);
            }
        }
    };
}
