//! The checkpoint scenarios on the embedded default: local directories.

use eventlog_tests::backend::{Backend, LocalBackend};
use eventlog_tests::scenarios as sc;

fn local() -> Box<dyn Backend> {
    Box::new(LocalBackend::new())
}

#[test]
fn golden_first_run() {
    sc::golden_first_run(&local);
}

#[test]
fn no_new_files_rewrites_nothing() {
    sc::no_new_files(&local);
}

#[test]
fn backfilled_old_timestamp_is_processed() {
    sc::backfill(&local);
}

#[test]
fn duplicate_under_new_key_adds_nothing() {
    sc::duplicate_under_new_key(&local);
}

#[test]
fn corrected_event_replaces_the_row() {
    sc::corrected_event(&local);
}

#[test]
fn sandbox_projects_are_filtered() {
    sc::sandbox(&local);
}

#[test]
fn invalid_and_unreadable_files_do_not_stop_the_others() {
    sc::invalid_and_unreadable(&local);
}

#[test]
fn crash_at_every_stage_then_recover() {
    for point in eventlog_tests::CRASH_POINTS {
        sc::crash_then_recover(&local, point);
    }
}

#[test]
fn two_parallel_runs() {
    sc::parallel_runs(&local, 2);
}

#[test]
fn four_parallel_runs() {
    sc::parallel_runs(&local, 4);
}
