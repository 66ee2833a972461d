//! `xapi-bootstrap` on the raw-events target, through the Lambda Runtime
//! API on 127.0.0.1, against the real ClickHouse engine and S3 and SQS
//! server (moto): SQS partial-batch answers (spec §7): a message whose
//! object cannot load goes to the dead-letter queue with the reason and is
//! acknowledged; without a queue it is left to SQS; an insert that fails
//! fails its message and every message after it; no message starts when
//! the time left cannot cover an insert; a redelivered batch adds nothing.

use std::time::Duration;

use eventlog_tests::infra::runtime;
use eventlog_tests::infra::runtime_api::{Outcome, RuntimeApi, stop_and_read};
use eventlog_tests::xapi::{Setup, examples, setup_raw};
use serde_json::{Value, json};

fn record(bucket: &str, key: &str) -> Value {
    json!({"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": key}}})
}

fn message(id: &str, bucket: &str, key: &str) -> Value {
    let body = json!({"Records": [record(bucket, key)]});
    json!({"eventSource": "aws:sqs", "messageId": id, "body": body.to_string()})
}

fn failures(outcome: Outcome) -> Vec<String> {
    let Outcome::Response(r) = outcome else {
        panic!("an SQS batch is answered, not failed: {outcome:?}")
    };
    r["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_string())
        .collect()
}

fn sqs_client() -> aws_sdk_sqs::Client {
    let conf = aws_sdk_sqs::config::Builder::new()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .endpoint_url(eventlog_tests::s3::endpoint())
        .build();
    aws_sdk_sqs::Client::from_conf(conf)
}

fn start(s: &Setup, api: &RuntimeApi, extra: &[(&str, &str)]) -> std::process::Child {
    api.function("xapi-bootstrap", "xapi-raw", 512)
        .envs(s.env.iter().map(|(k, v)| (k, v)))
        .envs(extra.iter().copied())
        .env("EVENTLOG_SQS_ENDPOINT", eventlog_tests::s3::endpoint())
        .env("LOG_LEVEL", "info")
        .spawn()
        .expect("start xapi-bootstrap")
}

#[test]
fn sqs_batches_on_the_raw_events_target() {
    let s = setup_raw("rlam");
    let (main, extra) = examples();
    s.put("section/1/a/good.jsonl", &main);
    s.put("section/1/a/good2.jsonl", &extra);
    s.put(
        "section/1/a/bad.jsonl",
        &format!("{}\n{{broken", main.lines().next().unwrap()),
    );
    let sqs = sqs_client();
    let dlq_url = runtime()
        .block_on(
            sqs.create_queue()
                .queue_name(format!("dlq-{}", std::process::id()))
                .send(),
        )
        .expect("create queue")
        .queue_url()
        .unwrap()
        .to_string();
    let wait = Duration::from_secs(120);

    // 1. A good message, a message whose object fails, a good one: the
    // failing one goes to the dead-letter queue and is acknowledged.
    let api = RuntimeApi::start();
    let child = start(&s, &api, &[("FAILURE_DLQ_URL", &dlq_url)]);
    let batch = json!({"Records": [
        message("m-1", &s.bucket, "section/1/a/good.jsonl"),
        message("m-bad", &s.bucket, "section/1/a/bad.jsonl"),
        message("m-2", &s.bucket, "section/1/a/good2.jsonl"),
        {"eventSource": "aws:sqs", "messageId": "m-test", "body": "{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\"}"},
    ]});
    let failed = failures(api.invoke("req-1", batch.clone(), wait));
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(
        s.raw_counts(false),
        (9, 0),
        "the good objects, nothing of the bad one"
    );
    let got = runtime()
        .block_on(
            sqs.receive_message()
                .queue_url(&dlq_url)
                .message_attribute_names("All")
                .max_number_of_messages(10)
                .send(),
        )
        .expect("receive");
    let msgs = got.messages();
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let attrs = msgs[0].message_attributes().unwrap();
    assert_eq!(attrs["OriginalMessageId"].string_value(), Some("m-bad"));
    let reason = attrs["FailureReason"].string_value().unwrap();
    assert!(
        reason.contains("bad.jsonl") && reason.contains("line 2"),
        "{reason}"
    );
    assert!(msgs[0].body().unwrap().contains("section/1/a/bad.jsonl"));

    // 2. The same batch again: nothing new, even without FINAL.
    let failed = failures(api.invoke("req-1-again", batch, wait));
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(s.raw_counts(false), (9, 0));
    let (stdout, _) = stop_and_read(child);
    assert!(
        !stdout.contains(&s.engine.password),
        "the password is in the logs"
    );

    // 3. No dead-letter queue: the unloadable message is left to SQS.
    let api = RuntimeApi::start();
    let child = start(&s, &api, &[]);
    let failed = failures(api.invoke(
        "req-2",
        json!({"Records": [message("m-bad", &s.bucket, "section/1/a/bad.jsonl"), message("m-junk", &s.bucket, "nothing.jsonl").as_object().map(|m| { let mut m = m.clone(); m.insert("body".into(), json!("{not json")); Value::Object(m) }).unwrap()]}),
        wait,
    ));
    assert_eq!(failed, ["m-bad", "m-junk"]);
    stop_and_read(child);

    // 4. No time left for an insert: no message is attempted.
    let api = RuntimeApi::start();
    let child = start(
        &s,
        &api,
        &[("MIN_REMAINING_TIME_TO_START_INSERT_MS", "600000")],
    );
    s.put("section/1/a/new.jsonl", &main.replace("15474", "99999"));
    let failed = failures(api.invoke(
        "req-3",
        json!({"Records": [message("m-new", &s.bucket, "section/1/a/new.jsonl"), message("m-1", &s.bucket, "section/1/a/good.jsonl")]}),
        wait,
    ));
    assert_eq!(failed, ["m-1", "m-new"]);
    assert_eq!(s.raw_counts(false), (9, 0), "nothing inserted");
    stop_and_read(child);

    // 5. ClickHouse goes away after the first insert: the first message
    // stays acknowledged; the one whose insert failed and every one after
    // it are reported, and what is reported is what is stored.
    s.put("section/1/a/new2.jsonl", &extra.replace("15474", "88888"));
    s.put("section/1/a/new3.jsonl", &extra.replace("15474", "77777"));
    let proxy = eventlog_tests::infra::faulty_proxy::start(&s.engine.url, 0, Duration::ZERO);
    proxy.go_down_after(1);
    let url = proxy.url();
    let api = RuntimeApi::start();
    let child = start(&s, &api, &[("CLICKHOUSE_URL", &url)]);
    let failed = failures(api.invoke(
        "req-4",
        json!({"Records": [
            message("m-new", &s.bucket, "section/1/a/new.jsonl"),
            message("m-new2", &s.bucket, "section/1/a/new2.jsonl"),
            message("m-new3", &s.bucket, "section/1/a/new3.jsonl"),
        ]}),
        wait,
    ));
    assert_eq!(failed, ["m-new2", "m-new3"]);
    assert_eq!(
        s.raw_counts(false),
        (14, 0),
        "the first message's five rows"
    );
    stop_and_read(child);
}
