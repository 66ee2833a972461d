//! The WebAssembly builds (scripts/build-wasm.sh, run by scripts/test.sh
//! before these tests): byte-identical reports natively, in Node and in
//! wasmtime; the browser checker end to end; the bundle size.

use std::path::PathBuf;
use std::process::Command;

use eventlog_tests::{python, repo, testdata};

fn built(rel: &str) -> PathBuf {
    let p = repo().join(rel);
    assert!(
        p.exists(),
        "{} is missing: run scripts/build-wasm.sh (scripts/test.sh does)",
        p.display()
    );
    p
}

#[test]
fn reports_are_byte_identical_natively_in_node_and_in_wasmtime() {
    let cases = eventlog_tests::cases::all();
    assert!(cases.len() > 5000, "a few thousand cases: {}", cases.len());
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus.jsonl");
    let (text, native) = eventlog_tests::cases::corpus_and_native(&cases);
    std::fs::write(&corpus, text).unwrap();

    let corpus = corpus.to_str().unwrap();
    let node = node_example(&["--corpus", corpus], Some(0));
    let py = python_example(&["--corpus", corpus]);

    same_lines("node", &native, node.stdout);
    same_lines("wasmtime", &native, py.stdout);
}

/// examples/node/check-events.cjs on the nodejs package, expecting `code`.
fn node_example(args: &[&str], code: Option<i32>) -> std::process::Output {
    let out = Command::new("node")
        .arg(repo().join("examples/node/check-events.cjs"))
        .args(args)
        .env("EVENTLOG_WASM_NODE", built("target/wasm/pkg-node"))
        .output()
        .expect("node");
    assert_eq!(
        out.status.code(),
        code,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The Python gear example on the raw module, through wasmtime.
fn python_example(args: &[&str]) -> std::process::Output {
    let out = Command::new(python())
        .arg(repo().join("examples/python-gear/validate_before_logging.py"))
        .arg("--wasm")
        .arg(built("target/wasm/raw/eventlog_validator.wasm"))
        .args(args)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `got` (a host's output) has exactly the lines of `expected`.
fn same_lines(label: &str, expected: &str, got: Vec<u8>) {
    let got = String::from_utf8(got).unwrap();
    let (a, b): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), got.lines().collect());
    assert_eq!(a.len(), b.len(), "{label}: number of reports");
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "{label}: report {i} differs");
    }
}

#[test]
fn web_bundle_is_under_200_kb_gzipped() {
    let wasm = built("target/wasm/pkg-web/eventlog_wasm_bg.wasm");
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(&wasm)
        .output()
        .expect("gzip");
    let gz = out.stdout.len();
    eprintln!(
        "web bundle: {} bytes, {gz} gzipped",
        std::fs::metadata(&wasm).unwrap().len()
    );
    assert!(gz < 200 * 1024, "{gz} bytes gzipped");
}

