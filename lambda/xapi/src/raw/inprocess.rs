//! The raw-events target in-process: each object read and judged whole
//! before anything of it is inserted.
//!
//! An object whose rows fit one insert is kept in memory (RowBinary) from
//! that one read. A larger one is read to its end to judge it, keeping
//! nothing, then read again (the same version: S3 `If-Match`) and inserted
//! an insert at a time, so memory follows the insert size, not the
//! object. Inserts of different objects run in the background, up to
//! `insert_parallelism` at a time, while the next object is read.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use eventlog_core::xapi::extract::write_row_binary;
use eventlog_core::xapi::raw::{
    self, ATTRIBUTION_TABLE, Limits, Problem, Provenance, RAW, RAW_TABLE, attribution,
};
use eventlog_core::xapi::sql::ident;
use tokio::task::JoinSet;

use super::{bad_object, bounded_client, identity, time_for_insert};
use crate::clickhouse::ClickHouse;
use crate::config::{LoadTarget, RawSettings};
use crate::files::{self, Newlines, XapiFile};
use crate::{EXAMPLES, FileProblem, InvalidLine, LoadPath, LoadReport, Loader};

/// What an insert task needs, owned.
struct Ctx {
    ch: ClickHouse,
    s3: Option<aws_sdk_s3::Client>,
    database: String,
    salt: String,
    raw: RawSettings,
    max_line: usize,
    deadline: Option<tokio::time::Instant>,
    min_remaining_ms: u64,
}

impl Ctx {
    fn token(&self, table: &str, identity: &str) -> String {
        eventlog_core::xapi::sha256_hex(format!("{table}|{}|{identity}", self.salt).as_bytes())
    }

    fn limits(&self) -> Limits {
        Limits {
            max_attributions: self.raw.max_attributions,
        }
    }

    fn time_for_insert(&self) -> Result<(), String> {
        let Some(d) = self.deadline else {
            return Ok(());
        };
        let left = d.saturating_duration_since(tokio::time::Instant::now());
        if left.as_millis() < u128::from(self.min_remaining_ms) {
            Err(format!(
                "not inserted: {} ms left, and an insert needs at least {} ms (MIN_REMAINING_TIME_TO_START_INSERT_MS)",
                left.as_millis(),
                self.min_remaining_ms
            ))
        } else {
            Ok(())
        }
    }
}

/// Rows of a run of an object's statements, ready to insert.
#[derive(Default)]
struct Batch {
    first: u32,
    last: u32,
    raw: Vec<u8>,
    raw_rows: u64,
    attributions: Vec<u8>,
    attribution_rows: u64,
    types: BTreeMap<&'static str, u64>,
    /// The event hashes of its lines, folded in order.
    fold: u64,
}

/// A batch as the first read cut it: its line range and the fold of its
/// event hashes. The second read's batch must match it before it is
/// inserted, so an object that changed under an unchanged version (a
/// store that ignored `If-Match`, a file rewritten within its timestamp's
/// resolution) never has another object's rows stored under its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cut {
    first: u32,
    last: u32,
    fold: u64,
}

impl Batch {
    fn add(&mut self, line: u32, d: &raw::Derived) {
        if self.raw_rows == 0 {
            self.first = line;
        }
        self.last = line;
        self.fold = fold(self.fold, d.event_hash());
        write_row_binary(&mut self.raw, RAW, &d.raw);
        self.raw_rows += 1;
        for a in &d.attributions {
            write_row_binary(&mut self.attributions, attribution::COLUMNS, a);
            self.attribution_rows += 1;
        }
        *self.types.entry(d.event_type.as_str()).or_default() += 1;
    }

    /// The cut rule, the same on both reads: an insert ends after the line
    /// that reaches the row or byte bound.
    fn full(&self, s: &RawSettings) -> bool {
        self.raw_rows as usize >= s.rows_per_insert
            || self.raw.len() + self.attributions.len() >= s.bytes_per_insert
    }

    fn cut(&self) -> Cut {
        Cut {
            first: self.first,
            last: self.last,
            fold: self.fold,
        }
    }

    /// Empty again, keeping its buffers.
    fn clear(&mut self) {
        self.raw.clear();
        self.attributions.clear();
        self.types.clear();
        self.raw_rows = 0;
        self.attribution_rows = 0;
        self.fold = 0;
    }
}

