//! An iterative JSON parser with the grammar and error messages of CPython's
//! C scanner (`json.loads`), including its extensions: `NaN`, `Infinity`,
//! `-Infinity`, duplicate keys, and integers of any length up to Python's
//! 4300-digit conversion limit. It never recurses, so nesting depth cannot
//! overflow the stack; a depth limit stands in for Python's RecursionError.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::text::{self, Text};
use super::value::{Int, Object, Str, Value};

/// Python refuses to convert integer literals longer than this
/// (`sys.get_int_max_str_digits()`), raising `ValueError` mid-parse.
pub const MAX_INT_DIGITS: usize = 4300;

/// Containers nested deeper than this are refused. CPython's scanner hits
/// its recursion limit a little below 1000 levels.
pub const MAX_DEPTH: usize = 1000;

/// What went wrong while turning bytes into a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// Not JSON by Python's grammar (`json.JSONDecodeError`).
    Syntax,
    /// The bytes do not decode in the sniffed encoding.
    Encoding,
    /// An integer literal longer than Python will convert.
    IntegerTooLong,
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// A decode failure with a position in the decoded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub kind: JsonErrorKind,
    /// Python's message text for syntax errors, ours for the others.
    pub message: &'static str,
    /// 1-based line and column, 0-based character index (as Python counts).
    pub line: usize,
    pub column: usize,
    pub char_index: usize,
    /// For encoding errors: the encoding and the offending byte offset.
    pub encoding: Option<(&'static str, usize)>,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.encoding {
            Some((enc, at)) => write!(f, "{}: cannot decode as {enc} at byte {at}", self.message),
            None => write!(
                f,
                "{}: line {} column {} (char {})",
                self.message, self.line, self.column, self.char_index
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for JsonError {}

/// Decode a whole document from raw file bytes, exactly as the reference
/// consumer's `json.loads(body_bytes)` would accept or reject it.
/// Strings without escapes borrow from `bytes` when they are UTF-8; text
/// decoded from another encoding is owned.
pub fn decode(bytes: &[u8]) -> Result<Value<'_>, JsonError> {
    parse(text::decode(bytes)).map(|(v, _)| v)
}

/// [`decode`] of bytes already checked to be UTF-8 (a `&str`): the same
/// verdicts, encoding sniffing included, without a second UTF-8 check.
pub fn decode_str(text: &str) -> Result<Value<'_>, JsonError> {
    parse(text::decode_str(text)).map(|(v, _)| v)
}

/// [`decode_str`], also saying whether the value holds anything RFC 8259
/// has no room for: `NaN` or an infinity (a literal, or a number beyond a
/// double), or a lone surrogate escape in a string or a member name.
/// Strict callers then need not walk the whole tree to find out.
pub fn decode_str_flagged(text: &str) -> Result<(Value<'_>, bool), JsonError> {
    parse(text::decode_str(text))
}

fn parse(text: Result<Text<'_>, text::EncodingError>) -> Result<(Value<'_>, bool), JsonError> {
    let Text { text, surrogates } = text.map_err(|e| JsonError {
        kind: JsonErrorKind::Encoding,
        message: e.reason,
        line: 0,
        column: 0,
        char_index: 0,
        encoding: Some((e.encoding, e.byte_offset)),
    })?;
    match text {
        Cow::Borrowed(src) => Parser::new(src, &surrogates).document().map_err(|e| *e),
        Cow::Owned(src) => Parser::new(&src, &surrogates)
            .document()
            .map(|(v, loose)| (v.into_owned(), loose))
            .map_err(|e| *e),
    }
}

/// A parse failure, boxed: results stay small on the hot path.
type Fail = Box<JsonError>;

/// An open container: where its members start on the parser's scratch
/// stacks (values; and keys, for an object). Members wait there and move
/// into vectors of their exact size when the container closes, instead of
/// growing vectors per container, and no value travels through a return
/// value on its way into its container (those copies stalled the CPU).
#[derive(Clone, Copy)]
enum Frame {
    Array(usize),
    Object(usize, usize),
}

