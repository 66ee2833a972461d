//! The report's numbers, from checkpoint rows streamed batch by batch:
//! memory follows the centers, months and visits, not the rows.

use std::collections::{BTreeMap, HashMap};

/// The maps of labels and visits: keys are our own data, not an
/// attacker's choosing in a way that matters to a one-off report, and
/// SipHash cost a fifth of the run.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

use eventlog_formats::checkpoint::{Col, Rows};

/// Which events count: visit months (of `visit_date`) from..=to, and
/// studies (all when empty).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `YYYY-MM`, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    pub studies: Vec<String>,
}

impl Filter {
    fn keeps(&self, study: &str, month: &str) -> bool {
        (self.studies.is_empty() || self.studies.iter().any(|s| s == study))
            && self.from.as_deref().is_none_or(|f| month >= f)
            && self.to.as_deref().is_none_or(|t| month <= t)
    }
}

/// Events of one month and center.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Monthly {
    pub submitted: u64,
    pub passed_qc: u64,
    pub failed_qc: u64,
}

/// Events of one study and datatype.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub events: u64,
    pub submitted: u64,
    pub passed_qc: u64,
    pub failed_qc: u64,
    pub deleted: u64,
}

/// An interned label: centers, studies, datatypes, modules, actions and
/// months repeat on every row, so the numbers are kept by small integers,
/// not strings (a million rows would otherwise mean millions of small
/// allocations).
pub type Sym = u32;

#[derive(Debug, Default)]
pub struct Names {
    names: Vec<String>,
    ids: Map<String, Sym>,
}

impl Names {
    pub fn id(&mut self, s: &str) -> Sym {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        let id = self.names.len() as Sym;
        self.names.push(s.to_string());
        self.ids.insert(s.to_string(), id);
        id
    }

    pub fn get(&self, id: Sym) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }
}

/// The columns the report counts with, in the order of a [`Source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Field {
    Action = 0,
    Study,
    CenterLabel,
    Ptid,
    VisitDate,
    VisitNumber,
    Datatype,
    Module,
}

/// Rows to count: text columns by [`Field`], the event time in
/// microseconds since the epoch (UTC).
pub trait Source {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn text(&self, f: Field, i: usize) -> Option<&str>;
    fn ts(&self, i: usize) -> Option<i64>;
}

/// The checkpoint crate's canonical batches count too.
impl Source for Rows<'_> {
    fn len(&self) -> usize {
        Rows::len(self)
    }
    fn is_empty(&self) -> bool {
        Rows::is_empty(self)
    }
    fn text(&self, f: Field, i: usize) -> Option<&str> {
        let col = match f {
            Field::Action => Col::Action,
            Field::Study => Col::Study,
            Field::CenterLabel => Col::CenterLabel,
            Field::Ptid => Col::Ptid,
            Field::VisitDate => Col::VisitDate,
            Field::VisitNumber => Col::VisitNumber,
            Field::Datatype => Col::Datatype,
            Field::Module => Col::Module,
        };
        self.str(col, i)
    }
    fn ts(&self, i: usize) -> Option<i64> {
        Rows::ts(self, i)
    }
}

/// A visit's latest event (ties at the same time go to the first of
/// action, study, datatype in ascending order, so the choice is stable),
/// and when it was last submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latest {
    pub center_label: Sym,
    pub study: Sym,
    pub datatype: Sym,
    /// `None`: no module.
    pub module: Option<Sym>,
    pub action: Sym,
    pub timestamp: i64,
    /// The latest `submit` event's time, whatever the latest event is.
    pub submitted_at: Option<i64>,
}

/// A visit, as the seed's query identifies it (ptid, visit date, visit
/// number), packed into one string: see [`visit_key`] and [`visit_parts`].
pub type Visit = Box<str>;

const SEP: char = '\u{1f}';

/// Write the key of a visit into `k` (cleared first).
fn write_visit_key(k: &mut String, ptid: &str, date: &str, number: Option<&str>) {
    k.clear();
    k.push_str(ptid);
    k.push(SEP);
    k.push_str(date);
    k.push(SEP);
    if let Some(n) = number {
        k.push('=');
        k.push_str(n);
    }
}

