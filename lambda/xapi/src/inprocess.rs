//! The in-process path: stream each file, decode and classify each line,
//! compute rows by the column tables, insert batches (RowBinary by
//! default).
//!
//! Files are read one after another, in name order (the next one opened
//! while the current one is read); rows accumulate per table within a
//! file, and a file's last rows go out when it ends, so that an insert
//! holds one object's rows only. A full batch is sent in the
//! background while the next rows are read and converted, up to
//! `insert_parallelism` inserts at a time. Each batch knows
//! whose rows it holds (file version and line range per member): a failed
//! insert fails every file in it, and rows are counted only once their
//! insert succeeded, so the report never claims a row that is not in the
//! table. Each insert's deduplication token is a hash of exactly those
//! members: loading the same file versions again sends the same tokens, and
//! ClickHouse drops the repeated blocks.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use eventlog_core::xapi::Category;
use eventlog_core::xapi::check::{Judgement, judge_bytes};
use eventlog_core::xapi::columns::columns;
use eventlog_core::xapi::extract::{row, write_json_each_row, write_row_binary};
use eventlog_core::xapi::sql::ident;
use tokio::task::{JoinHandle, JoinSet};

use crate::clickhouse::{ClickHouseError, Summary};
use crate::config::InsertFormat;
use crate::files::{self, Newlines, Opened, XapiFile};
use crate::{EXAMPLES, FileProblem, InvalidLine, LoadPath, LoadReport, Loader, XapiError};

/// A contiguous run of one file's rows inside a batch.
struct Member {
    file: usize,
    first_line: u64,
    last_line: u64,
    rows: u64,
}

struct Batch {
    category: Category,
    rows: Vec<u8>,
    count: usize,
    members: Vec<Member>,
}

struct Load<'l, 'a> {
    loader: &'l Loader<'a>,
    files: &'l [XapiFile],
    /// `name@version` of each opened file, for tokens.
    versions: Vec<Option<String>>,
    /// Tables to load; `None`: all five.
    only: Option<&'l BTreeSet<Category>>,
    batches: BTreeMap<Category, Batch>,
    /// Inserts in flight, and whose rows each holds.
    inflight: JoinSet<Result<Summary, ClickHouseError>>,
    sent: BTreeMap<tokio::task::Id, (Category, Vec<Member>)>,
    /// The next file, being opened while this one is read.
    next: Option<(usize, JoinHandle<Result<Opened, XapiError>>)>,
    /// First failure per file.
    failed: BTreeMap<usize, String>,
    /// Set once ClickHouse could not be reached even after retries: the
    /// rest of the load is not attempted (each insert would wait out its
    /// retries the same way), and its files fail with this reason.
    unreachable: Option<String>,
    report: LoadReport,
}

/// Load `files` in-process. With `only`, rows of other tables are neither
/// inserted nor counted (they were loaded by another path already).
pub async fn load(
    loader: &Loader<'_>,
    files: &[XapiFile],
    only: Option<&BTreeSet<Category>>,
) -> LoadReport {
    let mut run = Load {
        loader,
        files,
        versions: vec![None; files.len()],
        only,
        batches: Category::LOADED
            .iter()
            .map(|c| {
                (
                    *c,
                    Batch {
                        category: *c,
                        rows: Vec::new(),
                        count: 0,
                        members: Vec::new(),
                    },
                )
            })
            .collect(),
        inflight: JoinSet::new(),
        sent: BTreeMap::new(),
        next: None,
        failed: BTreeMap::new(),
        unreachable: None,
        report: LoadReport::new(LoadPath::InProcess, "", files.len()),
    };
    for (i, file) in files.iter().enumerate() {
        let name = file.name();
        if !file.is_jsonl() {
            run.report
                .skipped_files
                .push(FileProblem::fixed(name, "not a .jsonl file"));
            continue;
        }
        if let Some(why) = &run.unreachable {
            let reason = format!("not loaded: {why}");
            run.fail(i, reason);
            continue;
        }
        if let Err(e) = run.load_file(i).await {
            run.fail(i, e.to_string());
        }
    }
    for c in Category::LOADED {
        run.flush(c).await;
    }
    while let Some(done) = run.inflight.join_next_with_id().await {
        run.settle(done);
    }
    let Load {
        mut report, failed, ..
    } = run;
    report.failed_files = failed
        .into_iter()
        .map(|(i, reason)| FileProblem::retry(files[i].name(), reason))
        .collect();
    report
}

