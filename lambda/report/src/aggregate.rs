//! The report's numbers, from checkpoint rows streamed batch by batch:
//! memory follows the centers, months and visits, not the rows.

use std::collections::{BTreeMap, HashMap};

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

/// An interned label: centers, studies, datatypes, modules and actions
/// repeat on every row, so a visit holds numbers, not strings (half a
/// million visits would otherwise hold millions of small allocations).
pub type Sym = u32;

#[derive(Debug, Default)]
pub struct Names {
    names: Vec<String>,
    ids: HashMap<String, Sym>,
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

/// A visit's latest event (ties at the same time go to the first of
/// action, study, datatype in ascending order, so the choice is stable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latest {
    pub center_label: Sym,
    pub study: Sym,
    pub datatype: Sym,
    /// `None`: no module.
    pub module: Option<Sym>,
    pub action: Sym,
    pub timestamp: i64,
}

/// A visit, as the seed's query identifies it (ptid, visit date, visit
/// number), packed into one string: see [`visit_key`] and [`visit_parts`].
pub type Visit = Box<str>;

const SEP: char = '\u{1f}';

pub fn visit_key(ptid: &str, date: &str, number: Option<&str>) -> Visit {
    let mut k = String::with_capacity(ptid.len() + date.len() + 8);
    k.push_str(ptid);
    k.push(SEP);
    k.push_str(date);
    k.push(SEP);
    if let Some(n) = number {
        k.push('=');
        k.push_str(n);
    }
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

#[derive(Debug, Default)]
pub struct Numbers {
    pub rows: u64,
    pub monthly: BTreeMap<(String, String), Monthly>,
    /// Days from visit date to each QC event, per center.
    pub qc_days: BTreeMap<String, Vec<f64>>,
    pub latest: HashMap<Visit, Latest>,
    pub names: Names,
    pub totals: BTreeMap<(String, String), Totals>,
}

const DAY_MICROS: f64 = 86_400_000_000.0;

/// Microseconds since the epoch of a `YYYY-MM-DD` midnight, UTC.
fn date_micros(d: &str) -> Option<i64> {
    let date = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros())
}

impl Numbers {
    /// Add one canonical batch.
    pub fn add(&mut self, rows: &Rows<'_>, filter: &Filter) {
        for i in 0..rows.len() {
            self.add_row(rows, i, filter);
        }
    }

    fn add_row(&mut self, rows: &Rows<'_>, i: usize, filter: &Filter) {
        let s = |c| rows.str(c, i).unwrap_or("");
        let (study, visit_date) = (s(Col::Study), s(Col::VisitDate));
        let month = visit_date.get(..7).unwrap_or("");
        if !filter.keeps(study, month) {
            return;
        }
        let Some(ts) = rows.ts(i) else { return };
        self.rows += 1;
        let (action, center, datatype) = (s(Col::Action), s(Col::CenterLabel), s(Col::Datatype));
        let m = self
            .monthly
            .entry((month.to_string(), center.to_string()))
            .or_default();
        let t = self
            .totals
            .entry((study.to_string(), datatype.to_string()))
            .or_default();
        t.events += 1;
        match action {
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
        if matches!(action, "pass-qc" | "not-pass-qc")
            && let Some(day) = date_micros(visit_date)
        {
            let days = (ts - day) as f64 / DAY_MICROS;
            self.qc_days
                .entry(center.to_string())
                .or_default()
                .push(days);
        }
        let visit = visit_key(s(Col::Ptid), visit_date, rows.str(Col::VisitNumber, i));
        let candidate = Latest {
            center_label: self.names.id(center),
            study: self.names.id(study),
            datatype: self.names.id(datatype),
            module: rows.str(Col::Module, i).map(|m| self.names.id(m)),
            action: self.names.id(action),
            timestamp: ts,
        };
        match self.latest.get_mut(&visit) {
            Some(cur) if !later(&candidate, cur, &self.names) => {}
            Some(cur) => *cur = candidate,
            None => {
                self.latest.insert(visit, candidate);
            }
        }
    }
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

impl Numbers {
    pub fn timing(&self) -> Vec<Timing> {
        self.qc_days
            .iter()
            .map(|(c, days)| {
                let mut v = days.clone();
                v.sort_by(f64::total_cmp);
                Timing {
                    center_label: c.clone(),
                    events: v.len(),
                    mean_days: v.iter().sum::<f64>() / v.len() as f64,
                    median_days: quantile(&v, 0.5),
                    p90_days: quantile(&v, 0.9),
                }
            })
            .collect()
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

    /// Visits with their latest event, by time (then visit).
    pub fn latest_sorted(&self) -> Vec<(&Visit, &Latest)> {
        let mut v: Vec<_> = self.latest.iter().collect();
        v.sort_by(|a, b| {
            a.1.timestamp
                .cmp(&b.1.timestamp)
                .then_with(|| visit_parts(a.0).cmp(&visit_parts(b.0)))
        });
        v
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