pub fn visit_key(ptid: &str, date: &str, number: Option<&str>) -> Visit {
    let mut k = String::with_capacity(ptid.len() + date.len() + 8);
    write_visit_key(&mut k, ptid, date, number);
    k.into_boxed_str()
}

/// `(ptid, visit_date, visit_number)` of a key.
pub fn visit_parts(key: &str) -> (&str, &str, Option<&str>) {
    let mut it = key.splitn(3, SEP);
    let ptid = it.next().unwrap_or("");
    let date = it.next().unwrap_or("");
    let number = it.next().and_then(|n| n.strip_prefix('='));
    (ptid, date, number)
}

/// The report's numbers. Everything is kept by interned labels (see
/// [`Names`]); the accessors below give them back as text, sorted.
#[derive(Debug, Default)]
pub struct Numbers {
    pub rows: u64,
    pub names: Names,
    monthly: Map<(Sym, Sym), Monthly>,
    totals: Map<(Sym, Sym), Totals>,
    /// Days from visit date to each QC event, per center.
    qc_days: Map<Sym, Vec<f64>>,
    pub latest: Map<Visit, Latest>,
    /// Scratch space for a row's visit key.
    key: String,
}

const DAY_MICROS: f64 = 86_400_000_000.0;

/// Microseconds since the epoch of a `YYYY-MM-DD` midnight, UTC, or
/// `None` for anything else (as DuckDB's cast fails).
fn date_micros(d: &str) -> Option<i64> {
    let b = d.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &d[r];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, m, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let date = chrono::NaiveDate::from_ymd_opt(y as i32, m, day)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros())
}

impl Numbers {
    /// Add one batch.
    pub fn add(&mut self, rows: &impl Source, filter: &Filter) {
        for i in 0..rows.len() {
            self.add_row(rows, i, filter);
        }
    }

    fn add_row(&mut self, rows: &impl Source, i: usize, filter: &Filter) {
        let s = |f| rows.text(f, i).unwrap_or("");
        let (study, visit_date) = (s(Field::Study), s(Field::VisitDate));
        let month = visit_date.get(..7).unwrap_or("");
        if !filter.keeps(study, month) {
            return;
        }
        let Some(ts) = rows.ts(i) else { return };
        self.rows += 1;
        let action_text = s(Field::Action);
        let (center, study, datatype, action, month) = (
            self.names.id(s(Field::CenterLabel)),
            self.names.id(study),
            self.names.id(s(Field::Datatype)),
            self.names.id(action_text),
            self.names.id(month),
        );
        let m = self.monthly.entry((month, center)).or_default();
        let t = self.totals.entry((study, datatype)).or_default();
        t.events += 1;
        match action_text {
            "submit" => {
                m.submitted += 1;
                t.submitted += 1;
            }
            "pass-qc" => {
                m.passed_qc += 1;
                t.passed_qc += 1;
            }
            "not-pass-qc" => {
                m.failed_qc += 1;
                t.failed_qc += 1;
            }
            "delete" => t.deleted += 1,
            _ => {}
        }
        if matches!(action_text, "pass-qc" | "not-pass-qc")
            && let Some(day) = date_micros(visit_date)
        {
            let days = (ts - day) as f64 / DAY_MICROS;
            self.qc_days.entry(center).or_default().push(days);
        }
        let module = rows.text(Field::Module, i).map(|m| self.names.id(m));
        let submitted_at = (action_text == "submit").then_some(ts);
        let candidate = Latest {
            center_label: center,
            study,
            datatype,
            module,
            action,
            timestamp: ts,
            submitted_at,
        };
        let mut key = std::mem::take(&mut self.key);
        write_visit_key(
            &mut key,
            s(Field::Ptid),
            visit_date,
            rows.text(Field::VisitNumber, i),
        );
        match self.latest.get_mut(key.as_str()) {
            Some(cur) => keep_latest(cur, candidate, &self.names),
            None => {
                self.latest.insert(key.as_str().into(), candidate);
            }
        }
        self.key = key;
    }

