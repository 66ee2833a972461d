"""`eventlog report` against DuckDB and against answers known in advance.

Writes visit events (some with known counts and delays, many seeded-random
ones), a Polars-written checkpoint beside them (the reference's writer),
builds the checkpoints with `eventlog checkpoint`, the report with
`eventlog report`, then:

1. the known answers are in the CSV files;
2. every CSV equals what DuckDB computes with the seed's three queries,
   adapted to visit months (and the two extra tables likewise);
3. --from/--to/--study narrow the report.

usage: python report.py EVENTLOG_BIN WORKDIR
Prints one JSON line: what was checked.
"""
import csv
import datetime as dt
import json
import os
import random
import re
import subprocess
import sys

import duckdb
import polars as pl

eventlog, work = sys.argv[1], sys.argv[2]
src = os.path.join(work, "events", "prod")
ckpt = os.path.join(work, "checkpoints")
out = os.path.join(work, "report")
os.makedirs(src, exist_ok=True)


def event(ptid, action, when, center, visit_date, study="adrc", datatype="form", module="UDS", visit_number="01"):
    return {
        "action": action, "study": study, "project_label": "ingest-form", "center_label": center,
        "gear_name": "form-qc-checker", "datatype": datatype, "timestamp": when, "visit_date": visit_date,
        "visit_number": visit_number, "pipeline_adcid": 7, "ptid": ptid, "module": module, "packet": "I",
    }


def write(e, n):
    stamp = dt.datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")).strftime("%Y%m%d-%H%M%S")
    name = f"log-{e['action']}-{stamp}-7-ingest-form-{e['ptid']}-{e['visit_date']}.json"
    d = os.path.join(src, str(n % 7))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "w") as f:
        json.dump(e, f)


# Known answers: center known-a has QC delays of 3, 5.5 and 10 days; visit K3
# ends in a failed QC; known-b's K4 waits for QC.
known = [
    event("K1", "submit", "2025-01-11T00:00:00Z", "known-a", "2025-01-10"),
    event("K1", "pass-qc", "2025-01-13T00:00:00Z", "known-a", "2025-01-10"),
    event("K2", "submit", "2025-01-21T00:00:00Z", "known-a", "2025-01-20"),
    event("K2", "pass-qc", "2025-01-25T12:00:00Z", "known-a", "2025-01-20"),
    event("K3", "submit", "2025-02-02T00:00:00Z", "known-a", "2025-02-01"),
    event("K3", "not-pass-qc", "2025-02-11T00:00:00Z", "known-a", "2025-02-01"),
    event("K4", "submit", "2025-02-04T00:00:00Z", "known-b", "2025-02-03"),
    # A QC event dated a day before its visit (a negative interval), and
    # submitted after it: the visit waits for QC.
    event("K5", "pass-qc", "2025-03-04T00:00:00Z", "known-c", "2025-03-05"),
    event("K5", "submit", "2025-03-06T00:00:00Z", "known-c", "2025-03-05"),
    # One study at one center only.
    event("S1", "submit", "2025-04-01T00:00:00Z", "solo-center", "2025-03-30", study="solo"),
    event("S1", "not-pass-qc", "2025-04-03T12:00:00Z", "solo-center", "2025-03-30", study="solo"),
]
rng = random.Random(11)
events = list(known)
for v in range(400):
    center = f"center-{rng.randrange(40):02d}"
    study, datatype = rng.choice([("adrc", "form"), ("adrc", "dicom"), ("dvcid", "form")])
    day = dt.date(2024, 10, 1) + dt.timedelta(days=rng.randrange(240))
    t = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc) + dt.timedelta(hours=rng.randrange(1, 200))
    ptid, vd = f"P{v:04d}", day.isoformat()
    module = "UDS" if datatype == "form" else None
    common = dict(study=study, datatype=datatype, module=module, visit_number=f"{rng.randrange(1, 4):02d}")
    events.append(event(ptid, "submit", t.strftime("%Y-%m-%dT%H:%M:%SZ"), center, vd, **common))
    r = rng.random()
    if r < 0.8:
        qc = t + dt.timedelta(hours=rng.randrange(1, 24 * 40), minutes=rng.randrange(60))
        events.append(event(ptid, "pass-qc" if r < 0.6 else "not-pass-qc", qc.strftime("%Y-%m-%dT%H:%M:%SZ"), center, vd, **common))
