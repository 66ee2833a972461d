//! `eventlog report`: the CSV files against DuckDB and known answers
//! (tests/python/report.py), then the page in Chromium (tests/web/report.mjs):
//! no request after load, no script, every table row a CSV row, 390 px,
//! screenshots kept in target/test-artifacts/.

use std::process::Command;

use eventlog_tests::{bin, python, repo, run_ok};

#[test]
fn the_report_equals_duckdb_and_reads_in_chromium() {
    let work = tempfile::tempdir().unwrap();
    let out = run_ok(
        Command::new(python())
            .arg(repo().join("tests/python/report.py"))
            .arg(bin("eventlog"))
            .arg(work.path()),
    );
    let checked: serde_json::Value = serde_json::from_slice(out.stdout.trim_ascii()).unwrap();
    assert!(checked["events"].as_u64().unwrap() > 700, "{checked}");

    let artifacts = repo().join("target/test-artifacts");
    let page = run_ok(
        Command::new("node")
            .arg(repo().join("tests/web/report.mjs"))
            .arg("--report")
            .arg(work.path().join("report"))
            .arg("--artifacts")
            .arg(&artifacts)
            .current_dir(repo().join("tests/web")),
    );
    let seen: serde_json::Value = serde_json::from_slice(page.stdout.trim_ascii()).unwrap();
    assert!(seen["390"]["rows"].as_u64().unwrap() > 50, "{seen}");
    for shot in ["report-desktop.png", "report-390.png"] {
        assert!(artifacts.join(shot).exists(), "{shot}");
    }
}

#[test]
fn a_damaged_checkpoint_is_an_error_naming_it_not_a_crash() {
    // Checkpoints the checkpoint_decode fuzz target saved: one the parquet
    // reader panics on (a dictionary page that divides by zero), one whose
    // dictionary page declares two billion values (8 GB before the check);
    // and one whose footer would hold the parquet crate in empty loops.
    let crash = repo().join("fuzz/regressions/checkpoint_decode");
    let mut inputs: Vec<_> = std::fs::read_dir(&crash)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 2, "{inputs:?}");
    for input in inputs {
        let work = tempfile::tempdir().unwrap();
        let group = work.path().join("checkpoints/adrc/form");
        std::fs::create_dir_all(&group).unwrap();
        std::fs::copy(&input, group.join("events.parquet")).unwrap();
        let out_dir = work.path().join("out");
        let out = Command::new(bin("eventlog"))
            .args(["report", "--checkpoints"])
            .arg(work.path().join("checkpoints"))
            .arg("--out")
            .arg(&out_dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // 2, an error; a panic would exit 101, running out of memory 134.
        assert_eq!(out.status.code(), Some(2), "{input:?}: {stderr}");
        assert!(
            stderr.contains("adrc/form/events.parquet: not a readable parquet checkpoint"),
            "{input:?}: {stderr}"
        );
        // Twenty unknown footer fields, each a list of two billion
        // booleans in 7 bytes: the parquet crate would loop over every
        // boolean (a minute here) and then name a missing field instead.
        if input.to_string_lossy().contains("slow-footer") {
            assert!(
                stderr.contains("the footer: a collection declares 2147483647 elements"),
                "{input:?}: {stderr}"
            );
        }
        assert!(
            !out_dir.join("index.html").exists(),
            "no report from partial numbers"
        );
    }
}

/// A `--checkpoints` that does not exist or holds no checkpoint, and
/// `--from` after `--to`, are errors naming the path or the flags (exit 2),
/// and write nothing.
#[test]
fn wrong_places_and_ranges_are_errors_naming_them() {
    let work = tempfile::tempdir().unwrap();
    let empty = work.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let missing = work.path().join("no-such-folder");
    let out_dir = work.path().join("out");
    let report = |args: &[&str]| {
        let out = Command::new(bin("eventlog"))
            .arg("report")
            .args(args)
            .arg("--out")
            .arg(&out_dir)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, err) = report(&["--checkpoints", missing.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("no-such-folder") && err.contains("does not exist"),
        "{err}"
    );
    let (code, err) = report(&["--checkpoints", empty.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("empty") && err.contains("no checkpoint there"),
        "{err}"
    );
    let (code, err) = report(&[
        "--checkpoints",
        empty.to_str().unwrap(),
        "--from",
        "2025-05",
        "--to",
        "2025-02",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--from 2025-05 is after --to 2025-02"),
        "{err}"
    );
    assert!(!out_dir.exists(), "nothing written");
}
