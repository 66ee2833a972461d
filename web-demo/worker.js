// Runs the checkers off the main thread, so the page stays responsive
// with thousands of files. Visit events (.json) and xAPI statement files
// (.jsonl) both come back as one report per file.
import init, { validateBatch, checkXapiJson, version } from "./pkg/eventlog_wasm.js";

const ready = init().then(() => {
  postMessage({ type: "ready", version: version() });
});

const isXapi = (name) => name.toLowerCase().endsWith(".jsonl");

// An xAPI file's line reports folded into the page's report shape: every
// invalid line and every schema issue is a problem named by its line.
function xapiReport(bytes, name) {
  const report = { xapi: true, errors: [], loadable: 0, unknown: 0, invalidLines: 0, tables: {}, verbs: {} };
  for (const text of checkXapiJson(bytes, name).split("\n")) {
    if (!text) continue;
    const l = JSON.parse(text);
    if (l.verdict === "invalid") {
      report.invalidLines++;
      report.errors.push({ field: `line ${l.line}`, code: "xapi_invalid_line", message: l.reason });
    } else if (l.verdict === "unknown") {
      report.unknown++;
      report.verbs[l.verb] = (report.verbs[l.verb] || 0) + 1;
    } else {
      report.loadable++;
      report.tables[l.table] = (report.tables[l.table] || 0) + 1;
      for (const i of l.issues) report.errors.push({ field: `line ${l.line}: ${i.field}`, code: i.code, message: i.message });
    }
  }
  report.valid = report.errors.length === 0;
  return report;
}

onmessage = async (e) => {
  await ready;
  const { id, names, buffers } = e.data;
  const bytes = buffers.map((b) => new Uint8Array(b));
  const reports = new Array(names.length);
  const events = names.map((n, i) => i).filter((i) => !isXapi(names[i]));
  if (events.length) {
    const lines = validateBatch(events.map((i) => bytes[i]), events.map((i) => names[i]));
    lines.split("\n").filter((l) => l).forEach((l, k) => {
      reports[events[k]] = JSON.parse(l);
    });
  }
  names.forEach((n, i) => {
    if (isXapi(n)) reports[i] = xapiReport(bytes[i], n);
  });
  postMessage({ type: "reports", id, reports });
};
