//! The raw-events rules as ClickHouse SQL, for the server-side path: the
//! DDL of both tables, a staging table that reads each object once and
//! judges every line there, and the inserts from it.
//!
//! Each expression computes what [`super::derive`] computes, Python's
//! conversions included ([`super::py`]). ClickHouse's JSON functions lose
//! what Python keeps (`JSONExtractRaw` writes `1.0` as `1`), so each line
//! is first **marked**: every scalar outside member names becomes a
//! string that says what it was, `"\u0002S…"` for text, `"\u0002I5"`,
//! `"\u0002D1.50"` (the token as written), `"\u0002B1"`. One
//! `JSONExtract` of the marked line into a tuple of `Nullable(String)`
//! leaves then gives every value the rules read, with its JSON type and,
//! for containers, their compact text whose scalars are still marked:
//! json() re-lays that text the way `json.dumps` writes it.
//!
//! The timestamp is CPython 3.11's `fromisoformat` as a table of regular
//! expressions ([`time`]; see [`super::isotime`]).
//!
//! Only identifiers and literals of ours appear in the SQL; no statement
//! content does.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::attribution::{self, AttributionColumn, COLUMNS as ATTRIBUTION_COLUMNS};
use super::{ATTRIBUTION_TABLE, ATTRIBUTIONS, CONTAINERS, RAW, RAW_TABLE, Rule};
use crate::xapi::columns::Path;
use crate::xapi::sql::{Target, ident, literal, stage_table};
use crate::xapi::{
    Category, TYPE_ACTIVITY_ATTEMPT, TYPE_PAGE, TYPE_PAGE_ATTEMPT, TYPE_QUESTION, VERB_COMPLETED,
    VERB_VIEWED, VIDEO_VERBS,
};

mod time;
use time::timestamp_ms;

/// Fresh lambda parameter names, so nested bindings never shadow.
#[derive(Debug, Default)]
struct Names(u32);

impl Names {
    fn fresh(&mut self) -> String {
        self.0 += 1;
        format!("v{}", self.0)
    }
}

/// `body` with `name` bound to `value` (ClickHouse has no `let`).
fn bind(value: &str, name: &str, body: &str) -> String {
    format!("arrayMap({name} -> {body}, [{value}])[1]")
}

/// Python's `str.isspace()` characters as a regex class.
const SPACE: &str = r"[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]";

/// `str.strip()`.
fn strip(s: &str) -> String {
    format!(
        "replaceRegexpAll({s}, {}, '')",
        literal(&format!("^{SPACE}+|{SPACE}+$"))
    )
}

/// Python's `float()` grammar for text.
const FLOAT_RE: &str = r"^[+-]?(?:(?:(?:[0-9](?:_?[0-9])*)(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)(?:[eE][+-]?[0-9](?:_?[0-9])*)?|(?i:inf|infinity|nan))$";
/// Python's `int()` grammar for text in base 10.
const INT_RE: &str = r"^[+-]?[0-9](?:_?[0-9])*$";
/// Beyond every column's range: what Python's big integers become here.
const HUGE: &str = "toInt256('1267650600228229401496703205376')";

/// The byte marking a scalar of the marked line.
const M: &str = "\u{2}";

/// A leaf of the marked line: `NULL` (absent or null), a marked scalar
/// (`\x02` then `S`, `I`, `D` or `B`, then the value) or a container's
/// compact text.
#[derive(Debug, Clone)]
struct Leaf(String);

impl Leaf {
    /// `N`, `S`, `I`, `D`, `B` or `C`.
    fn kind(&self) -> String {
        let l = &self.0;
        format!(
            "multiIf(isNull({l}), 'N', startsWith(assumeNotNull({l}), {}), substring(assumeNotNull({l}), 2, 1), 'C')",
            literal(M)
        )
    }
    /// The scalar's value after its mark.
    fn value(&self) -> String {
        format!("substring(assumeNotNull({}), 3)", self.0)
    }
    fn raw(&self) -> String {
        format!("assumeNotNull({})", self.0)
    }
}

/// `f(kind, value, raw)` with the leaf's parts bound once.
fn with_leaf(
    l: &Leaf,
    n: &mut Names,
    f: &mut dyn FnMut(&str, &str, &str, &mut Names) -> String,
) -> String {
    let k = n.fresh();
    let v = n.fresh();
    let r = n.fresh();
    let body = f(&k, &v, &r, n);
    bind(
        &l.kind(),
        &k,
        &bind(&l.value(), &v, &bind(&l.raw(), &r, &body)),
    )
}

/// `float(s)` of text, NULL where Python raises.
fn float_text(s: &str, n: &mut Names) -> String {
    let t = n.fresh();
    bind(
        &strip(s),
        &t,
        &format!(
            "if(match({t}, {}), toFloat64OrNull(replace({t}, '_', '')), NULL)",
            literal(FLOAT_RE)
        ),
    )
}

/// A float truncated toward zero as `Int256`; NULL for NaN and infinities.
fn float_whole(f: &str, n: &mut Names) -> String {
    let x = n.fresh();
    bind(
        f,
        &x,
        &format!(
            "if(isNull({x}) OR NOT isFinite(assumeNotNull({x})), NULL, if(abs(assumeNotNull({x})) >= 1e30, {HUGE}, toInt256(trunc(assumeNotNull({x})))))"
        ),
    )
}

/// int() of text.
fn text_whole(s: &str, n: &mut Names) -> String {
    let t = n.fresh();
    format!(
        "multiIf({s} = '', NULL, position({s}, '.') > 0, {}, {})",
        float_whole(&float_text(s, n), n),
        bind(
            &strip(s),
            &t,
            &format!(
                "if(match({t}, {}), ifNull(toInt256OrNull(replace(if(startsWith({t}, '+'), substring({t}, 2), {t}), '_', '')), {HUGE}), NULL)",
                literal(INT_RE)
            )
        )
    )
}

/// int() (§4.2) as a nullable `Int256` (beyond it, [`HUGE`]).
fn whole(l: &Leaf, n: &mut Names) -> String {
    with_leaf(l, n, &mut |k, v, _, n| {
        format!(
            "multiIf({k} = 'B', toInt256({v} = '1'), {k} = 'I', ifNull(toInt256OrNull({v}), {HUGE}), {k} = 'D', {}, {k} = 'S', {}, NULL)",
            float_whole(&format!("toFloat64OrZero({v})"), n),
            text_whole(v, n)
        )
    })
}

fn within(value: &str, max: u64) -> String {
    format!("({value} >= 0 AND {value} <= toInt256('{max}'))")
}

/// float() (§4.2).
fn float(l: &Leaf, n: &mut Names) -> String {
    with_leaf(l, n, &mut |k, v, _, n| {
        format!(
            "multiIf({k} = 'B', toFloat64({v} = '1'), {k} IN ('I', 'D'), if(isFinite(toFloat64OrZero({v})), toFloat64OrZero({v}), NULL), {k} = 'S', {}, NULL)",
            float_text(v, n)
        )
    })
}

