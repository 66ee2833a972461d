//! The raw-events target (`raw_events` + `experiment_attributions`)
//! through the real binary, against the real ClickHouse engine and S3
//! server: the spec's rows for the examples, identical rows through both
//! paths over awkward files, upstream's experiment fixture shape, whole-
//! object failures reported and not stored, and loads repeated alone or
//! with other objects adding nothing even before a merge.

use eventlog_core::xapi::sha256_hex;
use eventlog_tests::xapi::{Setup, awkward_raw_lines, examples, setup_raw};
use serde_json::{Value, json};

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn check(row: &Value, expected: &Value) {
    for (k, want) in expected.as_object().unwrap() {
        let got = &row[k];
        let same = match (num(got), num(want)) {
            (Some(a), Some(b)) => a == b,
            _ => got == want,
        };
        assert!(same, "column {k}: got {got}, want {want}\nrow: {row}");
    }
}

fn row_by_hash<'a>(rows: &'a [Value], hash: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["event_hash"] == hash)
        .unwrap_or_else(|| panic!("no row {hash}"))
}

fn load(s: &Setup, path: &str, keys: &[&str]) -> (i32, Value) {
    let uris: Vec<String> = keys.iter().map(|k| s.uri(k)).collect();
    let mut args = vec!["xapi", "load", "--path", path];
    args.extend(uris.iter().map(String::as_str));
    s.run(&args)
}

