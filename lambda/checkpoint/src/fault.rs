//! Fault injection for the recovery tests, compiled only with the
//! `fault-injection` feature (the test crate turns it on; release builds
//! never have it, so no environment variable can crash a production run).
//!
//! * `EVENTLOG_CRASH_AT=<point>`: the process aborts (no unwinding, no
//!   cleanup, like a killed Lambda) when it reaches that point. Points, in
//!   run order: `listed`, `planned`, `fetched`, `merged` (first group
//!   written to scratch, nothing committed), `group-committed` (after the
//!   first group commit), `groups-committed`, `errors-written`,
//!   `segment-written` (the run's ledger segment), `snapshot-written` and
//!   `pointer-updated` (a compaction's two steps), `ledger-committed`.
//! * A source key containing [`PANIC_MARKER`] makes the per-file check
//!   panic, to prove one file's panic cannot take a run down.

pub const POINTS: [&str; 11] = [
    "listed",
    "planned",
    "fetched",
    "merged",
    "group-committed",
    "groups-committed",
    "errors-written",
    "segment-written",
    "snapshot-written",
    "pointer-updated",
    "ledger-committed",
];

/// Keys containing this text panic in the per-file check (test builds only).
pub const PANIC_MARKER: &str = "EVENTLOG-TEST-PANIC";

#[cfg(feature = "fault-injection")]
pub fn point(name: &str) {
    if std::env::var("EVENTLOG_CRASH_AT").is_ok_and(|v| v == name) {
        eprintln!("eventlog: crash injected at `{name}` (EVENTLOG_CRASH_AT)");
        std::process::abort();
    }
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn point(_name: &str) {}

#[cfg(feature = "fault-injection")]
pub fn panic_for(key: &str) {
    if key.contains(PANIC_MARKER) {
        panic!("panic injected for {key} ({PANIC_MARKER})");
    }
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn panic_for(_key: &str) {}