fn is_zero(v: &str) -> String {
    format!("match({v}, '^-?0$')")
}

/// bool() (§4.2).
fn boolean(l: &Leaf, n: &mut Names) -> String {
    let words = |ws: &[&str]| ws.iter().map(|w| literal(w)).collect::<Vec<_>>().join(", ");
    with_leaf(l, n, &mut |k, v, _, n| {
        let w = n.fresh();
        format!(
            "multiIf({k} = 'B', {v} = '1', {k} = 'I', NOT {}, {k} = 'D', toFloat64OrZero({v}) != 0, {k} = 'S', {}, NULL)",
            is_zero(v),
            bind(
                &format!("lowerUTF8({})", strip(v)),
                &w,
                &format!(
                    "multiIf({w} IN ({}), true, {w} IN ({}), false, NULL)",
                    words(&super::py::TRUE_WORDS),
                    words(&super::py::FALSE_WORDS)
                )
            )
        )
    })
}

/// Python's truthiness.
fn truthy(l: &Leaf, n: &mut Names) -> String {
    with_leaf(l, n, &mut |k, v, r, _| {
        format!(
            "multiIf({k} = 'S', {v} != '', {k} = 'I', NOT {}, {k} = 'D', toFloat64OrZero({v}) != 0, {k} = 'B', {v} = '1', {k} = 'C', {r} NOT IN ('[]', '{{}}'), false)",
            is_zero(v)
        )
    })
}

/// Python's `repr(float)` of a `Float64`.
fn float_repr(x: &str, n: &mut Names) -> String {
    let v = n.fresh();
    let s = n.fresh();
    let d = n.fresh();
    // From ClickHouse's shortest digits (`1.5e-7`, `100`, `0.001`) to the
    // digits without leading or trailing zeros and the decimal point's
    // place: value = 0.<digits> × 10^point.
    let m = format!("splitByChar('e', {s})[1]");
    let e = format!("if(position({s}, 'e') > 0, toInt32OrZero(splitByChar('e', {s})[2]), 0)");
    let ip = format!("splitByChar('.', {m})[1]");
    let r = format!("concat({ip}, if(position({m}, '.') > 0, splitByChar('.', {m})[2], ''))");
    let parts = format!(
        "tuple(trimRight(trimLeft({r}, '0'), '0'), toInt64(length({ip})) + {e} - toInt64(length({r}) - length(trimLeft({r}, '0'))))"
    );
    let (dg, pt) = (format!("{d}.1"), format!("{d}.2"));
    let layout = format!(
        "multiIf({pt} - 1 >= -4 AND {pt} - 1 < 16, multiIf({pt} <= 0, concat('0.', repeat('0', toUInt64(-{pt})), {dg}), {pt} >= length({dg}), concat({dg}, repeat('0', toUInt64({pt} - length({dg}))), '.0'), concat(substring({dg}, 1, {pt}), '.', substring({dg}, {pt} + 1))), concat(substring({dg}, 1, 1), if(length({dg}) > 1, concat('.', substring({dg}, 2)), ''), 'e', if({pt} - 1 < 0, '-', '+'), if(abs({pt} - 1) < 10, '0', ''), toString(abs({pt} - 1))))"
    );
    bind(
        x,
        &v,
        &format!(
            "multiIf(isNaN({v}), 'nan', isInfinite({v}), if({v} > 0, 'inf', '-inf'), {v} = 0, if(toString({v}) = '-0', '-0.0', '0.0'), concat(if({v} < 0, '-', ''), {}))",
            bind(
                &format!("toString(abs({v}))"),
                &s,
                &bind(&parts, &d, &layout)
            )
        ),
    )
}

/// A JSON string token, escapes kept.
const STRING_TOKEN: &str = r#""(?:[^"\\]|\\.)*""#;

/// `f` (over `param`) applied to every match of `re` in `s`, the rest
/// kept.
fn map_matches(s: &str, re: &str, param: &str, f: &str) -> String {
    let re = literal(re);
    format!(
        "arrayStringConcat(arrayMap((_p, _q) -> concat(_p, _q), splitByRegexp({re}, {s}), arrayPushBack(arrayMap({param} -> {f}, extractAll({s}, {re})), '')))"
    )
}