/// Spec §4 row by row for the nine examples (`xapi-etl.md` §8 lists the
/// reference Lambda's values), on both paths.
#[test]
fn the_examples_give_the_reference_rows_on_both_paths() {
    for path in ["in-process", "server-side"] {
        let s = setup_raw("rex");
        let (main, extra) = examples();
        let a = "section/2161/attempt/2025-05-21T13-41-07.004512Z_AA.jsonl";
        let b = "section/2161/video/2025-10-07T15-04-10.000001Z_BB.jsonl";
        s.put(a, &main);
        s.put(b, &extra);
        let (code, r) = load(&s, path, &[a, b]);
        assert_eq!(code, 0, "[{path}] {r}");
        assert_eq!(r["target"], "raw-events");
        assert_eq!(r["path"], path.replace('-', "_"), "{r}");
        assert_eq!(r["rows"], json!({"raw_events": 9}), "{r}");
        assert_eq!(
            r["event_types"],
            json!({"video": 4, "activity_attempt": 1, "page_attempt": 1, "page_viewed": 1, "part_attempt": 1, "unknown": 1}),
            "the tutor message is stored as unknown"
        );
        let rows = s.raw_table("raw_events", false);
        assert_eq!(rows.len(), 9);
        let lines: Vec<&str> = main.lines().collect();
        let common = json!({"user_id": "15474", "home_page": "proton.oli.cmu.edu", "section_id": 2161, "project_id": 1719, "publication_id": 8625, "enrollment_id": null});
        let etag = rows[0]["source_etag"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert_eq!(etag.len(), 32, "the S3 ETag without quotes: {etag}");
        let video = row_by_hash(
            &rows,
            "cf7d110ed1ff870ef2852fe7f75ebd9ed70f31cdf3e369f7e63d5bf6a8c2e1e2",
        );
        assert_eq!(sha256_hex(lines[0].as_bytes()), video["event_hash"]);
        check(video, &common);
        check(
            video,
            &json!({
                "event_type": "video", "verb_id": "https://w3id.org/xapi/video/verbs/paused",
                "page_id": null, "page_attempt_guid": "48e1e3b4-7d3b-435d-92b4-ec10002a507b", "page_attempt_number": 1,
                "content_element_id": "3210567890", "video_url": "https://cdn.example.edu/media/intro-to-chemistry.mp4",
                "video_time": 18.25, "video_length": 98.5, "video_progress": 0.18527918781725888,
                "video_played_segments": "0[.]18.25", "video_seek_from": null, "success": null,
                "timestamp": "2025-10-07 15:04:05.123", "source_file": s.uri(a), "source_line": 1,
            }),
        );
        let activity = row_by_hash(
            &rows,
            "d65f3b381c68a12259b4c0f328e763d7e74413350881700d331ed4ac606b7b63",
        );
        check(activity, &common);
        check(
            activity,
            &json!({"event_type": "activity_attempt", "score": 1.0, "out_of": 2.0, "scaled_score": 0.5, "success": true, "completion": true,
                    "page_id": 81181, "activity_id": 80772, "activity_revision_id": 388148, "video_url": null,
                    "activity_attempt_guid": "c282871f-9253-4f73-af64-45794c024a95", "source_line": 2}),
        );
        check(
            row_by_hash(
                &rows,
                "67440f858037d256efc419395582b6906d69f5f7491abb4569ceef68dbf02701",
            ),
            &json!({"event_type": "page_attempt", "score": 7.0, "out_of": 10.0, "scaled_score": 0.7}),
        );
        check(
            row_by_hash(
                &rows,
                "08c3447ace5d7ac8f1d9665cc0dfe6ea4613bb49e0f5edc4d9d000d5265435bb",
            ),
            &json!({"event_type": "page_viewed", "page_sub_type": "basic", "success": true, "completion": true,
                    "timestamp": "2025-05-21 13:30:02.418"}),
        );
        check(
            row_by_hash(
                &rows,
                "c086125b1312e56baa48b475dd81f86bd8056ac1438d4d01cb64d27084941610",
            ),
            &json!({
                "event_type": "part_attempt", "response": ".138", "hints_requested": 0, "attached_objectives": "[120498]",
                "part_id": "132824041", "session_id": "70a20ff3-1373-4fe1-af64-59774295d22e",
                "feedback": "{\"id\": \"2475577451\", \"content\": [{\"id\": \"8vynyuekul3yctz\", \"type\": \"p\", \"children\": [{\"text\": \"Incorrect. Check the units.\"}]}]}",
            }),
        );
        let x: Vec<&str> = extra.lines().collect();
        let tutor = row_by_hash(&rows, &sha256_hex(x[3].as_bytes()));
        check(
            tutor,
            &json!({"event_type": "unknown", "verb_id": "http://activitystrea.ms/schema/1.0/create", "page_id": 81181,
                    "activity_attempt_guid": "c282871f-9253-4f73-af64-45794c024a95", "source_file": s.uri(b), "source_line": 4}),
        );
        check(
            row_by_hash(&rows, &sha256_hex(x[1].as_bytes())),
            &json!({"verb_id": "https://w3id.org/xapi/video/verbs/seeked", "video_seek_from": 18.25, "video_seek_to": 42.0}),
        );
        assert!(s.raw_table("experiment_attributions", false).is_empty());
    }
}

/// Awkward files, some failing: the same report and the same rows,
/// column by column, in-process and server-side.
#[test]
fn both_load_paths_give_identical_rows() {
    let a = setup_raw("rpa");
    let b = setup_raw("rpb");
    let mut files: Vec<(String, String)> = (0..12)
        .map(|f| {
            let lines = awkward_raw_lines(50, f as u64);
            let sep = ["\n", "\r\n", "\r"][f % 3];
            let mut text = lines.join(sep);
            if f % 4 == 0 {
                text.push_str("\n\n\n");
            }
            (
                format!(
                    "section/{}/mixed/2025-10-0{}T10-00-00.000000Z_{f:02}.jsonl",
                    7000 + f % 3,
                    1 + f % 9
                ),
                text,
            )
        })
        .collect();
    // Whole-line oddities: a byte-order mark, surrounding spaces (part of
    // the hash), a line of spaces (fails its object), blank lines.
    let (main, _) = examples();
    let first = main.lines().next().unwrap();
    files.push((
        String::from("section/7000/odd/bom.jsonl"),
        format!("\u{feff}{first}\n\n  {first}  \n"),
    ));
    let hostile = first
        .replacen(
            "\"name\":15474",
            "\"name\":\"'); DROP TABLE raw_events; --\"",
            1,
        )
        .replacen(
            "\"0[.]18.25\"",
            "{\"k\":\"ünïcödé 漢字 😀\",\"f\":[1.0,2.5e-7,1E16]}",
            1,
        );
    assert_ne!(hostile, first);
    files.push((String::from("section/7000/odd/hostile.jsonl"), hostile));
    files.push((
        String::from("section/7000/odd/spaces.jsonl"),
        format!("{first}\n   \n"),
    ));
    for (k, t) in &files {
        a.put(k, t);
        b.put(k, t);
    }
    let keys: Vec<&str> = files.iter().map(|(k, _)| k.as_str()).collect();
    let (code_a, ra) = load(&a, "in-process", &keys);
    let (code_b, rb) = load(&b, "server-side", &keys);
    assert_eq!(rb["path"], "server_side", "{rb}");
    assert!(rb["fallback_from_server_side"].is_null(), "{rb}");
    assert_eq!(code_a, 1, "some objects fail: {ra}");
    assert_eq!(code_b, 1, "{rb}");
    for k in ["rows", "event_types", "invalid_lines"] {
        assert_eq!(ra[k], rb[k], "{k}\nin-process: {ra}\nserver-side: {rb}");
    }
    let failures = |r: &Value| -> Vec<String> {
        let mut f: Vec<String> = r["failed_files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let file = f["file"]
                    .as_str()
                    .unwrap()
                    .split('/')
                    .skip(3)
                    .collect::<Vec<_>>()
                    .join("/");
                format!(
                    "{file} {} {} {} {} {}",
                    f["line"], f["physical_line"], f["field"], f["code"], f["retryable"]
                )
            })
            .collect();
        f.sort();
        f
    };
    let fa = failures(&ra);
    assert_eq!(fa, failures(&rb));
    assert!(
        fa.len() >= 3 && fa.len() < files.len() - 3,
        "a mix of failing and loading objects: {fa:?}"
    );
    assert!(
        fa.iter()
            .any(|f| f
                .starts_with("section/7000/odd/spaces.jsonl 2 2 \"line\" \"json_invalid\" false")),
        "{fa:?}"
    );
    // Nothing of a failed object is stored.
    let stored_files = |s: &Setup| -> Vec<String> {
        let mut v: Vec<String> = s
            .engine
            .rows(&format!(
                "SELECT DISTINCT source_file FROM `{}`.raw_events",
                s.db
            ))
            .iter()
            .map(|r| {
                r["source_file"]
                    .as_str()
                    .unwrap()
                    .split('/')
                    .skip(3)
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .collect();
        v.sort();
        v
    };
    let stored = stored_files(&a);
    for f in &fa {
        let name = f.split(' ').next().unwrap();
        assert!(
            !stored.iter().any(|s| s == name),
            "{name} failed but has rows"
        );
    }
    assert_eq!(stored, stored_files(&b));
    for t in ["raw_events", "experiment_attributions"] {
        let fix = |rows: Vec<Value>, bucket: &str| -> Vec<String> {
            rows.into_iter()
                .map(|mut r| {
                    let f = r["source_file"].as_str().unwrap().replace(bucket, "B");
                    r["source_file"] = json!(f);
                    r.to_string()
                })
                .collect()
        };
        let ta = fix(a.raw_table(t, false), &a.bucket);
        let tb = fix(b.raw_table(t, false), &b.bucket);
        assert_eq!(ta.len(), tb.len(), "{t}: row counts");
        assert!(!ta.is_empty(), "{t}: nothing loaded");
        for (x, y) in ta.iter().zip(&tb) {
            assert_eq!(x, y, "{t}: rows differ");
        }
    }
    // Reported rows are the rows stored (one per distinct hash once
    // merged; the awkward files repeat no line).
    let (raw, attributions) = a.raw_counts(false);
    assert_eq!(ra["rows"]["raw_events"], raw, "{ra}");
    // Two elements with one key on a statement are one row from the
    // start (the engine merges equal keys within an insert).
    let sent = ra["rows"]["experiment_attributions"].as_u64().unwrap_or(0);
    assert!(
        sent >= attributions && attributions > 0,
        "{sent} sent, {attributions} stored"
    );
    assert_eq!(a.raw_counts(true), (raw, attributions));
    // Hostile and awkward text is stored as it came.
    let all = a.raw_table("raw_events", false);
    let has = |text: &str| all.iter().any(|r| r.to_string().contains(text));
    assert!(has("DROP TABLE raw_events"), "the SQL-looking text");
    assert!(has("ünïcödé 漢字 😀"), "non-ASCII text as is");
    let python = r#"{"k": "\u00fcn\u00efc\u00f6d\u00e9 \u6f22\u5b57 \ud83d\ude00", "f": [1.0, 2.5e-07, 1e+16]}"#;
    assert!(
        all.iter().any(|r| r["video_played_segments"] == python),
        "JSON text as Python's json.dumps writes it"
    );
}

/// A part attempt with attributions, in the shape of upstream's
/// experiment fixture (our own values): every attribution column.
#[test]
fn attributions_in_upstreams_fixture_shape() {
    let line = r#"{"timestamp":"2026-07-14T12:00:00Z","result":{"extensions":{"http://oli.cmu.edu/extensions/reward_source":"activity_attempt:full_credit"},"score":{"max":1,"min":0,"raw":1.0}},"context":{"extensions":{"http://oli.cmu.edu/extensions/experiment_attributions":[{"role":"reward","attribution_type":"reward","key":" reward-key ","experiment_id":101,"experiment_uuid":"aaaa-bbbb","condition_id":303,"condition_code":"condition-a","assignment_id":404,"assignment_key":"101:505","enrollment_id":505,"algorithm":"thompson_sampling","policy_version":"ts:v2","reward_source":"activity_attempt:full_credit","reward_value":1},{"role":"assignment","attribution_type":"assignment","key":"assign-key","experiment_id":"101","assignment_scope":"section_enrollment","assigned_by_policy":"uniform","intervention_id":9.0,"reward_threshold":"0.5"},7],"http://oli.cmu.edu/extensions/part_attempt_guid":"part-guid","http://oli.cmu.edu/extensions/part_id":"part-1","http://oli.cmu.edu/extensions/activity_id":606,"http://oli.cmu.edu/extensions/publication_id":3001,"http://oli.cmu.edu/extensions/section_id":2001,"http://oli.cmu.edu/extensions/project_id":1001}},"object":{"definition":{"name":{"en-US":"Part 1"},"type":"http://adlnet.gov/expapi/activities/question"},"id":"https://x/parts/part-1"},"verb":{"display":{"en-US":"completed"},"id":"http://adlnet.gov/expapi/verbs/completed"},"actor":{"objectType":"Agent","account":{"name":"123","homePage":"https://x"}}}"#;
    let hash = sha256_hex(line.as_bytes());
    for path in ["in-process", "server-side"] {
        let s = setup_raw("rattr");
        let key = "section/2001/part/2026-07-14T12-00-00.000000Z_X.jsonl";
        s.put(key, line);
        let (code, r) = load(&s, path, &[key]);
        assert_eq!(code, 0, "[{path}] {r}");
        assert_eq!(
            r["rows"],
            json!({"raw_events": 1, "experiment_attributions": 2}),
            "{r}"
        );
        let raw = s.raw_table("raw_events", false);
        check(
            &raw[0],
            &json!({"event_hash": hash, "event_type": "part_attempt", "section_id": 2001, "score": 1.0, "out_of": 1.0, "scaled_score": null, "part_id": "part-1"}),
        );
        let rows = s.raw_table("experiment_attributions", false);
        assert_eq!(rows.len(), 2, "{rows:?}");
        let by_key = |k: &str| {
            let h = sha256_hex(format!("{hash}:{k}").as_bytes());
            rows.iter()
                .find(|r| r["attribution_hash"] == h)
                .unwrap_or_else(|| panic!("no attribution {k}"))
        };
        check(
            by_key("reward-key"),
            &json!({
                "raw_event_hash": hash, "raw_event_type": "part_attempt", "timestamp": "2026-07-14 12:00:00.000",
                "section_id": null, "project_id": null, "publication_id": null, "enrollment_id": 505,
                "experiment_role": "reward", "attribution_type": "reward", "experiment_id": 101, "experiment_uuid": "aaaa-bbbb",
                "condition_id": 303, "condition_code": "condition-a", "assignment_id": 404, "assignment_key": "101:505",
                "assignment_scope": "intervention", "algorithm": "thompson_sampling", "policy_version": "ts:v2",
                "reward_value": 1.0, "reward_source": "activity_attempt:full_credit", "reward_threshold": null,
                "source_file": s.uri(key), "source_line": 1,
            }),
        );
        check(
            by_key("assign-key"),
            &json!({"experiment_role": "assignment", "experiment_id": 101, "assignment_scope": "section_enrollment",
                    "algorithm": "uniform", "intervention_id": 9, "reward_threshold": 0.5, "reward_value": null}),
        );
    }
}

/// Objects that fail (a bad line, too many attributions) load nothing and
/// are reported with the line, the member and the code, not retryable;
/// the others load. What is reported is what is stored.
#[test]
fn a_failing_line_fails_only_its_object() {
    for path in ["in-process", "server-side"] {
        let s = setup_raw("rbad").with_env(&[("MAX_EXPERIMENT_ATTRIBUTIONS_PER_STATEMENT", "1")]);
        let (main, extra) = examples();
        let l: Vec<&str> = main.lines().collect();
        let two = r#"{"context":{"extensions":{"http://oli.cmu.edu/extensions/experiment_attributions":[{"role":"reward","attribution_type":"reward","key":"a"},{"role":"reward","attribution_type":"reward","key":"b"}]}}}"#;
        let files = [
            ("section/1/a/good.jsonl", main.clone()),
            (
                "section/1/a/badjson.jsonl",
                format!("{}\n{}\n{{\"verb\": oops}}\n{}", l[0], l[1], l[2]),
            ),
            (
                "section/1/a/range.jsonl",
                format!(
                    "{}\n{}",
                    l[3],
                    l[4].replace("section_id\":2161", "section_id\":-5")
                ),
            ),
            ("section/1/a/attrs.jsonl", format!("{}\n\n{two}", l[0])),
            ("section/1/a/good2.jsonl", extra.clone()),
        ];
        for (k, t) in &files {
            s.put(k, t);
        }
        let keys: Vec<&str> = files.iter().map(|(k, _)| *k).collect();
        let (code, r) = load(&s, path, &keys);
        assert_eq!(code, 1, "[{path}] {r}");
        let failed = r["failed_files"].as_array().unwrap();
        let mut seen: Vec<(String, Value, Value, Value, Value)> = failed
            .iter()
            .map(|f| {
                (
                    f["file"]
                        .as_str()
                        .unwrap()
                        .rsplit('/')
                        .next()
                        .unwrap()
                        .to_string(),
                    f["line"].clone(),
                    f["physical_line"].clone(),
                    f["code"].clone(),
                    f["retryable"].clone(),
                )
            })
            .collect();
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            seen,
            vec![
                (
                    "attrs.jsonl".into(),
                    json!(2),
                    json!(3),
                    json!("attribution_count"),
                    json!(false)
                ),
                (
                    "badjson.jsonl".into(),
                    json!(3),
                    json!(3),
                    json!("json_invalid"),
                    json!(false)
                ),
                (
                    "range.jsonl".into(),
                    json!(2),
                    json!(2),
                    json!("int_range"),
                    json!(false)
                ),
            ],
            "[{path}] {r}"
        );
        let reason = failed.iter().find(|f| f["code"] == "int_range").unwrap()["reason"]
            .as_str()
            .unwrap();
        assert!(
            reason.contains("section_id") && reason.contains("-5"),
            "{reason}"
        );
        assert_eq!(
            r["rows"],
            json!({"raw_events": 9}),
            "[{path}] only the good files: {r}"
        );
        let (raw, attr) = s.raw_counts(false);
        assert_eq!((raw, attr), (9, 0), "[{path}] stored = reported");
        assert_eq!(s.raw_counts(true), (9, 0));
    }
}

/// Deduplication tokens depend on (object, version, line range) only:
/// an object loaded again, alone or with others, on either path, adds no
/// row even before a merge; so does an object cut into several inserts.
#[test]
fn loading_again_alone_or_with_others_adds_nothing() {
    let s = setup_raw("ridem").with_env(&[("TARGET_ROWS_PER_INSERT", "3")]);
    let (main, extra) = examples();
    let big: Vec<String> = awkward_raw_lines(40, 99)
        .into_iter()
        .filter(|l| loadable(l))
        .collect();
    let keys = [
        "section/9/a/A.jsonl",
        "section/9/a/B.jsonl",
        "section/9/a/C.jsonl",
        "section/9/a/D.jsonl",
    ];
    s.put(keys[0], &main);
    s.put(keys[1], &extra);
    s.put(keys[2], &big.join("\n"));
    s.put(keys[3], &main.replace("15474", "15475"));
    let (code, r) = load(&s, "in-process", &keys[..3]);
    assert_eq!(code, 0, "{r}");
    assert!(
        r["inserts"].as_u64().unwrap() > 10,
        "objects cut into inserts of 3 rows: {r}"
    );
    let first = s.raw_counts(false);
    assert_eq!(first.0, 9 + big.len() as u64);
    // B alone, then B with the new D: only D's rows are new.
    load(&s, "in-process", &keys[1..2]);
    assert_eq!(s.raw_counts(false), first, "B again alone, no FINAL");
    let (_, r) = load(&s, "in-process", &keys[1..4]);
    assert_eq!(r["rows"]["raw_events"], 4 + big.len() as u64 + 5, "{r}");
    let second = s.raw_counts(false);
    assert_eq!(second.0, first.0 + 5, "only D's five rows are new");
    // Everything again server-side: the same ranges, the same tokens.
    let (code, r) = load(&s, "server-side", &keys);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["path"], "server_side");
    assert_eq!(s.raw_counts(false), second, "server-side reload, no FINAL");
    assert_eq!(s.raw_counts(true), second);
}

