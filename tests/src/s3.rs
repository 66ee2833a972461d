//! The S3 backend for the scenarios: a fresh bucket per test on the local
//! S3 server that `scripts/test.sh` starts (moto, which implements
//! conditional writes atomically), reached at `EVENTLOG_TEST_S3_ENDPOINT`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;

use crate::backend::Backend;
use crate::infra::runtime;

pub fn endpoint() -> String {
    std::env::var("EVENTLOG_TEST_S3_ENDPOINT")
        .expect("EVENTLOG_TEST_S3_ENDPOINT is not set: run the tests with scripts/test.sh, which starts the local S3 server")
}

/// Credentials and endpoint for the binaries under test.
pub fn env_for(endpoint: &str) -> Vec<(String, String)> {
    [
        ("EVENTLOG_S3_ENDPOINT", endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

pub fn client(endpoint: &str) -> Client {
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    Client::from_conf(conf)
}

/// A new, empty bucket with a unique name.
pub fn new_bucket(c: &Client, tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "t-{}-{}-{}",
        tag,
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    runtime()
        .block_on(c.create_bucket().bucket(&name).send())
        .expect("create bucket");
    name
}

/// A bucket of a fixed name (the README's), emptied: created when
/// missing, every object in it deleted otherwise.
pub fn ensure_bucket(c: &Client, name: &str) {
    runtime().block_on(async {
        if c.head_bucket().bucket(name).send().await.is_err() {
            c.create_bucket()
                .bucket(name)
                .send()
                .await
                .expect("create bucket");
            return;
        }
        let mut token = None;
        loop {
            let page = c
                .list_objects_v2()
                .bucket(name)
                .set_continuation_token(token)
                .send()
                .await
                .expect("list");
            for o in page.contents() {
                c.delete_object()
                    .bucket(name)
                    .key(o.key().unwrap_or_default())
                    .send()
                    .await
                    .expect("delete");
            }
            match page.next_continuation_token() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
    });
}

pub fn put(c: &Client, bucket: &str, key: &str, bytes: &[u8]) {
    runtime()
        .block_on(
            c.put_object()
                .bucket(bucket)
                .key(key)
                .body(ByteStream::from(bytes.to_vec()))
                .send(),
        )
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
}

/// Every object under `prefix`: key (relative to the prefix) to bytes.
pub fn get_all(c: &Client, bucket: &str, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    runtime().block_on(async {
        let mut out = BTreeMap::new();
        let mut pages = c
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for o in page.expect("list").contents() {
                let key = o.key().unwrap().to_string();
                let body = c
                    .get_object()
                    .bucket(bucket)
                    .key(&key)
                    .send()
                    .await
                    .expect("get")
                    .body
                    .collect()
                    .await
                    .expect("body")
                    .into_bytes()
                    .to_vec();
                out.insert(key.trim_start_matches(prefix).to_string(), body);
            }
        }
        out
    })
}

pub struct S3Backend {
    pub client: Client,
    pub bucket: String,
    /// The endpoint the binary uses (the server, or a proxy in front of it).
    pub endpoint: String,
}

impl S3Backend {
    pub fn new() -> Self {
        let ep = endpoint();
        let client = client(&ep);
        let bucket = new_bucket(&client, "scn");
        S3Backend {
            client,
            bucket,
            endpoint: ep,
        }
    }
}

impl Default for S3Backend {
    fn default() -> Self {
        Self::new()
    }
}

impl Backend for S3Backend {
    fn name(&self) -> &'static str {
        "s3"
    }
    fn source_arg(&self) -> String {
        format!("s3://{}/events", self.bucket)
    }
    fn checkpoints_arg(&self) -> String {
        format!("s3://{}/checkpoints", self.bucket)
    }
    fn env(&self) -> Vec<(String, String)> {
        env_for(&self.endpoint)
    }
    fn put_source(&self, key: &str, bytes: &[u8]) {
        put(&self.client, &self.bucket, &format!("events/{key}"), bytes);
    }
    fn recorded_key(&self, rel: &str) -> String {
        format!("events/{rel}")
    }
    fn put_unreadable(&self, _key: &str) -> bool {
        // An S3 object can always be read; the too-large case covers "not loaded".
        false
    }
    fn put_checkpoint(&self, key: &str, bytes: &[u8]) {
        put(
            &self.client,
            &self.bucket,
            &format!("checkpoints/{key}"),
            bytes,
        );
    }
    fn delete_checkpoint(&self, key: &str) {
        runtime()
            .block_on(
                self.client
                    .delete_object()
                    .bucket(&self.bucket)
                    .key(format!("checkpoints/{key}"))
                    .send(),
            )
            .unwrap_or_else(|e| panic!("delete {key}: {e:?}"));
    }
    fn checkpoint_objects(&self) -> BTreeMap<String, Vec<u8>> {
        get_all(&self.client, &self.bucket, "checkpoints/")
    }
}
