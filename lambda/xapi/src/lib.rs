//! # eventlog-xapi
//!
//! Loading xAPI statements (JSONL files, locally or in S3) into ClickHouse.
//!
//! Two paths produce the same rows: in-process (stream each file, classify
//! and convert here, insert RowBinary batches, or JSONEachRow with
//! `XAPI_INSERT_FORMAT=JSONEachRow`) and server-side
//! (`INSERT … SELECT … FROM s3(…)`, ClickHouse reads the files). Both are
//! generated from `eventlog_core::xapi::columns`. Up to `threshold` files
//! load in-process; more go server-side, falling back to in-process if that
//! fails. Loads are idempotent: inserts carry deduplication tokens and the
//! tables are ReplacingMergeTree keyed by the statement's event id.
//!
//! ```text
//!  files (S3, local) ─┬─ ≤ threshold ─► inprocess: read ─► classify/convert (core) ─► INSERT batches
//!                     └─ > threshold ─► serverside: INSERT … SELECT … FROM s3(…) (SQL from core)
//!                                          └─ fails ─► inprocess
//! ```
//!
//! The settings come from the environment, checked before anything runs:
//!
//! ```
//! let env = |name: &str| match name {
//!     "CLICKHOUSE_URL" => Some("http://127.0.0.1:8123".to_string()),
//!     "XAPI_TARGET" => Some("raw-events".to_string()),
//!     "XAPI_BATCH_ROWS" => Some("2000".to_string()),
//!     _ => None,
//! };
//! let config = eventlog_xapi::XapiConfig::from_env(&env).unwrap();
//! assert_eq!(config.settings.batch_rows, 2000);
//! assert_eq!(config.settings.threshold, 10, "the default");
//!
//! let bad = |name: &str| (name == "XAPI_BATCH_ROWS").then(|| "many".to_string())
//!     .or_else(|| env(name));
//! let err = eventlog_xapi::XapiConfig::from_env(&bad).unwrap_err();
//! assert_eq!(err.variable, "XAPI_BATCH_ROWS");
//! ```

pub mod bulk;
pub mod clickhouse;
pub mod config;
pub mod error;
pub mod files;
pub mod health;
pub mod inprocess;
pub mod raw;
pub mod secret;
pub mod serverside;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use eventlog_core::xapi::Category;
use eventlog_core::xapi::sql::Target;
use futures::StreamExt;

use crate::clickhouse::ClickHouse;
pub use config::{LoadTarget, RawSettings, Secret, ServerS3Auth, XapiConfig, XapiSettings};
pub use error::{ConfigError, XapiError};
pub use files::XapiFile;

/// Which path loads the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadPath {
    InProcess,
    ServerSide,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct InvalidLine {
    pub file: String,
    /// 1-based line number in the file.
    pub line: u64,
    pub reason: String,
}

/// A file that was skipped or did not load, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileProblem {
    pub file: String,
    pub reason: String,
    /// The statement that failed the object (raw-events target): its
    /// ordinal among the non-empty lines, and its physical line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical_line: Option<u64>,
    /// The member at fault, and a code for machines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Whether loading it again could succeed: false when its content
    /// cannot be loaded (a bad statement), true for a read or an insert
    /// that failed.
    pub retryable: bool,
    /// Where it failed: `content` (its statements), `read` (the store),
    /// `insert` (ClickHouse), `skipped` (not a statement file).
    pub stage: &'static str,
}

impl FileProblem {
    /// An insert that failed: another attempt may succeed.
    pub fn retry(file: impl Into<String>, reason: impl Into<String>) -> Self {
        FileProblem {
            file: file.into(),
            reason: reason.into(),
            line: None,
            physical_line: None,
            field: None,
            code: None,
            retryable: true,
            stage: "insert",
        }
    }

    /// A read that failed (`retryable` says whether it could succeed).
    pub fn read(file: impl Into<String>, reason: impl Into<String>, retryable: bool) -> Self {
        FileProblem {
            retryable,
            stage: "read",
            ..FileProblem::retry(file, reason)
        }
    }

    /// A file the loader leaves out on purpose.
    pub fn fixed(file: impl Into<String>, reason: impl Into<String>) -> Self {
        FileProblem {
            retryable: false,
            stage: "skipped",
            ..FileProblem::retry(file, reason)
        }
    }

    /// A file whose content cannot be loaded: loading it again fails the
    /// same way.
    pub fn content(file: impl Into<String>, reason: impl Into<String>) -> Self {
        FileProblem {
            retryable: false,
            stage: "content",
            ..FileProblem::retry(file, reason)
        }
    }
}

