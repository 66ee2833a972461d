//! Where a scenario's source files and checkpoints live. The same scenarios
//! run against a local directory and against an S3 server.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::rows;

pub trait Backend {
    fn name(&self) -> &'static str;
    /// `--source` and `--checkpoints` arguments.
    fn source_arg(&self) -> String;
    fn checkpoints_arg(&self) -> String;
    /// Extra environment for the binary (endpoints, credentials).
    fn env(&self) -> Vec<(String, String)>;
    /// Put a source object (key relative to the source root).
    fn put_source(&self, key: &str, bytes: &[u8]);
    /// The key the pipeline records for a source object (ledger, errors
    /// files): relative to the source root locally, the full key on S3.
    fn recorded_key(&self, rel: &str) -> String {
        rel.to_string()
    }
    /// An object that cannot be read, if the backend can make one.
    fn put_unreadable(&self, key: &str) -> bool;
    /// A source object whose name is not UTF-8 (bytes relative to the source
    /// root), if the backend can have one; returns the key it is listed as.
    fn put_source_raw_name(&self, _name: &[u8], _bytes: &[u8]) -> Option<String> {
        None
    }
    /// Overwrite a checkpoint-side object (key relative to the checkpoint root).
    fn put_checkpoint(&self, key: &str, bytes: &[u8]);
    /// Checkpoint objects: key (relative to the checkpoint root) to bytes.
    fn checkpoint_objects(&self) -> BTreeMap<String, Vec<u8>>;
    /// Delete a checkpoint-side object.
    fn delete_checkpoint(&self, key: &str);
}

impl dyn Backend + '_ {
    /// Copy a directory tree of source files.
    pub fn put_tree(&self, dir: &Path) {
        for entry in walk(dir) {
            let rel = entry
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            self.put_source(&rel, &std::fs::read(&entry).unwrap());
        }
    }

    /// Run `eventlog checkpoint --json` and parse its summary.
    pub fn run(&self, extra_env: &[(&str, &str)]) -> (Output, Option<Value>) {
        let out = self.command(extra_env).output().expect("run eventlog");
        let summary = serde_json::from_slice(&out.stdout).ok();
        (out, summary)
    }

    /// Run `eventlog checkpoint --json` with more arguments and, when
    /// given, text on stdin.
    pub fn run_args(
        &self,
        args: &[&str],
        extra_env: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> (Output, Option<Value>) {
        use std::io::Write;
        let mut cmd = self.command(extra_env);
        cmd.args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("run eventlog");
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
        drop(input);
        let out = child.wait_with_output().unwrap();
        let summary = serde_json::from_slice(&out.stdout).ok();
        (out, summary)
    }

    pub fn command(&self, extra_env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(crate::bin("eventlog"));
        cmd.args([
            "checkpoint",
            "--json",
            "--source",
            &self.source_arg(),
            "--checkpoints",
            &self.checkpoints_arg(),
        ]);
        cmd.env_remove("EVENTLOG_CRASH_AT");
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Checkpoint rows per group path (`study/datatype`), file order.
    pub fn rows(&self) -> BTreeMap<String, Vec<Value>> {
        self.checkpoint_objects()
            .into_iter()
            .filter(|(k, _)| k.ends_with("/events.parquet") && !k.contains("_eventlog"))
            .map(|(k, bytes)| {
                (
                    k.trim_end_matches("/events.parquet").to_string(),
                    rows::checkpoint_rows(bytes),
                )
            })
            .collect()
    }

    /// The ledger's state, read the way its format defines it: the
    /// highest snapshot, then every segment after it in order (later
    /// entries win); a single-file ledger when there is no snapshot.
    pub fn ledger(&self) -> BTreeMap<String, (String, String)> {
        let objects = self.checkpoint_objects();
        let numbered = |dir: &str| -> BTreeMap<u64, Vec<u8>> {
            objects
                .iter()
                .filter_map(|(k, b)| {
                    let (_, name) = k.split_once(&format!("_eventlog/ledger/{dir}/"))?;
                    let seq = name.strip_suffix(".parquet")?.parse().ok()?;
                    Some((seq, b.clone()))
                })
                .collect()
        };
        let (snapshots, segments) = (numbered("snapshots"), numbered("segments"));
        let (mut state, from) = match snapshots.into_iter().next_back() {
            Some((seq, bytes)) => (rows::ledger_rows(bytes), seq),
            None => (
                objects
                    .iter()
                    .find(|(k, _)| k.ends_with("_eventlog/ledger.parquet"))
                    .map(|(_, b)| rows::ledger_rows(b.clone()))
                    .unwrap_or_default(),
                0,
            ),
        };
        for (expect, (seq, bytes)) in (from + 1..).zip(segments.range(from + 1..)) {
            let gapless = *seq == expect;
            assert!(gapless, "[{}] ledger segments have no gaps", self.name());
            state.extend(rows::ledger_rows(bytes.clone()));
        }
        state
    }

    /// The ledger's objects (segments, snapshots, hint, single file).
    pub fn ledger_objects(&self) -> BTreeMap<String, Vec<u8>> {
        self.checkpoint_objects()
            .into_iter()
            .filter(|(k, _)| k.contains("_eventlog/ledger"))
            .collect()
    }

    /// Checkpoint and ledger bytes, to tell whether anything was rewritten.
    pub fn state_fingerprint(&self) -> BTreeMap<String, Vec<u8>> {
        self.checkpoint_objects()
            .into_iter()
            .filter(|(k, _)| k.ends_with(".parquet"))
            .collect()
    }

    pub fn errors_files(&self) -> Vec<(String, String)> {
        self.checkpoint_objects()
            .into_iter()
            .filter(|(k, _)| k.contains("_eventlog/errors/"))
            .map(|(k, b)| (k, String::from_utf8(b).unwrap()))
            .collect()
    }
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A local directory pair in a temp dir: the embedded default.
pub struct LocalBackend {
    pub dir: tempfile::TempDir,
}

impl LocalBackend {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("events")).unwrap();
        LocalBackend { dir }
    }
    pub fn source(&self) -> PathBuf {
        self.dir.path().join("events")
    }
    pub fn checkpoints(&self) -> PathBuf {
        self.dir.path().join("checkpoints")
    }
}

