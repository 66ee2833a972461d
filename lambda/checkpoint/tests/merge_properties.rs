//! Properties of grouping and merging (proptest): the result is the plain
//! "keep the documented winner per identity, sort" of the same events,
//! whatever order they arrive in; merging again changes nothing; merging in
//! two runs gives what one run gives when the later run's versions win; and
//! the order core defines is the order the parquet rows are in.

use std::collections::BTreeMap;
use std::path::Path;

use eventlog_checkpoint::group::{Sourced, group};
use eventlog_checkpoint::merge::merge_to_file;
use eventlog_core::visit::{Identity, Valid, VisitEvent, validate};
use eventlog_formats::checkpoint::{Col, Rows, decode};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Spec {
    action: usize,
    ptid: usize,
    date: usize,
    ts: usize,
    module: usize,
    adcid: i32,
    packet: usize,
    naccid: bool,
    modified: i64,
}

fn arb_spec() -> impl Strategy<Value = Spec> {
    (
        0usize..3,
        0usize..4,
        0usize..2,
        0usize..3,
        0usize..2,
        1i32..3,
        0usize..2,
        any::<bool>(),
        0i64..4,
    )
        .prop_map(
            |(action, ptid, date, ts, module, adcid, packet, naccid, modified)| Spec {
                action,
                ptid,
                date,
                ts,
                module,
                adcid,
                packet,
                naccid,
                modified,
            },
        )
}

fn event(s: &Spec) -> Valid<VisitEvent> {
    let action = ["submit", "pass-qc", "delete"][s.action];
    let ptid = ["1", "2", "10", "A"][s.ptid];
    let date = ["2024-01-01", "2024-01-02"][s.date];
    let ts = [
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:01Z",
        "2024-01-01T00:00:00.5Z",
    ][s.ts];
    let module = ["UDS", "FTLD"][s.module];
    let packet = ["I", "F"][s.packet];
    let naccid = if s.naccid {
        r#","naccid":"NACC000001""#
    } else {
        ""
    };
    let text = format!(
        r#"{{"action":"{action}","project_label":"ingest-form","center_label":"c","gear_name":"g","datatype":"form","module":"{module}","packet":"{packet}","timestamp":"{ts}","visit_date":"{date}","pipeline_adcid":{},"ptid":"{ptid}"{naccid}}}"#,
        s.adcid
    );
    validate(text.as_bytes())
        .event
        .expect("valid by construction")
}

fn sourced(specs: &[Spec]) -> Vec<Sourced> {
    specs
        .iter()
        .enumerate()
        .map(|(i, s)| Sourced {
            event: event(s),
            key: format!("prod/k{i:03}.json"),
            modified_micros: Some(s.modified),
        })
        .collect()
}

/// The winner per identity (latest modification, then greatest key),
/// sorted by core's output order: what one run must write.
fn expected(items: &[Sourced]) -> Vec<String> {
    let mut winners: BTreeMap<Identity, &Sourced> = BTreeMap::new();
    for s in items {
        let id = Identity::of(&s.event);
        match winners.get(&id) {
            Some(cur) if (cur.modified_micros, &cur.key) >= (s.modified_micros, &s.key) => {}
            _ => {
                winners.insert(id, s);
            }
        }
    }
    let mut events: Vec<&VisitEvent> = winners.values().map(|s| &*s.event).collect();
    events.sort_by(|a, b| a.output_cmp(b));
    events.iter().map(|e| e.to_json()).collect()
}

/// Merge `items` (grouped as a run groups them) into `existing`, writing `out`.
fn run_once(items: Vec<Sourced>, existing: Option<&Path>, out: &Path) -> bool {
    let groups = group(items);
    assert!(groups.len() <= 1, "one study and datatype");
    let events = groups
        .into_values()
        .next()
        .map(|g| g.events)
        .unwrap_or_default();
    merge_to_file(existing, &events, out, "prop")
        .expect("merge")
        .changed()
}

