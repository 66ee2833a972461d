#!/usr/bin/env python3
"""The validator against pydantic-core on the same documents, one core each.

    ~/.cache/eventlog/venv/bin/python bench/validate_peer.py [--count 100000]

Runs `cargo bench -p eventlog-core --bench validate` (which generates the
documents, validates them natively, best of three, and writes them out with
EVENTLOG_BENCH_DUMP), then times `VisitEvent.model_validate_json` of the
reference model (scripts/oracle/refmodel.py, pydantic 2 on pydantic-core)
on the same documents, best of three, in this process. Prints a table with
the ratio and both valid counts (they must agree: same verdicts).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "scripts", "oracle"))
from refmodel import VisitEvent  # noqa: E402
from pydantic import ValidationError  # noqa: E402
import pydantic_core  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100_000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        dump = os.path.join(d, "docs.jsonl")
        out = subprocess.run(["cargo", "bench", "-q", "-p", "eventlog-core", "--bench", "validate", "--", str(a.count)],
                             cwd=REPO, env=dict(os.environ, EVENTLOG_BENCH_DUMP=dump), capture_output=True,
                             text=True, check=True).stdout
        with open(dump, "rb") as f:
            docs = f.read().split(b"\n")[:-1]
    row = re.search(r"\| content only \(validate\) \| (\d+) \| (\d+) \| ([0-9.]+) \|", out)
    if not row or int(row.group(1)) != len(docs):
        sys.exit(f"unexpected bench output:\n{out}")
    native_valid, native_secs = int(row.group(2)), float(row.group(3))
    best, valid = float("inf"), 0
    for _ in range(3):
        valid = 0
        start = time.perf_counter()
        for doc in docs:
            try:
                VisitEvent.model_validate_json(doc)
                valid += 1
            except ValidationError:
                pass
        best = min(best, time.perf_counter() - start)
    n = len(docs)
    print(f"{n:,} documents, best of three passes, one thread each; pydantic-core {pydantic_core.__version__}\n")
    print("| validator | valid | seconds | documents/s | native speed-up |")
    print("|---|---:|---:|---:|---:|")
    print(f"| eventlog-core (native, validate) | {native_valid:,} | {native_secs:.3f} | {n / native_secs:,.0f} | 1.00x |")
    print(f"| pydantic-core: VisitEvent.model_validate_json | {valid:,} | {best:.3f} | {n / best:,.0f} | "
          f"{best / native_secs:.2f}x |")
    if valid != native_valid:
        print(f"\nverdicts differ: {native_valid} valid natively, {valid} in pydantic")


if __name__ == "__main__":
    main()
