//! # eventlog-store
//!
//! Object storage: a flat key space with conditional writes.
//!
//! Sources are listed and read through it; checkpoints, the ledger and the
//! errors files are read and committed through it. Two implementations, a
//! local directory (the embedded default) and S3, behind one trait, so
//! every pipeline test runs on both (see `tests/`); [`location`] picks one
//! from a `--source`/`--checkpoints` value.
//!
//! The one guarantee the pipeline builds on: [`ObjectStore::put`] writes
//! only if its [`Condition`] holds (`If-None-Match: *` or `If-Match`), and
//! atomically. Every error names the object it is about and says whether
//! another attempt could succeed.
//!
//! ```text
//!  pipelines ──► ObjectStore ─┬─ local::LocalStore  (a directory; rename + flock)
//!                             ├─ s3::S3Store        (conditional PUTs, pages, ranges)
//!                             └─ deadline::Bounded  (any store, every call on a clock)
//! ```
//!
//! A write that must not replace anything, then one that must replace
//! exactly what was read:
//!
//! ```
//! use eventlog_store::{Body, Condition, ObjectStore, local::LocalStore};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let store = LocalStore::new(dir.path());
//! let v1 = store
//!     .put("a/b.txt", Body::Bytes(b"one".to_vec()), Condition::IfAbsent)
//!     .await
//!     .unwrap();
//! // A second writer that expected nothing there loses.
//! let again = store
//!     .put("a/b.txt", Body::Bytes(b"two".to_vec()), Condition::IfAbsent)
//!     .await;
//! assert!(again.unwrap_err().is_precondition());
//! // One that read version v1 wins, once.
//! store
//!     .put("a/b.txt", Body::Bytes(b"two".to_vec()), Condition::IfMatch(v1))
//!     .await
//!     .unwrap();
//! let got = store.get("a/b.txt", 1 << 20).await.unwrap().unwrap();
//! assert_eq!(got.bytes, b"two");
//! # });
//! ```

pub mod deadline;
pub mod leftovers;
pub mod local;
pub mod location;
pub mod s3;
mod sorted_walk;

use std::fmt;
use std::path::{Path, PathBuf};

/// An opaque version token of an object's current content: the S3 ETag, or
/// for local files a content hash (checkpoints) or metadata fingerprint
/// (listings). Two reads see the same content iff their versions are equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(pub String);

/// Prefix of a listing version that cannot tell two contents apart (no
/// ETag and no modification time): such an object is always read again.
pub const UNVERSIONED: &str = "unversioned;";

impl Version {
    /// Whether equal versions mean equal content.
    pub fn is_reliable(&self) -> bool {
        !self.0.is_empty() && !self.0.starts_with(UNVERSIONED)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Key relative to the store root, `/`-separated.
    pub key: String,
    pub size: u64,
    pub version: Version,
    /// Modification time in microseconds since the epoch, when known. Used
    /// only to break ties between two versions of one event in a run.
    pub modified_micros: Option<i64>,
}

/// When a write may happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Only if nothing exists at the key (S3 `If-None-Match: *`).
    IfAbsent,
    /// Only if the current version is this one (S3 `If-Match`).
    IfMatch(Version),
}

impl Condition {
    /// The condition that protects an object read with `version` (`None`:
    /// it did not exist).
    pub fn expecting(version: Option<&Version>) -> Self {
        match version {
            Some(v) => Condition::IfMatch(v.clone()),
            None => Condition::IfAbsent,
        }
    }
}

/// An object read whole into memory.
#[derive(Debug, Clone)]
pub struct Object {
    pub bytes: Vec<u8>,
    pub version: Version,
}

/// Storage failures. Each names the object it is about.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{location}: the object changed since it was read (precondition failed)")]
    PreconditionFailed { location: String },
    #[error("{location}: {size} bytes is over the {limit}-byte limit")]
    TooLarge {
        location: String,
        size: u64,
        limit: u64,
    },
    #[error("{location}: {message}")]
    Io {
        location: String,
        message: String,
        retryable: bool,
    },
    #[error("{location}: {message}")]
    Config { location: String, message: String },
    /// The run's deadline came before the answer.
    #[error("{location}: the run's deadline was reached while {what}")]
    Deadline { location: String, what: String },
}

impl StoreError {
    pub fn io(location: impl fmt::Display, err: impl fmt::Display) -> Self {
        StoreError::Io {
            location: location.to_string(),
            message: err.to_string(),
            retryable: false,
        }
    }

