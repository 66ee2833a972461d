//! The raw-events target (`raw_events` + `experiment_attributions`,
//! spec `xapi-raw-events.md`): the same two paths as the five tables, with
//! the reference's object rules on top.
//!
//! * An object loads whole or not at all: a line that fails (bad JSON, an
//!   id out of range, a bad attribution) fails its object, which is
//!   reported with the line and the member, and nothing of it is stored.
//!   Such a failure is not retryable; a read or an insert that failed is.
//! * Inserts are cut inside an object only, at `rows_per_insert` rows or
//!   `bytes_per_insert` bytes, and each carries a deduplication token of
//!   (table, object, version, line range): loading an object again, alone
//!   or with others, on either path, adds nothing before a merge.
//! * Attribution rows go in after the raw rows of the same lines.

pub mod inprocess;
pub mod serverside;

use eventlog_core::xapi::raw::Problem;

use crate::{FileProblem, Loader};

/// The identity of a range of an object's statements, for tokens.
pub fn identity(name: &str, version: &str, first: u32, last: u32) -> String {
    format!("{name}@{version}:{first}-{last}")
}

/// The deduplication token of `table`'s rows of `identity`.
pub fn token(loader: &Loader<'_>, table: &str, identity: &str) -> String {
    loader.token(table, identity)
}

/// The failure of an object whose statement `line` (its `physical` line)
/// fails: not retryable, the member and code kept.
pub fn bad_object(file: &str, line: u64, physical: u64, p: &Problem) -> FileProblem {
    FileProblem {
        line: Some(line),
        physical_line: Some(physical),
        field: Some(p.field.clone()),
        code: Some(p.code.to_string()),
        ..FileProblem::fixed(file, format!("line {physical}: {}: {}", p.field, p.message))
    }
}

/// Whether an insert may start: the time left covers the minimum the
/// settings ask for (spec §7.4); else why not.
pub fn time_for_insert(loader: &Loader<'_>) -> Result<(), String> {
    let Some(deadline) = loader.deadline else {
        return Ok(());
    };
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    let min = std::time::Duration::from_millis(loader.settings.raw.min_remaining_ms);
    if left < min {
        Err(format!(
            "not inserted: {} ms left, and an insert needs at least {} ms (MIN_REMAINING_TIME_TO_START_INSERT_MS)",
            left.as_millis(),
            min.as_millis()
        ))
    } else {
        Ok(())
    }
}

/// The ClickHouse client of a load: requests end `safety_margin_ms`
/// before the deadline.
pub fn bounded_client(loader: &Loader<'_>) -> crate::clickhouse::ClickHouse {
    let margin = std::time::Duration::from_millis(loader.settings.raw.safety_margin_ms);
    loader
        .ch
        .with_deadline(loader.deadline.map(|d| d.checked_sub(margin).unwrap_or(d)))
}