/// What a load did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    /// The tables loaded.
    pub target: LoadTarget,
    pub path: LoadPath,
    /// Why this path.
    pub reason: String,
    /// The server-side error that made it fall back, if it did.
    pub fallback_from_server_side: Option<String>,
    pub files: usize,
    /// Rows inserted (or already there), per category on the five-table
    /// target, per table on the raw-events target.
    pub rows: BTreeMap<String, u64>,
    /// Statements loaded per event type (raw-events target).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub event_types: BTreeMap<String, u64>,
    pub total_rows: u64,
    /// Statements of no loaded category, per verb.
    pub unknown_verbs: BTreeMap<String, u64>,
    pub unknown: u64,
    pub invalid_lines: u64,
    /// The first invalid lines (file and line number).
    pub invalid: Vec<InvalidLine>,
    /// Loaded statements that break the Torus statement schema.
    pub schema_warnings: u64,
    pub schema_examples: Vec<InvalidLine>,
    pub skipped_files: Vec<FileProblem>,
    pub failed_files: Vec<FileProblem>,
    pub inserts: u64,
    pub duration_ms: u64,
}

/// Details kept per report, beyond the counts.
pub const EXAMPLES: usize = 100;

fn add_counts(to: &mut BTreeMap<String, u64>, from: BTreeMap<String, u64>) {
    for (k, n) in from {
        *to.entry(k).or_default() += n;
    }
}

impl LoadReport {
    pub fn new(path: LoadPath, reason: impl Into<String>, files: usize) -> Self {
        LoadReport {
            target: LoadTarget::default(),
            path,
            reason: reason.into(),
            fallback_from_server_side: None,
            files,
            rows: BTreeMap::new(),
            event_types: BTreeMap::new(),
            total_rows: 0,
            unknown_verbs: BTreeMap::new(),
            unknown: 0,
            invalid_lines: 0,
            invalid: Vec::new(),
            schema_warnings: 0,
            schema_examples: Vec::new(),
            skipped_files: Vec::new(),
            failed_files: Vec::new(),
            inserts: 0,
            duration_ms: 0,
        }
    }

    pub fn succeeded(&self) -> bool {
        self.failed_files.is_empty()
    }

    /// Add what another load of other files (or other tables) did.
    pub fn absorb(&mut self, other: LoadReport) {
        add_counts(&mut self.rows, other.rows);
        add_counts(&mut self.event_types, other.event_types);
        add_counts(&mut self.unknown_verbs, other.unknown_verbs);
        self.invalid_lines += other.invalid_lines;
        self.schema_warnings += other.schema_warnings;
        self.inserts += other.inserts;
        for (to, from) in [
            (&mut self.invalid, other.invalid),
            (&mut self.schema_examples, other.schema_examples),
        ] {
            to.extend(from);
            to.truncate(EXAMPLES);
        }
        self.skipped_files.extend(other.skipped_files);
        self.failed_files.extend(other.failed_files);
    }
}

/// The loader: ClickHouse, S3 and settings.
pub struct Loader<'a> {
    pub ch: &'a ClickHouse,
    pub s3: Option<&'a aws_sdk_s3::Client>,
    pub settings: &'a XapiSettings,
    /// When the run must be over (a Lambda's end, `--deadline`): no insert
    /// starts with less than the raw target's minimum left, and no request
    /// waits past it.
    pub deadline: Option<tokio::time::Instant>,
}

