//! `eventlog xapi check PATH...`: what the loader would make of each line,
//! without ClickHouse or S3. Files are read line by line (any size).

use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use eventlog::walk;
use eventlog_checkpoint::summary::plural;
use eventlog_core::report::write_json_str;
use eventlog_core::xapi::check::{Judgement, Tally, write_line_json};

use crate::validate::Format;

#[derive(clap::Args)]
pub struct Args {
    /// Output format: text (problems per file and a summary) or json (one
    /// object per non-blank line, as the WebAssembly `checkXapiJson`).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    target: crate::xapi::TargetArg,
    /// Lines longer than this are reported, not kept (the loader's limit).
    #[arg(long, default_value_t = 16 << 20)]
    max_line_bytes: usize,
    /// Attributions a statement may carry (raw-events target).
    #[arg(
        long,
        env = "MAX_EXPERIMENT_ATTRIBUTIONS_PER_STATEMENT",
        default_value_t = 100
    )]
    max_attributions: usize,
    /// Files, or directories to search recursively for *.jsonl files.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

/// Exit 0 when every line loads cleanly (unknown statements are fine),
/// 1 when a line is invalid or breaks the statement schema, 2 when a file
/// cannot be read.
pub fn run(args: Args) -> ExitCode {
    if args.target.target == crate::xapi::TargetChoice::RawEvents {
        return raw::run(
            &args.paths,
            args.format,
            args.max_attributions,
            args.max_line_bytes,
        );
    }
    let (files, walk_errors) = walk::jsonl_files(&args.paths);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut total = Tally::default();
    let mut unreadable = walk_errors.len();
    for e in &walk_errors {
        unreadable_line(
            &mut out,
            args.format,
            &e.path.display().to_string(),
            &e.source.to_string(),
        );
    }
    for path in &files {
        let shown = path.display().to_string();
        match check_file(&mut out, args.format, path, &shown, args.max_line_bytes) {
            Ok(t) => total.absorb(&t),
            Err(e) => {
                unreadable += 1;
                unreadable_line(&mut out, args.format, &shown, &e.to_string());
            }
        }
    }
    if args.format == Format::Text {
        let _ = writeln!(
            out,
            "{}: {}{}",
            plural(files.len() + walk_errors.len(), "file", "files"),
            summary(&total),
            if unreadable > 0 {
                format!(
                    ", {}",
                    plural(unreadable, "unreadable file", "unreadable files")
                )
            } else {
                String::new()
            }
        );
    }
    let _ = out.flush();
    if files.is_empty() && walk_errors.is_empty() {
        eprintln!("eventlog xapi check: no .jsonl files found under the given paths");
        return ExitCode::from(2);
    }
    if unreadable > 0 {
        ExitCode::from(2)
    } else if total.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn summary(t: &Tally) -> String {
    format!(
        "{} loadable ({} with schema issues), {} unknown, {} invalid",
        t.loadable, t.schema_warnings, t.unknown, t.invalid
    )
}

/// Lines end at `\n`, like the loader's reader and the core's
/// `check_jsonl`, so the JSON output is the WebAssembly checker's.
fn check_file(
    out: &mut impl Write,
    format: Format,
    path: &std::path::Path,
    shown: &str,
    max: usize,
) -> std::io::Result<Tally> {
    let mut reader = BufReader::new(eventlog_store::local::open_regular(path)?);
    let mut buf = Vec::new();
    let mut tally = Tally::default();
    let mut lineno = 0u64;
    while let Some(read) = walk::next_line(&mut reader, &mut buf, max, false)? {
        lineno += 1;
        let j = match read {
            Ok(()) => match tally.judge(&buf) {
                Some(j) => j,
                None => continue,
            },
            Err(len) => {
                let j = Judgement::Invalid {
                    reason: format!("line of {len} bytes is over the {max}-byte limit"),
                };
                tally.invalid += 1;
                buf.clear();
                j
            }
        };
        match format {
            Format::Json => {
                let mut line = String::with_capacity(256);
                let text = std::str::from_utf8(&buf).unwrap_or("");
                write_line_json(&mut line, Some(shown), lineno, text, &j);
                let _ = writeln!(out, "{line}");
            }
            Format::Text => match &j {
                // Streamed as found (`file:line:`, as compilers print),
                // so a large file's problems need no memory.
                Judgement::Invalid { reason } => {
                    let _ = writeln!(out, "{shown}:{lineno}: invalid: {reason}");
                }
                Judgement::Loadable { schema, .. } if !schema.is_valid() => {
                    for i in &schema.issues {
                        let _ = writeln!(
                            out,
                            "{shown}:{lineno}: schema: {}: {} [{}]",
                            i.field, i.message, i.code
                        );
                    }
                }
                _ => {}
            },
        }
    }
    if format == Format::Text {
        let mark = if tally.is_clean() { "ok" } else { "PROBLEMS" };
        let _ = writeln!(out, "{mark} {shown}: {}", summary(&tally));
    }
    Ok(tally)
}

fn unreadable_line(out: &mut impl Write, format: Format, path: &str, why: &str) {
    match format {
        Format::Json => {
            let mut line = String::from("{\"file\":");
            write_json_str(&mut line, path);
            line.push_str(",\"line\":0,\"verdict\":\"unreadable\",\"reason\":");
            write_json_str(&mut line, &format!("cannot read the file: {why}"));
            line.push('}');
            let _ = writeln!(out, "{line}");
        }
        Format::Text => {
            let _ = writeln!(
                out,
                "UNREADABLE {path}\n        cannot read the file: {why}"
            );
        }
    }
}

/// The raw-events target: each file is an object that loads whole or not
/// at all.
mod raw {
    use std::io::{BufReader, Write};
    use std::path::PathBuf;
    use std::process::ExitCode;

    use eventlog::walk;
    use eventlog_core::xapi::raw::Limits;
    use eventlog_core::xapi::raw::Problem;
    use eventlog_core::xapi::raw::attribution::TimeKind;
    use eventlog_core::xapi::raw::check::{LineVerdict, Tally, judge, write_line_json};

    use super::{plural, unreadable_line};
    use crate::validate::Format;

    /// Exit 0 when every object loads, 1 when one would fail, 2 when a
    /// file cannot be read.
    pub fn run(
        paths: &[PathBuf],
        format: Format,
        max_attributions: usize,
        max_line: usize,
    ) -> ExitCode {
        let (files, walk_errors) = walk::jsonl_files(paths);
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let limits = Limits {
            max_attributions: max_attributions.max(1),
        };
        let mut unreadable = walk_errors.len();
        for e in &walk_errors {
            unreadable_line(
                &mut out,
                format,
                &e.path.display().to_string(),
                &e.source.to_string(),
            );
        }
        let (mut loading, mut failing) = (0usize, 0usize);
        for path in &files {
            let shown = path.display().to_string();
            match check_file(&mut out, format, path, &shown, &limits, max_line) {
                Ok(t) if t.loads() => loading += 1,
                Ok(_) => failing += 1,
                Err(e) => {
                    unreadable += 1;
                    unreadable_line(&mut out, format, &shown, &e.to_string());
                }
            }
        }
        if format == Format::Text {
            let _ = writeln!(
                out,
                "{}: {loading} would load, {failing} would not{}",
                plural(files.len() + walk_errors.len(), "file", "files"),
                if unreadable > 0 {
                    format!(", {unreadable} unreadable")
                } else {
                    String::new()
                }
            );
        }
        let _ = out.flush();
        if files.is_empty() && walk_errors.is_empty() {
            eprintln!("eventlog xapi check: no .jsonl files found under the given paths");
            return ExitCode::from(2);
        }
        if unreadable > 0 {
            ExitCode::from(2)
        } else if failing > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }

    fn check_file(
        out: &mut impl Write,
        format: Format,
        path: &std::path::Path,
        shown: &str,
        limits: &Limits,
        max_line: usize,
    ) -> std::io::Result<Tally> {
        let mut reader = BufReader::new(eventlog_store::local::open_regular(path)?);
        let mut buf = Vec::new();
        let mut tally = Tally::default();
        let mut times = TimeKind::None;
        let (mut physical, mut n) = (0u64, 0u32);
        let mut types: std::collections::BTreeMap<&str, u64> = Default::default();
        while let Some(read) = eventlog::walk::next_line(&mut reader, &mut buf, max_line, true)? {
            physical += 1;
            if read.is_ok() && buf.is_empty() {
                continue;
            }
            n += 1;
            let v = match read {
                Ok(()) => judge(&buf, n, shown, limits, &mut times),
                Err(len) => LineVerdict {
                    event_type: None,
                    event_hash: String::new(),
                    attributions: 0,
                    problem: Some(Problem::new(
                        "line",
                        "line_too_long",
                        format!("the line is {len} bytes, over the {max_line}-byte limit"),
                    )),
                },
            };
            tally.statements += 1;
            tally.attributions += v.attributions as u64;
            if v.problem.is_some() {
                tally.failing += 1;
                tally.first_failing.get_or_insert(physical);
            } else if let Some(t) = v.event_type {
                *types.entry(t).or_default() += 1;
            }
            write_verdict(out, format, shown, (physical, n), &v);
        }
        if format == Format::Text {
            write_file_summary(out, shown, &tally, &types);
        }
        Ok(tally)
    }

    /// One line's verdict: every line in JSON, problems only in text.
    fn write_verdict(
        out: &mut impl Write,
        format: Format,
        shown: &str,
        (physical, n): (u64, u32),
        v: &LineVerdict,
    ) {
        match format {
            Format::Json => {
                let mut line = String::with_capacity(200);
                write_line_json(&mut line, Some(shown), physical, n, v);
                let _ = writeln!(out, "{line}");
            }
            Format::Text => {
                if let Some(p) = &v.problem {
                    let _ = writeln!(
                        out,
                        "{shown}:{physical}: {}: {} [{}]",
                        p.field, p.message, p.code
                    );
                }
            }
        }
    }

    fn write_file_summary(
        out: &mut impl Write,
        shown: &str,
        tally: &Tally,
        types: &std::collections::BTreeMap<&str, u64>,
    ) {
        let kinds: Vec<String> = types.iter().map(|(t, n)| format!("{n} {t}")).collect();
        if tally.loads() {
            let _ = writeln!(
                out,
                "ok {shown}: {} statement(s) would load ({}), {} attribution row(s)",
                tally.statements,
                if kinds.is_empty() {
                    String::from("none")
                } else {
                    kinds.join(", ")
                },
                tally.attributions
            );
        } else {
            let _ = writeln!(
                out,
                "FAILS {shown}: nothing of this file would load: {} of {} statement(s) fail it, the first at line {}",
                tally.failing,
                tally.statements,
                tally.first_failing.unwrap_or(0)
            );
        }
    }
}
