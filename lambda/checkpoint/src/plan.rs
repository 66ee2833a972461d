//! Stage 2, plan: which listed objects this run must read. Nothing here
//! looks at times: a file is read because the ledger has not seen this
//! version of it.

use eventlog_core::visit::key;
use eventlog_store::ObjectMeta;

use crate::ledger::{Entry, Ledger, Outcome};

#[derive(Debug, Default)]
pub struct Plan {
    /// Event-file candidates to read: not in the ledger, or changed.
    pub to_fetch: Vec<ObjectMeta>,
    /// How many of `to_fetch` the ledger had at another version.
    pub changed: usize,
    /// Not event files and not yet recorded, with the reason.
    pub skipped: Vec<(ObjectMeta, String)>,
    /// Already processed at this version.
    pub already_processed: usize,
}

/// Decide what to read.
#[tracing::instrument(
    name = "plan",
    skip_all,
    fields(to_fetch, changed, skipped, already_processed, duration_ms)
)]
pub fn plan(listing: Vec<ObjectMeta>, ledger: &Ledger) -> Plan {
    let _timed = crate::timed::Timed::start();
    let mut p = Plan::default();
    for meta in listing {
        let seen: Option<&Entry> = ledger.entries.get(&meta.key);
        if meta.version.is_reliable() && seen.is_some_and(|e| e.etag == meta.version.0) {
            p.already_processed += 1;
            continue;
        }
        if key::is_event_candidate(&meta.key) {
            if seen.is_some() {
                p.changed += 1;
            }
            p.to_fetch.push(meta);
        } else {
            let reason = key::parse_name(&meta.key).err().map_or_else(
                || String::from("not an event file name"),
                |problem| format!("not an event file name: {}", problem.reason),
            );
            p.skipped.push((meta, reason));
        }
    }
    // Read in key order: deterministic, and the ledger is keyed the same way.
    p.to_fetch.sort_by(|a, b| a.key.cmp(&b.key));
    let span = tracing::Span::current();
    span.record("to_fetch", p.to_fetch.len());
    span.record("changed", p.changed);
    span.record("skipped", p.skipped.len());
    span.record("already_processed", p.already_processed);
    p
}

/// Whether the ledger already holds this content under this key.
pub fn same_content<'l>(ledger: &'l Ledger, key: &str, sha256: &str) -> Option<&'l Entry> {
    ledger
        .entries
        .get(key)
        .filter(|e| e.sha256.as_deref() == Some(sha256) && e.outcome != Outcome::Skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use eventlog_store::Version;

    fn meta(key: &str, v: &str) -> ObjectMeta {
        ObjectMeta {
            key: key.into(),
            size: 1,
            version: Version(v.into()),
            modified_micros: Some(0),
        }
    }

    #[test]
    fn plans_by_version_not_time() {
        let mut ledger = Ledger::default();
        let done = "prod/log-submit-20240115-100000-42-p-1-2024-01-15.json";
        ledger.entries.insert(
            done.into(),
            Entry {
                key: done.into(),
                etag: "v1".into(),
                size: 1,
                sha256: None,
                outcome: Outcome::Merged,
                group: None,
                detail: None,
                run_id: "r".into(),
                processed_at_micros: 0,
            },
        );
        let p = plan(
            vec![
                meta(done, "v1"),
                meta(
                    "prod/log-submit-20240115-100001-42-p-2-2024-01-15.json",
                    "x",
                ),
                meta("prod/readme.txt", "z"),
            ],
            &ledger,
        );
        assert_eq!(p.already_processed, 1);
        assert_eq!(p.to_fetch.len(), 1);
        assert_eq!(p.skipped.len(), 1);
        let changed = plan(vec![meta(done, "v2")], &ledger);
        assert_eq!((changed.to_fetch.len(), changed.changed), (1, 1));
    }
}
