//! `eventlog validate` through the real binary.

use eventlog_tests::{eventlog, json_lines, stdout, testdata};
use serde_json::Value;

#[test]
fn sample_files_are_valid_with_clean_names() {
    let dir = testdata("visit-events/files");
    let out = eventlog(&["validate", "--format", "json", dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 10);
    for l in &lines {
        assert_eq!(l["valid"], Value::Bool(true), "{l}");
        assert_eq!(l["errors"], Value::Array(vec![]));
        assert_eq!(l["name_findings"], Value::Array(vec![]), "{l}");
        let event = l["event"].as_object().unwrap();
        let keys: Vec<&str> = event.keys().map(String::as_str).collect();
        // serde_json sorts keys; the order itself is checked on raw text below.
        assert_eq!(keys.len(), 15);
    }
    // Field order in the raw line is the reference's declaration order.
    let first = stdout(&out).lines().next().unwrap().to_string();
    let order = [
        "\"action\"",
        "\"study\"",
        "\"pipeline_adcid\"",
        "\"project_label\"",
        "\"center_label\"",
        "\"gear_name\"",
        "\"ptid\"",
        "\"naccid\"",
        "\"visit_date\"",
        "\"visit_number\"",
        "\"datatype\"",
        "\"module\"",
        "\"packet\"",
        "\"modality\"",
        "\"timestamp\"",
    ];
    let event_at = first.find("\"event\":").unwrap();
    let pos: Vec<usize> = order
        .iter()
        .map(|k| event_at + first[event_at..].find(k).unwrap())
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{first}");
}

#[test]
fn invalid_files_exit_1_and_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(testdata(
        "visit-events/files/log-submit-20250318-202250-42-ingest-form-899485-2025-03-03.json",
    ))
    .unwrap();
    std::fs::write(dir.path().join("event.json"), &good).unwrap();
    // Valid content, but the name disagrees on ADCID and ptid.
    std::fs::write(
        dir.path()
            .join("log-submit-20250318-202250-41-ingest-form-999-2025-03-03.json"),
        &good,
    )
    .unwrap();
    let bad = String::from_utf8(good)
        .unwrap()
        .replace("\"pipeline_adcid\":42", "\"pipeline_adcid\":\"4 2\"");
    std::fs::create_dir(dir.path().join("nested")).unwrap();
    std::fs::write(dir.path().join("nested/bad.json"), bad).unwrap();
    std::fs::write(dir.path().join("nested/notes.txt"), "ignored").unwrap();

    let out = eventlog(&["validate", "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    let by_name = |n: &str| {
        lines
            .iter()
            .find(|l| l["path"].as_str().unwrap().ends_with(n))
            .unwrap()
            .clone()
    };
    let plain = by_name("/event.json");
    assert_eq!(plain["valid"], Value::Bool(true));
    // A name the pipeline never reads is said so (the content's verdict
    // is unchanged); nothing else is checked in such a name.
    let findings = plain["name_findings"].as_array().expect("name findings");
    assert_eq!(findings.len(), 1, "{plain}");
    assert_eq!(findings[0]["code"], "name_not_read", "{plain}");
    let named = by_name("-2025-03-03.json");
    assert_eq!(
        named["valid"],
        Value::Bool(true),
        "name findings never change the verdict"
    );
    let fields: Vec<&str> = named["name_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name.pipeline_adcid", "name.ptid"]);
    let bad = by_name("bad.json");
    assert_eq!(bad["valid"], Value::Bool(false));
    assert!(bad.get("event").is_none());
    assert_eq!(bad["errors"][0]["field"], "pipeline_adcid");
    assert_eq!(bad["errors"][0]["code"], "int_parsing");
    assert!(
        bad["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("4 2")
    );

    let text = eventlog(&["validate", dir.path().to_str().unwrap()]);
    assert_eq!(text.status.code(), Some(1));
    let t = stdout(&text);
    assert!(
        t.contains("INVALID")
            && t.contains("pipeline_adcid")
            && t.contains("3 files: 2 valid, 1 invalid"),
        "{t}"
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    assert_eq!(eventlog(&["validate"]).status.code(), Some(2));
    assert_eq!(
        eventlog(&["validate", "--format", "xml", "x"])
            .status
            .code(),
        Some(2)
    );
    let missing = eventlog(&["validate", "--format", "json", "/nonexistent/eventlog-test"]);
    assert_eq!(missing.status.code(), Some(2));
    let lines = json_lines(&missing);
    assert_eq!(lines[0]["errors"][0]["code"], "unreadable");
    assert_eq!(eventlog(&["--version"]).status.code(), Some(0));
}

#[test]
fn xapi_check_reports_lines_by_file_and_line_with_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let examples = std::fs::read_to_string(testdata("xapi/examples.jsonl")).unwrap();
    std::fs::write(dir.path().join("clean.jsonl"), &examples).unwrap();
    std::fs::write(dir.path().join("ignored.json"), "{not looked at").unwrap();
    let clean = eventlog(&["xapi", "check", dir.path().to_str().unwrap()]);
    let text = stdout(&clean);
    assert_eq!(clean.status.code(), Some(0), "{text}");
    let n = examples.lines().filter(|l| !l.trim().is_empty()).count();
    assert!(
        text.contains(&format!(
            "clean.jsonl: {n} loadable (0 with schema issues), 0 unknown, 0 invalid"
        )),
        "{text}"
    );
    assert!(
        text.ends_with(&format!(
            "1 file: {n} loadable (0 with schema issues), 0 unknown, 0 invalid\n"
        )),
        "{text}"
    );

    let bad = dir.path().join("bad.jsonl");
    let first = examples.lines().next().unwrap();
    std::fs::write(
        &bad,
        format!(
            "{first}\n\n{{oops\n{}\n",
            first.replace("\"display\"", "\"shown\"")
        ),
    )
    .unwrap();
    let out = eventlog(&["xapi", "check", bad.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let shown = bad.display().to_string();
    assert!(
        text.contains(&format!(
            "{shown}:3: invalid: the line is not valid JSON: at column 2, a field name in double quotes was expected"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{shown}:4: schema: verb.display:")),
        "{text}"
    );
    assert!(
        text.contains("2 loadable (1 with schema issues), 0 unknown, 1 invalid"),
        "{text}"
    );

    let missing = dir.path().join("missing.jsonl");
    let out = eventlog(&[
        "xapi",
        "check",
        "--format",
        "json",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["verdict"], "unreadable");
}

/// Hostile names (and one that is not UTF-8): each file gets its report,
/// none crashes the command. A check that panics (injected in test builds)
/// is reported as that file's internal error; the others are still
/// checked, and the exit code says some file could not be checked.
#[test]
fn hostile_names_each_get_a_report() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let names = eventlog_tests::hostile::names();
    for (i, n) in names.iter().enumerate() {
        let body = eventlog_tests::hostile::event(&format!("H{i}"));
        std::fs::write(dir.path().join(n), body).unwrap();
    }
    let raw = std::ffi::OsStr::from_bytes(b"log-submit-\xff\xfe-2024-01-15.json");
    std::fs::write(dir.path().join(raw), eventlog_tests::hostile::event("R1")).unwrap();
    let out = eventlog(&["validate", "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), names.len() + 1);
    for l in &lines {
        assert_eq!(l["valid"], true, "{l}");
        assert!(
            !l["name_findings"].as_array().unwrap().is_empty(),
            "every hostile name disagrees with its content: {l}"
        );
    }

    let marker = format!(
        "log-submit-20240115-100000-42-p-{}-2024-01-15.json",
        eventlog_tests::hostile::PANIC_MARKER
    );
    std::fs::write(
        dir.path().join(&marker),
        eventlog_tests::hostile::event("P1"),
    )
    .unwrap();
    let out = eventlog(&["validate", "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "a file could not be checked");
    let lines = json_lines(&out);
    assert_eq!(
        lines.len(),
        names.len() + 2,
        "the others are still reported"
    );
    let failed: Vec<&Value> = lines
        .iter()
        .filter(|l| l["errors"][0]["code"] == "internal_error")
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0]["path"].as_str().unwrap().ends_with(&marker));
    let text = eventlog(&["validate", dir.path().to_str().unwrap()]);
    assert!(
        stdout(&text).contains("1 not checked (internal error)"),
        "{}",
        stdout(&text)
    );
}
