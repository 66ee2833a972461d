//! Bulk loads: every statement file under a bucket prefix (optionally some
//! sections, optionally within dates), listed with the S3 store's
//! paginated listing and loaded like any other set of files.

use chrono::DateTime;
use eventlog_store::ObjectStore;
use eventlog_store::deadline::Bounded;
use eventlog_store::s3::S3Store;
pub use eventlog_trigger::xapi::{BulkRequest, DateSource, key_time};

use crate::files::XapiFile;
use crate::{LoadReport, Loader, XapiError, XapiSettings};

/// List the files a bulk request covers, sorted by key.
pub async fn list_bulk(
    s3: &aws_sdk_s3::Client,
    req: &BulkRequest,
    deadline: Option<tokio::time::Instant>,
) -> Result<Vec<XapiFile>, XapiError> {
    let base = req.prefix.trim_end_matches('/');
    let prefixes: Vec<String> = if req.section_ids.is_empty() {
        vec![if base.is_empty() {
            String::new()
        } else {
            format!("{base}/")
        }]
    } else {
        req.section_ids
            .iter()
            .map(|s| {
                if base.is_empty() {
                    format!("{s}/")
                } else {
                    format!("{base}/{s}/")
                }
            })
            .collect()
    };
    // The checkpoint pipeline's S3 listing: paginated, with ETags and times.
    let store = Bounded::new(S3Store::new(s3.clone(), req.bucket.clone()), deadline);
    let mut out = Vec::new();
    for prefix in prefixes {
        let objects = store.list(&prefix).await?;
        for o in objects.into_iter().filter(|o| o.key.ends_with(".jsonl")) {
            let modified = o.modified_micros.and_then(DateTime::from_timestamp_micros);
            let when = match req.date_source {
                DateSource::Key => key_time(&o.key).or(modified),
                DateSource::Modified => modified,
            };
            let day = when.map(|t| t.date_naive());
            let after_start = req.start_date.is_none_or(|s| day.is_some_and(|d| d >= s));
            let before_end = req.end_date.is_none_or(|e| day.is_some_and(|d| d <= e));
            if after_start && before_end {
                let etag = o.version.0.trim_matches('"');
                out.push(XapiFile::S3 {
                    bucket: req.bucket.clone(),
                    etag: (!etag.is_empty()).then(|| etag.to_string()),
                    key: o.key,
                });
            }
        }
    }
    out.sort_by_key(|f| f.name());
    Ok(out)
}

/// What a bulk request did.
#[derive(Debug)]
pub enum BulkOutcome {
    /// `dry_run`: what would load.
    DryRun { files: Vec<XapiFile> },
    Loaded {
        files_found: usize,
        report: Box<LoadReport>,
    },
}

/// List and load a bulk request (or only list it, for a dry run). With
/// `force_reprocess`, the load gets new deduplication tokens, so what
/// ClickHouse remembers loading is inserted again.
pub async fn run_bulk(loader: &Loader<'_>, req: &BulkRequest) -> Result<BulkOutcome, XapiError> {
    let s3 = loader.s3.ok_or_else(|| {
        XapiError::read(
            format!("s3://{}", req.bucket),
            "no S3 client configured",
            false,
        )
    })?;
    let files = list_bulk(s3, req, loader.deadline).await?;
    if req.dry_run {
        return Ok(BulkOutcome::DryRun { files });
    }
    let files_found = files.len();
    let salted;
    let forced;
    let loader = if req.force_reprocess {
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(|e| {
            crate::ConfigError::new("force_reprocess", format!("needs a random nonce: {e}"))
        })?;
        salted = XapiSettings {
            token_salt: Some(hex::encode(nonce)),
            ..loader.settings.clone()
        };
        forced = Loader {
            ch: loader.ch,
            s3: loader.s3,
            settings: &salted,
            deadline: loader.deadline,
        };
        &forced
    } else {
        loader
    };
    let report = loader.load(files).await;
    Ok(BulkOutcome::Loaded {
        files_found,
        report: Box::new(report),
    })
}
