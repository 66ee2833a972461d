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

fn has_extension(p: &Path, ext: &str) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

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
