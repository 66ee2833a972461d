//! Field rules for visit events, in the reference's lax (Python-mode)
//! semantics, plus the deliberate, stricter rules of `docs/differences.md`.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::model::{Action, Datatype, Text, VisitEvent};
use super::timestamp::{self, ParsedTimestamp, TimestampError};
use super::valid::Valid;
use crate::json::{self, Int, JsonErrorKind, Object, Str, Value};
use crate::report::{Code, Issue, excerpt};
use crate::unicode;

/// The longest folder name common file systems hold (`NAME_MAX`).
pub const MAX_STUDY_BYTES: usize = 255;

/// The outcome of validating one document.
#[derive(Debug, Clone)]
pub struct Validation {
    /// Present exactly when `errors` is empty.
    pub event: Option<Valid<VisitEvent>>,
    pub errors: Vec<Issue>,
    /// What [`Validation::seen`] does not read from `event`.
    pub(crate) parsed: Parsed,
}

impl Validation {
    pub fn is_valid(&self) -> bool {
        self.event.is_some()
    }

    /// Whatever fields parsed, valid or not overall: the file-name check
    /// compares against these. A valid document's texts are the event's
    /// own, so they are not copied a second time.
    pub(crate) fn seen(&self) -> Seen<'_> {
        let p = &self.parsed;
        match &self.event {
            Some(e) => Seen {
                action: Some(e.action),
                pipeline_adcid: Some(i64::from(e.pipeline_adcid)),
                project_label: Some(&e.project_label),
                ptid: Some(&e.ptid),
                visit_date: Some(&e.visit_date),
                visit_number: Some(e.visit_number.as_deref()),
                timestamp: p.timestamp.as_ref(),
            },
            None => Seen {
                action: p.action,
                pipeline_adcid: p.pipeline_adcid,
                project_label: p.project_label.as_deref(),
                ptid: p.ptid.as_deref(),
                visit_date: p.visit_date.as_deref(),
                visit_number: p.visit_number.as_ref().map(Option::as_deref),
                timestamp: p.timestamp.as_ref(),
            },
        }
    }
}

/// The fields the file-name check compares, borrowed from a validation.
pub(crate) struct Seen<'a> {
    pub(crate) action: Option<Action>,
    pub(crate) pipeline_adcid: Option<i64>,
    pub(crate) project_label: Option<&'a str>,
    pub(crate) ptid: Option<&'a str>,
    pub(crate) visit_date: Option<&'a str>,
    pub(crate) visit_number: Option<Option<&'a str>>,
    pub(crate) timestamp: Option<&'a ParsedTimestamp>,
}

/// Field values that passed their own checks. The texts are kept only
/// for a document that is not valid (a valid one has them in its event).
#[derive(Debug, Clone, Default)]
pub(crate) struct Parsed {
    pub(crate) action: Option<Action>,
    pub(crate) pipeline_adcid: Option<i64>,
    pub(crate) project_label: Option<Text>,
    pub(crate) ptid: Option<Text>,
    pub(crate) visit_date: Option<Text>,
    pub(crate) visit_number: Option<Option<Text>>,
    pub(crate) timestamp: Option<ParsedTimestamp>,
}

const KNOWN: [&str; 15] = VisitEvent::FIELDS;

/// Validate raw file bytes.
pub fn validate(bytes: &[u8]) -> Validation {
    match json::decode(bytes) {
        Ok(value) => validate_value(&value),
        Err(e) => {
            let code = match e.kind {
                JsonErrorKind::Syntax => Code::JsonInvalid,
                JsonErrorKind::Encoding => Code::JsonEncoding,
                JsonErrorKind::IntegerTooLong => Code::JsonIntegerTooLong,
                JsonErrorKind::TooDeep => Code::JsonTooDeep,
            };
            let blank = bytes.iter().all(|b| b" \t\r\n".contains(b));
            let message = if blank && code == Code::JsonInvalid {
                String::from(crate::json::words::EMPTY_FILE)
            } else {
                crate::json::words::json_file_words(&e)
            };
            Validation {
                event: None,
                errors: alloc::vec![Issue::new("__json__", code, message)],
                parsed: Parsed::default(),
            }
        }
    }
}