    pub fn is_precondition(&self) -> bool {
        matches!(self, StoreError::PreconditionFailed { .. })
    }

    /// Whether another attempt later could succeed (network, throttling,
    /// 5xx). A lost race is not "retryable": it needs a re-read first.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Io {
                retryable: true,
                ..
            }
        )
    }

    /// The object the error is about (a path or `s3://bucket/key`).
    pub fn location(&self) -> &str {
        match self {
            StoreError::PreconditionFailed { location }
            | StoreError::TooLarge { location, .. }
            | StoreError::Io { location, .. }
            | StoreError::Config { location, .. }
            | StoreError::Deadline { location, .. } => location,
        }
    }
}

/// What to list: keys starting with `prefix` (taken as is, no `/` added),
/// after `start_after`, grouped at the first `delimiter` after the prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRequest {
    pub prefix: String,
    pub delimiter: Option<char>,
    pub start_after: Option<String>,
    /// The previous page's `next`, to continue.
    pub token: Option<String>,
}

/// One page of a listing, in key order (byte order, as S3 lists).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub objects: Vec<ObjectMeta>,
    /// With a delimiter: the groups of keys below the prefix.
    pub prefixes: Vec<String>,
    /// Where the next page starts; `None` at the end.
    pub next: Option<String>,
}

/// A place objects live: a local directory or an S3 bucket and prefix.
#[allow(async_fn_in_trait)]
pub trait ObjectStore: Send + Sync {
    /// Where `key` is, for messages: a path or `s3://bucket/key`.
    fn locate(&self, key: &str) -> String;

    /// Every object under `prefix` taken as a folder (relative keys, key order).
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        let prefix = if prefix.is_empty() || prefix.ends_with('/') {
            prefix.to_string()
        } else {
            format!("{prefix}/")
        };
        let mut req = ListRequest {
            prefix,
            ..ListRequest::default()
        };
        let mut out = Vec::new();
        loop {
            let page = self.list_page(&req).await?;
            out.extend(page.objects);
            match page.next {
                Some(t) => req.token = Some(t),
                None => return Ok(out),
            }
        }
    }

    /// One page of a listing.
    async fn list_page(&self, req: &ListRequest) -> Result<Page, StoreError>;

    /// What a listing would say of one object; `Ok(None)` when it does not exist.
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError>;

    /// `len` bytes of an object from `start` (fewer at its end).
    async fn get_range(&self, key: &str, start: u64, len: u64) -> Result<Vec<u8>, StoreError>;

    /// Read a whole object; `Ok(None)` only when it definitely does not
    /// exist. Any other failure is an error, never "empty".
    async fn get(&self, key: &str, limit: u64) -> Result<Option<Object>, StoreError>;

    /// Copy an object into a local file (for checkpoints, which are read in
    /// a streaming fashion); `Ok(None)` when it does not exist.
    async fn get_to_file(&self, key: &str, dest: &Path) -> Result<Option<Version>, StoreError>;

    /// Write `body` at `key` if `condition` holds, atomically: readers see
    /// the old object or the new one, never a mix.
    async fn put(&self, key: &str, body: Body, condition: Condition)
    -> Result<Version, StoreError>;

    /// A scratch directory on local disk for temporary files.
    fn scratch_dir(&self) -> PathBuf;

    /// Why an object could never be written at `key` in this store (too
    /// long, a character it cannot hold), known before trying; `None` when
    /// it can be.
    fn key_problem(&self, _key: &str) -> Option<String> {
        None
    }

    /// When every request of this store must be over (see
    /// [`deadline::Bounded`]); `None`: no run-wide deadline.
    fn deadline(&self) -> Option<tokio::time::Instant> {
        None
    }

    /// The local folder under which this store stages its writes to keys
    /// under `prefix`, where dead runs' staged files are swept; `None`
    /// where writes are not staged on local disk (S3).
    fn staging_root(&self, _prefix: &str) -> Option<PathBuf> {
        None
    }

    /// Whether listing disjoint ranges at once is faster than one listing
    /// (true of S3, where each page is a round trip).
    fn lists_in_parallel(&self) -> bool {
        false
    }
}

/// A body to write: small ones in memory, checkpoints as files.
#[derive(Debug)]
pub enum Body {
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// Keys are `/`-joined; join a prefix and a relative key.
pub fn join_key(prefix: &str, key: &str) -> String {
    match (prefix.trim_end_matches('/'), key.trim_start_matches('/')) {
        ("", k) => k.to_string(),
        (p, "") => p.to_string(),
        (p, k) => format!("{p}/{k}"),
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
