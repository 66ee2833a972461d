//! The raw-events target server-side: ClickHouse reads each chunk of
//! objects once (`s3()`, or `s3Cluster()`) into a staging table where every
//! line is judged and its leaves extracted (`core::xapi::raw::sql`); then,
//! per object that has no failing line, its rows are inserted from the
//! stage a range of `rows_per_insert` lines at a time, each range with the
//! same deduplication tokens the in-process path gives it.
//!
//! An object with a failing line loads nothing; its first failing line is
//! fetched from the stage and judged again by `core::xapi::raw::derive`,
//! so its report says what the in-process path would.

use std::collections::BTreeMap;

use eventlog_core::xapi::raw::{self, ATTRIBUTION_TABLE, Limits, Problem, Provenance, RAW_TABLE};
use eventlog_core::xapi::sql::{s3_function, stage_drop};

use super::{bad_object, bounded_client, identity, time_for_insert};
use crate::config::LoadTarget;
use crate::files::XapiFile;
use crate::serverside::{chunks, limits, redacted, refused, stage_name, sweep_stages, url_for};
use crate::{EXAMPLES, FileProblem, InvalidLine, LoadPath, LoadReport, Loader, XapiError};

/// What the server-side path did, and the files it did not finish if it
/// stopped (to load in-process).
pub struct Outcome {
    pub report: LoadReport,
    pub stopped: Option<(XapiError, Vec<XapiFile>)>,
}

/// One object's lines in the stage.
#[derive(Debug, Default)]
struct Staged {
    lines: u32,
    failed_line: u32,
    mixed_line: u32,
    ranges: Vec<Range>,
}

#[derive(Debug, Default)]
struct Range {
    first: u32,
    last: u32,
    attribution_rows: u64,
    types: BTreeMap<String, u64>,
}