/// How many open containers [`Stack`] holds without allocating.
const INLINE_FRAMES: usize = 8;

/// The open containers: the first levels inline, so that a document of a
/// few levels (a visit event is one) costs no allocation for them; deeper
/// ones go to a vector.
struct Stack {
    inline: [Frame; INLINE_FRAMES],
    len: usize,
    more: Vec<Frame>,
}

impl Stack {
    fn new() -> Self {
        Stack {
            inline: [Frame::Array(0); INLINE_FRAMES],
            len: 0,
            more: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn push(&mut self, frame: Frame) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = frame,
            None => self.more.push(frame),
        }
        self.len += 1;
    }

    fn pop(&mut self) -> Option<Frame> {
        self.len = self.len.checked_sub(1)?;
        match self.inline.get(self.len) {
            Some(frame) => Some(*frame),
            None => self.more.pop(),
        }
    }

    fn last(&self) -> Option<&Frame> {
        let top = self.len.checked_sub(1)?;
        self.inline.get(top).or_else(|| self.more.last())
    }
}

struct Parser<'a, 's> {
    src: &'a str,
    bytes: &'a [u8],
    surrogates: &'s [usize],
    pos: usize,
    keys: Vec<Str<'a>>,
    values: Vec<Value<'a>>,
    /// Whether a non-finite number or a lone surrogate was read.
    loose: bool,
}

impl<'a, 's> Parser<'a, 's> {
    fn new(src: &'a str, surrogates: &'s [usize]) -> Self {
        Parser {
            src,
            bytes: src.as_bytes(),
            surrogates,
            pos: 0,
            // A visit event's members, without growing the vectors.
            keys: Vec::with_capacity(16),
            values: Vec::with_capacity(16),
            loose: false,
        }
    }

    fn err_at(&self, kind: JsonErrorKind, message: &'static str, at: usize) -> Fail {
        let at = at.min(self.src.len());
        // Positions are byte offsets at char boundaries by construction.
        let before = self.src.get(..at).unwrap_or(self.src);
        let char_index = before.chars().count();
        let line = before.matches('\n').count() + 1;
        let column = match before.rfind('\n') {
            Some(nl) => before[nl + 1..].chars().count() + 1,
            None => char_index + 1,
        };
        Box::new(JsonError {
            kind,
            message,
            line,
            column,
            char_index,
            encoding: None,
        })
    }

