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
    /// Its size in bytes, when the store says.
    pub size: Option<u64>,
    /// The S3 ETag without quotes (`None` for local files, or when S3
    /// gave none).
    pub etag: Option<String>,
}

pub async fn open(
    file: &XapiFile,
    s3: Option<&aws_sdk_s3::Client>,
    deadline: Option<tokio::time::Instant>,
) -> Result<Opened, XapiError> {
    open_version(file, s3, None, deadline).await
}

/// Open `file`; with `version`, only that version of it (S3 `If-Match`
/// on the ETag; a local file whose size or time changed fails), for
/// reading an object a second time.
/// Every read of it ends by `deadline` (a silent server fails it then).
pub async fn open_version(
    file: &XapiFile,
    s3: Option<&aws_sdk_s3::Client>,
    version: Option<&str>,
    deadline: Option<tokio::time::Instant>,
) -> Result<Opened, XapiError> {
    let late = || {
        XapiError::read(
            file.name(),
            "the run's deadline was reached while opening it",
            true,
        )
    };
    let mut opened = eventlog_store::deadline::within(deadline, open_unbounded(file, s3, version))
        .await
        .ok_or_else(late)??;
    if deadline.is_some() {
        opened.reader = Box::new(eventlog_store::deadline::BoundedRead::new(
            opened.reader,
            deadline,
        ));
    }
    Ok(opened)
}

async fn open_unbounded(
    file: &XapiFile,
    s3: Option<&aws_sdk_s3::Client>,
    version: Option<&str>,
) -> Result<Opened, XapiError> {
    match file {
        XapiFile::Local(p) => {
            let shown = p.display().to_string();
            // A named pipe or a device is refused, never waited on.
            let f = eventlog_store::local::open_regular(p)
                .map(tokio::fs::File::from_std)
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
            let found = format!("{}-{mtime}", meta.len());
            if version.is_some_and(|v| v != found) {
                return Err(XapiError::read(
                    &shown,
                    "the file changed while it was being loaded",
                    true,
                ));
            }
            Ok(Opened {
                reader: Box::new(BufReader::with_capacity(1 << 16, f)),
                version: found,
                size: Some(meta.len()),
                etag: None,
            })
        }
        XapiFile::S3 { bucket, key, .. } => {
            let name = file.name();
            let s3 = s3.ok_or_else(|| XapiError::read(&name, "no S3 client configured", false))?;
            let resp = s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .set_if_match(version.map(str::to_string))
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
            let size = resp.content_length().and_then(|n| u64::try_from(n).ok());
            Ok(Opened {
                // Already buffered (it hands out the body's own chunks):
                // a BufReader on top would copy every byte once more.
                reader: Box::new(resp.body.into_async_read()),
                etag: (!version.is_empty()).then(|| version.clone()),
                version,
                size,
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
        // memchr: a byte-at-a-time search here was 5-8 % of the loader's CPU.
        let (take, done) = match memchr::memchr(b'\n', chunk) {
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

/// The next line by the universal-newline rule (`\n`, `\r\n` and `\r`
/// end a line; the terminator is not kept), or `None` at the end. Lines
/// longer than `max` are read through and returned as `Err` with their
/// length.
pub async fn next_line_universal(
    r: &mut (dyn AsyncBufRead + Unpin + Send),
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<Result<(), usize>>> {
    buf.clear();
    let mut total = 0usize;
    let mut seen = false;
    loop {
        let chunk = r.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(seen.then_some(if total > max { Err(total) } else { Ok(()) }));
        }
        seen = true;
        match memchr::memchr2(b'\n', b'\r', chunk) {
            Some(i) => {
                let cr = chunk[i] == b'\r';
                if buf.len() + i <= max {
                    buf.extend_from_slice(&chunk[..i]);
                }
                total += i;
                r.consume(i + 1);
                if cr {
                    // A `\r\n` is one terminator, even across reads.
                    let next = r.fill_buf().await?;
                    if next.first() == Some(&b'\n') {
                        r.consume(1);
                    }
                }
                return Ok(Some(if total > max { Err(total) } else { Ok(()) }));
            }
            None => {
                let n = chunk.len();
                if buf.len() + n <= max {
                    buf.extend_from_slice(chunk);
                }
                total += n;
                r.consume(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits like `core::xapi::raw::lines`, whatever the read sizes.
    #[tokio::test]
    async fn universal_newlines_across_reads() {
        let text: &[u8] = b"a\r\nb\rc\n\nd\r\r\ne";
        let want: Vec<&[u8]> = eventlog_core::xapi::raw::lines(text)
            .map(|(_, l)| l)
            .collect();
        for cap in 1..6 {
            let mut r: Box<dyn AsyncBufRead + Unpin + Send> =
                Box::new(BufReader::with_capacity(cap, text));
            let mut buf = Vec::new();
            let mut got = Vec::new();
            while let Some(line) = next_line_universal(r.as_mut(), &mut buf, 100)
                .await
                .unwrap()
            {
                line.unwrap();
                got.push(buf.clone());
            }
            assert_eq!(got, want, "read size {cap}");
        }
        let mut r: Box<dyn AsyncBufRead + Unpin + Send> =
            Box::new(BufReader::new(&b"abcdef\nx"[..]));
        let mut buf = Vec::new();
        assert_eq!(
            next_line_universal(r.as_mut(), &mut buf, 3).await.unwrap(),
            Some(Err(6))
        );
        assert_eq!(
            next_line_universal(r.as_mut(), &mut buf, 3).await.unwrap(),
            Some(Ok(()))
        );
        assert_eq!(buf, b"x");
    }
}
