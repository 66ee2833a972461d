//! The `eventlog-validator` wheel (scripts/build-python-wheel.py, built by
//! scripts/build-wasm.sh) installed into a fresh virtual environment, as a
//! gear author would: byte-identical reports against the native CLI over
//! the differential corpus, the typed API, `require_valid`, and the
//! console script's output and exit codes against `eventlog validate`.

use std::path::Path;
use std::process::Command;

use eventlog_tests::packages::venv;
use eventlog_tests::{bin, run_ok as run, testdata};

#[test]
fn the_wheel_in_a_fresh_venv_agrees_with_the_native_cli() {
    let dir = tempfile::tempdir().unwrap();
    let env = venv(dir.path());
    let python = env.join("bin/python");

    // The typed package: version tied to the crate's, type hints shipped.
    let meta = run(Command::new(&python).args([
        "-c",
        "import eventlog_validator as ev, importlib.resources as r; \
         print(ev.__version__, ev.rules_version(), r.files(ev).joinpath('py.typed').is_file())",
    ]));
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        String::from_utf8_lossy(&meta.stdout).trim(),
        format!("{version} {version} True")
    );

    // Every differential case through validate(), byte for byte.
    let cases = eventlog_tests::cases::all();
    assert!(cases.len() > 5000, "{}", cases.len());
    let (corpus, native) = eventlog_tests::cases::corpus_and_native(&cases);
    let corpus_path = dir.path().join("corpus.jsonl");
    std::fs::write(&corpus_path, corpus).unwrap();
    let script = r#"
import json, sys
from eventlog_validator import validate, Report
out = sys.stdout
for line in open(sys.argv[1]):
    case = json.loads(line)
    r = validate(bytes.fromhex(case["hex"]), case["name"])
    d = json.loads(r.json)
    # The dataclass says what the JSON says.
    assert isinstance(r, Report) and r.valid == d["valid"] and r.event == d.get("event")
    assert [(p.field, p.code, p.message) for p in r.errors] == [(e["field"], e["code"], e["message"]) for e in d["errors"]]
    assert len(r.name_findings) == len(d.get("name_findings") or [])
    out.write(r.json + "\n")
"#;
    let got = run(Command::new(&python).args(["-c", script]).arg(&corpus_path));
    let got = String::from_utf8(got.stdout).unwrap();
    let (a, b): (Vec<&str>, Vec<&str>) = (native.lines().collect(), got.lines().collect());
    assert_eq!(a.len(), b.len(), "number of reports");
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "report {i} differs");
    }
}

#[test]
fn require_valid_raises_with_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let env = venv(dir.path());
    let good = std::fs::read_to_string(testdata(
        "visit-events/files/log-submit-20250318-202250-42-ingest-form-899485-2025-03-03.json",
    ))
    .unwrap();
    let script = r#"
import json, sys
from eventlog_validator import require_valid, InvalidEvent, validate
good = sys.argv[1]
name = "prod/log-submit-20250318-202250-42-ingest-form-899485-2025-03-03.json"
assert require_valid(good, name).valid
bad = json.loads(good)
bad.update(ptid="ABCDEFGHIJKLM", module=None, pipeline_adcid=True)
del bad["gear_name"]
try:
    require_valid(json.dumps(bad), name)
    raise SystemExit("no exception for an invalid event")
except InvalidEvent as e:
    fields = sorted({p.field for p in e.report.errors})
    message = str(e)
    print(json.dumps({"fields": fields, "message": message, "count": len(e.report.problems)}))
# A valid event under a name that disagrees with it is refused too.
try:
    require_valid(good, "prod/log-submit-20250318-202250-42-ingest-form-111111-2025-03-03.json")
    raise SystemExit("no exception for a mismatching name")
except InvalidEvent as e:
    assert e.report.valid and e.report.name_findings, e
    assert "name_mismatch" in str(e), str(e)