/// `acc` with one more line's event hash (hex SHA-256) folded in; the
/// order of the lines counts.
fn fold(acc: u64, event_hash: &str) -> u64 {
    let head = event_hash
        .get(..16)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .unwrap_or(0);
    (acc.rotate_left(17) ^ head).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// An object judged loadable.
struct Prepared {
    index: usize,
    name: String,
    version: String,
    /// Its rows, when they fit one insert; else it is read again.
    rows: Option<Batch>,
    /// Each insert's lines, as the first read cut them, when it is read
    /// again.
    cuts: Vec<Cut>,
}

/// What the inserts of one object stored (counted only for inserts that
/// succeeded), and the failure that stopped them, if any.
#[derive(Default)]
struct Stored {
    raw_rows: u64,
    attribution_rows: u64,
    types: BTreeMap<&'static str, u64>,
    inserts: u64,
    failure: Option<(FileProblem, bool)>,
}

/// Load `files` into `raw_events` and `experiment_attributions`.
pub async fn load(loader: &Loader<'_>, files: &[XapiFile]) -> LoadReport {
    let ctx = Arc::new(Ctx {
        ch: bounded_client(loader),
        s3: loader.s3.cloned(),
        database: loader.ch.config().database.clone(),
        salt: loader.settings.token_salt.clone().unwrap_or_default(),
        raw: loader.settings.raw.clone(),
        max_line: loader.settings.max_line_bytes,
        deadline: loader.deadline,
        min_remaining_ms: loader.settings.raw.min_remaining_ms,
    });
    let mut report = LoadReport::new(LoadPath::InProcess, "", files.len());
    report.target = LoadTarget::RawEvents;
    let mut inflight: JoinSet<Stored> = JoinSet::new();
    let mut holding: BTreeMap<tokio::task::Id, usize> = BTreeMap::new();
    let mut unreachable: Option<String> = None;
    for (i, file) in files.iter().enumerate() {
        if !file.is_jsonl() {
            report
                .skipped_files
                .push(FileProblem::fixed(file.name(), "not a .jsonl file"));
            continue;
        }
        if let Some(why) = &unreachable {
            report.failed_files.push(FileProblem::retry(
                file.name(),
                format!("not loaded: {why}"),
            ));
            continue;
        }
        let prepared = match prepare(&ctx, i, file).await {
            Ok(p) => p,
            Err(problem) => {
                note_failure(&mut report, problem);
                continue;
            }
        };
        if let Err(why) = time_for_insert(loader) {
            report
                .failed_files
                .push(FileProblem::retry(file.name(), why));
            continue;
        }
        let task_ctx = ctx.clone();
        let task_file = file.clone();
        let index = prepared.index;
        let task =
            inflight.spawn(async move { insert_object(&task_ctx, &task_file, prepared).await });
        holding.insert(task.id(), index);
        while inflight.len() >= loader.settings.insert_parallelism.max(1) {
            if let Some(done) = inflight.join_next_with_id().await {
                settle(&mut report, files, &mut holding, done, &mut unreachable);
            }
        }
    }
    while let Some(done) = inflight.join_next_with_id().await {
        settle(&mut report, files, &mut holding, done, &mut unreachable);
    }
    report
}

fn note_failure(report: &mut LoadReport, problem: FileProblem) {
    if !problem.retryable && problem.line.is_some() {
        report.invalid_lines += 1;
        if report.invalid.len() < EXAMPLES {
            report.invalid.push(InvalidLine {
                file: problem.file.clone(),
                line: problem.physical_line.unwrap_or(0),
                reason: problem.reason.clone(),
            });
        }
    }
    report.failed_files.push(problem);
}

fn settle(
    report: &mut LoadReport,
    files: &[XapiFile],
    holding: &mut BTreeMap<tokio::task::Id, usize>,
    done: Result<(tokio::task::Id, Stored), tokio::task::JoinError>,
    unreachable: &mut Option<String>,
) {
    let stored = match done {
        Ok((id, d)) => {
            holding.remove(&id);
            d
        }
        Err(e) => {
            // A panicked task fails its file, like a failed insert.
            let file = holding
                .remove(&e.id())
                .map_or_else(String::new, |i| files[i].name());
            report.failed_files.push(FileProblem::retry(
                file,
                format!("the insert task failed: {e}"),
            ));
            return;
        }
    };
    *report.rows.entry(RAW_TABLE.to_string()).or_default() += stored.raw_rows;
    if stored.attribution_rows > 0 {
        *report
            .rows
            .entry(ATTRIBUTION_TABLE.to_string())
            .or_default() += stored.attribution_rows;
    }
    for (t, n) in stored.types {
        *report.event_types.entry(t.to_string()).or_default() += n;
    }
    report.inserts += stored.inserts;
    if let Some((problem, lost)) = stored.failure {
        if lost && unreachable.is_none() {
            *unreachable = Some(format!(
                "ClickHouse could not be reached ({})",
                problem.reason
            ));
        }
        note_failure(report, problem);
    }
}

/// Read and judge an object whole.
async fn prepare(ctx: &Ctx, index: usize, file: &XapiFile) -> Result<Prepared, FileProblem> {
    let name = file.name();
    let read_failed = |e: crate::XapiError| {
        let retry = e.is_retryable();
        let p = FileProblem::retry(&name, e.to_string());
        FileProblem {
            retryable: retry,
            ..p
        }
    };
    let mut opened = files::open(file, ctx.s3.as_ref(), ctx.deadline)
        .await
        .map_err(read_failed)?;
    if let (Some(max), Some(size)) = (ctx.raw.max_object_bytes, opened.size)
        && size > max
    {
        return Err(FileProblem {
            code: Some(String::from("object_too_large")),
            ..FileProblem::content(
                &name,
                format!("the object is {size} bytes, over MAX_S3_OBJECT_BYTES ({max})"),
            )
        });
    }
    let prov = Provenance {
        file: &name,
        etag: opened.etag.as_deref(),
    };
    let mut judge = Judge {
        ctx,
        prov,
        limits: ctx.limits(),
        batch: Batch::default(),
        cuts: Vec::new(),
        times: attribution::TimeKind::None,
        physical: 0,
        n: 0,
    };
    let mut buf = Vec::new();
    let judged = files::each_line(
        opened.reader.as_mut(),
        &mut buf,
        ctx.max_line,
        Newlines::Universal,
        |read| judge.line(read),
    )
    .await
    .map_err(|e| FileProblem::read(&name, format!("reading: {e}"), true))?;
    if let ControlFlow::Break(problem) = judged {
        return Err(problem);
    }
    let (rows, cuts) = if judge.cuts.is_empty() {
        (Some(judge.batch), Vec::new())
    } else {
        let mut cuts = judge.cuts;
        cuts.push(judge.batch.cut());
        (None, cuts)
    };
    Ok(Prepared {
        index,
        name: name.clone(),
        version: opened.version,
        rows,
        cuts,
    })
}

/// The first read's judgement of an object, line by line.
struct Judge<'a> {
    ctx: &'a Ctx,
    prov: Provenance<'a>,
    limits: Limits,
    /// The rows of the current insert.
    batch: Batch,
    /// The inserts before it.
    cuts: Vec<Cut>,
    times: attribution::TimeKind,
    /// The physical line, and the non-empty line (`source_line`).
    physical: u64,
    n: u32,
}

