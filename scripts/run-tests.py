#!/usr/bin/env python3
"""Run the workspace's test binaries two at a time.

    scripts/run-tests.py [--jobs N] -- CARGO_TEST_ARGS...

`cargo test` runs its test binaries one after another, and most of ours
wait on servers (S3, ClickHouse, Chromium, subprocesses) rather than on
the CPU: two at once took minutes off a cold run. The binaries are built
by `cargo test --no-run` with the arguments given, then each runs as cargo
would run it (from its package's directory, with CARGO_MANIFEST_DIR and
CARGO_PKG_NAME set); a binary's output is printed whole when it ends, and
any failure fails the run. Doctests run afterwards through cargo.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def binaries(cargo_args):
    out = subprocess.run(
        ["cargo", "test", "--no-run", "--message-format=json-render-diagnostics", *cargo_args],
        check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    found = []
    for line in out.splitlines():
        m = json.loads(line)
        if m.get("reason") != "compiler-artifact" or not m.get("executable"):
            continue
        if not m["profile"].get("test"):
            continue
        package = os.path.dirname(m["manifest_path"])
        name = m["package_id"].split("#")[-1].split("@")[0].rsplit("/", 1)[-1]
        found.append((m["target"]["name"], m["target"]["kind"][0], m["executable"], package, name))
    # Integration tests first: they are the long ones.
    found.sort(key=lambda b: (b[1] != "test", b[0]))
    return found


def run(binary):
    target, kind, exe, package, name = binary
    env = dict(os.environ, CARGO_MANIFEST_DIR=package, CARGO_PKG_NAME=name)
    start = time.monotonic()
    p = subprocess.run([exe], cwd=package, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return target, kind, p.returncode, p.stdout, time.monotonic() - start


# Binaries whose assertions include wall-clock bounds run alone, after the
# others: sharing the machine must not decide them. (`wasm`: the browser
# checker must keep its page responsive, no gap of 500 ms between beats;
# beside another binary on two loaded cores it once saw 745 ms.)
ALONE = {"deadline", "wasm"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("cargo_args", nargs="*")
    args = ap.parse_args()
    failed = []

    def report(results):
        for target, kind, rc, output, secs in results:
            print(f"     Ran {kind} {target} ({secs:.1f} s)", flush=True)
            if rc != 0:
                failed.append(target)
                print(output, flush=True)
            else:
                print("\n".join(l for l in output.splitlines() if l.startswith("test result")), flush=True)

    every = binaries(args.cargo_args)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        report(pool.map(run, [b for b in every if b[0] not in ALONE]))
    report(map(run, [b for b in every if b[0] in ALONE]))
    doc = subprocess.run(["cargo", "test", "--doc", "-q", *args.cargo_args])
    if doc.returncode != 0:
        failed.append("doctests")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