/// An object too large for one insert is read twice. When its second
/// read is cut short, or brings other bytes under the same ETag (valid
/// JSON or not), the inserts before the fault are stored and reported,
/// no row of the other bytes is stored, and the object is reported as
/// failed and retryable; loading it again stores every line exactly once.
#[test]
fn an_object_that_fails_its_second_read_is_reported_and_retried_exactly_once() {
    use eventlog_tests::infra::faulty_proxy::{self, LaterGet};
    let lines: Vec<String> = awkward_raw_lines(40, 7)
        .into_iter()
        .filter(|l| loadable(l))
        .collect();
    let text = lines.join("\n");
    let written: std::collections::BTreeSet<String> =
        lines.iter().map(|l| sha256_hex(l.as_bytes())).collect();
    let faults = [
        (
            "rcut",
            LaterGet::Cut(text.len() / 2),
            "could not be read again",
        ),
        (
            "rbrace",
            LaterGet::Replace {
                from: b'{',
                to: b'[',
            },
            "changed between its two reads",
        ),
        (
            "rdigit",
            LaterGet::Replace {
                from: b'1',
                to: b'2',
            },
            "changed between its two reads",
        ),
    ];
    for (tag, fault, why) in faults {
        let s = setup_raw(tag);
        let proxy = faulty_proxy::start(&eventlog_tests::s3::endpoint(), 0, Default::default());
        let via = s.with_env(&[
            ("EVENTLOG_S3_ENDPOINT", proxy.url().as_str()),
            ("TARGET_ROWS_PER_INSERT", "3"),
        ]);
        let key = "section/7/a/twice.jsonl";
        s.put(key, &text);
        proxy.later_gets(Some((key, fault)));
        let (code, r) = load(&via, "in-process", &[key]);
        assert_eq!(code, 2, "[{tag}] its one file failed: {r}");
        let failed = r["failed_files"].as_array().unwrap();
        assert_eq!(failed.len(), 1, "[{tag}] {r}");
        let reason = failed[0]["reason"].as_str().unwrap();
        assert!(reason.contains(why), "[{tag}] {reason}");
        assert_eq!(failed[0]["retryable"], json!(true), "[{tag}] {r}");
        assert!(proxy.injected.load(std::sync::atomic::Ordering::SeqCst) > 0);
        let stored = s.raw_table("raw_events", false);
        let reported = r["rows"]["raw_events"].as_u64().unwrap_or(0);
        assert_eq!(stored.len() as u64, reported, "[{tag}] stored = reported");
        assert!(
            reported > 0 && reported < lines.len() as u64 && reported % 3 == 0,
            "[{tag}] whole inserts before the fault: {r}"
        );
        for row in &stored {
            let h = row["event_hash"].as_str().unwrap();
            assert!(written.contains(h), "[{tag}] a row of other bytes: {row}");
        }
        proxy.later_gets(None);
        let (code, r) = load(&via, "in-process", &[key]);
        assert_eq!(code, 0, "[{tag}] {r}");
        let n = lines.len() as u64;
        assert_eq!(s.raw_counts(false).0, n, "[{tag}] exactly once, no FINAL");
        assert_eq!(s.raw_counts(true).0, n, "[{tag}]");
    }
}

