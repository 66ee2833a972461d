"""Compatibility with the reference's readers and writers.

1. Checkpoints written by Polars exactly as the reference writes them (v1.2
   schema, plus a 13-column v1.1 file in timestamp-only order) are taken
   over: eventlog extends them without duplicating a row and keeps history
   the source no longer has.
2. eventlog's files have the same parquet/Arrow schema as Polars' own.
3. DuckDB runs the seed's analytical queries (queries.sql) on the result;
   the answers are computed here independently, in plain Python.

usage: python compat.py EVENTLOG_BIN WORKDIR TESTDATA_DIR
"""
import collections
import datetime as dt
import json
import os
import shutil
import subprocess
import sys

import duckdb
import polars as pl
import pyarrow.parquet as pq

eventlog, work, testdata = sys.argv[1], sys.argv[2], sys.argv[3]
golden = os.path.join(testdata, "visit-events", "golden")
expected = json.load(open(os.path.join(golden, "expected.json")))["groups"]
src = os.path.join(work, "events")
ckpt = os.path.join(work, "checkpoints")
shutil.copytree(os.path.join(golden, "files"), src)

REF_SCHEMA = {
    "action": pl.String, "study": pl.String, "pipeline_adcid": pl.Int32, "project_label": pl.String,
    "center_label": pl.String, "gear_name": pl.String, "ptid": pl.String, "naccid": pl.String,
    "visit_date": pl.String, "visit_number": pl.String, "datatype": pl.String, "module": pl.String,
    "packet": pl.String, "modality": pl.String, "timestamp": pl.Datetime("us", "UTC"),
}
V11 = [c for c in REF_SCHEMA if c not in ("naccid", "modality")]


def ts(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def frame(rows, columns):
    data = {c: [ts(r[c]) if c == "timestamp" else r[c] for r in rows] for c in columns}
    return pl.DataFrame(data, schema={c: REF_SCHEMA[c] for c in columns})


def write_reference(group, rows, columns, sort):
    path = os.path.join(ckpt, group, "events.parquet")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    df = frame(rows, columns).sort(sort)
    df.write_parquet(path)  # Polars' defaults, as the reference: ZSTD, statistics
    return path


# Controlled events for the QC timing and failure-count queries.
def event(ptid, action, when, center, module="UDS"):
    return {
        "action": action, "study": "adrc", "project_label": "ingest-form", "center_label": center,
        "gear_name": "form-qc-checker", "datatype": "form", "timestamp": when,
        "visit_date": "2025-06-01", "pipeline_adcid": 9, "ptid": ptid, "module": module, "packet": "I",
    }


extra = [
    event("Q1", "submit", "2025-06-01T00:00:00Z", "qc-center-a"), event("Q1", "pass-qc", "2025-06-02T00:00:00Z", "qc-center-a"),
    event("Q2", "submit", "2025-06-01T00:00:00Z", "qc-center-a"), event("Q2", "pass-qc", "2025-06-03T00:00:00Z", "qc-center-a"),
    event("Q3", "submit", "2025-06-01T06:00:00-05:00", "qc-center-b"), event("Q3", "pass-qc", "2025-06-01 23:00:00", "qc-center-b"),
    event("F1", "not-pass-qc", "2025-06-05T00:00:00Z", "qc-center-b"), event("F2", "not-pass-qc", "2025-06-20T00:00:00Z", "qc-center-b"),
    event("F3", "not-pass-qc", "2025-07-01T00:00:00Z", "qc-center-b"),
]
for i, e in enumerate(extra):
    stamp = ts(e["timestamp"] if "T" in e["timestamp"] else e["timestamp"].replace(" ", "T") + "Z").strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(src, "prod", f"log-{e['action']}-{stamp}-9-ingest-form-{e['ptid']}-2025-06-01.json"), "w") as f:
        json.dump(e, f)


