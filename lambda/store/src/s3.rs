//! S3 (or an S3-compatible server) as an object store.
//!
//! One client for the whole run, path-style addressing and an endpoint
//! override for local servers, the SDK's standard retry (throttling, 5xx,
//! timeouts) with more attempts than the default, and conditional writes:
//! `If-None-Match: *` for new objects, `If-Match: <etag>` for replacements.
//! A 412 (or a 409 conditional-request conflict) is a lost race, reported
//! as [`StoreError::PreconditionFailed`] so the caller re-reads and retries.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use tokio::io::AsyncWriteExt;

use super::{
    Body, Condition, ListRequest, Object, ObjectMeta, ObjectStore, Page, StoreError, Version,
};

fn micros(t: &aws_sdk_s3::primitives::DateTime) -> i64 {
    t.secs() * 1_000_000 + i64::from(t.subsec_nanos() / 1000)
}

/// How to reach S3.
/// The longest key S3 accepts, in UTF-8 bytes.
pub const S3_MAX_KEY_BYTES: usize = 1024;

#[derive(Debug, Clone, Default)]
pub struct S3Config {
    /// An S3-compatible endpoint (e.g. `http://127.0.0.1:9000`); `None` for AWS.
    pub endpoint: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), needed by most local servers.
    pub path_style: bool,
    /// Attempts per request, including the first.
    pub max_attempts: u32,
}

impl S3Config {
    /// From the environment: `EVENTLOG_S3_ENDPOINT` (or the standard
    /// `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`), `EVENTLOG_S3_PATH_STYLE`
    /// (defaults to on when an endpoint is set), `EVENTLOG_S3_MAX_ATTEMPTS`.
    pub fn from_env() -> Self {
        let endpoint = [
            "EVENTLOG_S3_ENDPOINT",
            "AWS_ENDPOINT_URL_S3",
            "AWS_ENDPOINT_URL",
        ]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()));
        let path_style = std::env::var("EVENTLOG_S3_PATH_STYLE")
            .map(|v| v == "1" || v.eq_ignore_ascii_case("true"))
            .unwrap_or(endpoint.is_some());
        let max_attempts = std::env::var("EVENTLOG_S3_MAX_ATTEMPTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(8);
        S3Config {
            endpoint,
            path_style,
            max_attempts,
        }
    }
}

/// Build the one client a process uses, credentials and region from the
/// standard AWS chain.
pub async fn client(cfg: &S3Config) -> Client {
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let mut b = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(cfg.path_style)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(cfg.max_attempts.max(1))
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_secs(5)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(120))
                .build(),
        )
        // Plain Content-Length bodies: every S3-compatible server takes them.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    if shared.region().is_none() {
        b = b.region(aws_sdk_s3::config::Region::new("us-east-1"));
    }
    if let Some(ep) = &cfg.endpoint {
        b = b.endpoint_url(ep);
    }
    Client::from_conf(b.build())
}

#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    /// Keys per listing page; `None`: the server's (1 000 on S3).
    page_size: Option<i32>,
}

impl S3Store {
    /// A bucket through `client`. `EVENTLOG_S3_PAGE_SIZE` (1 to 1 000)
    /// asks for smaller listing pages: tests use it to reach many pages
    /// with few objects.
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        let page_size = std::env::var("EVENTLOG_S3_PAGE_SIZE")
            .ok()
            .and_then(|v| v.parse::<i32>().ok())
            .filter(|n| (1..=1000).contains(n));
        S3Store {
            client,
            bucket: bucket.into(),
            page_size,
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The response to a GET of `key`, `None` when there is no such key.
    async fn get_object(
        &self,
        key: &str,
    ) -> Result<Option<aws_sdk_s3::operation::get_object::GetObjectOutput>, StoreError> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(r) => Ok(Some(r)),
            Err(SdkError::ServiceError(ctx)) if ctx.err().is_no_such_key() => Ok(None),
            Err(e) => Err(io_error(self.locate(key), &e)),
        }
    }
}

type Response = aws_sdk_s3::config::http::HttpResponse;