#[test]
fn browser_checker_end_to_end() {
    built("web-demo/pkg/eventlog_wasm_bg.wasm");
    let node_modules = built("tests/web/node_modules/playwright-core");
    assert!(node_modules.exists());
    let artifacts = repo().join("target/test-artifacts");
    let hostile = tempfile::tempdir().unwrap();
    for (i, n) in eventlog_tests::hostile::names().iter().enumerate() {
        std::fs::write(
            hostile.path().join(n),
            eventlog_tests::hostile::event(&format!("H{i}")),
        )
        .unwrap();
    }
    let faults = built("target/wasm/pkg-web-faults");
    let out = Command::new("node")
        .arg(repo().join("tests/web/e2e.mjs"))
        .args(["--site", repo().join("web-demo").to_str().unwrap()])
        .args([
            "--samples",
            testdata("visit-events/files").to_str().unwrap(),
        ])
        .args(["--xapi", testdata("xapi/examples.jsonl").to_str().unwrap()])
        .args(["--artifacts", artifacts.to_str().unwrap()])
        .args(["--hostile", hostile.path().to_str().unwrap()])
        .args(["--faults-pkg", faults.to_str().unwrap()])
        .output()
        .expect("node tests/web/e2e.mjs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["requests_after_load"], 0);
    assert_eq!(
        summary["hostile_names"].as_u64(),
        Some(eventlog_tests::hostile::names().len() as u64)
    );
    assert_eq!(summary["trapped_file_isolated"], true);
    assert!(artifacts.join("web-demo.png").exists());
    eprintln!("browser: {summary}");
}

/// Every object member of `v`, as a path of keys (arrays are left whole).
fn member_paths(v: &serde_json::Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if let serde_json::Value::Object(o) = v {
        for (k, child) in o {
            prefix.push(k.clone());
            out.push(prefix.clone());
            member_paths(child, prefix, out);
            prefix.pop();
        }
    }
}

fn without(v: &serde_json::Value, path: &[String]) -> serde_json::Value {
    let mut v = v.clone();
    let mut cur = &mut v;
    for k in &path[..path.len() - 1] {
        cur = cur.get_mut(k).expect("path exists");
    }
    cur.as_object_mut()
        .expect("object")
        .remove(&path[path.len() - 1]);
    v
}

/// The example statements, each also with every member removed in turn,
/// plus lines no loader should take: every verdict and many schema issues.
fn xapi_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for name in ["examples.jsonl", "examples-extra.jsonl"] {
        let text = std::fs::read_to_string(testdata(&format!("xapi/{name}"))).unwrap();
        let copy = dir.join(name);
        std::fs::write(&copy, &text).unwrap();
        files.push(copy);
        let mut mutated = String::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let mut paths = Vec::new();
            member_paths(&v, &mut Vec::new(), &mut paths);
            for p in paths {
                mutated.push_str(&serde_json::to_string(&without(&v, &p)).unwrap());
                mutated.push('\n');
            }
        }
        let path = dir.join(format!("mutated-{name}"));
        std::fs::write(&path, mutated).unwrap();
        files.push(path);
    }
    let first = std::fs::read_to_string(testdata("xapi/examples.jsonl")).unwrap();
    let first = first.lines().next().unwrap();
    let mut odd: Vec<u8> = Vec::new();
    for line in [
        &first[..first.len() / 2],
        "",
        "   \t",
        "[1,2]",
        "{\"timestamp\":\"2024-02-30T00:00:00Z\"}",
        "{\"timestamp\":\"2024-01-01T00:00:00Z\",\"verb\":{\"id\":\"http://example.com/liked\"}}",
        "{\"n\":1e999,\"timestamp\":\"2024-01-01T00:00:00Z\"}",
    ] {
        odd.extend_from_slice(line.as_bytes());
        odd.extend_from_slice(b"\r\n");
    }
    odd.extend_from_slice(b"{\"id\":\"\xff\xfe\"}\n");
    // The last line has no newline.
    odd.extend_from_slice(first.replace("\"id\":", "\"id_\":").as_bytes());
    let path = dir.join("odd lines.jsonl");
    std::fs::write(&path, odd).unwrap();
    files.push(path);
    files
}

#[test]
fn xapi_line_reports_are_byte_identical_in_the_cli_natively_in_node_and_in_wasmtime() {
    let dir = tempfile::tempdir().unwrap();
    let files = xapi_files(dir.path());
    let names: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();

    let mut native = String::new();
    for (path, name) in files.iter().zip(&names) {
        native.push_str(
            &eventlog_core::xapi::check::check_jsonl(&std::fs::read(path).unwrap(), Some(name)).0,
        );
    }
    let verdicts: Vec<serde_json::Value> = native
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |f: &dyn Fn(&serde_json::Value) -> bool| verdicts.iter().filter(|v| f(v)).count();
    assert!(count(&|v| v["verdict"] == "loadable" && v["issues"] == serde_json::json!([])) >= 5);
    assert!(count(&|v| v["verdict"] == "loadable" && v["issues"] != serde_json::json!([])) > 50);
    assert!(count(&|v| v["verdict"] == "unknown") >= 1);
    assert!(count(&|v| v["verdict"] == "invalid") >= 5);

    let cli =
        eventlog_tests::eventlog(&[&["xapi", "check", "--format", "json"][..], &names].concat());
    assert_eq!(cli.status.code(), Some(1), "problems found: exit 1");
    let node = node_example(&[&["--xapi"][..], &names].concat(), Some(1));
    let py = python_example(&[&["--xapi"][..], &names].concat());
    same_lines("cli", &native, cli.stdout);
    same_lines("node", &native, node.stdout);
    same_lines("wasmtime", &native, py.stdout);
}