def norm(e):
    t = e["timestamp"]
    t = ts(t if "T" in t else t.replace(" ", "T") + "Z").astimezone(dt.timezone.utc)
    row = dict({k: None for k in REF_SCHEMA}, **e)
    row["timestamp"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
    return row


want = {g: list(rows) for g, rows in expected.items()}
want["adrc/form"] = want["adrc/form"] + [norm(e) for e in extra]

# History only the checkpoint has (its source files are long gone).
history = dict(want["adrc/form"][0], ptid="HIST1", timestamp="2019-01-01T00:00:00Z", action="submit")
want["adrc/form"].insert(0, history)

# 1. Reference-written checkpoints: v1.2 for adrc/form (half the rows and the
#    history row), v1.1 (13 columns, timestamp order) for dvcid/form.
half = expected["adrc/form"][: len(expected["adrc/form"]) // 2] + [history]
ref_path = write_reference("adrc/form", half, list(REF_SCHEMA), ["timestamp", "ptid", "action"])
write_reference("dvcid/form", expected["dvcid/form"], V11, ["timestamp"])
polars_schema = pq.read_schema(ref_path)

proc = subprocess.run([eventlog, "checkpoint", "--json", "--source", src, "--checkpoints", ckpt], capture_output=True, text=True)
assert proc.returncode == 1, (proc.returncode, proc.stderr)  # three invalid golden files
summary = json.loads(proc.stdout)
groups = {f"{g['study']}/{g['datatype']}": g for g in summary["groups"]}
assert groups["adrc/form"]["rows_before"] == len(half), groups["adrc/form"]
assert groups["dvcid/form"]["rows_before"] == len(expected["dvcid/form"])
assert groups["dvcid/form"]["replaced"] == len(expected["dvcid/form"]), "v1.1 rows gain naccid"

# 2. Read back with Polars: exact rows, nothing duplicated, reference schema.
for group, rows in want.items():
    path = os.path.join(ckpt, group, "events.parquet")
    df = pl.read_parquet(path)
    assert dict(df.schema) == REF_SCHEMA, (group, df.schema)
    got = sorted(json.dumps({k: (v.strftime("%Y-%m-%dT%H:%M:%S") + (f".{v.microsecond:06d}" if v.microsecond else "") + "Z") if k == "timestamp" else v for k, v in r.items()}, sort_keys=True) for r in df.to_dicts())
    exp = sorted(json.dumps(r, sort_keys=True) for r in rows)
    assert got == exp, (group, set(got) ^ set(exp))
    assert df.height == df.unique().height, f"{group}: duplicated rows"
    keys = list(zip(df["timestamp"], df["ptid"], df["action"]))
    assert keys == sorted(keys), f"{group}: not in (timestamp, ptid, action) order"
    ours = pq.read_schema(path)
    assert ours.equals(polars_schema, check_metadata=False), (group, ours, polars_schema)
    meta = pq.ParquetFile(path).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"

# 3. The analytical queries, answered independently.
all_rows = [r for rows in want.values() for r in rows]
sql = open(os.path.join(os.path.dirname(__file__), "queries.sql")).read().replace("{root}", ckpt)
queries = {}
for part in sql.split("-- name: ")[1:]:
    name, body = part.split("\n", 1)
    queries[name.strip()] = body.strip().rstrip(";")

latest = {}
for r in all_rows:
    k = (r["pipeline_adcid"], r["ptid"], r["visit_date"], r["datatype"], r["module"] or "")
    cur = latest.get(k)
    if cur is None or (r["timestamp"], ) > (cur["timestamp"],) or (r["timestamp"] == cur["timestamp"] and r["action"] < cur["action"]):
        latest[k] = r
got = duckdb.sql(queries["latest_event_per_visit"]).fetchall()
exp = sorted(((r["pipeline_adcid"], r["ptid"], r["visit_date"], r["datatype"], r["module"], r["action"], r["timestamp"]) for r in latest.values()),
             key=lambda x: (x[0], x[1], x[2], x[3], x[4] is not None, x[4] or ""))
assert [(a, p, v, d, m, ac, t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if not t.microsecond else t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")) for a, p, v, d, m, ac, t in got] == exp, "latest event per visit"

fails = collections.Counter((r["center_label"], r["timestamp"][:7]) for r in all_rows if r["action"] == "not-pass-qc")
got = duckdb.sql(queries["monthly_not_pass_qc_per_center"]).fetchall()
assert got == sorted((c, m, n) for (c, m), n in fails.items()), (got, fails)
assert ("qc-center-b", "2025-06", 2) in got and ("qc-center-b", "2025-07", 1) in got

got = {c: (n, h) for c, n, h in duckdb.sql(queries["qc_timing_per_center"]).fetchall()}
assert got["qc-center-a"] == (2, 36.0), got
assert got["qc-center-b"] == (1, 12.0), got  # 06:00-05:00 is 11:00Z; pass-qc 23:00 naive = UTC
print(json.dumps({"groups_checked": len(want), "rows": len(all_rows), "qc_timing": got}))
