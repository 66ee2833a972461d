//! The two npm packages (built by scripts/build-wasm.sh, finished by
//! wasm/npm/finish.mjs) as a user gets them: `npm pack`, the tarball
//! installed into a scratch project, then used from `require` and from
//! `import`, with reports byte-identical to the native ones.

use std::path::{Path, PathBuf};
use std::process::Command;

use eventlog_tests::packages::install;
use eventlog_tests::run_ok as run;

/// Reports of the first cases, natively, and the corpus file for the JS side.
fn corpus(dir: &Path) -> (PathBuf, String) {
    let cases: Vec<_> = eventlog_tests::cases::all().into_iter().take(400).collect();
    let (text, native) = eventlog_tests::cases::corpus_and_native(&cases);
    let path = dir.join("corpus.jsonl");
    std::fs::write(&path, text).unwrap();
    (path, native)
}

fn node(dir: &Path, esm: bool, script: &str, corpus: &Path) -> String {
    let mut cmd = Command::new("node");
    if esm {
        cmd.arg("--input-type=module");
    }
    let out = run(cmd
        .args(["-e", script])
        .arg(corpus)
        .env("WANT_VERSION", env!("CARGO_PKG_VERSION"))
        .current_dir(dir));
    String::from_utf8(out.stdout).unwrap()
}

fn same(label: &str, native: &str, got: &str) {
    let (a, b): (Vec<&str>, Vec<&str>) = (native.lines().collect(), got.lines().collect());
    assert_eq!(a.len(), b.len(), "{label}: number of reports");
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "{label}: report {i} differs");
    }
}

const CORPUS_LOOP: &str = r#"
const lines = fs.readFileSync(process.argv[1], "utf8").split("\n").filter((l) => l);
const out = lines.map((l) => { const c = JSON.parse(l); return v.validateJson(new Uint8Array(Buffer.from(c.hex, "hex")), c.name ?? undefined); });
// The same text given as a string (the host encodes it into the module's
// memory) must get the same report as its bytes.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
let asStrings = 0;
lines.forEach((l, i) => {
  const c = JSON.parse(l);
  let text;
  try { text = utf8.decode(Buffer.from(c.hex, "hex")); } catch { return; }
  if (v.validateJson(text, c.name ?? undefined) !== out[i]) throw new Error(`case ${i}: the string's report differs from the bytes'`);
  asStrings++;
});
if (asStrings < 100) throw new Error(`only ${asStrings} cases compared as strings`);
// Strings longer than the first try's 64 KiB (encoded again into room made
// for them), and a string after the module's memory has grown (which
// detaches the view it encodes into).
const long = (c, n) => `{"ptid":"${c.repeat(n)}","study":"adrc"}`;
// A long argument to another export grows the memory and leaves the input
// buffer where it is.
const grow = () => v.explain("f", "c", "x".repeat(32 << 20), undefined);
const odds = ["", "\ud800", "{\"ptid\":\"\udfff\u00e9\ud83d\ude00\"}", long("x", 70000), long("\u00e9", 40000), long("\ud83d\ude00", 20000), "GROW", "{\"ptid\":\"\u00e9\"}"];
for (const odd of odds) {
  if (odd === "GROW") { grow(); continue; }
  if (v.validateJson(odd) !== v.validateJson(new TextEncoder().encode(odd))) throw new Error(`string ${JSON.stringify(odd.slice(0, 40))} differs from its UTF-8`);
}
// Bytes are copied into the module's memory through a view kept between
// calls: a view at an offset into a larger buffer, an ArrayBuffer, bytes
// longer than 64 KiB, and bytes after the memory has grown must each get
// the report of a fresh Uint8Array of the same bytes.
const fresh = (s) => new TextEncoder().encode(s);
const byteCases = odds.filter((o) => o !== "GROW");
const before = byteCases.map((o) => v.validateJson(fresh(o)));
if (new Set(before).size < 4) throw new Error("the byte reports do not tell the cases apart");
byteCases.forEach((o, i) => {
  const b = fresh(o);
  const padded = new Uint8Array(b.length + 7);
  padded.set(b, 5);
  for (const input of [padded.subarray(5, 5 + b.length), b.slice().buffer]) {
    if (v.validateJson(input) !== before[i]) throw new Error(`bytes of case ${i} as ${input.constructor.name} differ`);
  }
});
grow();
byteCases.forEach((o, i) => {
  if (v.validateJson(fresh(o)) !== before[i]) throw new Error(`bytes of case ${i} differ after the memory grew`);
});
if (v.version() !== process.env.WANT_VERSION) throw new Error(`version ${v.version()}`);
const typed = v.validate(new Uint8Array(Buffer.from("{}")), undefined);
if (typed.valid !== false || !typed.errors.length) throw new Error("validate() did not return the report object");
process.stdout.write(out.join("\n") + "\n");
"#;

#[test]
fn the_node_package_installs_and_works_from_require_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let (project, installed, meta) = install("pkg-node", "eventlog-validator", dir.path());
    assert_eq!(meta["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(meta["license"], "MIT OR Apache-2.0");
    assert!(installed.join(meta["types"].as_str().unwrap()).exists());
    assert!(
        std::fs::read_to_string(installed.join("README.md"))
            .unwrap()
            .contains("require(\"eventlog-validator\")")
    );

    let (corpus, native) = corpus(dir.path());
    let cjs =
        format!("const fs = require('fs'); const v = require('eventlog-validator');{CORPUS_LOOP}");
    let esm =
        format!("import fs from 'node:fs'; import * as v from 'eventlog-validator';{CORPUS_LOOP}");
    same("require", &native, &node(&project, false, &cjs, &corpus));
    same("import", &native, &node(&project, true, &esm, &corpus));
}

#[test]
fn the_web_package_installs_and_works_from_import() {
    let dir = tempfile::tempdir().unwrap();
    let (project, installed, meta) = install("pkg-web", "eventlog-validator-web", dir.path());
    assert_eq!(meta["type"], "module");
    assert_eq!(meta["version"], env!("CARGO_PKG_VERSION"));
    assert!(installed.join("README.md").exists());
    let (corpus, native) = corpus(dir.path());
    // No fetch of file: URLs in Node: the bytes are handed to initSync.
    let esm = format!(
        "import fs from 'node:fs'; import * as v from 'eventlog-validator-web';
         v.initSync({{ module: fs.readFileSync(new URL(import.meta.resolve('eventlog-validator-web/eventlog_wasm_bg.wasm'))) }});{CORPUS_LOOP}"
    );
    same(
        "import (web)",
        &native,
        &node(&project, true, &esm, &corpus),
    );
}
