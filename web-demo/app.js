// The page: collect files, send them to the worker in batches, show reports.

const $ = (id) => document.getElementById(id);
const PAGE = 100;
const BATCH = 200;

const KIND = {
  json_invalid: "Not valid JSON",
  json_encoding: "Not readable text",
  json_integer_too_long: "Absurdly long number",
  json_too_deep: "Nested too deeply",
  model_type: "Not a single JSON object",
  value_error: "Module or modality does not fit the datatype",
  missing: "Required field missing",
  extra_forbidden: "Unknown field",
  string_type: "Should be text",
  string_unicode: "Broken text encoding",
  string_too_long: "Too long",
  string_pattern_mismatch: "Wrong format",
  literal_error: "Not one of the allowed values",
  int_type: "Should be a whole number",
  int_parsing: "Not a whole number",
  int_parsing_size: "Number too large",
  int_from_float: "Has a fraction",
  finite_number: "Not a finite number",
  bool_not_int: "True/false instead of a number",
  int32_range: "Number out of range",
  datetime_type: "Should be a date and time",
  datetime_parsing: "Date and time out of range",
  datetime_from_date_parsing: "Not a date and time",
  datetime_utc_overflow: "Date and time out of range in UTC",
  date_not_calendar: "Not a real calendar date",
  study_not_path_safe: "Study cannot be used as a folder name",
  unreadable: "File could not be read",
  internal_error: "The checker failed on this file",
  name_mismatch: "File name disagrees with the content",
  name_unparsed: "File name not in the event naming form",
  name_reference_skip: "Name the old pipeline silently ignored",
  name_not_read: "Name the pipeline never reads",
  xapi_invalid_line: "xAPI line the loader cannot load",
  not_utf8: "xAPI line that is not text",
  not_object: "xAPI line that is not one JSON object",
  container_type: "xAPI member that must be an object",
  int_range: "xAPI number out of its column's range",
  timestamp_invalid: "xAPI timestamp Python cannot read",
  subtype_type: "xAPI page sub-type that is not text",
  line_too_long: "xAPI line over the size limit",
  attribution_count: "xAPI statement with too many attributions",
  attribution_role: "xAPI attribution with a role and type that do not pair",
  attribution_key: "xAPI attribution without a key",
  attribution_timestamp: "xAPI attributed statement with an unusable timestamp",
  schema_type: "xAPI: wrong type for the statement schema",
  schema_const: "xAPI: value the statement kind does not allow",
  schema_required: "xAPI: member the statement schema requires is missing",
  schema_additional: "xAPI: member the statement schema does not allow",
  schema_no_match: "xAPI: matches no statement kind of the schema",
};
// Problems listed per file in the table; the CSV has them all.
const SHOWN = 50;
const checkable = (name) => /\.jsonl?$/i.test(name);
const kindOf = (code) => KIND[code] || code;

// `reports` holds one report per file path: checking a file again (picked
// again after a fix, or added twice) replaces its report in place.
const state = { reports: [], index: new Map(), pending: 0, page: 0, onlyProblems: false, query: "", nextId: 0, batch: null };
const batches = new Map();
// The xAPI files added, to check again when the target changes.
const xapiFiles = new Map();
let worker = null;

// The worker checks the files. If the checker fails on a file (a trap in
// the WebAssembly module), that worker is replaced and the files after it
// go to the new one, one at a time: one file never stops the others.
function startWorker() {
  worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  worker.onmessage = onWorkerMessage;
  worker.onerror = (e) => setStatus(`The checker failed to start: ${e.message}`);
}

// Buffers are copied, not transferred: if a worker has to be replaced,
// the batches it still held are sent again to the next one.
// `names` key the rows; `paths` are what the checker is told the files
// are called (a second "same.json" is keyed "same.json (2)" but is still
// called same.json).
function send(names, buffers, single, paths = names) {
  const id = state.nextId++;
  const target = $("xapi-target").value;
  batches.set(id, { names, buffers, single, target, paths });
  worker.postMessage({ id, names: paths, buffers, single, target });
}

