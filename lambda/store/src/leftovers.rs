//! What a killed run leaves behind, and how the next run tells it from a
//! live run's work in progress.
//!
//! Every staged file (`.eventlog-*.tmp`, next to its target) and every
//! merge scratch folder (`eventlog-merge-*`, its `.owner` file) is locked
//! with `flock` by the process that made it, for as long as it lives. The
//! kernel drops the lock when the process dies, however it dies, so a file
//! whose lock can be taken belongs to no one. The one moment a live file is
//! unlocked (between creating it and locking it) is covered by also
//! requiring a minute without change.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

/// The name every staged file starts with (and `.tmp` ends).
pub const STAGED_PREFIX: &str = ".eventlog-";
/// The name every merge scratch folder starts with.
pub const SCRATCH_PREFIX: &str = "eventlog-merge-";
/// The name every staged errors file (in the temporary directory) starts with.
pub const ERRORS_PREFIX: &str = "eventlog-errors-";
/// The lock file inside a scratch folder.
pub const OWNER_FILE: &str = ".owner";

const MIN_AGE: Duration = Duration::from_secs(60);

/// What a sweep removed, and what it could not look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    pub removed: usize,
    /// Paths that could not be read or removed, with the reason.
    pub problems: Vec<String>,
}

impl Swept {
    fn problem(&mut self, path: &Path, e: impl std::fmt::Display) {
        self.problems.push(format!("{}: {e}", path.display()));
    }
}

/// Lock `file` for the life of the returned handle, marking it as this
/// live process's.
pub fn hold(file: &File) -> std::io::Result<()> {
    file.lock()
}

/// Create the owner file in a scratch folder and lock it; the folder is
/// this process's while the handle lives.
pub fn claim(dir: &Path) -> std::io::Result<File> {
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(OWNER_FILE))?;
    f.lock()?;
    Ok(f)
}

/// Nobody holds `path`'s lock and it has not changed for a minute. The
/// answer is only "yes" when both are known.
fn abandoned(path: &Path) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    let idle = meta
        .modified()
        .ok()
        .and_then(|m| m.elapsed().ok())
        .is_some_and(|age| age >= MIN_AGE);
    if !meta.is_file() || !idle {
        return false;
    }
    // Non-blocking open: a name that became a FIFO meanwhile cannot hang us.
    let Ok(f) = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
    else {
        return false;
    };
    f.try_lock().is_ok()
}

fn is_staged(name: &str) -> bool {
    name.starts_with(STAGED_PREFIX) && name.ends_with(".tmp")
}

/// Remove the staged files dead runs left anywhere under `root` (the
/// checkpoints folder). Symbolic links are not followed.
pub fn sweep_staged(root: &Path) -> Swept {
    let mut swept = Swept::default();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                swept.problem(&dir, e);
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                dirs.push(path);
            } else if kind.is_file()
                && entry.file_name().to_str().is_some_and(is_staged)
                && abandoned(&path)
            {
                match fs::remove_file(&path) {
                    Ok(()) => swept.removed += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => swept.problem(&path, e),
                }
            }
        }
    }
    swept
}

/// Remove the merge scratch folders and staged errors files dead runs
/// left in `scratch` (the temporary directory).
pub fn sweep_scratch(scratch: &Path) -> Swept {
    let mut swept = Swept::default();
    let entries = match fs::read_dir(scratch) {
        Ok(e) => e,
        Err(e) => {
            swept.problem(scratch, e);
            return swept;
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_str().unwrap_or_default();
        if name.starts_with(ERRORS_PREFIX)
            && entry.file_type().is_ok_and(|k| k.is_file())
            && abandoned(&entry.path())
        {
            match fs::remove_file(entry.path()) {
                Ok(()) => swept.removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => swept.problem(&entry.path(), e),
            }
            continue;
        }
        let is_scratch = name.starts_with(SCRATCH_PREFIX);
        if !is_scratch || !entry.file_type().is_ok_and(|k| k.is_dir()) {
            continue;
        }
        let dir = entry.path();
        let owner = dir.join(OWNER_FILE);
        // No owner file: made by a run that died before claiming it, or by
        // an older version; only its age can tell.
        let dead = if owner.exists() {
            abandoned(&owner)
        } else {
            abandoned_dir(&dir)
        };
        if dead {
            match fs::remove_dir_all(&dir) {
                Ok(()) => swept.removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => swept.problem(&dir, e),
            }
        }
    }
    swept
}

fn abandoned_dir(dir: &Path) -> bool {
    fs::symlink_metadata(dir)
        .ok()
        .and_then(|m| m.modified().ok())
        .and_then(|m| m.elapsed().ok())
        .is_some_and(|age| age >= MIN_AGE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn age(path: &Path) {
        let past = SystemTime::now() - Duration::from_secs(600);
        File::options()
            .write(true)
            .open(path)
            .or_else(|_| File::open(path))
            .unwrap()
            .set_modified(past)
            .unwrap();
    }

    #[test]
    fn only_unlocked_idle_staged_files_go() {
        let dir = tempfile::tempdir().unwrap();
        let group = dir.path().join("s/d");
        fs::create_dir_all(&group).unwrap();
        let dead = group.join(".eventlog-dead.tmp");
        let live = group.join(".eventlog-live.tmp");
        let fresh = group.join(".eventlog-fresh.tmp");
        let other = group.join("events.parquet");
        for p in [&dead, &live, &fresh, &other] {
            fs::write(p, b"x").unwrap();
        }
        for p in [&dead, &live, &other] {
            age(p);
        }
        let held = File::open(&live).unwrap();
        hold(&held).unwrap();
        let swept = sweep_staged(dir.path());
        assert_eq!(swept.removed, 1, "{swept:?}");
        assert!(!dead.exists());
        assert!(live.exists() && fresh.exists() && other.exists());
        drop(held);
        assert_eq!(sweep_staged(dir.path()).removed, 1, "released: now dead");
    }

    #[test]
    fn only_unclaimed_scratch_folders_go() {
        let tmp = tempfile::tempdir().unwrap();
        let make = |name: &str| {
            let d = tmp.path().join(name);
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join("merged.parquet"), b"x").unwrap();
            d
        };
        let dead = make("eventlog-merge-dead");
        let live = make("eventlog-merge-live");
        let unrelated = make("other-dead");
        let owner_dead = claim(&dead).unwrap();
        drop(owner_dead);
        let owner_live = claim(&live).unwrap();
        for d in [&dead, &live] {
            age(&d.join(OWNER_FILE));
        }
        age(&unrelated);
        let swept = sweep_scratch(tmp.path());
        assert_eq!(swept.removed, 1, "{swept:?}");
        assert!(!dead.exists() && live.exists() && unrelated.exists());
        drop(owner_live);
    }
}
