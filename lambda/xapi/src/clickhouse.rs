//! A ClickHouse client over its HTTP interface.
//!
//! Queries go in the request body; for inserts the statement goes in the
//! URL and the rows in the body, so no value is ever spliced into SQL.
//! Credentials travel in `X-ClickHouse-User`/`X-ClickHouse-Key`. Transport
//! errors and 5xx answers are retried with backoff; the operations retried
//! are idempotent (inserts carry deduplication tokens).

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

pub use crate::error::ClickHouseError;
use crate::error::ConfigError;
use crate::secret::Secret;

/// Where ClickHouse is and who we are. `Debug` shows neither the password
/// nor credentials written into the URL.
#[derive(Clone)]
pub struct ClickHouseConfig {
    /// Base URL, e.g. `https://host:8443`.
    pub url: String,
    pub user: String,
    pub password: Option<Secret>,
    pub database: String,
    pub timeout: Duration,
    pub max_attempts: u32,
}

impl std::fmt::Debug for ClickHouseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseConfig")
            .field("url", &redact_url(&self.url))
            .field("user", &self.user)
            .field("password", &self.password)
            .field("database", &self.database)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

/// A URL for messages: credentials written into it (`user:pass@`) hidden.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}://[redacted]@{}", &rest[at + 1..]),
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    }
}

impl ClickHouseConfig {
    /// From the environment: `CLICKHOUSE_URL`, or `CLICKHOUSE_HOST` with
    /// `CLICKHOUSE_PORT` (or `CLICKHOUSE_HTTP_PORT`) and `CLICKHOUSE_PROTOCOL`
    /// (`http`/`https`; default https unless the port is 8123 or 80);
    /// `CLICKHOUSE_USER` (or `CLICKHOUSE_USERNAME`), `CLICKHOUSE_PASSWORD`,
    /// `CLICKHOUSE_DATABASE` (default `default`), `CLICKHOUSE_TIMEOUT_SECONDS`.
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let url = match get("CLICKHOUSE_URL") {
            Some(u) => u,
            None => {
                let host = get("CLICKHOUSE_HOST").ok_or_else(|| {
                    ConfigError::new(
                        "CLICKHOUSE_URL",
                        "set CLICKHOUSE_URL, or CLICKHOUSE_HOST (and CLICKHOUSE_PORT)",
                    )
                })?;
                let port = get("CLICKHOUSE_PORT").or_else(|| get("CLICKHOUSE_HTTP_PORT"));
                let scheme = get("CLICKHOUSE_PROTOCOL").unwrap_or_else(|| match port.as_deref() {
                    Some("8123") | Some("80") => "http".into(),
                    _ => "https".into(),
                });
                let port = port.unwrap_or_else(|| {
                    if scheme == "http" {
                        "8123".into()
                    } else {
                        "8443".into()
                    }
                });
                format!("{scheme}://{host}:{port}")
            }
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ConfigError::new(
                "CLICKHOUSE_URL",
                format!("must be an http(s) URL, got {:?}", redact_url(&url)),
            ));
        }
        let timeout = match get("CLICKHOUSE_TIMEOUT_SECONDS") {
            None => 60,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if (1..=86_400).contains(&n) => n,
                _ => {
                    return Err(ConfigError::new(
                        "CLICKHOUSE_TIMEOUT_SECONDS",
                        format!("must be a whole number of seconds from 1 to 86400, got {v:?}"),
                    ));
                }
            },
        };
        Ok(ClickHouseConfig {
            url: url.trim_end_matches('/').to_string(),
            user: get("CLICKHOUSE_USER")
                .or_else(|| get("CLICKHOUSE_USERNAME"))
                .unwrap_or_else(|| "default".into()),
            password: get("CLICKHOUSE_PASSWORD").map(Secret::new),
            database: get("CLICKHOUSE_DATABASE").unwrap_or_else(|| "default".into()),
            timeout: Duration::from_secs(timeout),
            max_attempts: 5,
        })
    }
}

/// Rows read and written, as the server reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub read_rows: u64,
    pub written_rows: u64,
}

