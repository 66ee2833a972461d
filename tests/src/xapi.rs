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
