// Runs the checkers off the main thread, so the page stays responsive
// with thousands of files. Visit events (.json) and xAPI statement files
// (.jsonl) both come back as one report per file.
import init, { validateBatchPlain, explain, checkXapiJson, checkXapiRawJson, version } from "./pkg/eventlog_wasm.js";

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
  report.plain = report.errors.map((e) => explain(e.field, e.code, e.message, undefined));
  report.places = report.errors.map((e) => e.field);
  return report;
}

// An object for the raw-events target: it loads whole or not at all, so
// every failing line is named and the summary says whether any row loads.
function xapiRawReport(bytes, name) {
  const report = { xapi: true, target: "raw-events", errors: [], statements: 0, failing: 0, attributions: 0, eventTypes: {} };
  for (const text of checkXapiRawJson(bytes, name).split("\n")) {
    if (!text) continue;
    const l = JSON.parse(text);
    report.statements++;
    if (l.problem) {
      report.failing++;
      report.firstFailing = report.firstFailing || l.line;
      const where = l.problem.field === "line" ? `line ${l.line}` : `line ${l.line}: ${l.problem.field}`;
      report.errors.push({ field: where, code: l.problem.code, message: l.problem.message });
    } else {
      report.attributions += l.attributions;
      report.eventTypes[l.event_type] = (report.eventTypes[l.event_type] || 0) + 1;
    }
  }
  report.valid = report.errors.length === 0;
  report.plain = report.errors.map((e) => explain(e.field, e.code, e.message, undefined));
  report.places = report.errors.map((e) => e.field);
  return report;
}

// A file the checker itself failed on (a trap in the WebAssembly module:
// a bug of ours, never the file's fault). The file is reported on its own;
// the module may be left in a broken state, so the page starts a fresh
// worker for the files after it.
const internal = (name, err) => ({
  path: name,
  valid: false,
  internal: true,
  errors: [{ field: "__file__", code: "internal_error", message: `The checker failed on this file (${(err && err.message) || err}). Please report it; the other files are checked as usual.` }],
  plain: [`The checker failed on this file (${(err && err.message) || err}). This is a fault of the checker, not of the file: please report it. The other files are checked as usual.`],
  places: ["the file"],
});

let target = "five-tables";
const xapiCheck = (bytes, name) => (target === "raw-events" ? xapiRawReport(bytes, name) : xapiReport(bytes, name));
const checkOne = (bytes, name) => (isXapi(name) ? xapiCheck(bytes, name) : JSON.parse(validateBatchPlain([bytes], [name])));

onmessage = async (e) => {
  await ready;
  const { id, names, buffers, single } = e.data;
  target = e.data.target || "five-tables";
  const bytes = buffers.map((b) => new Uint8Array(b));
  const reports = new Array(names.length);
  if (!single) {
    try {
      const events = names.map((n, i) => i).filter((i) => !isXapi(names[i]));
      if (events.length) {
        const lines = validateBatchPlain(events.map((i) => bytes[i]), events.map((i) => names[i]));
        lines.split("\n").filter((l) => l).forEach((l, k) => {
          reports[events[k]] = JSON.parse(l);
        });
      }
      names.forEach((n, i) => {
        if (isXapi(n)) reports[i] = xapiCheck(bytes[i], n);
      });
    } catch (err) {
      // Which file failed is unknown: the page sends the batch again, to a
      // fresh worker, one file at a time.
      postMessage({ type: "crashed", id, done: [] });
      return;
    }
    postMessage({ type: "reports", id, done: reports.map((r, i) => [i, r]) });
    return;
  }
  const done = [];
  for (let i = 0; i < names.length; i++) {
    try {
      done.push([i, checkOne(bytes[i], names[i])]);
    } catch (err) {
      done.push([i, internal(names[i], err)]);
      postMessage({ type: "crashed", id, done });
      return;
    }
  }
  postMessage({ type: "reports", id, done });
};
