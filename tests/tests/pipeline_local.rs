//! The checkpoint scenarios on the embedded default: local directories.

use eventlog_tests::backend::{Backend, LocalBackend};
use eventlog_tests::scenarios as sc;

fn local() -> Box<dyn Backend> {
    Box::new(LocalBackend::new())
}

eventlog_tests::scenario_suite!(local, capped = 7);

#[test]
fn two_parallel_runs() {
    sc::parallel_runs(&local, 2);
}

#[test]
fn four_parallel_runs() {
    sc::parallel_runs(&local, 4);
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
