//! The `VisitEvent` model (the reference's 15 fields) and its normalised
//! JSON form.

use alloc::string::String;

use super::timestamp::Timestamp;
use crate::report::{push_int, write_json_opt_str, write_json_str};

/// An event's text: most are a few bytes and are kept inline (up to 24
/// bytes on 64-bit targets, 12 in wasm32) instead of allocated one by
/// one; it reads as a `&str`.
pub type Text = compact_str::CompactString;

/// What happened to the visit. The producer's `duplicate-submit` is not one
/// of them: the consumer rejects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Submit,
    Delete,
    NotPassQc,
    PassQc,
}

impl Action {
    pub const ALL: [Action; 4] = [
        Action::Submit,
        Action::Delete,
        Action::NotPassQc,
        Action::PassQc,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Delete => "delete",
            Action::NotPassQc => "not-pass-qc",
            Action::PassQc => "pass-qc",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// The kind of data the event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Datatype {
    Apoe,
    Biomarker,
    Dicom,
    Enrollment,
    Form,
    GeneticAvailability,
    Gwas,
    Imputation,
    ScanAnalysis,
}

impl Datatype {
    pub const ALL: [Datatype; 9] = [
        Datatype::Apoe,
        Datatype::Biomarker,
        Datatype::Dicom,
        Datatype::Enrollment,
        Datatype::Form,
        Datatype::GeneticAvailability,
        Datatype::Gwas,
        Datatype::Imputation,
        Datatype::ScanAnalysis,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Datatype::Apoe => "apoe",
            Datatype::Biomarker => "biomarker",
            Datatype::Dicom => "dicom",
            Datatype::Enrollment => "enrollment",
            Datatype::Form => "form",
            Datatype::GeneticAvailability => "genetic-availability",
            Datatype::Gwas => "gwas",
            Datatype::Imputation => "imputation",
            Datatype::ScanAnalysis => "scan-analysis",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// One validated, normalised visit event. Field order is the reference's
/// declaration order, which is also the parquet column order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VisitEvent {
    pub action: Action,
    pub study: Text,
    pub pipeline_adcid: i32,
    pub project_label: Text,
    pub center_label: Text,
    pub gear_name: Text,
    pub ptid: Text,
    pub naccid: Option<Text>,
    pub visit_date: Text,
    pub visit_number: Option<Text>,
    pub datatype: Datatype,
    pub module: Option<Text>,
    pub packet: Option<Text>,
    pub modality: Option<Text>,
    pub timestamp: Timestamp,
}

impl VisitEvent {
    /// Parquet column names, in order.
    pub const FIELDS: [&'static str; 15] = [
        "action",
        "study",
        "pipeline_adcid",
        "project_label",
        "center_label",
        "gear_name",
        "ptid",
        "naccid",
        "visit_date",
        "visit_number",
        "datatype",
        "module",
        "packet",
        "modality",
        "timestamp",
    ];

    /// The reference's normalised JSON: every field, declaration order,
    /// `null` for absent optionals, UTC timestamp.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(400);
        self.write_json(&mut out);
        out
    }

    pub fn write_json(&self, out: &mut String) {
        out.push_str("{\"action\":");
        write_json_str(out, self.action.as_str());
        out.push_str(",\"study\":");
        write_json_str(out, &self.study);
        out.push_str(",\"pipeline_adcid\":");
        push_int(out, i64::from(self.pipeline_adcid));
        out.push_str(",\"project_label\":");
        write_json_str(out, &self.project_label);
        out.push_str(",\"center_label\":");
        write_json_str(out, &self.center_label);
        out.push_str(",\"gear_name\":");
        write_json_str(out, &self.gear_name);
        out.push_str(",\"ptid\":");
        write_json_str(out, &self.ptid);
        out.push_str(",\"naccid\":");
        write_json_opt_str(out, self.naccid.as_deref());
        out.push_str(",\"visit_date\":");
        write_json_str(out, &self.visit_date);
        out.push_str(",\"visit_number\":");
        write_json_opt_str(out, self.visit_number.as_deref());
        out.push_str(",\"datatype\":");
        write_json_str(out, self.datatype.as_str());
        out.push_str(",\"module\":");
        write_json_opt_str(out, self.module.as_deref());
        out.push_str(",\"packet\":");
        write_json_opt_str(out, self.packet.as_deref());
        out.push_str(",\"modality\":");
        write_json_opt_str(out, self.modality.as_deref());
        out.push_str(",\"timestamp\":");
        // No character of the form needs escaping.
        out.push('"');
        self.timestamp.write_rfc3339(out);
        out.push('"');
        out.push('}');
    }

    /// Whether the reference's sandbox filter drops this event: a project
    /// label starting with `sandbox-` (case-sensitive).
    pub fn is_sandbox(&self) -> bool {
        self.project_label.starts_with("sandbox-")
    }
}