/// The version of a listed object: its ETag, or where the server lists
/// none (s3s-fs, some other S3-compatible servers) its size and
/// modification time, so a rewritten object never looks unchanged.
pub fn listing_version(etag: Option<&str>, size: u64, modified_micros: Option<i64>) -> Version {
    match etag.filter(|e| !e.trim_matches('"').is_empty()) {
        Some(e) => Version(e.to_string()),
        None => match modified_micros {
            Some(m) => Version(format!("size={size};modified={m}")),
            // Nothing tells versions apart: never treated as seen, so the
            // object is read again and compared by content hash.
            None => Version(format!("{}size={size}", super::UNVERSIONED)),
        },
    }
}

fn describe<E: ProvideErrorMetadata + std::error::Error + 'static>(
    e: &SdkError<E, Response>,
) -> String {
    match e {
        SdkError::ServiceError(ctx) => {
            let err = ctx.err();
            format!(
                "{}: {}",
                err.code().unwrap_or("error"),
                err.message().unwrap_or("")
            )
        }
        other => aws_sdk_s3::error::DisplayErrorContext(other)
            .to_string()
            .chars()
            .take(500)
            .collect(),
    }
}

fn status_of<E, R: HasStatus>(e: &SdkError<E, R>) -> Option<u16> {
    match e {
        SdkError::ServiceError(ctx) => Some(ctx.raw().status_code()),
        SdkError::ResponseError(ctx) => Some(ctx.raw().status_code()),
        _ => None,
    }
}

trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

fn io_error<E: ProvideErrorMetadata + std::error::Error + 'static>(
    location: String,
    e: &SdkError<E, Response>,
) -> StoreError {
    let text = describe(e);
    let status = status_of(e);
    let retryable = status.is_none_or(|s| s >= 500 || s == 429);
    let message = match status {
        Some(s) => format!("HTTP {s}: {text}"),
        None => text,
    };
    StoreError::Io {
        location,
        message,
        retryable,
    }
}

impl ObjectStore for S3Store {
    fn locate(&self, key: &str) -> String {
        format!("s3://{}/{}", self.bucket, key)
    }

