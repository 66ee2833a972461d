//! The ClickHouse engine the tests use: chdb behind tests/infra/clickhouse_http.py,
//! started by scripts/test.sh at `EVENTLOG_TEST_CLICKHOUSE_URL`.

use std::process::{Command, Output};

use serde_json::Value;

pub struct Engine {
    pub url: String,
    pub user: String,
    pub password: String,
}

impl Engine {
    pub fn from_env() -> Engine {
        let url = std::env::var("EVENTLOG_TEST_CLICKHOUSE_URL")
            .expect("EVENTLOG_TEST_CLICKHOUSE_URL is not set: run the tests with scripts/test.sh, which starts ClickHouse");
        Engine {
            url,
            user: std::env::var("EVENTLOG_TEST_CLICKHOUSE_USER")
                .unwrap_or_else(|_| "default".into()),
            password: std::env::var("EVENTLOG_TEST_CLICKHOUSE_PASSWORD").unwrap_or_default(),
        }
    }

    /// Run SQL with curl (an independent client), returning the body.
    pub fn sql(&self, sql: &str) -> String {
        let out = Command::new("curl")
            .args([
                "-sS",
                "--fail-with-body",
                "-H",
                &format!("X-ClickHouse-User: {}", self.user),
                "-H",
                &format!("X-ClickHouse-Key: {}", self.password),
                "--data-binary",
                "@-",
                &format!("{}/", self.url),
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().expect("stdin").write_all(sql.as_bytes())?;
                c.wait_with_output()
            })
            .expect("curl");
        assert!(
            out.status.success(),
            "SQL failed: {sql}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf8")
    }

    /// Rows as JSON objects.
    pub fn rows(&self, sql: &str) -> Vec<Value> {
        self.sql(&format!("{sql} FORMAT JSONEachRow"))
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_str(l).expect("row"))
            .collect()
    }

    pub fn count(&self, sql: &str) -> u64 {
        self.sql(sql).trim().parse().expect("count")
    }

    /// Environment for `eventlog xapi` / `xapi-bootstrap` against this engine.
    pub fn env(&self, database: &str) -> Vec<(String, String)> {
        [
            ("CLICKHOUSE_URL", self.url.as_str()),
            ("CLICKHOUSE_USER", &self.user),
            ("CLICKHOUSE_PASSWORD", &self.password),
            ("CLICKHOUSE_DATABASE", database),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }
}

/// Run `eventlog` with extra environment.
pub fn eventlog_env(args: &[&str], env: &[(String, String)]) -> Output {
    Command::new(crate::bin("eventlog"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run eventlog")
}
