//! The loader's configuration, from the environment. Secrets (ClickHouse's
//! password, S3 keys for the server) never print: `Debug` redacts them.

use eventlog_core::xapi::sql::S3Auth;

use crate::LoadPath;
use crate::clickhouse::ClickHouseConfig;
use crate::error::ConfigError;
pub use crate::secret::Secret;

/// How ClickHouse itself authenticates to S3 on the server-side path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerS3Auth {
    NamedCollection(String),
    Server,
    NoSign,
    Keys {
        access_key_id: Secret,
        secret_access_key: Secret,
        session_token: Option<Secret>,
    },
}

impl ServerS3Auth {
    pub fn as_sql(&self) -> S3Auth<'_> {
        match self {
            ServerS3Auth::NamedCollection(n) => S3Auth::NamedCollection(n),
            ServerS3Auth::Server => S3Auth::Server,
            ServerS3Auth::NoSign => S3Auth::NoSign,
            ServerS3Auth::Keys {
                access_key_id,
                secret_access_key,
                session_token,
            } => S3Auth::Keys {
                access_key_id: access_key_id.expose(),
                secret_access_key: secret_access_key.expose(),
                session_token: session_token.as_ref().map(Secret::expose),
            },
        }
    }

    /// From `CLICKHOUSE_S3_AUTH`: `named:<collection>` (preferred), `server`
    /// (the server's own role/credentials), `nosign`, or `keys` (the
    /// function's own AWS keys, with `AWS_SESSION_TOKEN`).
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        const VAR: &str = "CLICKHOUSE_S3_AUTH";
        let Some(v) = get(VAR) else {
            return Ok(None);
        };
        let need = |name: &str| {
            get(name)
                .map(Secret::new)
                .ok_or_else(|| ConfigError::new(VAR, format!("`keys` needs {name}")))
        };
        Ok(Some(match v.as_str() {
            "server" => ServerS3Auth::Server,
            "nosign" => ServerS3Auth::NoSign,
            "keys" => ServerS3Auth::Keys {
                access_key_id: need("AWS_ACCESS_KEY_ID")?,
                secret_access_key: need("AWS_SECRET_ACCESS_KEY")?,
                session_token: get("AWS_SESSION_TOKEN").map(Secret::new),
            },
            other => match other.strip_prefix("named:") {
                Some(name) if !name.is_empty() => ServerS3Auth::NamedCollection(name.to_string()),
                _ => {
                    return Err(ConfigError::new(
                        VAR,
                        format!("{other:?}: use named:<collection>, server, nosign or keys"),
                    ));
                }
            },
        }))
    }
}

/// The format of in-process inserts. RowBinary is the default: measured
/// cheaper for the loader (no number formatting or string escaping) and for
/// the server (no parsing); JSONEachRow is readable in a packet capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertFormat {
    RowBinary,
    JsonEachRow,
}

impl InsertFormat {
    pub fn name(self) -> &'static str {
        match self {
            InsertFormat::RowBinary => "RowBinary",
            InsertFormat::JsonEachRow => "JSONEachRow",
        }
    }
}

/// Which tables the loader writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadTarget {
    /// The original ETL's five tables, one per category (unknown
    /// statements are counted, not stored).
    #[default]
    FiveTables,
    /// What Torus reads today: `raw_events` (every statement) and
    /// `experiment_attributions` (spec `xapi-raw-events.md`).
    RawEvents,
}

impl LoadTarget {
    pub fn name(self) -> &'static str {
        match self {
            LoadTarget::FiveTables => "five-tables",
            LoadTarget::RawEvents => "raw-events",
        }
    }

    pub fn parse(s: &str) -> Option<LoadTarget> {
        match s {
            "five-tables" => Some(LoadTarget::FiveTables),
            "raw-events" => Some(LoadTarget::RawEvents),
            _ => None,
        }
    }

    /// The tables this target writes.
    pub fn tables(self) -> Vec<&'static str> {
        match self {
            LoadTarget::FiveTables => eventlog_core::xapi::Category::LOADED
                .iter()
                .map(|c| c.table())
                .collect(),
            LoadTarget::RawEvents => vec![
                eventlog_core::xapi::raw::RAW_TABLE,
                eventlog_core::xapi::raw::ATTRIBUTION_TABLE,
            ],
        }
    }
}

/// The raw-events target's sub-batches and time guards (spec §7), under
/// the reference Lambda's variable names.
#[derive(Debug, Clone)]
pub struct RawSettings {
    /// `TARGET_ROWS_PER_INSERT`: an insert is cut at this many rows.
    pub rows_per_insert: usize,
    /// `MAX_PARQUET_BYTES_PER_INSERT`: …or at this many bytes of rows.
    pub bytes_per_insert: usize,
    /// `MAX_EXPERIMENT_ATTRIBUTIONS_PER_STATEMENT` (at least 1).
    pub max_attributions: usize,
    /// `MAX_S3_OBJECT_BYTES`: larger objects fail (none: no cap).
    pub max_object_bytes: Option<u64>,
    /// `MIN_REMAINING_TIME_TO_START_INSERT_MS`: no insert (nor message)
    /// starts with less time left.
    pub min_remaining_ms: u64,
    /// `LAMBDA_TIMEOUT_SAFETY_MARGIN_MS`: kept back from an insert's
    /// request timeout.
    pub safety_margin_ms: u64,
    /// `FAILURE_DLQ_URL`: where a message whose objects cannot be
    /// prepared is copied, with the reason.
    pub failure_dlq_url: Option<String>,
    /// `MAX_MESSAGES_PER_INVOCATION_TO_PROCESS`.
    pub max_messages: Option<usize>,
}

