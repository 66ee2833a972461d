//! The `xapi-bootstrap` Lambda driven through the Lambda Runtime API on
//! 127.0.0.1, against the real ClickHouse engine and S3 server: an S3
//! notification, an SQS batch with poisoned messages (only they are
//! reported in `batchItemFailures`), a notification with one missing file
//! (the invocation fails), a health check, a bulk dry run, an event with no
//! object (400) and a notification whose only file is missing.

use std::time::Duration;

use eventlog_tests::infra::runtime_api::{Outcome, RuntimeApi, stop_and_read};
use eventlog_tests::xapi::{examples, setup};
use serde_json::{Value, json};

/// The seed-style response body is a JSON string.
fn body(outcome: Outcome) -> (u64, Value) {
    let Outcome::Response(r) = outcome else {
        panic!("expected a response, got {outcome:?}")
    };
    let status = r["statusCode"].as_u64().expect("statusCode");
    let body =
        serde_json::from_str(r["body"].as_str().expect("body is a string")).expect("body is JSON");
    (status, body)
}

fn record(bucket: &str, key: &str) -> Value {
    json!({"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": key}}})
}

#[test]
fn xapi_bootstrap_answers_through_the_runtime_api() {
    let s = setup("lambda");
    let (main, extra) = examples();
    s.put("section/2161/attempt/2025-05-21T13-41-07.0Z_A.jsonl", &main);
    s.put("section/2161/video/2025-10-07T15-04-05.1Z_B.jsonl", &extra);

    let api = RuntimeApi::start();
    let child = api
        .function("xapi-bootstrap", "xapi-etl", 512)
        .envs(s.env.iter().map(|(k, v)| (k, v)))
        .env("LOG_LEVEL", "info")
        .spawn()
        .expect("start xapi-bootstrap");
    let wait = Duration::from_secs(120);

    // 1. An S3 notification for one file.
    let (status, b) = body(api.invoke("req-put", json!({"Records": [record(&s.bucket, "section/2161/attempt/2025-05-21T13-41-07.0Z_A.jsonl")]}), wait));
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["processing_mode"], "notification");
    assert_eq!(b["path"], "in_process");
    assert_eq!(b["total_rows"], 5, "{b}");
    assert_eq!(s.counts(true), vec![1, 1, 1, 1, 1]);

    // 2. The other file delivered through SQS (the S3 event is the message
    // body), in a batch with two poisoned messages: one names a missing
    // object, one is not JSON. Exactly those two are reported failed.
    let inner = json!({"Records": [record(&s.bucket, "section/2161/video/2025-10-07T15-04-05.1Z_B.jsonl")]});
    let poisoned = json!({"Records": [record(&s.bucket, "section/2161/video/gone.jsonl")]});
    let sqs = json!({"Records": [
        {"eventSource": "aws:sqs", "messageId": "m-good", "body": inner.to_string()},
        {"eventSource": "aws:sqs", "messageId": "m-gone", "body": poisoned.to_string()},
        {"eventSource": "aws:sqs", "messageId": "m-junk", "body": "{not json"},
    ]});
    let Outcome::Response(batch) = api.invoke("req-sqs", sqs, wait) else {
        panic!("an SQS batch is answered, not failed")
    };
    let mut failed: Vec<&str> = batch["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("{batch}"))
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap())
        .collect();
    failed.sort();
    assert_eq!(failed, ["m-gone", "m-junk"], "{batch}");
    assert_eq!(s.counts(true), vec![4, 1, 1, 1, 1]);

    // 2b. A direct notification naming a good and a missing file: the good
    // one loads, and the invocation fails so S3 retries it.
    let one_more = extra
        .lines()
        .next()
        .unwrap()
        .replacen("\"verb\"", "\"id\":\"c-1\",\"verb\"", 1);
    s.put(
        "section/2161/video/2025-10-07T15-04-06.1Z_C.jsonl",
        &one_more,
    );
    let both = api.invoke(
        "req-partial",
        json!({"Records": [
            record(&s.bucket, "section/2161/video/2025-10-07T15-04-06.1Z_C.jsonl"),
            record(&s.bucket, "section/2161/video/gone-too.jsonl"),
        ]}),
        wait,
    );
    let Outcome::Error(err) = both else {
        panic!("one file failed, so the invocation must fail: {both:?}")
    };
    assert!(err.to_string().contains("gone-too.jsonl"), "{err}");
    // A missing object may yet appear (S3 retries): retryable.
    assert_eq!(err["errorType"], "Retryable.FilesNotLoaded", "{err}");
    assert_eq!(s.counts(true), vec![5, 1, 1, 1, 1], "the good file loaded");

    // 3. Redelivery of the first notification adds nothing.
    let (status, _) = body(api.invoke("req-put-again", json!({"Records": [record(&s.bucket, "section/2161/attempt/2025-05-21T13-41-07.0Z_A.jsonl")]}), wait));
    assert_eq!(status, 200);
    assert_eq!(s.counts(true), vec![5, 1, 1, 1, 1]);

    // 4. Health.
    let (status, h) = body(api.invoke("req-health", json!({"health_check": true}), wait));
    assert_eq!(status, 200, "{h}");
    assert_eq!(h["healthy"], true);
    assert_eq!(h["s3_healthy"], true);

    // 5. Bulk, dry run: lists what it would load.
    let (status, b) = body(api.invoke(
        "req-bulk",
        json!({"mode": "bulk", "section_id": 2161, "dry_run": true}),
        wait,
    ));
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["files_found"], 3, "{b}");

    // 6. No S3 object in the event: a 400 answer, not a retry.
    let (status, b) = body(api.invoke("req-empty", json!({"Records": []}), wait));
    assert_eq!(status, 400, "{b}");

    // 7. The only file is missing: the invocation fails so the trigger retries.
    let missing = api.invoke(
        "req-missing",
        json!({"Records": [record(&s.bucket, "section/2161/video/missing.jsonl")]}),
        wait,
    );
    let Outcome::Error(err) = missing else {
        panic!("expected an invocation error, got {missing:?}")
    };
    assert!(err.to_string().contains("missing.jsonl"), "{err}");

    let (stdout, logs) = stop_and_read(child);
    assert!(
        logs.iter()
            .any(|l| l["span"]["request_id"] == "req-sqs"
                && l["fields"]["message"] == "batch loaded"),
        "{stdout}"
    );
    assert!(
        !stdout.contains(&s.engine.password),
        "the ClickHouse password is in the logs"
    );
}
