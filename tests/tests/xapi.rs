//! xAPI to ClickHouse through the real binaries, against a real ClickHouse
//! engine (chdb behind the HTTP front) and a real S3 server (moto), both on
//! 127.0.0.1 and started by scripts/test.sh.

use eventlog_tests::clickhouse::eventlog_env;
use eventlog_tests::xapi::{Setup, TABLES, examples, setup};
use serde_json::{Value, json};

fn sha256(s: &str) -> String {
    eventlog_core::xapi::sha256_hex(s.as_bytes())
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn row_of<'a>(rows: &'a [Value], event_id: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["event_id"] == event_id)
        .unwrap_or_else(|| panic!("no row {event_id}"))
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

#[test]
fn each_example_lands_in_its_table_with_the_expected_values() {
    let s = setup("ex");
    let (main, extra) = examples();
    s.put(
        "section/2161/attempt_evaluated/2025-05-21T13-41-07.004512Z_AA.jsonl",
        &main,
    );
    s.put(
        "section/2161/video/2025-10-07T15-04-10.000001Z_BB.jsonl",
        &extra,
    );
    let (code, r) = s.run(&[
        "xapi",
        "load",
        &format!(
            "s3://{}/section/2161/attempt_evaluated/2025-05-21T13-41-07.004512Z_AA.jsonl",
            s.bucket
        ),
        &format!(
            "s3://{}/section/2161/video/2025-10-07T15-04-10.000001Z_BB.jsonl",
            s.bucket
        ),
    ]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["path"], "in_process");
    assert_eq!(
        r["rows"],
        json!({"activity_attempt": 1, "page_attempt": 1, "page_viewed": 1, "part_attempt": 1, "video": 4})
    );
    assert_eq!(
        r["unknown_verbs"],
        json!({"http://activitystrea.ms/schema/1.0/create": 1}),
        "the tutor message is counted, not loaded"
    );
    assert_eq!(r["schema_warnings"], 0, "{r}");

    let lines: Vec<&str> = main.lines().collect();
    let ext = "48e1e3b4-7d3b-435d-92b4-ec10002a507b";
    let common = json!({"user_id": "15474", "host_name": "proton.oli.cmu.edu", "section_id": 2161, "project_id": 1719, "publication_id": 8625});
    let video = s.table("video_events", true);
    let paused = row_of(
        &video,
        "cf7d110ed1ff870ef2852fe7f75ebd9ed70f31cdf3e369f7e63d5bf6a8c2e1e2",
    );
    assert_eq!(
        sha256(lines[0]),
        "cf7d110ed1ff870ef2852fe7f75ebd9ed70f31cdf3e369f7e63d5bf6a8c2e1e2"
    );
    check(paused, &common);
    check(
        paused,
        &json!({
            "attempt_guid": ext, "attempt_number": 1, "page_id": 81181, "content_element_id": "3210567890",
            "timestamp": "2025-10-07 15:04:05.123456", "video_url": "https://cdn.example.edu/media/intro-to-chemistry.mp4",
            "video_title": "https://cdn.example.edu/media/intro-to-chemistry.mp4", "video_time": 18.25, "video_length": 98.5,
            "video_progress": 0.18527918781725888, "video_played_segments": "0[.]18.25", "video_play_time": null,
            "video_seek_from": null, "video_seek_to": null, "verb_id": "https://w3id.org/xapi/video/verbs/paused",
            "source_file": format!("s3://{}/section/2161/attempt_evaluated/2025-05-21T13-41-07.004512Z_AA.jsonl", s.bucket)
        }),
    );
    let x: Vec<&str> = extra.lines().collect();
    check(
        row_of(&video, &sha256(x[0])),
        &json!({"verb_id": "https://w3id.org/xapi/video/verbs/played", "video_time": 0.0, "video_length": 98.5, "video_progress": null, "timestamp": "2025-10-07 15:03:46.870112", "page_id": 81181}),
    );
    check(
        row_of(&video, &sha256(x[1])),
        &json!({"verb_id": "https://w3id.org/xapi/video/verbs/seeked", "video_seek_from": 18.25, "video_seek_to": 42.0, "video_time": null, "video_length": null}),
    );
    check(
        row_of(&video, &sha256(x[2])),
        &json!({"verb_id": "https://w3id.org/xapi/video/verbs/completed", "video_progress": 0.7588832487309645, "video_played_segments": "0[.]18.25[,]42[.]98.5", "video_time": 98.5, "video_length": 98.5}),
    );

    let activity = s.table("activity_attempt_events", true);
    let a = row_of(
        &activity,
        "d65f3b381c68a12259b4c0f328e763d7e74413350881700d331ed4ac606b7b63",
    );
    check(a, &common);
    check(
        a,
        &json!({"score": 1.0, "out_of": 2.0, "scaled_score": 0.5, "success": true, "completion": true, "page_id": 81181, "activity_id": 80772,
        "activity_revision_id": 388148, "activity_attempt_guid": "c282871f-9253-4f73-af64-45794c024a95", "activity_attempt_number": 1,
        "page_attempt_guid": ext, "page_attempt_number": 1, "timestamp": "2025-05-21 13:41:06.000000"}),
    );
    let page = s.table("page_attempt_events", true);
    check(
        row_of(
            &page,
            "67440f858037d256efc419395582b6906d69f5f7491abb4569ceef68dbf02701",
        ),
        &json!({"score": 7.0, "out_of": 10.0, "scaled_score": 0.7, "success": true, "completion": true, "page_id": 81181, "timestamp": "2025-05-21 13:42:10.000000"}),
    );
    let viewed = s.table("page_viewed_events", true);
    check(
        row_of(
            &viewed,
            "08c3447ace5d7ac8f1d9665cc0dfe6ea4613bb49e0f5edc4d9d000d5265435bb",
        ),
        &json!({"page_sub_type": "basic", "success": true, "completion": true, "timestamp": "2025-05-21 13:30:02.418775", "page_id": 81181, "page_attempt_guid": ext}),
    );
    let part = s.table("part_attempt_events", true);
    check(
        row_of(
            &part,
            "c086125b1312e56baa48b475dd81f86bd8056ac1438d4d01cb64d27084941610",
        ),
        &json!({
            "response": ".138", "hints_requested": 0, "attached_objectives": "[120498]", "part_id": "132824041",
            "session_id": "70a20ff3-1373-4fe1-af64-59774295d22e", "score": 0.0, "out_of": 1.0, "scaled_score": 0.0, "success": true,
            "feedback": "{\"id\":\"2475577451\",\"content\":[{\"id\":\"8vynyuekul3yctz\",\"type\":\"p\",\"children\":[{\"text\":\"Incorrect. Check the units.\"}]}]}",
            "part_attempt_guid": "bb2f47c4-ee8d-4cd3-b29e-93fc7e1004b3", "activity_id": 80772
        }),
    );
}

