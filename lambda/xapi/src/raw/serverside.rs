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
use eventlog_core::xapi::sql::{s3_function, stages_drop};

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
    /// Rows of unfinished objects that are in the tables already (ranges
    /// inserted before the stop), per file and table: counted in the
    /// report, and to be taken back out where the in-process path loads
    /// the whole object after all.
    pub partial: BTreeMap<String, BTreeMap<String, u64>>,
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
    let stop = |report, e: XapiError, left: Vec<XapiFile>| Outcome {
        report,
        stopped: Some((e, left)),
        partial: BTreeMap::new(),
    };
    let settings = loader.settings;
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
            return stop(report, e, files.to_vec());
        }
        (_, None) => {
            let e = refused("CLICKHOUSE_S3_ENDPOINT", "is not set");
            return stop(report, e, files.to_vec());
        }
    };
    // Objects whose version could not be found cannot be read either.
    let (known, unknown): (Vec<XapiFile>, Vec<XapiFile>) = files
        .iter()
        .cloned()
        .partition(|f| !matches!(f, XapiFile::S3 { etag: None, .. }));
    for f in unknown {
        report.failed_files.push(FileProblem::read(
            f.name(),
            "the object could not be found (HEAD failed)",
            true,
        ));
    }
    let chunks = match chunks(&known, settings.files_per_query, &mut report) {
        Ok(c) => c,
        Err(e) => return stop(report, e, known.clone()),
    };
    let mut partial = BTreeMap::new();
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
            &mut partial,
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
                partial,
                ..stop(report, e, left)
            };
        }
    }
    Outcome {
        report,
        stopped: None,
        partial,
    }
}

