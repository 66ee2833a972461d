//! Shared harness for the end-to-end tests: locating the built binaries,
//! running them, and test data paths.

pub mod backend;
pub mod cases;
pub mod clickhouse;
pub mod hostile;
pub mod infra;
pub mod packages;
pub mod rows;
pub mod s3;
pub mod scenarios;
pub mod xapi;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The pipeline's named crash points, in run order. Written out here, not
/// taken from the `eventlog` crate: the tests name the points the recovery
/// contract covers, so a point dropped from the code fails a test.
pub const CRASH_POINTS: [&str; 11] = [
    "listed",
    "planned",
    "fetched",
    "merged",
    "group-committed",
    "groups-committed",
    "errors-written",
    "segment-written",
    "snapshot-written",
    "pointer-updated",
    "ledger-committed",
];

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

pub fn testdata(rel: &str) -> PathBuf {
    repo().join("testdata").join(rel)
}

/// The target directory the tests were built into.
fn target_dir() -> PathBuf {
    // current_exe: <target>/<profile>/deps/<test>-<hash>
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("profile dir")
        .to_path_buf()
}

/// Path of a workspace binary. `cargo test --workspace` builds them before
/// any test runs; a missing or stale one is a setup error, reported as such
/// (running cargo from inside a test would wait on cargo's own lock).
pub fn bin(name: &str) -> PathBuf {
    let path = target_dir().join(name);
    let built = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "{} is not built: run `cargo build --bins` or `cargo test --workspace`",
                path.display()
            )
        });
    let newest = ["core/src", "lambda"]
        .iter()
        .filter_map(|d| newest_mtime(&repo().join(d)))
        .max();
    if let Some(src) = newest {
        assert!(
            built >= src,
            "{} is older than the sources: run `cargo build --bins` or `cargo test --workspace`",
            path.display()
        );
    }
    path
}

fn newest_mtime(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let p = entry.path();
        let t = if p.is_dir() {
            newest_mtime(&p)
        } else {
            entry.metadata().ok()?.modified().ok()
        };
        newest = newest.max(t);
    }
    newest
}

/// Run `eventlog` with `args`.
pub fn eventlog(args: &[&str]) -> Output {
    Command::new(bin("eventlog"))
        .args(args)
        .output()
        .expect("run eventlog")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Parse JSON Lines output.
pub fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// The Python with polars, duckdb, pyarrow, chdb and wasmtime that
/// `scripts/setup.sh` installs; `EVENTLOG_PYTHON` overrides.
pub fn python() -> String {
    std::env::var("EVENTLOG_PYTHON").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/eventlog/venv/bin/python")
    })
}

/// Run a command that must succeed; its output.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