/// An object that fills exactly one insert is read once: its later GETs
/// are cut, and it loads anyway. One line more, and it is read again.
#[test]
fn an_object_of_one_full_insert_is_read_once() {
    use eventlog_tests::infra::faulty_proxy::{self, LaterGet};
    let s = setup_raw("rone");
    let proxy = faulty_proxy::start(&eventlog_tests::s3::endpoint(), 0, Default::default());
    let via = s.with_env(&[
        ("EVENTLOG_S3_ENDPOINT", proxy.url().as_str()),
        ("TARGET_ROWS_PER_INSERT", "3"),
    ]);
    let (main, _) = examples();
    let l: Vec<&str> = main.lines().collect();
    for (key, n, code) in [
        ("section/8/a/three.jsonl", 3, 0),
        ("section/8/a/four.jsonl", 4, 2),
    ] {
        s.put(key, &l[..n].join("\n"));
        proxy.later_gets(Some((key, LaterGet::Cut(0))));
        let (got, r) = load(&via, "in-process", &[key]);
        assert_eq!(got, code, "{key}: {r}");
        let gets = proxy.gets_of_key.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(gets, n as u64 - 2, "{key}: GETs of the object");
    }
    assert_eq!(
        s.raw_counts(false).0,
        3,
        "none of four: its second read failed at once"
    );
}

