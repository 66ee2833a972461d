#!/usr/bin/env python3
"""`eventlog report` over 1 000 000 checkpoint rows, beside DuckDB (both use both cores).

    cargo build --release -p eventlog
    ~/.cache/eventlog/venv/bin/python bench/report_scale.py [--rows 1000000] [--groups 12]

Writes checkpoint files with Polars (the reference's writer: the report
reads them as they are), in `--groups` study/datatype folders, events of
~40 centers over 24 visit months with QC events and delays, then times in
one run, each a fresh process measured by its peak RSS:

* `eventlog report` (all six tables and the page);
* the peer: DuckDB (what a data manager would reach for), computing the same
  six tables from the same files with the queries of tests/python/report.py
  and writing them as CSV, in one `duckdb` Python process.

Prints a markdown table with the ratio.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import datetime as dt

import polars as pl

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.path.join(REPO, "target", "release", "eventlog")
sys.path.insert(0, HERE)
from xapi_load import measure  # noqa: E402

COLS = ["action", "study", "pipeline_adcid", "project_label", "center_label", "gear_name", "ptid", "naccid",
        "visit_date", "visit_number", "datatype", "module", "packet", "modality", "timestamp"]


def generate(root, rows, groups):
    rng = random.Random(3)
    studies = [("adrc", "form"), ("adrc", "dicom"), ("dvcid", "form"), ("leads", "dicom"), ("ftld", "form"), ("adrc", "apoe")]
    per = rows // groups
    for g in range(groups):
        study, datatype = studies[g % len(studies)]
        study = f"{study}{g // len(studies) or ''}"
        n, data = 0, {c: [] for c in COLS}
        while n < per:
            day = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(730))
            t = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc) + dt.timedelta(hours=rng.randrange(1, 100))
            center = f"center-{rng.randrange(40):02d}"
            ptid = f"{g}-{rng.randrange(10**7)}"
            steps = [("submit", t)]
            if rng.random() < 0.85:
                steps.append(("pass-qc" if rng.random() < 0.8 else "not-pass-qc", t + dt.timedelta(hours=rng.randrange(1, 24 * 60))))
            for action, when in steps:
                for c, v in (("action", action), ("study", study), ("pipeline_adcid", rng.randrange(1, 60)), ("project_label", "ingest-form"),
                             ("center_label", center), ("gear_name", "g"), ("ptid", ptid), ("naccid", None), ("visit_date", day.isoformat()),
                             ("visit_number", "01"), ("datatype", datatype), ("module", "UDS" if datatype == "form" else None),
                             ("packet", "I"), ("modality", None), ("timestamp", when)):
                    data[c].append(v)
                n += 1
        schema = {c: (pl.Int32 if c == "pipeline_adcid" else pl.Datetime("us", "UTC") if c == "timestamp" else pl.String) for c in COLS}
        d = os.path.join(root, study, datatype)
        os.makedirs(d, exist_ok=True)
        pl.DataFrame(data, schema=schema).sort(["timestamp", "ptid"]).write_parquet(os.path.join(d, "events.parquet"))


DUCKDB = r"""
import duckdb, sys, os
root, out = sys.argv[1], sys.argv[2]
db = duckdb.connect()
db.sql(f"CREATE VIEW ev AS SELECT * FROM read_parquet('{root}/*/*/events.parquet')")
latest = "(SELECT *, row_number() OVER (PARTITION BY ptid, visit_date, visit_number ORDER BY timestamp DESC, action, study, datatype) AS rn FROM ev)"
q = {
 "monthly_by_center.csv": "SELECT substr(visit_date,1,7) AS month, center_label, count(*) FILTER (WHERE action='submit'), count(*) FILTER (WHERE action='pass-qc'), count(*) FILTER (WHERE action='not-pass-qc') FROM ev GROUP BY ALL ORDER BY ALL",
 "qc_timing.csv": "WITH d AS (SELECT center_label, (epoch(timestamp) - epoch(CAST(visit_date AS DATE)::TIMESTAMPTZ))/86400.0 AS days FROM ev WHERE action IN ('pass-qc','not-pass-qc')) SELECT center_label, count(*), count(*) FILTER (WHERE days < 0), round(avg(days),2), round(quantile_cont(days,0.5),2), round(quantile_cont(days,0.9),2) FROM d GROUP BY ALL ORDER BY ALL",
 "visit_status.csv": f"WITH l AS (SELECT * FROM {latest} WHERE rn = 1), s AS (SELECT ptid, visit_date, visit_number, max(timestamp) AS at FROM ev WHERE action = 'submit' GROUP BY ALL) SELECT l.center_label, count(*), count(s.at), count(*) FILTER (WHERE l.action='pass-qc'), count(*) FILTER (WHERE l.action='not-pass-qc'), count(*) FILTER (WHERE l.action='submit'), count(*) FILTER (WHERE l.action='delete'), round(quantile_cont((epoch(l.timestamp)-epoch(s.at))/86400.0, 0.5) FILTER (WHERE l.action IN ('pass-qc','not-pass-qc') AND s.at IS NOT NULL), 2) FROM l LEFT JOIN s ON l.ptid = s.ptid AND l.visit_date = s.visit_date AND l.visit_number IS NOT DISTINCT FROM s.visit_number GROUP BY ALL ORDER BY ALL",
 "latest_per_visit.csv": f"SELECT ptid, visit_date, visit_number, center_label, study, datatype, module, action, timestamp FROM {latest} WHERE rn = 1 ORDER BY timestamp, ptid, visit_date, visit_number",
 "latest_by_center.csv": f"SELECT center_label, count(*), count(*) FILTER (WHERE action='not-pass-qc'), count(*) FILTER (WHERE action='submit') FROM {latest} WHERE rn = 1 GROUP BY ALL ORDER BY ALL",
 "totals_by_study_datatype.csv": "SELECT study, datatype, count(*), count(*) FILTER (WHERE action='submit'), count(*) FILTER (WHERE action='pass-qc'), count(*) FILTER (WHERE action='not-pass-qc'), count(*) FILTER (WHERE action='delete') FROM ev GROUP BY ALL ORDER BY ALL",
}
os.makedirs(out, exist_ok=True)
for name, sql in q.items():
    db.sql(sql).write_csv(os.path.join(out, name))
