"""Writes expected.json: what each file here holds, row by row, read by
pyarrow (a reader independent of ours) and put in the checkpoint schema's
terms (a column a file lacks is null; timestamps in microseconds, UTC).

    ~/.cache/eventlog/venv/bin/python testdata/formats/expected.py
"""
import json
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq

HERE = pathlib.Path(__file__).parent
FIELDS = ["action", "study", "pipeline_adcid", "project_label", "center_label", "gear_name",
          "ptid", "naccid", "visit_date", "visit_number", "datatype", "module", "packet",
          "modality", "timestamp"]


def micros(col):
    return col.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_pylist()


def rows(table, fields, times):
    cols = {}
    for f in fields:
        if f not in table.column_names:
            cols[f] = [None] * table.num_rows
        elif f in times:
            cols[f] = micros(table.column(f))
        else:
            cols[f] = table.column(f).to_pylist()
    return [{f: cols[f][i] for f in fields} for i in range(table.num_rows)]


out = {}
for p in sorted((HERE / "checkpoints").glob("*.parquet")):
    out[f"checkpoints/{p.name}"] = rows(pq.read_table(p), FIELDS, {"timestamp"})
for p in sorted((HERE / "ledger").glob("*.parquet")):
    t = pq.read_table(p)
    out[f"ledger/{p.name}"] = rows(t, t.column_names, {"processed_at"})
(HERE / "expected.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
