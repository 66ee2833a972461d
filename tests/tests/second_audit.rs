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

/// A folder sync that fails after the checkpoint's rename fails the group
/// (the write is not known to be durable); the next run finds its events
/// already there and completes the ledger, so nothing is lost or doubled.
#[test]
fn a_failed_folder_sync_is_reported_and_the_next_run_completes() {
    let b = LocalBackend::new();
    let backend: &dyn Backend = &b;
    backend.put_tree(&testdata("visit-events/files"));
    let mut cmd = backend.command(&[]);
    cmd.env("EVENTLOG_FAIL_DIR_SYNC", "1");
    let out = run_within(cmd, Duration::from_secs(60));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert_ne!(out.status.code(), Some(0), "{summary}");
    let text = summary.to_string();
    assert!(text.contains("syncing the folder"), "{summary}");
    let failed = summary["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter(|g| g["status"] == "failed")
        .count();
    assert!(failed > 0, "{summary}");

    let again = run_within(backend.command(&[]), Duration::from_secs(60));
    let summary: Value = serde_json::from_slice(&again.stdout).expect("summary");
    assert_eq!(again.status.code(), Some(0), "{summary}");
    let rows: usize = backend.rows().values().map(Vec::len).sum();
    assert_eq!(rows, 10, "every sample once: {summary}");
    let third = run_within(backend.command(&[]), Duration::from_secs(60));
    let summary: Value = serde_json::from_slice(&third.stdout).expect("summary");
    assert_eq!(summary["new_objects"], 0, "{summary}");
    assert_eq!(summary["events_added"], 0, "{summary}");
    assert_eq!(backend.rows().values().map(Vec::len).sum::<usize>(), 10);
}

/// A checkpoints root the run may not write names the real cause, records
/// nothing, and the files are taken once it can write again. (As root the
/// binary runs as `nobody`, since root writes through any mode.)
#[test]
fn a_read_only_checkpoints_root_names_the_cause() {
    use std::os::unix::fs::PermissionsExt;
    let b = LocalBackend::new();
    let backend: &dyn Backend = &b;
    backend.put_tree(&testdata("visit-events/files"));
    let root = b.checkpoints();
    std::fs::create_dir_all(&root).unwrap();
    let set_mode = |mode| {
        for p in [b.dir.path(), &b.source(), &root] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    };
    set_mode(0o555);
    let mut cmd = backend.command(&[]);
    let uid = Command::new("id").arg("-u").output().expect("id -u").stdout;
    let as_root = String::from_utf8_lossy(&uid).trim() == "0";
    if as_root {
        let program = cmd.get_program().to_owned();
        let mut wrapped = Command::new("setpriv");
        wrapped
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(program)
            .args(cmd.get_args())
            .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))));
        cmd = wrapped;
    }
    let out = run_within(cmd, Duration::from_secs(60));
    set_mode(0o755);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("Permission denied"), "{text}");
    assert!(!text.contains("No such file"), "{text}");
    assert!(backend.rows().is_empty(), "nothing stored");
    let again = run_within(backend.command(&[]), Duration::from_secs(60));
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(backend.rows().values().map(Vec::len).sum::<usize>(), 10);
}

fn names_under(dir: &Path, pred: &dyn Fn(&str) -> bool) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                if pred(&e.file_name().to_string_lossy()) {
                    found.push(p.clone());
                }
                dirs.push(p);
            } else if pred(&e.file_name().to_string_lossy()) {
                found.push(p);
            }
        }
    }
    found
}

fn make_old(path: &Path) {
    let past = std::time::SystemTime::now() - Duration::from_secs(600);
    std::fs::File::open(path)
        .unwrap()
        .set_modified(past)
        .unwrap();
}

/// A run killed with a checkpoint staged leaves its staged file and its
/// merge scratch folder; the next run removes those, and only those: a
/// staged file a live run holds stays, and the rows are exact.
#[test]
fn the_next_run_removes_what_a_killed_run_left_and_nothing_else() {
    let b = LocalBackend::new();
    let backend: &dyn Backend = &b;
    backend.put_tree(&testdata("visit-events/files"));
    let scratch = tempfile::tempdir().unwrap();
    let tmpdir = scratch.path().to_str().unwrap().to_string();
    let killed = run_within(
        backend.command(&[("EVENTLOG_CRASH_AT", "staged"), ("TMPDIR", &tmpdir)]),
        Duration::from_secs(60),
    );
    assert!(!killed.status.success(), "the crash point was reached");
    let is_staged = |n: &str| n.starts_with(".eventlog-") && n.ends_with(".tmp");
    let is_scratch = |n: &str| n.starts_with("eventlog-merge-");
    let staged = names_under(&b.checkpoints(), &is_staged);
    let merges = names_under(scratch.path(), &is_scratch);
    assert!(!staged.is_empty(), "a checkpoint was staged");
    assert!(!merges.is_empty(), "a merge folder was left");
    // A live concurrent run's staged file: locked, in another group.
    let live_dir = b.checkpoints().join("live/form");
    std::fs::create_dir_all(&live_dir).unwrap();
    let live = live_dir.join(".eventlog-live.tmp");
    std::fs::write(&live, b"in progress").unwrap();
    let held = std::fs::File::open(&live).unwrap();
    held.lock().unwrap();
    for p in staged.iter().chain(&merges).chain([&live]) {
        make_old(p);
        if p.is_dir() {
            for e in std::fs::read_dir(p).unwrap().flatten() {
                make_old(&e.path());
            }
        }
    }
    let next = run_within(
        backend.command(&[("TMPDIR", &tmpdir)]),
        Duration::from_secs(60),
    );
    let summary: Value = serde_json::from_slice(&next.stdout).expect("summary");
    assert_eq!(next.status.code(), Some(0), "{summary}");
    assert_eq!(
        summary["leftovers_removed"],
        staged.len() + merges.len(),
        "{summary}"
    );
    assert!(names_under(scratch.path(), &is_scratch).is_empty());
    assert_eq!(
        names_under(&b.checkpoints(), &is_staged),
        vec![live.clone()]
    );
    drop(held);
    let rows: usize = backend.rows().values().map(Vec::len).sum();
    assert_eq!(rows, 10, "every sample once: {summary}");
}

