//! Expanding command-line paths into the files to read.

use std::path::{Path, PathBuf};

/// A path that could not be listed.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct WalkError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Files named directly are taken as they are; directories are walked
/// recursively for `*.json` files (any case), in name order so output is
/// stable. Unlistable entries are returned as errors beside the files.
pub fn json_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<WalkError>) {
    files_with_extension(paths, "json")
}

/// As [`json_files`], for `*.jsonl` (xAPI statement files).
pub fn jsonl_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<WalkError>) {
    files_with_extension(paths, "jsonl")
}

fn files_with_extension(paths: &[PathBuf], ext: &str) -> (Vec<PathBuf>, Vec<WalkError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        match std::fs::metadata(root) {
            Ok(m) if m.is_dir() => walk_dir(root, ext, &mut files, &mut errors),
            Ok(_) => files.push(root.clone()),
            Err(source) => errors.push(WalkError {
                path: root.clone(),
                source,
            }),
        }
    }
    (files, errors)
}

fn walk_dir(root: &Path, ext: &str, files: &mut Vec<PathBuf>, errors: &mut Vec<WalkError>) {
    for entry in walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
    {
        match entry {
            Ok(e) if e.file_type().is_file() && has_extension(e.path(), ext) => {
                files.push(e.into_path())
            }
            // A named pipe, socket or device named like a statement file
            // is reported, never opened (a pipe would block the run).
            Ok(e) if !e.file_type().is_dir() && has_extension(e.path(), ext) => {
                let source = std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "not a regular file ({}): not read",
                        eventlog_store::local::describe(&e.file_type())
                    ),
                );
                errors.push(WalkError {
                    path: e.into_path(),
                    source,
                });
            }
            Ok(_) => {}
            Err(e) => {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.to_path_buf());
                let source = e
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("filesystem loop"));
                errors.push(WalkError { path, source });
            }
        }
    }
}

/// A file's bytes, at most `limit` of them: a file that is larger, or is
/// not a regular file (never opened for reading in a way that could
/// wait), is an error that says so.
pub fn read_capped(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = eventlog_store::local::open_regular(path)?;
    let too_large = |n: u64| {
        std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("the file is {n} bytes, over the {limit}-byte limit (--max-object-bytes)"),
        )
    };
    let size = file.metadata()?.len();
    if size > limit {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The next line of `r` into `buf` (without its terminator), or `None` at
/// the end. With `universal`, `\r\n` and `\r` end a line too (the
/// raw-events target's rule); else only `\n`. A line longer than `max` is
/// read through and returned as `Err` with its length, keeping nothing of
/// it: memory stays bounded whatever the file holds.
pub fn next_line(
    r: &mut impl std::io::BufRead,
    buf: &mut Vec<u8>,
    max: usize,
    universal: bool,
) -> std::io::Result<Option<Result<(), usize>>> {
    buf.clear();
    let (mut total, mut seen) = (0usize, false);
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(seen.then_some(if total > max { Err(total) } else { Ok(()) }));
        }
        seen = true;
        let end = chunk
            .iter()
            .position(|&b| b == b'\n' || (universal && b == b'\r'));
        let take = end.unwrap_or(chunk.len());
        if total + take <= max {
            buf.extend_from_slice(&chunk[..take]);
        } else {
            buf.clear();
        }
        total += take;
        let Some(i) = end else {
            r.consume(take);
            continue;
        };
        let cr = chunk[i] == b'\r';
        r.consume(i + 1);
        if cr && r.fill_buf()?.first() == Some(&b'\n') {
            r.consume(1);
        }
        return Ok(Some(if total > max { Err(total) } else { Ok(()) }));
    }
}

fn has_extension(p: &Path, ext: &str) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_bounded_and_split_either_way() {
        let text: &[u8] = b"ab\r\ncdefgh\rx\n";
        let read = |universal: bool| {
            let mut r = std::io::BufReader::with_capacity(2, text);
            let mut buf = Vec::new();
            let mut out = Vec::new();
            while let Some(l) = next_line(&mut r, &mut buf, 4, universal).unwrap() {
                out.push(l.map(|()| String::from_utf8(buf.clone()).unwrap()));
            }
            out
        };
        assert_eq!(read(true), [Ok("ab".into()), Err(6), Ok("x".into())]);
        assert_eq!(read(false), [Ok("ab\r".into()), Err(8)]);
    }

    #[test]
    fn walks_directories_for_json_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        for f in ["a/b/2.json", "a/1.JSON", "a/notes.txt", "z.json"] {
            std::fs::write(dir.path().join(f), "{}").unwrap();
        }
        let explicit = dir.path().join("a/notes.txt");
        let (files, errors) = json_files(&[
            dir.path().to_path_buf(),
            explicit.clone(),
            dir.path().join("missing"),
        ]);
        let rel: Vec<String> = files
            .iter()
            .map(|f| {
                f.strip_prefix(dir.path())
                    .unwrap_or(f)
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(rel, ["a/1.JSON", "a/b/2.json", "z.json", "a/notes.txt"]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].path.ends_with("missing"));
    }
}