/// The line with every scalar outside member names marked with its JSON
/// type (see the module's documentation). Member names are the strings
/// followed by a colon.
pub fn marked(text: &str) -> String {
    let re = format!(r#"{STRING_TOKEN}[ \t\n\r]*:|{STRING_TOKEN}|-?[0-9][0-9.eE+-]*|true|false"#);
    let m = |kind: &str| literal(&format!("\"\\u0002{kind}"));
    map_matches(
        text,
        &re,
        "_t",
        &format!(
            "multiIf(endsWith(_t, ':'), _t, startsWith(_t, '\"'), concat({}, substring(_t, 2)), _t = 'true', {}, _t = 'false', {}, match(_t, '[.eE]'), concat({}, _t, '\"'), concat({}, _t, '\"'))",
            m("S"),
            literal("\"\\u0002B1\""),
            literal("\"\\u0002B0\""),
            m("D"),
            m("I")
        ),
    )
}

/// A JSON string token as ClickHouse writes it, re-escaped as Python's
/// `ensure_ascii`: non-ASCII and DEL as `\uxxxx` (pairs above U+FFFF),
/// lower-case hex.
fn py_string(tok: &str, n: &mut Names) -> String {
    let c = n.fresh();
    let b = |i: u32| format!("toUInt32(reinterpretAsUInt8(substring({c}, {i}, 1)))");
    let cp = format!(
        "multiIf(length({c}) = 1, {b1}, length({c}) = 2, bitAnd({b1}, 31) * 64 + bitAnd({b2}, 63), length({c}) = 3, bitAnd({b1}, 15) * 4096 + bitAnd({b2}, 63) * 64 + bitAnd({b3}, 63), bitAnd({b1}, 7) * 262144 + bitAnd({b2}, 63) * 4096 + bitAnd({b3}, 63) * 64 + bitAnd({b4}, 63))",
        b1 = b(1),
        b2 = b(2),
        b3 = b(3),
        b4 = b(4)
    );
    let u = n.fresh();
    let hex4 = |v: &str| format!("concat('\\\\u', lower(leftPad(hex(toUInt16({v})), 4, '0')))");
    let escape = bind(
        &cp,
        &u,
        &format!(
            "if({u} < 65536, {}, concat({}, {}))",
            hex4(&u),
            hex4(&format!("55296 + bitShiftRight({u} - 65536, 10)")),
            hex4(&format!("56320 + bitAnd({u} - 65536, 1023)"))
        ),
    );
    let slow = map_matches(
        tok,
        r"\\u[0-9A-Fa-f]{4}|\\.|[^\x20-\x7e]",
        &c,
        &format!(
            "multiIf(startsWith({c}, '\\\\u'), lower({c}), startsWith({c}, '\\\\'), {c}, {escape})"
        ),
    );
    format!(
        "if(match({tok}, {}), {slow}, {tok})",
        literal(r"[^\x20-\x7e]|\\u00[0-9a-fA-F]*[A-F]")
    )
}

/// Python's `str()` of an integer token (`-0` is `0`).
fn int_text(v: &str) -> String {
    format!("if({}, '0', {v})", is_zero(v))
}

/// `json.dumps` layout of a container's compact text (scalars marked).
fn py_dump(raw: &str, n: &mut Names) -> String {
    let t = n.fresh();
    let v = n.fresh();
    // `"\u0002X…"`: the quote, the six-character escape, the kind.
    let kind = format!("substring({t}, 8, 1)");
    let inner = format!("substring({t}, 9, length({t}) - 9)");
    let scalar = bind(
        &inner,
        &v,
        &format!(
            "multiIf({kind} = 'I', {}, {kind} = 'D', {}, {kind} = 'B', if({v} = '1', 'true', 'false'), {})",
            int_text(&v),
            float_repr(&format!("toFloat64OrZero({v})"), n),
            py_string(&format!("concat('\"', substring({t}, 9))"), n)
        ),
    );
    map_matches(
        raw,
        &format!("{STRING_TOKEN}|[,:]"),
        &t,
        &format!(
            "multiIf({t} = ',', ', ', {t} = ':', ': ', startsWith({t}, {}), {scalar}, {})",
            literal("\"\\u0002"),
            py_string(&t, n)
        ),
    )
}

/// text() (§4.1); `json` = true for json(), which writes booleans as
/// JSON does.
fn text(l: &Leaf, json: bool, n: &mut Names) -> String {
    let (t, f) = if json {
        ("'true'", "'false'")
    } else {
        ("'True'", "'False'")
    };
    with_leaf(l, n, &mut |k, v, r, n| {
        format!(
            "multiIf({k} = 'S', {v}, {k} = 'I', {}, {k} = 'D', {}, {k} = 'B', if({v} = '1', {t}, {f}), {k} = 'C', {}, NULL)",
            int_text(v),
            float_repr(&format!("toFloat64OrZero({v})"), n),
            py_dump(r, n)
        )
    })
}

/// The leaves of the line's one extraction: every member a rule reads
/// under the containers, as `Nullable(String)` of the marked line.
#[derive(Debug, Default)]
struct Tree {
    nodes: Vec<Node>,
    /// Leaf paths in the order of their columns `l0, l1, …`.
    leaves: Vec<Path>,
}

#[derive(Debug)]
struct Node {
    key: &'static str,
    leaf: Option<usize>,
    children: Vec<Node>,
}

impl Tree {
    fn add(&mut self, path: Path) {
        if self.leaves.contains(&path) {
            return;
        }
        let index = self.leaves.len();
        let (last, parents) = path.split_last().expect("a path");
        let mut level = &mut self.nodes;
        for key in parents {
            let at = match level.iter().position(|n| n.key == *key) {
                Some(i) => i,
                None => {
                    level.push(Node {
                        key,
                        leaf: None,
                        children: Vec::new(),
                    });
                    level.len() - 1
                }
            };
            level = &mut level[at].children;
        }
        level.push(Node {
            key: last,
            leaf: Some(index),
            children: Vec::new(),
        });
        self.leaves.push(path);
    }

    fn type_name(&self) -> String {
        fn level(nodes: &[Node]) -> String {
            let members: Vec<String> = nodes
                .iter()
                .map(|n| {
                    let ty = match n.leaf {
                        Some(_) => String::from("Nullable(String)"),
                        None => level(&n.children),
                    };
                    format!("{} {ty}", ident(n.key))
                })
                .collect();
            format!("Tuple({})", members.join(", "))
        }
        level(&self.nodes)
    }

    /// `tupleElement(…) AS l<i>` for every leaf of `doc`.
    fn columns(&self, doc: &str) -> Vec<String> {
        self.leaves
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut e = String::from(doc);
                for k in p.iter() {
                    e = format!("tupleElement({e}, {})", literal(k));
                }
                format!("{e} AS l{i}")
            })
            .collect()
    }

    fn leaf(&self, path: Path) -> Leaf {
        match self.leaves.iter().position(|p| *p == path) {
            Some(i) => Leaf(format!("l{i}")),
            None => Leaf(String::from("CAST(NULL AS Nullable(String))")),
        }
    }
}

const SCORE: Path = &["result", "score"];
const RESPONSE: Path = &["result", "response"];

/// The tree of every member the raw rules and the stage read.
fn tree() -> Tree {
    let mut t = Tree::default();
    for p in [
        &["timestamp"][..],
        &["verb", "id"],
        &["object", "definition", "type"],
        &["object", "definition", "subType"],
        &["object", "id"],
        SCORE,
        RESPONSE,
        ATTRIBUTIONS,
    ] {
        t.add(p);
    }
    for c in RAW {
        let paths: &[Path] = match &c.rule {
            Rule::Text(p)
            | Rule::Int(p, _)
            | Rule::Float(p)
            | Rule::Bool(p)
            | Rule::Json(p)
            | Rule::Count(p) => core::slice::from_ref(p),
            Rule::TextFirstTruthy(ps) | Rule::FloatFirstTruthy(ps) => ps,
            _ => &[],
        };
        for p in paths {
            if !p.starts_with(SCORE) {
                t.add(p);
            }
        }
    }
    t
}

/// The leaf of `path`: a tree column, or a member of the score object.
fn leaf(t: &Tree, path: Path) -> Leaf {
    match path.strip_prefix(SCORE) {
        Some([k]) => Leaf(format!("tupleElement(score, {})", literal(k))),
        _ => t.leaf(path),
    }
}

/// One conversion of many leaves: each rule's body appears once in the
/// query, applied over an array of the leaves that need it
/// (`arrayMap(x -> text(x), [l3, l7, …])`), so the query stays small
/// enough to analyse quickly however many columns there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum K {
    Text,
    Json,
    Float,
    Whole,
    Bool,
    Truthy,
    /// The attributions' str(): trimmed text, NULL when blank.
    Str,
}

const KINDS: [K; 7] = [
    K::Text,
    K::Json,
    K::Float,
    K::Whole,
    K::Bool,
    K::Truthy,
    K::Str,
];

#[derive(Debug, Default)]
struct Conv {
    /// Array columns are named `{prefix}{kind}`.
    prefix: &'static str,
    lists: [Vec<String>; 7],
}

impl Conv {
    fn new(prefix: &'static str) -> Conv {
        Conv {
            prefix,
            ..Conv::default()
        }
    }

    fn name(&self, k: K) -> String {
        format!("{}{}", self.prefix, k as usize)
    }

    /// The converted value of `l`: an element of the kind's array.
    fn get(&mut self, k: K, l: &Leaf) -> String {
        let list = &mut self.lists[k as usize];
        let i = match list.iter().position(|x| *x == l.0) {
            Some(i) => i,
            None => {
                list.push(l.0.clone());
                list.len() - 1
            }
        };
        format!("{}[{}]", self.name(k), i + 1)
    }

