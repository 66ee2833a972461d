#!/usr/bin/env python3
"""Generate the golden checkpoint test set: event files plus the rows the
reference consumer (v1.2) would produce from them, computed here with the
oracle model and an independent implementation of the reference's merge
(validate, drop sandbox projects, group by (study, datatype), one row per
identity, sort by timestamp, ptid, action).

    .venv/bin/python scripts/oracle/gen_golden.py testdata/visit-events/golden
"""
import json
import os
import random
import shutil
import sys

import refmodel

OUT = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, "..", "..", "testdata", "visit-events", "files")
r = random.Random(42)


def name(ev, ts_stamp):
    project = ev["project_label"].replace("/", "-").replace("\\", "-")
    return f"log-{ev['action']}-{ts_stamp}-{ev['pipeline_adcid']}-{project}-{ev['ptid']}-{ev['visit_date']}.json"


def make(i):
    datatype = r.choice(["form", "form", "form", "dicom", "enrollment", "apoe", "biomarker"])
    study = r.choice(["adrc", "adrc", "dvcid", "leads"])
    y, mo, d, h, mi, s = 2025, r.randint(1, 9), r.randint(1, 28), r.randint(0, 23), r.randint(0, 59), r.randint(0, 59)
    zone = r.choice(["Z", "", "-05:00", ".250000Z"])
    ev = {
        "action": r.choice(["submit", "pass-qc", "not-pass-qc", "delete"]),
        "study": study,
        "project_label": f"ingest-{datatype}" + ("" if study == "adrc" else f"-{study}"),
        "center_label": r.choice(["alpha", "beta", "emory"]),
        "gear_name": r.choice(["form-qc-checker", "identifier-lookup"]),
        "datatype": datatype,
        "timestamp": f"{y}-{mo:02d}-{d:02d}{r.choice(['T', ' '])}{h:02d}:{mi:02d}:{s:02d}{zone}",
        "visit_date": f"{y}-{r.randint(1, 9):02d}-{r.randint(1, 28):02d}",
        "pipeline_adcid": r.choice([7, 42, "42", 0]),
        "ptid": str(r.randint(100, 999999)) + r.choice(["", "", " "]),
        "naccid": f"NACC{r.randint(0, 999999):06d}",
        "visit_number": r.choice([None, "01", "02"]),
    }
    if datatype == "form":
        ev["module"] = r.choice(["UDS", "FTLD", "LBD"])
        ev["packet"] = r.choice(["I", "F", "I4"])
    elif datatype == "dicom":
        ev["modality"] = r.choice(["MR", "PT"])
    return ev, f"{y}{mo:02d}{d:02d}-{h:02d}{mi:02d}{s:02d}"


def main():
    files_dir = os.path.join(OUT, "files")
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(os.path.join(files_dir, "prod", "2025"))
    texts = {}
    for f in sorted(os.listdir(SAMPLES)):
        texts[f"prod/{f}"] = open(os.path.join(SAMPLES, f), encoding="utf-8").read()
    generated = []
    for i in range(40):
        ev, stamp = make(i)
        key = f"prod/2025/{name(ev, stamp)}" if i % 2 else f"prod/{name(ev, stamp)}"
        text = json.dumps(ev, separators=(",", ":"))
        texts[key] = text
        generated.append((key, ev, text))
    # Re-deliveries of the same events under other keys (exact duplicates).
    for key, ev, text in generated[:3]:
        texts[key[: -len(".json")] + "-again.json"] = text
    # Sandbox projects: valid, dropped.
    for key, ev, text in generated[3:5]:
        sb = dict(ev, project_label="sandbox-" + ev["datatype"])
        texts[key.replace(".json", "-sandbox.json")] = json.dumps(sb)
    # Invalid files.
    texts["prod/log-submit-20250101-000000-7-ingest-form-1-2025-01-01.json"] = "{not json"
    texts["prod/log-submit-20250101-000001-7-ingest-form-2-2025-01-01.json"] = json.dumps(dict(generated[5][1], action="duplicate-submit"))
    texts["prod/log-pass-qc-20250101-000002-7-ingest-form-3-2025-01-01.json"] = json.dumps(dict(generated[6][1], ptid="12345678901"))
    # Not an event file name; never read.
    texts["prod/README.txt"] = "not an event\n"
    # The older visit-number naming, which the reference stopped reading.
    # (A distinct event: one identity never has two different contents in
    # this set, so the expected rows do not depend on file times.)
    ev = dict(generated[7][1], visit_number="03", ptid="77")
    texts["prod/log-submit-20251201-080000-7-ingest-form-77-03.json"] = json.dumps(ev)

    groups = {}
    counts = {"files": 0, "valid": 0, "invalid": 0, "filtered": 0, "skipped": 0}
    for key in sorted(texts):
        path = os.path.join(files_dir, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(texts[key])
        counts["files"] += 1
        if not key.endswith(".json"):
            counts["skipped"] += 1
            continue
        v = refmodel.verdict(texts[key])
        if not v["valid"]:
            counts["invalid"] += 1
            continue
        row = v["normalized"]
        if row["project_label"].startswith("sandbox-"):
            counts["filtered"] += 1
            continue
        counts["valid"] += 1
        identity = tuple(row[k] for k in ["action", "ptid", "visit_date", "timestamp", "datatype", "module", "pipeline_adcid"])
        groups.setdefault(f"{row['study']}/{row['datatype']}", {})[identity] = row
    expected = {}
    for g, rows in groups.items():
        expected[g] = sorted(rows.values(), key=lambda x: (x["timestamp"], x["ptid"], x["action"]))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"counts": counts, "groups": expected}, f, indent=1, sort_keys=True)
        f.write("\n")


main()
