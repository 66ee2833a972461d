#!/usr/bin/env python3
"""Try the raw-events SQL on chdb against what `derive` gives, line by line.

    ~/.cache/eventlog/venv/bin/python scripts/dev/raw_sql_check.py FILE.jsonl

One file, good lines only (a file with a failing line loads nothing, so
each line is tried alone when the whole file fails). Prints the columns
that differ.
"""
import json, os, subprocess, sys, tempfile
import chdb
from chdb import session

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

def plan(path):
    out = subprocess.run(["cargo", "run", "-q", "-p", "eventlog-core", "--example", "raw_sql", "--", path, "d",
                          f"file('{path}', 'LineAsString', 'line String')", path],
                         cwd=REPO, check=True, capture_output=True, text=True).stdout
    return json.loads(out)

def main():
    path = os.path.abspath(sys.argv[1])
    p = plan(path)
    s = session.Session()
    for k, v in [("max_query_size", "4194304"), ("max_ast_elements", "4000000"), ("max_expanded_ast_elements", "4000000")]:
        s.query(f"SET {k} = {v}")
    for stmt in p["ddl"]:
        s.query(stmt)
    s.query(p["stage"].replace("`stage`", "`stage`"))
    summary = s.query(p["summary"] + " FORMAT JSONEachRow", "JSONEachRow").bytes().decode()
    print("summary:", summary.strip())
    sql_bad = {json.loads(l)["source_line"]: json.loads(l)["problem"] for l in s.query("SELECT source_line, problem FROM d.stage WHERE problem != '' FORMAT JSONEachRow", "JSONEachRow").bytes().decode().splitlines()}
    der_bad = {x["line"]: x for x in p["problems"]}
    for line in sorted(set(sql_bad) | set(der_bad)):
        if (line in sql_bad) != (line in der_bad):
            print(f"line {line}: sql problem {sql_bad.get(line)!r}, derive {der_bad.get(line, {}).get('problem')!r}")
    print(f"failing lines: sql {len(sql_bad)} derive {len(der_bad)}")
    s.query(p["insert_raw"].replace("WHERE source_path =", "WHERE problem = '' AND source_path ="))
    s.query(p["attr_stage"])
    s.query(p["insert_attributions"])
    cols = None
    got = [json.loads(l) for l in s.query("SELECT * EXCEPT (inserted_at, event_version) FROM d.raw_events ORDER BY source_line FORMAT JSONEachRow SETTINGS output_format_json_quote_64bit_integers=0, output_format_json_quote_denormals=1", "JSONEachRow").bytes().decode().splitlines()]
    want = [json.loads(r) for r in p["rows"]]
    bad = 0
    print(f"rows: sql {len(got)} derive {len(want)}")
    wl = {w["source_line"]: w for w in want}
    for g in got:
        w = wl.get(g["source_line"])
        if w is None:
            print("extra row from SQL", g["source_line"]); bad += 1; continue
        for k, v in w.items():
            gv = g.get(k)
            if k == "timestamp" and v is None:
                v = "1970-01-01 00:00:00.000"
            if v != gv and not (isinstance(v, float) and isinstance(gv, (int, float)) and (v == gv)):
                print(f"line {g['source_line']} {k}: sql {gv!r} derive {v!r}")
                bad += 1
    ga = [json.loads(l) for l in s.query("SELECT * EXCEPT (inserted_at, event_version) FROM d.experiment_attributions ORDER BY source_line, attribution_hash FORMAT JSONEachRow SETTINGS output_format_json_quote_64bit_integers=0, output_format_json_quote_denormals=1", "JSONEachRow").bytes().decode().splitlines()]
    # Equal keys in one insert collapse (optimize_on_insert): the last stays.
    last = {}
    for r in p["attributions"]:
        r = json.loads(r)
        last[(r["raw_event_hash"], r["attribution_hash"])] = r
    wa = sorted(last.values(), key=lambda r: (r["source_line"], r["attribution_hash"]))
    print(f"attributions: sql {len(ga)} derive {len(wa)}")
    from collections import Counter
    cg = Counter(g["source_line"] for g in ga); cw = Counter(w["source_line"] for w in wa)
    for line in sorted(set(cg) | set(cw)):
        if cg[line] != cw[line]:
            print(f"attr count line {line}: sql {cg[line]} derive {cw[line]}")
    for g, w in zip(ga, wa):
        for k, v in w.items():
            if k == "timestamp" and v is None:
                v = "1970-01-01 00:00:00.000"
            if v != g.get(k) and not (isinstance(v, float) and g.get(k) == v):
                print(f"attr line {g['source_line']} {k}: sql {g.get(k)!r} derive {v!r}"); bad += 1
    print("differences:", bad)

try:
    main()
except Exception as e:
    print(str(e)[:3000])