function onWorkerMessage(e) {
  const msg = e.data;
  if (msg.type === "ready") {
    $("version").textContent = msg.version;
    if (!state.reports.length && !state.pending) setStatus("Ready. Add files to check them.");
    document.body.dataset.ready = "true";
    return;
  }
  const batch = batches.get(msg.id);
  batches.delete(msg.id);
  for (const [i, r] of msg.done) {
    r.path = batch.names[i];
    const at = state.index.get(r.path);
    if (at === undefined) {
      state.index.set(r.path, state.reports.length);
      state.reports.push(r);
    } else {
      state.reports[at] = r;
    }
    if (state.batch) state.batch.done++;
  }
  state.pending -= msg.done.length;
  if (msg.type === "crashed") {
    worker.terminate();
    startWorker();
    const done = new Set(msg.done.map(([i]) => i));
    const rest = batch.names.map((n, i) => i).filter((i) => !done.has(i));
    const waiting = [...batches.values()];
    batches.clear();
    if (rest.length) send(rest.map((i) => batch.names[i]), rest.map((i) => batch.buffers[i]), true, rest.map((i) => batch.paths[i]));
    for (const b of waiting) send(b.names, b.buffers, b.single, b.paths);
  }
  scheduleRender();
}
startWorker();

function setStatus(text) {
  $("status").textContent = text;
}

let renderQueued = false;
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

const pathOf = (f) => f.webkitRelativePath || f.relativePath || f.name;

async function addFiles(files) {
  // Each file keyed by its path where the browser gives one. Two files of
  // one pick or drop never share a key: without a path to tell them apart
  // (loose files from different folders), the second is "name (2)".
  // The same file given twice (same path, size and time) is checked once.
  const seen = new Map();
  const list = files.filter((f) => {
    if (!checkable(f.name) && files.length > 1) return false;
    const path = pathOf(f);
    const same = seen.get(path) || [];
    if (same.some((g) => g.size === f.size && g.lastModified === f.lastModified)) return false;
    same.push(f);
    seen.set(path, same);
    f.key = same.length === 1 ? path : `${path} (${same.length})`;
    return true;
  });
  if (!list.length) {
    setStatus("No .json or .jsonl files found there.");
    return;
  }
  // A new batch starts its own clock; files added while one is being
  // checked join it.
  if (!state.pending || !state.batch) state.batch = { started: performance.now(), count: 0, done: 0 };
  state.batch.count += list.length;
  state.pending += list.length;
  for (const f of list) if (/\.jsonl$/i.test(f.name)) xapiFiles.set(f.key, f);
  $("progress").hidden = false;
  $("clear").disabled = false;
  for (let i = 0; i < list.length; i += BATCH) {
    const chunk = list.slice(i, i + BATCH);
    const names = chunk.map((f) => f.key);
    const buffers = await Promise.all(chunk.map((f) => f.arrayBuffer().catch(() => new ArrayBuffer(0))));
    send(names, buffers, false, chunk.map(pathOf));
    scheduleRender();
  }
}

