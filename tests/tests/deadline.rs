//! The run-wide deadline (`--deadline`) against servers that accept
//! connections and never answer (a proxy on 127.0.0.1 that goes silent):
//! S3 for the checkpoint pipeline and xAPI loads, ClickHouse for xAPI
//! loads. Each run ends within its deadline plus a few seconds, exits
//! non-zero, commits nothing half-done, and says what it left; a run with
//! the server back completes exactly.

use std::process::Output;
use std::time::{Duration, Instant};

use eventlog_tests::backend::Backend;
use eventlog_tests::clickhouse::eventlog_env;
use eventlog_tests::infra::faulty_proxy::{self, FaultyProxy, Silence};
use eventlog_tests::s3::{self, S3Backend};
use eventlog_tests::testdata;
use eventlog_tests::xapi::{Setup, examples, setup, setup_raw};
use serde_json::Value;

/// Time a run may take beyond its deadline: the report and the exit.
const SLACK: Duration = Duration::from_secs(5);

fn proxy_to(upstream: &str) -> FaultyProxy {
    faulty_proxy::start(upstream, 0, Duration::ZERO)
}

fn timed(f: impl FnOnce() -> Output) -> (Output, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Reads answer, writes never do: every group's commit waits until the
/// deadline, fails, and nothing is recorded; with writes back, the next
/// run commits every sample once.
#[test]
fn checkpoint_commits_stuck_on_a_silent_server_end_at_the_deadline() {
    let mut s3b = S3Backend::new();
    let proxy = proxy_to(&s3::endpoint());
    s3b.endpoint = proxy.url();
    let b: &dyn Backend = &s3b;
    b.put_tree(&testdata("visit-events/files"));
    proxy.set_silent(Silence::Puts);
    let deadline = 6;
    let (out, took) = timed(|| {
        let mut cmd = b.command(&[]);
        cmd.args(["--deadline", &deadline.to_string()]);
        cmd.output().unwrap()
    });
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no summary: {}", text(&out)));
    assert!(
        took < Duration::from_secs(deadline) + SLACK,
        "took {took:?}: {summary}"
    );
    assert_eq!(out.status.code(), Some(2), "{summary}");
    assert_eq!(summary["deadline_reached"], true, "{summary}");
    let groups = summary["groups"].as_array().unwrap();
    assert!(!groups.is_empty());
    for g in groups {
        assert_eq!(g["status"], "failed", "{g}");
        assert!(g["error"].as_str().unwrap().contains("deadline"), "{g}");
    }
    assert_eq!(
        summary["ledger"]["recorded"], 0,
        "nothing recorded: {summary}"
    );
    let stored = b.checkpoint_objects();
    assert!(
        stored
            .keys()
            .all(|k| !k.ends_with("events.parquet") && !k.contains("segments/")),
        "nothing half-done is stored: {:?}",
        stored.keys().collect::<Vec<_>>()
    );
    proxy.set_silent(Silence::None);
    let again = b.command(&[]).output().unwrap();
    let summary: Value = serde_json::from_slice(&again.stdout).expect("summary");
    assert_eq!(again.status.code(), Some(0), "{summary}");
    assert_eq!(b.rows().values().map(Vec::len).sum::<usize>(), 10);
}

/// A silent server from the first request: the listing is cut off at the
/// deadline and the run fails saying so.
#[test]
fn checkpoint_listing_a_silent_server_ends_at_the_deadline() {
    let mut s3b = S3Backend::new();
    let proxy = proxy_to(&s3::endpoint());
    s3b.endpoint = proxy.url();
    let b: &dyn Backend = &s3b;
    b.put_tree(&testdata("visit-events/files"));
    proxy.set_silent(Silence::All);
    let (out, took) = timed(|| {
        let mut cmd = b.command(&[]);
        cmd.args(["--deadline", "4"]);
        cmd.output().unwrap()
    });
    assert!(took < Duration::from_secs(4) + SLACK, "took {took:?}");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("deadline"), "{}", text(&out));
    proxy.set_silent(Silence::None);
    assert!(b.rows().is_empty());
}

