#!/usr/bin/env python3
"""Write N producer-style visit-event files (deterministic), or a Polars
checkpoint history of N rows.

    gen_events.py files DIR N [K] [recent]
    gen_events.py history FILE N

`recent`: timestamps in November 2026 (files logged after a generated
history, whose timestamps end in mid-2026) instead of 2020..2026.
"""
import datetime as dt
import json
import os
import random
import sys

ACTIONS = ["submit", "pass-qc", "not-pass-qc", "delete"]
DATATYPES = ["form"] * 6 + ["dicom", "enrollment", "apoe", "biomarker"]
STUDIES = ["adrc", "adrc", "dvcid", "leads"]


def event(i, recent=False):
    r = random.Random(i)
    dtype = r.choice(DATATYPES)
    study = r.choice(STUDIES)
    if recent:
        t = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=r.randrange(26 * 86400))
    else:
        t = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=r.randrange(6 * 365 * 86400))
    ev = {
        "action": r.choice(ACTIONS),
        "study": study,
        "project_label": f"ingest-{dtype}" + ("" if study == "adrc" else f"-{study}"),
        "center_label": r.choice(["alpha", "beta", "emory", "mayo", "nyu-adrc"]),
        "gear_name": r.choice(["form-qc-checker", "identifier-lookup", "pipeline-event-logger"]),
        "datatype": dtype,
        "timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "visit_date": (t - dt.timedelta(days=r.randrange(90))).strftime("%Y-%m-%d"),
        "pipeline_adcid": r.randrange(60),
        "ptid": str(100000 + i),
        "naccid": f"NACC{r.randrange(10**6):06d}",
        "visit_number": r.choice([None, "01", "02"]),
    }
    if dtype == "form":
        ev["module"] = r.choice(["UDS", "FTLD", "LBD"])
        ev["packet"] = r.choice(["I", "F"])
    elif dtype == "dicom":
        ev["modality"] = "MR"
    return ev, t


def files(out, n, start, recent=False):
    os.makedirs(os.path.join(out, "prod"), exist_ok=True)
    for i in range(start, start + n):
        ev, t = event(i, recent)
        name = f"log-{ev['action']}-{t.strftime('%Y%m%d-%H%M%S')}-{ev['pipeline_adcid']}-{ev['project_label']}-{ev['ptid']}-{ev['visit_date']}.json"
        with open(os.path.join(out, "prod", name), "w") as f:
            f.write(json.dumps(ev, separators=(",", ":")))


def history(path, n):
    import polars as pl

    rows = [event(i)[0] for i in range(n)]
    cols = ["action", "study", "pipeline_adcid", "project_label", "center_label", "gear_name", "ptid", "naccid",
            "visit_date", "visit_number", "datatype", "module", "packet", "modality", "timestamp"]
    data = {c: [r.get(c) for r in rows] for c in cols}
    data["timestamp"] = [dt.datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")) for r in rows]
    schema = {c: pl.String for c in cols}
    schema["pipeline_adcid"] = pl.Int32
    schema["timestamp"] = pl.Datetime("us", "UTC")
    df = pl.DataFrame(data, schema=schema).with_columns(pl.lit("adrc").alias("study"), pl.lit("form").alias("datatype"),
                                                       pl.lit("UDS").alias("module"), pl.lit(None, pl.String).alias("modality"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    df.sort(["timestamp", "ptid", "action"]).write_parquet(path)


if __name__ == "__main__":
    if sys.argv[1] == "files":
        start = int(sys.argv[4]) if len(sys.argv) > 4 else 0
        files(sys.argv[2], int(sys.argv[3]), start, "recent" in sys.argv[5:])
    else:
        history(sys.argv[2], int(sys.argv[3]))