impl RawSettings {
    /// From the reference Lambda's variables; `num` parses a count.
    fn from_env(
        get: &dyn Fn(&str) -> Option<String>,
        num: &dyn Fn(&str, usize) -> Result<usize, ConfigError>,
    ) -> Result<RawSettings, ConfigError> {
        let d = RawSettings::default();
        let optional = |name: &str| -> Result<Option<usize>, ConfigError> {
            match get(name) {
                None => Ok(None),
                Some(_) => num(name, 0).map(Some),
            }
        };
        Ok(RawSettings {
            rows_per_insert: num("TARGET_ROWS_PER_INSERT", d.rows_per_insert)?.max(1),
            bytes_per_insert: num("MAX_PARQUET_BYTES_PER_INSERT", d.bytes_per_insert)?.max(1),
            max_attributions: num(
                "MAX_EXPERIMENT_ATTRIBUTIONS_PER_STATEMENT",
                d.max_attributions,
            )?
            .max(1),
            max_object_bytes: optional("MAX_S3_OBJECT_BYTES")?.map(|n| n as u64),
            min_remaining_ms: num(
                "MIN_REMAINING_TIME_TO_START_INSERT_MS",
                d.min_remaining_ms as usize,
            )? as u64,
            safety_margin_ms: num(
                "LAMBDA_TIMEOUT_SAFETY_MARGIN_MS",
                d.safety_margin_ms as usize,
            )? as u64,
            failure_dlq_url: get("FAILURE_DLQ_URL").filter(|u| !u.is_empty()),
            max_messages: optional("MAX_MESSAGES_PER_INVOCATION_TO_PROCESS")?,
        })
    }
}

impl Default for RawSettings {
    fn default() -> Self {
        RawSettings {
            rows_per_insert: 10_000,
            bytes_per_insert: 16 << 20,
            max_attributions: 100,
            max_object_bytes: None,
            min_remaining_ms: 15_000,
            safety_margin_ms: 5_000,
            failure_dlq_url: None,
            max_messages: None,
        }
    }
}

/// Settings of the loader.
#[derive(Debug, Clone)]
pub struct XapiSettings {
    /// The tables to load (`XAPI_TARGET`).
    pub target: LoadTarget,
    /// The raw-events target's batching and time guards.
    pub raw: RawSettings,
    /// Up to this many files load in-process; more go server-side.
    pub threshold: usize,
    /// Rows per insert on the in-process path.
    pub batch_rows: usize,
    /// Encoded bytes per insert on the in-process path: a batch is sent at
    /// whichever of the two comes first, so memory stays bounded by
    /// (categories + inserts in flight) × this, whatever the lines hold.
    pub batch_bytes: usize,
    /// Inserts in flight at once on the in-process path, while the next
    /// rows are read and converted.
    pub insert_parallelism: usize,
    /// How the in-process path sends rows.
    pub insert_format: InsertFormat,
    /// Files per `s3()` read on the server-side path.
    pub files_per_query: usize,
    /// The S3 endpoint as ClickHouse reaches it (`https://s3.us-east-1.amazonaws.com`).
    pub s3_endpoint_for_clickhouse: Option<String>,
    /// `None` disables the server-side path.
    pub server_auth: Option<ServerS3Auth>,
    pub cluster: Option<String>,
    /// Force a path.
    pub force: Option<LoadPath>,
    /// Largest line accepted (bytes); longer lines are reported invalid.
    pub max_line_bytes: usize,
    /// `s3_retry_attempts` for the server's reads. ClickHouse's default
    /// (hundreds, with backoff) keeps a query against an unreachable
    /// endpoint busy for many minutes, past a Lambda's lifetime, instead of
    /// failing over to the in-process path.
    pub s3_retry_attempts: u32,
    /// `max_execution_time` (seconds) of each server-side query; 0 = none.
    pub server_side_timeout_secs: u64,
    /// Staging tables older than this are dropped at the start of a
    /// server-side load (left by a load that was killed mid-way).
    pub stage_max_age_secs: u64,
    /// Mixed into every deduplication token (`force_reprocess`): a load
    /// with a new salt inserts again what an earlier load inserted.
    pub token_salt: Option<String>,
}