pub async fn load(loader: &Loader<'_>, files: &[XapiFile]) -> Outcome {
    let mut report = LoadReport::new(LoadPath::ServerSide, "", files.len());
    report.target = LoadTarget::RawEvents;
    let settings = loader.settings;
    let everything = |e: XapiError| (e, files.to_vec());
    let (auth, endpoint) = match (
        settings.server_auth.as_ref(),
        settings.s3_endpoint_for_clickhouse.as_deref(),
    ) {
        (Some(a), Some(e)) => (a, e),
        (None, _) => {
            let e = refused(
                "CLICKHOUSE_S3_AUTH",
                "server-side loading is not configured",
            );
            return Outcome {
                report,
                stopped: Some(everything(e)),
            };
        }
        (_, None) => {
            let e = refused("CLICKHOUSE_S3_ENDPOINT", "is not set");
            return Outcome {
                report,
                stopped: Some(everything(e)),
            };
        }
    };
    // Objects whose version could not be found cannot be read either.
    let (known, unknown): (Vec<XapiFile>, Vec<XapiFile>) = files
        .iter()
        .cloned()
        .partition(|f| !matches!(f, XapiFile::S3 { etag: None, .. }));
    for f in unknown {
        report.failed_files.push(FileProblem::retry(
            f.name(),
            "the object could not be found (HEAD failed)",
        ));
    }
    let chunks = match chunks(&known, settings.files_per_query, &mut report) {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                report,
                stopped: Some((e, known.clone())),
            };
        }
    };
    sweep_stages(loader).await;
    for (k, (bucket, chunk)) in chunks.iter().enumerate() {
        let mut finished = Vec::new();
        let loaded = load_chunk(
            loader,
            auth,
            endpoint,
            bucket,
            chunk,
            &mut finished,
            &mut report,
        );
        if let Err(e) = loaded.await {
            let mut left: Vec<XapiFile> = chunk
                .iter()
                .filter(|f| !finished.contains(&f.name()))
                .map(|f| (*f).clone())
                .collect();
            left.extend(
                chunks[k + 1..]
                    .iter()
                    .flat_map(|(_, c)| c.iter().map(|f| (*f).clone())),
            );
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

fn num(v: &serde_json::Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

/// Read, judge and insert one chunk of objects. Objects are added to
/// `finished` once they are settled (loaded, or failed for their
/// content); an `Err` leaves the rest to the in-process path.
async fn load_chunk(
    loader: &Loader<'_>,
    auth: &crate::ServerS3Auth,
    endpoint: &str,
    bucket: &str,
    chunk: &[&XapiFile],
    finished: &mut Vec<String>,
    report: &mut LoadReport,
) -> Result<(), XapiError> {
    let ch = bounded_client(loader);
    let target = loader.target();
    let mut settings = limits(loader);
    settings.extend(
        raw::sql::QUERY_SETTINGS
            .iter()
            .map(|(k, v)| (*k, (*v).to_string())),
    );
    let keys: Vec<&str> = chunk
        .iter()
        .filter_map(|f| match f {
            XapiFile::S3 { key, .. } => Some(key.as_str()),
            XapiFile::Local(_) => None,
        })
        .collect();
    let url = url_for(endpoint, bucket, &keys);
    let source = s3_function(&url, &auth.as_sql(), target.cluster, false);
    let shown = s3_function(&url, &auth.as_sql(), target.cluster, true);
    let stage = stage_name(&url);
    let rows = loader.settings.raw.rows_per_insert;
    let staged = async {
        let sql = raw::sql::stage_create(
            &target,
            &stage,
            &source,
            loader.settings.raw.max_attributions,
        );
        tracing::info!(source = %shown, stage = %stage, "server-side read (raw-events)");
        ch.query_with(&sql, &settings)
            .await
            .map_err(|e| redacted(e, &source, &shown))?;
        let objects = contents(&ch, &target, &stage, rows, &settings).await?;
        for f in chunk {
            let XapiFile::S3 { key, etag, .. } = f else {
                continue;
            };
            let version = etag.clone().unwrap_or_default();
            let path = format!("{bucket}/{key}");
            let Some(o) = objects.get(&path) else {
                // An empty object: nothing to load.
                finished.push(f.name());
                continue;
            };
            if o.failed_line > 0 || o.mixed_line > 0 {
                let line = match (o.failed_line, o.mixed_line) {
                    (0, m) | (m, 0) => m,
                    (a, b) => a.min(b),
                };
                let problem = judge_line(
                    &ch,
                    &target,
                    &stage,
                    &path,
                    f,
                    etag.as_deref(),
                    line,
                    loader,
                )
                .await?;
                note(report, problem);
                finished.push(f.name());
                continue;
            }
            insert_object(
                loader,
                &ch,
                &target,
                &stage,
                &path,
                &f.name(),
                &version,
                o,
                &settings,
                report,
            )
            .await?;
            finished.push(f.name());
        }
        Ok(())
    }
    .await;
    if let Err(e) = ch.query(&stage_drop(&target, &stage)).await {
        tracing::warn!(stage = %stage, error = %e, "could not drop the staging table");
    }
    staged
}

fn note(report: &mut LoadReport, problem: FileProblem) {
    report.invalid_lines += 1;
    if report.invalid.len() < EXAMPLES {
        report.invalid.push(InvalidLine {
            file: problem.file.clone(),
            line: problem.physical_line.unwrap_or(0),
            reason: problem.reason.clone(),
        });
    }
    report.failed_files.push(problem);
}

/// Per object: its summary and its insert ranges.
async fn contents(
    ch: &crate::clickhouse::ClickHouse,
    target: &eventlog_core::xapi::sql::Target<'_>,
    stage: &str,
    rows: usize,
    settings: &[(&str, String)],
) -> Result<BTreeMap<String, Staged>, XapiError> {
    let parse = |text: &str| -> Result<Vec<serde_json::Value>, XapiError> {
        text.lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                serde_json::from_str(l).map_err(|e| {
                    XapiError::read(stage, format!("the stage summary's answer: {e}"), false)
                })
            })
            .collect()
    };
    let (text, _) = ch
        .query_with(
            &format!(
                "{} FORMAT JSONEachRow",
                raw::sql::stage_summary(target, stage)
            ),
            settings,
        )
        .await?;
    let mut out: BTreeMap<String, Staged> = BTreeMap::new();
    for v in parse(&text)? {
        let o = out
            .entry(v["source_path"].as_str().unwrap_or_default().to_string())
            .or_default();
        o.lines = num(&v["lines"]) as u32;
        o.failed_line = num(&v["failed_line"]) as u32;
        o.mixed_line = num(&v["mixed_line"]) as u32;
    }
    let (text, _) = ch
        .query_with(
            &format!(
                "{} FORMAT JSONEachRow",
                raw::sql::stage_ranges(target, stage, rows)
            ),
            settings,
        )
        .await?;
    for v in parse(&text)? {
        let Some(o) = out.get_mut(v["source_path"].as_str().unwrap_or_default()) else {
            continue;
        };
        let mut types = BTreeMap::new();
        for t in [
            "video",
            "activity_attempt",
            "page_attempt",
            "page_viewed",
            "part_attempt",
            "unknown",
        ] {
            let n = num(&v[t]);
            if n > 0 {
                types.insert(t.to_string(), n);
            }
        }
        o.ranges.push(Range {
            first: num(&v["first"]) as u32,
            last: num(&v["last"]) as u32,
            attribution_rows: num(&v["attribution_rows"]),
            types,
        });
    }
    Ok(out)
}

/// The problem of an object's failing `line`, in `derive`'s words.
#[allow(clippy::too_many_arguments)]
async fn judge_line(
    ch: &crate::clickhouse::ClickHouse,
    target: &eventlog_core::xapi::sql::Target<'_>,
    stage: &str,
    path: &str,
    f: &XapiFile,
    etag: Option<&str>,
    line: u32,
    loader: &Loader<'_>,
) -> Result<FileProblem, XapiError> {
    let (text, _) = ch
        .query(&raw::sql::stage_line(target, stage, path, line))
        .await?;
    let mut cols = text.trim_end_matches('\n').split('\t');
    let physical: u64 = cols.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let bytes = cols
        .next()
        .and_then(|h| hex::decode(h).ok())
        .unwrap_or_default();
    let name = f.name();
    let prov = Provenance { file: &name, etag };
    let limits = Limits {
        max_attributions: loader.settings.raw.max_attributions,
    };
    let problem = match raw::derive(&bytes, &prov, line, &limits) {
        Err(p) => p,
        // The line is fine alone: it is the one whose attributions write
        // their timestamp the other way.
        Ok(d) => attribution_mix(&d),
    };
    Ok(bad_object(&name, u64::from(line), physical, &problem))
}

fn attribution_mix(d: &raw::Derived) -> Problem {
    let other = match d.attribution_times {
        raw::attribution::TimeKind::Integer => raw::attribution::TimeKind::Text,
        _ => raw::attribution::TimeKind::Integer,
    };
    other
        .join(d.attribution_times)
        .err()
        .unwrap_or_else(|| Problem::new("timestamp", "attribution_timestamp", "mixed timestamps"))
}

/// Insert an object's ranges, raw rows then attribution rows each; rows
/// count as their inserts succeed.
#[allow(clippy::too_many_arguments)]
async fn insert_object(
    loader: &Loader<'_>,
    ch: &crate::clickhouse::ClickHouse,
    target: &eventlog_core::xapi::sql::Target<'_>,
    stage: &str,
    path: &str,
    name: &str,
    version: &str,
    o: &Staged,
    settings: &[(&str, String)],
    report: &mut LoadReport,
) -> Result<(), XapiError> {
    for r in &o.ranges {
        if let Err(why) = time_for_insert(loader) {
            report.failed_files.push(FileProblem::retry(name, why));
            return Ok(());
        }
        let id = identity(name, version, r.first, r.last);
        let token = loader.token(RAW_TABLE, &id);
        let sql = raw::sql::insert_raw(target, stage, path, (r.first, r.last), Some(&token));
        ch.query_with(&sql, settings).await?;
        report.inserts += 1;
        *report.rows.entry(RAW_TABLE.to_string()).or_default() += u64::from(r.last - r.first + 1);
        for (t, n) in &r.types {
            *report.event_types.entry(t.clone()).or_default() += n;
        }
        if r.attribution_rows > 0 {
            let token = loader.token(ATTRIBUTION_TABLE, &id);
            let sql =
                raw::sql::insert_attributions(target, stage, path, (r.first, r.last), Some(&token));
            ch.query_with(&sql, settings).await?;
            report.inserts += 1;
            *report
                .rows
                .entry(ATTRIBUTION_TABLE.to_string())
                .or_default() += r.attribution_rows;
        }
    }
    let _ = o.lines;
    Ok(())
}
