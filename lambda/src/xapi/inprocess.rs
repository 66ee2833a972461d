//! The in-process path: stream each file, decode and classify each line,
//! compute rows by the column tables, insert JSONEachRow batches.
//!
//! Files are read one after another, in name order, and rows accumulate
//! per table across files, so a load issues few inserts. Each insert's
//! deduplication token is a hash of exactly which file versions and lines
//! it holds: loading the same files again sends the same tokens, and
//! ClickHouse drops the repeated blocks.

use std::collections::BTreeMap;

use eventlog_core::xapi::check::{Judgement, judge_bytes};
use eventlog_core::xapi::columns::columns;
use eventlog_core::xapi::extract::{row, write_json_each_row};
use eventlog_core::xapi::sql::ident;
use eventlog_core::xapi::{Category, sha256_hex};

use super::files::{self, XapiFile};
use super::{EXAMPLES, FileProblem, InvalidLine, LoadPath, LoadReport, Loader};

struct Batch {
    category: Category,
    rows: Vec<u8>,
    count: usize,
    /// `file@version:first-last` per contributing file.
    members: Vec<String>,
}

impl Batch {
    fn new(category: Category) -> Self {
        Batch {
            category,
            rows: Vec::new(),
            count: 0,
            members: Vec::new(),
        }
    }
}

pub async fn load(loader: &Loader<'_>, files: &[XapiFile]) -> LoadReport {
    let mut report = LoadReport::new(LoadPath::InProcess, "", files.len());
    let mut batches: BTreeMap<Category, Batch> = Category::LOADED
        .iter()
        .map(|c| (*c, Batch::new(*c)))
        .collect();
    for file in files {
        let name = file.name();
        if !name.ends_with(".jsonl") {
            report.skipped_files.push(FileProblem {
                file: name,
                reason: String::from("not a .jsonl file"),
            });
            continue;
        }
        if let Err(e) = load_file(loader, file, &mut batches, &mut report).await {
            report.failed_files.push(FileProblem {
                file: name,
                reason: e,
            });
        }
    }
    for c in Category::LOADED {
        let b = batches.get_mut(&c).expect("every category has a batch");
        if let Err(e) = flush(loader, b, &mut report).await {
            report.failed_files.push(FileProblem {
                file: String::from("(final batch)"),
                reason: e,
            });
        }
    }
    report
}

async fn load_file(
    loader: &Loader<'_>,
    file: &XapiFile,
    batches: &mut BTreeMap<Category, Batch>,
    report: &mut LoadReport,
) -> Result<(), String> {
    let name = file.name();
    let mut opened = files::open(file, loader.s3).await?;
    let source_id = format!("{name}@{}", opened.version);
    let mut buf = Vec::new();
    let mut lineno = 0u64;
    let mut first: BTreeMap<Category, u64> = BTreeMap::new();
    let invalid = |report: &mut LoadReport, line: u64, reason: String| {
        report.invalid_lines += 1;
        if report.invalid.len() < EXAMPLES {
            report.invalid.push(InvalidLine {
                file: name.clone(),
                line,
                reason,
            });
        }
    };
    while let Some(read) = files::next_line(
        opened.reader.as_mut(),
        &mut buf,
        loader.settings.max_line_bytes,
    )
    .await
    .map_err(|e| format!("{name}: reading: {e}"))?
    {
        lineno += 1;
        if let Err(len) = read {
            invalid(
                report,
                lineno,
                format!(
                    "line of {len} bytes is over the {}-byte limit",
                    loader.settings.max_line_bytes
                ),
            );
            continue;
        }
        let (category, statement, checked) = match judge_bytes(&buf) {
            Judgement::Blank => continue,
            Judgement::Invalid { reason } => {
                invalid(report, lineno, reason);
                continue;
            }
            Judgement::Unknown { verb } => {
                *report.unknown_verbs.entry(verb).or_default() += 1;
                continue;
            }
            Judgement::Loadable {
                category,
                statement,
                schema,
            } => (category, statement, schema),
        };
        // Judged loadable, so UTF-8.
        let line = std::str::from_utf8(&buf).unwrap_or_default();
        if !checked.is_valid() {
            report.schema_warnings += 1;
            if report.schema_examples.len() < EXAMPLES {
                let what = checked
                    .issues
                    .iter()
                    .take(3)
                    .map(|i| format!("{}: {}", i.field, i.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                report.schema_examples.push(InvalidLine {
                    file: name.clone(),
                    line: lineno,
                    reason: what,
                });
            }
        }
        let cells = row(columns(category), &statement, line, &name);
        let batch = batches.get_mut(&category).expect("loaded category");
        let mut text = String::with_capacity(512);
        write_json_each_row(&mut text, columns(category), &cells);
        text.push('\n');
        batch.rows.extend_from_slice(text.as_bytes());
        batch.count += 1;
        *report
            .rows
            .entry(category.as_str().to_string())
            .or_default() += 1;
        first.entry(category).or_insert(lineno);
        if batch.count >= loader.settings.batch_rows {
            let start = first.remove(&category).unwrap_or(lineno);
            batch.members.push(format!("{source_id}:{start}-{lineno}"));
            flush(loader, batch, report).await?;
        }
    }
    for (category, start) in first {
        let batch = batches.get_mut(&category).expect("loaded category");
        batch.members.push(format!("{source_id}:{start}-{lineno}"));
    }
    Ok(())
}

async fn flush(
    loader: &Loader<'_>,
    batch: &mut Batch,
    report: &mut LoadReport,
) -> Result<(), String> {
    if batch.count == 0 {
        return Ok(());
    }
    let cols = columns(batch.category);
    let names = cols
        .iter()
        .map(|c| ident(c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let insert = format!(
        "INSERT INTO {} ({names})",
        loader.target().table(batch.category)
    );
    let token =
        sha256_hex(format!("{}|{}", batch.category.table(), batch.members.join("|")).as_bytes());
    let rows = std::mem::take(&mut batch.rows);
    let result = loader
        .ch
        .insert_json_rows(
            &insert,
            rows,
            &[
                ("insert_deduplication_token", token),
                ("date_time_input_format", String::from("basic")),
            ],
        )
        .await;
    batch.count = 0;
    batch.members.clear();
    report.inserts += 1;
    result
        .map(|_| ())
        .map_err(|e| format!("insert into {}: {e}", batch.category.table()))
}
