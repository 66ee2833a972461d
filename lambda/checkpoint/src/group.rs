//! Stage 5, group: valid events by (study, datatype), one version per
//! identity within a run.

use std::collections::{BTreeMap, HashMap};

use eventlog_core::visit::{Identity, Valid, VisitEvent};

/// A validated event and the object it came from.
#[derive(Debug, Clone)]
pub struct Sourced {
    pub event: Valid<VisitEvent>,
    pub key: String,
    pub modified_micros: Option<i64>,
}

#[derive(Debug, Default)]
pub struct Group {
    /// One event per identity, in output order.
    pub events: Vec<Valid<VisitEvent>>,
    /// Every source key whose event landed in this group (winners and
    /// superseded versions alike: all are accounted for once it commits).
    pub keys: Vec<String>,
    /// Versions that lost to another version of the same identity.
    pub superseded: usize,
}

/// Per group while grouping: the winner per identity, every key, how many lost.
type Building = (HashMap<Identity, Sourced>, Vec<String>, usize);

/// Group by `(study, datatype)`. When one run sees several versions of one
/// identity, the winner is the one from the most recently modified object;
/// ties go to the greater key. So the result does not depend on the order
/// in which reads completed.
#[tracing::instrument(name = "group", skip_all, fields(events = items.len(), groups, duration_ms))]
pub fn group(items: Vec<Sourced>) -> BTreeMap<(String, String), Group> {
    let _timed = crate::timed::Timed::start();
    let mut by_group: BTreeMap<(String, String), Building> = BTreeMap::new();
    for s in items {
        let gk = (
            s.event.study.to_string(),
            s.event.datatype.as_str().to_string(),
        );
        let (winners, keys, superseded) = by_group.entry(gk).or_default();
        keys.push(s.key.clone());
        let id = Identity::of(&s.event);
        match winners.get(&id) {
            Some(cur) if (cur.modified_micros, &cur.key) >= (s.modified_micros, &s.key) => {
                *superseded += 1
            }
            Some(_) => {
                *superseded += 1;
                winners.insert(id, s);
            }
            None => {
                winners.insert(id, s);
            }
        }
    }
    tracing::Span::current().record("groups", by_group.len());
    by_group
        .into_iter()
        .map(|(k, (winners, keys, superseded))| {
            let mut events: Vec<Valid<VisitEvent>> =
                winners.into_values().map(|s| s.event).collect();
            events.sort_by(|a, b| a.output_cmp(b));
            (
                k,
                Group {
                    events,
                    keys,
                    superseded,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use eventlog_core::visit::validate;

    fn sourced(key: &str, modified: i64, packet: &str, study: &str) -> Sourced {
        let body = format!(
            r#"{{"action":"submit","study":"{study}","project_label":"p","center_label":"a","gear_name":"g","datatype":"form","module":"UDS","packet":"{packet}","timestamp":"2024-01-01T00:00:00Z","visit_date":"2024-01-01","pipeline_adcid":1,"ptid":"1"}}"#
        );
        Sourced {
            event: validate(body.as_bytes()).event.unwrap(),
            key: key.into(),
            modified_micros: Some(modified),
        }
    }

    #[test]
    fn newest_version_wins_regardless_of_order() {
        let a = sourced("a", 10, "OLD", "adrc");
        let b = sourced("b", 20, "NEW", "adrc");
        let c = sourced("c", 5, "X", "leads");
        for items in [vec![a.clone(), b.clone(), c.clone()], vec![c, b, a]] {
            let g = group(items);
            assert_eq!(g.len(), 2);
            let adrc = &g[&("adrc".to_string(), "form".to_string())];
            assert_eq!(adrc.events.len(), 1);
            assert_eq!(adrc.events[0].packet.as_deref(), Some("NEW"));
            assert_eq!(adrc.superseded, 1);
            assert_eq!(adrc.keys.len(), 2);
        }
    }
}
