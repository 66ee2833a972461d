//! The content identity used to merge events, and the output order.

use core::cmp::Ordering;

use super::model::{Action, Datatype, Text, VisitEvent};
use super::timestamp::Timestamp;

/// Two events with equal identities are versions of one event: a
/// re-delivery when everything else matches too, a correction otherwise.
/// These are the reference's seven identity fields; comparison is exact and
/// case-sensitive, timestamps at microsecond precision, `None == None`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity {
    pub action: Action,
    pub ptid: Text,
    pub visit_date: Text,
    pub timestamp: Timestamp,
    pub datatype: Datatype,
    pub module: Option<Text>,
    pub pipeline_adcid: i32,
}

impl Identity {
    pub fn of(e: &VisitEvent) -> Self {
        Identity {
            action: e.action,
            ptid: e.ptid.clone(),
            visit_date: e.visit_date.clone(),
            timestamp: e.timestamp,
            datatype: e.datatype,
            module: e.module.clone(),
            pipeline_adcid: e.pipeline_adcid,
        }
    }
}

impl VisitEvent {
    /// Checkpoint row order: (timestamp, ptid, action) as the reference
    /// sorts (strings by their text), then the remaining identity fields so
    /// that the order is total and independent of arrival order.
    pub fn output_cmp(&self, other: &VisitEvent) -> Ordering {
        self.timestamp
            .cmp(&other.timestamp)
            .then_with(|| self.ptid.cmp(&other.ptid))
            .then_with(|| self.action.as_str().cmp(other.action.as_str()))
            .then_with(|| self.visit_date.cmp(&other.visit_date))
            .then_with(|| self.datatype.as_str().cmp(other.datatype.as_str()))
            .then_with(|| self.module.cmp(&other.module))
            .then_with(|| self.pipeline_adcid.cmp(&other.pipeline_adcid))
    }
}