impl Load<'_, '_> {
    fn fail(&mut self, file: usize, reason: String) {
        self.failed.entry(file).or_insert(reason);
    }

    fn invalid(&mut self, file: usize, line: u64, reason: String) {
        self.report.invalid_lines += 1;
        if self.report.invalid.len() < EXAMPLES {
            self.report.invalid.push(InvalidLine {
                file: self.files[file].name(),
                line,
                reason,
            });
        }
    }

    async fn load_file(&mut self, i: usize) -> Result<(), XapiError> {
        let name = self.files[i].name();
        let max = self.loader.settings.max_line_bytes;
        let mut opened = self.open(i).await?;
        self.versions[i] = Some(format!("{name}@{}", opened.version));
        let mut buf = Vec::new();
        let mut lineno = 0u64;
        loop {
            let walk = files::each_line(
                opened.reader.as_mut(),
                &mut buf,
                max,
                Newlines::Lf,
                |read| {
                    lineno += 1;
                    if self.failed.contains_key(&i) {
                        // An insert holding this file's rows failed: the file
                        // is reported failed and loads again next time, whole.
                        return ControlFlow::Break(None);
                    }
                    match read {
                        Err(len) => {
                            let reason =
                                format!("line of {len} bytes is over the {max}-byte limit");
                            self.invalid(i, lineno, reason);
                            ControlFlow::Continue(())
                        }
                        // A full batch stops the walk to be sent; the walk
                        // then goes on from the next line.
                        Ok(line) => match self.take_line(i, &name, lineno, line) {
                            Some(full) => ControlFlow::Break(Some(full)),
                            None => ControlFlow::Continue(()),
                        },
                    }
                },
            )
            .await
            .map_err(|e| XapiError::read(&name, format!("reading: {e}"), true))?;
            match walk {
                ControlFlow::Continue(()) => break,
                ControlFlow::Break(None) => return Ok(()),
                ControlFlow::Break(Some(full)) => self.flush(full).await,
            }
        }
        // Batches never hold two files' rows: each insert's token is about
        // one object, so loading some of the files again (the failed ones)
        // repeats exactly their tokens.
        for c in Category::LOADED {
            self.flush(c).await;
        }
        Ok(())
    }