    /// `arrayMap(…) AS <name>` for every kind in use.
    fn arrays(&self, n: &mut Names) -> Vec<String> {
        KINDS
            .iter()
            .filter(|k| !self.lists[**k as usize].is_empty())
            .map(|k| {
                let x = n.fresh();
                let l = Leaf(x.clone());
                let body = match k {
                    K::Text => text(&l, false, n),
                    K::Json => text(&l, true, n),
                    K::Float => float(&l, n),
                    K::Whole => whole(&l, n),
                    K::Bool => boolean(&l, n),
                    K::Truthy => truthy(&l, n),
                    K::Str => {
                        let s = n.fresh();
                        format!(
                            "if({} = 'S', {}, {})",
                            l.kind(),
                            bind(&strip(&l.value()), &s, &format!("nullIf({s}, '')")),
                            text(&l, false, n)
                        )
                    }
                };
                format!(
                    "arrayMap({x} -> {body}, [{}]) AS {}",
                    self.lists[*k as usize].join(", "),
                    self.name(*k)
                )
            })
            .collect()
    }
}

/// int() into `0..=max` from a converted whole.
fn ranged_value(w: &str, max: u64) -> String {
    format!(
        "if(isNull({w}) OR NOT {}, NULL, toUInt64(assumeNotNull({w})))",
        within(&format!("assumeNotNull({w})"), max)
    )
}

fn ranged_bad(w: &str, max: u64) -> String {
    format!(
        "(isNotNull({w}) AND NOT {})",
        within(&format!("assumeNotNull({w})"), max)
    )
}

fn first_truthy(t: &Tree, paths: &[Path], k: K, c: &mut Conv) -> String {
    let mut arms = Vec::new();
    for p in paths {
        let l = leaf(t, p);
        arms.push(c.get(K::Truthy, &l));
        arms.push(c.get(k, &l));
    }
    format!("multiIf({}, NULL)", arms.join(", "))
}

/// The classification (§3) of the two strings `verb` and `kind`.
fn classify(verb: &str, kind: &str) -> String {
    let videos = VIDEO_VERBS
        .iter()
        .map(|v| literal(v))
        .collect::<Vec<_>>()
        .join(", ");
    let c = literal(VERB_COMPLETED);
    format!(
        "multiIf({verb} IN ({videos}), 'video', {verb} = {c} AND {kind} = {}, 'activity_attempt', {verb} = {c} AND {kind} = {}, 'page_attempt', {verb} = {} AND {kind} = {}, 'page_viewed', {verb} = {c} AND {kind} = {}, 'part_attempt', 'unknown')",
        literal(TYPE_ACTIVITY_ATTEMPT),
        literal(TYPE_PAGE_ATTEMPT),
        literal(VERB_VIEWED),
        literal(TYPE_PAGE),
        literal(TYPE_QUESTION)
    )
}

/// A string leaf's text, `''` for anything else.
fn string_or_empty(l: &Leaf) -> String {
    format!(
        "if(startsWith(ifNull({}, ''), {}), {}, '')",
        l.0,
        literal(&format!("{M}S")),
        l.value()
    )
}

fn event_type(t: &Tree, trimmed: bool) -> String {
    let v = string_or_empty(&t.leaf(&["verb", "id"]));
    let k = string_or_empty(&t.leaf(&["object", "definition", "type"]));
    if trimmed {
        classify(&strip(&v), &strip(&k))
    } else {
        classify(&v, &k)
    }
}

/// A raw column's value from the stage's leaves and conversions.
fn raw_value(t: &Tree, rule: Rule, c: &mut Conv) -> String {
    match rule {
        Rule::Text(p) => c.get(K::Text, &leaf(t, p)),
        Rule::TextFirstTruthy(ps) => first_truthy(t, ps, K::Text, c),
        Rule::Int(p, max) => ranged_value(&c.get(K::Whole, &leaf(t, p)), max),
        Rule::Float(p) => c.get(K::Float, &leaf(t, p)),
        Rule::FloatFirstTruthy(ps) => first_truthy(t, ps, K::Float, c),
        Rule::Bool(p) => c.get(K::Bool, &leaf(t, p)),
        Rule::Json(p) => c.get(K::Json, &leaf(t, p)),
        Rule::Count(p) => {
            let l = leaf(t, p);
            format!(
                "if(startsWith(ifNull({}, ''), '['), toUInt64(length(JSONExtractArrayRaw({}))), {})",
                l.0,
                l.raw(),
                ranged_value(&c.get(K::Whole, &l), u64::from(u32::MAX))
            )
        }
        Rule::Response => {
            let r = t.leaf(RESPONSE);
            let input = Leaf(String::from("response_input"));
            format!(
                "if(startsWith(ifNull({}, ''), '{{') AND {}, {}, {})",
                r.0,
                c.get(K::Truthy, &input),
                c.get(K::Text, &input),
                c.get(K::Text, &r)
            )
        }
        Rule::SubType => c.get(K::Text, &t.leaf(&["object", "definition", "subType"])),
        Rule::VideoUrl => format!(
            "if(event_type = 'video', {}, NULL)",
            c.get(K::Text, &t.leaf(&["object", "id"]))
        ),
        Rule::Timestamp => String::from(
            "ifNull(if(isNull(ts_ms), NULL, fromUnixTimestamp64Milli(assumeNotNull(ts_ms), 'UTC')), fromUnixTimestamp64Milli(toInt64(0), 'UTC'))",
        ),
        Rule::EventType => String::from("event_type"),
        Rule::Verb => {
            let l = t.leaf(&["verb", "id"]);
            format!("if({}, {}, '')", c.get(K::Truthy, &l), c.get(K::Text, &l))
        }
        Rule::EventHash => String::from("lower(hex(SHA256(raw)))"),
        Rule::SourceFile => String::from("concat('s3://', source_path)"),
        Rule::SourceEtag => String::from("source_etag"),
        Rule::SourceLine => String::from("source_line"),
    }
}

/// The statement timestamp's milliseconds when it is text (NULL for
/// anything else, and for text that fails, which `problem` reports).
fn ts_ms(t: &Tree, n: &mut Names) -> String {
    let l = t.leaf(&["timestamp"]);
    format!(
        "if(startsWith(ifNull({}, ''), {}), {}, NULL)",
        l.0,
        literal(&format!("{M}S")),
        timestamp_ms(&l.value(), n)
    )
}

/// The attributions' elements (compact texts) that are objects.
const ELEMENTS: &str = "arrayFilter(_e -> startsWith(_e, '{'), if(startsWith(ifNull(attributions, ''), '['), JSONExtractArrayRaw(assumeNotNull(attributions)), []))";

/// Members of an attribution element the stage and the inserts read.
fn element_members() -> Vec<&'static str> {
    let mut m = alloc::vec!["role", "attribution_type", "key", "assigned_by_policy"];
    for c in ATTRIBUTION_COLUMNS {
        let name = match c.rule {
            attribution::Rule::Int(k, _)
            | attribution::Rule::Str(k)
            | attribution::Rule::Float(k) => k,
            attribution::Rule::AssignmentScope => "assignment_scope",
            attribution::Rule::Algorithm => "algorithm",
            _ => continue,
        };
        if !m.contains(&name) {
            m.push(name);
        }
    }
    m
}

