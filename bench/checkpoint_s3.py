#!/usr/bin/env python3
"""Checkpoint pipeline benchmark against a fast local S3 server (s3s-fs).

    ~/.cache/eventlog/venv/bin/python bench/checkpoint_s3.py [--sizes 25000,100000] [--concurrency 32]

Needs `cargo build --release -p eventlog` and s3s-fs 0.14.1 (installed by
`cargo install s3s-fs --version 0.14.1 --features binary --locked`, looked up
on PATH and in ~/.cache/eventlog/cargo/bin). moto is too slow to measure us;
s3s-fs is not safe for concurrent runs (non-atomic conditional writes) but
is fine for one run at a time. For each size: first run, no new files, +1 %
new files, and the floor: listing plus a plain concurrent GET of the same
objects with the same client settings and concurrency (lambda/store/benches/s3_floor.rs).
"""
import argparse
import json
import os
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
GEN = [sys.executable, os.path.join(HERE, "gen_events.py")]


def s3s_binary():
    for d in os.environ.get("PATH", "").split(":") + [os.path.expanduser("~/.cache/eventlog/cargo/bin")]:
        p = os.path.join(d, "s3s-fs")
        if os.access(p, os.X_OK):
            return p
    sys.exit("s3s-fs not found: cargo install s3s-fs --version 0.14.1 --features binary --locked")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_up(port):
    """Until the server on `port` answers anything (an error status too)."""
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except Exception as e:
            if hasattr(e, "code"):
                return
            time.sleep(0.1)


def start_s3s(root):
    """An s3s-fs server on a free port of 127.0.0.1 serving `root`, once it answers."""
    port = free_port()
    server = subprocess.Popen([s3s_binary(), "--host", "127.0.0.1", "--port", str(port), "--access-key", "AK",
                               "--secret-key", "SK", root], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_up(port)
    return server, port


def need_release_bins(*paths):
    for p in paths:
        if not os.access(p, os.X_OK):
            sys.exit(f"{p} missing: cargo build --release -p eventlog -p eventlog-tests --bins")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="25000,100000")
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release -p eventlog")
    subprocess.run(["cargo", "build", "-q", "--release", "-p", "eventlog-store", "--benches"], cwd=REPO, check=True)
    floor_bin = sorted((p for p in (os.path.join(REPO, "target", "release", "deps", f) for f in os.listdir(os.path.join(REPO, "target", "release", "deps")))
                        if os.path.basename(p).startswith("s3_floor-") and os.access(p, os.X_OK) and not p.endswith(".d")), key=os.path.getmtime)[-1]
    root = tempfile.mkdtemp(prefix="eventlog-s3bench-")
    port = free_port()
    server = subprocess.Popen([s3s_binary(), "--host", "127.0.0.1", "--port", str(port), "--access-key", "AK", "--secret-key", "SK", root],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ, EVENTLOG_S3_ENDPOINT=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="AK", AWS_SECRET_ACCESS_KEY="SK",
               AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true", EVENTLOG_CONCURRENCY=str(args.concurrency))
    rows = []
    try:
        wait_up(port)
        for n in [int(x) for x in args.sizes.split(",")]:
            bucket = f"bench{n}"
            # s3s-fs keeps each bucket in a directory: writing the files
            # there is the fastest upload.
            subprocess.run(GEN + ["files", os.path.join(root, bucket, "events"), str(n)], check=True)

            def run():
                t = time.perf_counter()
                p = subprocess.run([BIN, "checkpoint", "--json", "--source", f"s3://{bucket}/events", "--checkpoints", f"s3://{bucket}/checkpoints"],
                                   capture_output=True, text=True, env=env)
                w = time.perf_counter() - t
                if p.returncode not in (0, 1):
                    sys.exit(p.stderr[-3000:])
                return w, json.loads(p.stdout)

            w, s = run()
            rows.append((n, "first run", w, n / w, s["total_rows"]))
            w, s = run()
            rows.append((n, "no new files", w, None, s["total_rows"]))
            subprocess.run(GEN + ["files", os.path.join(root, bucket, "events"), str(n // 100), str(n)], check=True)
            w, s = run()
            rows.append((n, "+1 % new files", w, (n // 100) / w, s["total_rows"]))
            p = subprocess.run([floor_bin, bucket, "events/", str(args.concurrency)], capture_output=True, text=True, env=env, check=True)
            f = json.loads(p.stdout)
            rows.append((n, f"floor: list + {args.concurrency} concurrent GETs", f["seconds"], f["objects"] / f["seconds"], None))
            shutil.rmtree(os.path.join(root, bucket))
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(root, ignore_errors=True)
    print(f"| files | run | seconds | objects/s | rows after |")
    print("|---:|---|---:|---:|---:|")
    for n, run_, w, rate, total in rows:
        print(f"| {n:,} | {run_} | {w:.2f} | {'' if rate is None else f'{rate:,.0f}'} | {'' if total is None else f'{total:,}'} |")


if __name__ == "__main__":
    main()
