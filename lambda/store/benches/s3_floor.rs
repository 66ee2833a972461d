//! The floor of the S3 checkpoint benchmark: list a prefix and GET every
//! object with the same client settings and concurrency as the pipeline,
//! doing nothing with the bytes. Driven by bench/checkpoint_s3.py.
//!
//!     EVENTLOG_S3_ENDPOINT=http://127.0.0.1:PORT cargo bench -p eventlog-store --bench s3_floor -- BUCKET PREFIX CONCURRENCY [list-only]
//!
//! With `list-only`, the listing alone (the floor of a run that finds
//! nothing new).

use std::time::Instant;

use eventlog_store::ObjectStore;
use eventlog_store::s3::{S3Config, S3Store, client};
use futures::StreamExt;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let list_only = args.get(3).is_some_and(|a| a == "list-only");
    let (bucket, prefix, concurrency) = match args.as_slice() {
        [b, p, c, ..] => (
            b.clone(),
            p.clone(),
            c.parse::<usize>().expect("concurrency"),
        ),
        _ => {
            eprintln!("usage: s3_floor BUCKET PREFIX CONCURRENCY");
            return;
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = S3Store::new(client(&S3Config::from_env()).await, &bucket);
        let start = Instant::now();
        let listing = store.list(&prefix).await.expect("list");
        let listed = start.elapsed().as_secs_f64();
        let to_get = if list_only {
            &listing[..0]
        } else {
            &listing[..]
        };
        let bytes: u64 = futures::stream::iter(to_get.iter())
            .map(|m| {
                let store = &store;
                async move {
                    store
                        .get(&m.key, u64::MAX)
                        .await
                        .expect("get")
                        .map_or(0, |o| o.bytes.len() as u64)
                }
            })
            .buffer_unordered(concurrency)
            .fold(0u64, |a, b| async move { a + b })
            .await;
        println!(
            "{{\"objects\":{},\"bytes\":{},\"list_seconds\":{:.3},\"seconds\":{:.3}}}",
            listing.len(),
            bytes,
            listed,
            start.elapsed().as_secs_f64()
        );
    });
}
