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
const csvOf = (f) => parseCsv(fs.readFileSync(path.join(dir, f), "utf8"));
const statusCenters = csvOf("visit_status.csv").map((r) => r[0]);
const timingCenters = csvOf("qc_timing.csv").map((r) => r[0]);
const monthlyCenters = [...new Set(csvOf("monthly_by_center.csv").map((r) => r[1]))];
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
      sections: [...document.querySelectorAll("section")].map((s) => ({
        id: s.id,
        finding: s.querySelector(".finding")?.textContent ?? "",
        rows: [...s.querySelectorAll("tbody tr")].map((tr) => [...tr.cells].map((td) => td.textContent)),
        headers: [...s.querySelectorAll("th")].map((th) => th.textContent),
      })),
      text: document.body.innerText,
      scrollWidth: document.documentElement.scrollWidth,
    }));
    check(facts.scripts === 0, `${label}: no script on the page`);
    check(facts.sections.length === 5, `${label}: five sections (${facts.sections.length})`);
    let rows = 0;
    for (const s of facts.sections) {
      check(s.finding.length > 20, `${label}: ${s.id} opens with its finding: ${s.finding}`);
      check(s.headers.every((h) => !h.includes("_")), `${label}: ${s.id} headers are words: ${s.headers}`);
      for (const r of s.rows) {
        rows++;
        check(csvRows.has(JSON.stringify(r)) || s.id === "monthly", `${label}: ${s.id} row ${JSON.stringify(r)} is not a CSV row`);
      }
    }
    check(rows > 0, `${label}: the tables have rows`);
    check(!/(^|[^0-9])-0(\.0+)?([^0-9.]|$)/.test(facts.text), `${label}: no "-0" on the page`);
    check(facts.scrollWidth <= width, `${label}: nothing wider than the screen (${facts.scrollWidth} px)`);
    // The charts as a reader sees them: every visible one drawn at its own
    // size, its texts inside it, none on another, none under 11 px, and
    // every center of its section's CSV labelled.
    const charts = await page.evaluate(() =>
      [...document.querySelectorAll("figure svg")]
        .filter((svg) => svg.getBoundingClientRect().width > 0)
        .map((svg) => {
          const box = svg.getBoundingClientRect();
          const texts = [...svg.querySelectorAll("text")].map((t) => {
            const r = t.getBoundingClientRect();
            return { s: t.textContent, x0: r.left, x1: r.right, y0: r.top, y1: r.bottom, size: parseFloat(getComputedStyle(t).fontSize) };
          });
          return {
            section: svg.closest("section").id,
            title: svg.querySelector("title")?.textContent ?? "",
            drawn: Number(svg.getAttribute("width")),
            shown: box.width,
            box: { x0: box.left, x1: box.right, y0: box.top, y1: box.bottom },
            texts,
          };
        }));
    check(charts.length >= 7, `${label}: the charts are shown (${charts.length})`);
    for (const c of charts) {
      const tag = `${label}: ${c.title}`;
      check(Math.abs(c.drawn - c.shown) < 1, `${tag}: drawn for the width it is shown at (${c.drawn} drawn, ${c.shown} shown)`);
      for (const t of c.texts) {
        check(t.size >= 11, `${tag}: "${t.s}" is ${t.size} px`);
        check(t.x0 >= c.box.x0 - 0.5 && t.x1 <= c.box.x1 + 0.5 && t.y0 >= c.box.y0 - 0.5 && t.y1 <= c.box.y1 + 0.5,
          `${tag}: "${t.s}" lies outside its chart`);
      }
      for (let i = 0; i < c.texts.length; i++) {
        for (let j = i + 1; j < c.texts.length; j++) {
          const a = c.texts[i], b = c.texts[j];
          const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0), h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
          check(!(w > 0.5 && h > 0.5), `${tag}: "${a.s}" and "${b.s}" overlap`);
        }
      }
      const file = { failures: "qc_timing.csv", timing: "qc_timing.csv", status: "visit_status.csv" }[c.section];
      if (file) {
        const labels = c.texts.map((t) => t.s);
        const seen = (center) => labels.some((l) => l === center || (l.endsWith("…") && center.startsWith(l.slice(0, -1))));
        const centers = file === "visit_status.csv" ? statusCenters : timingCenters;
        const missing = (c.section === "failures" ? monthlyCenters : centers).filter((center) => !seen(center));
        check(missing.length === 0, `${tag}: centers without a label: ${missing.slice(0, 5)}`);
      }
    }
    summary[label] = { rows, charts: charts.length };
    await page.screenshot({ path: path.join(artifacts, `report-${label}.png`), fullPage: true });
    // Printed, every row of every table is on paper (no scrolling box).
    await page.emulateMedia({ media: "print" });
    const clipped = await page.evaluate(() =>
      [...document.querySelectorAll(".table")].filter((d) => d.scrollHeight > d.clientHeight + 1).length);
    check(clipped === 0, `${label}: printed, ${clipped} tables are cut off`);
    await page.emulateMedia({ media: "screen" });
    await context.close();
  }
} finally {
  await browser.close();
  server.close();
}
console.log(JSON.stringify(summary));
process.exit(failed ? 1 : 0);
