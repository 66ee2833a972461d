//! The xAPI tests' shared setup: a fresh ClickHouse database with the five
//! tables and a fresh S3 bucket, and the environment the binaries need.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::clickhouse::{Engine, eventlog_env};
use crate::s3;
use serde_json::Value;

pub const TABLES: [&str; 5] = [
    "video_events",
    "activity_attempt_events",
    "page_attempt_events",
    "page_viewed_events",
    "part_attempt_events",
];

pub struct Setup {
    pub engine: Engine,
    pub db: String,
    pub bucket: String,
    pub client: aws_sdk_s3::Client,
    pub env: Vec<(String, String)>,
}

/// A fresh database (with the five tables) and a fresh bucket.
pub fn setup(tag: &str) -> Setup {
    setup_for(tag, "five-tables")
}

/// A fresh database with `raw_events` and `experiment_attributions`, a
/// fresh bucket, and `XAPI_TARGET=raw-events` for the binaries.
pub fn setup_raw(tag: &str) -> Setup {
    setup_for(tag, "raw-events")
}

fn setup_for(tag: &str, target: &str) -> Setup {
    static N: AtomicU32 = AtomicU32::new(0);
    let engine = Engine::from_env();
    let db = format!(
        "x_{tag}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let endpoint = s3::endpoint();
    let client = s3::client(&endpoint);
    let bucket = s3::new_bucket(&client, "xapi");
    // The server-side path reads S3 through a named collection: no key in any query.
    engine.sql("CREATE NAMED COLLECTION IF NOT EXISTS eventlog_test_s3 AS access_key_id = 'test', secret_access_key = 'test'");
    let mut env = engine.env(&db);
    env.extend(s3::env_for(&endpoint));
    env.push(("CLICKHOUSE_S3_AUTH".into(), "named:eventlog_test_s3".into()));
    env.push(("CLICKHOUSE_S3_ENDPOINT".into(), endpoint.clone()));
    env.push(("S3_XAPI_BUCKET_NAME".into(), bucket.clone()));
    env.push(("XAPI_TARGET".into(), target.into()));
    let out = eventlog_env(&["xapi", "schema", "--create", "--database", &db], &env);
    assert!(
        out.status.success(),
        "schema --create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Setup {
        engine,
        db,
        bucket,
        client,
        env,
    }
}

impl Setup {
    pub fn put(&self, key: &str, text: &str) {
        s3::put(&self.client, &self.bucket, key, text.as_bytes());
    }

    pub fn run(&self, args: &[&str]) -> (i32, Value) {
        let out = eventlog_env(args, &self.env);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let v = serde_json::from_str(&stdout).unwrap_or_else(|_| {
            panic!(
                "no JSON from {args:?}: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), v)
    }

    pub fn with_env(&self, extra: &[(&str, &str)]) -> Setup {
        let mut env = self.env.clone();
        for (k, v) in extra {
            env.retain(|(name, _)| name != k);
            env.push((k.to_string(), v.to_string()));
        }
        Setup {
            engine: Engine::from_env(),
            db: self.db.clone(),
            bucket: self.bucket.clone(),
            client: self.client.clone(),
            env,
        }
    }

    pub fn table(&self, t: &str, final_: bool) -> Vec<Value> {
        let f = if final_ { " FINAL" } else { "" };
        self.engine.rows(&format!(
            "SELECT * EXCEPT inserted_at FROM `{}`.`{t}`{f} ORDER BY event_id, source_file",
            self.db
        ))
    }

    /// Every row of a raw-events table (all columns but the two the server
    /// fills), in a fixed order.
    pub fn raw_table(&self, t: &str, final_: bool) -> Vec<Value> {
        let f = if final_ { " FINAL" } else { "" };
        let order = if t == "raw_events" {
            "event_hash, source_file, source_line"
        } else {
            "raw_event_hash, attribution_hash, source_file, source_line"
        };
        self.engine.rows(&format!(
            "SELECT * EXCEPT (inserted_at, event_version) FROM `{}`.`{t}`{f} ORDER BY {order} SETTINGS output_format_json_quote_64bit_integers = 0, output_format_json_quote_denormals = 1",
            self.db
        ))
    }

    /// Rows of `raw_events` and `experiment_attributions`.
    pub fn raw_counts(&self, final_: bool) -> (u64, u64) {
        let f = if final_ { " FINAL" } else { "" };
        let n = |t: &str| {
            self.engine
                .count(&format!("SELECT count() FROM `{}`.`{t}`{f}", self.db))
        };
        (n("raw_events"), n("experiment_attributions"))
    }

    pub fn uri(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    pub fn counts(&self, final_: bool) -> Vec<u64> {
        let f = if final_ { " FINAL" } else { "" };
        TABLES
            .iter()
            .map(|t| {
                self.engine
                    .count(&format!("SELECT count() FROM `{}`.`{t}`{f}", self.db))
            })
            .collect()
    }
}

pub fn examples() -> (String, String) {
    let dir = crate::testdata("xapi");
    (
        std::fs::read_to_string(dir.join("examples.jsonl")).unwrap(),
        std::fs::read_to_string(dir.join("examples-extra.jsonl")).unwrap(),
    )
}

/// Statements with the awkward values of the raw-events spec (§4.2
/// coercions, §4.3 timestamps, JSON text in Python's layout, attributions),
/// from the examples, varied deterministically: `n` lines, some of which
/// fail their object.
pub fn awkward_raw_lines(n: usize, seed: u64) -> Vec<String> {
    use serde_json::json;
    let (main, extra) = examples();
    let templates: Vec<Value> = main
        .lines()
        .chain(extra.lines())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let e = |k: &str| format!("http://oli.cmu.edu/extensions/{k}");
    let v = |k: &str| format!("https://w3id.org/xapi/video/extensions/{k}");
    let ints = [
        json!(12.7),
        json!("12.7"),
        json!("8625.9"),
        json!("1.5e3"),
        json!(" 42 "),
        json!("+7"),
        json!("1_000"),
        json!("1e3"),
        json!("abc"),
        json!(true),
        json!(false),
        json!(null),
        json!(""),
        json!([]),
        json!({}),
        json!(-0.0),
        json!(0),
        json!("0"),
        json!(4294967295u64),
        json!(0.5),
        json!("-0.5"),
        json!("12."),
        json!(".5"),
        json!(7.0),
        json!("nan"),
        json!("\u{a0}7\u{3000}"),
    ];
    let floats = [
        json!("nan"),
        json!("inf"),
        json!("-Infinity"),
        json!(" 3 "),
        json!("1_0.5"),
        json!(".5"),
        json!("5."),
        json!("1e400"),
        json!(true),
        json!(1e5),
        json!(-0.0),
        json!(1.5),
        json!("x"),
        json!(null),
        json!(""),
        json!([]),
        json!(0),
        json!(1e-7),
        json!("1E5"),
        json!(2.5e-300),
        json!(123456789.123),
        json!(12345678901234567890u64),
    ];
    let bools = [
        json!("yes"),
        json!(" T "),
        json!("no"),
        json!("maybe"),
        json!(2.5),
        json!(0),
        json!("TRUE"),
        json!(0.0),
        json!(""),
        json!(null),
        json!("N"),
        json!(1),
        json!("1"),
        json!("0"),
        json!([]),
    ];
    let texts = [
        json!("ünïcödé 漢字 😀"),
        json!("it's"),
        json!("q\"uote"),
        json!("back\\slash"),
        json!("new\nline\ttab"),
        json!("\u{2028}x"),
        json!("\u{1f}\u{7f}"),
        json!(1.0),
        json!(1e16),
        json!(1e-5),
        json!(0.1),
        json!(-0.0),
        json!(true),
        json!(false),
        json!(-5),
        json!([1, 2.5, "a"]),
        json!({"k": 1.0, "é": [true, null]}),
        json!(""),
        json!(" "),
        json!(null),
        json!(0),
        json!(100.0),
        json!("'); DROP TABLE raw_events; --"),
    ];
    let structs = [
        json!({"id": "1", "content": [{"type": "p", "children": [{"text": "Incorrect é 😀 \"q\" \\ \u{1f} \u{7f} \u{2028}"}]}]}),
        json!([120498]),
        json!([1, 2]),
        json!([]),
        json!({}),
        json!([
            1.0,
            2.5e-7,
            1e16,
            -0.0,
            12345678901234567890u64,
            -12,
            true,
            false,
            null
        ]),
        json!({"a": {"b": [{"c": 1.5}]}, "s": "x,y:z", "e": "", "n": null}),
        json!("0[.]18.25"),
        json!(5),
        json!(1.0),
        json!(true),
        json!(null),
        json!([[[]]]),
        json!(1e21),
        json!(0.0001),
    ];
    let times = [
        json!("2025-10-07T15:04:05Z"),
        json!("2025-10-07T15:04:05.1234567+05:30"),
        json!("2025-10-07T15:04:05"),
        json!("2025-10-07T10:04:05-05:00"),
        json!("2025-10-07 15:04:05"),
        json!("20251007T150405"),
        json!("2025-10-07T16:04:05+01"),
        json!("2025-10-07T15:04:05,5"),
        json!("2025-10-07T15"),
        json!("2025-10-07"),
        json!("2025-W41-2T15:04:05"),
        json!("2020-W53-5"),
        json!("1969-12-31T23:59:59.9995Z"),
        json!(" 2025-10-07T15:04:05+00:00 "),
        json!("2025-10-07é15:04:05"),
        json!("2025-10-07T15:04:05.999999Z"),
        json!("2025-10-07T15:+01:00"),
        json!("2025-10-07T15:04:05+05:99"),
        // The common shape, which the SQL computes from its fields.
        json!("2024-02-29T23:59:59.999Z"),
        json!("1900-01-01T00:00:00.000+00:00"),
        json!("2299-12-31T23:59:59.999999Z"),
        json!("2025-10-07T15:04:05.123456+00:00"),
        json!(null),
        json!(5),
        json!(""),
        json!(1.5),
        json!(true),
        // These fail their object.
        json!("not a time"),
        json!("2025-02-30T00:00:00Z"),
        json!("2025-10-07T24:00:00Z"),
        json!("1899-12-31T23:59:59Z"),
    ];
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move |m: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % m
    };
    let mut lines = Vec::new();
    for i in 0..n {
        let mut st = templates[i % templates.len()].clone();
        st["id"] = json!(format!("ignored-{seed}-{i}"));
        let pick = |xs: &[Value], k: usize| xs[k % xs.len()].clone();
        match next(12) {
            0 => st["context"]["extensions"][e("section_id")] = pick(&ints, next(99)),
            1 => st["context"]["extensions"][e("page_attempt_number")] = pick(&ints, next(99)),
            2 => {
                st["result"]["extensions"] = json!({ v("time"): pick(&floats, next(99)), v("length"): pick(&floats, next(99)), v("played-segments"): pick(&structs, next(99)), e("feedback"): pick(&structs, next(99)) })
            }
            3 => st["result"]["success"] = pick(&bools, next(99)),
            4 => st["timestamp"] = pick(&times, next(99)),
            5 => st["actor"]["account"]["name"] = pick(&texts, next(99)),
            6 => {
                st["result"]["response"] = if next(2) == 0 {
                    json!({"input": pick(&texts, next(99))})
                } else {
                    pick(&structs, next(99))
                }
            }
            7 => st["context"]["extensions"][e("attached_objectives")] = pick(&structs, next(99)),
            8 => {
                st["context"]["extensions"][e("hints_requested")] = pick(
                    &[
                        json!([]),
                        json!([1, 2]),
                        json!(3),
                        json!("2"),
                        json!(2.9),
                        json!(null),
                        json!("x"),
                    ],
                    next(99),
                )
            }
            9 => {
                let role = [
                    "reward",
                    "assignment",
                    "exposure",
                    "outcome",
                    "policy_update",
                ][next(5)];
                let key = [" k1 ", "k\u{e9}", "k2"][next(3)];
                let id = pick(&[json!(1), json!("2"), json!(3.9), json!(null)], next(9));
                let scope = pick(
                    &[
                        json!("section_enrollment"),
                        json!(""),
                        json!(null),
                        json!("  "),
                    ],
                    next(9),
                );
                st["context"]["extensions"][e("experiment_attributions")] = json!([
                    {"role": role, "attribution_type": role, "key": key, "experiment_id": id, "experiment_uuid": pick(&texts, next(99)), "assignment_scope": scope, "reward_value": pick(&floats, next(99)), "assigned_by_policy": "ts"},
                    "not an object"
                ]);
            }
            10 => {
                st["object"]["definition"]["subType"] = pick(
                    &[
                        json!("basic"),
                        json!(""),
                        json!(5),
                        json!(1.0),
                        json!(true),
                        json!(null),
                    ],
                    next(9),
                )
            }
            _ => {
                st["verb"]["id"] = pick(
                    &[
                        json!(" https://w3id.org/xapi/video/verbs/played"),
                        json!(5),
                        json!(null),
                        json!("x:y"),
                    ],
                    next(9),
                )
            }
        }
        lines.push(st.to_string());
    }
    lines
}
