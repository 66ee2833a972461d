//! The xAPI Lambda's ClickHouse password from AWS Secrets Manager (moto's,
//! on 127.0.0.1), driven through the Lambda Runtime API: with the secret
//! named by ARN and no plain password anywhere in its environment, the
//! function loads rows (the ClickHouse front checks the password); a
//! secret holding a wrong password is refused by ClickHouse, not silently
//! replaced; a secret that does not exist stops the start-up with an init
//! error naming its ARN.

use std::time::Duration;

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use eventlog_tests::infra::runtime;
use eventlog_tests::infra::runtime_api::{Outcome, RuntimeApi, stop_and_read};
use eventlog_tests::s3;
use eventlog_tests::xapi::{Setup, examples, setup};
use serde_json::json;

fn secrets() -> aws_sdk_secretsmanager::Client {
    let conf = aws_sdk_secretsmanager::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(s3::endpoint())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(conf)
}

/// A new secret holding `value`; its ARN.
fn create_secret(name: &str, value: &str) -> String {
    let name = format!("{name}-{}", std::process::id());
    let out = runtime()
        .block_on(
            secrets()
                .create_secret()
                .name(&name)
                .secret_string(value)
                .send(),
        )
        .expect("create the secret");
    out.arn.expect("the secret's ARN")
}

/// The function's environment with the password replaced by the secret.
fn function(api: &RuntimeApi, s: &Setup, arn: &str) -> std::process::Command {
    let mut cmd = api.function("xapi-bootstrap", "xapi-etl", 512);
    cmd.envs(
        s.env
            .iter()
            .filter(|(k, _)| k != "CLICKHOUSE_PASSWORD")
            .map(|(k, v)| (k, v)),
    )
    .env_remove("CLICKHOUSE_PASSWORD")
    .env("CLICKHOUSE_PASSWORD_SECRET_ARN", arn)
    .env("EVENTLOG_SECRETS_ENDPOINT", s3::endpoint());
    cmd
}

fn notification(bucket: &str, key: &str) -> serde_json::Value {
    json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]})
}

#[test]
fn the_password_comes_from_the_secret_and_nowhere_else() {
    let s = setup("secret");
    let password = s
        .env
        .iter()
        .find(|(k, _)| k == "CLICKHOUSE_PASSWORD")
        .map(|(_, v)| v.clone())
        .expect("the test ClickHouse has a password");
    let (main, _) = examples();
    let key = "section/2161/attempt/2025-05-21T13-41-07.0Z_A.jsonl";
    s.put(key, &main);

    let api = RuntimeApi::start();
    let arn = create_secret("clickhouse-password", &password);
    let child = function(&api, &s, &arn)
        .spawn()
        .expect("start xapi-bootstrap");
    let got = api.invoke(
        "req-1",
        notification(&s.bucket, key),
        Duration::from_secs(120),
    );
    let Outcome::Response(r) = got else {
        panic!("the load must succeed with the secret's password: {got:?}")
    };
    assert_eq!(r["statusCode"], 200, "{r}");
    assert_eq!(s.counts(true), vec![1, 1, 1, 1, 1]);
    let (stdout, _) = stop_and_read(child);
    assert!(
        !stdout.contains(&password),
        "the password must never be logged"
    );

    // The same function with a secret holding a wrong password: ClickHouse
    // refuses it, so the value really is the one the inserts use.
    let api = RuntimeApi::start();
    let wrong = create_secret("clickhouse-wrong", "not-the-password");
    let child = function(&api, &s, &wrong)
        .spawn()
        .expect("start xapi-bootstrap");
    let got = api.invoke(
        "req-2",
        notification(&s.bucket, key),
        Duration::from_secs(120),
    );
    let Outcome::Error(e) = got else {
        panic!("a wrong password must fail the invocation: {got:?}")
    };
    assert!(!e.to_string().contains("not-the-password"), "{e}");
    let (stdout, _) = stop_and_read(child);
    assert!(!stdout.contains("not-the-password"), "{stdout}");
}

#[test]
fn a_missing_secret_is_an_init_error_naming_its_arn() {
    let s = setup("nosecret");
    let api = RuntimeApi::start();
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:no-such-secret-AbCdEf";
    let mut child = function(&api, &s, arn)
        .spawn()
        .expect("start xapi-bootstrap");
    let status = child.wait().expect("the function exits");
    assert!(
        !status.success(),
        "a function without its password must not start"
    );
    let init = api
        .init_error()
        .expect("the configuration error is reported to the Runtime API");
    let v: serde_json::Value = serde_json::from_str(&init).expect("init error is JSON");
    assert_eq!(v["errorType"], "Runtime.ConfigurationError", "{v}");
    let message = v["errorMessage"].as_str().unwrap_or_default();
    assert!(
        message.contains(arn) && message.contains("CLICKHOUSE_PASSWORD_SECRET_ARN"),
        "{message}"
    );
}