/// Validate an already decoded document.
pub fn validate_value(value: &Value) -> Validation {
    let Value::Object(obj) = value else {
        return Validation {
            event: None,
            errors: alloc::vec![Issue::new(
                "__root__",
                Code::ModelType,
                format!("the file must hold one JSON object, not {}", value.kind()),
            )],
            parsed: Parsed::default(),
        };
    };
    let (slots, extra) = index_fields(obj);
    let mut v = Checker {
        obj,
        slots,
        extra,
        errors: Vec::new(),
        reference_errors: 0,
        parsed: Parsed::default(),
    };
    // Field by field in declaration order, as the reference reports them.
    let fields = Fields::read(&mut v);
    v.forbid_extra();
    // The datatype rule runs when every field passed the reference's own
    // checks, whether or not one of our stricter rules failed.
    if v.reference_errors == 0
        && let (Some(datatype), Some(module), Some(modality)) =
            (fields.datatype, &fields.module, &fields.modality)
    {
        v.datatype_rule(datatype, module.as_deref(), modality.as_deref());
    }
    let Checker {
        errors, mut parsed, ..
    } = v;
    let event = if errors.is_empty() {
        fields.into_event(parsed.timestamp.as_ref())
    } else {
        parsed.project_label = fields.project_label;
        parsed.ptid = fields.ptid;
        parsed.visit_date = fields.visit_date;
        parsed.visit_number = fields.visit_number;
        None
    };
    Validation {
        event: event.map(Valid::new),
        errors,
        parsed,
    }
}

/// Every field as read: `None` where it failed its own checks (optional
/// ones are `Some(None)` when absent or null).
struct Fields {
    action: Option<Action>,
    study: Option<Text>,
    adcid: Option<i64>,
    project_label: Option<Text>,
    center_label: Option<Text>,
    gear_name: Option<Text>,
    ptid: Option<Text>,
    naccid: Option<Option<Text>>,
    visit_date: Option<Text>,
    visit_number: Option<Option<Text>>,
    datatype: Option<Datatype>,
    module: Option<Option<Text>>,
    packet: Option<Option<Text>>,
    modality: Option<Option<Text>>,
}

impl Fields {
    fn read(v: &mut Checker<'_>) -> Fields {
        let action = v
            .literal("action", &Action::ALL.map(Action::as_str))
            .and_then(Action::parse);
        v.parsed.action = action;
        let study = match v.get("study") {
            None => Some(Text::from("adrc")),
            Some(_) => v.string("study", StrRule::Plain),
        };
        let study = study.and_then(|s| v.study_path_safe(s));
        let adcid = v.adcid();
        let project_label = v.string("project_label", StrRule::Plain);
        let center_label = v.string("center_label", StrRule::Plain);
        let gear_name = v.string("gear_name", StrRule::Plain);
        let ptid = v.string("ptid", StrRule::Ptid);
        let naccid = v.optional_string("naccid");
        let visit_date = v.string("visit_date", StrRule::VisitDate);
        let visit_number = v.optional_string("visit_number");
        let datatype = v
            .literal("datatype", &Datatype::ALL.map(Datatype::as_str))
            .and_then(Datatype::parse);
        let module = v.optional_string("module");
        let packet = v.optional_string("packet");
        let modality = v.optional_string("modality");
        v.parsed.timestamp = v.timestamp();
        Fields {
            action,
            study,
            adcid,
            project_label,
            center_label,
            gear_name,
            ptid,
            naccid,
            visit_date,
            visit_number,
            datatype,
            module,
            packet,
            modality,
        }
    }

    /// The event, when every required field is there.
    fn into_event(self, timestamp: Option<&ParsedTimestamp>) -> Option<VisitEvent> {
        Some(VisitEvent {
            action: self.action?,
            study: self.study?,
            pipeline_adcid: i32::try_from(self.adcid?).ok()?,
            project_label: self.project_label?,
            center_label: self.center_label?,
            gear_name: self.gear_name?,
            ptid: self.ptid?,
            naccid: self.naccid.flatten(),
            visit_date: self.visit_date?,
            visit_number: self.visit_number.flatten(),
            datatype: self.datatype?,
            module: self.module.flatten(),
            packet: self.packet.flatten(),
            modality: self.modality.flatten(),
            timestamp: timestamp?.utc,
        })
    }
}