impl Default for XapiSettings {
    fn default() -> Self {
        XapiSettings {
            target: LoadTarget::default(),
            raw: RawSettings::default(),
            threshold: 10,
            batch_rows: 5000,
            batch_bytes: 32 << 20,
            insert_parallelism: 4,
            insert_format: InsertFormat::RowBinary,
            files_per_query: 100,
            s3_endpoint_for_clickhouse: None,
            server_auth: None,
            cluster: None,
            force: None,
            max_line_bytes: 16 << 20,
            s3_retry_attempts: 5,
            server_side_timeout_secs: 300,
            stage_max_age_secs: 3600,
            token_salt: None,
        }
    }
}

/// Everything the loader reads from the environment.
#[derive(Debug, Clone)]
pub struct XapiConfig {
    pub clickhouse: ClickHouseConfig,
    pub settings: XapiSettings,
    /// `S3_XAPI_BUCKET_NAME`: the bulk and health default.
    pub default_bucket: Option<String>,
}

impl XapiConfig {
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let clickhouse = ClickHouseConfig::from_env(get)?;
        let num = |name: &str, default: usize| -> Result<usize, ConfigError> {
            get(name).map_or(Ok(default), |v| {
                v.parse()
                    .map_err(|_| ConfigError::new(name, format!("{v:?} is not a number")))
            })
        };
        let endpoint = get("CLICKHOUSE_S3_ENDPOINT")
            .or_else(|| get("AWS_REGION").map(|r| format!("https://s3.{r}.amazonaws.com")));
        let target = match get("XAPI_TARGET") {
            None => LoadTarget::default(),
            Some(v) => LoadTarget::parse(&v).ok_or_else(|| {
                ConfigError::new(
                    "XAPI_TARGET",
                    format!("{v:?}: use five-tables or raw-events"),
                )
            })?,
        };
        let raw = RawSettings::from_env(get, &num)?;
        // The defaults are written once, in `Default`.
        let d = XapiSettings::default();
        let settings = XapiSettings {
            target,
            raw,
            threshold: num("XAPI_SERVER_SIDE_THRESHOLD", d.threshold)?,
            batch_rows: num("XAPI_BATCH_ROWS", d.batch_rows)?.max(1),
            batch_bytes: num("XAPI_BATCH_BYTES", d.batch_bytes)?.max(1),
            insert_parallelism: num("XAPI_INSERT_PARALLELISM", d.insert_parallelism)?.max(1),
            insert_format: match get("XAPI_INSERT_FORMAT").as_deref() {
                None => d.insert_format,
                Some("RowBinary") => InsertFormat::RowBinary,
                Some("JSONEachRow") => InsertFormat::JsonEachRow,
                Some(other) => {
                    return Err(ConfigError::new(
                        "XAPI_INSERT_FORMAT",
                        format!("{other:?} is neither RowBinary nor JSONEachRow"),
                    ));
                }
            },
            files_per_query: num("XAPI_SERVER_SIDE_FILES_PER_QUERY", d.files_per_query)?.max(1),
            s3_endpoint_for_clickhouse: endpoint,
            server_auth: ServerS3Auth::from_env(get)?,
            cluster: get("CLICKHOUSE_CLUSTER"),
            force: None,
            s3_retry_attempts: num("XAPI_S3_RETRY_ATTEMPTS", d.s3_retry_attempts as usize)? as u32,
            server_side_timeout_secs: num(
                "XAPI_SERVER_SIDE_TIMEOUT_SECS",
                d.server_side_timeout_secs as usize,
            )? as u64,
            stage_max_age_secs: num("XAPI_STAGE_MAX_AGE_SECS", d.stage_max_age_secs as usize)?
                as u64,
            ..d
        };
        Ok(XapiConfig {
            clickhouse,
            settings,
            default_bucket: get("S3_XAPI_BUCKET_NAME"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let env = |k: &str| -> Option<String> {
            match k {
                "CLICKHOUSE_URL" => Some("https://alice:hunter2@ch.example:8443".into()),
                "CLICKHOUSE_PASSWORD" => Some("s3cr3t-password".into()),
                "CLICKHOUSE_S3_AUTH" => Some("keys".into()),
                "AWS_ACCESS_KEY_ID" => Some("AKIAEXAMPLEKEY".into()),
                "AWS_SECRET_ACCESS_KEY" => Some("wJalrEXAMPLESECRET".into()),
                "AWS_SESSION_TOKEN" => Some("FwoGZXIvYEXAMPLETOKEN".into()),
                _ => None,
            }
        };
        let c = XapiConfig::from_env(&env).unwrap();
        let password = c.clickhouse.password.as_ref().expect("a password");
        let shown = format!("{c:?} {:#?} {password} {password:?}", c);
        for secret in [
            "hunter2",
            "s3cr3t-password",
            "AKIAEXAMPLEKEY",
            "wJalrEXAMPLESECRET",
            "FwoGZXIvYEXAMPLETOKEN",
        ] {
            assert!(!shown.contains(secret), "{secret} printed: {shown}");
        }
        assert!(
            shown.contains("ch.example"),
            "the host still shows: {shown}"
        );
    }
}