fn num(v: &serde_json::Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

/// One chunk's read: what its queries share.
struct Chunk<'a, 'l> {
    loader: &'a Loader<'l>,
    ch: crate::clickhouse::ClickHouse,
    target: eventlog_core::xapi::sql::Target<'a>,
    stage: String,
    settings: Vec<(&'static str, String)>,
    bucket: &'a str,
}

/// Read, judge and insert one chunk of objects. Objects are added to
/// `finished` once they are settled (loaded, or failed for their
/// content); an `Err` leaves the rest to the in-process path.
#[allow(clippy::too_many_arguments)]
async fn load_chunk(
    loader: &Loader<'_>,
    auth: &crate::ServerS3Auth,
    endpoint: &str,
    bucket: &str,
    chunk: &[&XapiFile],
    finished: &mut Vec<String>,
    partial: &mut BTreeMap<String, BTreeMap<String, u64>>,
    report: &mut LoadReport,
) -> Result<(), XapiError> {
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
    let c = Chunk {
        loader,
        ch: bounded_client(loader),
        target: loader.target(),
        stage: stage_name(&url),
        settings,
        bucket,
    };
    let source = s3_function(&url, &auth.as_sql(), c.target.cluster, false);
    let shown = s3_function(&url, &auth.as_sql(), c.target.cluster, true);
    let staged = async {
        let sql = raw::sql::stage_create(
            &c.target,
            &c.stage,
            &source,
            loader.settings.raw.max_attributions,
        );
        tracing::info!(source = %shown, stage = %c.stage, "server-side read (raw-events)");
        c.ch.query_with(&sql, &c.settings)
            .await
            .map_err(|e| redacted(e, &source, &shown))?;
        let rows = loader.settings.raw.rows_per_insert;
        let objects = contents(&c.ch, &c.target, &c.stage, rows, &c.settings).await?;
        // Attribution rows get a stage of their own, when there are any.
        if objects.values().any(|o| {
            o.failed_line == 0
                && o.mixed_line == 0
                && o.ranges.iter().any(|r| r.attribution_rows > 0)
        }) {
            let sql = raw::sql::attribution_stage_create(&c.target, &c.stage);
            c.ch.query_with(&sql, &c.settings).await?;
        }
        for f in chunk {
            c.settle(f, &objects, partial, report).await?;
            finished.push(f.name());
        }
        Ok(())
    }
    .await;
    let attributions = format!("{}_a", c.stage);
    if let Err(e) =
        c.ch.query(&stages_drop(&c.target, &[&c.stage, &attributions]))
            .await
    {
        tracing::warn!(stage = %c.stage, error = %e, "could not drop the staging tables");
    }
    staged
}

impl Chunk<'_, '_> {
    /// One object of the chunk: nothing (empty), its failure (a failing
    /// line), or its inserts.
    async fn settle(
        &self,
        f: &XapiFile,
        objects: &BTreeMap<String, Staged>,
        partial: &mut BTreeMap<String, BTreeMap<String, u64>>,
        report: &mut LoadReport,
    ) -> Result<(), XapiError> {
        let XapiFile::S3 { key, etag, .. } = f else {
            return Ok(());
        };
        let path = format!("{}/{key}", self.bucket);
        let Some(o) = objects.get(&path) else {
            // An empty object: nothing to load.
            return Ok(());
        };
        if o.failed_line > 0 || o.mixed_line > 0 {
            let line = match (o.failed_line, o.mixed_line) {
                (0, m) | (m, 0) => m,
                (a, b) => a.min(b),
            };
            let problem = self.judge_line(&path, f, etag.as_deref(), line).await?;
            note(report, problem);
            return Ok(());
        }
        let counted = partial.entry(f.name()).or_default();
        let version = etag.clone().unwrap_or_default();
        self.insert_object(&path, &f.name(), &version, o, counted, report)
            .await?;
        partial.remove(&f.name());
        Ok(())
    }

    /// The problem of an object's failing `line`, in `derive`'s words.
    async fn judge_line(
        &self,
        path: &str,
        f: &XapiFile,
        etag: Option<&str>,
        line: u32,
    ) -> Result<FileProblem, XapiError> {
        let (text, _) = self
            .ch
            .query(&raw::sql::stage_line(&self.target, &self.stage, path, line))
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
            max_attributions: self.loader.settings.raw.max_attributions,
        };
        let problem = match raw::derive(&bytes, &prov, line, &limits) {
            Err(p) => p,
            // The line is fine alone: it is the one whose attributions
            // write their timestamp the other way.
            Ok(d) => attribution_mix(&d),
        };
        Ok(bad_object(&name, u64::from(line), physical, &problem))
    }

    /// Insert an object's ranges, raw rows then attribution rows each;
    /// rows count as their inserts succeed.
    async fn insert_object(
        &self,
        path: &str,
        name: &str,
        version: &str,
        o: &Staged,
        counted: &mut BTreeMap<String, u64>,
        report: &mut LoadReport,
    ) -> Result<(), XapiError> {
        let (t, stage) = (&self.target, &self.stage);
        for r in &o.ranges {
            if let Err(why) = time_for_insert(self.loader) {
                report.failed_files.push(FileProblem::retry(name, why));
                return Ok(());
            }
            let id = identity(name, version, r.first, r.last);
            let token = self.loader.token(RAW_TABLE, &id);
            let sql = raw::sql::insert_raw(t, stage, path, (r.first, r.last), Some(&token));
            self.ch.query_with(&sql, &self.settings).await?;
            report.inserts += 1;
            let n = u64::from(r.last - r.first + 1);
            *report.rows.entry(RAW_TABLE.to_string()).or_default() += n;
            *counted.entry(RAW_TABLE.to_string()).or_default() += n;
            for (t, n) in &r.types {
                *report.event_types.entry(t.clone()).or_default() += n;
            }
            if r.attribution_rows > 0 {
                let token = self.loader.token(ATTRIBUTION_TABLE, &id);
                let sql =
                    raw::sql::insert_attributions(t, stage, path, (r.first, r.last), Some(&token));
                self.ch.query_with(&sql, &self.settings).await?;
                report.inserts += 1;
                let a = r.attribution_rows;
                *report
                    .rows
                    .entry(ATTRIBUTION_TABLE.to_string())
                    .or_default() += a;
                *counted.entry(ATTRIBUTION_TABLE.to_string()).or_default() += a;
            }
        }
        Ok(())
    }
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