impl Checker<'_> {
    /// Every key that is not a field of the model.
    fn forbid_extra(&mut self) {
        if !self.extra {
            return;
        }
        for key in self.obj.keys() {
            if !key.unpaired_surrogate && KNOWN.contains(&key.as_str()) {
                continue;
            }
            self.push(Issue::new(
                key.as_str(),
                Code::ExtraForbidden,
                format!(
                    "unknown field `{}`: extra fields are not allowed",
                    excerpt(key.as_str())
                ),
            ));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum StrRule {
    Plain,
    Ptid,
    VisitDate,
}

/// The value of each model field (last occurrence wins), found in one pass
/// over the document's keys: looking each field up by scanning the keys
/// compared strings fifteen times per key, a twentieth of the validator's
/// time.
type Slots<'a> = [Option<&'a Value<'a>>; KNOWN.len()];

/// The slots, and whether any key is not a field.
fn index_fields<'a>(obj: &'a Object<'a>) -> (Slots<'a>, bool) {
    let mut slots: Slots<'a> = [None; KNOWN.len()];
    let mut extra = false;
    for (key, value) in obj.entries() {
        match field_slot(key.as_str()) {
            Some(i) if !key.unpaired_surrogate => slots[i] = Some(value),
            _ => extra = true,
        }
    }
    (slots, extra)
}

/// A field's position in [`KNOWN`]; a `match` decides by length first and
/// compares few bytes.
fn field_slot(key: &str) -> Option<usize> {
    Some(match key {
        "action" => 0,
        "study" => 1,
        "pipeline_adcid" => 2,
        "project_label" => 3,
        "center_label" => 4,
        "gear_name" => 5,
        "ptid" => 6,
        "naccid" => 7,
        "visit_date" => 8,
        "visit_number" => 9,
        "datatype" => 10,
        "module" => 11,
        "packet" => 12,
        "modality" => 13,
        "timestamp" => 14,
        _ => return None,
    })
}

struct Checker<'a> {
    obj: &'a Object<'a>,
    slots: Slots<'a>,
    /// Whether a key is not a field (then each is reported).
    extra: bool,
    errors: Vec<Issue>,
    /// Errors the reference would also report (not our stricter rules).
    reference_errors: usize,
    parsed: Parsed,
}

impl<'a> Checker<'a> {
    /// The field's value; `field` is one of [`KNOWN`].
    fn get(&self, field: &str) -> Option<&'a Value<'a>> {
        field_slot(field).and_then(|i| self.slots[i])
    }

    fn push(&mut self, issue: Issue) {
        if !issue.code.is_deliberate_difference() {
            self.reference_errors += 1;
        }
        self.errors.push(issue);
    }

    fn fail(&mut self, field: &str, code: Code, message: String) {
        self.push(Issue::new(field, code, message));
    }

    fn missing(&mut self, field: &str) {
        self.fail(
            field,
            Code::Missing,
            format!("`{field}` is required but missing"),
        );
    }

