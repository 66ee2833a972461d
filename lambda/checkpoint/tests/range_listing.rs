//! A sweep divided into key ranges listed at once finds every object
//! exactly once, whatever the names, the page size and the concurrency.

use std::collections::BTreeSet;

use eventlog_checkpoint::ledger::{Ledger, LedgerKeys, State};
use eventlog_checkpoint::list::{Source, first_page, list_and_plan};
use eventlog_checkpoint::plan::Planner;
use eventlog_checkpoint::progress::Silent;
use eventlog_store::local::LocalStore;
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    let action = prop_oneof![Just("submit"), Just("pass-qc"), Just("delete")];
    (action, 0u32..40, 0u32..5, 0u8..10).prop_map(|(a, day, n, odd)| {
        if odd == 0 {
            // Names without the producer's shape: they divide differently.
            format!("prod/x{day}{n}.txt")
        } else if odd == 1 {
            // Just before a division (`+` sorts before `-`).
            format!("prod/log-{a}+{n}.json")
        } else {
            format!(
                "prod/log-{a}-202401{:02}-10000{n}-42-ingest-form-P{day}-2024-01-01.json",
                1 + day % 28
            )
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn every_object_once(
        names in proptest::collection::btree_set(name(), 1..80),
        page in 1usize..7,
        concurrency in 1usize..6,
        first_pages in 1usize..4,
    ) {
        let dir = tempfile::tempdir().unwrap();
        for n in &names {
            let p = dir.path().join("src").join(n);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"{}").unwrap();
        }
        let source = LocalStore::new(dir.path().join("src"))
            .with_page_size(page)
            .with_parallel_listing(true);
        let sink = LocalStore::new(dir.path().join("ck"));
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (listing, plan) = rt.block_on(async {
            let ledger = Ledger::load(&sink, LedgerKeys::new("_eventlog")).await.unwrap();
            let state = State { ledger: &ledger, store: &sink };
            let first = if first_pages > 1 { first_page(&source, "").await } else { None };
            let src = Source { store: &source, prefix: "", exclude: &[], concurrency, first_pages, first };
            list_and_plan(&src, &state, Planner::new(None), &Silent).await.unwrap()
        });
        let mut found: Vec<String> = plan.to_fetch.iter().map(|p| p.meta.key.clone()).collect();
        found.extend(plan.skipped.iter().map(|(m, _)| m.key.clone()));
        found.sort();
        let want: Vec<String> = names.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect();
        prop_assert_eq!(listing.listed, names.len());
        prop_assert_eq!(found, want);
        // Every page is a request, and every range makes at least one.
        prop_assert!(listing.requests >= names.len().div_ceil(page), "{} requests", listing.requests);
        prop_assert!(listing.requests >= listing.ranges);
    }
}