    fn syntax(&self, message: &'static str) -> Fail {
        self.err_at(JsonErrorKind::Syntax, message, self.pos)
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn document(mut self) -> Result<(Value<'a>, bool), Fail> {
        self.skip_ws();
        let mut stack = Stack::new();
        loop {
            // Parse one value, or open a container and go round again.
            if !self.start_value(&mut stack)? {
                continue;
            }
            if let Some(done) = self.finish_value(&mut stack)? {
                return Ok((done, self.loose));
            }
        }
    }

    /// A scalar or an empty container, pushed onto `values` (`true`), or a
    /// container opened (`false`: its first member comes next).
    fn start_value(&mut self, stack: &mut Stack) -> Result<bool, Fail> {
        match self.peek() {
            Some(b'{') => {
                self.open(stack, Frame::Object(self.keys.len(), self.values.len()))?;
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    stack.pop();
                    self.values.push(Value::Object(Object::new()));
                    return Ok(true);
                }
                let key = self.object_key()?;
                self.keys.push(key);
                Ok(false)
            }
            Some(b'[') => {
                self.open(stack, Frame::Array(self.values.len()))?;
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    stack.pop();
                    self.values.push(Value::Array(Vec::new()));
                    return Ok(true);
                }
                Ok(false)
            }
            _ => self.scalar().map(|()| true),
        }
    }

    /// After a value: close every container it completes; `None` when
    /// another value follows, the document at its end.
    fn finish_value(&mut self, stack: &mut Stack) -> Result<Option<Value<'a>>, Fail> {
        loop {
            let closing = match stack.last() {
                None => {
                    let value = self.values.pop().ok_or_else(|| self.syntax(INTERNAL))?;
                    return self.end(value).map(Some);
                }
                Some(Frame::Array(_)) => b']',
                Some(Frame::Object(..)) => b'}',
            };
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                    if closing == b'}' {
                        let key = self.object_key()?;
                        self.keys.push(key);
                    }
                    return Ok(None);
                }
                Some(c) if c == closing => {
                    self.pos += 1;
                    let value = match stack.pop() {
                        Some(Frame::Array(start)) => {
                            Value::Array(take_from(&mut self.values, start))
                        }
                        Some(Frame::Object(keys, values)) => {
                            // One exact-size vector of pairs, straight
                            // from both scratch stacks.
                            let entries = self
                                .keys
                                .drain(keys..)
                                .zip(self.values.drain(values..))
                                .collect();
                            Value::Object(Object::from_entries(entries))
                        }
                        None => return Err(self.syntax(INTERNAL)),
                    };
                    if stack.is_empty() {
                        // The outermost container: the document.
                        return self.end(value).map(Some);
                    }
                    self.values.push(value);
                }
                _ => return Err(self.syntax("Expecting ',' delimiter")),
            }
        }
    }

    /// The document, unless something but whitespace follows it.
    fn end(&mut self, document: Value<'a>) -> Result<Value<'a>, Fail> {
        self.skip_ws();
        if self.pos != self.bytes.len() {
            return Err(self.syntax("Extra data"));
        }
        Ok(document)
    }

    fn open(&mut self, stack: &mut Stack, frame: Frame) -> Result<(), Fail> {
        if stack.len() >= MAX_DEPTH {
            return Err(self.err_at(
                JsonErrorKind::TooDeep,
                "Nesting deeper than 1000 levels",
                self.pos,
            ));
        }
        stack.push(frame);
        self.pos += 1;
        Ok(())
    }

    /// `"key" ws ':' ws`, leaving the cursor on the value.
    fn object_key(&mut self) -> Result<Str<'a>, Fail> {
        if self.peek() != Some(b'"') {
            return Err(self.syntax("Expecting property name enclosed in double quotes"));
        }
        let key = self.string()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.syntax("Expecting ':' delimiter"));
        }
        self.pos += 1;
        self.skip_ws();
        Ok(key)
    }

    /// A scalar, pushed onto `values`.
    fn scalar(&mut self) -> Result<(), Fail> {
        let rest = &self.bytes[self.pos..];
        let literal = |word: &[u8]| rest.starts_with(word);
        let v = match self.peek() {
            Some(b'"') => {
                let s = self.string()?;
                self.values.push(Value::Str(s));
                return Ok(());
            }
            Some(b'n') if literal(b"null") => (Value::Null, 4),
            Some(b't') if literal(b"true") => (Value::Bool(true), 4),
            Some(b'f') if literal(b"false") => (Value::Bool(false), 5),
            Some(b'N') if literal(b"NaN") => (Value::Float(f64::NAN), 3),
            Some(b'I') if literal(b"Infinity") => (Value::Float(f64::INFINITY), 8),
            Some(b'-') if literal(b"-Infinity") => (Value::Float(f64::NEG_INFINITY), 9),
            Some(b'-' | b'0'..=b'9') => {
                let n = self.number()?;
                self.values.push(n);
                return Ok(());
            }
            _ => return Err(self.syntax("Expecting value")),
        };
        self.pos += v.1;
        if let Value::Float(_) = v.0 {
            self.loose = true;
        }
        self.values.push(v.0);
        Ok(())
    }

    fn number(&mut self) -> Result<Value<'a>, Fail> {
        let start = self.pos;
        let b = self.bytes;
        let mut i = self.pos;
        let negative = b.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        let int_start = i;
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = b.get(i) {
                    i += 1;
                }
            }
            _ => return Err(self.syntax("Expecting value")),
        }
        let int_end = i;
        let mut is_float = false;
        if b.get(i) == Some(&b'.') && matches!(b.get(i + 1), Some(b'0'..=b'9')) {
            is_float = true;
            i += 2;
            while let Some(b'0'..=b'9') = b.get(i) {
                i += 1;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if matches!(b.get(j), Some(b'0'..=b'9')) {
                is_float = true;
                while let Some(b'0'..=b'9') = b.get(j) {
                    j += 1;
                }
                i = j;
            }
        }
        self.pos = i;
        let literal = &self.src[start..i];
        if is_float {
            // Rust's float parsing is correctly rounded, like Python's, and
            // also overflows to infinity rather than failing.
            let f = literal.parse::<f64>().unwrap_or(f64::NAN);
            self.loose |= !f.is_finite();
            return Ok(Value::Float(f));
        }
        let digits = &self.src[int_start..int_end];
        if digits.len() > MAX_INT_DIGITS {
            return Err(self.err_at(
                JsonErrorKind::IntegerTooLong,
                "Integer literal longer than 4300 digits",
                start,
            ));
        }
        Ok(Value::Int(match literal.parse::<i64>() {
            Ok(v) => Int::Small(v),
            Err(_) => Int::Big {
                negative,
                digits: Box::from(digits),
            },
        }))
    }

    /// A string starting at the opening quote.
    fn string(&mut self) -> Result<Str<'a>, Fail> {
        let open = self.pos;
        self.pos += 1;
        let b = self.bytes;
        let mut out: Option<String> = None;
        let mut chunk_start = self.pos;
        let mut unpaired = false;
        loop {
            // Skip the plain run in one go (most strings are one).
            self.pos += plain_run(b.get(self.pos..).unwrap_or_default());
            let Some(&c) = b.get(self.pos) else {
                return Err(self.err_at(
                    JsonErrorKind::Syntax,
                    "Unterminated string starting at",
                    open,
                ));
            };
            match c {
                b'"' => {
                    let raw = &self.src[chunk_start..self.pos];
                    let text = match out.take() {
                        Some(mut s) => {
                            s.push_str(raw);
                            Cow::Owned(s)
                        }
                        None => Cow::Borrowed(raw),
                    };
                    if self.has_surrogate_between(open, self.pos) {
                        unpaired = true;
                    }
                    self.pos += 1;
                    self.loose |= unpaired;
                    return Ok(Str {
                        text,
                        unpaired_surrogate: unpaired,
                    });
                }
                b'\\' => {
                    let buf = out.get_or_insert_with(String::new);
                    buf.push_str(&self.src[chunk_start..self.pos]);
                    let ch = self.escape(open, &mut unpaired)?;
                    buf.push(ch);
                    chunk_start = self.pos;
                }
                // Only a control character is left of the stop bytes.
                _ => {
                    return Err(self.syntax("Invalid control character at"));
                }
            }
        }
    }

    /// The character of the escape at `self.pos` (a backslash), moving past
    /// it. A lone surrogate becomes U+FFFD and sets `unpaired`, as Python
    /// keeps it unpaired.
    fn escape(&mut self, open: usize, unpaired: &mut bool) -> Result<char, Fail> {
        let b = self.bytes;
        let esc_at = self.pos;
        let Some(&e) = b.get(self.pos + 1) else {
            return Err(self.err_at(
                JsonErrorKind::Syntax,
                "Unterminated string starting at",
                open,
            ));
        };
        self.pos += 2;
        Ok(match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4(esc_at)?;
                if (0xD800..=0xDBFF).contains(&hi)
                    && b.get(self.pos) == Some(&b'\\')
                    && b.get(self.pos + 1) == Some(&b'u')
                {
                    let save = self.pos;
                    self.pos += 2;
                    let lo = self.hex4(save)?;
                    if (0xDC00..=0xDFFF).contains(&lo) {
                        let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        char::from_u32(cp).unwrap_or('\u{FFFD}')
                    } else {
                        // Python keeps both units; the first is unpaired.
                        self.pos = save;
                        *unpaired = true;
                        '\u{FFFD}'
                    }
                } else if (0xD800..=0xDFFF).contains(&hi) {
                    *unpaired = true;
                    '\u{FFFD}'
                } else {
                    char::from_u32(hi).unwrap_or('\u{FFFD}')
                }
            }
            _ => {
                return Err(self.err_at(JsonErrorKind::Syntax, "Invalid \\escape", esc_at));
            }
        })
    }

    fn hex4(&mut self, esc_at: usize) -> Result<u32, Fail> {
        let digits = self.bytes.get(self.pos..self.pos + 4);
        let value = digits.and_then(|d| {
            d.iter().try_fold(0u32, |acc, &h| {
                let v = (h as char).to_digit(16)?;
                Some(acc * 16 + v)
            })
        });
        match value {
            Some(v) => {
                self.pos += 4;
                Ok(v)
            }
            None => Err(self.err_at(JsonErrorKind::Syntax, "Invalid \\uXXXX escape", esc_at)),
        }
    }

    fn has_surrogate_between(&self, from: usize, to: usize) -> bool {
        let i = self.surrogates.partition_point(|&p| p < from);
        self.surrogates.get(i).is_some_and(|&p| p < to)
    }
}

