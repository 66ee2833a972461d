//! The JSONL files to load and reading them line by line.

use std::ops::ControlFlow;
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
/// The loaders read with [`each_line`]; this one-line-at-a-time reader is
/// kept as the plain statement of the rule that [`each_line`] is tested
/// against.
#[cfg(test)]
async fn next_line(
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
/// length. Test-only, like [`next_line`].
#[cfg(test)]
async fn next_line_universal(
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

/// Where lines end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Newlines {
    /// At `\n` only (the five-table target).
    Lf,
    /// At `\n`, `\r\n` and `\r` (the raw-events target).
    Universal,
}

/// Every line, cut where `newlines` says,
/// handed to `each` as it is read: `Ok(line)`, or `Err(length)` for a line
/// over `max`. A line that lies within one read is lent from the reader's
/// own buffer; only one split across reads is gathered in `buf` (copying
/// every line was a gigabyte of copies per million statements). `each`
/// stops the walk with `Break`, which is returned.
pub async fn each_line<B>(
    r: &mut (dyn AsyncBufRead + Unpin + Send),
    buf: &mut Vec<u8>,
    max: usize,
    newlines: Newlines,
    mut each: impl FnMut(Result<&[u8], usize>) -> ControlFlow<B>,
) -> std::io::Result<ControlFlow<B>> {
    buf.clear();
    let mut line = Gathered {
        buf,
        total: 0,
        partial: false,
        max,
    };
    // The last read ended on `\r`: a `\n` starting the next one belongs to
    // that terminator.
    let mut after_cr = false;
    loop {
        let chunk = r.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(if line.partial {
                line.hand(&mut each)
            } else {
                ControlFlow::Continue(())
            });
        }
        let mut at = usize::from(std::mem::take(&mut after_cr) && chunk[0] == b'\n');
        while at < chunk.len() {
            let rest = &chunk[at..];
            let found = match newlines {
                Newlines::Lf => memchr::memchr(b'\n', rest),
                Newlines::Universal => memchr::memchr2(b'\n', b'\r', rest),
            };
            let Some(i) = found else {
                line.add(rest);
                break;
            };
            let flow = if line.partial {
                line.add(&rest[..i]);
                line.hand(&mut each)
            } else if i > max {
                each(Err(i))
            } else {
                each(Ok(&rest[..i]))
            };
            let end = at + i;
            at = end + 1;
            if chunk[end] == b'\r' {
                match chunk.get(at) {
                    Some(b'\n') => at += 1,
                    Some(_) => {}
                    None => after_cr = true,
                }
            }
            if let ControlFlow::Break(b) = flow {
                let used = at.min(chunk.len());
                r.consume(used);
                if after_cr && r.fill_buf().await?.first() == Some(&b'\n') {
                    // Leave the reader after the whole terminator, so that
                    // a walk started again goes on from the next line.
                    r.consume(1);
                }
                return Ok(ControlFlow::Break(b));
            }
        }
        let n = chunk.len();
        r.consume(n);
    }
}

/// A line being gathered across reads: `buf` stops growing past `max`,
/// `total` counts every byte of it.
struct Gathered<'b> {
    buf: &'b mut Vec<u8>,
    total: usize,
    partial: bool,
    max: usize,
}

impl Gathered<'_> {
    fn add(&mut self, piece: &[u8]) {
        if self.buf.len() + piece.len() <= self.max {
            self.buf.extend_from_slice(piece);
        }
        self.total += piece.len();
        self.partial = true;
    }

    /// The line, or its length when over `max`, handed to `each`; then
    /// gathering starts again.
    fn hand<B>(
        &mut self,
        each: &mut impl FnMut(Result<&[u8], usize>) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let flow = each(if self.total > self.max {
            Err(self.total)
        } else {
            Ok(&self.buf[..])
        });
        self.buf.clear();
        self.total = 0;
        self.partial = false;
        flow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lent or gathered, the lines and verdicts are those of
    /// `next_line_universal`, whatever the read sizes; `Break` stops it.
    #[tokio::test]
    async fn each_line_agrees_with_next_line() {
        let texts: [&[u8]; 6] = [
            b"a\r\nb\rc\n\nd\r\r\ne",
            b"abcdef\nx",
            b"\r\n\r\n",
            b"long line here\rshort\r",
            b"",
            b"no terminator at all",
        ];
        for text in texts {
            for cap in 1..9 {
                for max in [3, 5, 100] {
                    for newlines in [Newlines::Lf, Newlines::Universal] {
                        let mut want = Vec::new();
                        let mut r: Box<dyn AsyncBufRead + Unpin + Send> =
                            Box::new(BufReader::with_capacity(cap, text));
                        let mut buf = Vec::new();
                        loop {
                            let line = match newlines {
                                Newlines::Lf => next_line(r.as_mut(), &mut buf, max).await,
                                Newlines::Universal => {
                                    next_line_universal(r.as_mut(), &mut buf, max).await
                                }
                            };
                            let Some(line) = line.unwrap() else { break };
                            want.push(line.map(|()| buf.clone()));
                        }
                        let mut got = Vec::new();
                        let mut r: Box<dyn AsyncBufRead + Unpin + Send> =
                            Box::new(BufReader::with_capacity(cap, text));
                        let flow = each_line(r.as_mut(), &mut buf, max, newlines, |line| {
                            got.push(line.map(<[u8]>::to_vec));
                            ControlFlow::<()>::Continue(())
                        })
                        .await
                        .unwrap();
                        assert_eq!(flow, ControlFlow::Continue(()));
                        assert_eq!(
                            got, want,
                            "{newlines:?} {text:?}, read size {cap}, max {max}"
                        );
                    }
                }
            }
        }
        let mut r: Box<dyn AsyncBufRead + Unpin + Send> =
            Box::new(BufReader::with_capacity(4, &b"a\nb\nc\n"[..]));
        let mut seen = 0;
        let flow = each_line(
            r.as_mut(),
            &mut Vec::new(),
            10,
            Newlines::Universal,
            |line| {
                seen += 1;
                if line == Ok(&b"b"[..]) {
                    ControlFlow::Break(seen)
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .await
        .unwrap();
        assert_eq!(flow, ControlFlow::Break(2));
        // Walks started again after every line add up to one walk, a
        // `\r\n` split across reads included.
        let text = b"a\r\nb\rc\n\nd\r\r\ne";
        let want: Vec<&[u8]> = eventlog_core::xapi::raw::lines(text)
            .map(|(_, l)| l)
            .collect();
        for cap in 1..6 {
            let mut r: Box<dyn AsyncBufRead + Unpin + Send> =
                Box::new(BufReader::with_capacity(cap, &text[..]));
            let mut got = Vec::new();
            let mut buf = Vec::new();
            while each_line(r.as_mut(), &mut buf, 10, Newlines::Universal, |line| {
                got.push(line.unwrap().to_vec());
                ControlFlow::Break(())
            })
            .await
            .unwrap()
            .is_break()
            {}
            assert_eq!(got, want, "read size {cap}");
        }
    }

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
