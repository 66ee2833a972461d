//! The checkpoint scenarios again, on a real S3-compatible server (moto on
//! 127.0.0.1, started by scripts/test.sh), plus what only S3 has: paginated
//! listings, conditional-write races between runs, a faulty network.

use std::time::Duration;

use eventlog_tests::backend::Backend;
use eventlog_tests::infra::faulty_proxy;
use eventlog_tests::s3::{self, S3Backend};
use eventlog_tests::scenarios as sc;
use eventlog_tests::testdata;
use serde_json::Value;

fn first_sample() -> std::path::PathBuf {
    let mut names: Vec<_> = std::fs::read_dir(testdata("visit-events/files"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names.remove(0)
}

fn s3() -> Box<dyn Backend> {
    Box::new(S3Backend::new())
}

eventlog_tests::scenario_suite!(s3, capped = 13);

#[test]
fn four_concurrent_runs_race_on_conditional_writes() {
    // At least one conditional write must have lost a race and been redone,
    // or the test proves nothing about them.
    let mut total = 0;
    for _ in 0..3 {
        total += sc::parallel_runs(&s3, 4);
        if total > 0 {
            break;
        }
    }
    assert!(total > 0, "no run ever lost a conditional write");
}

/// 2 600 keys over two actions and twenty days, listed in pages of 50 (52
/// pages): after its first pages the sweep divides the rest into ranges
/// listed at once, and reads only the prefix asked for.
#[test]
fn listing_beyond_1000_keys_under_a_prefix() {
    let b = S3Backend::new();
    let action = |i: usize| ["submit", "pass-qc"][i % 2];
    let day = |i: usize| 1 + i % 20;
    let text = |i: usize| {
        format!(
            r#"{{"action":"{}","study":"adrc","project_label":"ingest-form","center_label":"alpha","gear_name":"g","datatype":"form","timestamp":"2024-03-{:02}T10:00:00Z","visit_date":"2024-03-01","pipeline_adcid":42,"ptid":"P{i}","module":"UDS"}}"#,
            action(i),
            day(i)
        )
    };
    eventlog_tests::infra::runtime().block_on(async {
        let mut tasks = Vec::new();
        for i in 0..2600 {
            let (c, bucket) = (b.client.clone(), b.bucket.clone());
            let body = text(i);
            tasks.push(tokio::spawn(async move {
                let key = format!(
                    "events/prod/log-{}-202403{:02}-100000-42-ingest-form-P{i}-2024-03-01.json",
                    action(i),
                    day(i)
                );
                c.put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(body.into_bytes().into())
                    .send()
                    .await
                    .expect("put");
            }));
            if tasks.len() >= 32 {
                for t in tasks.drain(..) {
                    t.await.unwrap();
                }
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    // Outside the source prefix: must not be read.
    s3::put(
        &b.client,
        &b.bucket,
        "elsewhere/log-submit-20240301-100000-42-ingest-form-X1-2024-03-01.json",
        text(99999).as_bytes(),
    );
    let b: Box<dyn Backend> = Box::new(b);
    let (out, summary) = b.run(&[("EVENTLOG_S3_PAGE_SIZE", "50")]);
    let s = summary.unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(0), "{s}");
    assert_eq!(s["listed"], 2600);
    assert!(s["list_ranges"].as_u64().unwrap() > 8, "divided: {s}");
    // About a request per page: the pages, one per range, and discovery.
    let requests = s["list_requests"].as_u64().unwrap();
    assert!(
        (52..=52 + 2 * 16).contains(&requests),
        "{requests} requests: {s}"
    );
    assert_eq!(s["events_added"], 2600);
    assert_eq!(b.rows()["adrc/form"].len(), 2600);
    assert_eq!(b.ledger().len(), 2600);
}

/// Every 4th request answered 503 SlowDown, the rest delayed: same rows.
#[test]
fn faulty_network_still_gives_exact_rows() {
    let proxy = faulty_proxy::start(&s3::endpoint(), 4, Duration::from_millis(40));
    let mut b = S3Backend::new();
    b.endpoint = proxy.url();
    let b: Box<dyn Backend> = Box::new(b);
    b.put_tree(&eventlog_tests::testdata("visit-events/golden/files"));
    let (out, summary) = b.run(&[]);
    let s = summary.unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(
        out.status.code(),
        Some(1),
        "partial only because of the invalid golden files: {s}"
    );
    assert_eq!(s["unreadable"], 0, "retries absorbed every 503: {s}");
    let (_, want) = sc::expected();
    sc::assert_rows(b.as_ref(), &want);
    assert_eq!(b.ledger().len(), 60);
    let injected = proxy.injected.load(std::sync::atomic::Ordering::SeqCst);
    assert!(injected >= 20, "only {injected} faults injected");
}

#[test]
fn an_unwritable_errors_file_leaves_its_files_unrecorded() {
    let proxy = faulty_proxy::start(&s3::endpoint(), 0, Duration::ZERO);
    let mut b = S3Backend::new();
    b.endpoint = proxy.url();
    let block = || proxy.deny_puts(Some("/_eventlog/errors/"));
    let unblock = || proxy.deny_puts(None);
    sc::errors_file_unwritable(&b, &block, &unblock);
}

/// S3 answers 503 to a tenth of requests while runs are killed with
/// SIGKILL at random moments, 20 times: the final rows are one clean run's.
#[test]
fn twenty_runs_killed_mid_way_under_503s_then_one_clean_run() {
    let proxy = faulty_proxy::start(&s3::endpoint(), 10, Duration::from_millis(5));
    let mut b = S3Backend::new();
    b.endpoint = proxy.url();
    sc::killed_runs_then_clean(&b, 20, 20_000..700_000);
    assert!(proxy.injected.load(std::sync::atomic::Ordering::SeqCst) > 20);
}

fn event(ptid: &str, packet: &str) -> String {
    format!(
        r#"{{"action":"submit","study":"adrc","project_label":"ingest-form","center_label":"alpha","gear_name":"g","datatype":"form","timestamp":"2024-03-01T10:00:00Z","visit_date":"2024-03-01","pipeline_adcid":42,"ptid":"{ptid}","module":"UDS","packet":"{packet}"}}"#
    )
}

/// A server that lists no ETags (s3s-fs, some others): a rewritten file
/// must still look changed (size and modification time), an untouched one
/// unchanged.
#[test]
fn listings_without_etags_still_see_rewritten_files() {
    let proxy = faulty_proxy::start_with(
        &s3::endpoint(),
        faulty_proxy::Options {
            strip_list_etags: true,
            ..Default::default()
        },
    );
    let mut b = S3Backend::new();
    b.endpoint = proxy.url();
    let key = "prod/log-submit-20240301-100000-42-ingest-form-T1-2024-03-01.json";
    b.put_source(key, event("T1", "I").as_bytes());
    let b: Box<dyn Backend> = Box::new(b);
    let (out, s) = b.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{s:?}");
    let version = b.ledger()[&b.recorded_key(key)].1.clone();
    assert!(
        version.starts_with("size="),
        "versioned by size and time: {version}"
    );
    let (_, s) = b.run(&[]);
    assert_eq!(
        s.unwrap()["new_objects"],
        0,
        "unchanged files stay processed"
    );
    // Same size, new content, a later second.
    std::thread::sleep(Duration::from_millis(1100));
    b.put_source(key, event("T1", "F").as_bytes());
    let (out, s) = b.run(&[]);
    let s = s.unwrap();
    assert_eq!(out.status.code(), Some(0), "{s}");
    assert_eq!(s["changed_objects"], 1, "{s}");
    assert_eq!(s["events_replaced"], 1, "{s}");
    assert_eq!(b.rows()["adrc/form"][0]["packet"], "F");
}

/// A server that answers GETs without an ETag: a checkpoint or ledger read
/// that way cannot be replaced conditionally, so nothing is overwritten and
/// the run says why (no write ever sends an empty If-Match).
#[test]
fn reads_without_etags_never_overwrite_blindly() {
    let proxy = faulty_proxy::start_with(
        &s3::endpoint(),
        faulty_proxy::Options {
            strip_get_etag: true,
            ..Default::default()
        },
    );
    let direct = S3Backend::new();
    let (client, bucket) = (direct.client.clone(), direct.bucket.clone());
    let direct: Box<dyn Backend> = Box::new(direct);
    direct.put_source(
        "prod/log-submit-20240301-100000-42-ingest-form-U1-2024-03-01.json",
        event("U1", "I").as_bytes(),
    );
    let (out, _) = direct.run(&[]);
    assert_eq!(out.status.code(), Some(0));
    let before = direct.state_fingerprint();
    let through = S3Backend {
        client,
        bucket,
        endpoint: proxy.url(),
    };
    let through: Box<dyn Backend> = Box::new(through);
    through.put_source(
        "prod/log-submit-20240301-100001-42-ingest-form-U2-2024-03-01.json",
        event("U2", "I").as_bytes(),
    );
    let (out, s) = through.run(&[]);
    let s = s.unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(2), "{s}");
    let err = s["groups"][0]["error"].as_str().unwrap();
    assert!(err.contains("no ETag"), "{err}");
    assert!(
        before == through.state_fingerprint(),
        "no checkpoint or ledger overwritten"
    );
}

/// A GET without Content-Length (chunked) cannot carry more than the size
/// limit into memory: the limit holds on the bytes themselves.
#[test]
fn the_size_limit_holds_without_content_length() {
    use eventlog_store::ObjectStore;
    let proxy = faulty_proxy::start_with(
        &s3::endpoint(),
        faulty_proxy::Options {
            hide_get_length: true,
            ..Default::default()
        },
    );
    let b = S3Backend::new();
    s3::put(&b.client, &b.bucket, "big", &vec![b'x'; 300_000]);
    s3::put(&b.client, &b.bucket, "small", b"{}");
    let store = eventlog_store::s3::S3Store::new(s3::client(&proxy.url()), &b.bucket);
    eventlog_tests::infra::runtime().block_on(async {
        match store.get("big", 100_000).await {
            Err(eventlog_store::StoreError::TooLarge { size, limit, .. }) => {
                assert!(size > limit, "{size} > {limit}")
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        let small = store.get("small", 100_000).await.unwrap().unwrap();
        assert_eq!(small.bytes, b"{}");
    });
}

/// A group whose checkpoint key S3 cannot hold (over 1 024 bytes, with a
/// long template) fails its files, not the run: they are reported with
/// `key_unwritable` and recorded, the other groups commit, and the next
/// run has nothing left to do.
#[test]
fn a_group_key_s3_cannot_hold_is_a_per_file_problem() {
    let b = S3Backend::new();
    let backend: &dyn Backend = &b;
    backend.put_tree(&testdata("visit-events/files"));
    let mut v: Value = serde_json::from_slice(&std::fs::read(first_sample()).unwrap()).unwrap();
    v["study"] = Value::String("s".repeat(250));
    v["ptid"] = Value::String("900001".into());
    let name = "log-delete-20250415-191415-0-ingest-form-900001-2025-04-14.json";
    backend.put_source(name, &serde_json::to_vec(&v).unwrap());
    let long = ["a", "b", "c"].map(|c| c.repeat(250)).join("/");
    let template = format!("{long}/{{study}}/{{datatype}}/events.parquet");
    let run = || {
        let mut cmd = backend.command(&[]);
        cmd.args(["--template", &template]);
        let out = cmd.output().unwrap();
        let summary: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), summary)
    };
    let (code, summary) = run();
    assert_eq!(code, Some(1), "{summary}");
    let bad = summary["bad_files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("reported: {summary}"));
    assert_eq!(bad["errors"][0]["code"], "key_unwritable", "{bad}");
    assert!(bad.to_string().contains("1024"), "{bad}");
    let rows: usize = backend.rows().values().map(Vec::len).sum();
    assert_eq!(rows, 10, "the other groups committed: {summary}");
    let (code, summary) = run();
    assert_eq!(code, Some(0), "{summary}");
    assert_eq!(summary["new_objects"], 0, "{summary}");
}