/// `JSONExtract` of an element into a tuple of its members.
fn element_doc(e: &str) -> String {
    let members: Vec<String> = element_members()
        .iter()
        .map(|m| format!("{} Nullable(String)", ident(m)))
        .collect();
    format!(
        "JSONExtract({e}, {})",
        literal(&format!("Tuple({})", members.join(", ")))
    )
}

fn member(doc: &str, name: &str) -> Leaf {
    Leaf(format!("tupleElement({doc}, {})", literal(name)))
}

/// A cheap test that some container could be a truthy non-object: only
/// then are the containers looked at one by one.
const CONTAINER_SUSPECT: &str = r#""(?:context|extensions|actor|account|verb|result|object|definition)"[ \t\n\r]*:[ \t\n\r]*["\[]"#;

/// Why the staged line fails its object (a code), or `''`: the checks of
/// [`super::derive`]. The report takes its words from
/// [`super::derive`] itself, given the line.
fn problem(t: &Tree, max_attributions: usize, conv: &mut Conv, n: &mut Names) -> String {
    let mut arms: Vec<(String, &str)> = Vec::new();
    arms.push((String::from("NOT isValidUTF8(text)"), "not_utf8"));
    arms.push((String::from("NOT isValidJSON(text)"), "json_invalid"));
    arms.push((String::from("JSONType(text) != 'Object'"), "not_object"));
    // The containers are read through a lambda over `[text]`, empty
    // unless the cheap test matches: as a lazy argument of `AND`, the
    // same expressions cost a third of the stage's time even when no row
    // reached them (chdb, 50 000 statements, docs/benchmarks.md).
    let line = n.fresh();
    let mut containers = Vec::new();
    for p in CONTAINERS {
        let mut args = line.clone();
        for k in p.iter() {
            args.push_str(", ");
            args.push_str(&literal(k));
        }
        let ty = format!("JSONType({args})");
        containers.push(format!(
            "({ty} NOT IN ('Object', 'Null') AND multiIf({ty} = 'Bool', JSONExtractBool({args}) = 1, {ty} IN ('Int64', 'UInt64', 'Double'), JSONExtractFloat({args}) != 0, {ty} = 'String', JSONExtractString({args}) != '', {ty} IN ('Array', 'Object'), JSONLength({args}) > 0, false))"
        ));
    }
    arms.push((
        format!(
            "arrayExists({line} -> {}, if(match(marked, {}), [text], []))",
            containers.join(" OR "),
            literal(CONTAINER_SUSPECT),
        ),
        "container_type",
    ));
    for c in RAW {
        match c.rule {
            Rule::Int(p, max) => arms.push((
                ranged_bad(&conv.get(K::Whole, &leaf(t, p)), max),
                "int_range",
            )),
            Rule::Count(p) => {
                let l = leaf(t, p);
                arms.push((
                    format!(
                        "NOT startsWith(ifNull({}, ''), '[') AND {}",
                        l.0,
                        ranged_bad(&conv.get(K::Whole, &l), u64::from(u32::MAX))
                    ),
                    "int_range",
                ))
            }
            Rule::SubType => {
                let l = t.leaf(&["object", "definition", "subType"]);
                arms.push((format!("{} = 'C'", l.kind()), "subtype_type"))
            }
            Rule::Timestamp => {
                let l = t.leaf(&["timestamp"]);
                arms.push((
                    format!(
                        "{} = 'S' AND {} != '' AND isNull(ts_ms)",
                        l.kind(),
                        strip(&l.value())
                    ),
                    "timestamp_invalid",
                ))
            }
            _ => {}
        }
    }
    arms.extend(attribution_problems(t, max_attributions, n));
    let mut s = String::from("multiIf(");
    for (cond, code) in arms {
        s.push_str(&format!("{cond}, {}, ", literal(code)));
    }
    s.push_str("'')");
    s
}

fn attribution_problems(t: &Tree, max: usize, n: &mut Names) -> Vec<(String, &'static str)> {
    let max = max.max(1);
    let mut out = Vec::new();
    out.push((
        format!(
            "startsWith(ifNull(attributions, ''), '[') AND length(JSONExtractArrayRaw(assumeNotNull(attributions))) > {max}"
        ),
        "attribution_count",
    ));
    let doc = n.fresh();
    let s = |name: &str| {
        let l = member(&doc, name);
        format!(
            "if(startsWith(ifNull({}, ''), {}), {}, NULL)",
            l.0,
            literal(&format!("{M}S")),
            l.value()
        )
    };
    let pairs = "((_r = _k AND _r IN ('assignment', 'exposure', 'outcome', 'reward', 'policy_update')) OR (_r = 'rollup' AND _k IN ('outcome', 'reward')) OR (_r = 'media_interaction' AND _k = 'assignment'))";
    let each = |cond: String| {
        format!(
            "arrayExists(_e -> arrayMap({doc} -> {cond}, [{}])[1], {ELEMENTS})",
            element_doc("_e")
        )
    };
    out.push((
        each(format!(
            "NOT ifNull(arrayMap((_r, _k) -> {pairs}, [{}], [{}])[1], false)",
            s("role"),
            s("attribution_type")
        )),
        "attribution_role",
    ));
    out.push((
        each(format!("ifNull({}, '') = ''", s("key"))),
        "attribution_key",
    ));
    out.extend(attribution_time_problems(t));
    // Every id of an attribution is a UInt64: one whole() over them all.
    let ids: Vec<String> = ATTRIBUTION_COLUMNS
        .iter()
        .filter_map(|c| match c.rule {
            attribution::Rule::Int(name, _) => Some(member(&doc, name).0),
            _ => None,
        })
        .collect();
    let x = n.fresh();
    let w = n.fresh();
    out.push((
        each(format!(
            "arrayExists({x} -> {}, [{}])",
            bind(&whole(&Leaf(x.clone()), n), &w, &ranged_bad(&w, u64::MAX)),
            ids.join(", ")
        )),
        "int_range",
    ));
    out
}

/// The checks of an attributed statement's timestamp (§6.3).
fn attribution_time_problems(t: &Tree) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let ts = t.leaf(&["timestamp"]);
    let has = format!("notEmpty({ELEMENTS})");
    out.push((
        format!("{has} AND {} IN ('D', 'B', 'C')", ts.kind()),
        "attribution_timestamp",
    ));
    out.push((
        format!(
            "{has} AND {} = 'S' AND {} = ''",
            ts.kind(),
            strip(&ts.value())
        ),
        "attribution_timestamp",
    ));
    out.push((
        format!(
            "{has} AND {} = 'I' AND NOT ifNull(toInt256OrNull({}) BETWEEN {} AND {}, false)",
            ts.kind(),
            ts.value(),
            super::isotime::MIN_MS,
            super::isotime::MAX_MS
        ),
        "attribution_timestamp",
    ));
    out
}

