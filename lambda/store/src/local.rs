//! A local directory as an object store (the embedded default).
//!
//! Keys are paths relative to the root with `/` separators. Writes go to a
//! temporary file in the same filesystem, then, under an exclusive lock on a
//! sibling `.lock` file, the current content is compared with the version
//! the writer read and the temporary file is renamed over the target.
//! Versions of written objects are SHA-256 content hashes, so the check is
//! exact whatever the clock or the filesystem's timestamp resolution.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::Digest;

use super::sorted_walk::{PAGE, Walk};
use super::{
    Body, Condition, ListRequest, Object, ObjectMeta, ObjectStore, Page, StoreError, Version,
};

#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
    page: usize,
    parallel: bool,
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalStore {
            root: root.into(),
            page: PAGE,
            parallel: false,
        }
    }

    /// Listed as S3 is, in concurrent key ranges (tests of range listing).
    pub fn with_parallel_listing(mut self, on: bool) -> Self {
        self.parallel = on;
        self
    }

    /// Listing pages of at most `n` entries (tests use tiny ones).
    pub fn with_page_size(mut self, n: usize) -> Self {
        self.page = n.max(1);
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> PathBuf {
        let mut p = self.root.clone();
        for part in key.split('/').filter(|s| !s.is_empty()) {
            p.push(part);
        }
        p
    }

    /// The file behind a key: every `\xNN` in it stands for the byte NN
    /// (how names that are not UTF-8 are listed, and how a name's own
    /// `\x` text is written), so two names never share a key.
    fn resolve(&self, key: &str) -> PathBuf {
        if !key.contains("\\x") {
            return self.path(key);
        }
        let mut p = self.root.clone();
        for part in key.split('/').filter(|s| !s.is_empty()) {
            p.push(std::ffi::OsStr::from_bytes(&unescape_name(part)));
        }
        p
    }
}

/// A file name as key text: UTF-8 as is, every byte of an invalid
/// sequence as `\xNN`, so such a file is listed, read and reported under
/// a name people can read instead of vanishing. A backslash that would
/// read as such an escape (`\x` and two hex digits in the name itself) is
/// written `\x5C`, so a name holding the text `\xFF` and one holding the
/// byte 0xFF get different keys.
fn escape_name(name: &std::ffi::OsStr) -> String {
    let bytes = name.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let mut rest = valid;
        while let Some(i) = rest.find('\\') {
            out.push_str(&rest[..i]);
            let after = &rest.as_bytes()[i + 1..];
            let escape_like = after.first() == Some(&b'x')
                && after.len() >= 3
                && after[1].is_ascii_hexdigit()
                && after[2].is_ascii_hexdigit();
            out.push_str(if escape_like { "\\x5C" } else { "\\" });
            rest = &rest[i + 1..];
        }
        out.push_str(rest);
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

fn unescape_name(part: &str) -> Vec<u8> {
    let b = part.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 2..i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') => {
                out.push(byte);
                i += 4;
            }
            _ => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    out
}

/// A listing fingerprint: changes whenever the file is rewritten, without
/// reading it. `ctime` cannot be set by users, unlike `mtime`.
fn fingerprint(meta: &fs::Metadata) -> Version {
    Version(format!(
        "{}-{}.{}-{}",
        meta.size(),
        meta.ctime(),
        meta.ctime_nsec(),
        meta.ino()
    ))
}

fn modified_micros(meta: &fs::Metadata) -> Option<i64> {
    meta.modified().ok().and_then(|t| {
        t.duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_micros() as i64)
    })
}

fn hash_file(file: &mut File) -> std::io::Result<Version> {
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(Version(hex::encode(hasher.finalize())))
}

fn not_found(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::NotFound
}

/// Open a regular file for reading. Anything else (a named pipe, a
/// socket, a device) is an `InvalidInput` error saying what it is, and is
/// never waited on: the open does not block (`O_NONBLOCK`, which changes
/// nothing for a regular file), and the type is checked on the handle.
pub fn open_regular(path: &Path) -> std::io::Result<File> {
    open_regular_sized(path).map(|(file, _)| file)
}

/// As [`open_regular`], with the file's size from the same `fstat`.
pub fn open_regular_sized(path: &Path) -> std::io::Result<(File, u64)> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok((file, meta.len()));
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("not a regular file ({}): not read", describe(&kind)),
    ))
}

/// What a file that is not a regular file is, in words.
pub fn describe(kind: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a named pipe"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_dir() {
        "a directory"
    } else {
        "not a plain file"
    }
}