impl Judge<'_> {
    /// One line; `Break` with the problem that fails the object.
    fn line(&mut self, read: Result<&[u8], usize>) -> ControlFlow<FileProblem> {
        self.physical += 1;
        let line = match read {
            Ok([]) => return ControlFlow::Continue(()),
            Ok(line) => line,
            Err(len) => {
                self.n += 1;
                let p = Problem::new(
                    "line",
                    "line_too_long",
                    format!(
                        "the line is {len} bytes, over the {}-byte limit",
                        self.ctx.max_line
                    ),
                );
                return ControlFlow::Break(self.bad(&p));
            }
        };
        self.n += 1;
        let d = match raw::derive(line, &self.prov, self.n, &self.limits) {
            Ok(d) => d,
            Err(p) => return ControlFlow::Break(self.bad(&p)),
        };
        self.times = match self.times.join(d.attribution_times) {
            Ok(t) => t,
            Err(p) => return ControlFlow::Break(self.bad(&p)),
        };
        // Only the current insert's rows are kept: a second insert means
        // the object is read again when it is inserted, and checked
        // against these cuts.
        if self.batch.full(&self.ctx.raw) {
            self.cuts.push(self.batch.cut());
            self.batch.clear();
        }
        self.batch.add(self.n, &d);
        ControlFlow::Continue(())
    }

    fn bad(&self, p: &Problem) -> FileProblem {
        bad_object(self.prov.file, u64::from(self.n), self.physical, p)
    }
}

/// Insert a prepared object: its one batch, or its batches as a second
/// read cuts them. Stops at the first failure.
async fn insert_object(ctx: &Ctx, file: &XapiFile, p: Prepared) -> Stored {
    let mut stored = Stored::default();
    if let Some(batch) = p.rows {
        if batch.raw_rows > 0 {
            insert_batch(ctx, &p.name, &p.version, batch, &mut stored).await;
        }
        return stored;
    }
    if let Err(why) = insert_read_again(ctx, file, &p, &mut stored).await {
        stored.failure = Some((FileProblem::read(&p.name, why, true), false));
    }
    stored
}

