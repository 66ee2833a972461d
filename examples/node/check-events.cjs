#!/usr/bin/env node
// Check visit-event files with eventlog's validator, from Node, through
// the `--target nodejs` package (scripts/build-wasm.sh builds it into
// target/wasm/pkg-node; `npm install` it like any package).
//
//   node examples/node/check-events.cjs FILE...        # a report per file, exit 1 if any is invalid
//   node examples/node/check-events.cjs --corpus F.jsonl   # one report line per {"hex","name"} case
//   node examples/node/check-events.cjs --xapi FILE.jsonl...  # xAPI statements: a JSON line per line, exit 1 on problems
"use strict";
const fs = require("fs");
const path = require("path");

const pkg = process.env.EVENTLOG_WASM_NODE || path.join(__dirname, "..", "..", "target", "wasm", "pkg-node");
const { validate, validateJson, checkXapiJson, version } = require(pkg);

const args = process.argv.slice(2);
if (args[0] === "--corpus") {
  const out = [];
  for (const line of fs.readFileSync(args[1], "utf8").split("\n")) {
    if (!line.trim()) continue;
    const c = JSON.parse(line);
    out.push(validateJson(new Uint8Array(Buffer.from(c.hex, "hex")), c.name ?? undefined));
  }
  process.stdout.write(out.join("\n") + "\n");
} else if (args[0] === "--xapi") {
  // The name is the path as given, as `eventlog xapi check --format json` names files.
  let problems = 0;
  for (const file of args.slice(1)) {
    const text = checkXapiJson(new Uint8Array(fs.readFileSync(file)), file);
    const lines = text.split("\n").filter((l) => l).map((l) => JSON.parse(l));
    problems += lines.filter((l) => l.verdict === "invalid" || (l.issues ?? []).length > 0).length;
    process.stdout.write(text);
  }
  process.exitCode = problems ? 1 : 0;
} else {
  let invalid = 0;
  console.error(`eventlog validator ${version()}`);
  for (const file of args) {
    // Bytes, not text: a BOM or UTF-16 is judged exactly as the pipeline judges it.
    const report = validate(new Uint8Array(fs.readFileSync(file)), path.basename(file));
    if (!report.valid) invalid++;
    console.log(`${report.valid ? "ok     " : "INVALID"} ${file}`);
    for (const e of report.errors) console.log(`        ${e.field}: ${e.message} [${e.code}]`);
    for (const f of report.name_findings ?? []) console.log(`        ${f.field}: ${f.message} [${f.code}]`);
  }
  process.exitCode = invalid ? 1 : 0;
}
