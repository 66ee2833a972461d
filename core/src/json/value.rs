//! The Python object model that `json.loads` produces, as far as validation
//! needs it: arbitrary-precision integers, non-finite floats, strings that
//! may carry unpaired surrogates, and objects whose duplicate keys resolve
//! last-wins.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::vec::Vec;

/// A decoded JSON value. Strings without escapes borrow from the input
/// (`'a`): a document's keys and values are mostly such spans, and
/// allocating each one was a quarter of the validator's time.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Int(Int),
    /// Any number with a fraction or exponent, and `NaN` / `Infinity`.
    Float(f64),
    Str(Str<'a>),
    Array(Vec<Value<'a>>),
    Object(Object<'a>),
}

/// An integer literal. Python integers have no size limit; the ones that do
/// not fit `i64` keep their decimal digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Int {
    Small(i64),
    /// Boxed text keeps `Value` at 32 bytes: the parser moves every
    /// value at least twice, and big integers are rare.
    Big {
        negative: bool,
        digits: Box<str>,
    },
}

/// A JSON string. `unpaired_surrogate` is set when the text held a lone
/// UTF-16 surrogate, which is replaced by U+FFFD in `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Str<'a> {
    pub text: Cow<'a, str>,
    pub unpaired_surrogate: bool,
}

impl Str<'_> {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn into_owned(self) -> Str<'static> {
        Str {
            text: Cow::Owned(self.text.into_owned()),
            unpaired_surrogate: self.unpaired_surrogate,
        }
    }
}

/// A JSON object in document order. Duplicate keys are all kept; lookups see
/// the last one, which is what a Python `dict` built by `json.loads` holds.
/// Each key beside its value, in one vector: one allocation per object,
/// and a `Value` of 32 bytes, where a vector each for keys and values
/// took two and made every value 48 bytes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object<'a> {
    entries: Vec<(Str<'a>, Value<'a>)>,
}

impl<'a> Object<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    /// The members in document order, duplicates included.
    pub(crate) fn from_entries(entries: Vec<(Str<'a>, Value<'a>)>) -> Self {
        Object { entries }
    }

    #[cfg(test)]
    pub(crate) fn push(&mut self, key: Str<'a>, value: Value<'a>) {
        self.entries.push((key, value));
    }

    pub fn into_owned(self) -> Object<'static> {
        Object {
            entries: self
                .entries
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    fn is_key(k: &Str<'_>, key: &str) -> bool {
        !k.unpaired_surrogate && k.as_str() == key
    }

    /// The value of the first occurrence of `key` (how ClickHouse's JSON
    /// functions read duplicates).
    pub fn get_first(&self, key: &str) -> Option<&Value<'a>> {
        let (_, v) = self.entries.iter().find(|(k, _)| Self::is_key(k, key))?;
        Some(v)
    }

    /// Every entry in document order, duplicates included.
    pub fn entries(&self) -> impl Iterator<Item = (&Str<'a>, &Value<'a>)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The value of the last occurrence of `key`.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        let (_, v) = self
            .entries
            .iter()
            .rev()
            .find(|(k, _)| Self::is_key(k, key))?;
        Some(v)
    }

    /// Each distinct key once, in the position of its first occurrence (as a
    /// Python dict orders them).
    pub fn keys(&self) -> Vec<&Str<'a>> {
        // An event has a dozen keys: comparing with the ones before costs
        // less than building a set, which showed in the validator's profile.
        let keys = self.entries.iter().map(|(k, _)| k);
        if self.entries.len() <= 32 {
            return keys
                .enumerate()
                .filter(|(i, k)| !self.entries[..*i].iter().any(|(p, _)| p == *k))
                .map(|(_, k)| k)
                .collect();
        }
        let mut seen = alloc::collections::BTreeSet::new();
        keys.filter(|k| seen.insert((k.as_str(), k.unpaired_surrogate)))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Value<'_> {
    /// The same value owning all its text, for keeping it past its input.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Int(i),
            Value::Float(f) => Value::Float(f),
            Value::Str(s) => Value::Str(s.into_owned()),
            Value::Array(items) => Value::Array(items.into_iter().map(Value::into_owned).collect()),
            Value::Object(o) => Value::Object(o.into_owned()),
        }
    }

    /// A short name of the JSON type, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn key(t: &str) -> Str<'static> {
        Str {
            text: Cow::Owned(t.into()),
            unpaired_surrogate: false,
        }
    }

    /// Distinct keys in first-occurrence order, the same below and above
    /// the size where a set takes over.
    #[test]
    fn keys_are_distinct_in_first_occurrence_order() {
        for n in [5usize, 40] {
            let mut o = Object::new();
            for i in 0..n {
                o.push(key(&format!("k{}", i % 4)), Value::Null);
            }
            let mut lone = key("k1");
            lone.unpaired_surrogate = true;
            o.push(lone, Value::Null);
            let got: Vec<(&str, bool)> = o
                .keys()
                .iter()
                .map(|k| (k.as_str(), k.unpaired_surrogate))
                .collect();
            assert_eq!(
                got,
                [
                    ("k0", false),
                    ("k1", false),
                    ("k2", false),
                    ("k3", false),
                    ("k1", true)
                ],
                "{n} entries"
            );
        }
    }
}