/// Open `path`; `None` when nothing is there. A dangling symlink is an
/// error (a file a user meant to be there is missing), but a file that
/// appears between the failed open and the check (another writer's rename
/// landing) is opened, not reported as an error.
fn open_existing(path: &Path) -> Result<Option<File>, StoreError> {
    for _ in 0..3 {
        match open_regular(path) {
            Ok(f) => return Ok(Some(f)),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                return Err(StoreError::io(path.display(), e));
            }
            Err(e) if not_found(&e) => match fs::symlink_metadata(path) {
                Err(_) => return Ok(None),
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(StoreError::io(path.display(), e));
                }
                Ok(_) => continue,
            },
            Err(e) => return Err(StoreError::io(path.display(), e)),
        }
    }
    Err(StoreError::io(
        path.display(),
        "kept appearing and vanishing",
    ))
}

impl LocalStore {
    /// A page of keys in S3's order (see [`crate::sorted_walk`]).
    fn list_page_blocking(&self, req: &ListRequest) -> Result<Page, StoreError> {
        let meta = |path: &Path, key: String| -> Result<ObjectMeta, StoreError> {
            // A dangling symlink is still listed: reading it then fails and
            // is reported, instead of the file silently vanishing.
            let meta = fs::metadata(path).or_else(|_| fs::symlink_metadata(path));
            let meta = meta.map_err(|e| StoreError::io(path.display(), e))?;
            Ok(ObjectMeta {
                key,
                size: meta.len(),
                version: fingerprint(&meta),
                modified_micros: modified_micros(&meta),
            })
        };
        let mut walk = Walk {
            req,
            budget: self.page,
            resume: Walk::start(req)?,
            page: Page::default(),
            more: false,
            meta: &meta,
            escape: &escape_name,
        };
        walk.visit(&self.root, "")?;
        if walk.budget == 0 || walk.more {
            walk.page.next = walk.resume.as_ref().map(|r| r.token());
        }
        Ok(walk.page)
    }

    fn head_blocking(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        let path = self.resolve(key);
        match fs::metadata(&path) {
            Ok(meta) => Ok(Some(ObjectMeta {
                key: key.to_string(),
                size: meta.len(),
                version: fingerprint(&meta),
                modified_micros: modified_micros(&meta),
            })),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(StoreError::io(path.display(), e)),
        }
    }

    fn get_blocking(&self, key: &str, limit: u64) -> Result<Option<Object>, StoreError> {
        let path = self.resolve(key);
        let Some(mut file) = open_existing(&path)? else {
            return Ok(None);
        };
        let meta = file
            .metadata()
            .map_err(|e| StoreError::io(path.display(), e))?;
        if meta.len() > limit {
            return Err(StoreError::TooLarge {
                location: path.display().to_string(),
                size: meta.len(),
                limit,
            });
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        (&mut file)
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| StoreError::io(path.display(), e))?;
        if bytes.len() as u64 > limit {
            return Err(StoreError::TooLarge {
                location: path.display().to_string(),
                size: bytes.len() as u64,
                limit,
            });
        }
        let version = Version(super::sha256_hex(&bytes));
        Ok(Some(Object { bytes, version }))
    }

    fn get_to_file_blocking(&self, key: &str, dest: &Path) -> Result<Option<Version>, StoreError> {
        let path = self.resolve(key);
        let mut file = match open_regular(&path) {
            Ok(f) => f,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(StoreError::io(path.display(), e)),
        };
        // Hash and copy through the same open handle: the inode cannot be
        // swapped underneath between the two.
        let mut out = File::create(dest).map_err(|e| StoreError::io(dest.display(), e))?;
        let mut hasher = sha2::Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file
                .read(&mut buf)
                .map_err(|e| StoreError::io(path.display(), e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(|e| StoreError::io(dest.display(), e))?;
        }
        out.sync_all()
            .map_err(|e| StoreError::io(dest.display(), e))?;
        Ok(Some(Version(hex::encode(hasher.finalize()))))
    }

    fn put_blocking(
        &self,
        key: &str,
        body: Body,
        condition: Condition,
    ) -> Result<Version, StoreError> {
        let target = self.resolve(key);
        let dir = target
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.root.clone());
        fs::create_dir_all(&dir).map_err(|e| StoreError::io(dir.display(), e))?;
        let (staged, version) = stage(&dir, &target, body)?;
        crash_point("staged");
        let lock_path = lock_path(&target);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::io(lock_path.display(), e))?;
        lock.lock()
            .map_err(|e| StoreError::io(lock_path.display(), e))?;
        let current = match File::open(&target) {
            Ok(mut f) => Some(hash_file(&mut f).map_err(|e| StoreError::io(target.display(), e))?),
            Err(e) if not_found(&e) => None,
            Err(e) => return Err(StoreError::io(target.display(), e)),
        };
        let holds = match (&condition, &current) {
            (Condition::IfAbsent, None) => true,
            (Condition::IfMatch(want), Some(have)) => want == have,
            _ => false,
        };
        if !holds {
            return Err(StoreError::PreconditionFailed {
                location: target.display().to_string(),
            });
        }
        staged
            .persist(&target)
            .map_err(|e| StoreError::io(target.display(), e.error))?;
        // Make the rename itself durable before reporting success. If that
        // fails the write is not known to be durable, so the put fails: the
        // caller retries, and a merge that finds its events already there
        // writes nothing.
        File::open(&dir).and_then(|d| sync_dir(&d)).map_err(|e| {
            StoreError::io(
                format!("{} (syncing the folder after the rename)", dir.display()),
                e,
            )
        })?;
        drop(lock);
        Ok(version)
    }
}

