//! `eventlog validate PATH...`

use eventlog_checkpoint::summary::plural;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use eventlog::walk;
use eventlog_checkpoint::fetch::check_isolated;
use eventlog_core::Code;
use eventlog_core::Issue;
use eventlog_core::report::{write_issues, write_json_str};
use eventlog_core::visit::FileReport;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A line per file, problems indented below it, a summary at the end.
    Text,
    /// One JSON object per file (JSON Lines): path, valid, event, errors, name_findings.
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Files larger than this are reported, not read (the checkpoint
    /// pipeline's limit).
    #[arg(long, env = "EVENTLOG_MAX_OBJECT_BYTES", default_value_t = 1 << 20)]
    max_object_bytes: u64,
    /// Files, or directories to search recursively for *.json files.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub fn run(args: Args) -> ExitCode {
    let (files, walk_errors) = walk::json_files(&args.paths);
    let stdout = std::io::stdout();
    let color = args.format == Format::Text
        && stdout.is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut counts = Counts::default();

    for e in &walk_errors {
        counts.io_errors += 1;
        emit_unreadable(
            &mut out,
            args.format,
            &e.path.display().to_string(),
            Code::Unreadable,
            &format!("cannot read the file: {}", e.source),
            color,
        );
    }
    let mut buf = Vec::new();
    for path in &files {
        let read = walk::read_capped_into(path, args.max_object_bytes, &mut buf).map(|()| &buf[..]);
        check_one(&mut out, path, read, args.format, color, &mut counts);
    }
    if args.format == Format::Text {
        let _ = writeln!(out, "{}", counts.summary());
    }
    let _ = out.flush();
    if counts.io_errors + counts.internal > 0 || (files.is_empty() && walk_errors.is_empty()) {
        if files.is_empty() && walk_errors.is_empty() {
            eprintln!("eventlog validate: no .json files found under the given paths");
        }
        ExitCode::from(2)
    } else if counts.invalid > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Read and check one file, print its report.
fn check_one(
    out: &mut impl Write,
    path: &std::path::Path,
    read: std::io::Result<&[u8]>,
    format: Format,
    color: bool,
    counts: &mut Counts,
) {
    // Most names are UTF-8: taken as they are, not through the lossy path.
    let shown = path
        .to_str()
        .map_or_else(|| path.display().to_string(), str::to_owned);
    let bytes = match read {
        Ok(b) => b,
        Err(e) => {
            counts.io_errors += 1;
            let why = format!("cannot read the file: {e}");
            emit_unreadable(out, format, &shown, Code::Unreadable, &why, color);
            return;
        }
    };
    match check_isolated(&shown, bytes) {
        Ok(report) => {
            counts.add(&report);
            match format {
                Format::Json => {
                    let _ = writeln!(out, "{}", report.to_json());
                }
                Format::Text => write_text(out, &report, color),
            }
        }
        Err(message) => {
            counts.internal += 1;
            emit_unreadable(out, format, &shown, Code::InternalError, &message, color);
        }
    }
}

#[derive(Default)]
struct Counts {
    valid: usize,
    invalid: usize,
    io_errors: usize,
    internal: usize,
    name_findings: usize,
    /// Files the pipeline will never read because of their name.
    not_read: usize,
}

impl Counts {
    /// The last line of the text output.
    fn summary(&self) -> String {
        let part = |n: usize, text: &str| {
            if n > 0 {
                format!(", {n} {text}")
            } else {
                String::new()
            }
        };
        let total = self.valid + self.invalid + self.io_errors + self.internal;
        format!(
            "{}: {} valid, {} invalid{}{}{}{}",
            plural(total, "file", "files"),
            self.valid,
            self.invalid,
            part(self.io_errors, "unreadable"),
            part(self.internal, "not checked (internal error)"),
            part(self.name_findings, "with file-name findings"),
            part(
                self.not_read,
                "the pipeline will not read (see their names)"
            ),
        )
    }

    fn add(&mut self, r: &FileReport) {
        if r.valid {
            self.valid += 1;
        } else {
            self.invalid += 1;
        }
        if r.name_findings.as_ref().is_some_and(|f| !f.is_empty()) {
            self.name_findings += 1;
        }
        let not_read = |i: &eventlog_core::Issue| i.code.as_str() == "name_not_read";
        if r.name_findings.iter().flatten().any(not_read) {
            self.not_read += 1;
        }
    }
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn write_text(out: &mut impl Write, r: &FileReport, color: bool) {
    let paint = |tint: &str, text: &str| paint(color, tint, text);
    let _ = write!(out, "{}", eventlog_core::plain::text_block(r, &paint));
}

/// A file without a verdict: it could not be read, or checking it failed.
fn emit_unreadable(
    out: &mut impl Write,
    format: Format,
    path: &str,
    code: Code,
    why: &str,
    color: bool,
) {
    match format {
        Format::Json => {
            let mut line = String::from("{\"path\":");
            write_json_str(&mut line, path);
            line.push_str(",\"valid\":false,\"errors\":");
            write_issues(&mut line, &[Issue::new("__file__", code, why)]);
            line.push('}');
            let _ = writeln!(out, "{line}");
        }
        Format::Text => {
            let mark = match code {
                Code::InternalError => "ERROR  ",
                _ => "UNREADABLE",
            };
            let _ = writeln!(out, "{} {path}\n        {why}", paint(color, "31", mark));
        }
    }
}