/// The second read of an object too large to keep: its batches cut and
/// inserted as they fill. `Err` is a read that failed.
async fn insert_read_again(
    ctx: &Ctx,
    file: &XapiFile,
    p: &Prepared,
    stored: &mut Stored,
) -> Result<(), String> {
    let mut opened = files::open_version(file, ctx.s3.as_ref(), Some(&p.version), ctx.deadline)
        .await
        .map_err(|e| format!("reading it again to insert: {e}"))?;
    let prov = Provenance {
        file: &p.name,
        etag: opened.etag.as_deref(),
    };
    let limits = ctx.limits();
    let mut batch = Batch::default();
    let mut n = 0u32;
    let mut buf = Vec::new();
    let unreadable = || String::from("the object could not be read again to insert it");
    let changed = || String::from("the object changed between its two reads");
    let mut cuts = p.cuts.iter();
    loop {
        // The walk stops at a full batch, which is inserted before it goes
        // on from the next line, and at the end of the object.
        let walk = files::each_line(
            opened.reader.as_mut(),
            &mut buf,
            ctx.max_line,
            Newlines::Universal,
            |read| {
                let line = match read {
                    Ok([]) => return ControlFlow::Continue(()),
                    Ok(line) => line,
                    Err(_) => return ControlFlow::Break(Err(changed())),
                };
                n += 1;
                match raw::derive(line, &prov, n, &limits) {
                    Ok(d) => batch.add(n, &d),
                    Err(_) => return ControlFlow::Break(Err(changed())),
                }
                if batch.full(&ctx.raw) {
                    ControlFlow::Break(Ok(()))
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .await
        .map_err(|_| unreadable())?;
        let at_end = match walk {
            ControlFlow::Break(Err(why)) => return Err(why),
            ControlFlow::Break(Ok(())) => false,
            ControlFlow::Continue(()) => true,
        };
        if batch.raw_rows > 0 {
            // Only the rows the first read judged are inserted.
            if cuts.next() != Some(&batch.cut()) {
                return Err(changed());
            }
            insert_batch(ctx, &p.name, &p.version, std::mem::take(&mut batch), stored).await;
            if stored.failure.is_some() {
                return Ok(());
            }
        }
        if at_end {
            // Fewer lines than the first read found.
            return match cuts.next() {
                None => Ok(()),
                Some(_) => Err(changed()),
            };
        }
    }
}

/// One batch: its raw rows, then (after they succeed) its attribution rows.
async fn insert_batch(ctx: &Ctx, name: &str, version: &str, b: Batch, stored: &mut Stored) {
    if let Err(why) = ctx.time_for_insert() {
        stored.failure = Some((FileProblem::retry(name, why), false));
        return;
    }
    let id = identity(name, version, b.first, b.last);
    let insert = |table: &str, names: Vec<&str>| {
        format!(
            "INSERT INTO {}.{} ({})",
            ident(&ctx.database),
            ident(table),
            names
                .iter()
                .map(|c| ident(c))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let raw_sql = insert(RAW_TABLE, RAW.iter().map(|c| c.name).collect());
    let settings = [("insert_deduplication_token", ctx.token(RAW_TABLE, &id))];
    if let Err(e) = ctx
        .ch
        .insert_rows(&raw_sql, "RowBinary", b.raw, &settings)
        .await
    {
        let lost = e.is_unreachable();
        stored.failure = Some((
            FileProblem::retry(name, format!("insert into {RAW_TABLE}: {e}")),
            lost,
        ));
        return;
    }
    stored.inserts += 1;
    stored.raw_rows += b.raw_rows;
    for (t, n) in b.types {
        *stored.types.entry(t).or_default() += n;
    }
    if b.attribution_rows == 0 {
        return;
    }
    let sql = insert(
        ATTRIBUTION_TABLE,
        attribution::COLUMNS.iter().map(|c| c.name).collect(),
    );
    let settings = [(
        "insert_deduplication_token",
        ctx.token(ATTRIBUTION_TABLE, &id),
    )];
    match ctx
        .ch
        .insert_rows(&sql, "RowBinary", b.attributions, &settings)
        .await
    {
        Ok(_) => {
            stored.inserts += 1;
            stored.attribution_rows += b.attribution_rows;
        }
        Err(e) => {
            // The raw rows stay; loading the object again inserts the
            // attributions and finds the raw rows already there.
            let lost = e.is_unreachable();
            stored.failure = Some((
                FileProblem::retry(name, format!("insert into {ATTRIBUTION_TABLE}: {e}")),
                lost,
            ));
        }
    }
}