impl Default for LocalBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl Backend for LocalBackend {
    fn name(&self) -> &'static str {
        "local"
    }
    fn source_arg(&self) -> String {
        self.source().display().to_string()
    }
    fn checkpoints_arg(&self) -> String {
        self.checkpoints().display().to_string()
    }
    fn env(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn put_source(&self, key: &str, bytes: &[u8]) {
        let p = self.source().join(key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    fn put_unreadable(&self, key: &str) -> bool {
        // Root reads anything, so use a dangling symlink: listed, unreadable.
        let p = self.source().join(key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(self.dir.path().join("does-not-exist"), p).unwrap();
        true
    }
    fn put_source_raw_name(&self, name: &[u8], bytes: &[u8]) -> Option<String> {
        use std::os::unix::ffi::OsStrExt;
        let p = self.source().join(std::ffi::OsStr::from_bytes(name));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        // Listed with each byte of an invalid sequence as `\xNN`.
        let mut key = String::new();
        for chunk in name.utf8_chunks() {
            key.push_str(chunk.valid());
            for b in chunk.invalid() {
                key.push_str(&format!("\\x{b:02X}"));
            }
        }
        Some(key)
    }
    fn put_checkpoint(&self, key: &str, bytes: &[u8]) {
        let p = self.checkpoints().join(key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    fn delete_checkpoint(&self, key: &str) {
        std::fs::remove_file(self.checkpoints().join(key)).unwrap();
    }
    fn checkpoint_objects(&self) -> BTreeMap<String, Vec<u8>> {
        let root = self.checkpoints();
        if !root.exists() {
            return BTreeMap::new();
        }
        walk(&root)
            .into_iter()
            .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .map(|p| {
                (
                    p.strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect()
    }
}