    /// Fold `other` (counted apart, by another thread) into these numbers.
    pub fn merge(&mut self, other: Numbers) {
        let map: Vec<Sym> = other.names.names.iter().map(|n| self.names.id(n)).collect();
        let id = |s: Sym| map[s as usize];
        self.rows += other.rows;
        for ((a, b), m) in other.monthly {
            let into = self.monthly.entry((id(a), id(b))).or_default();
            into.submitted += m.submitted;
            into.passed_qc += m.passed_qc;
            into.failed_qc += m.failed_qc;
        }
        for ((a, b), t) in other.totals {
            let into = self.totals.entry((id(a), id(b))).or_default();
            into.events += t.events;
            into.submitted += t.submitted;
            into.passed_qc += t.passed_qc;
            into.failed_qc += t.failed_qc;
            into.deleted += t.deleted;
        }
        for (c, days) in other.qc_days {
            self.qc_days.entry(id(c)).or_default().extend(days);
        }
        for (visit, l) in other.latest {
            let l = Latest {
                center_label: id(l.center_label),
                study: id(l.study),
                datatype: id(l.datatype),
                module: l.module.map(id),
                action: id(l.action),
                ..l
            };
            match self.latest.get_mut(&visit) {
                Some(cur) => keep_latest(cur, l, &self.names),
                None => {
                    self.latest.insert(visit, l);
                }
            }
        }
    }

    /// Events per (month, center), sorted.
    pub fn monthly(&self) -> BTreeMap<(&str, &str), Monthly> {
        let n = &self.names;
        self.monthly
            .iter()
            .map(|((m, c), v)| ((n.get(*m), n.get(*c)), *v))
            .collect()
    }

    /// Events per (study, datatype), sorted.
    pub fn totals(&self) -> BTreeMap<(&str, &str), Totals> {
        let n = &self.names;
        self.totals
            .iter()
            .map(|((s, d), v)| ((n.get(*s), n.get(*d)), *v))
            .collect()
    }
}

/// `cur` becomes `candidate` when that is later; the latest submit time is
/// kept either way.
fn keep_latest(cur: &mut Latest, candidate: Latest, names: &Names) {
    let submitted_at = cur.submitted_at.max(candidate.submitted_at);
    if later(&candidate, cur, names) {
        *cur = candidate;
    }
    cur.submitted_at = submitted_at;
}

fn later(a: &Latest, b: &Latest, names: &Names) -> bool {
    let tie = |l: &Latest| {
        (
            names.get(l.action),
            names.get(l.study),
            names.get(l.datatype),
        )
    };
    a.timestamp > b.timestamp || (a.timestamp == b.timestamp && tie(a) < tie(b))
}

/// The `q` quantile with linear interpolation between the closest ranks
/// (DuckDB's `quantile_cont`); `v` sorted.
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// QC timing of one center.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    pub center_label: String,
    pub events: usize,
    /// QC events dated before the visit (a negative interval).
    pub before_visit: usize,
    pub mean_days: f64,
    pub median_days: f64,
    pub p90_days: f64,
}

/// A center's visits by their latest event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatestByCenter {
    pub visits: u64,
    pub failed_qc: u64,
    pub waiting_for_qc: u64,
}

/// Where a center's visits stand (see the README's "Visit lifecycle"): by
/// each visit's latest event, and the days from its last submit to the QC
/// outcome it ended with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VisitStatus {
    pub visits: u64,
    /// Visits with a submit event.
    pub submitted: u64,
    /// Latest event a pass-qc.
    pub passed: u64,
    /// Latest event a not-pass-qc.
    pub failed: u64,
    /// Latest event a submit: no QC outcome since.
    pub waiting: u64,
    /// Latest event a delete.
    pub deleted: u64,
    /// Days from the last submit to the outcome, of passed and failed
    /// visits that were submitted.
    pub days_to_qc: Vec<f64>,
}