    fn literal<'s>(&mut self, field: &str, allowed: &[&'s str]) -> Option<&'s str> {
        let Some(value) = self.get(field) else {
            self.missing(field);
            return None;
        };
        if let Value::Str(s) = value
            && !s.unpaired_surrogate
            && let Some(hit) = allowed.iter().find(|a| **a == s.text)
        {
            return Some(hit);
        }
        let hint = match value {
            Value::Str(s) if allowed.contains(&s.text.trim()) => {
                " (remove the surrounding whitespace)"
            }
            _ => "",
        };
        self.fail(
            field,
            Code::LiteralError,
            format!(
                "`{field}` must be one of {}; got {}{hint}",
                allowed.join(", "),
                show(value)
            ),
        );
        None
    }

    /// A required string field: type, encoding, strip, then the rule.
    fn string(&mut self, field: &str, rule: StrRule) -> Option<Text> {
        let Some(value) = self.get(field) else {
            self.missing(field);
            return None;
        };
        let s = self.as_text(field, value)?;
        self.constrain(field, s, rule)
    }

    /// An optional string field: absent or null is `Some(None)`.
    fn optional_string(&mut self, field: &str) -> Option<Option<Text>> {
        match self.get(field) {
            None | Some(Value::Null) => Some(None),
            Some(value) => {
                let s = self.as_text(field, value)?;
                Some(Some(Text::from(s.text.trim())))
            }
        }
    }

    fn as_text<'v, 'd>(&mut self, field: &str, value: &'v Value<'d>) -> Option<&'v Str<'d>> {
        match value {
            Value::Str(s) if s.unpaired_surrogate => {
                self.fail(
                    field,
                    Code::StringUnicode,
                    format!(
                        "`{field}` contains an unpaired UTF-16 surrogate, which is not valid text"
                    ),
                );
                None
            }
            Value::Str(s) => Some(s),
            other => {
                self.fail(
                    field,
                    Code::StringType,
                    format!("`{field}` must be a string, not {}", show(other)),
                );
                None
            }
        }
    }

    fn constrain(&mut self, field: &str, s: &Str, rule: StrRule) -> Option<Text> {
        let text = s.text.trim();
        match rule {
            StrRule::Plain => Some(Text::from(text)),
            StrRule::Ptid => {
                let n = text.chars().count();
                if n > 10 {
                    self.fail(
                        field,
                        Code::StringTooLong,
                        format!(
                            "`ptid` must be at most 10 characters; \"{}\" has {n}",
                            excerpt(text)
                        ),
                    );
                    None
                } else if n == 0 || !text.chars().all(|c| ('!'..='~').contains(&c)) {
                    let why = if n == 0 {
                        "it is empty"
                    } else if text.chars().any(char::is_whitespace) {
                        "it contains whitespace"
                    } else {
                        "it contains a character other than an unaccented letter, a digit or a punctuation mark"
                    };
                    self.fail(
                        field,
                        Code::StringPatternMismatch,
                        format!(
                            "`ptid` must be 1 to 10 letters, digits or punctuation marks, but {why}: {}",
                            show_text(text)
                        ),
                    );
                    None
                } else {
                    Some(Text::from(text))
                }
            }
            StrRule::VisitDate => {
                if !reference_date_pattern(text) {
                    self.fail(
                        field,
                        Code::StringPatternMismatch,
                        format!(
                            "`visit_date` must look like YYYY-MM-DD; got {}",
                            show_text(text)
                        ),
                    );
                    return None;
                }
                if !is_calendar_date(text) {
                    self.fail(
                        field,
                        Code::DateNotCalendar,
                        format!(
                            "`visit_date` {} is not a real calendar date (YYYY-MM-DD, written with the digits 0 to 9)",
                            show_text(text)
                        ),
                    );
                    // The reference would have accepted it; keep it for the
                    // file-name comparison.
                    return Some(Text::from(text));
                }
                Some(Text::from(text))
            }
        }
    }

    /// `study` is a folder of every checkpoint key, on S3 and on a local
    /// disk alike: it must be a name both can hold and every tool can show.
    fn study_path_safe(&mut self, study: Text) -> Option<Text> {
        let why = if study.is_empty() || study == "." || study == ".." {
            Some("be a name (not empty, `.` or `..`)")
        } else if study.contains(['/', '\\']) {
            Some("be free of `/` and `\\`")
        } else if study.chars().any(char::is_control) {
            Some("be free of control characters (NUL, tab, line breaks…)")
        } else if study.len() > MAX_STUDY_BYTES {
            Some("be at most 255 bytes in UTF-8 (the longest folder name file systems hold)")
        } else {
            None
        };
        if let Some(why) = why {
            self.fail(
                "study",
                Code::StudyNotPathSafe,
                format!(
                    "`study` becomes a folder of the checkpoint key, so it must {why}; got {}",
                    show_text(&study)
                ),
            );
            return None;
        }
        Some(study)
    }

    fn adcid(&mut self) -> Option<i64> {
        const F: &str = "pipeline_adcid";
        let Some(value) = self.get(F) else {
            self.missing(F);
            return None;
        };
        let parsed: Result<IntValue, (Code, String)> = match value {
            Value::Int(Int::Small(i)) => Ok(IntValue::Small(*i)),
            Value::Int(Int::Big { .. }) => Ok(IntValue::Big),
            Value::Bool(b) => {
                self.fail(
                    F,
                    Code::BoolNotInt,
                    format!("`pipeline_adcid` must be a number, not the boolean {b}"),
                );
                return None;
            }
            Value::Float(f) => float_as_int(*f),
            Value::Str(s) if s.unpaired_surrogate => Err((
                Code::IntParsing,
                String::from("`pipeline_adcid` is not a whole number"),
            )),
            Value::Str(s) => str_as_int(&s.text),
            other => Err((
                Code::IntType,
                format!(
                    "`pipeline_adcid` must be a whole number, not {}",
                    show(other)
                ),
            )),
        };
        match parsed {
            Ok(IntValue::Small(i)) if i32::try_from(i).is_ok() => {
                self.parsed.pipeline_adcid = Some(i);
                Some(i)
            }
            Ok(_) => {
                self.fail(
                    F,
                    Code::Int32Range,
                    format!(
                        "`pipeline_adcid` {} does not fit the checkpoint's 32-bit column ({}..={})",
                        show(value),
                        i32::MIN,
                        i32::MAX
                    ),
                );
                None
            }
            Err((code, message)) => {
                self.fail(F, code, message);
                None
            }
        }
    }

    fn timestamp(&mut self) -> Option<ParsedTimestamp> {
        const F: &str = "timestamp";
        let Some(value) = self.get(F) else {
            self.missing(F);
            return None;
        };
        let result = match value {
            Value::Str(s) if s.unpaired_surrogate => Err(TimestampError::FromDateParsing(
                "input is not a valid datetime or date",
            )),
            Value::Str(s) => timestamp::parse_str(&s.text),
            Value::Int(Int::Small(i)) => timestamp::parse_int(*i),
            Value::Int(Int::Big { .. }) => Err(TimestampError::Parsing("timestamp out of range")),
            Value::Float(f) => timestamp::parse_float(*f),
            _ => Err(TimestampError::Type),
        };
        match result {
            Ok(p) => Some(p),
            Err(e) => {
                let (code, message) = match e {
                    TimestampError::Type => (
                        Code::DatetimeType,
                        format!(
                            "`timestamp` must be a date-time string or a Unix time, not {}",
                            show(value)
                        ),
                    ),
                    TimestampError::Parsing(why) => (
                        Code::DatetimeParsing,
                        format!("`timestamp` {} is not usable: {why}", show(value)),
                    ),
                    TimestampError::FromDateParsing(_) => (
                        Code::DatetimeFromDateParsing,
                        format!(
                            "`timestamp` {} is not a date-time: expected e.g. 2024-01-15T10:00:00Z, 2024-01-15 10:00:00-05:00 or a Unix time",
                            show(value)
                        ),
                    ),
                    TimestampError::UtcOverflow => (
                        Code::DatetimeUtcOverflow,
                        format!(
                            "`timestamp` {} falls outside years 1 to 9999 once converted to UTC",
                            show(value)
                        ),
                    ),
                };
                self.fail(F, code, message);
                None
            }
        }
    }

    fn datatype_rule(&mut self, datatype: Datatype, module: Option<&str>, modality: Option<&str>) {
        let problem = if datatype == Datatype::Form {
            if module.is_none() {
                Some(String::from("`module` is required when `datatype` is form"))
            } else {
                modality.map(|m| {
                    format!(
                        "`modality` must be absent when `datatype` is form; got \"{}\"",
                        excerpt(m)
                    )
                })
            }
        } else {
            module.map(|m| {
                format!(
                    "`module` is only allowed when `datatype` is form; this event is {} with module \"{}\"",
                    datatype.as_str(),
                    excerpt(m)
                )
            })
        };
        if let Some(message) = problem {
            self.fail("__root__", Code::ValueError, message);
        }
    }
}