// Folders dropped: walk them with the entries API.
function readEntry(entry, prefix) {
  return new Promise((resolve) => {
    if (entry.isFile) {
      entry.file((f) => {
        // The path under what was dropped (the entry's own, for a file
        // inside a dropped folder).
        f.relativePath = (entry.fullPath || "").replace(/^\//, "") || prefix + f.name;
        resolve([f]);
      }, () => resolve([]));
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      const all = [];
      const next = () =>
        reader.readEntries(async (entries) => {
          if (!entries.length) {
            const nested = await Promise.all(all.map((e) => readEntry(e, prefix + entry.name + "/")));
            resolve(nested.flat());
          } else {
            all.push(...entries);
            next();
          }
        }, () => resolve([]));
      next();
    } else {
      resolve([]);
    }
  });
}

const drop = $("drop");
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", async (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  const items = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  const files = items.length ? (await Promise.all(items.map((en) => readEntry(en, "")))).flat() : [...e.dataTransfer.files];
  addFiles(files.filter((f) => checkable(f.name)));
});
// A real button: Enter and Space activate it like a click.
drop.addEventListener("click", () => $("files").click());
// The inputs are emptied after each pick, so picking the same file again
// (after fixing it) is a change, and it is checked again.
$("files").addEventListener("change", (e) => {
  const picked = [...e.target.files];
  e.target.value = "";
  addFiles(picked);
});
$("folder").addEventListener("change", (e) => {
  const picked = [...e.target.files].filter((f) => checkable(f.name));
  e.target.value = "";
  addFiles(picked);
});
// Another target: the xAPI files are checked again for it.
$("xapi-target").addEventListener("change", () => {
  if (xapiFiles.size) addFiles([...xapiFiles.values()]);
});
$("clear").addEventListener("click", () => {
  xapiFiles.clear();
  state.reports = [];
  state.index = new Map();
  state.page = 0;
  state.batch = null;
  $("files").value = "";
  $("folder").value = "";
  $("clear").disabled = true;
  render();
  setStatus("Cleared. Add files to check them.");
});
$("only-problems").addEventListener("change", (e) => {
  state.onlyProblems = e.target.checked;
  state.page = 0;
  render();
});
$("search").addEventListener("input", (e) => {
  state.query = e.target.value.trim().toLowerCase();
  state.page = 0;
  render();
});
$("prev").addEventListener("click", () => {
  state.page = Math.max(0, state.page - 1);
  render();
});
$("next").addEventListener("click", () => {
  state.page += 1;
  render();
});
$("download").addEventListener("click", downloadCsv);

// Errors, then name findings, each with its plain words and place (from
// the checker; the code and message stay as the JSON report has them).
const problems = (r) =>
  [...r.errors.map((i) => ({ ...i, kind: "error" })), ...(r.name_findings || []).map((i) => ({ ...i, kind: "name" }))].map((p, k) => ({
    ...p,
    plain: (r.plain && r.plain[k]) || p.message,
    place: (r.places && r.places[k]) || p.field,
  }));
// One definition of "has problems" for the counts, the filter and the table.
const hasProblems = (r) => !r.valid || (r.name_findings || []).length > 0;

function visible() {
  return state.reports.filter((r) => {
    if (state.onlyProblems && !hasProblems(r)) return false;
    if (!state.query) return true;
    return r.path.toLowerCase().includes(state.query) || problems(r).some((p) => p.field.toLowerCase().includes(state.query) || p.place.toLowerCase().includes(state.query));
  });
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  if (cls) td.className = cls;
  td.textContent = text;
  tr.appendChild(td);
  return td;
}

