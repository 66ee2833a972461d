//! The monthly report over the checkpoints: what the checkpoints exist for.
//!
//! read (every `{study}/{datatype}/events.parquet`, streamed batch by batch,
//! ours or Polars-written) → aggregate ([`aggregate::Numbers`]) → tables
//! ([`tables`], the CSV files) → page ([`page`], one self-contained HTML
//! file with SVG charts, each beside its table).
//!
//! Month is the month of `visit_date`, as in the seed's query.

pub mod aggregate;
pub mod page;
pub mod read;
pub mod svg;
pub mod tables;

use std::path::Path;

#[cfg(feature = "store")]
use eventlog_store::{ObjectStore, join_key};

pub use aggregate::{Filter, Numbers};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{location}: {message}")]
    Read { location: String, message: String },
    #[error("{path}: {message}")]
    Write { path: String, message: String },
    /// A checkpoint file that cannot be read (it names itself).
    #[error(transparent)]
    Checkpoint(#[from] eventlog_formats::checkpoint::CheckpointError),
    /// Nothing to report on: a wrong `--checkpoints`, most likely.
    #[error("{location}: no checkpoint there (no {{study}}/{{datatype}}/events.parquet under it)")]
    NoCheckpoints { location: String },
}

/// What a report run did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub checkpoints: usize,
    pub rows: u64,
    pub files: Vec<String>,
}

/// The checkpoint files under `prefix`: `{study}/{datatype}/events.parquet`.
#[cfg(feature = "store")]
async fn checkpoint_keys<S: ObjectStore>(
    store: &S,
    prefix: &str,
) -> Result<Vec<String>, ReportError> {
    let root = if prefix.is_empty() {
        String::new()
    } else {
        format!("{}/", prefix.trim_end_matches('/'))
    };
    let listed = store.list(&root).await.map_err(|e| ReportError::Read {
        location: store.locate(&root),
        message: e.to_string(),
    })?;
    let mut keys: Vec<String> = listed
        .into_iter()
        .map(|m| m.key)
        .filter(|k| {
            let rel = &k[root.len().min(k.len())..];
            let parts: Vec<&str> = rel.split('/').collect();
            parts.len() == 3 && parts[2] == "events.parquet" && !parts[0].starts_with('_')
        })
        .collect();
    keys.sort();
    Ok(keys)
}

/// Stream one local parquet file into `numbers`. A damaged file is an
/// error naming it (never a panic); the report is then not written, since
/// its numbers would be partial.
pub fn read_file(
    path: &Path,
    location: &str,
    numbers: &mut Numbers,
    filter: &Filter,
) -> Result<(), ReportError> {
    read::read_groups(path, location, None, numbers, filter)
}

/// Count the local files (`(path, location)`), their row groups shared out
/// between the machine's cores, each thread with numbers of its own,
/// merged at the end.
pub fn count_files(
    files: &[(std::path::PathBuf, String)],
    filter: &Filter,
) -> Result<Numbers, ReportError> {
    let mut units = Vec::new();
    for (i, (path, location)) in files.iter().enumerate() {
        let groups = read::row_groups(path, location)?;
        units.extend((0..groups).map(|g| (i, g)));
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(units.len())
        .max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Result<Numbers, ReportError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut numbers = Numbers::default();
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((i, g)) = units.get(k) else {
                            return Ok(numbers);
                        };
                        let (path, location) = &files[*i];
                        read::read_groups(path, location, Some(vec![*g]), &mut numbers, filter)?;
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join().unwrap_or_else(|_| {
                    Err(ReportError::Read {
                        location: String::from("the report"),
                        message: String::from("a reading thread failed"),
                    })
                })
            })
            .collect()
    });
    let mut total = Numbers::default();
    for r in results {
        total.merge(r?);
    }
    Ok(total)
}