/// The new content in a temporary file next to `target` (same filesystem,
/// so the rename is atomic), synced, with the mode of the file it replaces
/// (or the usual 0644), and its content hash as the version.
fn stage(
    dir: &Path,
    target: &Path,
    body: Body,
) -> Result<(tempfile::NamedTempFile, Version), StoreError> {
    let mut staged = tempfile::Builder::new()
        .prefix(crate::leftovers::STAGED_PREFIX)
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| StoreError::io(dir.display(), e))?;
    // Locked while this process lives: the next run's sweep then knows a
    // live write from a dead run's leftover.
    crate::leftovers::hold(staged.as_file())
        .map_err(|e| StoreError::io(staged.path().display(), e))?;
    let version = match body {
        Body::Bytes(bytes) => {
            staged
                .write_all(&bytes)
                .map_err(|e| StoreError::io(staged.path().display(), e))?;
            Version(super::sha256_hex(&bytes))
        }
        Body::File(src) => {
            let mut f = File::open(&src).map_err(|e| StoreError::io(src.display(), e))?;
            let mut hasher = sha2::Sha256::new();
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = f
                    .read(&mut buf)
                    .map_err(|e| StoreError::io(src.display(), e))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                staged
                    .write_all(&buf[..n])
                    .map_err(|e| StoreError::io(staged.path().display(), e))?;
            }
            Version(hex::encode(hasher.finalize()))
        }
    };
    // Temp files are created 0600; a checkpoint keeps the mode of the
    // file it replaces, or gets the usual 0644.
    let mode = fs::metadata(target)
        .map(|m| m.permissions())
        .unwrap_or_else(|_| {
            use std::os::unix::fs::PermissionsExt;
            fs::Permissions::from_mode(0o644)
        });
    staged
        .as_file()
        .set_permissions(mode)
        .map_err(|e| StoreError::io(staged.path().display(), e))?;
    staged
        .as_file()
        .sync_all()
        .map_err(|e| StoreError::io(staged.path().display(), e))?;
    Ok((staged, version))
}

/// `EVENTLOG_CRASH_AT=staged` (test builds): abort with the new content
/// staged and not yet renamed, as a killed process would leave it.
fn crash_point(name: &str) {
    #[cfg(feature = "fault-injection")]
    if std::env::var("EVENTLOG_CRASH_AT").is_ok_and(|v| v == name) {
        eprintln!("eventlog: crash injected at `{name}` (EVENTLOG_CRASH_AT)");
        std::process::abort();
    }
    #[cfg(not(feature = "fault-injection"))]
    let _ = name;
}

/// The longest file name and path Linux file systems take.
const NAME_MAX: usize = 255;
const PATH_MAX: usize = 4095;

fn sync_dir(d: &File) -> std::io::Result<()> {
    #[cfg(feature = "fault-injection")]
    if std::env::var("EVENTLOG_FAIL_DIR_SYNC").is_ok_and(|v| v == "1") {
        return Err(std::io::Error::other(
            "folder sync failed (EVENTLOG_FAIL_DIR_SYNC)",
        ));
    }
    d.sync_all()
}

fn lock_path(target: &Path) -> PathBuf {
    // Hidden, so globs like `*/*/*.parquet` and directory listings stay clean.
    let mut name = std::ffi::OsString::from(".");
    name.push(target.file_name().unwrap_or_default());
    name.push(".lock");
    target.with_file_name(name)
}

impl ObjectStore for LocalStore {
    fn locate(&self, key: &str) -> String {
        self.resolve(key).display().to_string()
    }

