//! Polars writes, eventlog extends, Polars and DuckDB read (tests/python/compat.py).

use std::process::Command;

use eventlog_tests::{bin, python, repo};

/// The Python with polars, duckdb and pyarrow that `scripts/setup.sh`
/// installs; `EVENTLOG_PYTHON` overrides.

#[test]
fn polars_checkpoints_are_taken_over_and_duckdb_queries_work() {
    let work = tempfile::tempdir().unwrap();
    let out = Command::new(python())
        .arg(repo().join("tests/python/compat.py"))
        .arg(bin("eventlog"))
        .arg(work.path())
        .arg(repo().join("testdata"))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run scripts/setup.sh, or set EVENTLOG_PYTHON)",
                python()
            )
        });
    assert!(
        out.status.success(),
        "compat.py failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(out.stdout.trim_ascii()).unwrap();
    assert!(report["groups_checked"].as_u64().unwrap() >= 14);
}