/// The rows of a checkpoint as normalised event JSON, in file order; and
/// whether they are in the parquet sort key's order.
fn rows(path: &Path) -> (Vec<String>, bool) {
    let batches = decode(&std::fs::read(path).unwrap(), "prop").unwrap();
    let mut out = Vec::new();
    let mut sorted = true;
    let mut last = None;
    for b in &batches {
        let r = Rows::new(b);
        for i in 0..r.len() {
            let key = r.sort_key(i);
            let owned = (
                key.ts,
                key.ptid.map(String::from),
                key.action.map(String::from),
                key.visit_date.map(String::from),
                key.datatype.map(String::from),
                key.module.map(String::from),
                key.adcid,
            );
            if let Some(prev) = &last {
                sorted &= *prev <= owned;
            }
            last = Some(owned);
            let s = |c| r.str(c, i).map(|v: &str| v.to_string());
            let naccid = s(Col::Naccid).map_or(String::new(), |n| format!(r#","naccid":"{n}""#));
            let ts = eventlog_core::visit::Timestamp::from_micros(r.ts(i).unwrap()).unwrap();
            let text = format!(
                r#"{{"action":"{}","project_label":"{}","center_label":"{}","gear_name":"{}","datatype":"{}","module":"{}","packet":"{}","timestamp":"{}","visit_date":"{}","pipeline_adcid":{},"ptid":"{}"{naccid}}}"#,
                s(Col::Action).unwrap(),
                s(Col::ProjectLabel).unwrap(),
                s(Col::CenterLabel).unwrap(),
                s(Col::GearName).unwrap(),
                s(Col::Datatype).unwrap(),
                s(Col::Module).unwrap(),
                s(Col::Packet).unwrap(),
                ts.to_rfc3339(),
                s(Col::VisitDate).unwrap(),
                r.adcid(i).unwrap(),
                s(Col::Ptid).unwrap()
            );
            out.push(
                validate(text.as_bytes())
                    .event
                    .expect("a row is a valid event")
                    .to_json(),
            );
        }
    }
    (out, sorted)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn one_run_is_sort_and_dedup_whatever_the_order(specs in prop::collection::vec(arb_spec(), 1..40), seed in any::<u64>()) {
        let dir = tempfile::tempdir().unwrap();
        let items = sourced(&specs);
        let want = expected(&items);
        let a = dir.path().join("a.parquet");
        run_once(items.clone(), None, &a);
        let (got, sorted) = rows(&a);
        prop_assert!(sorted, "rows in the parquet sort key's order");
        prop_assert_eq!(&got, &want);
        // Another arrival order: the same bytes.
        let mut shuffled = items;
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let b = dir.path().join("b.parquet");
        run_once(shuffled, None, &b);
        prop_assert!(std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(), "independent of arrival order");
    }

    #[test]
    fn merging_again_changes_nothing(specs in prop::collection::vec(arb_spec(), 1..30)) {
        let dir = tempfile::tempdir().unwrap();
        let items = sourced(&specs);
        let a = dir.path().join("a.parquet");
        run_once(items.clone(), None, &a);
        let again = dir.path().join("again.parquet");
        prop_assert!(!run_once(items, Some(&a), &again), "idempotent: nothing to write");
        prop_assert_eq!(rows(&again).0, rows(&a).0);
    }

    #[test]
    fn two_runs_give_what_one_run_gives(specs in prop::collection::vec(arb_spec(), 2..40), cut in 0usize..40) {
        let dir = tempfile::tempdir().unwrap();
        let cut = cut.min(specs.len());
        // The second run's objects are newer: its versions win, as in one run.
        let mut items = sourced(&specs);
        for s in &mut items[cut..] {
            s.modified_micros = s.modified_micros.map(|m| m + 100);
        }
        let first = dir.path().join("first.parquet");
        run_once(items[..cut].to_vec(), None, &first);
        let second = dir.path().join("second.parquet");
        let existing = (cut > 0).then_some(first.as_path());
        run_once(items[cut..].to_vec(), existing, &second);
        let (got, sorted) = rows(&second);
        prop_assert!(sorted);
        prop_assert_eq!(got, expected(&items));
    }
}