fn write_examples(dir: &std::path::Path) -> Vec<String> {
    let (main, extra) = examples();
    let mut paths = Vec::new();
    for (name, body) in [("a.jsonl", main), ("b.jsonl", extra)] {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        paths.push(p.display().to_string());
    }
    paths
}

fn total_rows(r: &Value) -> u64 {
    r["rows"]
        .as_object()
        .map_or(0, |m| m.values().filter_map(Value::as_u64).sum())
}

/// `xapi load --deadline` with `env` for the binary; the report, the exit
/// code and how long it took.
fn load_within(s: &Setup, env: &[(&str, &str)], args: &[&str]) -> (i32, Value, Duration) {
    let s = s.with_env(env);
    let (out, took) = timed(|| eventlog_env(args, &s.env));
    let r: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no report from {args:?}: {}", text(&out)));
    (out.status.code().unwrap_or(-1), r, took)
}

/// ClickHouse takes every request and answers none: both targets, both
/// paths, end at the deadline with every file failed and retryable, and
/// no row claimed or stored.
#[test]
fn xapi_loads_against_a_silent_clickhouse_end_at_the_deadline() {
    for target in ["five-tables", "raw-events"] {
        let s = if target == "raw-events" {
            setup_raw("dlr")
        } else {
            setup("dlf")
        };
        let (main, extra) = examples();
        let keys = [
            "section/1/a/2025-06-01T10-00-00.000000Z_a.jsonl",
            "section/1/a/2025-06-01T10-00-00.000000Z_b.jsonl",
        ];
        s.put(keys[0], &main);
        s.put(keys[1], &extra);
        let uris: Vec<String> = keys
            .iter()
            .map(|k| format!("s3://{}/{k}", s.bucket))
            .collect();
        let proxy = proxy_to(&s.engine.url);
        proxy.set_silent(Silence::All);
        let url = proxy.url();
        let env = [
            ("CLICKHOUSE_URL", url.as_str()),
            ("MIN_REMAINING_TIME_TO_START_INSERT_MS", "0"),
            ("LAMBDA_TIMEOUT_SAFETY_MARGIN_MS", "0"),
        ];
        for path in ["in-process", "server-side"] {
            let mut args = vec!["xapi", "load", "--deadline", "5", "--path", path];
            args.extend(uris.iter().map(String::as_str));
            let (code, r, took) = load_within(&s, &env, &args);
            let tag = format!("[{target} {path}]");
            assert!(
                took < Duration::from_secs(5) + SLACK,
                "{tag} took {took:?}: {r}"
            );
            assert_ne!(code, 0, "{tag} {r}");
            assert_eq!(total_rows(&r), 0, "{tag} nothing claimed: {r}");
            let failed = r["failed_files"].as_array().unwrap();
            assert_eq!(failed.len(), 2, "{tag} {r}");
            assert!(
                failed.iter().all(|f| f["retryable"] == true),
                "{tag} left for a retry: {r}"
            );
        }
        let stored = if target == "raw-events" {
            s.raw_table("raw_events", false).len()
        } else {
            eventlog_tests::xapi::TABLES
                .iter()
                .map(|t| s.table(t, false).len())
                .sum()
        };
        assert_eq!(stored, 0, "[{target}] nothing stored");
        // The server back: the same load completes.
        let mut args = vec!["xapi", "load", "--deadline", "60"];
        args.extend(uris.iter().map(String::as_str));
        let (code, r) = s.run(&args);
        assert!(code == 0 || code == 1, "[{target}] {r}");
        assert!(total_rows(&r) > 0, "[{target}] {r}");
    }
}

