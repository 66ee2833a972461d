#!/usr/bin/env python3
"""xAPI to ClickHouse, end to end, both load paths, both targets.

    ~/.cache/eventlog/venv/bin/python bench/xapi_load.py [--statements 1000000] [--files 100]
        [--paths in-process,server-side] [--targets five-tables,raw-events]

Needs `cargo build --release -p eventlog`, s3s-fs (see bench/checkpoint_s3.py)
and the test venv (chdb). Generates the statements from the nine examples
in testdata/xapi (ids, users, sections, times, scores varied; about 1 %
unknown verbs and 0.1 % broken lines) as JSONL files in an s3s-fs bucket,
starts the ClickHouse engine the tests use (chdb behind
tests/infra/clickhouse_http.py), then loads the bucket with `eventlog xapi
bulk` through each path into its own database: a first load, then the same
load again (every row deduplicated). Also the engine alone counting the
lines over S3; and each path's floor: the simplest hand-written SQL
loading the same five tables from one read (server-side), and the engine
inserting the same rows from local files (in-process). Prints a markdown
table with each run against its floor.

The engine is ClickHouse in one process behind a Python HTTP front (one
query at a time), so these are figures for this test engine on this
machine, not for a ClickHouse server.
"""
import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.path.join(REPO, "target", "release", "eventlog")
sys.path.insert(0, HERE)
from checkpoint_s3 import free_port, s3s_binary  # noqa: E402

PASSWORD = "bench"


def wait(url):
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception as e:
            if hasattr(e, "code"):
                return
            time.sleep(0.1)
    sys.exit(f"{url} did not come up")


def generate(dest, statements, files):
    """JSONL files under dest/section/<id>/<kind>/, written from templates
    with placeholders so a million lines take seconds, not minutes."""
    templates = []
    for name in ("examples.jsonl", "examples-extra.jsonl"):
        with open(os.path.join(REPO, "testdata", "xapi", name)) as f:
            templates += [json.loads(line) for line in f if line.strip()]
    filled = []
    for t in templates:
        t["id"] = "@ID@"
        t["timestamp"] = "@TS@"
        t["actor"]["account"]["name"] = "@USER@"
        t.setdefault("context", {}).setdefault("extensions", {})["http://oli.cmu.edu/extensions/section_id"] = "@SECTION@"
        filled.append(json.dumps(t, separators=(",", ":")).replace('"@SECTION@"', "@SECTION@"))
    rng = random.Random(7)
    per_file = statements // files
    total = 0
    for f in range(files):
        section = 1000 + f % 50
        directory = os.path.join(dest, "section", str(section), "mixed")
        os.makedirs(directory, exist_ok=True)
        lines = []
        # Broken lines (0.1 % of all) go into the last file alone: the
        # five-table target skips them, the raw-events target refuses that
        # one object whole (its rule), and both load every other file.
        last = f == files - 1
        for i in range(per_file if not last else statements - total):
            r = rng.random()
            if last and r < 0.001 * files:
                lines.append('{"broken": ')
                continue
            t = filled[-1] if r < 0.011 else filled[rng.randrange(len(filled) - 1)]
            ts = f"2025-{1 + f % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}.{rng.randrange(10**6):06d}Z"
            lines.append(t.replace("@ID@", f"{f:08x}-{i:04x}-4000-a000-{rng.getrandbits(48):012x}")
                         .replace("@TS@", ts).replace("@USER@", str(rng.randrange(200000))).replace("@SECTION@", str(section)))
        total += len(lines)
        with open(os.path.join(directory, f"2025-{1 + f % 12:02d}-01T00-00-00.000000Z_{f:04d}.jsonl"), "w") as out:
            out.write("\n".join(lines) + "\n")
    return total


def measure(cmd, env):
    """Wall time and peak RSS (MB) of one command, in a fresh measuring child."""
    code = ("import resource,subprocess,sys,time,json;t=time.perf_counter();"
            "p=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
            "w=time.perf_counter()-t;u=resource.getrusage(resource.RUSAGE_CHILDREN);r=u.ru_maxrss;"
            "print(json.dumps({'wall':w,'rss':r/1024,'cpu':u.ru_utime+u.ru_stime,'rc':p.returncode,'out':p.stdout,'err':p.stderr[-3000:]}))")
    p = subprocess.run([sys.executable, "-c", code] + cmd, capture_output=True, text=True, env=env)
    d = json.loads(p.stdout)
    if d["rc"] not in (0, 1):
        sys.exit(f"{cmd[:3]} failed ({d['rc']}): {d['err']}\n{d['out'][-3000:]}")
    return d