/// The awkward lines the loader takes (no timestamp it refuses).
fn loadable(l: &str) -> bool {
    !l.contains("not a time")
        && !l.contains("2025-02-30")
        && !l.contains("T24:")
        && !l.contains("1899")
}

/// `xapi check --target raw-events --format json`: one object per
/// non-empty line with its physical line, event type, hash, and problem.
#[test]
fn check_prints_each_lines_event_type_hash_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let (main, _) = examples();
    let l: Vec<&str> = main.lines().collect();
    let text = format!("{}\r\n\r\n{}\r{{\"timestamp\":\"soon\"}}\n", l[0], l[4]);
    let path = dir.path().join("s.jsonl");
    std::fs::write(&path, &text).unwrap();
    let out = eventlog_tests::clickhouse::eventlog_env(
        &[
            "xapi",
            "check",
            "--target",
            "raw-events",
            "--format",
            "json",
            path.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failing line fails the object"
    );
    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0]["line"], 1);
    assert_eq!(rows[0]["event_type"], "video");
    assert_eq!(rows[0]["event_hash"], sha256_hex(l[0].as_bytes()));
    assert_eq!(rows[1]["line"], 3);
    assert_eq!(rows[1]["source_line"], 2);
    assert_eq!(rows[1]["event_type"], "part_attempt");
    assert!(rows[1].get("problem").is_none());
    assert_eq!(rows[2]["line"], 4);
    assert_eq!(rows[2]["problem"]["code"], "timestamp_invalid");
    assert_eq!(rows[2]["problem"]["field"], "timestamp");
    // Text: says the file would not load, and where.
    let out = eventlog_tests::clickhouse::eventlog_env(
        &[
            "xapi",
            "check",
            "--target",
            "raw-events",
            path.to_str().unwrap(),
        ],
        &[],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(":4: timestamp:")
            && text.contains("FAILS")
            && text.contains("first at line 4"),
        "{text}"
    );
}
