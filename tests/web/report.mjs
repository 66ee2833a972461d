// The report page in Chromium (playwright-core): served from 127.0.0.1,
// no request after the page itself, no script, every row of every table
// on the page is a row of a CSV file, readable at 390 px; screenshots at
// desktop and phone width are kept.
//
//   node tests/web/report.mjs --report DIR --artifacts target/test-artifacts
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { chromium } from "playwright-core";

const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : null;
};
const dir = path.resolve(arg("report"));
const artifacts = path.resolve(arg("artifacts"));
fs.mkdirSync(artifacts, { recursive: true });
let failed = 0;
const check = (cond, msg) => {
  if (!cond) {
    failed++;
    console.error(`FAIL: ${msg}`);
  }
};

const served = [];
const server = http.createServer((req, res) => {
  served.push(req.url);
  const p = path.join(dir, decodeURIComponent(req.url.split("?")[0]));
  if (!p.startsWith(dir) || !fs.existsSync(p) || fs.statSync(p).isDirectory()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "content-type": p.endsWith(".html") ? "text/html" : "text/plain" }).end(fs.readFileSync(p));
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${server.address().port}/index.html`;

// Every CSV row, as JSON of its cells.
function parseCsv(text) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n") { row.push(cell); rows.push(row); row = []; cell = ""; }
    else cell += c;
  }
  return rows.slice(1);
}
const csvRows = new Set();
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".csv"))) {
  for (const r of parseCsv(fs.readFileSync(path.join(dir, f), "utf8"))) csvRows.add(JSON.stringify(r));
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
const summary = {};
try {
  for (const [label, width] of [["desktop", 1280], ["390", 390]]) {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    const requests = [];
    page.on("request", (r) => requests.push(r.url()));
    served.length = 0;
    await page.goto(url, { waitUntil: "networkidle" });
    await page.waitForTimeout(300);
    check(requests.length === 1 && served.length === 1, `${label}: only the page itself was requested: ${requests.join(", ")}`);
    const facts = await page.evaluate(() => ({
      scripts: document.scripts.length,
      svgs: document.querySelectorAll("figure svg").length,
      sections: [...document.querySelectorAll("section")].map((s) => ({
        id: s.id,
        reading: s.querySelector(".reading")?.textContent ?? "",
        rows: [...s.querySelectorAll("tbody tr")].map((tr) => [...tr.cells].map((td) => td.textContent)),
      })),
      scrollWidth: document.documentElement.scrollWidth,
    }));
    check(facts.scripts === 0, `${label}: no script on the page`);
    check(facts.svgs === 5 && facts.sections.length === 5, `${label}: five charts in five sections (${facts.svgs}, ${facts.sections.length})`);
    let rows = 0;
    for (const s of facts.sections) {
      check(s.reading.length > 20, `${label}: ${s.id} has a reading`);
      for (const r of s.rows) {
        rows++;
        check(csvRows.has(JSON.stringify(r)), `${label}: ${s.id} row ${JSON.stringify(r)} is not a CSV row`);
      }
    }
    check(rows > 0, `${label}: the tables have rows`);
    check(facts.scrollWidth <= width, `${label}: nothing wider than the screen (${facts.scrollWidth} px)`);
    await page.screenshot({ path: path.join(artifacts, `report-${label}.png`), fullPage: true });
    // Printed, every row of every table is on paper (no scrolling box).
    await page.emulateMedia({ media: "print" });
    const clipped = await page.evaluate(() =>
      [...document.querySelectorAll(".table")].filter((d) => d.scrollHeight > d.clientHeight + 1).length);
    check(clipped === 0, `${label}: printed, ${clipped} tables are cut off`);
    await page.emulateMedia({ media: "screen" });
    summary[label] = { rows, scroll_width: facts.scrollWidth };
    await context.close();
  }
} finally {
  await browser.close();
  server.close();
}
console.log(JSON.stringify(summary));
process.exit(failed ? 1 : 0);