print("ok")
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--groups", type=int, default=12)
    a = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release -p eventlog")
    root = tempfile.mkdtemp(prefix="eventlog-report-bench-")
    try:
        ck = os.path.join(root, "checkpoints")
        generate(ck, a.rows, a.groups)
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(ck) for f in fs)
        ours = measure([BIN, "report", "--checkpoints", ck, "--out", os.path.join(root, "ours")], dict(os.environ))
        peer = measure([sys.executable, "-c", DUCKDB, ck, os.path.join(root, "duckdb")], dict(os.environ))
        if ours["rc"] != 0 or peer["rc"] != 0:
            sys.exit(f"failed: {ours['err']} {peer['err']}")
        n = sum(1 for _ in open(os.path.join(root, "ours", "latest_per_visit.csv"))) - 1
        m = sum(1 for _ in open(os.path.join(root, "duckdb", "latest_per_visit.csv"))) - 1
        if n != m:
            sys.exit(f"latest_per_visit: {n} rows, DuckDB {m}")
        print(f"{a.rows:,} rows in {a.groups} checkpoint files ({size / 1e6:.0f} MB, Polars-written), {n:,} visits\n")
        print("| run | seconds | peak RSS (MB) | vs DuckDB (time) | vs DuckDB (memory) |")
        print("|---|---:|---:|---:|---:|")
        print(f"| eventlog report (six tables and the page) | {ours['wall']:.2f} | {ours['rss']:.0f} | {ours['wall'] / peer['wall']:.2f}x | {ours['rss'] / peer['rss']:.2f}x |")
        print(f"| DuckDB, the same six tables as CSV | {peer['wall']:.2f} | {peer['rss']:.0f} | 1.00x | 1.00x |")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