for n, e in enumerate(events):
    write(e, n)

# A Polars-written checkpoint (the reference's writer) for a group no file
# feeds: the report must read it as it is.
os.makedirs(os.path.join(ckpt, "ftld", "form"), exist_ok=True)
polars_rows = [event("PL1", "submit", "2025-03-02T00:00:00Z", "known-b", "2025-03-01", study="ftld"),
               event("PL1", "pass-qc", "2025-03-05T00:00:00Z", "known-b", "2025-03-01", study="ftld")]
cols = ["action", "study", "pipeline_adcid", "project_label", "center_label", "gear_name", "ptid", "naccid",
        "visit_date", "visit_number", "datatype", "module", "packet", "modality", "timestamp"]
frame = pl.DataFrame({c: [r.get(c) for r in polars_rows] for c in cols if c != "timestamp"}
                     | {"timestamp": [dt.datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")) for r in polars_rows]},
                     schema={c: (pl.Int32 if c == "pipeline_adcid" else pl.Datetime("us", "UTC") if c == "timestamp" else pl.String) for c in cols})
frame.select(cols).write_parquet(os.path.join(ckpt, "ftld", "form", "events.parquet"))

subprocess.run([eventlog, "checkpoint", "--source", os.path.dirname(src), "--checkpoints", ckpt, "--json"],
               check=True, capture_output=True)


def report(dest, *extra):
    subprocess.run([eventlog, "report", "--checkpoints", ckpt, "--out", dest, *extra], check=True, capture_output=True)
    return {n: list(csv.DictReader(open(os.path.join(dest, n)))) for n in os.listdir(dest) if n.endswith(".csv")}


got = report(out)
total_events = len(events) + len(polars_rows)

# 1. Known answers.
timing = {r["center_label"]: r for r in got["qc_timing.csv"]}
assert timing["known-a"]["events"] == "3", timing["known-a"]
assert timing["known-a"]["before_visit"] == "0", timing["known-a"]
assert timing["known-c"] == {"center_label": "known-c", "events": "1", "before_visit": "1", "mean_days": "-1.00",
                             "median_days": "-1.00", "p90_days": "-1.00"}, timing["known-c"]
status = {r["center_label"]: r for r in got["visit_status.csv"]}
assert status["known-a"] == {"center_label": "known-a", "visits": "3", "submitted": "3", "passed_qc": "2", "failed_qc": "1",
                             "waiting_for_qc": "0", "deleted": "0", "median_days_to_qc": "4.50"}, status["known-a"]
assert status["known-b"]["waiting_for_qc"] == "1" and status["known-b"]["median_days_to_qc"] == "3.00", status["known-b"]
assert status["known-c"]["waiting_for_qc"] == "1" and status["known-c"]["median_days_to_qc"] == "", status["known-c"]
assert len(status) == 40 + 4, sorted(status)
assert timing["known-a"]["mean_days"] == "6.17", timing["known-a"]       # (3 + 5.5 + 10) / 3
assert timing["known-a"]["median_days"] == "5.50", timing["known-a"]
assert timing["known-a"]["p90_days"] == "9.10", timing["known-a"]        # 5.5 + 0.8 * 4.5
latest = {r["center_label"]: r for r in got["latest_by_center.csv"]}
assert latest["known-a"] == {"center_label": "known-a", "visits": "3", "latest_failed_qc": "1", "waiting_for_qc": "0"}, latest["known-a"]
assert latest["known-b"]["waiting_for_qc"] == "1", latest["known-b"]
monthly = {(r["month"], r["center_label"]): r for r in got["monthly_by_center.csv"]}
assert monthly[("2025-01", "known-a")] == {"month": "2025-01", "center_label": "known-a", "submitted": "2", "passed_qc": "2", "failed_qc": "0"}
assert monthly[("2025-02", "known-a")]["failed_qc"] == "1"
assert monthly[("2025-03", "known-b")]["passed_qc"] == "1", "the Polars-written checkpoint is read"
assert sum(int(r["events"]) for r in got["totals_by_study_datatype.csv"]) == total_events

# 2. DuckDB with the seed's queries, adapted to visit months.
db = duckdb.connect()
db.sql(f"CREATE VIEW all_ev AS SELECT * FROM read_parquet('{ckpt}/*/*/events.parquet', union_by_name = true)")
db.sql("CREATE VIEW ev AS SELECT * FROM all_ev")
LATEST = """(SELECT *, row_number() OVER (PARTITION BY ptid, visit_date, visit_number
                                           ORDER BY timestamp DESC, action, study, datatype) AS rn FROM ev)"""
q = {
    # Where visits stand: each visit's latest event, and the days from its
    # last submit to a QC outcome that is its latest event.
    "visit_status.csv": f"""
        WITH l AS (SELECT * FROM {LATEST} WHERE rn = 1),
             s AS (SELECT ptid, visit_date, visit_number, max(timestamp) AS at FROM ev WHERE action = 'submit' GROUP BY ALL)
        SELECT l.center_label, count(*), count(s.at),
               count(*) FILTER (WHERE l.action = 'pass-qc'), count(*) FILTER (WHERE l.action = 'not-pass-qc'),
               count(*) FILTER (WHERE l.action = 'submit'), count(*) FILTER (WHERE l.action = 'delete'),
               coalesce(CAST(round(quantile_cont((epoch(l.timestamp) - epoch(s.at)) / 86400.0, 0.5)
                   FILTER (WHERE l.action IN ('pass-qc', 'not-pass-qc') AND s.at IS NOT NULL), 2) AS VARCHAR), '')
        FROM l LEFT JOIN s ON l.ptid = s.ptid AND l.visit_date = s.visit_date
                           AND l.visit_number IS NOT DISTINCT FROM s.visit_number
        GROUP BY ALL ORDER BY ALL""",
    "monthly_by_center.csv": """
        SELECT substr(visit_date, 1, 7) AS month, center_label,
               count(*) FILTER (WHERE action = 'submit') AS submitted,
               count(*) FILTER (WHERE action = 'pass-qc') AS passed_qc,
               count(*) FILTER (WHERE action = 'not-pass-qc') AS failed_qc
        FROM ev GROUP BY ALL ORDER BY ALL""",
    "qc_timing.csv": """
        WITH d AS (SELECT center_label, (epoch(timestamp) - epoch(CAST(visit_date AS DATE)::TIMESTAMPTZ)) / 86400.0 AS days
                   FROM ev WHERE action IN ('pass-qc', 'not-pass-qc'))
        SELECT center_label, count(*) AS events, count(*) FILTER (WHERE days < 0), round(avg(days), 2), round(quantile_cont(days, 0.5), 2),
               round(quantile_cont(days, 0.9), 2)
        FROM d GROUP BY ALL ORDER BY ALL""",
    "latest_per_visit.csv": """
        SELECT ptid, visit_date, coalesce(visit_number, '') AS visit_number, center_label, study, datatype,
               coalesce(module, '') AS module, action, strftime(timezone('UTC', timestamp), '%Y-%m-%dT%H:%M:%S.%fZ') AS ts
        FROM (SELECT *, row_number() OVER (PARTITION BY ptid, visit_date, visit_number
                                           ORDER BY timestamp DESC, action, study, datatype) AS rn FROM ev)
        WHERE rn = 1 ORDER BY timestamp, ptid, visit_date, visit_number""",
    "latest_by_center.csv": """
        SELECT center_label, count(*), count(*) FILTER (WHERE action = 'not-pass-qc'), count(*) FILTER (WHERE action = 'submit')
        FROM (SELECT *, row_number() OVER (PARTITION BY ptid, visit_date, visit_number
                                           ORDER BY timestamp DESC, action, study, datatype) AS rn FROM ev)
        WHERE rn = 1 GROUP BY ALL ORDER BY ALL""",
    "totals_by_study_datatype.csv": """
        SELECT study, datatype, count(*), count(*) FILTER (WHERE action = 'submit'), count(*) FILTER (WHERE action = 'pass-qc'),
               count(*) FILTER (WHERE action = 'not-pass-qc'), count(*) FILTER (WHERE action = 'delete')
        FROM ev GROUP BY ALL ORDER BY ALL""",
}


def same(name, ours, theirs):
    assert len(ours) == len(theirs), f"{name}: {len(ours)} rows, DuckDB {len(theirs)}"
    for a, b in zip(ours, theirs):
        a = list(a.values())
        for x, y in zip(a, b):
            if isinstance(y, float) or (isinstance(y, str) and y.replace(".", "", 1).lstrip("-").isdigit() and "." in y):
                # Both round to two decimals; a tie may round apart by one unit.
                assert abs(float(x) - float(y)) <= 0.0100001, f"{name}: {a} vs DuckDB {b}"
            else:
                assert x == str(y), f"{name}: {a} vs DuckDB {b}"


def against_duckdb(tables, where="TRUE"):
    """Every CSV of `tables` equals DuckDB's over the events `where` keeps."""
    db.sql(f"CREATE OR REPLACE VIEW ev AS SELECT * FROM all_ev WHERE {where}")
    for name, sql in q.items():
        same(name, tables[name], db.sql(sql).fetchall())
    db.sql("CREATE OR REPLACE VIEW ev AS SELECT * FROM all_ev")


against_duckdb(got)
# DuckDB's %f is microseconds, like ours; the months are the visit months.
assert len(got["latest_per_visit.csv"]) == len({(e["ptid"], e["visit_date"], e["visit_number"]) for e in events + polars_rows})

# 3. Narrowed: two months of one study.
narrow = report(os.path.join(work, "narrow"), "--from", "2025-01", "--to", "2025-02", "--study", "adrc")
months = {r["month"] for r in narrow["monthly_by_center.csv"]}
assert months <= {"2025-01", "2025-02"} and months, months
assert {r["study"] for r in narrow["totals_by_study_datatype.csv"]} == {"adrc"}
want = db.sql("SELECT count(*) FROM ev WHERE study = 'adrc' AND substr(visit_date, 1, 7) BETWEEN '2025-01' AND '2025-02'").fetchone()[0]
assert sum(int(r["events"]) for r in narrow["totals_by_study_datatype.csv"]) == want
against_duckdb(narrow, "study = 'adrc' AND substr(visit_date, 1, 7) BETWEEN '2025-01' AND '2025-02'")

# 4. One center only.
solo_dir = os.path.join(work, "solo")
solo = report(solo_dir, "--study", "solo")
assert [r["center_label"] for r in solo["visit_status.csv"]] == ["solo-center"], solo["visit_status.csv"]
assert solo["visit_status.csv"][0]["failed_qc"] == "1" and solo["visit_status.csv"][0]["median_days_to_qc"] == "2.50"
against_duckdb(solo, "study = 'solo'")
page = open(os.path.join(solo_dir, "index.html")).read()
assert "Most QC failures: solo-center, 1 of its 1 QC event (100 %)." in page, page[:2000]

# 5. An empty range: the tables are headers only, and the page says so in
# a sentence, with no chart.
empty_dir = os.path.join(work, "empty")
empty = report(empty_dir, "--from", "2031-01", "--to", "2031-06")
assert all(len(rows) == 0 for rows in empty.values()), {k: len(v) for k, v in empty.items()}
against_duckdb(empty, "substr(visit_date, 1, 7) BETWEEN '2031-01' AND '2031-06'")
page = open(os.path.join(empty_dir, "index.html")).read()
visible = re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", page))
assert "No events in this range" in visible and "<svg" not in page, page
assert not re.search(r"(?<![\w.-])-0(\.0+)?(?![\w.])", visible), visible

print(json.dumps({"events": total_events, "tables": sorted(got), "rows": {k: len(v) for k, v in got.items()}}))