    async fn list_page(&self, req: &ListRequest) -> Result<Page, StoreError> {
        let mut call = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&req.prefix);
        if let Some(d) = req.delimiter {
            call = call.delimiter(d.to_string());
        }
        if let Some(a) = &req.start_after {
            call = call.start_after(a);
        }
        if let Some(t) = &req.token {
            call = call.continuation_token(t);
        }
        if let Some(n) = self.page_size {
            call = call.max_keys(n);
        }
        let page = call
            .send()
            .await
            .map_err(|e| io_error(self.locate(&req.prefix), &e))?;
        let objects = page
            .contents()
            .iter()
            .filter_map(|o| {
                let key = o.key()?;
                let size = o.size().unwrap_or(0).max(0) as u64;
                let modified_micros = o.last_modified().map(micros);
                Some(ObjectMeta {
                    key: key.to_string(),
                    size,
                    version: listing_version(o.e_tag(), size, modified_micros),
                    modified_micros,
                })
            })
            .collect();
        let prefixes = page
            .common_prefixes()
            .iter()
            .filter_map(|p| p.prefix().map(str::to_string))
            .collect();
        let next = page
            .next_continuation_token()
            .filter(|_| page.is_truncated() == Some(true))
            .map(str::to_string);
        Ok(Page {
            objects,
            prefixes,
            next,
        })
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(h) => {
                let size = h.content_length().unwrap_or(0).max(0) as u64;
                let modified_micros = h.last_modified().map(micros);
                Ok(Some(ObjectMeta {
                    key: key.to_string(),
                    size,
                    version: listing_version(h.e_tag(), size, modified_micros),
                    modified_micros,
                }))
            }
            Err(SdkError::ServiceError(ctx)) if ctx.err().is_not_found() => Ok(None),
            Err(e) => Err(io_error(self.locate(key), &e)),
        }
    }

    async fn get_range(&self, key: &str, start: u64, len: u64) -> Result<Vec<u8>, StoreError> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let resp = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes={start}-{}", start + len - 1))
            .send()
            .await
            .map_err(|e| io_error(self.locate(key), &e))?;
        let bytes = resp.body.collect().await.map_err(|e| StoreError::Io {
            location: self.locate(key),
            message: format!("reading the body: {e}"),
            retryable: true,
        })?;
        Ok(bytes.into_bytes().to_vec())
    }

    async fn get(&self, key: &str, limit: u64) -> Result<Option<Object>, StoreError> {
        let Some(mut resp) = self.get_object(key).await? else {
            return Ok(None);
        };
        let too_large = |size: u64| StoreError::TooLarge {
            location: self.locate(key),
            size,
            limit,
        };
        let declared = resp.content_length().and_then(|n| u64::try_from(n).ok());
        if let Some(size) = declared.filter(|s| *s > limit) {
            return Err(too_large(size));
        }
        let version = Version(resp.e_tag().unwrap_or_default().to_string());
        // The limit holds on the bytes themselves: a server that sends no
        // (or a wrong) Content-Length cannot make us read past it.
        let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(limit.min(1 << 20)) as usize);
        while let Some(chunk) = resp.body.try_next().await.map_err(|e| StoreError::Io {
            location: self.locate(key),
            message: format!("reading the body: {e}"),
            retryable: true,
        })? {
            let size = (bytes.len() + chunk.len()) as u64;
            if size > limit {
                return Err(too_large(size));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some(Object { bytes, version }))
    }

    async fn get_to_file(&self, key: &str, dest: &Path) -> Result<Option<Version>, StoreError> {
        let Some(mut resp) = self.get_object(key).await? else {
            return Ok(None);
        };
        let version = Version(resp.e_tag().unwrap_or_default().to_string());
        let mut file = tokio::fs::File::create(dest)
            .await
            .map_err(|e| StoreError::io(dest.display(), e))?;
        while let Some(chunk) = resp.body.try_next().await.map_err(|e| StoreError::Io {
            location: self.locate(key),
            message: format!("reading the body: {e}"),
            retryable: true,
        })? {
            file.write_all(&chunk)
                .await
                .map_err(|e| StoreError::io(dest.display(), e))?;
        }
        file.flush()
            .await
            .map_err(|e| StoreError::io(dest.display(), e))?;
        Ok(Some(version))
    }

    async fn put(
        &self,
        key: &str,
        body: Body,
        condition: Condition,
    ) -> Result<Version, StoreError> {
        let stream = match body {
            Body::Bytes(b) => ByteStream::from(b),
            Body::File(p) => ByteStream::from_path(&p)
                .await
                .map_err(|e| StoreError::io(p.display(), e))?,
        };
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(stream);
        let req = match &condition {
            Condition::IfAbsent => req.if_none_match("*"),
            // An empty If-Match is no condition at all on some servers:
            // without the version we read, a replacement could overwrite
            // another run's commit, so it is not attempted.
            Condition::IfMatch(v) if v.0.trim_matches('"').is_empty() => {
                return Err(StoreError::Config {
                    location: self.locate(key),
                    message: "the server returned no ETag when this object was read, so it cannot be replaced conditionally; refusing to overwrite it".into(),
                });
            }
            Condition::IfMatch(v) => req.if_match(&v.0),
        };
        match req.send().await {
            Ok(out) => Ok(Version(out.e_tag().unwrap_or_default().to_string())),
            Err(e) => {
                let status = status_of(&e);
                let code = match &e {
                    SdkError::ServiceError(ctx) => ctx.err().code().map(str::to_string),
                    _ => None,
                };
                let lost_race = status == Some(412)
                    || code.as_deref() == Some("PreconditionFailed")
                    || code.as_deref() == Some("ConditionalRequestConflict")
                    || (status == Some(409) && code.as_deref() != Some("OperationAborted"));
                if lost_race {
                    Err(StoreError::PreconditionFailed {
                        location: self.locate(key),
                    })
                } else {
                    Err(io_error(self.locate(key), &e))
                }
            }
        }
    }

    fn scratch_dir(&self) -> PathBuf {
        std::env::temp_dir()
    }

    fn key_problem(&self, key: &str) -> Option<String> {
        (key.len() > S3_MAX_KEY_BYTES).then(|| {
            format!(
                "a key of {} bytes; S3 keys are at most {S3_MAX_KEY_BYTES}",
                key.len()
            )
        })
    }

    fn lists_in_parallel(&self) -> bool {
        true
    }
}
