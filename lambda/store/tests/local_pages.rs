//! Paged local listings agree with the plain definition: every key under
//! the prefix after the start, in byte order, grouped at the delimiter,
//! whatever the page size and however the directories nest.

use std::collections::BTreeSet;

use eventlog_store::local::LocalStore;
use eventlog_store::{ListRequest, ObjectStore};
use proptest::prelude::*;

/// What a listing must return, worked out from the key set alone.
fn expected(keys: &BTreeSet<String>, req: &ListRequest) -> (Vec<String>, Vec<String>) {
    let mut objects = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    for k in keys {
        if !k.starts_with(&req.prefix) || req.start_after.as_ref().is_some_and(|a| k <= a) {
            continue;
        }
        let rest = &k[req.prefix.len()..];
        match req.delimiter.and_then(|d| rest.find(d).map(|i| (i, d))) {
            Some((i, d)) => {
                let g = k[..req.prefix.len() + i + d.len_utf8()].to_string();
                if prefixes.last() != Some(&g) {
                    prefixes.push(g);
                }
            }
            None => objects.push(k.clone()),
        }
    }
    (objects, prefixes)
}

fn key_strategy() -> impl Strategy<Value = String> {
    // Few letters, so names share prefixes; `-` and `/` so that key order
    // and a walk's order differ.
    let part = proptest::string::string_regex("[ab][ab-]{0,3}").unwrap();
    proptest::collection::vec(part, 1..4).prop_map(|p| p.join("/"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn pages_concatenate_to_the_listing(
        keys in proptest::collection::btree_set(key_strategy(), 1..30),
        page in 1usize..5,
        prefix in proptest::string::string_regex("(a|b|a/|a-|b/a)?").unwrap(),
        delimiter in proptest::option::of(prop_oneof![Just('/'), Just('-')]),
        start in proptest::option::of(key_strategy()),
    ) {
        let dir = tempfile::tempdir().unwrap();
        // A key that is also a folder of another key cannot exist on disk.
        let keys: BTreeSet<String> = keys
            .iter()
            .filter(|k| !keys.iter().any(|o| o.starts_with(&format!("{k}/"))))
            .cloned()
            .collect();
        for k in &keys {
            let p = dir.path().join(k);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        }
        let store = LocalStore::new(dir.path()).with_page_size(page);
        let mut req = ListRequest { prefix, delimiter, start_after: start, token: None };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (mut objects, mut prefixes) = (Vec::new(), Vec::new());
        let mut pages = 0;
        loop {
            let p = rt.block_on(store.list_page(&req)).unwrap();
            pages += 1;
            prop_assert!(p.objects.len() + p.prefixes.len() <= page);
            objects.extend(p.objects.into_iter().map(|m| m.key));
            for g in p.prefixes {
                if prefixes.last() != Some(&g) {
                    prefixes.push(g);
                }
            }
            match p.next {
                Some(t) => req.token = Some(t),
                None => break,
            }
            prop_assert!(pages < 200, "the listing does not end");
        }
        req.token = None;
        prop_assert_eq!((objects, prefixes), expected(&keys, &req));
    }
}
