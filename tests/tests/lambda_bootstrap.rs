//! The `checkpoint-bootstrap` binary driven through the Lambda Runtime API on
//! 127.0.0.1, against the local S3 server: a seed-shaped event, a bad
//! configuration (400), and a missing checkpoint bucket (invocation error).

use std::time::Duration;

use eventlog_tests::infra::runtime_api::{Outcome, RuntimeApi, stop_and_read};
use eventlog_tests::s3;
use serde_json::{Value, json};

#[test]
fn bootstrap_answers_through_the_runtime_api() {
    let endpoint = s3::endpoint();
    let client = s3::client(&endpoint);
    let source = s3::new_bucket(&client, "lsrc");
    let checkpoints = s3::new_bucket(&client, "lck");
    for entry in std::fs::read_dir(eventlog_tests::testdata("visit-events/files")).unwrap() {
        let p = entry.unwrap().path();
        let key = format!("prod/{}", p.file_name().unwrap().to_string_lossy());
        s3::put(&client, &source, &key, &std::fs::read(&p).unwrap());
    }

    let api = RuntimeApi::start();
    let child = api
        .function("checkpoint-bootstrap", "event-log-checkpoint", 1024)
        .envs(s3::env_for(&endpoint))
        // The seed's environment: overridden per invocation by the event.
        .env("SOURCE_BUCKET", "not-used-the-event-wins")
        .env("CHECKPOINT_KEY", "checkpoints/events.parquet")
        .env("REPORT_PREFIX", "reports/monthly/")
        .env("LOG_LEVEL", "info")
        .spawn()
        .expect("start checkpoint-bootstrap");

    // 1. The seed's event shape.
    let seed_event = json!({"source_bucket": source, "prefix": "prod/", "checkpoint_bucket": checkpoints, "checkpoint_key": "checkpoints/{study}/{datatype}/events.parquet"});
    let first = api.invoke("req-seed", seed_event.clone(), Duration::from_secs(120));
    let Outcome::Response(body) = first else {
        panic!("expected a response, got {first:?}")
    };
    assert_eq!(body["statusCode"], 200, "{body}");
    assert_eq!(
        body["checkpoint_path"],
        format!("s3://{checkpoints}/checkpoints/{{study}}/{{datatype}}/events.parquet")
    );
    assert_eq!(body["new_events_processed"], 10);
    assert_eq!(body["total_events"], 10);
    assert_eq!(body["events_failed"], 0);
    assert_eq!(body["last_processed_timestamp"], "2025-05-20T08:48:31Z");
    assert!(body["execution_time_ms"].as_u64().is_some());
    assert_eq!(body["groups"].as_array().unwrap().len(), 5);
    let objects = s3::get_all(&client, &checkpoints, "checkpoints/");
    assert!(
        objects.contains_key("adrc/form/events.parquet")
            && objects.contains_key("_eventlog/ledger/segments/00000000000000000001.parquet"),
        "{:?}",
        objects.keys()
    );

    // The monthly report, written after a run that committed something,
    // from the checkpoints just written.
    let reports = s3::get_all(&client, &checkpoints, "reports/monthly/");
    for f in [
        "index.html",
        "monthly_by_center.csv",
        "qc_timing.csv",
        "latest_per_visit.csv",
    ] {
        assert!(reports.contains_key(f), "{f}: {:?}", reports.keys());
    }
    let monthly = String::from_utf8(reports["monthly_by_center.csv"].clone()).unwrap();
    assert!(
        monthly.starts_with("month,center_label,submitted,passed_qc,failed_qc\n")
            && monthly.contains("2025-03,emory,0,2,0\n"),
        "{monthly}"
    );
    let latest = String::from_utf8(reports["latest_per_visit.csv"].clone()).unwrap();
    assert_eq!(
        latest.lines().count(),
        11,
        "ten visits and the header: {latest}"
    );

    // 2. A bad configuration answers 400 and changes nothing.
    let bad = api.invoke(
        "req-bad",
        json!({"source_bucket": source, "checkpoint_key": "checkpoints/{study}/events.parquet"}),
        Duration::from_secs(60),
    );
    let Outcome::Response(body) = bad else {
        panic!("expected a 400 response, got {bad:?}")
    };
    assert_eq!(body["statusCode"], 400, "{body}");
    assert_eq!(body["error"], "ValidationError");
    assert!(body["message"].as_str().unwrap().contains("{datatype}"));

    // 3. A checkpoint bucket that does not exist fails the invocation.
    let missing = api.invoke("req-missing", json!({"source_bucket": source, "prefix": "prod/", "checkpoint_bucket": "no-such-bucket-eventlog"}), Duration::from_secs(60));
    let Outcome::Error(err) = missing else {
        panic!("expected an invocation error, got {missing:?}")
    };
    assert!(err.to_string().contains("no-such-bucket-eventlog"), "{err}");
    // A bucket that does not exist stays missing: a redrive should not
    // retry it, and the error type says so.
    let kind = err["errorType"].as_str().unwrap_or_default();
    assert!(kind.starts_with("NonRetryable."), "{err}");

    // 4. Same seed event again: nothing new, still 200.
    let again = api.invoke("req-again", seed_event, Duration::from_secs(60));
    let Outcome::Response(body) = again else {
        panic!("{again:?}")
    };
    assert_eq!(body["statusCode"], 200);
    assert_eq!(body["new_events_processed"], 0);

    // Stop the function by PID, then read what it logged.
    let (stdout, lines) = stop_and_read(child);
    // CloudWatch EMF: a run document and one per group, each with its own dimensions.
    let emf: Vec<&Value> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
    let run_docs: Vec<&&Value> = emf
        .iter()
        .filter(|d| d["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0] == json!(["service"]))
        .collect();
    assert!(run_docs.iter().any(|d| d["NewEventsProcessed"] == 10
        && d["TotalEvents"] == 10
        && d["EventsFailed"] == 0
        && d["ExecutionTime"].is_u64()));
    let group_docs: Vec<&&Value> = emf
        .iter()
        .filter(|d| {
            d["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
                == json!(["service", "Study", "Datatype"])
        })
        .collect();
    let adrc_form = group_docs
        .iter()
        .find(|d| d["Study"] == "adrc" && d["Datatype"] == "form")
        .expect("adrc/form metrics");
    assert_eq!(adrc_form["EventsAdded"], 5);
    assert!(adrc_form["CheckpointFileSize"].as_u64().unwrap() > 1000);
    let leads_dicom = group_docs
        .iter()
        .find(|d| d["Study"] == "leads" && d["Datatype"] == "dicom")
        .expect("leads/dicom metrics");
    assert_eq!(
        leads_dicom["EventsAdded"], 1,
        "per-group values under their own dimensions"
    );
    // JSON logs carry the request id; no secret leaks.
    let logs: Vec<&Value> = lines.iter().filter(|l| l.get("fields").is_some()).collect();
    // The report was written once: the run that found nothing new did not
    // rewrite it.
    let written: Vec<&&Value> = logs
        .iter()
        .filter(|l| l["fields"]["message"] == "report written")
        .collect();
    assert_eq!(written.len(), 1, "{stdout}");
    assert_eq!(written[0]["span"]["request_id"], "req-seed");
    assert!(
        logs.iter()
            .any(|l| l["span"]["request_id"] == "req-seed"
                && l["fields"]["message"] == "run finished"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("AWS_SECRET_ACCESS_KEY") && !stdout.contains("\"test\""),
        "credentials in the logs"
    );
    // Each stage is a span: closing, it logs its counts and its time, under
    // the invocation's request id, so a slow run shows where its time went.
    let closed = |stage: &str| -> Vec<&Value> {
        logs.iter()
            .copied()
            .filter(|l| {
                l["fields"]["message"] == "close"
                    && l["span"]["name"] == stage
                    && l["spans"][0]["request_id"] == "req-seed"
            })
            .collect()
    };
    for stage in [
        "list_and_plan",
        "fetch",
        "filter",
        "group",
        "merge",
        "commit",
        "ledger",
    ] {
        let lines = closed(stage);
        assert!(!lines.is_empty(), "no closed `{stage}` span: {stdout}");
        assert!(
            lines.iter().all(|l| l["span"]["duration_ms"].is_u64()),
            "`{stage}` has no duration: {:?}",
            lines[0]
        );
    }
    let listed = &closed("list_and_plan")[0]["span"];
    assert_eq!(listed["listed"], 10, "counts on the span");
    assert_eq!(listed["to_fetch"], 10);
    assert_eq!(closed("fetch")[0]["span"]["read"], 10);
    assert_eq!(closed("commit")[0]["span"]["committed"], 5);
    assert_eq!(closed("merge").len(), 5, "one merge per group");
}