    /// Add a line's row to its category's batch; the category, when that
    /// batch is now full. `name` is file `i`'s, spelled once per file.
    fn take_line(&mut self, i: usize, name: &str, lineno: u64, raw: &[u8]) -> Option<Category> {
        let (category, statement, checked) = match judge_bytes(raw) {
            Judgement::Blank => return None,
            Judgement::Invalid { reason } => {
                self.invalid(i, lineno, reason);
                return None;
            }
            Judgement::Unknown { verb } => {
                *self.report.unknown_verbs.entry(verb).or_default() += 1;
                return None;
            }
            Judgement::Loadable {
                category,
                statement,
                schema,
            } => (category, statement, schema),
        };
        if self.only.is_some_and(|o| !o.contains(&category)) {
            return None;
        }
        if !checked.is_valid() {
            self.report.schema_warnings += 1;
            if self.report.schema_examples.len() < EXAMPLES {
                let what = checked
                    .issues
                    .iter()
                    .take(3)
                    .map(|i| format!("{}: {}", i.field, i.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                self.report.schema_examples.push(InvalidLine {
                    file: self.files[i].name(),
                    line: lineno,
                    reason: what,
                });
            }
        }
        // Judged loadable, so UTF-8.
        let line = std::str::from_utf8(raw).unwrap_or_default();
        let cells = row(columns(category), &statement, line, name);
        let batch = self.batches.get_mut(&category).expect("loaded category");
        match self.loader.settings.insert_format {
            InsertFormat::RowBinary => write_row_binary(&mut batch.rows, columns(category), &cells),
            InsertFormat::JsonEachRow => {
                let mut text = String::with_capacity(512);
                write_json_each_row(&mut text, columns(category), &cells);
                text.push('\n');
                batch.rows.extend_from_slice(text.as_bytes());
            }
        }
        batch.count += 1;
        match batch.members.last_mut() {
            Some(m) if m.file == i => {
                m.last_line = lineno;
                m.rows += 1;
            }
            _ => batch.members.push(Member {
                file: i,
                first_line: lineno,
                last_line: lineno,
                rows: 1,
            }),
        }
        let s = &self.loader.settings;
        (batch.count >= s.batch_rows || batch.rows.len() >= s.batch_bytes).then_some(category)
    }

    /// Send a category's batch in the background; wait only while
    /// `insert_parallelism` inserts are already in flight. Its rows count
    /// when it comes back (see [`Load::settle`]).
    async fn flush(&mut self, category: Category) {
        let batch = self.batches.get_mut(&category).expect("loaded category");
        if batch.count == 0 {
            return;
        }
        let members = std::mem::take(&mut batch.members);
        let rows = std::mem::take(&mut batch.rows);
        batch.count = 0;
        if let Some(why) = &self.unreachable {
            let reason = format!("not inserted: {why}");
            for m in &members {
                self.fail(m.file, reason.clone());
            }
            return;
        }
        let cols = columns(batch.category);
        let names = cols
            .iter()
            .map(|c| ident(c.name))
            .collect::<Vec<_>>()
            .join(", ");
        let insert = format!(
            "INSERT INTO {} ({names})",
            self.loader.target().table(category)
        );
        let identity = members
            .iter()
            .map(|m| {
                let source = self.versions[m.file].as_deref().unwrap_or("");
                format!("{source}:{}-{}", m.first_line, m.last_line)
            })
            .collect::<Vec<_>>()
            .join("|");
        let token = self.loader.token(category.table(), &identity);
        let ch = self.loader.ch.clone();
        let format = self.loader.settings.insert_format.name();
        let task = self.inflight.spawn(async move {
            let settings = [
                ("insert_deduplication_token", token),
                ("date_time_input_format", String::from("basic")),
            ];
            ch.insert_rows(&insert, format, rows, &settings).await
        });
        self.sent.insert(task.id(), (category, members));
        self.report.inserts += 1;
        while let Some(done) = self.inflight.try_join_next_with_id() {
            self.settle(done);
        }
        while self.inflight.len() >= self.loader.settings.insert_parallelism {
            match self.inflight.join_next_with_id().await {
                Some(done) => self.settle(done),
                None => break,
            }
        }
    }

    /// An insert came back. Success counts its rows; failure fails every
    /// file with rows in it (a panicked task is a failure too).
    fn settle(
        &mut self,
        done: Result<(tokio::task::Id, Result<Summary, ClickHouseError>), tokio::task::JoinError>,
    ) {
        let (id, result) = match done {
            Ok((id, r)) => (id, r.map_err(|e| (e.is_unreachable(), e.to_string()))),
            Err(e) => (e.id(), Err((false, format!("the insert task failed: {e}")))),
        };
        let Some((category, members)) = self.sent.remove(&id) else {
            return;
        };
        match result {
            Ok(_) => {
                let loaded: u64 = members.iter().map(|m| m.rows).sum();
                *self
                    .report
                    .rows
                    .entry(category.as_str().to_string())
                    .or_default() += loaded;
            }
            Err((unreachable, e)) => {
                let reason = format!("insert into {}: {e}", category.table());
                if unreachable {
                    self.unreachable = Some(format!("ClickHouse could not be reached ({e})"));
                }
                for m in &members {
                    self.fail(m.file, reason.clone());
                }
            }
        }
    }

    /// File `i`, opened (or being opened) ahead, and the one after it
    /// started.
    async fn open(&mut self, i: usize) -> Result<Opened, XapiError> {
        let ahead = match self.next.take() {
            Some((n, handle)) if n == i => Some(handle),
            Some((_, handle)) => {
                handle.abort();
                None
            }
            None => None,
        };
        let current = ahead.unwrap_or_else(|| self.spawn_open(i));
        if let Some(n) = (i + 1..self.files.len()).find(|n| self.files[*n].is_jsonl()) {
            self.next = Some((n, self.spawn_open(n)));
        }
        match current.await {
            Ok(opened) => opened,
            Err(e) => Err(XapiError::read(
                self.files[i].name(),
                format!("opening: {e}"),
                true,
            )),
        }
    }

    fn spawn_open(&self, i: usize) -> JoinHandle<Result<Opened, XapiError>> {
        let file = self.files[i].clone();
        let (s3, deadline) = (self.loader.s3.cloned(), self.loader.deadline);
        tokio::spawn(async move { files::open(&file, s3.as_ref(), deadline).await })
    }
}