/// S3 takes every request and answers none: a load of S3 files and a bulk
/// listing end at the deadline.
#[test]
fn xapi_reads_from_a_silent_s3_end_at_the_deadline() {
    let s = setup("dls");
    let (main, _) = examples();
    let key = "section/1/a/2025-06-01T10-00-00.000000Z_a.jsonl";
    s.put(key, &main);
    let proxy = proxy_to(&s3::endpoint());
    proxy.set_silent(Silence::All);
    let url = proxy.url();
    let env = [("EVENTLOG_S3_ENDPOINT", url.as_str())];
    let uri = format!("s3://{}/{key}", s.bucket);
    let (code, r, took) = load_within(
        &s,
        &env,
        &[
            "xapi",
            "load",
            "--deadline",
            "4",
            "--path",
            "in-process",
            &uri,
        ],
    );
    assert!(took < Duration::from_secs(4) + SLACK, "took {took:?}: {r}");
    assert_ne!(code, 0, "{r}");
    assert_eq!(total_rows(&r), 0, "{r}");
    assert!(r.to_string().contains("deadline"), "{r}");
    let s = s.with_env(&env);
    let (out, took) = timed(|| {
        eventlog_env(
            &["xapi", "bulk", "--bucket", &s.bucket, "--deadline", "4"],
            &s.env,
        )
    });
    assert!(took < Duration::from_secs(4) + SLACK, "took {took:?}");
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("deadline"), "{}", text(&out));
    // And nothing of the local directory path depends on S3: a local load
    // still works under a deadline.
    let dir = tempfile::tempdir().unwrap();
    let paths = write_examples(dir.path());
    let mut args = vec!["xapi", "load", "--deadline", "30"];
    args.extend(paths.iter().map(String::as_str));
    let (code, r) = s.run(&args);
    assert!(code == 0 || code == 1, "{r}");
    assert!(total_rows(&r) > 0, "{r}");
}

/// The checkpoint Lambda derives its deadline from the invocation's: with
/// S3 writes silent, it still answers before the runtime's deadline (the
/// groups failed, nothing stored), instead of being killed mid-request.
#[test]
fn the_checkpoint_lambda_answers_before_its_deadline() {
    use eventlog_tests::infra::runtime_api::{Outcome, RuntimeApi, stop_and_read};
    let endpoint = s3::endpoint();
    let client = s3::client(&endpoint);
    let source = s3::new_bucket(&client, "dlsrc");
    let checkpoints = s3::new_bucket(&client, "dlck");
    for entry in std::fs::read_dir(testdata("visit-events/files")).unwrap() {
        let p = entry.unwrap().path();
        let key = format!("prod/{}", p.file_name().unwrap().to_string_lossy());
        s3::put(&client, &source, &key, &std::fs::read(&p).unwrap());
    }
    let proxy = proxy_to(&endpoint);
    proxy.set_silent(Silence::Puts);
    let api = RuntimeApi::start();
    let timeout = Duration::from_secs(8);
    api.set_timeout(timeout);
    let child = api
        .function("checkpoint-bootstrap", "event-log-checkpoint", 1024)
        .envs(s3::env_for(&proxy.url()))
        .env("SOURCE_BUCKET", &source)
        .env("PREFIX", "prod/")
        .env("CHECKPOINT_BUCKET", &checkpoints)
        .env("TIME_BUDGET_MARGIN_MS", "2000")
        .spawn()
        .expect("start checkpoint-bootstrap");
    let start = Instant::now();
    // `invoke` fails the test if no answer comes within the timeout.
    let outcome = api.invoke("req-deadline", serde_json::json!({}), timeout);
    let took = start.elapsed();
    let (_, logs) = stop_and_read(child);
    assert!(took < timeout, "answered after {took:?}");
    let answer = match &outcome {
        Outcome::Response(v) | Outcome::Error(v) => v.to_string(),
    };
    assert!(answer.contains("deadline"), "{answer}\n{logs:?}");
    // Nothing committed because time ran out: the next invocation has its
    // own time, so the failure is one a retry can get past.
    let Outcome::Error(v) = &outcome else {
        panic!("nothing committed fails the invocation: {answer}")
    };
    assert_eq!(v["errorType"], "Retryable.NothingCommitted", "{v}");
    let stored = s3::get_all(&client, &checkpoints, "");
    assert!(
        stored
            .keys()
            .all(|k| !k.ends_with("events.parquet") && !k.contains("segments/")),
        "{:?}",
        stored.keys().collect::<Vec<_>>()
    );
}