/// The members from `start` on. When that is all of them (a document's
/// outermost container, say) the scratch vector itself is handed over
/// rather than copied.
fn take_from<T>(scratch: &mut Vec<T>, start: usize) -> Vec<T> {
    if start == 0 {
        core::mem::take(scratch)
    } else {
        scratch.drain(start..).collect()
    }
}

/// Bytes that end a plain run inside a string: the quote, the backslash
/// and the control characters.
const STRING_STOP: [bool; 256] = super::stop_bytes(&[]);

/// How many bytes of `s` come before its first [`STRING_STOP`] byte (all
/// of them when there is none). Eight bytes a step: the string scan was
/// the parser's largest cost, one table lookup and branch per byte, and
/// the strings of a statement (IRIs, ids) run to tens of bytes.
fn plain_run(s: &[u8]) -> usize {
    use super::{ONES, zero_bytes};
    let mut done = 0;
    for chunk in s.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        // The controls are the bytes below 0x20: `w - 0x20` borrows there.
        let stop = zero_bytes(w ^ (ONES * u64::from(b'"')))
            | zero_bytes(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w & (ONES * 0x80));
        if stop != 0 {
            return done + (stop.trailing_zeros() / 8) as usize;
        }
        done += 8;
    }
    let tail = s.get(done..).unwrap_or_default();
    done + tail
        .iter()
        .position(|&c| STRING_STOP[usize::from(c)])
        .unwrap_or(tail.len())
}