"#;
    let out = run(Command::new(env.join("bin/python"))
        .args(["-c", script])
        .arg(&good));
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    let fields: Vec<&str> = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for f in ["gear_name", "pipeline_adcid", "ptid"] {
        assert!(fields.contains(&f), "{f} not among {fields:?}");
    }
    // One exception, every problem in its message.
    let message = v["message"].as_str().unwrap();
    let count = v["count"].as_u64().unwrap() as usize;
    assert!(count >= 3, "{v}");
    assert_eq!(message.lines().count(), count + 1, "{message}");
    for f in &fields {
        assert!(
            message.contains(&format!("  {f}: ")),
            "{f} missing from {message}"
        );
    }
}

/// The API takes what a gear holds (bytes, text, the event as a dict,
/// checked as `json.dumps(event).encode()`), refuses anything else with a
/// `TypeError` that says what it takes, and says when the pipeline will
/// never read a name; the wheel pins the wasmtime major it is tested with.
#[test]
fn the_api_takes_what_a_gear_holds_and_refuses_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let env = venv(dir.path());
    let good = std::fs::read_to_string(testdata(
        "visit-events/files/log-submit-20250318-202250-42-ingest-form-899485-2025-03-03.json",
    ))
    .unwrap();
    let script = r#"
import json, sys
from importlib import metadata
from eventlog_validator import validate, require_valid, InvalidEvent
good = sys.argv[1]
event = json.loads(good)
as_dict = validate(event)
assert as_dict.valid, as_dict
assert as_dict.json == validate(json.dumps(event).encode()).json
for wrong in (42, None, [1], 1.5):
    try:
        validate(wrong)
        raise SystemExit(f"no TypeError for {wrong!r}")
    except TypeError as e:
        assert "bytes, str, or the event as a dict" in str(e), str(e)
try:
    validate(good, name=7)
    raise SystemExit("no TypeError for a name that is not a str")
except TypeError as e:
    assert "name must be a str" in str(e), str(e)
r = validate(event, "submit-44914.json")
assert r.valid and [p.code for p in r.name_findings] == ["name_not_read"], r
try:
    require_valid(event, "drop/submit-44914.json")
    raise SystemExit("a name the pipeline never reads passed require_valid")
except InvalidEvent as e:
    assert "never read" in str(e), str(e)
requires = metadata.requires("eventlog-validator") or metadata.requires("eventlog_validator")
print(json.dumps({"requires": requires}))
"#;
    let out = run(Command::new(env.join("bin/python"))
        .args(["-c", script])
        .arg(&good));
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    let requires = v["requires"].to_string();
    assert!(
        requires.contains("wasmtime") && requires.contains('<'),
        "an upper bound: {requires}"
    );
}

#[test]
fn the_console_script_matches_eventlog_validate() {
    let dir = tempfile::tempdir().unwrap();
    let env = venv(dir.path());
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, br#"{"action": "x"}"#).unwrap();
    let files = testdata("visit-events/files");
    let golden = testdata("visit-events/golden");
    let missing = dir.path().join("missing.json");
    let cases: Vec<(Vec<&Path>, i32)> = vec![
        (vec![files.as_path()], 0),
        (vec![files.as_path(), golden.as_path(), bad.as_path()], 1),
        (vec![bad.as_path(), missing.as_path()], 2),
    ];
    for (paths, code) in cases {
        for format in ["text", "json"] {
            let py = Command::new(env.join("bin/eventlog-validate"))
                .args(["--format", format])
                .args(&paths)
                .output()
                .unwrap();
            let native = Command::new(bin("eventlog"))
                .args(["validate", "--format", format])
                .args(&paths)
                .output()
                .unwrap();
            assert_eq!(py.status.code(), Some(code), "{paths:?} {format}");
            assert_eq!(native.status.code(), Some(code), "{paths:?} {format}");
            assert_eq!(
                String::from_utf8_lossy(&py.stdout),
                String::from_utf8_lossy(&native.stdout),
                "{paths:?} {format}"
            );
            assert!(!py.stdout.is_empty());
        }
    }
}