/// Read every checkpoint under `prefix` of `store`. None there is an
/// error naming the place.
#[cfg(feature = "store")]
pub async fn read<S: ObjectStore>(
    store: &S,
    prefix: &str,
    filter: &Filter,
) -> Result<(Numbers, usize), ReportError> {
    let keys = checkpoint_keys(store, prefix).await?;
    if keys.is_empty() {
        return Err(ReportError::NoCheckpoints {
            location: store.locate(prefix),
        });
    }
    let tmp = tempfile::tempdir().map_err(|e| ReportError::Read {
        location: "a temporary directory".into(),
        message: e.to_string(),
    })?;
    // Each object to a local file first: the parquet reader streams from
    // it, so memory does not follow the files' sizes.
    let mut files = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        let location = store.locate(key);
        let local = tmp.path().join(format!("{i}.parquet"));
        let got = store
            .get_to_file(key, &local)
            .await
            .map_err(|e| ReportError::Read {
                location: location.clone(),
                message: e.to_string(),
            })?;
        if got.is_some() {
            files.push((local, location));
        }
    }
    let filter = filter.clone();
    let numbers = tokio::task::spawn_blocking(move || {
        let n = count_files(&files, &filter);
        drop(tmp);
        n
    })
    .await
    .map_err(|e| ReportError::Read {
        location: store.locate(prefix),
        message: e.to_string(),
    })??;
    Ok((numbers, keys.len()))
}

/// Read the checkpoints and write the report into `out` (created).
#[cfg(feature = "store")]
pub async fn build<S: ObjectStore>(
    store: &S,
    prefix: &str,
    filter: &Filter,
    out: &Path,
) -> Result<Summary, ReportError> {
    let (numbers, checkpoints) = read(store, prefix, filter).await?;
    let files = write(&numbers, filter, &store.locate(prefix), out)?;
    Ok(Summary {
        checkpoints,
        rows: numbers.rows,
        files,
    })
}

/// The CSV files and the page, from the numbers.
pub fn write(
    numbers: &Numbers,
    filter: &Filter,
    source: &str,
    out: &Path,
) -> Result<Vec<String>, ReportError> {
    let werr = |path: &Path, e: std::io::Error| ReportError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(out).map_err(|e| werr(out, e))?;
    let t = tables::Tables::from(numbers);
    let mut written = Vec::new();
    for (name, text) in t.csv_files() {
        let p = out.join(name);
        std::fs::write(&p, text.as_bytes()).map_err(|e| werr(&p, e))?;
        written.push(name.to_string());
    }
    let p = out.join("index.html");
    std::fs::write(&p, page::html(&t, filter, source)).map_err(|e| werr(&p, e))?;
    written.push("index.html".into());
    Ok(written)
}

/// Build the report from the checkpoints under `source` of `store` and
/// write its files under `dest` in the same store, replacing the previous
/// report (each file under the version it was seen with, so two runs never
/// interleave their writes silently). The keys written.
#[cfg(feature = "store")]
pub async fn publish<S: ObjectStore>(
    store: &S,
    source: &str,
    dest: &str,
    filter: &Filter,
) -> Result<Vec<String>, ReportError> {
    let tmp = tempfile::tempdir().map_err(|e| ReportError::Write {
        path: "a temporary directory".into(),
        message: e.to_string(),
    })?;
    let summary = build(store, source, filter, tmp.path()).await?;
    let mut keys = Vec::new();
    for name in &summary.files {
        let key = join_key(dest, name);
        let werr = |e: eventlog_store::StoreError| ReportError::Write {
            path: store.locate(&key),
            message: e.to_string(),
        };
        let seen = store.head(&key).await.map_err(werr)?.map(|m| m.version);
        let body = eventlog_store::Body::File(tmp.path().join(name));
        store
            .put(
                &key,
                body,
                eventlog_store::Condition::expecting(seen.as_ref()),
            )
            .await
            .map_err(werr)?;
        keys.push(key);
    }
    Ok(keys)
}
