//! The server-side path: ClickHouse reads the files from S3 itself with
//! `INSERT … SELECT … FROM s3(…)`, the SELECT generated from the same
//! column tables as the in-process path. S3 credentials come from a named
//! collection, the server's own role, or (last resort) keys with their
//! session token; the SQL written to logs never carries them.

use eventlog_core::xapi::Category;
use eventlog_core::xapi::sql::{
    rows_stage, s3_function, stage_create, stage_drop, stage_insert, stage_rows_create,
    stage_summary, stages_drop,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use std::collections::{BTreeMap, BTreeSet};

use crate::files::XapiFile;
use crate::{LoadPath, LoadReport, Loader, ServerS3Auth, XapiError};

/// What stays unescaped in a key inside the URL.
const KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b':');

pub(crate) fn glob_safe(key: &str) -> bool {
    !key.contains(['{', '}', ',', '*', '?'])
}

/// One URL (with a `{…}` alternation when there are several keys).
pub(crate) fn url_for(endpoint: &str, bucket: &str, keys: &[&str]) -> String {
    let enc = |k: &str| utf8_percent_encode(k, KEY).to_string();
    if keys.len() == 1 {
        return format!(
            "{}/{}/{}",
            endpoint.trim_end_matches('/'),
            bucket,
            enc(keys[0])
        );
    }
    let common = keys[0].rfind('/').map_or("", |i| &keys[0][..=i]);
    let common = keys.iter().fold(common, |acc, k| {
        let mut end = acc.len().min(k.len());
        while !k.is_char_boundary(end) || !acc.is_char_boundary(end) || acc[..end] != k[..end] {
            end -= 1;
        }
        let shared = &acc[..end];
        shared.rfind('/').map_or("", |i| &shared[..=i])
    });
    let rests: Vec<String> = keys.iter().map(|k| enc(&k[common.len()..])).collect();
    format!(
        "{}/{}/{}{{{}}}",
        endpoint.trim_end_matches('/'),
        bucket,
        enc(common),
        rests.join(",")
    )
}

/// Files the server-side path did not finish, and the tables it had
/// already loaded them into.
#[derive(Debug, Clone)]
pub struct Unfinished {
    pub files: Vec<XapiFile>,
    pub done: BTreeSet<Category>,
}

/// What the server-side path did: the rows it loaded (counted per table
/// only once that table's insert succeeded) and, if it stopped, why and
/// what is left.
pub struct Outcome {
    pub report: LoadReport,
    pub stopped: Option<(XapiError, Vec<Unfinished>)>,
}

pub async fn load(loader: &Loader<'_>, files: &[XapiFile]) -> Outcome {
    let mut report = LoadReport::new(LoadPath::ServerSide, "", files.len());
    let everything = |e: XapiError| {
        let all = Unfinished {
            files: files.to_vec(),
            done: BTreeSet::new(),
        };
        (e, vec![all])
    };
    let settings = loader.settings;
    let (auth, endpoint, chunks) = match (
        settings.server_auth.as_ref(),
        settings.s3_endpoint_for_clickhouse.as_deref(),
        chunks(files, settings.files_per_query, &mut report),
    ) {
        (Some(a), Some(e), Ok(chunks)) => (a, e, chunks),
        (None, _, _) => {
            let e = refused(
                "CLICKHOUSE_S3_AUTH",
                "server-side loading is not configured",
            );
            let stopped = Some(everything(e));
            return Outcome { report, stopped };
        }
        (_, None, _) => {
            let stopped = Some(everything(refused("CLICKHOUSE_S3_ENDPOINT", "is not set")));
            return Outcome { report, stopped };
        }
        (_, _, Err(e)) => {
            let stopped = Some(everything(e));
            return Outcome { report, stopped };
        }
    };
    sweep_stages(loader).await;
    for (k, (bucket, chunk)) in chunks.iter().enumerate() {
        let mut done: BTreeMap<String, BTreeSet<Category>> = BTreeMap::new();
        let loaded = load_chunk(
            loader,
            auth,
            endpoint,
            bucket,
            chunk,
            &mut done,
            &mut report,
        );
        if let Err(e) = loaded.await {
            let mut left: Vec<Unfinished> = chunk
                .iter()
                .map(|f| Unfinished {
                    files: vec![(*f).clone()],
                    done: done.remove(&f.name()).unwrap_or_default(),
                })
                .collect();
            left.extend(chunks[k + 1..].iter().map(|(_, c)| Unfinished {
                files: c.iter().map(|f| (*f).clone()).collect(),
                done: BTreeSet::new(),
            }));
            return Outcome {
                report,
                stopped: Some((e, left)),
            };
        }
    }
    Outcome {
        report,
        stopped: None,
    }
}

pub(crate) fn refused(file: impl Into<String>, message: &str) -> XapiError {
    XapiError::NotServerSide {
        file: file.into(),
        message: message.to_string(),
    }
}

