#!/usr/bin/env python3
"""Checkpoint runs as S3 would time them: a concurrency sweep through a
proxy that adds S3-like latency, against the floor at each concurrency.

    ~/.cache/eventlog/venv/bin/python bench/checkpoint_latency.py [--files 5000] [--sweep 8,16,32,64,128,256]

Needs `cargo build --release -p eventlog -p eventlog-tests --bins`,
`cargo bench --no-run -p eventlog-store --bench s3_floor` and s3s-fs 0.14.1
(see bench/checkpoint_s3.py). Every request to the local s3s-fs server goes
through `latency_proxy`: 25 ms plus a pseudo-random 0..10 ms (30 ms on
average, S3's usual first-byte time from a Lambda in the same region), and
every 20th request 250 ms more (S3's slow tail). For each concurrency of
the sweep:

* floor: `s3_floor`, a listing plus a plain concurrent GET of every object
  with the same client and that many requests in flight, nothing else;
* first run: `eventlog checkpoint --concurrency C` into an empty
  checkpoint prefix on the same server.

Then, at the default concurrency, a run that finds nothing new, against the
floor's bare listing of the same keys (one paginator), each the median of
seven taken in turns (a few requests each, one in twenty slow). Prints the sweep,
the ratios the README's choice of default rests on, and the request counts.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.path.join(REPO, "target", "release", "eventlog")
PROXY = os.path.join(REPO, "target", "release", "latency_proxy")
GEN = [sys.executable, os.path.join(HERE, "gen_events.py")]
sys.path.insert(0, HERE)
from checkpoint_s3 import need_release_bins, start_s3s  # noqa: E402


REPEAT = 7


def floor_binary():
    deps = os.path.join(REPO, "target", "release", "deps")
    found = [os.path.join(deps, f) for f in os.listdir(deps)
             if f.startswith("s3_floor-") and not f.endswith(".d") and os.access(os.path.join(deps, f), os.X_OK)]
    if not found:
        sys.exit("build first: cargo bench --no-run -p eventlog-store --bench s3_floor")
    return max(found, key=os.path.getmtime)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--sweep", default="32,64,128,256,512")
    a = ap.parse_args()
    need_release_bins(BIN, PROXY)
    floor_bin = floor_binary()
    root = tempfile.mkdtemp(prefix="eventlog-latbench-")
    server, port = start_s3s(root)
    proxy = None
    sweep, extra = [], []
    try:
        bucket = "latency"
        subprocess.run(GEN + ["files", os.path.join(root, bucket, "events"), str(a.files)], check=True)
        proxy = subprocess.Popen([PROXY, f"http://127.0.0.1:{port}", "10", "25", "20", "250"],
                                 stdout=subprocess.PIPE, text=True)
        env = dict(os.environ, EVENTLOG_S3_ENDPOINT=proxy.stdout.readline().strip(), AWS_ACCESS_KEY_ID="AK",
                   AWS_SECRET_ACCESS_KEY="SK", AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")

        def run(checkpoints, concurrency=None):
            args = [BIN, "checkpoint", "--json", "--source", f"s3://{bucket}/events", "--checkpoints", checkpoints]
            if concurrency is not None:
                args += ["--concurrency", str(concurrency)]
            t = time.perf_counter()
            p = subprocess.run(args, capture_output=True, text=True, env=env)
            w = time.perf_counter() - t
            if p.returncode not in (0, 1):
                sys.exit(p.stderr[-3000:])
            return w, json.loads(p.stdout)

        def floor(concurrency, *mode):
            p = subprocess.run([floor_bin, bucket, "events/", str(concurrency), *mode], capture_output=True,
                               text=True, env=env, check=True)
            return json.loads(p.stdout)

        for c in [int(x) for x in a.sweep.split(",")]:
            f = floor(c)
            w, s = run(f"s3://{bucket}/ck-{c}", c)
            assert s["total_rows"] > 0 and s["listed"] == a.files == f["objects"], (s["listed"], f["objects"])
            sweep.append((c, f["seconds"], w))
        w_default, s = run(f"s3://{bucket}/ck-default")
        assert s["listed"] == a.files
        # A handful of requests each, one in twenty slow: the median of
        # several, taken in turns.
        agains, bares = [], []
        for _ in range(REPEAT):
            w_again, s_again = run(f"s3://{bucket}/ck-default")
            assert s_again["new_objects"] == 0 and s_again["already_processed"] == a.files, s_again
            agains.append(w_again)
            bares.append(floor(1, "list-only")["list_seconds"])
        w_again, bare = statistics.median(agains), statistics.median(bares)
        extra = (w_default, w_again, bare, s_again.get("list_ranges"), s_again.get("list_requests"))
    finally:
        if proxy:
            proxy.kill()
            proxy.wait()
        server.terminate()
        server.wait()
        shutil.rmtree(root, ignore_errors=True)
    best_floor = min(f for _, f, _ in sweep)
    best_c = min(sweep, key=lambda r: r[1])[0]
    print(f"{a.files:,} files; every request 25-35 ms, every 20th 250 ms more\n")
    print("| concurrency | floor: list + GETs (s) | first run (s) | run / floor at this concurrency | run / best floor |")
    print("|---:|---:|---:|---:|---:|")
    for c, f, w in sweep:
        print(f"| {c} | {f:.2f} | {w:.2f} | {w / f:.2f} | {w / best_floor:.2f} |")
    w_default, w_again, bare, ranges, requests = extra
    print()
    print("| run | seconds | against | ratio |")
    print("|---|---:|---|---:|")
    print(f"| first run, default concurrency | {w_default:.2f} | best floor ({best_floor:.2f} s at {best_c}) | {w_default / best_floor:.2f} |")
    print(f"| no new files, default concurrency ({ranges} ranges, {requests} listing requests; median of {REPEAT}) "
          f"| {w_again:.2f} | bare listing, one paginator ({bare:.2f} s, median of {REPEAT}) | {w_again / bare:.2f} |")


if __name__ == "__main__":
    main()