/// The stack discipline pairs every pop with the frame kind just matched;
/// this message would only appear through a bug in the parser itself, and
/// is an error rather than a panic so that no input can abort a run.
const INTERNAL: &str = "Internal parser error";

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Value<'_> {
        decode(s.as_bytes()).unwrap()
    }
    fn err(s: &str) -> JsonError {
        decode(s.as_bytes()).unwrap_err()
    }

    /// The word-at-a-time scan stops where the byte-at-a-time one does:
    /// every stop byte and a neighbour of each, at every offset of runs up
    /// to three words long.
    #[test]
    fn plain_run_finds_the_first_stop_byte() {
        let scan = |s: &[u8]| {
            s.iter()
                .position(|&c| STRING_STOP[usize::from(c)])
                .unwrap_or(s.len())
        };
        for len in 0..24 {
            let mut s = alloc::vec![b'a'; len];
            assert_eq!(plain_run(&s), len);
            for at in 0..len {
                for stop in
                    (0u8..0x20).chain([b'"', b'\\', 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xff])
                {
                    s[at] = stop;
                    for after in [b'a', 0, b'"', 0xe9] {
                        if at + 1 < len {
                            s[at + 1] = after;
                        }
                        assert_eq!(plain_run(&s), scan(&s), "{s:?}");
                    }
                    s.iter_mut().for_each(|c| *c = b'a');
                }
            }
        }
    }

    /// Text already known to be UTF-8 gets the verdict its bytes get,
    /// whichever encoding Python sniffs from them (a mark, NULs that look
    /// like UTF-16 or UTF-32, or plain UTF-8).
    #[test]
    fn decode_str_agrees_with_decode() {
        for s in [
            "{\"a\": [1, 2.5, \"x\\u00e9\"]}",
            "\u{feff}{\"a\": 1}",
            "\u{feff}",
            "\0{\0}",
            "{\0\0\0",
            "\0\0\0\x31",
            "1\0",
            "\0\0",
            "\"\\ud800\"",
            "{\"é\": \"ü\"} x",
            "",
            "[1,",
        ] {
            assert_eq!(decode_str(s), decode(s.as_bytes()), "{s:?}");
        }
    }

    /// The flag is set exactly when a walk of the tree finds a non-finite
    /// number or a lone surrogate, in a value or a member name, at any depth.
    #[test]
    fn flagged_matches_a_walk_of_the_tree() {
        fn walk(v: &Value) -> bool {
            match v {
                Value::Float(f) => !f.is_finite(),
                Value::Str(s) => s.unpaired_surrogate,
                Value::Array(items) => items.iter().any(walk),
                Value::Object(o) => o.entries().any(|(k, v)| k.unpaired_surrogate || walk(v)),
                _ => false,
            }
        }
        let mut flagged = 0;
        for s in [
            "{\"a\": [1, 2.5, \"x\\u00e9\"]}",
            "NaN",
            "[1, [2, [Infinity]]]",
            "{\"a\": {\"b\": -Infinity}}",
            "1e400",
            "[-1e400]",
            "1e308",
            "123456789012345678901234567890",
            "\"\\ud800\"",
            "{\"\\udc00\": 1}",
            "{\"a\": \"\\ud83d\\ude00\"}",
            "\u{feff}{\"a\": [NaN]}",
            "[\"\\ud800x\", 1]",
            "{}",
        ] {
            let (v, loose) = decode_str_flagged(s).expect(s);
            assert_eq!(loose, walk(&v), "{s:?}");
            // Debug, not ==: NaN is not equal to itself.
            assert_eq!(
                alloc::format!("{v:?}"),
                alloc::format!("{:?}", decode_str(s).expect(s)),
                "{s:?}"
            );
            flagged += usize::from(loose);
        }
        assert_eq!(flagged, 9);
    }

    #[test]
    fn scalars_and_python_literals() {
        assert_eq!(ok("null"), Value::Null);
        assert_eq!(ok(" true "), Value::Bool(true));
        assert!(matches!(ok("NaN"), Value::Float(f) if f.is_nan()));
        assert_eq!(ok("-Infinity"), Value::Float(f64::NEG_INFINITY));
        assert_eq!(ok("1e400"), Value::Float(f64::INFINITY));
        assert_eq!(ok("-0"), Value::Int(Int::Small(0)));
        assert_eq!(ok("42.0"), Value::Float(42.0));
        assert_eq!(
            ok("123456789012345678901234567890"),
            Value::Int(Int::Big {
                negative: false,
                digits: "123456789012345678901234567890".into()
            })
        );
    }

    #[test]
    fn python_error_messages() {
        assert_eq!(err("").message, "Expecting value");
        assert_eq!(
            err("{'a':1}").message,
            "Expecting property name enclosed in double quotes"
        );
        assert_eq!(err("{\"a\" 1}").message, "Expecting ':' delimiter");
        assert_eq!(err("[1 2]").message, "Expecting ',' delimiter");
        assert_eq!(
            err("{\"a\":1,}").message,
            "Expecting property name enclosed in double quotes"
        );
        assert_eq!(err("[1,]").message, "Expecting value");
        assert_eq!(err("{} x").message, "Extra data");
        assert_eq!(err("\"a\tb\"").message, "Invalid control character at");
        assert_eq!(err("\"\\x\"").message, "Invalid \\escape");
        assert_eq!(err("\"abc").message, "Unterminated string starting at");
        assert_eq!(err("01").message, "Extra data");
        assert_eq!(err("1.").message, "Extra data");
        assert_eq!(err("\u{a0}{}").message, "Expecting value");
        let e = err("{\n  \"a\": x}");
        assert_eq!((e.line, e.column, e.char_index), (2, 8, 9));
    }

    #[test]
    fn duplicate_keys_last_wins() {
        let Value::Object(o) = ok(r#"{"a":1,"b":2,"a":3}"#) else {
            panic!()
        };
        assert_eq!(o.get("a"), Some(&Value::Int(Int::Small(3))));
        let keys: Vec<&str> = o.keys().iter().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn escapes_and_surrogates() {
        let Value::Str(s) = ok(r#""\ud83d\ude00 \u00e9\n""#) else {
            panic!()
        };
        assert_eq!(s.text, "😀 é\n");
        assert!(!s.unpaired_surrogate);
        let Value::Str(s) = ok(r#""a\ud800b""#) else {
            panic!()
        };
        assert!(s.unpaired_surrogate);
        let Value::Str(s) = ok(r#""\udc00""#) else {
            panic!()
        };
        assert!(s.unpaired_surrogate);
    }

    #[test]
    fn limits() {
        let long = "1".repeat(MAX_INT_DIGITS + 1);
        assert_eq!(err(&long).kind, JsonErrorKind::IntegerTooLong);
        assert!(decode("1".repeat(MAX_INT_DIGITS).as_bytes()).is_ok());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(err(&deep).kind, JsonErrorKind::TooDeep);
        let fine = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(decode(fine.as_bytes()).is_ok());
    }

    /// Nesting on both sides of the inline frames' edge, objects and
    /// arrays mixed, each level holding a member after its child: every
    /// close must find its own frame.
    #[test]
    fn nesting_around_the_inline_frames() {
        for depth in 1..=2 * INLINE_FRAMES + 2 {
            let mut text = String::new();
            for level in 0..depth {
                text.push_str(if level % 2 == 0 { "{\"k\":" } else { "[" });
            }
            text.push('0');
            for level in (0..depth).rev() {
                text.push_str(if level % 2 == 0 { ",\"n\":1}" } else { ",2]" });
            }
            let mut v = &ok(&text);
            for level in 0..depth {
                v = match (level % 2, v) {
                    (0, Value::Object(o)) => {
                        assert_eq!(
                            o.get("n"),
                            Some(&Value::Int(Int::Small(1))),
                            "depth {depth}"
                        );
                        o.get("k").unwrap()
                    }
                    (1, Value::Array(a)) => {
                        assert_eq!(a.len(), 2, "depth {depth}");
                        &a[0]
                    }
                    _ => panic!("depth {depth}, level {level}: {v:?}"),
                };
            }
            assert_eq!(v, &Value::Int(Int::Small(0)));
        }
    }

    #[test]
    fn bom_is_skipped_once() {
        assert!(decode(b"\xEF\xBB\xBF{}").is_ok());
        assert_eq!(
            decode("\u{feff}\u{feff}{}".as_bytes()).unwrap_err().message,
            "Expecting value"
        );
    }
}