/// How the line's attributions write their timestamp: `text`, `int` or
/// `''` (none, or null): one object may not mix the first two.
fn attribution_time_kind(t: &Tree) -> String {
    let ts = t.leaf(&["timestamp"]);
    format!(
        "if(empty({ELEMENTS}), '', multiIf({k} = 'S', 'text', {k} = 'I', 'int', ''))",
        k = ts.kind()
    )
}

/// `raw_events`' columns in table order: the loader's, with the two the
/// server fills where the spec's schema has them.
fn raw_table_columns() -> Vec<(&'static str, &'static str)> {
    let mut cols: Vec<(&str, &str)> = RAW.iter().map(|c| (c.name, c.ch_type)).collect();
    let hash_at = cols.iter().position(|c| c.0 == "event_hash").unwrap_or(0);
    cols.insert(hash_at, ("inserted_at", "DateTime DEFAULT now()"));
    cols.insert(
        hash_at + 2,
        ("event_version", "DateTime64(3) DEFAULT now64(3)"),
    );
    cols
}

/// `experiment_attributions`' columns in the consolidated migration's
/// order.
fn attribution_table_columns() -> Vec<(&'static str, &'static str)> {
    let mut cols: Vec<(&str, &str)> = ATTRIBUTION_COLUMNS
        .iter()
        .map(|c: &AttributionColumn| (c.name, c.ch_type))
        .collect();
    cols.insert(2, ("event_version", "DateTime64(3) DEFAULT now64(3)"));
    cols.insert(3, ("inserted_at", "DateTime DEFAULT now()"));
    for c in &mut cols {
        if c.0 == "assignment_scope" {
            c.1 = "LowCardinality(String) DEFAULT 'intervention'";
        }
    }
    cols
}

/// Statements creating the database and both tables (idempotent), in
/// the spec's final schema (§1). `insert_deduplicate` is left out: it is
/// a query setting that the table does not keep; a deduplication window
/// makes the loader's tokens work on one server.
pub fn ddl(target: &Target<'_>) -> Vec<String> {
    let on = target
        .cluster
        .map(|c| format!(" ON CLUSTER {}", ident(c)))
        .unwrap_or_default();
    let mut out = alloc::vec![format!(
        "CREATE DATABASE IF NOT EXISTS {}{on}",
        ident(target.database)
    )];
    let (raw_cols, attr_cols) = (raw_table_columns(), attribution_table_columns());
    let raw_indexes = [
        ("idx_section_id", "section_id", "minmax"),
        ("idx_event_type", "event_type", "set(0)"),
        ("idx_user_id", "user_id", "bloom_filter()"),
    ];
    let attr_indexes = [
        ("idx_experiment_id", "experiment_id", "minmax"),
        ("idx_experiment_uuid", "experiment_uuid", "bloom_filter()"),
        ("idx_experiment_role", "experiment_role", "set(0)"),
        ("idx_attribution_type", "attribution_type", "set(0)"),
        ("idx_condition_id", "condition_id", "minmax"),
        ("idx_assignment_id", "assignment_id", "minmax"),
    ];
    for (table, cols, key, indexes) in [
        (RAW_TABLE, &raw_cols, "event_hash", &raw_indexes[..]),
        (
            ATTRIBUTION_TABLE,
            &attr_cols,
            "(raw_event_hash, attribution_hash)",
            &attr_indexes[..],
        ),
    ] {
        let mut body = String::from("(\n");
        for (name, ty) in cols.iter() {
            body.push_str(&format!("    {} {ty},\n", ident(name)));
        }
        for (name, col, kind) in indexes {
            body.push_str(&format!(
                "    INDEX {name} {} TYPE {kind} GRANULARITY 1,\n",
                ident(col)
            ));
        }
        body.truncate(body.len() - 2);
        body.push_str("\n)");
        let tail = format!(
            "PARTITION BY toYYYYMM(timestamp)\nPRIMARY KEY {key}\nORDER BY {key}\nSETTINGS allow_nullable_key = 0, index_granularity = 8192"
        );
        let name = format!("{}.{}", ident(target.database), ident(table));
        match target.cluster {
            None => out.push(format!(
                "CREATE TABLE IF NOT EXISTS {name} {body}\nENGINE = ReplacingMergeTree(event_version)\n{tail}, non_replicated_deduplication_window = 100000"
            )),
            Some(cluster) => {
                let local = format!("{table}_local");
                out.push(format!(
                    "CREATE TABLE IF NOT EXISTS {}.{}{on} {body}\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{{shard}}/{{database}}/{local}', '{{replica}}', event_version)\n{tail}, replicated_deduplication_window = 100000",
                    ident(target.database),
                    ident(&local)
                ));
                let shard = if table == RAW_TABLE {
                    "event_hash"
                } else {
                    "raw_event_hash"
                };
                out.push(format!(
                    "CREATE TABLE IF NOT EXISTS {name}{on} AS {}.{}\nENGINE = Distributed({}, {}, {}, cityHash64({shard}))",
                    ident(target.database),
                    ident(&local),
                    literal(cluster),
                    literal(target.database),
                    literal(&local)
                ));
            }
        }
    }
    out
}

/// Settings of the queries this module writes: the generated expressions
/// are long.
pub const QUERY_SETTINGS: [(&str, &str); 3] = [
    ("max_query_size", "4194304"),
    ("max_ast_elements", "4000000"),
    ("max_expanded_ast_elements", "4000000"),
];

/// Every line of `source` split by universal newlines (the engine splits
/// at `\n`; a trailing `\r` is the rest of a `\r\n`, any other `\r` ends
/// a line), with its physical line and its ordinal among the object's
/// non-empty lines; empty lines are left out.
fn numbered_lines(source: &str) -> String {
    let pieces = format!(
        "SELECT _path AS source_path, nullIf(trimBoth(_etag, '\"'), '') AS source_etag, _row_number AS physical, arrayJoin(arrayEnumerate(splitByChar('\\r', if(endsWith(line, '\\r'), substring(line, 1, length(line) - 1), line)) AS _ps)) AS piece, _ps[piece] AS raw FROM {source}"
    );
    let all = format!(
        "SELECT source_path, source_etag, toUInt64(row_number() OVER (PARTITION BY source_path ORDER BY physical, piece)) AS physical_line, raw FROM ({pieces})"
    );
    format!(
        "SELECT source_path, source_etag, physical_line, toUInt32(row_number() OVER (PARTITION BY source_path ORDER BY physical_line)) AS source_line, raw, if(startsWith(raw, '\\xEF\\xBB\\xBF'), substring(raw, 4), raw) AS text FROM ({all}) WHERE raw != ''"
    )
}