impl Loader<'_> {
    /// S3 files with their ETag (a HEAD for those the caller did not know
    /// it for), so deduplication tokens tell versions of a file apart. A
    /// file whose HEAD fails keeps none; its read will fail and report it.
    async fn with_versions(&self, files: Vec<XapiFile>) -> Vec<XapiFile> {
        let Some(s3) = self.s3 else { return files };
        futures::stream::iter(files)
            .map(|f| async move {
                match f {
                    XapiFile::S3 {
                        bucket,
                        key,
                        etag: None,
                    } => {
                        let head = s3.head_object().bucket(&bucket).key(&key).send();
                        let etag = eventlog_store::deadline::within(self.deadline, head)
                            .await
                            .and_then(Result::ok)
                            .and_then(|h| h.e_tag().map(|e| e.trim_matches('"').to_string()));
                        XapiFile::S3 { bucket, key, etag }
                    }
                    other => other,
                }
            })
            .buffered(16)
            .collect()
            .await
    }

    /// The deduplication token of an insert into `table` of `identity`
    /// (which file versions and lines it holds).
    pub fn token(&self, table: &str, identity: &str) -> String {
        let salt = self.settings.token_salt.as_deref().unwrap_or("");
        eventlog_core::xapi::sha256_hex(format!("{table}|{salt}|{identity}").as_bytes())
    }

    pub fn target(&self) -> Target<'_> {
        Target {
            database: &self.ch.config().database,
            cluster: self.settings.cluster.as_deref(),
        }
    }

    async fn five_tables_server_side(&self, files: &[XapiFile], reason: String) -> LoadReport {
        let outcome = serverside::load(self, files).await;
        let mut report = outcome.report;
        let server_inserts = report.inserts;
        if let Some((error, unfinished)) = outcome.stopped {
            tracing::warn!(error = %error, "server-side load stopped; loading the rest in-process");
            for u in unfinished {
                // Tables the server already loaded for these files are
                // left out: their rows are in, and counted once.
                let rest: BTreeSet<Category> = Category::LOADED
                    .into_iter()
                    .filter(|c| !u.done.contains(c))
                    .collect();
                let part = inprocess::load(self, &u.files, Some(&rest)).await;
                report.absorb(part);
            }
            self.fell_back(&mut report, server_inserts, &reason, &error);
        } else {
            report.reason = reason;
        }
        report
    }

    async fn raw_server_side(&self, files: &[XapiFile], reason: String) -> LoadReport {
        let outcome = raw::serverside::load(self, files).await;
        let mut report = outcome.report;
        let server_inserts = report.inserts;
        if let Some((error, left)) = outcome.stopped {
            tracing::warn!(error = %error, "server-side load stopped; loading the rest in-process");
            // The objects the server did not finish load whole; ranges it
            // inserted carry the same tokens, so nothing doubles.
            let part = raw::inprocess::load(self, &left).await;
            // An object the in-process path loaded whole is counted by it:
            // what the server had inserted of it before it stopped comes out.
            for (file, counts) in &outcome.partial {
                if part.failed_files.iter().any(|f| &f.file == file) {
                    continue;
                }
                for (table, n) in counts {
                    if let Some(r) = report.rows.get_mut(table) {
                        *r = r.saturating_sub(*n);
                    }
                }
            }
            report.absorb(part);
            self.fell_back(&mut report, server_inserts, &reason, &error);
        } else {
            report.reason = reason;
        }
        report
    }

    fn fell_back(
        &self,
        report: &mut LoadReport,
        server_inserts: u64,
        reason: &str,
        error: &XapiError,
    ) {
        if server_inserts == 0 {
            // Nothing went in server-side: the load ran in-process.
            report.path = LoadPath::InProcess;
        }
        report.reason = format!(
            "{reason}; the server-side load stopped, so the files it had not finished were loaded in-process"
        );
        report.fallback_from_server_side = Some(error.to_string());
    }

    /// Load `files` by the path the settings choose, falling back from
    /// server-side to in-process on failure.
    pub async fn load(&self, mut files: Vec<XapiFile>) -> LoadReport {
        let started = Instant::now();
        files.sort_by_key(|f| f.name());
        files.dedup_by_key(|f| f.name());
        let n = files.len();
        let all_s3 = files.iter().all(|f| matches!(f, XapiFile::S3 { .. }));
        let server_ready = self.settings.server_auth.is_some()
            && self.settings.s3_endpoint_for_clickhouse.is_some();
        let (wanted, reason) = match self.settings.force {
            Some(LoadPath::InProcess) => (
                LoadPath::InProcess,
                String::from("in-process path requested"),
            ),
            Some(LoadPath::ServerSide) => (
                LoadPath::ServerSide,
                String::from("server-side path requested"),
            ),
            None if n > self.settings.threshold && all_s3 && server_ready => (
                LoadPath::ServerSide,
                format!("{n} files > threshold {}", self.settings.threshold),
            ),
            None if n > self.settings.threshold && !server_ready => (
                LoadPath::InProcess,
                format!(
                    "{n} files > threshold {}, but the server-side path is not configured (CLICKHOUSE_S3_AUTH, CLICKHOUSE_S3_ENDPOINT)",
                    self.settings.threshold
                ),
            ),
            None if n > self.settings.threshold => (
                LoadPath::InProcess,
                String::from("local files load in-process"),
            ),
            None => (
                LoadPath::InProcess,
                format!("{n} file(s) <= threshold {}", self.settings.threshold),
            ),
        };
        let mut report = match (self.settings.target, wanted) {
            (LoadTarget::FiveTables, LoadPath::ServerSide) => {
                let files = self.with_versions(files).await;
                self.five_tables_server_side(&files, reason).await
            }
            (LoadTarget::FiveTables, LoadPath::InProcess) => {
                let mut r = inprocess::load(self, &files, None).await;
                r.reason = reason;
                r
            }
            (LoadTarget::RawEvents, LoadPath::ServerSide) => {
                let files = self.with_versions(files).await;
                self.raw_server_side(&files, reason).await
            }
            (LoadTarget::RawEvents, LoadPath::InProcess) => {
                let mut r = raw::inprocess::load(self, &files).await;
                r.reason = reason;
                r
            }
        };
        report.target = self.settings.target;
        report.total_rows = report.rows.values().sum();
        report.unknown = match self.settings.target {
            LoadTarget::FiveTables => report.unknown_verbs.values().sum(),
            LoadTarget::RawEvents => report.event_types.get("unknown").copied().unwrap_or(0),
        };
        report.duration_ms = started.elapsed().as_millis() as u64;
        report
    }
}
