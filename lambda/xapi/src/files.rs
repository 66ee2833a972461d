//! The JSONL files to load and reading them line by line.

use std::path::PathBuf;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};

use crate::XapiError;

/// One file of statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XapiFile {
    Local(PathBuf),
    S3 {
        bucket: String,
        key: String,
        etag: Option<String>,
    },
}

impl XapiFile {
    /// `s3://bucket/key` or the path.
    pub fn name(&self) -> String {
        match self {
            XapiFile::Local(p) => p.display().to_string(),
            XapiFile::S3 { bucket, key, .. } => format!("s3://{bucket}/{key}"),
        }
    }

    /// Whether the loader reads it: statements are in `.jsonl` files only.
    pub fn is_jsonl(&self) -> bool {
        match self {
            XapiFile::Local(p) => p.to_string_lossy().ends_with(".jsonl"),
            XapiFile::S3 { key, .. } => key.ends_with(".jsonl"),
        }
    }

    /// `s3://bucket/key`, or else a local path.
    pub fn parse(s: &str) -> XapiFile {
        match s.strip_prefix("s3://").and_then(|r| r.split_once('/')) {
            Some((bucket, key)) => XapiFile::S3 {
                bucket: bucket.to_string(),
                key: key.to_string(),
                etag: None,
            },
            None => XapiFile::Local(PathBuf::from(s)),
        }
    }
}

/// An open file: its lines, and an identity of this version of its content
/// (for deduplication tokens).
pub struct Opened {
    pub reader: Box<dyn AsyncBufRead + Unpin + Send>,
    pub version: String,
}

pub async fn open(file: &XapiFile, s3: Option<&aws_sdk_s3::Client>) -> Result<Opened, XapiError> {
    match file {
        XapiFile::Local(p) => {
            let shown = p.display().to_string();
            let f = tokio::fs::File::open(p)
                .await
                .map_err(|e| XapiError::read(&shown, e, false))?;
            let meta = f
                .metadata()
                .await
                .map_err(|e| XapiError::read(&shown, e, false))?;
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            Ok(Opened {
                reader: Box::new(BufReader::with_capacity(1 << 16, f)),
                version: format!("{}-{mtime}", meta.len()),
            })
        }
        XapiFile::S3 { bucket, key, .. } => {
            let name = file.name();
            let s3 = s3.ok_or_else(|| XapiError::read(&name, "no S3 client configured", false))?;
            let resp = s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| {
                    let retryable = !matches!(&e, aws_sdk_s3::error::SdkError::ServiceError(c) if c.err().is_no_such_key());
                    XapiError::read(&name, aws_sdk_s3::error::DisplayErrorContext(&e), retryable)
                })?;
            let version = resp
                .e_tag()
                .unwrap_or_default()
                .trim_matches('"')
                .to_string();
            Ok(Opened {
                reader: Box::new(BufReader::with_capacity(
                    1 << 16,
                    resp.body.into_async_read(),
                )),
                version,
            })
        }
    }
}

/// The next line (without its newline), or `None` at the end. Lines longer
/// than `max` are read through and returned as `Err` with their length.
pub async fn next_line(
    r: &mut (dyn AsyncBufRead + Unpin + Send),
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<Result<(), usize>>> {
    buf.clear();
    let mut total = 0usize;
    loop {
        let chunk = r.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(if total == 0 {
                None
            } else if total > max {
                Some(Err(total))
            } else {
                Some(Ok(()))
            });
        }
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let piece = &chunk[..take];
        let piece = if done {
            &piece[..piece.len() - 1]
        } else {
            piece
        };
        if buf.len() + piece.len() <= max {
            buf.extend_from_slice(piece);
        }
        total += take;
        r.consume(take);
        if done {
            return Ok(Some(if total - 1 > max {
                Err(total - 1)
            } else {
                Ok(())
            }));
        }
    }
}