/// The one read of a server-side load: every line of `source` (an
/// `s3(…)`/`s3Cluster(…)` reading `LineAsString`, with `_path`, `_etag`
/// and `_row_number`) split by universal newlines into a staging table,
/// with its ordinal among the object's non-empty lines, the leaves of its
/// marked text, its event type and why it fails its object, if it does.
pub fn stage_create(
    target: &Target<'_>,
    stage: &str,
    source: &str,
    max_attributions: usize,
) -> String {
    let t = tree();
    let mut n = Names::default();
    let numbered = numbered_lines(source);
    let with_doc = format!(
        "SELECT *, {} AS marked, JSONExtract(marked, {}) AS doc FROM ({numbered})",
        marked("text"),
        literal(&t.type_name())
    );
    let leaves = format!(
        "SELECT source_path, source_etag, physical_line, source_line, raw, text, marked, {}, {} AS attributions, JSONExtract(if(startsWith(ifNull({score}, ''), '{{'), assumeNotNull({score}), '{{}}'), 'Tuple(raw Nullable(String), max Nullable(String), scaled Nullable(String))') AS score, tupleElement(JSONExtract(if(startsWith(ifNull({response}, ''), '{{'), assumeNotNull({response}), '{{}}'), 'Tuple(input Nullable(String))'), 'input') AS response_input FROM ({with_doc})",
        t.columns("doc").join(", "),
        t.leaf(ATTRIBUTIONS).0,
        score = t.leaf(SCORE).0,
        response = t.leaf(RESPONSE).0
    );
    // The conversions over the leaves, then the columns from them.
    let mut conv = Conv::new("k");
    let problem = problem(&t, max_attributions, &mut conv, &mut n);
    let values: Vec<String> = RAW
        .iter()
        .filter(|c| {
            !matches!(
                c.rule,
                Rule::EventType | Rule::SourceEtag | Rule::SourceLine
            )
        })
        .map(|c| {
            format!(
                "{} AS {}",
                raw_value(&t, c.rule, &mut conv),
                ident(&format!("c_{}", c.name))
            )
        })
        .collect();
    let converted = format!(
        "SELECT *, {} AS event_type, {} AS ts_ms, {} FROM ({leaves})",
        event_type(&t, false),
        ts_ms(&t, &mut n),
        conv.arrays(&mut n).join(", ")
    );
    // The stage keeps what the inserts, the summaries and the attribution
    // stage read.
    let keep = [
        "source_path",
        "source_etag",
        "physical_line",
        "source_line",
        "raw",
        "attributions",
        "event_type",
        "ts_ms",
    ];
    let kept: Vec<String> = keep
        .iter()
        .map(|k| String::from(*k))
        .chain([
            format!("{} AS verb_leaf", t.leaf(&["verb", "id"]).0),
            format!(
                "{} AS type_leaf",
                t.leaf(&["object", "definition", "type"]).0
            ),
            format!("{} AS ts_leaf", t.leaf(&["timestamp"]).0),
        ])
        .collect();
    format!(
        "CREATE TABLE {} ENGINE = Memory AS\nSELECT {}, {problem} AS problem, {} AS attribution_times,\n  {}\nFROM ({converted})\nSETTINGS s3_skip_empty_files = 1",
        stage_table(target, stage),
        kept.join(", "),
        attribution_time_kind(&t),
        values.join(",\n  ")
    )
}

/// The attribution rows of a stage's objects that load, in a second
/// staging table `attributions` (`<stage>_a`): one row per object element
/// of each line's list, its columns computed once.
pub fn attribution_stage_create(target: &Target<'_>, stage: &str) -> String {
    let mut n = Names(10_000);
    let mut conv = Conv::new("a");
    let values: Vec<String> = ATTRIBUTION_COLUMNS
        .iter()
        .map(|c| {
            format!(
                "{} AS {}",
                attribution_value(c, &mut conv, &mut n),
                ident(&format!("a_{}", c.name))
            )
        })
        .collect();
    let elements = format!(
        "SELECT source_path, source_line, raw, source_etag, verb_leaf, type_leaf, ts_leaf, ts_ms, element_no, {} AS ad FROM {} ARRAY JOIN {ELEMENTS} AS element, arrayEnumerate({ELEMENTS}) AS element_no WHERE problem = ''",
        element_doc("element"),
        stage_table(target, stage)
    );
    let converted = format!(
        "SELECT *, {} FROM ({elements})",
        conv.arrays(&mut n).join(", ")
    );
    format!(
        "CREATE TABLE {} ENGINE = Memory AS\nSELECT source_path, source_line, element_no, {}\nFROM ({converted})",
        stage_table(target, &format!("{stage}_a")),
        values.join(",\n  ")
    )
}

/// Per object of the stage: its lines, its first failing line (0 when
/// none), how many attribution rows it gives, and the first line whose
/// attributions write their timestamp the other way (0 when none).
pub fn stage_summary(target: &Target<'_>, stage: &str) -> String {
    format!(
        "SELECT source_path, any(source_etag) AS etag, count() AS lines, minIf(source_line, problem != '') AS failed_line, sum(length({ELEMENTS})) AS attribution_rows, if(countIf(attribution_times = 'text') > 0 AND countIf(attribution_times = 'int') > 0, greatest(minIf(source_line, attribution_times = 'text'), minIf(source_line, attribution_times = 'int')), 0) AS mixed_line\nFROM {}\nGROUP BY source_path\nORDER BY source_path",
        stage_table(target, stage)
    )
}

/// Per object and range of `rows` statements (the inserts' cuts): the
/// range's first and last line, its statements per event type and its
/// attribution rows.
pub fn stage_ranges(target: &Target<'_>, stage: &str, rows: usize) -> String {
    let types: Vec<String> = [
        Category::Video,
        Category::ActivityAttempt,
        Category::PageAttempt,
        Category::PageViewed,
        Category::PartAttempt,
        Category::Unknown,
    ]
    .iter()
    .map(|c| {
        format!(
            "countIf(event_type = {}) AS {}",
            literal(c.as_str()),
            ident(c.as_str())
        )
    })
    .collect();
    format!(
        "SELECT source_path, intDiv(source_line - 1, {rows}) AS range, min(source_line) AS first, max(source_line) AS last, sum(length({ELEMENTS})) AS attribution_rows, {}\nFROM {}\nGROUP BY source_path, range\nORDER BY source_path, range",
        types.join(", "),
        stage_table(target, stage)
    )
}

/// The staged line `source_line` of an object (its physical line, then
/// its bytes in hex), for the report's words.
pub fn stage_line(target: &Target<'_>, stage: &str, path: &str, line: u32) -> String {
    format!(
        "SELECT physical_line, hex(raw) FROM {} WHERE source_path = {} AND source_line = {line} FORMAT TabSeparated",
        stage_table(target, stage),
        literal(path)
    )
}

fn settings(token: Option<&str>) -> String {
    token
        .map(|t| format!("\nSETTINGS insert_deduplication_token = {}", literal(t)))
        .unwrap_or_default()
}