impl Numbers {
    pub fn timing(&self) -> Vec<Timing> {
        let mut out: Vec<Timing> = self
            .qc_days
            .iter()
            .map(|(c, days)| {
                let mut v = days.clone();
                v.sort_by(f64::total_cmp);
                Timing {
                    center_label: self.names.get(*c).to_string(),
                    events: v.len(),
                    before_visit: v.iter().filter(|d| **d < 0.0).count(),
                    mean_days: v.iter().sum::<f64>() / v.len() as f64,
                    median_days: quantile(&v, 0.5),
                    p90_days: quantile(&v, 0.9),
                }
            })
            .collect();
        out.sort_by(|a, b| a.center_label.cmp(&b.center_label));
        out
    }

    pub fn latest_by_center(&self) -> BTreeMap<String, LatestByCenter> {
        let mut out: BTreeMap<String, LatestByCenter> = BTreeMap::new();
        for l in self.latest.values() {
            let c = out
                .entry(self.names.get(l.center_label).to_string())
                .or_default();
            c.visits += 1;
            match self.names.get(l.action) {
                "not-pass-qc" => c.failed_qc += 1,
                "submit" => c.waiting_for_qc += 1,
                _ => {}
            }
        }
        out
    }

    /// Per center (of each visit's latest event), where its visits stand.
    pub fn visit_status(&self) -> BTreeMap<String, VisitStatus> {
        let mut out: BTreeMap<String, VisitStatus> = BTreeMap::new();
        for l in self.latest.values() {
            let c = out
                .entry(self.names.get(l.center_label).to_string())
                .or_default();
            c.visits += 1;
            c.submitted += u64::from(l.submitted_at.is_some());
            let outcome = match self.names.get(l.action) {
                "pass-qc" => {
                    c.passed += 1;
                    true
                }
                "not-pass-qc" => {
                    c.failed += 1;
                    true
                }
                "submit" => {
                    c.waiting += 1;
                    false
                }
                "delete" => {
                    c.deleted += 1;
                    false
                }
                _ => false,
            };
            if let (true, Some(at)) = (outcome, l.submitted_at) {
                c.days_to_qc.push((l.timestamp - at) as f64 / DAY_MICROS);
            }
        }
        for c in out.values_mut() {
            c.days_to_qc.sort_by(f64::total_cmp);
        }
        out
    }

    /// Visits with their latest event, by time (then visit).
    pub fn latest_sorted(&self) -> Vec<(&Visit, &Latest)> {
        // The visit's parts split once, not at every comparison; keys are
        // unique, so an unstable sort gives the one order.
        let mut v: Vec<_> = self
            .latest
            .iter()
            .map(|(k, l)| ((l.timestamp, visit_parts(k)), (k, l)))
            .collect();
        v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        v.into_iter().map(|(_, kl)| kl).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_duckdb() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert!((quantile(&v, 0.9) - 3.7).abs() < 1e-12);
        assert_eq!(quantile(&[5.0], 0.9), 5.0);
    }

    #[test]
    fn visit_keys_round_trip() {
        for (p, d, n) in [
            ("P1", "2025-01-01", Some("01")),
            ("P1", "2025-01-01", Some("")),
            ("P1", "2025-01-01", None),
        ] {
            assert_eq!(visit_parts(&visit_key(p, d, n)), (p, d, n));
        }
        assert_ne!(visit_key("P", "d", None), visit_key("P", "d", Some("")));
    }

    #[test]
    fn filter_by_month_and_study() {
        let f = Filter {
            from: Some("2025-02".into()),
            to: Some("2025-03".into()),
            studies: vec!["adrc".into()],
        };
        assert!(f.keeps("adrc", "2025-02") && f.keeps("adrc", "2025-03"));
        assert!(!f.keeps("adrc", "2025-01") && !f.keeps("adrc", "2025-04"));
        assert!(!f.keeps("dvcid", "2025-02"));
    }
}
