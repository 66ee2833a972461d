#!/usr/bin/env python3
"""Awkward raw-events statements, one per line, for scripts/dev/raw_sql_check.py."""
import json, random, sys

R = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
E = "http://oli.cmu.edu/extensions/"
V = "https://w3id.org/xapi/video/extensions/"
base = {
    "actor": {"account": {"homePage": "proton.oli.cmu.edu", "name": 15474}, "objectType": "Agent"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
    "object": {"id": "x", "definition": {"type": "http://adlnet.gov/expapi/activities/question"}},
    "result": {"score": {"raw": 1.0, "max": 2, "scaled": 0.5}, "success": True, "completion": True},
    "context": {"extensions": {E + "section_id": 2161}},
    "timestamp": "2025-05-21T13:41:06Z",
}
ints = [12.7, "12.7", "8625.9", "1.5e3", " 42 ", "+7", "1_000", "1e3", "abc", True, False, None, "", [], {}, -0.0, 0, "0",
        18446744073709551615, 4294967295, 0.5, "-0.5", 1e19, "  ", "\u00a07\u3000", "12.", ".5", 7.0, "nan", "inf.0"]
floats = ["nan", "inf", "-Infinity", " 3 ", "1_0.5", ".5", "5.", "1e400", True, 1e5, -0.0, 1.5, "x", None, "", [], 0, 12345678901234567890,
          1e-7, "1E5", "+.5e-3", 2.5e-300, 123456789.123]
bools = ["yes", " T ", "no", "maybe", 2.5, 0, "TRUE", 0.0, "", None, "N", 1, "1", "0", [], "\u00a0y\u3000", 12345678901234567890]
texts = ["ünïcödé 漢字 😀", "it's", 'q"uote', "back\\slash", "new\nline\ttab", "\u2028x", "\u001f\u007f", 1.0, 1e16, 1e-5, 0.1, -0.0,
         True, False, 12345678901234567890, -5, [1, 2.5, "a"], {"k": 1.0, "é": [True, None]}, "", " ", None, 0, 1.5e300, 100.0, 2.5e-7]
structs = [{"id": "1", "content": [{"type": "p", "children": [{"text": "Incorrect é 😀 \"q\" \\ \u001f \u007f \u2028"}]}]},
           [120498], [1, 2], [], {}, [1.0, 2.5e-7, 1e16, -0.0, 12345678901234567890, -12, True, False, None],
           {"a": {"b": [{"c": 1.5}]}, "s": "x,y:z", "e": "", "n": None}, "0[.]18.25", "plain", 5, 1.0, True, None, [[[]]],
           {"k": 1, "k2": "😀"}, ["\u00e9", "\\u00e9"], 1e21, 0.0001]
times = ["2025-10-07T15:04:05Z", "2025-10-07T15:04:05.1234567+05:30", "2025-10-07T15:04:05", "2025-10-07T10:04:05-05:00",
         "2025-10-07 15:04:05", "20251007T150405", "2025-10-07T150405", "2025-10-07T16:04:05+01", "2025-10-07T15:04:05,5",
         "2025-10-07T15", "2025-10-07T15.5", "2025-10-07", "20251007", "2025-W41-2T15:04:05", "2025W412T15:04:05", "2025-W41",
         "2025-10-07T15:04:06+00:00:01", "1969-12-31T23:59:59.9995Z", " 2025-10-07T15:04:05+00:00 ", "2025-10-07x15:04:05",
         "2025-10-07T15:04:05.Z", "2020-W53-5", "2025-10-07T15:04:05.999999Z", "2025-10-07T15:+01:00", "2025-10-07T15:30x+01:00",
         "2025-10-07T12:30:45:67", "2025-10-07T1230451", "2025-10-07T15:04:05+05:99", None, 5, "", "   ", 1.5, True]
bad_times = ["not a time", "2025-02-30T00:00:00Z", "2025-10-07T24:00:00Z", "2025-10-07T15:04:60", "2025-10-07T15:04:05+24:00",
             "2025-13-01", "2025-W53-1", "1899-12-31T23:59:59Z", "2300-01-01T00:00:00Z", "2025-10-07T15:04:05."]
verbs = ["http://adlnet.gov/expapi/verbs/completed", "https://w3id.org/xapi/video/verbs/played", " https://w3id.org/xapi/video/verbs/played",
         "http://id.tincanapi.com/verb/viewed", 5, None, "", "x:y", True]
types = ["http://adlnet.gov/expapi/activities/question", "http://oli.cmu.edu/extensions/types/page", "http://oli.cmu.edu/extensions/activity_attempt",
         "http://oli.cmu.edu/extensions/page_attempt", None, "", 7]

parts = ["2025", "-", "10", "07", "T", "W", "41", "2", " ", "15", ":", "04", "05", ".", ",", "123456789", "Z", "+", "-",
         "05:30", "0530", "05", "x", "99", "00", "13", "24", "60", "1", "19", "2299", "1899", "\u00a0", "\t", "é"]
for _ in range(200):
    t = "".join(R.choice(parts) for _ in range(R.randrange(1, 7)))
    times.append(R.choice(["2025-10-07", "20251007", "2025-W41-2", "2025W41", "2020-W53-5"]) + R.choice(["T", " ", "x", "", "é"]) + t)

def pick(xs):
    return R.choice(xs)

def st(i):
    s = json.loads(json.dumps(base))
    x = s["context"]["extensions"]
    for k in ["section_id", "project_id", "publication_id", "enrollment_id", "page_id", "activity_id", "activity_attempt_number", "page_attempt_number", "part_attempt_number"]:
        if R.random() < 0.4:
            x[E + k] = pick(ints)
    for k in ["activity_attempt_guid", "page_attempt_guid", "part_attempt_guid", "part_id", "session_id", "content_element_id"]:
        if R.random() < 0.4:
            x[E + k] = pick(texts)
    if R.random() < 0.5:
        x[E + "hints_requested"] = pick([[], [1, 2], 3, "2", 2.9, None, "x", True])
    if R.random() < 0.5:
        x[E + "attached_objectives"] = pick(structs)
    if R.random() < 0.3:
        x[V + "length"] = pick(floats)
    res = s["result"]
    res.setdefault("extensions", {})
    for k in ["time", "length", "progress", "time-from", "time-to"]:
        if R.random() < 0.3:
            res["extensions"][V + k] = pick(floats)
    if R.random() < 0.4:
        res["extensions"][V + "played-segments"] = pick(structs)
    if R.random() < 0.5:
        res["extensions"][E + "feedback"] = pick(structs)
    if R.random() < 0.3:
        res["extensions"]["content_element_id"] = pick(texts)
    r = R.random()
    if r < 0.2:
        res["response"] = {"input": pick(texts)}
    elif r < 0.3:
        res["response"] = pick(structs)
    elif r < 0.4:
        res["response"] = pick(texts)
    for k in ["success", "completion"]:
        if R.random() < 0.5:
            res[k] = pick(bools)
    if R.random() < 0.3:
        res["score"] = {"raw": pick(floats), "max": pick(floats), "scaled": pick(floats)}
    if R.random() < 0.05:
        res["score"] = pick([[1, 2], "x", None, 5])
    if R.random() < 0.5:
        s["timestamp"] = pick(times)
    if R.random() < 0.3:
        s["verb"]["id"] = pick(verbs)
    if R.random() < 0.3:
        s["object"]["definition"]["type"] = pick(types)
    if R.random() < 0.2:
        s["object"]["definition"]["subType"] = pick(["basic", "", 5, 1.0, True, None])
    if R.random() < 0.2:
        s["object"]["id"] = pick(texts)
    if R.random() < 0.2:
        s["object"]["definition"]["extensions"] = {V + "length": pick(floats)}
    a = s["actor"]
    if R.random() < 0.3:
        a["account"]["name"] = pick(texts)
    if R.random() < 0.2:
        a["mbox"] = pick(texts)
    if R.random() < 0.2:
        a["account"]["homePage"] = pick(texts)
    if R.random() < 0.05:
        s[pick(["result", "context"])] = pick([[], "", 0, False, None])
    if R.random() < 0.2:
        n = R.randrange(1, 4)
        atts = []
        for j in range(n):
            role = pick(["reward", "assignment", "exposure", "outcome", "policy_update", "rollup", "media_interaction"])
            kind = {"rollup": pick(["outcome", "reward"]), "media_interaction": "assignment"}.get(role, role)
            el = {"role": role, "attribution_type": kind, "key": pick(["k1", " k2 ", "k\u00e9", "k" + str(j)])}
            for k in ["experiment_id", "condition_id", "assignment_id", "enrollment_id", "section_id", "intervention_id", "page_revision_id"]:
                if R.random() < 0.5:
                    el[k] = pick([1, "2", 3.9, True, None, "x", 0])
            for k in ["experiment_uuid", "condition_code", "assignment_key", "policy_version", "intervention_key", "disposition", "reward_source", "assignment_scope", "algorithm", "assigned_by_policy"]:
                if R.random() < 0.4:
                    el[k] = pick(texts[:14] + ["", "  ", " padded "])
            for k in ["reward_value", "reward_threshold", "normalized_score"]:
                if R.random() < 0.4:
                    el[k] = pick(floats)
            atts.append(el)
        if R.random() < 0.2:
            atts.append("not an object")
        x[E + "experiment_attributions"] = atts
    return s

out = []
for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 300):
    line = json.dumps(st(i), separators=pick([(",", ":"), (", ", ": ")]), ensure_ascii=pick([True, False]))
    out.append(line)
# Whole-line oddities.
out += ['  {"timestamp": "2025-01-01T00:00:00Z"}  ', '\ufeff{"verb":{"id":"x"}}', '{"verb":{"id":"a"},"verb":{"id":"b"},"result":{"success":true,"success":false}}',
        '{"result":{"extensions":{"http://oli.cmu.edu/extensions/feedback":{"a":1,"a":2}}}}']
sys.stdout.write("\n".join(out) + "\n")
