#!/usr/bin/env python3
"""A sweep's listing on a local S3 server: one paginator against key ranges
listed concurrently.

    ~/.cache/eventlog/venv/bin/python bench/listing_s3.py [--keys 100000] [--latency-ms 0,100]

Needs `cargo build --release -p eventlog -p eventlog-tests --bins` and s3s-fs
0.14.1 (see bench/checkpoint_s3.py). 100 000 producer-style keys (four
actions, six years of timestamps) are written into the s3s-fs bucket's
directory; `eventlog checkpoint --max-files 1` then lists them all (and
reads one file), with `--list-concurrency 1` (one ListObjectsV2 paginator:
what a plain client does) and the default (8 pages from one paginator,
then the rest in ranges found by delimiter listings, listed at once). s3s-fs answers from the local disk in microseconds of
network time but walks its directory for every page; with `--latency-ms`,
requests also pass through a proxy that delays each by a pseudo-random
0..N ms (mean N/2), a stand-in for the round trip to S3, which is what
parallel listing hides. Prints a markdown table.
"""
import argparse
import json
import os
import shutil
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


def sweep(endpoint, bucket, concurrency):
    env = dict(os.environ, EVENTLOG_S3_ENDPOINT=endpoint, AWS_ACCESS_KEY_ID="AK", AWS_SECRET_ACCESS_KEY="SK",
               AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    with tempfile.TemporaryDirectory() as ck:
        t = time.perf_counter()
        p = subprocess.run([BIN, "checkpoint", "--json", "--source", f"s3://{bucket}/events", "--checkpoints", ck,
                            "--max-files", "1", "--list-concurrency", str(concurrency)],
                           capture_output=True, text=True, env=env)
        w = time.perf_counter() - t
    if p.returncode not in (0, 1):
        sys.exit(p.stderr[-3000:])
    return w, json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=100_000)
    ap.add_argument("--latency-ms", default="0,100")
    a = ap.parse_args()
    need_release_bins(BIN, PROXY)
    root = tempfile.mkdtemp(prefix="eventlog-listbench-")
    server, port = start_s3s(root)
    proxies = []
    rows = []
    try:
        bucket = "listing"
        subprocess.run(GEN + ["files", os.path.join(root, bucket, "events"), str(a.keys)], check=True)
        for latency in [int(x) for x in a.latency_ms.split(",")]:
            endpoint = f"http://127.0.0.1:{port}"
            if latency > 0:
                proxy = subprocess.Popen([PROXY, endpoint, str(latency)], stdout=subprocess.PIPE, text=True)
                proxies.append(proxy)
                endpoint = proxy.stdout.readline().strip()
            seq, s1 = sweep(endpoint, bucket, 1)
            par, s16 = sweep(endpoint, bucket, 16)
            assert s1["listed"] == s16["listed"] == a.keys, (s1["listed"], s16["listed"])
            where = "s3s-fs" if latency == 0 else f"s3s-fs + 0..{latency} ms per request"
            rows.append((where, "one paginator (--list-concurrency 1)", seq, s1["list_ranges"], s1["list_requests"], ""))
            rows.append((where, "first pages, then ranges at once (default)", par, s16["list_ranges"], s16["list_requests"],
                         f"{seq / par:.2f}x"))
    finally:
        for p in proxies:
            p.kill()
            p.wait()
        server.terminate()
        server.wait()
        shutil.rmtree(root, ignore_errors=True)
    print(f"| server | listing of {a.keys:,} keys | seconds | ranges | requests | speed-up vs one paginator |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.2f} | {r[3]} | {r[4]} | {r[5]} |")


if __name__ == "__main__":
    main()
