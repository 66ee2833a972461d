#!/usr/bin/env python3
"""Differential check of core's Python conversions against CPython 3.11:
timestamps through datetime.fromisoformat (as the reference Lambda calls
it), int()/float()/bool()/str()/json.dumps as spec §4.1–4.2 describe them.

    python3 scripts/dev/py_probe.py [N] [SEED]
"""
import json, math, os, random, subprocess, sys
from datetime import datetime, timezone

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

def ref_ts(s):
    t = s.strip()
    if not t:
        return None
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    try:
        d = datetime.fromisoformat(t)
    except ValueError:
        return "fail"
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    try:
        d = d.astimezone(timezone.utc)
    except OverflowError:
        return "fail"
    ms = (d - datetime(1970, 1, 1, tzinfo=timezone.utc)) // __import__("datetime").timedelta(milliseconds=1)
    if not (-2208988800000 <= ms <= 10413791999999):
        return "fail"
    return ms

def ref_float(v):
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        try:
            f = float(v)
        except OverflowError:
            return None
        return f if math.isfinite(f) else None
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None

def ref_int(v):
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if math.isfinite(v) else None
    if isinstance(v, str):
        try:
            if "." in v:
                f = float(v)
                return int(f) if math.isfinite(f) else None
            return int(v)
        except ValueError:
            return None
    return None

def ref_bool(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, str):
        w = v.strip().lower()
        return True if w in ("true", "1", "t", "yes", "y") else False if w in ("false", "0", "f", "no", "n") else None
    return None

def ref_text(v):
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, (list, dict)):
        return json.dumps(v)  # our documented departure from repr
    return str(v)

def ref_json(v):
    if v is None:
        return None
    if isinstance(v, str):
        return v
    return json.dumps(v)

def values(n, seed):
    r = random.Random(seed)
    digits = "0123456789"
    parts = ["2025", "-", "10", "07", "T", "W", "41", "2", " ", "15", ":", "04", "05", ".", ",", "123456789", "Z", "+", "-",
             "05:30", "0530", "05", "x", "99", "00", "13", "24", "60", "1", "19", "2299", "1899", "0000", "\u00a0", "\t"]
    out = []
    for _ in range(n):
        k = r.random()
        if k < 0.5:
            s = "".join(r.choice(parts) for _ in range(r.randrange(1, 9)))
            if r.random() < 0.6:
                s = r.choice(["2025-10-07", "20251007", "2025-W41-2", "2025W41", "2020-W53-5", "2025-02-29"]) + r.choice(["T", " ", "x", ""]) + s
            out.append(s)
        elif k < 0.8:
            s = "".join(r.choice(["1", "2", "0", "_", ".", "e", "E", "+", "-", " ", "\u00a0", "inf", "nan", "x", "5"]) for _ in range(r.randrange(1, 7)))
            out.append(s)
        else:
            out.append(r.choice([1.0, 0.1, 1e16, 1e-5, -0.0, 2.5e-7, 123456789.123, 1e300, 12345678901234567890, -7, True, False, None,
                                 [1.0, "é", {"a": [None, 1e21]}], {"k": "\u2028\u007f😀"}, 0, 15474, 1.5, 1e15, 9007199254740993]))
    return out

def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    vals = values(n, seed)
    text = "\n".join(json.dumps(v) for v in vals) + "\n"
    out = subprocess.run(["cargo", "run", "-q", "--release", "-p", "eventlog-core", "--example", "raw_probe"], input=text, cwd=REPO,
                         check=True, capture_output=True, text=True).stdout.splitlines()
    bad = 0
    for v, line in zip(vals, out):
        got = json.loads(line)
        want = {
            "ts": (None if ref_ts(v) is None else (None if ref_ts(v) == "fail" else ref_ts(v))) if isinstance(v, str) else None,
            "int": None if ref_int(v) is None else ("huge" if abs(ref_int(v)) >= 2**127 else str(ref_int(v))),
            "float": None if ref_float(v) is None else repr(ref_float(v)),
            "bool": ref_bool(v),
            "text": ref_text(v),
            "json": ref_json(v),
        }
        if isinstance(v, str) and ref_ts(v) is None:
            want["ts"] = None
        for k in want:
            g = got[k]
            w = want[k]
            if k == "ts" and isinstance(v, str) and ref_ts(v) == "fail":
                w = None
            if k == "int" and g == "huge" and w is not None and w != "huge":
                if abs(int(w)) >= 10**30:
                    continue
            if g != w:
                bad += 1
                if bad <= 40:
                    print(f"{k}: {v!r}: ours {g!r} python {w!r}")
    print(f"{len(vals)} values, {bad} differences")

main()
