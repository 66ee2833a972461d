#!/usr/bin/env python3
"""Generate a differential corpus of visit-event files with reference verdicts.

Each line has the shape of shared/fixtures/visit-events/sample-corpus.jsonl:
id, category, input_text, valid, normalized | error_fields + error_types,
outcome. Cases are mutations of realistic events aimed at every rule the
reference applies (types, lax coercions, whitespace, timestamps, the datatype
rule, JSON quirks). Deterministic for a given seed.

    python -m venv .venv && .venv/bin/pip install -r scripts/oracle/requirements.txt
    .venv/bin/python scripts/oracle/gen_corpus.py --count 4000 > testdata/visit-events/generated-corpus.jsonl
"""
import argparse
import json
import random

import refmodel

ACTIONS = ["submit", "delete", "not-pass-qc", "pass-qc"]
DATATYPES = ["apoe", "biomarker", "dicom", "enrollment", "form", "genetic-availability", "gwas", "imputation", "scan-analysis"]
WS = [" ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u200b", "\u2028", "\u0085", "\u001c"]


def base_event(r):
    datatype = r.choice(DATATYPES + ["form"] * 4 + ["dicom"] * 2)
    study = r.choice(["adrc", "adrc", "dvcid", "leads"])
    ev = {
        "action": r.choice(ACTIONS),
        "study": study,
        "project_label": f"ingest-{datatype}" + ("" if study == "adrc" else f"-{study}"),
        "center_label": r.choice(["alpha", "beta", "emory", "mayo", "nyu-adrc"]),
        "gear_name": r.choice(["identifier-lookup", "form-qc-checker", "pipeline-event-logger", "image-identifier-lookup"]),
        "datatype": datatype,
        "timestamp": "%04d-%02d-%02dT%02d:%02d:%02dZ" % (r.randint(2015, 2026), r.randint(1, 12), r.randint(1, 28), r.randint(0, 23), r.randint(0, 59), r.randint(0, 59)),
        "visit_date": "%04d-%02d-%02d" % (r.randint(2015, 2026), r.randint(1, 12), r.randint(1, 28)),
        "pipeline_adcid": r.randint(0, 60),
        "ptid": str(r.randint(1, 999999)),
        "naccid": "NACC%06d" % r.randint(0, 999999),
        "visit_number": r.choice([None, "01", "02", "3"]),
    }
    if datatype == "form":
        ev["module"] = r.choice(["UDS", "FTLD", "LBD", "MDS", "FTLD-NP"])
        ev["packet"] = r.choice(["I", "F", "I4", "T"])
    elif datatype == "dicom":
        ev["modality"] = r.choice(["MR", "PT", "CT"])
    for k in ["naccid", "visit_number", "study"]:
        if r.random() < 0.15:
            ev.pop(k, None)
    return ev


def rand_digits(r, n, unicode_ok=True):
    out = ""
    for _ in range(n):
        if unicode_ok and r.random() < 0.03:
            out += r.choice("٠١٢٣٤٥٦٧٨٩０１２３４５６７８９")
        else:
            out += str(r.randint(0, 9))
    return out


