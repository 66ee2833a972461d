#!/usr/bin/env python3
"""What a run costs when the ledger is large: generated ledgers of N
entries, plus 1 000 new event files.

    ~/.cache/eventlog/venv/bin/python bench/ledger_scale.py [--entries 1000000,10000000] [--new 1000] [--old PATH]

Needs `cargo build --release -p eventlog` and
`cargo build --release -p eventlog-formats --example gen_ledger`. For each N:

* sweep: the source holds the 1 000 new files (older files archived), the
  ledger is a snapshot of N entries (today's format);
* event mode: the same, `--keys` naming the 1 000 files (no listing);
* compaction: the run after, with 1 000 more files, compacting the log
  into a new snapshot (what every 64th run pays);
* take-over: the ledger in the single-file format of earlier versions,
  the first run of this version (converts it, streamed);
* the peer: the same run by the previous version (`--old`, a release
  build of the commit before the segmented ledger), which reads and
  rewrites the whole single file.

Wall time and peak RSS are the kernel's for the child process; state
bytes are the ledger's own count (the previous version's are the file's
size, read whole and written whole). Prints a markdown table.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.path.join(REPO, "target", "release", "eventlog")
GEN_LEDGER = os.path.join(REPO, "target", "release", "examples", "gen_ledger")
GEN = [sys.executable, os.path.join(HERE, "gen_events.py")]


def measure(cmd, stdin=None, env=None):
    """Run cmd under a fresh child python so peak RSS is this command's."""
    code = ("import resource,subprocess,sys,time,json;t=time.perf_counter();"
            "p=subprocess.run(sys.argv[1:],capture_output=True,text=True,stdin=sys.stdin);"
            "w=time.perf_counter()-t;r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
            "print(json.dumps({'wall':w,'rss':r/1024,'rc':p.returncode,'out':p.stdout,'err':p.stderr[-2000:]}))")
    p = subprocess.run([sys.executable, "-c", code] + cmd, capture_output=True, text=True, input=stdin,
                       env=dict(os.environ, **(env or {})))
    d = json.loads(p.stdout)
    if d["rc"] not in (0, 1):
        sys.exit(f"{cmd[:2]} failed ({d['rc']}): {d['err']}")
    return d


def new_files(src, n, start):
    subprocess.run(GEN + ["files", src, str(n), str(start), "recent"], check=True)


def ledger(fmt, n, ck):
    subprocess.run([GEN_LEDGER, fmt, str(n), os.path.join(ck, "_eventlog")], check=True, capture_output=True)


def run(binary, src, ck, *extra, env=None, stdin=None):
    cmd = [binary, "checkpoint", "--json", "--source", src, "--checkpoints", ck, *extra]
    d = measure(cmd, stdin=stdin, env=env)
    return d, json.loads(d["out"])


def size(path):
    return os.path.getsize(path) if os.path.exists(path) else 0


def mb(n):
    return f"{n / 1e6:.1f}"


def case(rows, n, name, d, s, read, written):
    rows.append((f"{n:,}", name, f"{d['wall']:.2f}", f"{d['rss']:.0f}", mb(read), mb(written), s.get("new_objects", "")))


def one_size(n, k, old, rows):
    with tempfile.TemporaryDirectory(prefix="eventlog-ledger-") as tmp:
        src = os.path.join(tmp, "src")
        new_files(src, k, 0)
        keys = "\n".join("prod/" + f for f in sorted(os.listdir(os.path.join(src, "prod"))))

        ck = os.path.join(tmp, "ck-sweep")
        ledger("snapshot", n, ck)
        d, s = run(BIN, src, ck)
        assert s["new_objects"] == k, s
        case(rows, n, f"sweep, +{k:,} new files", d, s, s["ledger"]["bytes_read"], s["ledger"]["bytes_written"])
        more = os.path.join(tmp, "src-more")
        shutil.copytree(src, more)
        new_files(more, k, k)
        d, s = run(BIN, more, ck, env={"EVENTLOG_LEDGER_COMPACT_SEGMENTS": "1"})
        assert s["ledger"].get("compacted_to") is not None, s
        case(rows, n, f"sweep, +{k:,} more, compacting", d, s, s["ledger"]["bytes_read"], s["ledger"]["bytes_written"])
        shutil.rmtree(ck)

        ck = os.path.join(tmp, "ck-keys")
        ledger("snapshot", n, ck)
        d, s = run(BIN, src, ck, "--keys", "-", stdin=keys)
        assert s["new_objects"] == k and s["listed"] == 0, s
        case(rows, n, f"event mode, {k:,} keys", d, s, s["ledger"]["bytes_read"], s["ledger"]["bytes_written"])
        shutil.rmtree(ck)

        ck = os.path.join(tmp, "ck-takeover")
        ledger("single", n, ck)
        d, s = run(BIN, src, ck)
        assert s["ledger"]["took_over"] and s["new_objects"] == k, s
        case(rows, n, "take-over of a single-file ledger (once)", d, s, s["ledger"]["bytes_read"], s["ledger"]["bytes_written"])
        shutil.rmtree(ck)

        if old:
            ck = os.path.join(tmp, "ck-old")
            ledger("single", n, ck)
            before = size(os.path.join(ck, "_eventlog", "ledger.parquet"))
            d, s = run(old, src, ck)
            assert s["new_objects"] == k, s
            after = size(os.path.join(ck, "_eventlog", "ledger.parquet"))
            case(rows, n, "peer: previous version, single-file ledger", d, s, before, after)
            shutil.rmtree(ck)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", default="1000000,10000000")
    ap.add_argument("--new", type=int, default=1000)
    ap.add_argument("--old", help="eventlog binary of the previous version (single-file ledger)")
    a = ap.parse_args()
    for p in (BIN, GEN_LEDGER):
        if not os.access(p, os.X_OK):
            sys.exit(f"{p} missing: see the docstring")
    rows = []
    for n in [int(x) for x in a.entries.split(",")]:
        one_size(n, a.new, a.old, rows)
    print("| ledger entries | run | seconds | peak RSS (MB) | state read (MB) | state written (MB) | new files |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")


if __name__ == "__main__":
    main()