/// `INSERT INTO raw_events` of one object's lines `first..=last` from the
/// stage.
pub fn insert_raw(
    target: &Target<'_>,
    stage: &str,
    path: &str,
    lines: (u32, u32),
    token: Option<&str>,
) -> String {
    let names: Vec<String> = RAW.iter().map(|c| ident(c.name)).collect();
    let exprs: Vec<String> = RAW
        .iter()
        .map(|c| match c.rule {
            Rule::EventType => String::from("event_type"),
            Rule::SourceEtag => String::from("source_etag"),
            Rule::SourceLine => String::from("source_line"),
            _ => ident(&format!("c_{}", c.name)),
        })
        .collect();
    format!(
        "INSERT INTO {}.{} ({})\nSELECT {}\nFROM {} WHERE source_path = {} AND source_line BETWEEN {} AND {} ORDER BY source_line{}",
        ident(target.database),
        ident(RAW_TABLE),
        names.join(", "),
        exprs.join(", "),
        stage_table(target, stage),
        literal(path),
        lines.0,
        lines.1,
        settings(token)
    )
}

/// An attribution column's value, over the element's tuple `ad` and the
/// host line's columns.
fn attribution_value(c: &AttributionColumn, conv: &mut Conv, n: &mut Names) -> String {
    let m = |name: &str| member("ad", name);
    match c.rule {
        attribution::Rule::RawEventHash => String::from("lower(hex(SHA256(raw)))"),
        attribution::Rule::AttributionHash => {
            let key = m("key");
            format!(
                "lower(hex(SHA256(concat(lower(hex(SHA256(raw))), ':', {}))))",
                strip(&key.value())
            )
        }
        attribution::Rule::Host("source_file") => String::from("concat('s3://', source_path)"),
        attribution::Rule::Host("source_etag") => String::from("source_etag"),
        attribution::Rule::Host(_) => String::from("source_line"),
        attribution::Rule::RawEventType => classify(
            &strip(&string_or_empty(&Leaf(String::from("verb_leaf")))),
            &strip(&string_or_empty(&Leaf(String::from("type_leaf")))),
        ),
        attribution::Rule::Timestamp => {
            let ts = Leaf(String::from("ts_leaf"));
            format!(
                "multiIf({k} = 'S', fromUnixTimestamp64Milli(assumeNotNull(ts_ms), 'UTC'), {k} = 'I', fromUnixTimestamp64Milli(toInt64OrZero({}), 'UTC'), fromUnixTimestamp64Milli(toInt64(0), 'UTC'))",
                ts.value(),
                k = ts.kind()
            )
        }
        attribution::Rule::Int(name, max) => ranged_value(&conv.get(K::Whole, &m(name)), max),
        attribution::Rule::Str(name) => conv.get(K::Str, &m(name)),
        attribution::Rule::Float(name) => conv.get(K::Float, &m(name)),
        attribution::Rule::AssignmentScope => {
            let l = m("assignment_scope");
            format!(
                "if({}, ifNull({}, 'intervention'), 'intervention')",
                conv.get(K::Truthy, &l),
                conv.get(K::Str, &l)
            )
        }
        attribution::Rule::Algorithm => {
            let a = m("algorithm");
            let b = m("assigned_by_policy");
            let _ = n;
            format!(
                "multiIf({}, {}, {}, {}, NULL)",
                conv.get(K::Truthy, &a),
                conv.get(K::Str, &a),
                conv.get(K::Truthy, &b),
                conv.get(K::Str, &b)
            )
        }
    }
}

/// `INSERT INTO experiment_attributions` of one object's rows of lines
/// `first..=last` from the attribution stage.
pub fn insert_attributions(
    target: &Target<'_>,
    stage: &str,
    path: &str,
    lines: (u32, u32),
    token: Option<&str>,
) -> String {
    let names: Vec<String> = ATTRIBUTION_COLUMNS.iter().map(|c| ident(c.name)).collect();
    let exprs: Vec<String> = ATTRIBUTION_COLUMNS
        .iter()
        .map(|c| ident(&format!("a_{}", c.name)))
        .collect();
    format!(
        "INSERT INTO {}.{} ({})\nSELECT {}\nFROM {} WHERE source_path = {} AND source_line BETWEEN {} AND {} ORDER BY source_line, element_no{}",
        ident(target.database),
        ident(ATTRIBUTION_TABLE),
        names.join(", "),
        exprs.join(", "),
        stage_table(target, &format!("{stage}_a")),
        literal(path),
        lines.0,
        lines.1,
        settings(token)
    )
}

/// The stage's expressions one by one (name, SQL over the leaf `x`), for
/// measuring what the engine spends on each (`scripts/dev`).
#[doc(hidden)]
pub fn debug_parts() -> Vec<(String, String)> {
    let t = tree();
    let mut n = Names::default();
    let x = Leaf(String::from("x"));
    let mut out = alloc::vec![
        (String::from("text"), text(&x, false, &mut n)),
        (String::from("float"), float(&x, &mut n)),
        (String::from("whole"), whole(&x, &mut n)),
        (String::from("bool"), boolean(&x, &mut n)),
        (String::from("truthy"), truthy(&x, &mut n)),
        (String::from("marked"), marked("y")),
        (String::from("ts"), timestamp_ms("y", &mut n)),
        (String::from("float_repr"), float_repr("z", &mut n)),
        (String::from("py_dump"), py_dump("y", &mut n)),
    ];
    let mut conv = Conv::new("k");
    out.push((String::from("problem"), problem(&t, 100, &mut conv, &mut n)));
    out.push((String::from("attribution_times"), attribution_time_kind(&t)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddl_follows_the_final_schema() {
        let t = Target {
            database: "torus",
            cluster: None,
        };
        let d = ddl(&t);
        assert_eq!(d.len(), 3);
        let raw = &d[1];
        assert!(
            raw.contains("ENGINE = ReplacingMergeTree(event_version)"),
            "{raw}"
        );
        assert!(
            raw.contains("ORDER BY event_hash") && raw.contains("PARTITION BY toYYYYMM(timestamp)")
        );
        assert!(
            !raw.contains("insert_deduplicate ="),
            "a setting the table does not keep"
        );
        // 44 columns in the table's order.
        let cols: Vec<&str> = raw
            .lines()
            .filter(|l| l.starts_with("    `"))
            .map(|l| l.trim().split('`').nth(1).unwrap())
            .collect();
        assert_eq!(cols.len(), 44, "{cols:?}");
        assert_eq!(
            cols[..8],
            [
                "user_id",
                "home_page",
                "section_id",
                "project_id",
                "publication_id",
                "enrollment_id",
                "timestamp",
                "event_type"
            ]
        );
        assert_eq!(
            cols[37..],
            [
                "session_id",
                "inserted_at",
                "event_hash",
                "event_version",
                "source_file",
                "source_etag",
                "source_line"
            ]
        );
        assert!(raw.contains("INDEX idx_user_id `user_id` TYPE bloom_filter() GRANULARITY 1"));
        let attr = &d[2];
        let n = attr.lines().filter(|l| l.starts_with("    `")).count();
        assert_eq!(n, 36, "{attr}");
        assert!(attr.contains("ORDER BY (raw_event_hash, attribution_hash)"));
        assert!(attr.contains("`assignment_scope` LowCardinality(String) DEFAULT 'intervention'"));
        let cluster = ddl(&Target {
            database: "torus",
            cluster: Some("c"),
        });
        assert_eq!(cluster.len(), 5);
        assert!(cluster[2].contains("cityHash64(event_hash)"));
    }
}