/// Statements with every awkward value we could think of, plus invalid
/// lines, spread over files.
fn generated_files() -> Vec<(String, String)> {
    let (main, extra) = examples();
    let templates: Vec<Value> = main
        .lines()
        .chain(extra.lines())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let weird_strings = [
        "it's",
        "back\\slash\\",
        "new\nline\ttab",
        "'); DROP TABLE video_events; --",
        "ünïcödé 漢字 😀",
        "\u{2028}sep",
        "quote\"d",
        "",
        " padded ",
    ];
    let weird_numbers = [
        json!(0),
        json!(-5),
        json!(4294967295u64),
        json!(4294967296u64),
        json!(18446744073709551615u64),
        json!(1.5),
        json!(1e-7),
        json!(1e21),
        json!(0.1),
        json!("2161"),
        json!(true),
        json!(null),
        json!([1, 2]),
        // Numbers and booleans written as text, integral floats (spec §3.9).
        json!("2161.0"),
        json!(" 42 "),
        json!("+7"),
        json!("4.5"),
        json!("1e3"),
        json!(1000.0),
        json!(2161.0),
        json!("0.5"),
        json!(" -3.25 "),
        json!("1e400"),
        json!("TRUE"),
        json!(" yes "),
        json!("n"),
        json!("maybe"),
        json!(""),
        json!(-0.0),
        // An integer a float before it in the same block may widen on the
        // server (2^53 + 1), and text the server could take for a date.
        json!(9007199254740993u64),
        json!("2025-10-07"),
        json!({"a": -0.0}),
    ];
    let weird_times = [
        "2025-10-07T15:04:05Z",
        "2025-10-07T15:04:05.1234567+05:30",
        "2025-10-07T15:04:05",
        "2025-10-07T10:04:05-05:00",
        "2025-02-30T00:00:00Z",
        "2025-10-07T24:00:00Z",
        "not a time",
        "1899-12-31T23:59:59Z",
        "2025-10-07T15:04:05.Z",
    ];
    let mut files = Vec::new();
    let mut n = 0usize;
    // Template, change and weird value vary independently: n runs over
    // every (template, change, value) combination.
    let t = templates.len();
    for f in 0..14 {
        let mut lines = Vec::new();
        for _ in 0..60 {
            n += 1;
            let mut st = templates[n % t].clone();
            let w = weird_strings[(n / (t * 9)) % weird_strings.len()];
            let num = weird_numbers[(n / (t * 9) + n) % weird_numbers.len()].clone();
            let time = weird_times[(n / (t * 9)) % weird_times.len()];
            match (n / t) % 9 {
                0 => st["object"]["definition"]["name"]["en-US"] = json!(w),
                1 => {
                    st["context"]["extensions"]["http://oli.cmu.edu/extensions/section_id"] =
                        num.clone()
                }
                2 if n.is_multiple_of(2) => {
                    st["result"]["response"] = json!({"input": w, "extra": num.clone()})
                }
                2 => st["result"]["response"] = json!({"input": num.clone()}),
                3 => {
                    st["result"]["extensions"] = json!({"http://oli.cmu.edu/extensions/feedback": {"text": w, "n": num.clone(), "nested": [{"a": w}]}, "https://w3id.org/xapi/video/extensions/time": num.clone()})
                }
                4 => st["timestamp"] = json!(time),
                5 => st["actor"]["account"]["name"] = json!(w),
                6 => st["id"] = json!(format!("stmt-{n}")),
                7 => {
                    st["context"]["extensions"]["http://oli.cmu.edu/extensions/hints_requested"] =
                        num.clone()
                }
                _ => {
                    st["result"]["success"] = num.clone();
                    st["result"]["completion"] =
                        weird_numbers[(n * 7) % weird_numbers.len()].clone();
                }
            }
            lines.push(st.to_string());
            if n.is_multiple_of(11) {
                lines.push(String::from("{not json"));
            }
            if n.is_multiple_of(13) {
                lines.push(String::from("[1,2,3]"));
            }
            if n.is_multiple_of(17) {
                lines.push(String::new());
            }
            if n.is_multiple_of(19) {
                // Members of the wrong shape: invalid lines on both paths.
                let mut bad = templates[n % t].clone();
                match n % 3 {
                    0 => bad["verb"] = json!("played"),
                    1 => bad["result"] = json!([1]),
                    _ => bad["context"]["extensions"] = json!("x"),
                }
                lines.push(bad.to_string());
            }
        }
        // Duplicate keys: both paths read the first.
        lines.push(r#"{"verb":{"id":"https://w3id.org/xapi/video/verbs/played"},"verb":{"id":"x"},"timestamp":"2025-01-01T00:00:00Z","id":"dup-keys"}"#.to_string());
        let sep = if f % 3 == 0 { "\r\n" } else { "\n" };
        files.push((
            format!(
                "section/{}/mixed/2025-10-0{}T10-00-00.000000Z_{f:02}.jsonl",
                2000 + f % 3,
                1 + f % 9
            ),
            lines.join(sep),
        ));
    }
    // An integer after a float in the same member of one file: the server
    // may store both as floats, and 2^53 + 1 must still arrive whole.
    let widened: Vec<String> = [
        json!(2.5),
        json!(9007199254740993u64),
        json!(18014398509481985u64),
        json!(7),
    ]
    .iter()
    .enumerate()
    .map(|(i, v)| {
        let mut st = templates[0].clone();
        st["id"] = json!(format!("widened-{i}"));
        st["context"]["extensions"]["http://oli.cmu.edu/extensions/section_id"] = v.clone();
        st.to_string()
    })
    .collect();
    files.push((
        String::from("section/2001/mixed/2025-10-09T10-00-00.000000Z_widened.jsonl"),
        widened.join("\n"),
    ));
    files
}

#[test]
fn both_load_paths_give_identical_rows() {
    let a = setup("pin");
    let b = setup("pss");
    // In-process again, in JSONEachRow, with small batches many at a time.
    let c = setup("pjs").with_env(&[
        ("XAPI_INSERT_FORMAT", "JSONEachRow"),
        ("XAPI_BATCH_ROWS", "7"),
        ("XAPI_INSERT_PARALLELISM", "3"),
    ]);
    // Batches cut by bytes: every row its own insert.
    let d = setup("pbb").with_env(&[("XAPI_BATCH_BYTES", "1")]);
    let files = generated_files();
    for (k, t) in &files {
        a.put(k, t);
        b.put(k, t);
        c.put(k, t);
        d.put(k, t);
    }
    let uris = |s: &Setup| {
        files
            .iter()
            .map(|(k, _)| format!("s3://{}/{k}", s.bucket))
            .collect::<Vec<_>>()
    };
    let a_uris = uris(&a);
    let mut args_a = vec!["xapi", "load", "--path", "in-process"];
    args_a.extend(a_uris.iter().map(String::as_str));
    let (code_a, ra) = a.run(&args_a);
    let b_uris = uris(&b);
    let mut args_b = vec!["xapi", "load", "--threshold", "5"];
    args_b.extend(b_uris.iter().map(String::as_str));
    let (code_b, rb) = b.run(&args_b);
    let c_uris = uris(&c);
    let mut args_c = vec!["xapi", "load", "--path", "in-process"];
    args_c.extend(c_uris.iter().map(String::as_str));
    let (code_c, rc) = c.run(&args_c);
    assert_eq!(code_c, 1, "{rc}");
    assert_eq!(ra["rows"], rc["rows"], "{ra}\n{rc}");
    assert!(rc["inserts"].as_u64().unwrap() > 30, "small batches: {rc}");
    let d_uris = uris(&d);
    let mut args_d = vec!["xapi", "load", "--path", "in-process"];
    args_d.extend(d_uris.iter().map(String::as_str));
    let (_, rd) = d.run(&args_d);
    assert_eq!(ra["rows"], rd["rows"], "{ra}\n{rd}");
    let total: u64 = rd["rows"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(
        rd["inserts"].as_u64(),
        Some(total),
        "one row per insert: {rd}"
    );
    assert_eq!(rb["path"], "server_side", "{rb}");
    assert!(rb["fallback_from_server_side"].is_null(), "{rb}");
    assert_eq!(code_a, 1, "invalid lines make the load partial: {ra}");
    assert_eq!(code_b, 1, "{rb}");
    assert_eq!(
        ra["rows"], rb["rows"],
        "rows per category\nin-process: {ra}\nserver-side: {rb}"
    );
    assert_eq!(ra["unknown_verbs"], rb["unknown_verbs"]);
    assert_eq!(ra["invalid_lines"], rb["invalid_lines"]);
    assert!(
        ra["invalid_lines"].as_u64().unwrap() > 20 && ra["total_rows"].as_u64().unwrap() > 250,
        "{ra}"
    );
    // Which files hold each event id: a statement repeated in several files
    // is one row after merging, and which file's copy survives is up to the
    // engine, so for those only membership is checked.
    let mut holders: std::collections::HashMap<String, Vec<String>> = Default::default();
    for (k, text) in &files {
        for line in text.split('\n') {
            let line = line.trim_matches([' ', '\t', '\r']);
            let id = match serde_json::from_str::<Value>(line) {
                Ok(v) if v["id"].is_string() => v["id"].as_str().unwrap().to_string(),
                _ => sha256(line),
            };
            let e = holders.entry(id).or_default();
            if !e.contains(k) {
                e.push(k.clone());
            }
        }
    }
    for t in TABLES {
        let fix = |rows: Vec<Value>, bucket: &str| -> Vec<String> {
            rows.into_iter()
                .map(|mut r| {
                    let file = r["source_file"]
                        .as_str()
                        .unwrap()
                        .replace(&format!("s3://{bucket}/"), "");
                    let held = &holders[r["event_id"].as_str().unwrap()];
                    assert!(
                        held.contains(&file),
                        "{t}: {file} does not hold {}",
                        r["event_id"]
                    );
                    r["source_file"] = json!(if held.len() > 1 {
                        "(several)"
                    } else {
                        file.as_str()
                    });
                    r.to_string()
                })
                .collect()
        };
        let ta = fix(a.table(t, true), &a.bucket);
        let tb = fix(b.table(t, true), &b.bucket);
        let tc = fix(c.table(t, true), &c.bucket);
        assert_eq!(ta.len(), tb.len(), "{t}: row counts");
        assert_eq!(ta.len(), tc.len(), "{t}: row counts (JSONEachRow)");
        for ((x, y), z) in ta.iter().zip(&tb).zip(&tc) {
            assert_eq!(x, y, "{t}: rows differ");
            assert_eq!(x, z, "{t}: rows differ between RowBinary and JSONEachRow");
        }
    }
    // Hostile strings arrived verbatim and broke nothing.
    let hostile = a.engine.count(&format!("SELECT count() FROM `{}`.video_events WHERE video_title = '\\'); DROP TABLE video_events; --'", a.db));
    assert!(hostile > 0);
    let unicode = a.engine.count(&format!(
        "SELECT count() FROM `{}`.part_attempt_events WHERE response = 'ünïcödé 漢字 😀'",
        a.db
    )) + a.engine.count(&format!(
        "SELECT count() FROM `{}`.video_events WHERE video_title = 'new\\nline\\ttab'",
        a.db
    ));
    assert!(unicode > 0);
}

#[test]
fn a_failing_server_side_load_falls_back_and_says_so() {
    let s = setup("fb");
    let files = generated_files();
    for (k, t) in &files {
        s.put(k, t);
    }
    // The engine cannot reach this S3 endpoint; the binary still reaches the real one.
    let broken = s.with_env(&[("CLICKHOUSE_S3_ENDPOINT", "http://127.0.0.1:9")]);
    let uris: Vec<String> = files
        .iter()
        .map(|(k, _)| format!("s3://{}/{k}", s.bucket))
        .collect();
    let mut args = vec!["xapi", "load", "--threshold", "3"];
    args.extend(uris.iter().map(String::as_str));
    let (_, r) = broken.run(&args);
    assert_eq!(r["path"], "in_process", "{r}");
    assert!(
        r["fallback_from_server_side"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{r}"
    );
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("server-side load stopped"),
        "{r}"
    );
    assert!(r["total_rows"].as_u64().unwrap() > 250);
    // The same files loaded in-process on purpose, into another database:
    // the fallback must have loaded exactly that.
    let reference = setup("fbref");
    for (k, t) in &files {
        reference.put(k, t);
    }
    let ref_uris: Vec<String> = files
        .iter()
        .map(|(k, _)| format!("s3://{}/{k}", reference.bucket))
        .collect();
    let mut args = vec!["xapi", "load", "--path", "in-process"];
    args.extend(ref_uris.iter().map(String::as_str));
    let (_, expected) = reference.run(&args);
    assert_eq!(r["rows"], expected["rows"]);
    assert_eq!(r["invalid_lines"], expected["invalid_lines"]);
    assert_eq!(s.counts(true), reference.counts(true));
}

#[test]
fn loading_twice_adds_no_rows() {
    let s = setup("idem");
    let (main, extra) = examples();
    s.put("section/1/a/2025-01-01T00-00-00.000000Z_A.jsonl", &main);
    s.put("section/1/a/2025-01-01T00-00-01.000000Z_B.jsonl", &extra);
    // The same statements again in another file.
    s.put("section/1/a/2025-01-01T00-00-02.000000Z_C.jsonl", &main);
    let a = format!(
        "s3://{}/section/1/a/2025-01-01T00-00-00.000000Z_A.jsonl",
        s.bucket
    );
    let b = format!(
        "s3://{}/section/1/a/2025-01-01T00-00-01.000000Z_B.jsonl",
        s.bucket
    );
    let c = format!(
        "s3://{}/section/1/a/2025-01-01T00-00-02.000000Z_C.jsonl",
        s.bucket
    );
    s.run(&["xapi", "load", &a, &b]);
    let first = s.counts(false);
    assert_eq!(first, vec![4, 1, 1, 1, 1]);
    // Same files again, in-process: the insert deduplication tokens drop the
    // repeated blocks, so even a plain count (no FINAL) is unchanged.
    s.run(&["xapi", "load", &a, &b]);
    assert_eq!(s.counts(false), first, "reload, without FINAL");
    // Same files server-side: same statements, same keys.
    s.run(&["xapi", "load", "--path", "server-side", &a, &b]);
    assert_eq!(s.counts(true), first, "server-side reload, with FINAL");
    // The same statements in a third file: FINAL sees one row per statement,
    // and after a merge so does a plain count.
    s.run(&["xapi", "load", &c]);
    assert_eq!(s.counts(true), first, "duplicate statements, with FINAL");
    for t in TABLES {
        s.engine
            .sql(&format!("OPTIMIZE TABLE `{}`.`{t}` FINAL", s.db));
    }
    assert_eq!(
        s.counts(false),
        first,
        "after OPTIMIZE FINAL, without FINAL"
    );
}

#[test]
fn bulk_over_more_than_1000_objects_and_date_ranges() {
    let s = setup("bulk");
    let (main, _) = examples();
    let line = main.lines().nth(3).unwrap(); // page viewed
    eventlog_tests::infra::runtime().block_on(async {
        let mut tasks = Vec::new();
        for i in 0..1050u32 {
            let (c, bucket) = (s.client.clone(), s.bucket.clone());
            let mut st: Value = serde_json::from_str(line).unwrap();
            st["id"] = json!(format!("bulk-{i}"));
            let day = 1 + i % 28;
            let key = format!(
                "section/{}/page_viewed/2025-03-{day:02}T12-00-00.{i:06}Z_{i:04X}.jsonl",
                3000 + i % 4
            );
            tasks.push(tokio::spawn(async move {
                c.put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(st.to_string().into_bytes().into())
                    .send()
                    .await
                    .expect("put")
            }));
            if tasks.len() >= 32 {
                for t in tasks.drain(..) {
                    t.await.unwrap();
                }
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    let (_, dry) = s.run(&["xapi", "bulk", "--bucket", &s.bucket, "--dry-run"]);
    assert_eq!(dry["files_found"], 1050);
    let (_, ranged) = s.run(&[
        "xapi",
        "bulk",
        "--bucket",
        &s.bucket,
        "--from",
        "2025-03-01",
        "--to",
        "2025-03-02",
        "--dry-run",
    ]);
    assert_eq!(
        ranged["files_found"], 76,
        "days 1 and 2, the last day included: {ranged}"
    );
    let (_, section) = s.run(&[
        "xapi",
        "bulk",
        "--bucket",
        &s.bucket,
        "--section",
        "3001",
        "--dry-run",
    ]);
    assert_eq!(section["files_found"], 263);
    // A stage a killed load left behind is dropped by the next load's
    // sweep; the load's own stage is dropped when it is done.
    s.engine.sql(&format!(
        "CREATE TABLE `{}`.`_eventlog_stage_leftover` (json String) ENGINE = Memory",
        s.db
    ));
    let stages = format!(
        "SELECT count() FROM system.tables WHERE database = '{}' AND startsWith(name, '_eventlog_stage_')",
        s.db
    );
    assert_eq!(s.engine.count(&stages), 1);
    let (code, r) = s
        .with_env(&[("XAPI_STAGE_MAX_AGE_SECS", "0")])
        .run(&["xapi", "bulk", "--bucket", &s.bucket]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["path"], "server_side", "{r}");
    assert_eq!(s.engine.count(&stages), 0, "no stage is left");
    assert_eq!(r["rows"]["page_viewed"], 1050);
    assert_eq!(
        s.engine.count(&format!(
            "SELECT count() FROM `{}`.page_viewed_events FINAL",
            s.db
        )),
        1050
    );
}

#[test]
fn a_notification_with_several_records_loads_every_one() {
    let s = setup("note");
    let (main, extra) = examples();
    s.put("section/5/video/2025-10-07T15-04-05.1Z_A A.jsonl", &extra);
    s.put("section/5/attempt/2025-05-21T13-41-07.0Z_B+C.jsonl", &main);
    let event = json!({"Records": [
        {"eventSource": "aws:s3", "s3": {"bucket": {"name": s.bucket}, "object": {"key": "section/5/video/2025-10-07T15-04-05.1Z_A+A.jsonl"}}},
        {"eventSource": "aws:s3", "s3": {"bucket": {"name": s.bucket}, "object": {"key": "section/5/attempt/2025-05-21T13-41-07.0Z_B%2BC.jsonl"}}},
        {"eventSource": "aws:s3", "s3": {"bucket": {"name": s.bucket}, "object": {"key": "section/5/readme.txt"}}}
    ]});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("event.json");
    std::fs::write(&path, event.to_string()).unwrap();
    let (code, r) = s.run(&["xapi", "notify", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["files"], 2);
    assert_eq!(r["total_rows"], 8);
    assert_eq!(r["skipped_non_jsonl"].as_array().unwrap().len(), 1);
    assert_eq!(s.counts(true), vec![4, 1, 1, 1, 1]);
}

#[test]
fn health_reports_engine_tables_and_s3() {
    let s = setup("health");
    let (code, h) = s.run(&["xapi", "health", "--bucket", &s.bucket]);
    assert_eq!(code, 0, "{h}");
    assert_eq!(h["clickhouse_healthy"], true);
    assert_eq!(h["s3_healthy"], true);
    assert!(h["tables"].as_object().unwrap().values().all(|v| v == true));
    let missing = s.with_env(&[("CLICKHOUSE_DATABASE", "no_such_database")]);
    let (code, h) = missing.run(&["xapi", "health", "--bucket", &s.bucket]);
    assert_eq!(code, 2);
    assert_eq!(h["healthy"], false);
    assert!(
        h["tables"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v == false)
    );
}

#[test]
fn schema_prints_ddl_for_one_server_and_for_a_cluster() {
    let s = setup("ddl");
    let out = eventlog_env(&["xapi", "schema", "--database", "analytics"], &s.env);
    let ddl = String::from_utf8(out.stdout).unwrap();
    assert_eq!(ddl.matches("CREATE TABLE IF NOT EXISTS").count(), 5);
    assert!(
        ddl.contains("ENGINE = ReplacingMergeTree")
            && ddl.contains("PARTITION BY toYYYYMM(timestamp)")
    );
    let out = eventlog_env(
        &[
            "xapi",
            "schema",
            "--database",
            "analytics",
            "--cluster",
            "main",
        ],
        &s.env,
    );
    let ddl = String::from_utf8(out.stdout).unwrap();
    assert_eq!(ddl.matches("ReplicatedReplacingMergeTree").count(), 5);
    assert_eq!(
        ddl.matches("ENGINE = Distributed('main', 'analytics'")
            .count(),
        5
    );
    assert!(ddl.contains("ON CLUSTER `main`"));
}

/// Files of distinct, loadable statements (every line has its own id), and
/// how many rows each table must end up with.
fn distinct_files(n: usize, lines_per_file: usize) -> (Vec<(String, String)>, Vec<u64>) {
    let (main, extra) = examples();
    let templates: Vec<Value> = main
        .lines()
        .chain(extra.lines())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut per_table = vec![0u64; TABLES.len()];
    let table_of = |v: &Value| -> Option<usize> {
        let verb = v["verb"]["id"].as_str().unwrap_or("");
        let kind = v["object"]["definition"]["type"].as_str().unwrap_or("");
        if verb.contains("/video/") {
            Some(0)
        } else if kind.ends_with("activity_attempt") {
            Some(1)
        } else if kind.ends_with("page_attempt") {
            Some(2)
        } else if kind.ends_with("types/page") {
            Some(3)
        } else if kind.ends_with("question") {
            Some(4)
        } else {
            None
        }
    };
    let files = (0..n)
        .map(|f| {
            let lines: Vec<String> = (0..lines_per_file)
                .map(|l| {
                    let mut st = templates[(f * 7 + l) % templates.len()].clone();
                    st["id"] = json!(format!("f{f}-l{l}"));
                    if let Some(t) = table_of(&st) {
                        per_table[t] += 1;
                    }
                    st.to_string()
                })
                .collect();
            (
                format!(
                    "section/77/mixed/2025-06-0{}T10-00-00.000000Z_{f:02}.jsonl",
                    1 + f % 9
                ),
                lines.join("\n"),
            )
        })
        .collect();
    (files, per_table)
}

/// ClickHouse goes away in the middle of a load of many files (the
/// connection dropped, as when the server is stopped): the report claims
/// exactly the rows that are in the tables and names the files that failed;
/// a second load completes, and nothing is duplicated, even without FINAL.
fn clickhouse_stops_mid_load(path: &str, tag: &str, down_after: u64, reload_only_failed: bool) {
    let s = setup(tag);
    let (files, want) = distinct_files(12, 20);
    for (k, t) in &files {
        s.put(k, t);
    }
    let uris: Vec<String> = files
        .iter()
        .map(|(k, _)| format!("s3://{}/{k}", s.bucket))
        .collect();
    let mut args = vec!["xapi", "load", "--path", path];
    args.extend(uris.iter().map(String::as_str));
    let small = [
        ("XAPI_BATCH_ROWS", "7"),
        ("XAPI_SERVER_SIDE_FILES_PER_QUERY", "3"),
    ];
    let proxy =
        eventlog_tests::infra::faulty_proxy::start(&s.engine.url, 0, std::time::Duration::ZERO);
    proxy.go_down_after(down_after);
    let url = proxy.url();
    let mut through: Vec<(&str, &str)> = small.to_vec();
    through.push(("CLICKHOUSE_URL", &url));
    let (code, r) = s.with_env(&through).run(&args);
    assert!(
        proxy.down.load(std::sync::atomic::Ordering::SeqCst),
        "[{path}] never went down: {r}"
    );
    assert_ne!(code, 0, "[{path}] {r}");
    let failed: Vec<&str> = r["failed_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(!failed.is_empty(), "[{path}] {r}");
    assert!(
        failed.len() < files.len() || path == "server-side",
        "[{path}] the stop was meant to come mid-load: {r}"
    );
    assert!(
        failed.iter().all(|f| uris.iter().any(|u| u == f)),
        "[{path}] {failed:?}"
    );
    let in_tables = s.counts(true);
    let reported: Vec<u64> = [
        "video",
        "activity_attempt",
        "page_attempt",
        "page_viewed",
        "part_attempt",
    ]
    .iter()
    .map(|c| r["rows"][c].as_u64().unwrap_or(0))
    .collect();
    assert_eq!(
        reported, in_tables,
        "[{path}] rows reported loaded vs rows in the tables (FINAL): {r}"
    );
    assert_eq!(
        s.counts(false),
        in_tables,
        "[{path}] no duplicate even without FINAL"
    );
    assert!(
        in_tables.iter().sum::<u64>() > 0,
        "[{path}] the stop came before anything loaded: {r}"
    );
    assert!(
        in_tables != want,
        "[{path}] the stop came after everything loaded"
    );

    // The server is back: a second load completes, nothing twice, whether
    // it takes every file again or only the ones reported failed (whose
    // inserts then share no batch with the files that loaded).
    let mut again = vec!["xapi", "load", "--path", path];
    if reload_only_failed {
        again.extend(failed.iter().copied());
    } else {
        again.extend(uris.iter().map(String::as_str));
    }
    let (code, r2) = s.with_env(&small).run(&again);
    assert_eq!(code, 0, "[{path}] {r2}");
    assert_eq!(s.counts(true), want, "[{path}] every row once (FINAL)");
    assert_eq!(s.counts(false), want, "[{path}] every row once (no FINAL)");
}

#[test]
fn clickhouse_stopped_mid_load_in_process() {
    clickhouse_stops_mid_load("in-process", "stopip", 12, false);
}

#[test]
fn clickhouse_stopped_mid_load_server_side() {
    clickhouse_stops_mid_load("server-side", "stopss", 8, false);
}

/// Reloading only what was reported failed: before, a batch held rows of
/// several files and its token named them all, so a batch of the failed
/// files alone had a new token and doubled rows that had gone in.
#[test]
fn reloading_only_the_failed_files_adds_nothing_twice() {
    clickhouse_stops_mid_load("in-process", "refail", 9, true);
}