#[derive(Debug, Clone)]
pub struct ClickHouse {
    http: reqwest::Client,
    cfg: ClickHouseConfig,
    /// When the run must have stopped waiting: every request's timeout and
    /// every retry draws on the time left.
    deadline: Option<tokio::time::Instant>,
}

impl ClickHouse {
    pub fn new(cfg: ClickHouseConfig) -> Result<Self, ClickHouseError> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| ClickHouseError::Transport {
                url: redact_url(&cfg.url),
                message: e.to_string(),
            })?;
        Ok(ClickHouse {
            http,
            cfg,
            deadline: None,
        })
    }

    /// The same client, bounded by `deadline` (the earlier of it and any
    /// deadline it had).
    pub fn with_deadline(&self, deadline: Option<tokio::time::Instant>) -> ClickHouse {
        let mut c = self.clone();
        c.deadline = match (self.deadline, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        c
    }

    /// The same client for best-effort work: one attempt, answered within
    /// `timeout` (requests set their own timeout, so the shorter one wins).
    pub fn single_attempt(&self, timeout: Duration) -> ClickHouse {
        let mut c = self.clone();
        c.cfg.max_attempts = 1;
        c.cfg.timeout = c.cfg.timeout.min(timeout);
        c
    }

    /// Time left before the deadline, if there is one.
    pub fn time_left(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(tokio::time::Instant::now()))
    }

    pub fn config(&self) -> &ClickHouseConfig {
        &self.cfg
    }

    /// `GET /ping`.
    pub async fn ping(&self) -> Result<(), ClickHouseError> {
        let url = format!("{}/ping", self.cfg.url);
        let resp = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| ClickHouseError::Transport {
                url: redact_url(&url),
                message: e.without_url().to_string(),
            })?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(ClickHouseError::Server {
                url: redact_url(&url),
                status: resp.status().as_u16(),
                code: None,
                message: "ping failed".into(),
            })
        }
    }

    /// Run a statement (SQL in the body) and return the response text.
    pub async fn query(&self, sql: &str) -> Result<(String, Summary), ClickHouseError> {
        self.send(&[], sql.as_bytes().to_vec()).await
    }

    /// Like [`query`](Self::query), with query-level settings as URL parameters.
    pub async fn query_with(
        &self,
        sql: &str,
        settings: &[(&str, String)],
    ) -> Result<(String, Summary), ClickHouseError> {
        self.send(settings, sql.as_bytes().to_vec()).await
    }

    /// Insert `rows` (in `format`) into `table (columns)`. The statement is
    /// in the URL, the data in the body; `settings` become URL parameters.
    pub async fn insert_rows(
        &self,
        insert: &str,
        format: &str,
        rows: Vec<u8>,
        settings: &[(&str, String)],
    ) -> Result<Summary, ClickHouseError> {
        let mut params: Vec<(&str, String)> = vec![("query", format!("{insert} FORMAT {format}"))];
        params.extend(settings.iter().map(|(k, v)| (*k, v.clone())));
        self.send(&params, rows).await.map(|(_, s)| s)
    }

    async fn send(
        &self,
        params: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<(String, Summary), ClickHouseError> {
        // A query with its own time limit may run that long: wait for the
        // server's answer (its TIMEOUT_EXCEEDED) rather than cutting it off.
        let limit = params
            .iter()
            .find(|(k, _)| *k == "max_execution_time")
            .and_then(|(_, v)| v.parse::<u64>().ok())
            .filter(|s| *s > 0)
            .map(|s| Duration::from_secs(s + 30));
        // Server recovery takes seconds: 400 ms doubling to 6.4 s, jittered.
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(400))
            .with_max_delay(Duration::from_millis(6400))
            .with_max_times(self.cfg.max_attempts.saturating_sub(1) as usize)
            .with_jitter();
        (|| self.send_once(params, body.clone(), limit))
            .retry(backoff)
            .when(|e| e.retryable(limit.is_some()) && self.time_left().is_none_or(|t| t > Duration::from_millis(500)))
            .notify(|e, wait| {
                tracing::warn!(error = %e, wait_ms = wait.as_millis() as u64, "ClickHouse request failed; retrying");
            })
            .await
    }

    /// A transport error, or the deadline's when that is what cut it off.
    fn transport(&self, e: reqwest::Error) -> ClickHouseError {
        if e.is_timeout()
            && self
                .time_left()
                .is_some_and(|t| t < Duration::from_millis(50))
        {
            return ClickHouseError::Deadline {
                url: redact_url(&self.cfg.url),
                what: String::from("a request was still unanswered"),
            };
        }
        ClickHouseError::Transport {
            url: redact_url(&self.cfg.url),
            message: e.without_url().to_string(),
        }
    }

    async fn send_once(
        &self,
        params: &[(&str, String)],
        body: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<(String, Summary), ClickHouseError> {
        let url = format!("{}/", self.cfg.url);
        // Every statement names its database, so none is set here (one
        // that does not exist yet would fail `CREATE DATABASE`).
        let query: Vec<(&str, String)> = params.to_vec();
        let mut req = self
            .http
            .post(&url)
            .query(&query)
            .header("X-ClickHouse-User", &self.cfg.user)
            .body(body);
        if let Some(p) = &self.cfg.password {
            req = req.header("X-ClickHouse-Key", p.expose());
        }
        let mut wait = timeout.map_or(self.cfg.timeout, |t| t.max(self.cfg.timeout));
        if let Some(left) = self.time_left() {
            if left.is_zero() {
                return Err(ClickHouseError::Deadline {
                    url: redact_url(&self.cfg.url),
                    what: String::from("no time left to send a request"),
                });
            }
            wait = wait.min(left);
        }
        req = req.timeout(wait);
        let resp = req.send().await.map_err(|e| self.transport(e))?;
        let status = resp.status().as_u16();
        let code = resp
            .headers()
            .get("X-ClickHouse-Exception-Code")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let summary = resp
            .headers()
            .get("X-ClickHouse-Summary")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
            .map(|v| Summary {
                read_rows: v["read_rows"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
                written_rows: v["written_rows"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
            })
            .unwrap_or_default();
        let text = resp.text().await.map_err(|e| self.transport(e))?;
        if status >= 400 {
            let message: String = text.trim().chars().take(2000).collect();
            return Err(ClickHouseError::Server {
                url: redact_url(&self.cfg.url),
                status,
                code,
                message,
            });
        }
        Ok((text, summary))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(status: u16, code: Option<u32>) -> ClickHouseError {
        ClickHouseError::Server {
            url: "u".into(),
            status,
            code,
            message: String::new(),
        }
    }

    #[test]
    fn urls_in_messages_hide_credentials() {
        assert_eq!(
            redact_url("https://u:p@h:8443/x"),
            "https://[redacted]@h:8443/x"
        );
        assert_eq!(redact_url("http://h:8123"), "http://h:8123");
    }

    #[test]
    fn what_is_retried() {
        let transport = ClickHouseError::Transport {
            url: "u".into(),
            message: "reset".into(),
        };
        assert!(transport.retryable(false));
        assert!(server(503, None).retryable(false));
        assert!(!server(500, None).retryable(false));
        assert!(server(500, Some(252)).retryable(false), "TOO_MANY_PARTS");
        assert!(
            !server(500, Some(62)).retryable(false),
            "a syntax error stays one"
        );
        // TIMEOUT_EXCEEDED: retried for an insert, not for a query that hit
        // the time limit it set itself.
        assert!(server(500, Some(159)).retryable(false));
        assert!(!server(500, Some(159)).retryable(true));
    }

    #[test]
    fn a_bad_timeout_is_a_configuration_error_naming_the_variable() {
        let env = |timeout: &'static str| {
            move |k: &str| match k {
                "CLICKHOUSE_URL" => Some("http://127.0.0.1:8123".to_string()),
                "CLICKHOUSE_TIMEOUT_SECONDS" => Some(timeout.to_string()),
                _ => None,
            }
        };
        for bad in ["abc", "0", "-5", "1.5", ""] {
            let err = ClickHouseConfig::from_env(&env(bad)).unwrap_err();
            assert!(
                err.to_string().contains("CLICKHOUSE_TIMEOUT_SECONDS"),
                "{bad:?}: {err}"
            );
        }
        let ok = ClickHouseConfig::from_env(&env(" 7 ")).unwrap();
        assert_eq!(ok.timeout, Duration::from_secs(7));
    }
}
