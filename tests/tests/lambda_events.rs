//! Event-driven runs of the checkpoint function: S3 notifications delivered
//! through SQS, driven through the Lambda Runtime API on 127.0.0.1 against
//! the local S3 server behind a proxy that counts ListObjects requests.

use std::process::Child;
use std::sync::atomic::Ordering;
use std::time::Duration;

use eventlog_tests::backend::{Backend, walk};
use eventlog_tests::infra::faulty_proxy;
use eventlog_tests::infra::runtime_api::{Outcome, RuntimeApi, stop_and_read};
use eventlog_tests::s3::{self, S3Backend};
use eventlog_tests::scenarios as sc;
use serde_json::{Value, json};

/// A key as S3 writes it into notifications: form-encoded (`+` for a space).
fn notification_key(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn s3_notification(bucket: &str, key: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": notification_key(key), "size": 1}}
    }]})
}

fn sqs_message(id: &str, body: &str) -> Value {
    json!({
        "messageId": id,
        "receiptHandle": format!("handle-{id}"),
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:eventlog-checkpoint",
        "awsRegion": "us-east-1"
    })
}

fn start_function(api: &RuntimeApi, endpoint: &str, bucket: &str) -> Child {
    api.function("checkpoint-bootstrap", "event-log-checkpoint", 1024)
        .envs(s3::env_for(endpoint))
        .env("SOURCE_BUCKET", bucket)
        .env("PREFIX", "events")
        .env(
            "CHECKPOINT_KEY_TEMPLATE",
            "checkpoints/{study}/{datatype}/events.parquet",
        )
        .spawn()
        .expect("start checkpoint-bootstrap")
}

/// A batch naming every golden file merges exactly those files, without a
/// single ListObjects request; the poisoned message is the only failure;
/// a scheduled sweep afterwards finds nothing to read; a direct
/// notification of one new file processes that file alone.
#[test]
fn an_sqs_batch_merges_exactly_the_named_files_without_listing() {
    let proxy = faulty_proxy::start(&s3::endpoint(), 0, Duration::ZERO);
    let mut b = S3Backend::new();
    b.endpoint = proxy.url();
    let bucket = b.bucket.clone();
    let b: Box<dyn Backend> = Box::new(b);
    let golden = eventlog_tests::testdata("visit-events/golden/files");
    b.put_tree(&golden);
    let keys: Vec<String> = walk(&golden)
        .iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&golden)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            b.recorded_key(&rel)
        })
        .collect();
    assert_eq!(keys.len(), 60);

    let mut records: Vec<Value> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| sqs_message(&format!("m{i}"), &s3_notification(&bucket, k).to_string()))
        .collect();
    records.push(sqs_message("poison", "this is not an S3 notification"));
    records.push(sqs_message(
        "elsewhere",
        &s3_notification("another-bucket", "events/prod/x.json").to_string(),
    ));
    records.push(sqs_message(
        "test-event",
        &json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": bucket}).to_string(),
    ));
    // The same object twice (S3 may deliver a notification more than once).
    records.push(sqs_message(
        "again",
        &s3_notification(&bucket, &keys[0]).to_string(),
    ));

    let api = RuntimeApi::start();
    let child = start_function(&api, &proxy.url(), &bucket);
    let before = proxy.listings.load(Ordering::SeqCst);
    let answer = api.invoke(
        "req-batch",
        json!({ "Records": records }),
        Duration::from_secs(180),
    );
    let Outcome::Response(body) = answer else {
        panic!("expected a batch response, got {answer:?}")
    };
    assert_eq!(
        body,
        json!({"batchItemFailures": [{"itemIdentifier": "poison"}]}),
        "only the poisoned message fails"
    );
    assert_eq!(
        proxy.listings.load(Ordering::SeqCst),
        before,
        "an event-driven run lists nothing"
    );
    let (_, want) = sc::expected();
    sc::assert_rows(b.as_ref(), &want);
    let ledger = b.ledger();
    assert_eq!(ledger.len(), 60);
    assert!(keys.iter().all(|k| ledger.contains_key(k)));

    // The scheduled sweep: lists, and reads nothing.
    let schedule = json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}});
    let sweep = api.invoke("req-sweep", schedule, Duration::from_secs(120));
    let Outcome::Response(body) = sweep else {
        panic!("{sweep:?}")
    };
    let s = &body["summary"];
    assert!(
        proxy.listings.load(Ordering::SeqCst) > before,
        "a sweep lists"
    );
    assert_eq!(s["listed"], 60, "{s}");
    assert_eq!(s["already_processed"], 60, "{s}");
    assert_eq!(s["new_objects"], 0, "{s}");
    assert_eq!(s["ledger"]["segment"], Value::Null, "nothing recorded: {s}");

    // A direct notification of one new file: that file alone.
    let rel = "prod/log-submit-20240401-090000-42-ingest-form-N1-2024-04-01.json";
    b.put_source(
        rel,
        br#"{"action":"submit","study":"adrc","project_label":"ingest-form","center_label":"alpha","gear_name":"g","datatype":"form","timestamp":"2024-04-01T09:00:00Z","visit_date":"2024-04-01","pipeline_adcid":42,"ptid":"N1","module":"UDS","packet":"I"}"#,
    );
    let listings = proxy.listings.load(Ordering::SeqCst);
    let direct = api.invoke(
        "req-direct",
        s3_notification(&bucket, &b.recorded_key(rel)),
        Duration::from_secs(60),
    );
    let Outcome::Response(body) = direct else {
        panic!("{direct:?}")
    };
    let s = &body["summary"];
    assert_eq!(body["statusCode"], 200, "{body}");
    assert_eq!(
        (s["new_objects"].as_u64(), s["events_added"].as_u64()),
        (Some(1), Some(1)),
        "{s}"
    );
    assert_eq!(s["named"]["named"], 1, "{s}");
    assert_eq!(
        proxy.listings.load(Ordering::SeqCst),
        listings,
        "no listing"
    );
    assert_eq!(b.ledger().len(), 61);

    let (stdout, _) = stop_and_read(child);
    assert!(
        stdout.contains("message names no usable object") && stdout.contains("poison"),
        "the poisoned message is logged by id"
    );
}