/// The first sample with `study` replaced, under a name that agrees with
/// its content (ptid made unique by `ptid`).
fn with_study(study: &str, ptid: &str) -> (String, Vec<u8>) {
    let mut v: Value = serde_json::from_slice(&sample()).unwrap();
    v["study"] = Value::String(study.to_string());
    v["ptid"] = Value::String(ptid.to_string());
    let name = format!("log-delete-20250415-191415-0-ingest-form-{ptid}-2025-04-14.json");
    (name, serde_json::to_vec(&v).unwrap())
}

fn bad_file<'a>(summary: &'a Value, key_end: &str) -> &'a Value {
    summary["bad_files"]
        .as_array()
        .expect("bad files")
        .iter()
        .find(|f| f["key"].as_str().unwrap().ends_with(key_end))
        .unwrap_or_else(|| panic!("{key_end} is reported: {summary}"))
}

/// A study no folder can be named after (too long, NUL, a line break) is
/// invalid, to the checker and to the pipeline alike: reported, recorded,
/// and the next run has nothing to do.
#[test]
fn a_study_no_folder_can_hold_is_invalid_everywhere() {
    let b = LocalBackend::new();
    let backend: &dyn Backend = &b;
    backend.put_tree(&testdata("visit-events/files"));
    let cases = [
        ("s".repeat(300), "900001"),
        ("a\u{0}b".to_string(), "900002"),
        ("two\nlines".to_string(), "900003"),
    ];
    let mut names = Vec::new();
    for (study, ptid) in &cases {
        let (name, body) = with_study(study, ptid);
        backend.put_source(&name, &body);
        names.push(name);
    }
    let (ok_name, ok_body) = with_study(&"é".repeat(127), "900004");
    backend.put_source(&ok_name, &ok_body);
    let out = run_within(backend.command(&[]), Duration::from_secs(60));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert_eq!(out.status.code(), Some(1), "{summary}");
    for name in &names {
        let f = bad_file(&summary, name);
        assert_eq!(f["problem"], "invalid", "{f}");
        assert_eq!(f["errors"][0]["field"], "study", "{f}");
        assert_eq!(f["errors"][0]["code"], "study_not_path_safe", "{f}");
        let check = Command::new(bin("eventlog"))
            .arg("validate")
            .arg(b.source().join(name))
            .output()
            .unwrap();
        assert_eq!(check.status.code(), Some(1), "the checker agrees: {name}");
    }
    let rows: usize = backend.rows().values().map(Vec::len).sum();
    assert_eq!(rows, 11, "the samples and the 254-byte study: {summary}");
    let again = run_within(backend.command(&[]), Duration::from_secs(60));
    let summary: Value = serde_json::from_slice(&again.stdout).expect("summary");
    assert_eq!(again.status.code(), Some(0), "{summary}");
    assert_eq!(summary["new_objects"], 0, "{summary}");
}

/// Bad files are streamed to the errors file as they are found: the
/// summary keeps the first ones in key order and counts them all; the
/// errors file has every one, once.
#[test]
fn bad_files_stream_to_the_errors_file_and_the_summary_counts_them() {
    let b = LocalBackend::new();
    let backend: &dyn Backend = &b;
    backend.put_tree(&testdata("visit-events/files"));
    let n = 1500;
    for i in 0..n {
        let name = format!("log-submit-20250101-000000-7-ingest-form-{i:05}-2025-01-01.json");
        backend.put_source(&name, b"{\"broken\": ");
    }
    let out = run_within(backend.command(&[]), Duration::from_secs(60));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        summary["bad_files_total"], n,
        "{}",
        summary["bad_files_total"]
    );
    let shown: Vec<&str> = summary["bad_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(shown.len(), 100);
    assert!(shown.windows(2).all(|w| w[0] < w[1]), "in key order");
    assert!(shown[0].ends_with("-00000-2025-01-01.json"), "{}", shown[0]);
    let files = backend.errors_files();
    assert_eq!(files.len(), 1);
    let mut keys: Vec<String> = files[0]
        .1
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["key"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "every bad file once");
    assert_eq!(backend.rows().values().map(Vec::len).sum::<usize>(), 10);
}
