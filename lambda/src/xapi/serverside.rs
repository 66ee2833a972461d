//! The server-side path: ClickHouse reads the files from S3 itself with
//! `INSERT … SELECT … FROM s3(…)`, the SELECT generated from the same
//! column tables as the in-process path. S3 credentials come from a named
//! collection, the server's own role, or (last resort) keys with their
//! session token; the SQL written to logs never carries them.

use eventlog_core::xapi::sql::{insert_select, s3_function, summary_select};
use eventlog_core::xapi::{Category, sha256_hex};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::files::XapiFile;
use super::{LoadPath, LoadReport, Loader};

/// Keys per `s3()` call (a `{a,b,…}` glob).
const CHUNK: usize = 100;

/// What stays unescaped in a key inside the URL.
const KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b':');

fn glob_safe(key: &str) -> bool {
    !key.contains(['{', '}', ',', '*', '?'])
}

/// One URL (with a `{…}` alternation when there are several keys).
fn url_for(endpoint: &str, bucket: &str, keys: &[&str]) -> String {
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

pub async fn load(loader: &Loader<'_>, files: &[XapiFile]) -> Result<LoadReport, String> {
    let auth = loader
        .settings
        .server_auth
        .as_ref()
        .ok_or("server-side loading is not configured")?;
    let endpoint = loader
        .settings
        .s3_endpoint_for_clickhouse
        .as_deref()
        .ok_or("CLICKHOUSE_S3_ENDPOINT is not set")?;
    let mut report = LoadReport::new(LoadPath::ServerSide, "", files.len());
    let mut by_bucket: std::collections::BTreeMap<&str, Vec<(&str, Option<&str>)>> =
        Default::default();
    for f in files {
        match f {
            XapiFile::S3 { bucket, key, etag } if key.ends_with(".jsonl") => {
                if !glob_safe(key) {
                    return Err(format!(
                        "s3://{bucket}/{key}: the key has glob characters; load it in-process"
                    ));
                }
                by_bucket
                    .entry(bucket)
                    .or_default()
                    .push((key, etag.as_deref()));
            }
            XapiFile::S3 { .. } => report.skipped_files.push(super::FileProblem {
                file: f.name(),
                reason: "not a .jsonl file".into(),
            }),
            XapiFile::Local(_) => {
                return Err(format!(
                    "{}: local files cannot be read by the server",
                    f.name()
                ));
            }
        }
    }
    let target = loader.target();
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
    for (bucket, keys) in by_bucket {
        for chunk in keys.chunks(CHUNK) {
            let names: Vec<&str> = chunk.iter().map(|(k, _)| *k).collect();
            let url = url_for(endpoint, bucket, &names);
            let source = s3_function(&url, &auth.as_sql(), false);
            let shown = s3_function(&url, &auth.as_sql(), true);
            let identity = chunk
                .iter()
                .map(|(k, e)| format!("s3://{bucket}/{k}@{}", e.unwrap_or("")))
                .collect::<Vec<_>>()
                .join("|");
            // How many statements of each kind the files hold.
            let sql = format!("{} FORMAT JSONEachRow", summary_select(&source));
            let (text, _) = loader.ch.query_with(&sql, &limits).await.map_err(|e| {
                format!(
                    "reading {shown}: {}",
                    redact(&e.to_string(), &source, &shown)
                )
            })?;
            let mut present = Vec::new();
            for line in text.lines().filter(|l| !l.is_empty()) {
                let v: serde_json::Value =
                    serde_json::from_str(line).map_err(|e| format!("summary: {e}"))?;
                let n: u64 = v["statements"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .or_else(|| v["statements"].as_u64())
                    .unwrap_or(0);
                let category = v["category"].as_str().unwrap_or("");
                match category {
                    "invalid" => report.invalid_lines += n,
                    "unknown" => {
                        *report
                            .unknown_verbs
                            .entry(v["verb"].as_str().unwrap_or("").to_string())
                            .or_default() += n
                    }
                    c => {
                        *report.rows.entry(c.to_string()).or_default() += n;
                        present.push(c.to_string());
                    }
                }
            }
            for c in Category::LOADED
                .into_iter()
                .filter(|c| present.iter().any(|p| p == c.as_str()))
            {
                let token = sha256_hex(format!("{}|{identity}", c.table()).as_bytes());
                let sql = insert_select(&target, c, &source, Some(&token));
                tracing::info!(table = c.table(), source = %shown, "server-side insert");
                loader.ch.query_with(&sql, &limits).await.map_err(|e| {
                    format!(
                        "insert into {} from {}: {}",
                        c.table(),
                        shown,
                        redact(&e.to_string(), &source, &shown)
                    )
                })?;
                report.inserts += 1;
            }
        }
    }
    Ok(report)
}

/// Replace the unredacted source text in an error message.
fn redact(msg: &str, source: &str, shown: &str) -> String {
    msg.replace(source, shown)
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
