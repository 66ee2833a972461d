//! Named crash points for recovery tests.
//!
//! With `EVENTLOG_CRASH_AT=<point>` the process aborts (no unwinding, no
//! cleanup, like a killed Lambda) when it reaches that point. Points, in run
//! order: `listed`, `planned`, `fetched`, `merged` (first group written to
//! scratch, nothing committed), `group-committed` (after the first group
//! commit), `groups-committed`, `errors-written`, `ledger-committed`.

pub const POINTS: [&str; 8] = [
    "listed",
    "planned",
    "fetched",
    "merged",
    "group-committed",
    "groups-committed",
    "errors-written",
    "ledger-committed",
];

pub fn point(name: &str) {
    if std::env::var("EVENTLOG_CRASH_AT").is_ok_and(|v| v == name) {
        eprintln!("eventlog: crash injected at `{name}` (EVENTLOG_CRASH_AT)");
        std::process::abort();
    }
}