function render() {
  const reports = state.reports;
  const withProblems = reports.filter(hasProblems).length;
  const names = reports.filter((r) => (r.name_findings || []).length).length;
  $("results").hidden = reports.length === 0;
  $("n-files").textContent = reports.length;
  $("n-valid").textContent = reports.length - withProblems;
  $("n-invalid").textContent = withProblems;
  $("n-names").textContent = names;
  $("n-filter").textContent = `(${withProblems})`;
  const b = state.batch;
  if (b) {
    $("progress").max = Math.max(b.count, 1);
    $("progress").value = b.done;
  }
  const files = (n) => `${n} ${n === 1 ? "file" : "files"}`;
  if (state.pending > 0 && b) {
    setStatus(`Checking… ${b.done} of ${files(b.count)}`);
  } else if (reports.length && b) {
    $("progress").hidden = true;
    // The batch's time is taken once, when its last file comes back: a
    // redraw later (a search, a page) does not add to it.
    b.finished = b.finished || performance.now();
    const secs = ((b.finished - b.started) / 1000).toFixed(1);
    const all = reports.length === b.count ? "" : ` (${files(reports.length)} in the list)`;
    setStatus(`Checked ${files(b.count)} in ${secs} s${all}: ${reports.length - withProblems} without problems, ${withProblems} with problems.`);
  }

  // Problems by kind: files per code.
  const byCode = new Map();
  for (const r of reports) {
    for (const code of new Set(problems(r).map((p) => p.code))) byCode.set(code, (byCode.get(code) || 0) + 1);
  }
  const kinds = $("kinds").tBodies[0];
  kinds.replaceChildren();
  [...byCode.entries()].sort((a, b) => b[1] - a[1]).forEach(([code, n]) => {
    const tr = document.createElement("tr");
    tr.dataset.code = code;
    cell(tr, kindOf(code));
    cell(tr, code, "code");
    cell(tr, String(n), "num");
    kinds.appendChild(tr);
  });
  $("kinds-wrap").hidden = byCode.size === 0;

  // The current page of files.
  const rows = visible();
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  state.page = Math.min(state.page, pages - 1);
  const body = $("table").tBodies[0];
  body.replaceChildren();
  for (const r of rows.slice(state.page * PAGE, (state.page + 1) * PAGE)) {
    const tr = document.createElement("tr");
    tr.className = r.valid ? ((r.name_findings || []).length ? "warn" : "ok") : "bad";
    cell(tr, r.path, "path").dataset.label = "File";
    cell(tr, r.valid ? ((r.name_findings || []).length ? "Valid, name to fix" : "Valid") : "Invalid", "verdict");
    const td = cell(tr, "");
    const ps = problems(r);
    if (r.xapi && r.target === "raw-events") {
      const p = document.createElement("p");
      p.className = "xapi";
      const types = Object.entries(r.eventTypes).map(([t, n]) => `${t} ${n}`).join(", ");
      p.textContent = r.failing
        ? `xAPI (raw_events): nothing of this file loads: ${r.failing} of ${r.statements} statements fail it, the first at line ${r.firstFailing}.`
        : `xAPI (raw_events): ${r.statements} statements load${types ? ` (${types})` : ""}; ${r.attributions} attribution rows.`;
      td.appendChild(p);
    } else if (r.xapi) {
      const p = document.createElement("p");
      p.className = "xapi";
      const tables = Object.entries(r.tables).map(([t, n]) => `${t} ${n}`).join(", ");
      p.textContent = `xAPI: ${r.loadable} statements load${tables ? ` (${tables})` : ""}; ${r.unknown} of other kinds; ${r.invalidLines} invalid lines.`;
      td.appendChild(p);
    }
    if (ps.length) {
      const ul = document.createElement("ul");
      for (const p of ps.slice(0, SHOWN)) {
        const li = document.createElement("li");
        li.className = p.kind;
        const field = document.createElement("span");
        field.className = "field";
        field.textContent = p.place;
        li.append(field, ` ${p.plain} `);
        const code = document.createElement("span");
        code.className = "code";
        code.textContent = kindOf(p.code);
        li.appendChild(code);
        ul.appendChild(li);
      }
      if (ps.length > SHOWN) {
        const li = document.createElement("li");
        li.textContent = `… and ${ps.length - SHOWN} more (all of them are in the CSV)`;
        ul.appendChild(li);
      }
      td.appendChild(ul);
    } else {
      td.append("No problems");
    }
    if (r.suggested_name) {
      const p = document.createElement("p");
      p.className = "suggested";
      const code = document.createElement("code");
      code.textContent = r.suggested_name;
      p.append("Name it: ", code);
      td.appendChild(p);
    }
    body.appendChild(tr);
  }
  $("page-info").textContent = rows.length ? `Page ${state.page + 1} of ${pages} (${rows.length} files)` : "No files match";
  $("prev").disabled = state.page === 0;
  $("next").disabled = state.page >= pages - 1;
}

function csvField(s) {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function downloadCsv() {
  const lines = ["file,verdict,kind,field,code,message,what to do"];
  for (const r of state.reports) {
    for (const p of problems(r)) {
      lines.push([r.path, r.valid ? "valid" : "invalid", p.kind === "name" ? "file name" : "content", p.field, p.code, p.message.replaceAll("`", '"'), p.plain].map(csvField).join(","));
    }
  }
  const url = URL.createObjectURL(new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = "event-file-problems.csv";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