def rand_timestamp_text(r):
    kind = r.random()
    if kind < 0.55:
        y = r.choice(["%04d" % r.randint(1, 9999), "0000", "2024", "1969", "9999", "0001", rand_digits(r, 4)])
        mo = r.choice(["%02d" % r.randint(0, 13), "02", "1", "01"])
        d = r.choice(["%02d" % r.randint(0, 32), "29", "30", "31"])
        s = f"{y}-{mo}-{d}"
        if r.random() < 0.9:
            s += r.choice(["T", "t", " ", "_", "X", "TT", ""])
            s += "%02d:%02d" % (r.randint(0, 25), r.randint(0, 61))
            if r.random() < 0.8:
                s += ":%02d" % r.randint(0, 61)
                if r.random() < 0.5:
                    s += r.choice([".", ","]) + rand_digits(r, r.choice([0, 1, 3, 6, 7, 9]), False)
            tz = r.random()
            if tz < 0.3:
                s += r.choice(["Z", "z"])
            elif tz < 0.7:
                sign = r.choice(["+", "-", "\u2212", "~"])
                hh = "%02d" % r.choice([0, 1, 5, 12, 23, 24, 99])
                mm = "%02d" % r.choice([0, 30, 59, 60])
                s += sign + hh + r.choice([":", "", ":"]) + r.choice([mm, mm, mm[:1], ""])
        if r.random() < 0.05:
            s = r.choice([" ", "", "x"]) + s + r.choice([" ", "", "\n"])
        return s
    if kind < 0.8:
        mag = r.choice([0, 1, 1e3, 1e9, 1.7e9, 2e10, 2.0000000001e10, 1.7e12, 2.5e14, 2.6e14, 6.2e13, 1e19])
        v = mag * r.choice([1, -1, 0.5, 1.000001, 0.999999])
        if r.random() < 0.5:
            v = int(v)
            s = str(v)
        else:
            s = repr(round(v, r.choice([0, 1, 3, 6, 7])))
        if r.random() < 0.1:
            s = r.choice(["+", "0", "00", "-", " "]) + s
        return s
    return r.choice(["", "now", "2024-W03", "2024-015", "20240115T100000Z", "1e9", "1.5e9", "inf", "NaN", "1_000", ".5", "1.", "-.5", "2024-01-15", "2024-02-30", "0000-01-01", "2024-13-01"])


def rand_timestamp_value(r):
    if r.random() < 0.75:
        return rand_timestamp_text(r)
    kind = r.random()
    if kind < 0.6:
        mag = r.choice([0, 1, 1e3, 1e9, 1.7e9, 2e10, 1.7e12, 2.5e14, 2.6e14, 6.2e13, 1e19, 1e30])
        v = mag * r.choice([1, -1, 0.5, 1.25, 1.000001, 0.999999, 1.0000000004])
        return int(v) if r.random() < 0.4 else v
    return r.choice([True, False, None, [], {}, float("nan"), float("inf"), 10 ** 25])


def rand_adcid(r):
    kind = r.random()
    if kind < 0.45:
        parts = []
        if r.random() < 0.2:
            parts.append(r.choice(WS[:6]))
        if r.random() < 0.3:
            parts.append(r.choice(["+", "-", "+-", "--", "-+"]))
        if r.random() < 0.3:
            parts.append(r.choice(["0", "00", "0_", "_"]))
        body = rand_digits(r, r.randint(0, 4))
        if r.random() < 0.3 and len(body) > 1:
            i = r.randint(1, len(body) - 1)
            body = body[:i] + r.choice(["_", "__", " ", "."]) + body[i:]
        parts.append(body)
        if r.random() < 0.3:
            parts.append(r.choice([".", ".0", ".00", ".5", "e3", "_"]))
        if r.random() < 0.2:
            parts.append(r.choice(WS[:6]))
        return "".join(parts)
    if kind < 0.8:
        return r.choice([True, False, None, [42], {}, 42.0, -0.0, 1e3, 42.5, 9.2e18, 9.3e18, float("nan"), float("inf"),
                         2 ** 31 - 1, 2 ** 31, -2 ** 31, -2 ** 31 - 1, 10 ** 30, -5, 0])
    return r.randint(-10, 10 ** r.randint(1, 12))


def rand_string_value(r, field):
    kind = r.random()
    if kind < 0.4:
        s = r.choice(["x", "ABC123", "110001", "", "12345678901", "1234567890", "AB-12", "a.b", "ÄBC", "ab cd", "NACC000001", "UDS"])
        if r.random() < 0.6:
            s = r.choice(WS) + s + r.choice(WS + [""])
        return s
    if kind < 0.7:
        return r.choice([None, 1, 1.0, True, [], {}, "null", "\ud800x"])
    if field == "visit_date":
        return r.choice(["2024-02-30", "2024-01-32", "0000-00-00", "2024/01/15", "2024-1-15", "２０２４-０１-０１", "٢٠٢٤-٠١-٠١", " 2024-01-15 ", "2024-01-15T00:00", "2024-01-15\n", "9999-99-99"])
    return "".join(r.choice("abcXYZ019-_./ \u00e9") for _ in range(r.randint(0, 14)))