    async fn list_page(&self, req: &ListRequest) -> Result<Page, StoreError> {
        let me = self.clone();
        let req = req.clone();
        blocking(move || me.list_page_blocking(&req)).await
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        let me = self.clone();
        let key = key.to_string();
        blocking(move || me.head_blocking(&key)).await
    }

    async fn get_range(&self, key: &str, start: u64, len: u64) -> Result<Vec<u8>, StoreError> {
        let me = self.clone();
        let key = key.to_string();
        blocking(move || {
            use std::io::Seek;
            let path = me.resolve(&key);
            let mut f = File::open(&path).map_err(|e| StoreError::io(path.display(), e))?;
            f.seek(std::io::SeekFrom::Start(start))
                .map_err(|e| StoreError::io(path.display(), e))?;
            let mut out = Vec::with_capacity(len.min(1 << 26) as usize);
            f.take(len)
                .read_to_end(&mut out)
                .map_err(|e| StoreError::io(path.display(), e))?;
            Ok(out)
        })
        .await
    }

    async fn get(&self, key: &str, limit: u64) -> Result<Option<Object>, StoreError> {
        let me = self.clone();
        let key = key.to_string();
        blocking(move || me.get_blocking(&key, limit)).await
    }

    async fn get_to_file(&self, key: &str, dest: &Path) -> Result<Option<Version>, StoreError> {
        let me = self.clone();
        let key = key.to_string();
        let dest = dest.to_path_buf();
        blocking(move || me.get_to_file_blocking(&key, &dest)).await
    }

    async fn put(
        &self,
        key: &str,
        body: Body,
        condition: Condition,
    ) -> Result<Version, StoreError> {
        let me = self.clone();
        let key = key.to_string();
        blocking(move || me.put_blocking(&key, body, condition)).await
    }

    fn lists_in_parallel(&self) -> bool {
        self.parallel
    }

    fn scratch_dir(&self) -> PathBuf {
        std::env::temp_dir()
    }

    fn staging_root(&self, prefix: &str) -> Option<PathBuf> {
        Some(self.resolve(prefix))
    }

