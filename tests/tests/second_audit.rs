//! The faults a second audit found, each reproduced through the real
//! binary: what was reported is compared with what was stored.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use eventlog_tests::backend::{Backend, LocalBackend};
use eventlog_tests::{bin, testdata};
use serde_json::Value;

/// Run `cmd`, failing the test if it is still running after `limit`
/// (a process blocked on a named pipe would otherwise hang the suite).
fn run_within(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "{cmd:?} still running after {limit:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

fn sample() -> Vec<u8> {
    let dir = testdata("visit-events/files");
    let first = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap();
    std::fs::read(first.path()).unwrap()
}

/// A named pipe in the source folder is reported as unreadable, never
/// opened; the run goes on and the other files merge.
#[test]
fn a_named_pipe_in_the_source_is_reported_not_waited_on() {
    let b = LocalBackend::new();
    let backend: &dyn Backend = &b;
    backend.put_tree(&testdata("visit-events/files"));
    mkfifo(
        &b.source()
            .join("log-submit-20250101-000000-7-ingest-form-1-2025-01-01.json"),
    );
    let out = run_within(backend.command(&[]), Duration::from_secs(60));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert_eq!(out.status.code(), Some(1), "{summary}");
    let bad = summary["bad_files"].as_array().expect("bad files");
    let pipe = bad
        .iter()
        .find(|f| f["key"].as_str().unwrap().ends_with("-1-2025-01-01.json"))
        .unwrap_or_else(|| panic!("the pipe is reported: {summary}"));
    assert_eq!(pipe["problem"], "unreadable", "{pipe}");
    assert!(pipe.to_string().contains("named pipe"), "{pipe}");
    let rows: usize = backend.rows().values().map(Vec::len).sum();
    assert_eq!(rows, 10, "every sample merged");
}

/// `validate`, `xapi check` and `xapi load` given a named pipe, directly or
/// in a folder, report it and go on.
#[test]
fn validate_and_xapi_commands_refuse_named_pipes() {
    let dir = tempfile::tempdir().unwrap();
    let fifo_json = dir.path().join("pipe.json");
    let fifo_jsonl = dir.path().join("pipe.jsonl");
    mkfifo(&fifo_json);
    mkfifo(&fifo_jsonl);
    std::fs::write(dir.path().join("good.json"), sample()).unwrap();
    let eventlog = |args: &[&str]| {
        let mut c = Command::new(bin("eventlog"));
        c.args(args);
        run_within(c, Duration::from_secs(60))
    };
    for args in [
        vec!["validate", fifo_json.to_str().unwrap()],
        vec!["validate", dir.path().to_str().unwrap()],
        vec!["xapi", "check", fifo_jsonl.to_str().unwrap()],
        vec!["xapi", "check", dir.path().to_str().unwrap()],
        vec![
            "xapi",
            "check",
            "--target",
            "raw-events",
            fifo_jsonl.to_str().unwrap(),
        ],
    ] {
        let out = eventlog(&args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {text}");
        assert!(text.contains("named pipe"), "{args:?}: {text}");
    }
    let out = eventlog(&["validate", dir.path().to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("good.json"),
        "the other file is still checked"
    );
    // `xapi load` of a local pipe: the file fails, nothing waits.
    let mut c = Command::new(bin("eventlog"));
    c.args([
        "xapi",
        "load",
        "--path",
        "in-process",
        fifo_jsonl.to_str().unwrap(),
    ])
    .env("CLICKHOUSE_URL", "http://127.0.0.1:9");
    let out = run_within(c, Duration::from_secs(60));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("named pipe"), "{text}");
}

/// `validate` reads at most --max-object-bytes of a file, as the pipeline.
#[test]
fn validate_reads_no_more_than_the_object_limit() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(1 << 30).unwrap(); // sparse: a gigabyte that takes no disk
    std::fs::write(dir.path().join("good.json"), sample()).unwrap();
    let out = run_within(
        {
            let mut c = Command::new(bin("eventlog"));
            c.args(["validate", "--format", "json", dir.path().to_str().unwrap()]);
            c
        },
        Duration::from_secs(60),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("over the 1048576-byte limit"), "{text}");
    assert!(text.contains("\"valid\":true"), "the other file: {text}");
}

/// A template that leaves the checkpoints root is a usage error: exit 2,
/// nothing written anywhere.
#[test]
fn a_template_outside_the_root_is_refused() {
    let b = LocalBackend::new();
    let backend: &dyn Backend = &b;
    backend.put_tree(&testdata("visit-events/files"));
    for template in [
        "../{study}/{datatype}/events.parquet",
        "a/../../{study}/{datatype}/events.parquet",
    ] {
        let (out, _) = backend.run_args(&["--template", template], &[], None);
        assert_eq!(out.status.code(), Some(2), "{template}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("checkpoints root"), "{err}");
    }
    assert!(!b.checkpoints().exists(), "nothing written");
    let outside: Vec<_> = std::fs::read_dir(b.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(outside, ["events"], "nothing next to the root either");
}