enum IntValue {
    Small(i64),
    Big,
}

/// pydantic's float-to-int: finite, no fraction, inside the i64 range.
fn float_as_int(f: f64) -> Result<IntValue, (Code, String)> {
    if !f.is_finite() {
        return Err((
            Code::FiniteNumber,
            format!("`pipeline_adcid` must be a finite number, got {f}"),
        ));
    }
    if f % 1.0 != 0.0 {
        return Err((
            Code::IntFromFloat,
            format!("`pipeline_adcid` must be a whole number, got {f}"),
        ));
    }
    if (i64::MIN as f64) < f && f < (i64::MAX as f64) {
        Ok(IntValue::Small(f as i64))
    } else {
        Err((
            Code::IntParsingSize,
            format!("`pipeline_adcid` {f} is too large"),
        ))
    }
}

/// pydantic's lax string-to-int: a JSON-style integer as is; otherwise
/// trimmed, one `+`/`-`, leading zeros, an all-zero fraction and single
/// underscores between digits are tolerated.
fn str_as_int(raw: &str) -> Result<IntValue, (Code, String)> {
    let not_int = || {
        (
            Code::IntParsing,
            format!(
                "`pipeline_adcid` must be a whole number; got \"{}\"",
                excerpt(raw)
            ),
        )
    };
    match json_int(raw) {
        JsonInt::Ok(v) => return Ok(v),
        JsonInt::TooLong => {
            return Err((
                Code::IntParsingSize,
                String::from("`pipeline_adcid` has more than 4300 digits"),
            ));
        }
        JsonInt::Invalid => {}
    }
    let cleaned = clean_int_str(raw).ok_or_else(not_int)?;
    match json_int(&cleaned) {
        JsonInt::Ok(v) => Ok(v),
        _ => Err(not_int()),
    }
}

