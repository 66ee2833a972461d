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
fn hostile_names_are_reported_and_never_stop_the_others() {
    sc::hostile_names(&local);
}

#[test]
fn crash_at_every_stage_then_recover() {
    for point in eventlog_tests::CRASH_POINTS {
        sc::crash_then_recover(&local, point);
    }
}

#[test]
fn compaction_racing_runs() {
    sc::compaction_racing_runs(&local);
}

#[test]
fn a_single_file_ledger_is_taken_over() {
    sc::take_over_single_file_ledger(&local);
}

#[test]
fn capped_runs_equal_one_run() {
    sc::capped_runs_equal_one_run(&local, 7);
}

#[test]
fn keys_from_a_file_are_processed_without_listing() {
    sc::keys_from_a_file(&local);
}

#[test]
fn two_parallel_runs() {
    sc::parallel_runs(&local, 2);
}

#[test]
fn four_parallel_runs() {
    sc::parallel_runs(&local, 4);
}

#[test]
fn corrupt_checkpoint_and_ledger_fail_loudly_and_are_not_overwritten() {
    sc::corrupt_state(&local);
}

#[test]
fn an_unwritable_errors_file_leaves_its_files_unrecorded() {
    let b = LocalBackend::new();
    let errors = b.checkpoints().join("_eventlog/errors");
    // A file where the errors directory must go: the write fails.
    let block = || {
        std::fs::create_dir_all(errors.parent().unwrap()).unwrap();
        std::fs::write(&errors, b"in the way").unwrap();
    };
    let unblock = || std::fs::remove_file(&errors).unwrap();
    sc::errors_file_unwritable(&b, &block, &unblock);
}

#[test]
fn twenty_runs_killed_mid_way_then_one_clean_run() {
    // A local run of the golden set takes about 70 ms (debug build).
    sc::killed_runs_then_clean(&LocalBackend::new(), 20, 2_000..70_000);
}

#[test]
fn json_and_quiet_exclude_each_other() {
    let b = LocalBackend::new();
    let out = eventlog_tests::eventlog(&[
        "checkpoint",
        "--json",
        "--quiet",
        "--source",
        &b.source_arg(),
        "--checkpoints",
        &b.checkpoints_arg(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--json") && err.contains("--quiet"), "{err}");
    assert!(!b.checkpoints().exists(), "nothing ran");
}

#[test]
fn report_over_the_checkpoints() {
    sc::report_over_the_checkpoints(&local);
}