    fn key_problem(&self, key: &str) -> Option<String> {
        let path = self.resolve(key);
        let bytes = path.as_os_str().as_bytes();
        if bytes.contains(&0) {
            return Some("a file name cannot hold the NUL character".into());
        }
        // The staged copy's name (`.eventlog-XXXXXX.tmp`) must fit as well.
        let staged = crate::leftovers::STAGED_PREFIX.len() + 10;
        if let Some(long) = path.iter().find(|c| {
            c.len() > NAME_MAX || (c.len() + staged > NAME_MAX && Some(*c) == path.file_name())
        }) {
            return Some(format!(
                "a folder or file name of {} bytes; file systems hold at most {NAME_MAX}",
                long.len()
            ));
        }
        (bytes.len() + staged > PATH_MAX).then(|| {
            format!(
                "a path of {} bytes; paths are at most {PATH_MAX}",
                bytes.len()
            )
        })
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(StoreError::io("local store", format!("worker failed: {e}"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn conditional_puts() {
        rt().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let s = LocalStore::new(dir.path());
            let v1 = s
                .put("a/b.bin", Body::Bytes(b"one".to_vec()), Condition::IfAbsent)
                .await
                .unwrap();
            assert!(
                s.put("a/b.bin", Body::Bytes(b"x".to_vec()), Condition::IfAbsent)
                    .await
                    .unwrap_err()
                    .is_precondition()
            );
            let stale = Condition::IfMatch(Version("nope".into()));
            assert!(
                s.put("a/b.bin", Body::Bytes(b"x".to_vec()), stale)
                    .await
                    .unwrap_err()
                    .is_precondition()
            );
            let v2 = s
                .put(
                    "a/b.bin",
                    Body::Bytes(b"two".to_vec()),
                    Condition::IfMatch(v1.clone()),
                )
                .await
                .unwrap();
            assert_ne!(v1, v2);
            let got = s.get("a/b.bin", 100).await.unwrap().unwrap();
            assert_eq!(got.bytes, b"two");
            assert_eq!(got.version, v2);
            assert!(s.get("a/missing", 100).await.unwrap().is_none());
            assert!(matches!(
                s.get("a/b.bin", 2).await,
                Err(StoreError::TooLarge { .. })
            ));
            let keys: Vec<String> = s
                .list("")
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.key)
                .collect();
            assert!(keys.contains(&"a/b.bin".to_string()));
        });
    }

    #[test]
    fn names_that_are_not_utf8_are_listed_and_read() {
        rt().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let name = std::ffi::OsStr::from_bytes(b"log-submit-\xff\xfe-x.json");
            std::fs::create_dir_all(dir.path().join("prod")).unwrap();
            std::fs::write(dir.path().join("prod").join(name), b"{}").unwrap();
            let s = LocalStore::new(dir.path());
            let listed = s.list("").await.unwrap();
            assert_eq!(listed.len(), 1);
            assert_eq!(listed[0].key, "prod/log-submit-\\xFF\\xFE-x.json");
            let got = s.get(&listed[0].key, 100).await.unwrap().unwrap();
            assert_eq!(got.bytes, b"{}");
        });
    }

    /// A name holding the text `\xFF` and one holding the byte 0xFF:
    /// two keys, each reading its own file.
    #[test]
    fn names_never_share_a_key() {
        rt().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let text = std::ffi::OsStr::from_bytes(b"a\\xFF.json");
            let byte = std::ffi::OsStr::from_bytes(b"a\xff.json");
            let plain = std::ffi::OsStr::from_bytes(b"a\\b.json");
            std::fs::write(dir.path().join(text), b"text").unwrap();
            std::fs::write(dir.path().join(byte), b"byte").unwrap();
            std::fs::write(dir.path().join(plain), b"plain").unwrap();
            let s = LocalStore::new(dir.path());
            let listed = s.list("").await.unwrap();
            let keys: Vec<&str> = listed.iter().map(|o| o.key.as_str()).collect();
            assert_eq!(keys.len(), 3, "{keys:?}");
            let mut bodies = Vec::new();
            for k in &keys {
                bodies.push(s.get(k, 100).await.unwrap().unwrap().bytes);
            }
            bodies.sort();
            assert_eq!(
                bodies,
                [b"byte".to_vec(), b"plain".to_vec(), b"text".to_vec()]
            );
            assert!(keys.contains(&"a\\x5CxFF.json") && keys.contains(&"a\\xFF.json"));
            assert!(
                keys.contains(&"a\\b.json"),
                "other backslashes stay as they are"
            );
        });
    }

    #[test]
    fn pages_are_in_key_order_with_groups_and_a_start() {
        rt().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            for f in [
                "p/a/x.json",
                "p/a-b/y.json",
                "p/log-1.json",
                "p/log-2.json",
                "q.json",
            ] {
                let path = dir.path().join(f);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, b"1").unwrap();
            }
            let s = LocalStore::new(dir.path());
            let req = |prefix: &str, delimiter, start_after: Option<&str>| ListRequest {
                prefix: prefix.into(),
                delimiter,
                start_after: start_after.map(String::from),
                token: None,
            };
            let keys = |p: Page| p.objects.into_iter().map(|m| m.key).collect::<Vec<_>>();
            // Byte order: `-` (0x2D) sorts before `/` (0x2F), unlike a walk.
            let all = s.list_page(&req("p/", None, None)).await.unwrap();
            assert_eq!(
                keys(all),
                ["p/a-b/y.json", "p/a/x.json", "p/log-1.json", "p/log-2.json"]
            );
            let grouped = s.list_page(&req("p/", Some('/'), None)).await.unwrap();
            assert_eq!(grouped.prefixes, ["p/a-b/", "p/a/"]);
            assert_eq!(keys(grouped), ["p/log-1.json", "p/log-2.json"]);
            let after = s
                .list_page(&req("p/log-", None, Some("p/log-1.json")))
                .await
                .unwrap();
            assert_eq!(keys(after), ["p/log-2.json"]);
            let head = s.head("p/log-1.json").await.unwrap().unwrap();
            assert_eq!(head.size, 1);
            assert!(s.head("p/none").await.unwrap().is_none());
            assert_eq!(s.get_range("p/log-1.json", 0, 10).await.unwrap(), b"1");
        });
    }

    #[test]
    fn racing_writers_one_wins() {
        rt().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let s = LocalStore::new(dir.path());
            let base = s
                .put("k", Body::Bytes(b"base".to_vec()), Condition::IfAbsent)
                .await
                .unwrap();
            let mut tasks = Vec::new();
            for i in 0..16 {
                let s = s.clone();
                let base = base.clone();
                tasks.push(tokio::spawn(async move {
                    s.put(
                        "k",
                        Body::Bytes(format!("w{i}").into_bytes()),
                        Condition::IfMatch(base),
                    )
                    .await
                    .is_ok()
                }));
            }
            let mut wins = 0;
            for t in tasks {
                wins += usize::from(t.await.unwrap());
            }
            assert_eq!(wins, 1);
        });
    }
}
