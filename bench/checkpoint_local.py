#!/usr/bin/env python3
"""Checkpoint pipeline benchmark on the embedded default (local directories).

    ~/.cache/eventlog/venv/bin/python bench/checkpoint_local.py [--sizes 25000,100000] [--history 1000000]

Needs a release build (cargo build --release -p eventlog). For each size:
first run, a run with no new files, a run after adding 1 % new files; then
DuckDB converting the same directory of JSON into one parquet file (no
validation, no dedup, no incremental state: a floor for "read N small files
and write parquet"). Then a 1M-row history (written by Polars, like the
reference) plus 1 000 new files, against a 10k-row history, to show memory
follows the new events, not the history. Prints a markdown table.
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.path.join(REPO, "target", "release", "eventlog")
GEN = [sys.executable, os.path.join(HERE, "gen_events.py")]


def timed(cmd, **kw):
    """Wall time and the child's peak RSS (MB), measured by the kernel."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if p.returncode not in (0, 1):
        sys.exit(f"{cmd[:2]} failed ({p.returncode}): {p.stderr[-2000:]}")
    # ru_maxrss of RUSAGE_CHILDREN is the max over children so far; a fresh
    # measuring process per run keeps it per run.
    return wall, peak / 1024, p.stdout


def measure(cmd):
    """Run cmd in a fresh child python so peak RSS is per command."""
    code = ("import resource,subprocess,sys,time,json;t=time.perf_counter();"
            "p=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
            "w=time.perf_counter()-t;r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
            "print(json.dumps({'wall':w,'rss':r/1024,'rc':p.returncode,'out':p.stdout,'err':p.stderr[-2000:]}))")
    p = subprocess.run([sys.executable, "-c", code] + cmd, capture_output=True, text=True)
    d = json.loads(p.stdout)
    if d["rc"] not in (0, 1):
        sys.exit(f"{cmd[:2]} failed ({d['rc']}): {d['err']}")
    return d


def into_history_group(src):
    """Move the generated files into the history's (adrc, form) group."""
    for name in os.listdir(os.path.join(src, "prod")):
        p = os.path.join(src, "prod", name)
        with open(p) as f:
            ev = json.load(f)
        ev.update(study="adrc", datatype="form", module="UDS", project_label="ingest-form")
        ev.pop("modality", None)
        with open(p, "w") as f:
            json.dump(ev, f)


def checkpoint(src, dst):
    d = measure([BIN, "checkpoint", "--json", "--source", src, "--checkpoints", dst])
    s = json.loads(d["out"])
    return d["wall"], d["rss"], s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="25000,100000")
    ap.add_argument("--history", type=int, default=1_000_000)
    # DuckDB's read_json over a glob of 100k small files took over 20 minutes
    # on the 2-core machine, so the floor is measured on the smaller sets only.
    ap.add_argument("--duckdb-max", type=int, default=25_000)
    args = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release -p eventlog")
    import duckdb

    rows = []

    def emit(row):
        # Streamed, so a long run that is interrupted still leaves its table.
        rows.append(row)
        set_, run, w, rss, rate, total = row
        print(f"| {set_} | {run} | {w:.2f} | {'' if rss is None else f'{rss:.0f}'} | {'' if rate is None else f'{rate:,.0f}'} | {total:,} |", flush=True)

    print("| set | run | seconds | peak RSS (MB) | files/s | rows in the checkpoints written |")
    print("|---|---|---:|---:|---:|---:|", flush=True)
    root = tempfile.mkdtemp(prefix="eventlog-bench-")
    try:
        for n in [int(x) for x in args.sizes.split(",")]:
            src, dst = os.path.join(root, f"src{n}"), os.path.join(root, f"ck{n}")
            subprocess.run(GEN + ["files", src, str(n)], check=True)
            w, rss, s = checkpoint(src, dst)
            emit((f"{n} files", "first run", w, rss, n / w, s["total_rows"]))
            w, rss, s = checkpoint(src, dst)
            emit((f"{n} files", "no new files", w, rss, None, s["total_rows"]))
            subprocess.run(GEN + ["files", src, str(n // 100), str(n)], check=True)
            w, rss, s = checkpoint(src, dst)
            emit((f"{n} files", "+1 % new files", w, rss, (n // 100) / w, s["total_rows"]))
            if n > args.duckdb_max:
                shutil.rmtree(src)
                shutil.rmtree(dst)
                continue
            out = os.path.join(root, f"duck{n}.parquet")
            t = time.perf_counter()
            con = duckdb.connect(config={'temp_directory': os.path.join(root, 'duck.tmp')})
            con.execute("SET threads TO 2")
            cols = ", ".join(f"'{c}': '{'INTEGER' if c == 'pipeline_adcid' else 'TIMESTAMPTZ' if c == 'timestamp' else 'VARCHAR'}'" for c in
                             ["action", "study", "pipeline_adcid", "project_label", "center_label", "gear_name", "ptid", "naccid",
                              "visit_date", "visit_number", "datatype", "module", "packet", "modality", "timestamp"])
            con.execute(f"COPY (SELECT * FROM read_json('{src}/prod/*.json', format='newline_delimited', columns={{{cols}}})) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
            w = time.perf_counter() - t
            emit((f"{n} files", "DuckDB: same JSON files to one parquet (no validation, no state)", w, None, n / w, con.execute(f"select count(*) from '{out}'").fetchone()[0]))
            shutil.rmtree(src)
            shutil.rmtree(dst)
        for hist in (10_000, args.history):
            src, dst = os.path.join(root, f"hsrc{hist}"), os.path.join(root, f"hck{hist}")
            subprocess.run(GEN + ["history", os.path.join(dst, "adrc", "form", "events.parquet"), str(hist)], check=True)
            # New files in the same (adrc, form) group as the history.
            subprocess.run(GEN + ["files", src, "1000", str(hist)], check=True)
            into_history_group(src)
            w, rss, s = checkpoint(src, dst)
            emit((f"{hist} history rows (Polars file)", "+1000 new files", w, rss, None, s["total_rows"]))
            # Again, now on eventlog's own file (128k-row row groups).
            subprocess.run(GEN + ["files", src, "1000", str(hist + 1000)], check=True)
            into_history_group(src)
            w, rss, s = checkpoint(src, dst)
            emit((f"{hist} history rows (eventlog file)", "+1000 more new files", w, rss, None, s["total_rows"]))
            shutil.rmtree(src)
            shutil.rmtree(dst)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