def cpu_seconds(pid):
    """User + system CPU seconds a running process (all its threads) used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


TABLES = ("video_events", "activity_attempt_events", "page_attempt_events", "page_viewed_events", "part_attempt_events")


RAW_TABLES = ("raw_events",)


def tables_of(target):
    return RAW_TABLES if target == "raw-events" else TABLES


def engine_floor(sql, env, s3_url, target):
    """The server-side path's floor: one read of the files into a staging
    table and five plain inserts from it (raw-events: one plain INSERT …
    SELECT from the read), SQL from core/benches/xapi_floor_sql.rs.
    Returns (seconds, None, rows, rows)."""
    db = "bench_floor_" + target.replace("-", "_")
    subprocess.run([BIN, "xapi", "schema", "--create", "--database", db, "--target", target], env=dict(env, CLICKHOUSE_DATABASE=db),
                   check=True, capture_output=True)
    source = f"s3(bench_s3, url = '{s3_url}/xapi/section/**.jsonl', format = 'LineAsString', structure = 'line String')"
    extra = ["raw-events"] if target == "raw-events" else []
    out = subprocess.run(["cargo", "bench", "-q", "-p", "eventlog-core", "--bench", "xapi_floor_sql", "--", db, "floor_stage", source] + extra,
                         cwd=REPO, check=True, capture_output=True, text=True).stdout
    plan = json.loads(out)
    t = time.perf_counter()
    if plan["stage"]:
        sql(plan["stage"])
    for insert in plan["inserts"]:
        sql(insert)
    w = time.perf_counter() - t
    sql(f"DROP TABLE IF EXISTS {db}.floor_stage")
    n = sum(int(sql(f"SELECT count() FROM {db}.{t}")) for t in tables_of(target))
    return w, None, n, n


def insert_floor(sql, env, loaded_db, root, fmt, target):
    """The in-process path's floor: the rows it loaded, exported to local
    files in `fmt`, inserted by the engine into empty tables from those
    files. Returns (seconds, None, rows, rows)."""
    db = "bench_insert_floor_" + fmt.lower() + "_" + target.replace("-", "_")
    subprocess.run([BIN, "xapi", "schema", "--create", "--database", db, "--target", target], env=dict(env, CLICKHOUSE_DATABASE=db),
                   check=True, capture_output=True)
    files = {}
    for t in tables_of(target):
        cols = sql(f"SELECT arrayStringConcat(groupArray(concat('`', name, '`')), ', ') FROM system.columns "
                   f"WHERE database = '{loaded_db}' AND table = '{t}' AND name NOT IN ('inserted_at', 'event_version')").strip()
        path = os.path.join(root, f"{t}.{fmt}")
        sql(f"SELECT {cols} FROM {loaded_db}.{t} FINAL INTO OUTFILE '{path}' FORMAT {fmt}")
        files[t] = (cols, path)
    t0 = time.perf_counter()
    for t, (cols, path) in files.items():
        sql(f"INSERT INTO {db}.{t} ({cols}) SELECT * FROM file('{path}', {fmt})")
    w = time.perf_counter() - t0
    n = sum(int(sql(f"SELECT count() FROM {db}.{t}")) for t in tables_of(target))
    return w, None, n, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--statements", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--paths", default="in-process,server-side",
                    help="which load paths to run, comma-separated (each beside its floor)")
    ap.add_argument("--targets", default="five-tables,raw-events",
                    help="which targets to load, comma-separated")
    ap.add_argument("--engine-log", help="write the engine front's log of queries over 0.2 s to this file")
    args = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release -p eventlog")
    venv_python = sys.executable
    root = tempfile.mkdtemp(prefix="eventlog-xapibench-")
    procs = []
    try:
        s3_root = os.path.join(root, "s3")
        t = time.perf_counter()
        lines = generate(os.path.join(s3_root, "xapi"), args.statements, args.files)
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(s3_root) for f in fs)
        print(f"generated {lines} lines, {size / 1e6:.0f} MB in {args.files} files ({time.perf_counter() - t:.0f} s)", file=sys.stderr)
        s3_port, ch_port = free_port(), free_port()
        procs.append(subprocess.Popen([s3s_binary(), "--host", "127.0.0.1", "--port", str(s3_port), "--access-key", "AK", "--secret-key", "SK", s3_root],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        log = open(args.engine_log, "w") if args.engine_log else subprocess.DEVNULL
        front_env = dict(os.environ, CLICKHOUSE_FRONT_LOG="1") if args.engine_log else None
        procs.append(subprocess.Popen([venv_python, os.path.join(REPO, "tests", "infra", "clickhouse_http.py"), "--port", str(ch_port),
                                       "--data", os.path.join(root, "ch"), "--user", "default", "--password", PASSWORD],
                                      stdout=subprocess.DEVNULL, stderr=log, env=front_env))
        s3_url, ch_url = f"http://127.0.0.1:{s3_port}", f"http://127.0.0.1:{ch_port}"
        wait(s3_url + "/")
        wait(ch_url + "/ping")

        def sql(q):
            req = urllib.request.Request(ch_url + "/", data=q.encode(), headers={"X-ClickHouse-Key": PASSWORD})
            return urllib.request.urlopen(req).read().decode()

        sql("CREATE NAMED COLLECTION IF NOT EXISTS bench_s3 AS access_key_id = 'AK', secret_access_key = 'SK'")
        base = dict(os.environ, CLICKHOUSE_URL=ch_url, CLICKHOUSE_USER="default", CLICKHOUSE_PASSWORD=PASSWORD,
                    EVENTLOG_S3_ENDPOINT=s3_url, AWS_ACCESS_KEY_ID="AK", AWS_SECRET_ACCESS_KEY="SK", AWS_REGION="us-east-1",
                    AWS_EC2_METADATA_DISABLED="true", CLICKHOUSE_S3_AUTH="named:bench_s3", CLICKHOUSE_S3_ENDPOINT=s3_url)
        rows = []
        cpu_rows = []
        t = time.perf_counter()
        counted = sql(f"SELECT count() FROM s3(bench_s3, url = '{s3_url}/xapi/section/**.jsonl', format = 'LineAsString', structure = 'line String')").strip()
        w = time.perf_counter() - t
        rows.append(("engine alone: count the lines over S3", w, None, int(counted), None))
        floors = {}
        wanted = args.paths.split(",")
        for target in args.targets.split(","):
            run_target(sql, base, s3_url, root, procs, target, wanted, rows, cpu_rows, floors)
        print("| run | seconds | vs its floor | eventlog peak RSS (MB) | statements loaded | rows/s | rows in tables (FINAL) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, w, rss, n, stored in rows:
            floor = next((f for p, f in floors.items() if name.startswith(p + ":")), None)
            ratio = f"{w / floor[0]:.2f}x" if floor else ""
            print(f"| {name} | {w:.1f} | {ratio} | {'' if rss is None else f'{rss:.0f}'} | {n:,} | {n / w:,.0f} | {'' if stored is None else f'{stored:,}'} |")
        print(f"\n{lines:,} lines ({size / 1e6:.0f} MB) in {args.files} files.")
        # Where the CPU went: with every process busy at once, the work of
        # all three on this machine's cores bounds the wall time from below.
        cores = os.cpu_count()
        print(f"\n| run | seconds | eventlog CPU s | S3 server CPU s | engine CPU s | all CPU / {cores} cores (s) | seconds / that bound |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, w, ours, s3_cpu, engine_cpu in cpu_rows:
            bound = (ours + s3_cpu + engine_cpu) / cores
            print(f"| {name} | {w:.1f} | {ours:.1f} | {s3_cpu:.1f} | {engine_cpu:.1f} | {bound:.1f} | {w / bound:.2f}x |")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        shutil.rmtree(root, ignore_errors=True)


def run_target(sql, base, s3_url, root, procs, target, wanted, rows, cpu_rows, floors):
    """Load the bucket into `target`'s tables by each wanted path, each run
    beside its floor (keys of `floors` are "<target> <path>")."""
    if "server-side" in wanted:
        floors[f"{target} server-side"] = engine_floor(sql, base, s3_url, target)
        what = "the five tables" if target == "five-tables" else "raw_events"
        rows.append((f"{target} engine floor: one read into {what}, simplest SQL by hand", *floors[f"{target} server-side"]))
    formats = ("RowBinary", "JSONEachRow") if target == "five-tables" else ("RowBinary",)
    runs = [(p, f) for p, f in [("in-process", f) for f in formats] + [("server-side", None)] if p in wanted]
    for path, fmt in runs:
        db = "bench_" + target.replace("-", "_") + "_" + path.replace("-", "_") + (f"_{fmt.lower()}" if fmt else "")
        env = dict(base, CLICKHOUSE_DATABASE=db, XAPI_INSERT_FORMAT=fmt or "RowBinary", XAPI_TARGET=target)
        subprocess.run([BIN, "xapi", "schema", "--create", "--database", db], env=env, check=True, capture_output=True)
        for run in ("first load", "same files again"):
            servers = [cpu_seconds(p.pid) for p in procs]
            d = measure([BIN, "xapi", "bulk", "--bucket", "xapi", "--prefix", "section/", "--path", path], env)
            s3_cpu, engine_cpu = (cpu_seconds(p.pid) - c for p, c in zip(procs, servers))
            report = json.loads(d["out"])
            if report.get("path") != path.replace("-", "_") or report.get("fallback_from_server_side"):
                sys.exit(f"{target} {path}: ran {report.get('path')}: {report.get('fallback_from_server_side')}")
            stored = sum(int(sql(f"SELECT count() FROM {db}.{t} FINAL")) for t in tables_of(target))
            loaded = report["rows"].get("raw_events", 0) if target == "raw-events" else report["total_rows"]
            rows.append((f"{target} {path}: {run}" + (f" ({fmt})" if fmt else ""), d["wall"], d["rss"], loaded, stored))
            cpu_rows.append((rows[-1][0], d["wall"], d["cpu"], s3_cpu, engine_cpu))
        if fmt == "RowBinary":
            for file_fmt in ("JSONEachRow", "RowBinaryWithNamesAndTypes"):
                f = insert_floor(sql, base, db, root, file_fmt, target)
                rows.append((f"{target} engine floor: insert the same rows from local files ({file_fmt})", *f))
                key = f"{target} in-process"
                if key not in floors or f[0] < floors[key][0]:
                    floors[key] = f


if __name__ == "__main__":
    main()
