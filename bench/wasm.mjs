// Validations per second: the native core, the nodejs wasm package, the
// web wasm package in Chromium, and ajv with the reference model's JSON
// Schema (testdata/visit-events/visit-event.schema.json) on the same
// documents. ajv checks the schema only: no lax coercions, no calendar or
// timezone handling, no file-name check; it is a floor for "checking JSON
// against a schema" in JavaScript.
//
//   scripts/build-wasm.sh && node bench/wasm.mjs [COUNT]
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(repo, "tests/web/package.json"));
const { chromium } = require("playwright-core");
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats").default;
const wasm = require(path.join(repo, "target/wasm/pkg-node"));
const COUNT = Number(process.argv[2] || 100000);

// The same generator as core/benches/validate.rs (xorshift, same mix).
function* events(n) {
  let s = 0x9e3779b97f4a7c15n;
  const mask = (1n << 64n) - 1n;
  const next = () => {
    s ^= (s << 13n) & mask;
    s ^= s >> 7n;
    s ^= (s << 17n) & mask;
    return s;
  };
  const below = (k) => Number(next() % BigInt(k));
  const pad = (v, w = 2) => String(v).padStart(w, "0");
  for (let i = 0; i < n; i++) {
    const action = ["submit", "pass-qc", "not-pass-qc", "delete"][below(4)];
    const r = below(10);
    const [datatype, extra] = r <= 5 ? ["form", `,"module":"${["UDS", "FTLD", "LBD"][below(3)]}","packet":"I"`] : r <= 7 ? ["dicom", ',"modality":"MR"'] : r === 8 ? ["enrollment", ""] : ["biomarker", ""];
    const y = 2020 + below(6), mo = 1 + below(12), d = 1 + below(28), h = below(24), mi = below(60), se = below(60);
    const z = below(3);
    const ts = z === 0 ? `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(se)}Z` : z === 1 ? `${y}-${pad(mo)}-${pad(d)} ${pad(h)}:${pad(mi)}:${pad(se)}` : `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(se)}.${pad(below(1000000), 6)}-05:00`;
    const adcid = below(60);
    const ptid = below(20) === 0 ? "12345678901" : String(below(999999));
    const visit = `${y}-${pad(1 + below(12))}-${pad(1 + below(28))}`;
    yield `{"action":"${action}","study":"adrc","project_label":"ingest-${datatype}","center_label":"alpha","gear_name":"form-qc-checker","datatype":"${datatype}","timestamp":"${ts}","visit_date":"${visit}","pipeline_adcid":${adcid},"ptid":"${ptid}","naccid":"NACC${pad(below(999999), 6)}","visit_number":"01"${extra}}`;
  }
}

const docs = [...events(COUNT)];
const bytes = docs.map((d) => new TextEncoder().encode(d));
const rows = [];
const time = (label, fn) => {
  fn(); // warm up
  let best = Infinity, valid = 0;
  for (let k = 0; k < 3; k++) {
    const t = performance.now();
    valid = fn();
    best = Math.min(best, performance.now() - t);
  }
  rows.push([label, valid, best / 1000]);
};

time("wasm in Node: validateJson per document, from bytes", () => {
  let v = 0;
  for (const b of bytes) if (wasm.validateJson(b).startsWith('{"valid":true')) v++;
  return v;
});
time("wasm in Node: validateBatch, 1 000 per call, from bytes", () => {
  let v = 0;
  for (let i = 0; i < bytes.length; i += 1000) {
    for (const line of wasm.validateBatch(bytes.slice(i, i + 1000)).split("\n")) if (line.startsWith('{"valid":true')) v++;
  }
  return v;
});
const schema = JSON.parse(fs.readFileSync(path.join(repo, "testdata/visit-events/visit-event.schema.json"), "utf8"));
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const check = ajv.compile(schema);
time("ajv (JSON.parse + schema, all errors) in Node, from strings", () => {
  let v = 0;
  for (const d of docs) if (check(JSON.parse(d))) v++;
  return v;
});
// What files and S3 objects arrive as in Node: Buffers, which JSON.parse
// needs as a string first (the wasm rows above take the bytes).
const buffers = bytes.map((b) => Buffer.from(b));
time("ajv (JSON.parse + schema, all errors) in Node, from Buffers as read", () => {
  let v = 0;
  for (const b of buffers) if (check(JSON.parse(b.toString("utf8")))) v++;
  return v;
});
time("wasm in Node: validateJson per document, from strings", () => {
  let v = 0;
  for (const d of docs) if (wasm.validateJson(d).startsWith('{"valid":true')) v++;
  return v;
});

// Chromium: the web package in a page served from 127.0.0.1.
const site = path.join(repo, "web-demo");
const server = http.createServer((req, res) => {
  const f = path.join(site, req.url === "/" ? "index.html" : req.url);
  const t = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html", ".css": "text/css" }[path.extname(f)] || "text/plain";
  if (!fs.existsSync(f)) return res.writeHead(404).end();
  res.writeHead(200, { "content-type": t });
  fs.createReadStream(f).pipe(res);
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const [seconds, valid] = await page.evaluate(async (docs) => {
    const m = await import("/pkg/eventlog_wasm.js");
    await m.default();
    const enc = docs.map((d) => new TextEncoder().encode(d));
    let best = Infinity, v = 0;
    for (let k = 0; k < 4; k++) {
      const t = performance.now();
      v = 0;
      for (let i = 0; i < enc.length; i += 1000) for (const l of m.validateBatch(enc.slice(i, i + 1000)).split("\n")) if (l.startsWith('{"valid":true')) v++;
      if (k > 0) best = Math.min(best, performance.now() - t);
    }
    return [best / 1000, v];
  }, docs);
  rows.push(["wasm in Chromium: validateBatch, 1 000 per call", valid, seconds]);
} finally {
  await browser.close();
  server.close();
}

// Native, for the same table.
const native = execFileSync("cargo", ["bench", "-q", "-p", "eventlog-core", "--bench", "validate", "--", String(COUNT)], { cwd: repo, encoding: "utf8" });
const cells = native.split("\n").find((l) => l.startsWith("| content only")).split("|").map((c) => c.trim());
rows.unshift(["native (Rust, one core)", Number(cells[3]), Number(cells[4])]);

console.log(`| engine | documents | valid | seconds | validations/s |`);
console.log(`|---|---:|---:|---:|---:|`);
for (const [label, valid, secs] of rows) console.log(`| ${label} | ${COUNT} | ${valid} | ${secs.toFixed(3)} | ${Math.round(COUNT / secs).toLocaleString("en-US")} |`);

// Each wasm row against ajv given the same input, from this run.
const secs = (prefix) => rows.find(([l]) => l.startsWith(prefix))[2];
console.log(`\n| input | wasm (s) | ajv (s) | ajv time / wasm time |`);
console.log(`|---|---:|---:|---:|`);
for (const [input, w, a] of [
  ["bytes (files, S3 objects)", "wasm in Node: validateJson per document, from bytes", "ajv (JSON.parse + schema, all errors) in Node, from Buffers"],
  ["strings", "wasm in Node: validateJson per document, from strings", "ajv (JSON.parse + schema, all errors) in Node, from strings"],
]) console.log(`| ${input} | ${secs(w).toFixed(3)} | ${secs(a).toFixed(3)} | ${(secs(a) / secs(w)).toFixed(2)}x |`);
