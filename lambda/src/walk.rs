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
    let (first_file, first_error) = (files.len(), errors.len());
    // Walked unsorted, then sorted once by path components: the same order
    // as siblings sorted by name at every level, without walkdir's sort
    // taking each name apart again at every comparison (a sixth of
    // `validate DIR`'s time on 50 000 files).
    for entry in walkdir::WalkDir::new(root).follow_links(true) {
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
    let key = |p: &Path| components(p.strip_prefix(root).unwrap_or(p));
    files[first_file..].sort_by_cached_key(|p| key(p));
    errors[first_error..].sort_by_cached_key(|e| key(&e.path));
}

/// A path's components, owned, as the sort key of a walk (under its root,
/// so that the root's own components are not compared again and again).
fn components(p: &Path) -> Vec<std::ffi::OsString> {
    p.components().map(|c| c.as_os_str().to_owned()).collect()
}

/// A file's bytes into `bytes` (cleared first; one buffer serves a whole
/// walk), at most `limit` of them: a file that is larger, or is not a
/// regular file (never opened for reading in a way that could wait), is an
/// error that says so.
pub fn read_capped_into(path: &Path, limit: u64, bytes: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Read;
    bytes.clear();
    let (file, size) = eventlog_store::local::open_regular_sized(path)?;
    let too_large = |n: u64| {
        std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("the file is {n} bytes, over the {limit}-byte limit (--max-object-bytes)"),
        )
    };
    if size > limit {
        return Err(too_large(size));
    }
    bytes.reserve(size as usize);
    file.take(limit.saturating_add(1)).read_to_end(bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(())
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

/// `Path::extension` compared without case, on the bytes: a walk asks it
/// of every entry, and taking the path apart showed in profiles.
fn has_extension(p: &Path, ext: &str) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let b = p.as_os_str().as_bytes();
    let name = b.rsplit(|&c| c == b'/').next().unwrap_or(b);
    match name.iter().rposition(|&c| c == b'.') {
        // A leading dot starts a hidden name, not an extension.
        Some(i) if i > 0 => name[i + 1..].eq_ignore_ascii_case(ext.as_bytes()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_as_path_sees_them() {
        for p in [
            "a.json",
            "a.JSON",
            ".json",
            "..json",
            "a.json.txt",
            "a",
            "a.",
            "dir.json/x",
            "dir/x.Json",
            "x.jsonl",
            "/",
            "a/.json",
            "a..json",
        ] {
            let want = Path::new(p)
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
            assert_eq!(has_extension(Path::new(p), "json"), want, "{p}");
        }
    }

    #[test]
    fn files_come_in_the_order_of_a_walk_sorted_by_name() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "a/x.json",
            "a-b/y.json",
            "a.json",
            "A.json",
            "b/c/d.json",
            "b/c.json",
            "b.json",
            "a/x-y.json",
            "a/x.y.json",
            "a b/z.json",
            "é.json",
            "e.json",
        ] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "{}").unwrap();
        }
        let want: Vec<PathBuf> = walkdir::WalkDir::new(dir.path())
            .sort_by_file_name()
            .into_iter()
            .map(|e| e.unwrap().into_path())
            .filter(|p| p.is_file())
            .collect();
        let (got, errors) = json_files(&[dir.path().to_path_buf()]);
        assert!(errors.is_empty());
        assert_eq!(got, want);
    }

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
