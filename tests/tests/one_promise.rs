//! One promise on every front: what the checkers call fine, the pipeline
//! reads, or every front says it will not; the same plain words in the
//! CLI, the errors file and the help.

use std::process::Command;

use eventlog_tests::backend::{Backend, LocalBackend};
use eventlog_tests::{bin, testdata};
use serde_json::Value;

const EVENT: &str = r#"{"action":"submit","study":"adrc","pipeline_adcid":42,"project_label":"ingest-form","center_label":"alpha","gear_name":"g","ptid":"44914","visit_date":"2025-03-03","datatype":"form","module":"UDS","packet":"I","timestamp":"2025-03-18T20:22:50Z"}"#;
const GOOD_NAME: &str = "log-submit-20250318-202250-42-ingest-form-44914-2025-03-03.json";

fn eventlog(args: &[&str]) -> std::process::Output {
    Command::new(bin("eventlog"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run eventlog")
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A valid event under a name the pipeline never reads: `validate` calls
/// the content valid and says the pipeline will not read it, with the name
/// to use; `checkpoint` names the file and why it skipped it.
#[test]
fn a_file_the_pipeline_will_not_read_is_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("submit-44914.json");
    std::fs::write(&path, EVENT).unwrap();
    let out = eventlog(&["validate", path.to_str().unwrap()]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "the content is valid: {shown}");
    assert!(shown.contains("[name_not_read]"), "{shown}");
    assert!(shown.contains("will never read"), "{shown}");
    assert!(shown.contains(GOOD_NAME), "the name to use: {shown}");
    assert!(shown.contains("1 the pipeline will not read"), "{shown}");
    let out = eventlog(&["validate", "--format", "json", path.to_str().unwrap()]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], true);
    assert_eq!(
        report["name_findings"][0]["code"], "name_not_read",
        "{report}"
    );

    let b = LocalBackend::new();
    let backend: &dyn Backend = &b;
    backend.put_source("submit-44914.json", EVENT.as_bytes());
    backend.put_source("notes.txt", b"not an event");
    let mut cmd = Command::new(bin("eventlog"));
    cmd.args(["checkpoint", "--source"])
        .arg(b.source())
        .arg("--checkpoints")
        .arg(b.checkpoints());
    let out = cmd.output().unwrap();
    let shown = text(&out);
    assert!(
        shown.contains("2 files not read (not event file names)"),
        "{shown}"
    );
    for name in ["submit-44914.json", "notes.txt"] {
        assert!(
            shown
                .lines()
                .any(|l| l.contains("not read") && l.contains(name) && l.contains("log-")),
            "{name} is named with its reason: {shown}"
        );
    }
}

/// A partial run says why in one line; counts read as English.
#[test]
fn a_partial_run_says_why_in_one_line() {
    let b = LocalBackend::new();
    let backend: &dyn Backend = &b;
    backend.put_source(GOOD_NAME, EVENT.as_bytes());
    backend.put_source(
        "log-submit-20250318-202250-42-ingest-form-44915-2025-03-03.json",
        b"{'a': 1}",
    );
    let mut cmd = Command::new(bin("eventlog"));
    cmd.args(["checkpoint", "--source"])
        .arg(b.source())
        .arg("--checkpoints")
        .arg(b.checkpoints());
    let out = cmd.output().unwrap();
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    let why: Vec<&str> = shown
        .lines()
        .filter(|l| l.trim_start().starts_with("why"))
        .collect();
    assert_eq!(why.len(), 1, "{shown}");
    assert!(why[0].contains("partial: 1 invalid file"), "{}", why[0]);
    assert!(shown.contains("  1 row "), "{shown}");
    assert!(
        !shown.contains(" 1 rows") && !shown.contains(" 1 files"),
        "{shown}"
    );
    // The errors file speaks the same plain words as `validate`.
    let errors = backend.errors_files();
    assert_eq!(errors.len(), 1);
    let line: Value = serde_json::from_str(errors[0].1.lines().next().unwrap()).unwrap();
    let message = line["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "not valid JSON: at line 1, column 2, a field name in double quotes was expected"
        ),
        "{message}"
    );
    assert!(
        !message.contains("Expecting") && !message.contains("char 1"),
        "{message}"
    );
    assert_eq!(line["errors"][0]["code"], "json_invalid");
}

/// `--help` shows every default and names environment variables the way
/// clap does (`[env: NAME]`, no dangling `=`).
#[test]
fn help_shows_defaults_and_environment_variables() {
    let out = eventlog(&["checkpoint", "--help"]);
    let help = text(&out);
    assert!(out.status.success());
    for want in [
        "[default: 256]",
        "[default: {study}/{datatype}/events.parquet]",
        "[default: 1048576]",
        "[env: EVENTLOG_SOURCE]",
        "[env: EVENTLOG_DEADLINE_SECONDS]",
    ] {
        assert!(help.contains(want), "{want} in:\n{help}");
    }
    assert!(!help.contains("=]"), "{help}");
    let out = eventlog(&["xapi", "load", "--help"]);
    let help = text(&out);
    assert!(help.contains("[default: 10]"), "{help}");
}

/// A golden sample checked with the browser-facing words: no backticks,
/// no "None", the suggestion once.
#[test]
fn plain_words_have_no_marks_and_say_a_name_once() {
    let dir = tempfile::tempdir().unwrap();
    let body = EVENT.replace("\"ptid\":\"44914\"", "\"ptid\":\"44916\"");
    let name = "log-submit-20250318-202250-42-ingest-form-44914-2025-03-04.json";
    std::fs::write(dir.path().join(name), &body).unwrap();
    std::fs::write(dir.path().join("empty.json"), b"").unwrap();
    let out = eventlog(&["validate", dir.path().to_str().unwrap()]);
    let shown = text(&out);
    assert_eq!(shown.matches("Name the file").count(), 1, "{shown}");
    assert!(!shown.contains('`'), "{shown}");
    assert!(shown.contains("The file is empty."), "{shown}");
    let golden = testdata("visit-events/golden/files");
    let out = eventlog(&["validate", golden.to_str().unwrap()]);
    let shown = text(&out);
    assert!(!shown.contains('`') && !shown.contains("None"), "{shown}");
}