enum JsonInt {
    Ok(IntValue),
    TooLong,
    Invalid,
}

/// `-?(0|[1-9][0-9]*)` and nothing else.
fn json_int(s: &str) -> JsonInt {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let well_formed = match digits.as_bytes() {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !well_formed {
        return JsonInt::Invalid;
    }
    if digits.len() > json::MAX_INT_DIGITS {
        return JsonInt::TooLong;
    }
    match s.parse::<i64>() {
        Ok(v) => JsonInt::Ok(IntValue::Small(v)),
        Err(_) => JsonInt::Ok(IntValue::Big),
    }
}

fn clean_int_str(raw: &str) -> Option<String> {
    let before = raw.len();
    let mut s = raw.trim();
    if let Some(rest) = s.strip_prefix('+') {
        if rest.starts_with('-') {
            return None;
        }
        s = rest;
    }
    let mut negative = false;
    if let Some(rest) = s.strip_prefix('-') {
        if rest.starts_with(['-', '+']) {
            return None;
        }
        negative = true;
        s = rest;
    }
    s = strip_leading_zeros(s)?;
    if let Some(dot) = s.find('.') {
        let frac = &s[dot + 1..];
        if !frac.is_empty() && frac.bytes().all(|b| b == b'0') {
            s = &s[..dot];
        }
    }
    let sign = if negative { "-" } else { "" };
    if s.contains('_') && !s.starts_with('_') && !s.ends_with('_') && !s.contains("__") {
        return Some(format!("{sign}{}", s.replace('_', "")));
    }
    if s.len() == before {
        return None;
    }
    Some(format!("{sign}{s}"))
}

fn strip_leading_zeros(s: &str) -> Option<&str> {
    let mut it = s.char_indices();
    match it.next() {
        Some((_, '0')) => {}
        Some((_, c)) if c.is_ascii_digit() || c == '-' => return Some(s),
        _ => return None,
    }
    for (i, c) in it {
        match c {
            '0' | '_' => {}
            '1'..='9' | '-' => return Some(&s[i..]),
            // Keep the zero (or underscore) before the dot.
            '.' => return Some(&s[i - 1..]),
            _ => return None,
        }
    }
    Some(&s[s.len() - 1..])
}

/// The reference's `^\d{4}-\d{2}-\d{2}$` with Unicode `\d`.
/// (Walked without collecting: a vector of chars was three allocations
/// per document.)
fn reference_date_pattern(s: &str) -> bool {
    let mut n = 0;
    for (i, c) in s.chars().enumerate() {
        let fits = if i == 4 || i == 7 {
            c == '-'
        } else {
            unicode::is_digit(c)
        };
        if i >= 10 || !fits {
            return false;
        }
        n += 1;
    }
    n == 10
}

/// ASCII `YYYY-MM-DD` naming a real day in years 1..=9999.
fn is_calendar_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || !s.is_ascii() {
        return false;
    }
    let num = |r: core::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok());
    match (num(0..4), num(5..7), num(8..10)) {
        (Some(y), Some(m), Some(d)) => {
            y >= 1 && chrono::NaiveDate::from_ymd_opt(y as i32, m, d).is_some()
        }
        _ => false,
    }
}