def mutate(r, ev):
    cats = []
    for _ in range(r.choice([1, 1, 1, 2, 3])):
        m = r.random()
        field = r.choice(list(refmodel.VisitEvent.model_fields))
        if m < 0.22:
            ev["timestamp"] = rand_timestamp_value(r)
            cats.append("timestamp")
        elif m < 0.38:
            ev["pipeline_adcid"] = rand_adcid(r)
            cats.append("adcid")
        elif m < 0.55:
            ev[field] = rand_string_value(r, field)
            cats.append(f"value:{field}")
        elif m < 0.62:
            ev.pop(field, None)
            cats.append(f"missing:{field}")
        elif m < 0.70:
            lit = r.choice(["action", "datatype"])
            ev[lit] = r.choice([" submit", "SUBMIT", "duplicate-submit", "data-freeze", "Form", "form ", "pass-qc", "dicom", None, 1])
            cats.append(f"literal:{lit}")
        elif m < 0.80:
            ev["datatype"] = r.choice(DATATYPES)
            for k in ["module", "modality"]:
                if r.random() < 0.5:
                    ev[k] = r.choice([None, "", "  ", "UDS", "MR"])
                elif r.random() < 0.5:
                    ev.pop(k, None)
            cats.append("datatype_rule")
        elif m < 0.86:
            ev[r.choice(["extra", "deep", "error", "Action", "naccid", "modality"])] = r.choice(["x", [], {"k": 1}, None])
            cats.append("extra_field")
        else:
            ev["study"] = r.choice(["", " ", "ADRC", "a/b", "..", "leads", None])
            cats.append("study")
    return cats


def render(r, ev):
    """Serialise with varied formatting and JSON-level quirks."""
    style = r.random()
    if style < 0.6:
        text = json.dumps(ev, separators=(",", ":"), ensure_ascii=r.random() < 0.5, allow_nan=True)
    elif style < 0.8:
        text = json.dumps(ev, indent=r.choice([None, 2]), ensure_ascii=False, allow_nan=True)
    else:
        text = json.dumps(ev, allow_nan=True)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Corpus files are UTF-8 text: a lone surrogate goes in as a \u escape.
        text = json.dumps(ev, ensure_ascii=True, allow_nan=True)
    cat = None
    q = r.random()
    if q < 0.03:
        text = "\ufeff" + text
        cat = "bom"
    elif q < 0.05:
        k = r.choice(list(ev) or ["action"])
        text = text[:-1] + ', "%s": "bogus"' % k + "}" if r.random() < 0.5 else "{" + '"%s": "bogus", ' % k + text[1:]
        cat = "duplicate_keys"
    elif q < 0.06:
        text = text[:-1] + ",}"
        cat = "invalid_json"
    elif q < 0.07:
        text = text.replace('"', "'")
        cat = "invalid_json"
    elif q < 0.075:
        text = r.choice(["[]", "null", "4.2", '"x"', "", "{}", "true"])
        cat = "non_object"
    elif q < 0.08:
        d = r.choice([5, 200, 990, 1200])
        text = text[:-1] + ', "deep": ' + "[" * d + "]" * d + "}"
        cat = "nested"
    elif q < 0.085:
        text = text + r.choice(["\n", " \n\t", " x", "\u00a0", "{}"])
        cat = "trailing"
    return text, cat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=20261123)
    args = ap.parse_args()
    r = random.Random(args.seed)
    for i in range(args.count):
        ev = base_event(r)
        cats = [] if r.random() < 0.12 else mutate(r, ev)
        text, extra = render(r, ev)
        if extra:
            cats.append(extra)
        verdict = refmodel.verdict(text)
        case = {"id": f"gen-{i:05d}", "category": "+".join(cats) or "realistic", "input_text": text}
        case.update(verdict)
        print(json.dumps(case, ensure_ascii=False))


if __name__ == "__main__":
    main()
