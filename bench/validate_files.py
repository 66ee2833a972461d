#!/usr/bin/env python3
"""`eventlog validate DIR` on 50 000 event files, beside its floor and its peer,
each pinned to one core (taskset), in one script run.

    cargo build --release -p eventlog --bins --examples
    ~/.cache/eventlog/venv/bin/python bench/validate_files.py [--files 50000] [--runs 3]

* floor: opening and reading the same files in name order, nothing else
  done (`lambda/examples/read_floor.rs`, built here), and `cat` reading
  them (`find … | xargs cat > /dev/null`), what a shell user would time;
* eventlog: `eventlog validate DIR` as a user runs it (text), and with
  `--format json`, output to /dev/null;
* peer: pydantic-core (the reference model, `scripts/oracle/refmodel.py`)
  over the same files in name order, reads included, a JSON verdict line
  per file to /dev/null, as a Python validation script would do it.

The files are in the page cache for every run (one warm-up read first).
Every run is printed, then a table of the best with the ratios; the valid
counts must agree.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen_events  # noqa: E402

PEER = r'''
import json, os, sys
sys.path.insert(0, os.path.join(sys.argv[2], "scripts", "oracle"))
from refmodel import VisitEvent
from pydantic import ValidationError
root = sys.argv[1]
out = open(os.devnull, "w")
valid = 0
for name in sorted(os.listdir(root)):
    path = os.path.join(root, name)
    with open(path, "rb") as f:
        data = f.read()
    try:
        VisitEvent.model_validate_json(data)
        valid += 1
        out.write(json.dumps({"path": path, "valid": True}) + "\n")
    except ValidationError as e:
        out.write(json.dumps({"path": path, "valid": False, "errors": e.errors(include_url=False)}, default=str) + "\n")
print(valid)
'''


def timed(cmd, **kw):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return time.perf_counter() - t, p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--core", default="1")
    a = ap.parse_args()
    exe = os.path.join(REPO, "target", "release", "eventlog")
    floor_exe = os.path.join(REPO, "target", "release", "examples", "read_floor")
    if not os.path.exists(exe) or not os.path.exists(floor_exe):
        sys.exit("build first: cargo build --release -p eventlog --bins --examples")
    pin = ["taskset", "-c", a.core] if shutil.which("taskset") else []
    d = tempfile.mkdtemp(prefix="eventlog-validate-bench-")
    try:
        gen_events.files(d, a.files, 0)
        root = os.path.join(d, "prod")
        cat = pin + ["sh", "-c", f"find '{root}' -name '*.json' -print0 | xargs -0 cat > /dev/null"]
        subprocess.run(cat, check=True)  # warm the page cache
        runs = {
            "floor: open and read each file (read_floor)": lambda: timed(pin + [floor_exe, root]),
            "cat the same files (find, xargs cat)": lambda: timed(cat),
            "eventlog validate DIR (text)": lambda: timed(pin + ["sh", "-c", f"'{exe}' validate '{root}' > /dev/null"]),
            "eventlog validate --format json DIR": lambda: timed(pin + ["sh", "-c", f"'{exe}' validate --format json '{root}' > /dev/null"]),
            "pydantic-core, the reference model": lambda: timed(pin + [sys.executable, "-c", PEER, root, REPO]),
        }
        best = {}
        for r in range(a.runs):
            for name, run in runs.items():
                secs, p = run()
                if p.returncode not in (0, 1):
                    sys.exit(f"{name}: exit {p.returncode}: {p.stderr[-2000:]}")
                print(f"run {r + 1}: {name}: {secs:.2f} s", file=sys.stderr)
                best[name] = min(best.get(name, secs), secs)
                if name.startswith("pydantic"):
                    peer_valid = int(p.stdout.strip())
        _, p = timed([exe, "validate", "--format", "json", root])
        ours_valid = sum(1 for line in p.stdout.splitlines() if '"valid":true' in line)
        floor, peer = best["floor: open and read each file (read_floor)"], best["pydantic-core, the reference model"]
        print(f"\n{a.files:,} files; valid: eventlog {ours_valid:,}, pydantic-core {peer_valid:,}; best of {a.runs}, one core each\n")
        print("| run | seconds | files/s | vs the floor | pydantic-core / this |")
        print("|---|---:|---:|---:|---:|")
        for name, secs in best.items():
            print(f"| {name} | {secs:.2f} | {a.files / secs:,.0f} | {secs / floor:.2f}x | {peer / secs:.2f}x |")
        if ours_valid != peer_valid:
            sys.exit("the verdicts differ")
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