/// A value as it would appear in JSON, shortened, for messages.
fn show(v: &Value) -> String {
    match v {
        Value::Null => String::from("null"),
        Value::Bool(b) => b.to_string(),
        Value::Int(Int::Small(i)) => i.to_string(),
        Value::Int(Int::Big { negative, digits }) => {
            let sign = if *negative { "-" } else { "" };
            if digits.len() > 24 {
                format!("{sign}{}… ({} digits)", &digits[..20], digits.len())
            } else {
                format!("{sign}{digits}")
            }
        }
        Value::Float(f) if f.is_nan() => String::from("NaN"),
        Value::Float(f) if f.is_infinite() => {
            String::from(if *f > 0.0 { "Infinity" } else { "-Infinity" })
        }
        Value::Float(f) => format!("{f}"),
        Value::Str(s) => show_text(&s.text),
        Value::Array(_) => String::from("an array"),
        Value::Object(_) => String::from("an object"),
    }
}

fn show_text(s: &str) -> String {
    let mut out = String::from("\"");
    for c in excerpt(s).chars() {
        match c {
            '"' => out.push_str("\\\""),
            c if c.is_control() || (c.is_whitespace() && c != ' ') => {
                let _ =
                    core::fmt::Write::write_fmt(&mut out, format_args!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adcid(raw: &str) -> Result<i64, String> {
        match str_as_int(raw) {
            Ok(IntValue::Small(i)) => Ok(i),
            Ok(IntValue::Big) => Err(String::from("big")),
            Err((c, _)) => Err(String::from(c.as_str())),
        }
    }

    /// The slot table and the model's field list cannot drift apart.
    #[test]
    fn every_field_has_its_own_slot() {
        for (i, f) in KNOWN.iter().enumerate() {
            assert_eq!(field_slot(f), Some(i), "{f}");
        }
        assert_eq!(field_slot("Action"), None);
        assert_eq!(field_slot("action "), None);
    }

    #[test]
    fn lax_int_strings() {
        for (s, v) in [
            ("42", 42),
            (" +42.0 ", 42),
            ("042", 42),
            ("4_2", 42),
            ("1_000", 1000),
            ("42.00", 42),
            ("-0", 0),
            ("-042", -42),
            ("00", 0),
            ("0_0", 0),
            ("00.0", 0),
            ("4_2.0", 42),
            ("+0_1", 1),
            ("\u{a0}42", 42),
        ] {
            assert_eq!(adcid(s), Ok(v), "{s:?}");
        }
        for s in [
            "42.5",
            "42.",
            ".0",
            "1e3",
            "0x2a",
            "_1",
            "1__0",
            "4 2",
            "",
            "٤٢",
            "+-1",
            "0_.0",
            "4_2_",
            "-_1",
            "1.",
            "+",
            "-",
            "1_0.0_0",
            "42\u{200b}",
        ] {
            assert_eq!(adcid(s), Err(String::from("int_parsing")), "{s:?}");
        }
        assert_eq!(
            adcid("999999999999999999999999999999"),
            Err(String::from("big"))
        );
    }

    #[test]
    fn floats_to_int() {
        assert!(matches!(float_as_int(42.0), Ok(IntValue::Small(42))));
        assert!(matches!(float_as_int(-0.0), Ok(IntValue::Small(0))));
        assert_eq!(
            float_as_int(42.5).err().map(|e| e.0),
            Some(Code::IntFromFloat)
        );
        assert_eq!(
            float_as_int(9.3e18).err().map(|e| e.0),
            Some(Code::IntParsingSize)
        );
        assert_eq!(
            float_as_int(f64::NAN).err().map(|e| e.0),
            Some(Code::FiniteNumber)
        );
    }

    #[test]
    fn date_patterns() {
        assert!(reference_date_pattern("２０２４-０１-０１"));
        assert!(!is_calendar_date("２０２４-０１-０１"));
        assert!(reference_date_pattern("2024-02-30"));
        assert!(!is_calendar_date("2024-02-30"));
        assert!(!is_calendar_date("0000-01-01"));
        assert!(is_calendar_date("2024-02-29"));
        assert!(!reference_date_pattern("2024-1-15"));
        for bad in [
            "",
            "2024-01-0",
            "2024-01-011",
            "2024-01-01\n",
            "2024/01/01",
            "2024-01-01-",
        ] {
            assert!(!reference_date_pattern(bad), "{bad:?}");
        }
    }
}