/// The S3 `.jsonl` files, by bucket, in reads of up to `per_query` files;
/// other files are skipped. A key the server cannot read as a glob, or a
/// local file, means the server-side path cannot take this load.
pub(crate) fn chunks<'f>(
    files: &'f [XapiFile],
    per_query: usize,
    report: &mut LoadReport,
) -> Result<Vec<(&'f str, Vec<&'f XapiFile>)>, XapiError> {
    let mut by_bucket: BTreeMap<&str, Vec<&XapiFile>> = BTreeMap::new();
    for f in files {
        match f {
            XapiFile::S3 { bucket, key, .. } if f.is_jsonl() => {
                if !glob_safe(key) {
                    return Err(refused(
                        f.name(),
                        "the key has glob characters; load it in-process",
                    ));
                }
                by_bucket.entry(bucket).or_default().push(f);
            }
            XapiFile::S3 { .. } => report
                .skipped_files
                .push(super::FileProblem::fixed(f.name(), "not a .jsonl file")),
            XapiFile::Local(_) => {
                return Err(refused(
                    f.name(),
                    "local files cannot be read by the server",
                ));
            }
        }
    }
    Ok(by_bucket
        .into_iter()
        .flat_map(|(bucket, fs)| {
            fs.chunks(per_query.max(1))
                .map(|c| (bucket, c.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect())
}

/// One `s3()` read of up to `files_per_query` files (a `{a,b,…}` glob) into
/// a staging table, the summary of what it holds per object, then per
/// object one insert per table it has rows for, each with a
/// deduplication token of that object alone (table, file, ETag): loading
/// an object again, alone or beside others, adds nothing. A table's rows
/// of an object count once its insert succeeded (`done`); the chunk's
/// invalid lines and unknown verbs once all of them did. The stage is
/// dropped whatever happened.
async fn load_chunk(
    loader: &Loader<'_>,
    auth: &ServerS3Auth,
    endpoint: &str,
    bucket: &str,
    chunk: &[&XapiFile],
    done: &mut BTreeMap<String, BTreeSet<Category>>,
    report: &mut LoadReport,
) -> Result<(), XapiError> {
    let target = loader.target();
    let limits = limits(loader);
    let keys: Vec<(&str, &str)> = chunk
        .iter()
        .filter_map(|f| match f {
            XapiFile::S3 { key, etag, .. } => Some((key.as_str(), etag.as_deref().unwrap_or(""))),
            XapiFile::Local(_) => None,
        })
        .collect();
    let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
    let url = url_for(endpoint, bucket, &names);
    let source = s3_function(&url, &auth.as_sql(), target.cluster, false);
    let shown = s3_function(&url, &auth.as_sql(), target.cluster, true);
    let stage = stage_name(&url);
    let staged = async {
        let sql = stage_create(&target, &stage, &source);
        tracing::info!(source = %shown, stage = %stage, "server-side read");
        loader
            .ch
            .query_with(&sql, &limits)
            .await
            .map_err(|e| redacted(e, &source, &shown))?;
        let sql = format!("{} FORMAT JSONEachRow", stage_summary(&target, &stage));
        let (text, _) = loader.ch.query_with(&sql, &limits).await?;
        let found = contents(&text, &shown)?;
        for c in Category::LOADED {
            if !found.counts.values().any(|n| n.contains_key(c.as_str())) {
                continue;
            }
            // The category's rows, computed once for the chunk; then one
            // insert per object, a projection of its rows.
            let sql = stage_rows_create(&target, c, &stage);
            loader.ch.query_with(&sql, &limits).await?;
            let per_object = found
                .counts
                .iter()
                .filter_map(|(path, m)| Some((path, *m.get(c.as_str())?)));
            for (path, n) in per_object {
                let Some((key, etag)) = keys.iter().find(|(k, _)| format!("{bucket}/{k}") == *path)
                else {
                    continue;
                };
                let name = format!("s3://{bucket}/{key}");
                let token = loader.token(c.table(), &format!("{name}@{etag}"));
                let sql = stage_insert(&target, c, &stage, path, Some(&token));
                tracing::info!(table = c.table(), file = %name, "server-side insert");
                loader.ch.query_with(&sql, &limits).await?;
                report.inserts += 1;
                done.entry(name).or_default().insert(c);
                *report.rows.entry(c.as_str().to_string()).or_default() += n;
            }
        }
        found.count_unloaded(report);
        Ok(())
    }
    .await;
    // A stage that cannot be dropped now (server gone) is dropped by the
    // next load's sweep.
    let mut all: Vec<String> = Category::LOADED
        .iter()
        .map(|c| rows_stage(*c, &stage))
        .collect();
    all.push(stage.clone());
    let names: Vec<&str> = all.iter().map(String::as_str).collect();
    if let Err(e) = loader.ch.query(&stages_drop(&target, &names)).await {
        tracing::warn!(stage = %stage, error = %e, "could not drop the staging tables");
    }
    staged
}

pub(crate) fn limits(loader: &Loader<'_>) -> Vec<(&'static str, String)> {
    let mut limits = vec![(
        "s3_retry_attempts",
        loader.settings.s3_retry_attempts.to_string(),
    )];
    if loader.settings.server_side_timeout_secs > 0 {
        limits.push((
            "max_execution_time",
            loader.settings.server_side_timeout_secs.to_string(),
        ));
    }
    limits
}

/// Staging tables start with this; the sweep drops old ones.
const STAGE_PREFIX: &str = "_eventlog_stage_";

/// A name no other load uses at the same time: two loads of the same files
/// (a re-delivered notification) must not drop each other's stage.
pub(crate) fn stage_name(identity: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let unique = format!("{identity}|{}|{nanos}|{n}", std::process::id());
    let hash = eventlog_core::xapi::sha256_hex(unique.as_bytes());
    format!("{STAGE_PREFIX}{}", &hash[..24])
}

/// Drop staging tables older than `stage_max_age_secs` (an hour): left behind by a load that was
/// killed before it could drop its own (a Lambda timeout, SIGKILL). Memory
/// tables hold their lines until dropped, so they must not pile up.
/// How long the stage sweep waits for each answer.
const SWEEP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub(crate) async fn sweep_stages(loader: &Loader<'_>) {
    let target = loader.target();
    let sql = format!(
        "SELECT name FROM system.tables WHERE database = {} AND startsWith(name, {}) AND metadata_modification_time <= now() - INTERVAL {} SECOND FORMAT TSV",
        eventlog_core::xapi::sql::literal(target.database),
        eventlog_core::xapi::sql::literal(STAGE_PREFIX),
        loader.settings.stage_max_age_secs
    );
    // Housekeeping: one attempt each, briefly. A server that does not
    // answer fails the load's own queries soon enough; this must not spend
    // a retry cycle of the run's time first.
    let ch = loader.ch.single_attempt(SWEEP_TIMEOUT);
    let names = match ch.query(&sql).await {
        Ok((names, _)) => names,
        Err(e) => {
            tracing::warn!(error = %e, "could not look for old staging tables");
            return;
        }
    };
    for name in names.lines().filter(|n| n.starts_with(STAGE_PREFIX)) {
        if let Err(e) = ch.query(&stage_drop(&target, name)).await {
            tracing::warn!(stage = %name, error = %e, "could not drop an old staging table");
        }
    }
}

/// What a chunk's files hold, from the summary query.
struct Contents {
    /// Loadable statements per object (`bucket/key`) and category.
    counts: BTreeMap<String, BTreeMap<String, u64>>,
    /// Statements of no loaded category, per verb.
    unknown: BTreeMap<String, u64>,
    invalid: u64,
}

impl Contents {
    /// The chunk's invalid lines and unknown verbs, into the report.
    fn count_unloaded(self, report: &mut LoadReport) {
        report.invalid_lines += self.invalid;
        for (verb, n) in self.unknown {
            *report.unknown_verbs.entry(verb).or_default() += n;
        }
    }
}

fn contents(text: &str, shown: &str) -> Result<Contents, XapiError> {
    let mut c = Contents {
        counts: BTreeMap::new(),
        unknown: BTreeMap::new(),
        invalid: 0,
    };
    for line in text.lines().filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| {
            XapiError::read(shown, format!("the summary query's answer: {e}"), false)
        })?;
        let n: u64 = v["statements"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .or_else(|| v["statements"].as_u64())
            .unwrap_or(0);
        let path = v["source_path"].as_str().unwrap_or("").to_string();
        match v["category"].as_str().unwrap_or("") {
            "invalid" => c.invalid += n,
            "unknown" => {
                let verb = v["verb"].as_str().unwrap_or("").to_string();
                *c.unknown.entry(verb).or_default() += n
            }
            cat => {
                *c.counts
                    .entry(path)
                    .or_default()
                    .entry(cat.to_string())
                    .or_default() += n
            }
        }
    }
    Ok(c)
}

/// A ClickHouse error whose message may quote the query: the source with
/// its credentials is replaced by the redacted one.
pub(crate) fn redacted(
    e: crate::clickhouse::ClickHouseError,
    source: &str,
    shown: &str,
) -> XapiError {
    use crate::clickhouse::ClickHouseError;
    XapiError::ClickHouse(match e {
        ClickHouseError::Server {
            url,
            status,
            code,
            message,
        } => ClickHouseError::Server {
            url,
            status,
            code,
            message: message.replace(source, shown),
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_share_a_prefix_and_glob_the_rest() {
        let u = url_for(
            "http://h:1/",
            "b",
            &[
                "section/1/video/a.jsonl",
                "section/1/video/b c.jsonl",
                "section/1/page/d.jsonl",
            ],
        );
        assert_eq!(
            u,
            "http://h:1/b/section/1/{video/a.jsonl,video/b%20c.jsonl,page/d.jsonl}"
        );
        assert_eq!(
            url_for("http://h", "b", &["x/y.jsonl"]),
            "http://h/b/x/y.jsonl"
        );
        assert!(!glob_safe("a{b}.jsonl"));
    }
}
