//! ClickHouse SQL generated from the column tables: the DDL of the five
//! tables, and the server-side load (`INSERT … SELECT … FROM s3(…)`) whose
//! expressions compute exactly what [`super::extract`] computes.
//!
//! Only identifiers (backquoted) and the operator's own configuration (the
//! S3 URL, a named collection, keys if it insists) appear in SQL text; no
//! statement content ever does.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

mod doc;

use super::columns::{Column, Path, Rule, columns};
use super::{
    Category, TYPE_ACTIVITY_ATTEMPT, TYPE_PAGE, TYPE_PAGE_ATTEMPT, TYPE_QUESTION, VERB_COMPLETED,
    VERB_VIEWED, VIDEO_VERBS,
};
use doc::{At, Kind, Leaf, odd};
pub use doc::{Doc, EXTRACT_SETTINGS};

/// A backquoted identifier.
pub fn ident(s: &str) -> String {
    format!("`{}`", s.replace('\\', "\\\\").replace('`', "\\`"))
}

/// A single-quoted string literal.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Where tables live.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub database: &'a str,
    /// `Some(cluster)`: replicated tables on every node plus Distributed
    /// tables in front of them.
    pub cluster: Option<&'a str>,
}

impl Target<'_> {
    /// The table inserts go to (the Distributed one on a cluster).
    pub fn table(&self, c: Category) -> String {
        format!("{}.{}", ident(self.database), ident(c.table()))
    }

    fn on_cluster(&self) -> String {
        self.cluster
            .map(|c| format!(" ON CLUSTER {}", ident(c)))
            .unwrap_or_default()
    }
}

/// Statements creating the database and the five tables (idempotent).
pub fn ddl(target: &Target<'_>) -> Vec<String> {
    let mut out = alloc::vec![format!(
        "CREATE DATABASE IF NOT EXISTS {}{}",
        ident(target.database),
        target.on_cluster()
    )];
    for c in Category::LOADED {
        let cols = columns(c);
        let mut body = String::from("(\n");
        for col in cols {
            body.push_str(&format!("    {} {},\n", ident(col.name), col.ch_type));
        }
        body.push_str("    `inserted_at` DateTime DEFAULT now()\n)");
        // The spec's order (time, section, user) plus the event id: rows
        // with the same key are one statement, which ReplacingMergeTree
        // keeps once. ifNull keeps the key non-nullable.
        let order = "ORDER BY (timestamp, ifNull(section_id, 0), ifNull(user_id, ''), event_id)";
        let tail =
            format!("PARTITION BY toYYYYMM(timestamp)\n{order}\nSETTINGS index_granularity = 8192");
        match target.cluster {
            None => out.push(format!(
                "CREATE TABLE IF NOT EXISTS {} {body}\nENGINE = ReplacingMergeTree\n{tail}, non_replicated_deduplication_window = 10000",
                target.table(c)
            )),
            Some(cluster) => {
                let local = format!("{}_local", c.table());
                out.push(format!(
                    "CREATE TABLE IF NOT EXISTS {}.{}{} {body}\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{{shard}}/{{database}}/{local}', '{{replica}}')\n{tail}",
                    ident(target.database),
                    ident(&local),
                    target.on_cluster()
                ));
                // Sharding by event id sends every copy of a statement to
                // the same shard, where it is deduplicated.
                out.push(format!(
                    "CREATE TABLE IF NOT EXISTS {}{} AS {}.{}\nENGINE = Distributed({}, {}, {}, cityHash64(event_id))",
                    target.table(c),
                    target.on_cluster(),
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

fn args(path: Path) -> String {
    let mut s = String::from("json");
    for k in path {
        s.push_str(", ");
        s.push_str(&literal(k));
    }
    s
}

fn text_expr(path: Path) -> String {
    let a = args(path);
    format!(
        "multiIf(JSONType({a}) = 'String', JSONExtractString({a}), JSONType({a}) = 'Null', NULL, JSONExtractRaw({a}))"
    )
}

/// The string at `at` trimmed like [`super::extract::VALUE_TRIM`].
fn trimmed(at: &At) -> String {
    format!("trimBoth({}, ' \\t\\n\\r')", at.string())
}

const NUMBER_TEXT: &str = "'^[+-]?([0-9]+(\\\\.[0-9]*)?|\\\\.[0-9]+)([eE][+-]?[0-9]+)?$'";
const UINT_TEXT: &str = "'^\\\\+?[0-9]+(\\\\.0*)?$'";

/// An id or count, as [`super::extract`] reads one: a non-negative integer,
/// an integral float up to 2^53, or an integer written as text.
fn uint_expr(at: &At, max: Option<u64>) -> String {
    let t = trimmed(at);
    let f = at.float();
    let value = format!(
        "multiIf({}, {}, {} AND {int} >= 0, toUInt64({int}), {} AND {f} >= 0 AND {f} <= {exact} AND floor({f}) = {f}, toUInt64({f}), {} AND match({t}, {UINT_TEXT}), toUInt64OrNull(splitByChar('.', trimLeft({t}, '+'))[1]), NULL)",
        at.is(&[Kind::UInt64]),
        at.uint(),
        at.is(&[Kind::Int64]),
        at.is(&[Kind::Double]),
        at.is(&[Kind::String]),
        int = at.int(),
        exact = super::extract::MAX_EXACT_FLOAT
    );
    match max {
        None => value,
        Some(m) => format!("if({value} <= {m}, toUInt32({value}), NULL)"),
    }
}

/// A finite number, or a number written as text.
fn float_expr(at: &At) -> String {
    let t = trimmed(at);
    let f = at.float();
    format!(
        "multiIf({} AND isFinite({f}), {f}, {} AND match({t}, {NUMBER_TEXT}) AND isFinite(toFloat64OrZero({t})), toFloat64OrNull({t}), NULL)",
        at.is(&Kind::NUMBERS),
        at.is(&[Kind::String])
    )
}

fn words(w: &[&str]) -> String {
    w.iter().map(|x| literal(x)).collect::<Vec<_>>().join(", ")
}

/// A boolean, a number by its truthiness, or one of the reference's words.
fn bool_expr(at: &At) -> String {
    let t = format!("lower({})", trimmed(at));
    let text = at.is(&[Kind::String]);
    format!(
        "multiIf({}, CAST({} AS Bool), {}, CAST({} != 0 AS Bool), {text} AND {t} IN ({}), CAST(1 AS Bool), {text} AND {t} IN ({}), CAST(0 AS Bool), NULL)",
        at.is(&[Kind::Bool]),
        at.bool(),
        at.is(&Kind::NUMBERS),
        at.float(),
        words(&super::extract::TRUE_WORDS),
        words(&super::extract::FALSE_WORDS)
    )
}

/// Python's truthiness of the value at `path`.
fn truthy_expr(path: Path) -> String {
    let at = At::line(path);
    let a = args(path);
    format!(
        "multiIf({}, {} != '', {}, {} != 0, {}, {} = 1, {}, JSONLength({a}) > 0, false)",
        at.is(&[Kind::String]),
        at.string(),
        at.is(&Kind::NUMBERS),
        at.float(),
        at.is(&[Kind::Bool]),
        at.bool(),
        at.is(&[Kind::Array, Kind::Object])
    )
}

fn first<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    match items {
        [one] => f(one),
        many => format!(
            "coalesce({})",
            many.iter().map(f).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The event id: the statement's `id` if it is a string, else the hash of
/// the line.
fn event_id(at: &At) -> String {
    format!(
        "if({}, {}, lower(hex(SHA256(json))))",
        at.is(&[Kind::String]),
        at.string()
    )
}

fn timestamp(at: &At) -> String {
    format!("parseDateTime64BestEffort({}, 6, 'UTC')", at.string())
}

/// The ClickHouse expression of a column over the line alone (`json
/// String`, `_path`): JSON functions only.
pub fn expr(col: &Column) -> String {
    let line = |paths: &[Path], f: &dyn Fn(&At) -> String| first(paths, |p| f(&At::line(p)));
    match col.rule {
        Rule::EventId => event_id(&At::line(&["id"])),
        Rule::Text(paths) => first(paths, |p| text_expr(p)),
        Rule::UInt64(paths) => line(paths, &|at| uint_expr(at, None)),
        Rule::UInt32(paths) => line(paths, &|at| uint_expr(at, Some(u64::from(u32::MAX)))),
        Rule::Float(paths) => line(paths, &float_expr),
        Rule::Bool(path) => bool_expr(&At::line(path)),
        Rule::Count(path) => {
            let a = args(path);
            format!(
                "if(JSONType({a}) = 'Array', toUInt32(JSONLength({a})), {})",
                uint_expr(&At::line(path), Some(u64::from(u32::MAX)))
            )
        }
        Rule::Response => {
            let input: Path = &["result", "response", "input"];
            format!(
                "if(JSONType(json, 'result', 'response') = 'Object' AND {}, {}, {})",
                truthy_expr(input),
                text_expr(input),
                text_expr(&["result", "response"])
            )
        }
        Rule::Timestamp => timestamp(&At::line(&["timestamp"])),
        Rule::Verb => At::line(&["verb", "id"]).string(),
        Rule::SourceFile => String::from("concat('s3://', _path)"),
    }
}

/// `read` of the extraction's `leaves`, or `line` where one of them is
/// [`odd`].
fn guarded(leaves: &[String], line: String, read: &dyn Fn(&At) -> String) -> String {
    let odd_leaf: Vec<String> = leaves.iter().map(|d| odd(d)).collect();
    format!(
        "if({}, {line}, {})",
        odd_leaf.join(" OR "),
        first(leaves, |d| read(&At::Leaf(d.clone())))
    )
}

/// The expression of a column over the line and its extraction `doc`
/// (see [`doc`]): the same value as [`expr`], read from `doc` where it
/// holds the column's members, from the line where a leaf is [`odd`].
pub fn doc_expr(col: &'static Column, doc: &Doc) -> String {
    let (paths, leaf) = doc::members(&col.rule);
    let Some(leaves) = doc.leaves(paths, leaf).filter(|l| !l.is_empty()) else {
        return expr(col);
    };
    let read: &dyn Fn(&At) -> String = match col.rule {
        // The text leaf is the text rule's value.
        Rule::Text(_) => return first(&leaves, String::clone),
        Rule::EventId => &event_id,
        Rule::UInt64(_) => &|at| uint_expr(at, None),
        Rule::UInt32(_) => &|at| uint_expr(at, Some(u64::from(u32::MAX))),
        Rule::Float(_) => &float_expr,
        Rule::Bool(_) => &bool_expr,
        Rule::Timestamp => &timestamp,
        Rule::Verb => &At::string,
        Rule::Count(_) | Rule::Response | Rule::SourceFile => return expr(col),
    };
    guarded(&leaves, expr(col), read)
}

/// `JSONExtractString` of `path`, from the extraction where it holds it.
fn doc_string(doc: &Doc, path: Path) -> String {
    let line = At::line(path).string();
    match doc.leaf(path, Leaf::Any) {
        Some(d) => guarded(&[d], line, &At::string),
        None => line,
    }
}

/// The classification rule as an expression yielding the category name.
fn category_expr(doc: &Doc) -> String {
    let verb = doc_string(doc, &["verb", "id"]);
    let kind = doc_string(doc, &["object", "definition", "type"]);
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

/// Lines both paths load: JSON objects whose members have the structure
/// the columns read ([`super::check::CONTAINERS`]), with a timestamp in
/// the accepted form ([`super::time`]). A valid line is an object exactly
/// when it starts with `{` (lines are trimmed of JSON's own whitespace).
fn loadable_expr(doc: &Doc) -> String {
    let ts = doc_string(doc, &["timestamp"]);
    let shapes: String = super::check::CONTAINERS
        .iter()
        .map(|p| format!(" AND JSONType({}) IN ('Object', 'Null')", args(p)))
        .collect();
    format!(
        "startsWith(json, '{{') AND isValidJSON(json){shapes} AND match({ts}, '^(19|2[0-2])\\\\d\\\\d-\\\\d\\\\d-\\\\d\\\\dT([01]\\\\d|2[0-3]):[0-5]\\\\d:[0-5]\\\\d(\\\\.\\\\d+)?(Z|[+-]([01]\\\\d|2[0-3]):[0-5]\\\\d)?$') AND parseDateTime64BestEffortOrNull({ts}, 6, 'UTC') IS NOT NULL"
    )
}

/// How ClickHouse authenticates to S3.
#[derive(Debug, Clone, Copy)]
pub enum S3Auth<'a> {
    /// A named collection defined on the server (preferred: no secret in
    /// any query).
    NamedCollection(&'a str),
    /// The server's own credentials (instance role, environment).
    Server,
    /// Anonymous (public buckets, local test servers).
    NoSign,
    /// Keys in the query text. Lambda credentials are temporary, so the
    /// session token is required with them.
    Keys {
        access_key_id: &'a str,
        secret_access_key: &'a str,
        session_token: Option<&'a str>,
    },
}

/// The `s3(...)` table function reading `url` (a URL, globs allowed) one
/// line per row; with a cluster, `s3Cluster(...)`, which hands the files
/// out to every node and streams their lines back to the one running the
/// query. Lines, not `JSONAsString`: that format finds objects by
/// matching braces, so one broken line (`{not json`) swallows the
/// statements after it, where the in-process path loses only that line.
pub fn s3_function(url: &str, auth: &S3Auth<'_>, cluster: Option<&str>, redact: bool) -> String {
    let secret = |s: &str| {
        if redact {
            String::from("'[HIDDEN]'")
        } else {
            literal(s)
        }
    };
    let (func, first) = match cluster {
        Some(c) => ("s3Cluster", format!("{}, ", literal(c))),
        None => ("s3", String::new()),
    };
    let fmt = "'LineAsString', 'line String'";
    let args = match auth {
        S3Auth::NamedCollection(name) => format!(
            "{}, url = {}, format = 'LineAsString', structure = 'line String'",
            ident(name),
            literal(url)
        ),
        S3Auth::Server => format!("{}, {fmt}", literal(url)),
        S3Auth::NoSign => format!("{}, NOSIGN, {fmt}", literal(url)),
        S3Auth::Keys {
            access_key_id,
            secret_access_key,
            session_token,
        } => match session_token {
            Some(t) => format!(
                "{}, {}, {}, {}, {fmt}",
                literal(url),
                secret(access_key_id),
                secret(secret_access_key),
                secret(t)
            ),
            None => format!(
                "{}, {}, {}, {fmt}",
                literal(url),
                secret(access_key_id),
                secret(secret_access_key)
            ),
        },
    };
    format!("{func}({first}{args})")
}

/// Settings of every server-side read.
const READ_SETTINGS: &str = "s3_skip_empty_files = 1";

/// The non-blank lines of `s3`, trimmed like [`super::trim_line`], as `json`
/// with the object's `_path`.
fn lines(s3: &str) -> String {
    let mut trim = String::new();
    for c in super::LINE_TRIM {
        match c {
            '\t' => trim.push_str("\\t"),
            '\r' => trim.push_str("\\r"),
            c => trim.push(c),
        }
    }
    format!("(SELECT trimBoth(line, '{trim}') AS json, _path FROM {s3} WHERE json != '')")
}

/// The one read of a server-side load: every non-blank line of `source`
/// into a staging table, judged once (`category` is `invalid` for a line
/// neither path loads, else the classification; `verb` is kept for the
/// unknown ones). The five inserts and the summary then read this table,
/// so the files are fetched once and the loadability and classification
/// expressions run once per line instead of once per table.
///
/// Memory engine: the stage lives for one chunk of files
/// (`files_per_query`) and is dropped after it; nothing is written to disk
/// twice.
pub fn stage_create(target: &Target<'_>, stage: &str, source: &str) -> String {
    let doc = Doc::new();
    format!(
        "CREATE TABLE {} ENGINE = Memory AS\nSELECT json, _path AS source_path, doc, if({}, {}, 'invalid') AS category, if(category = 'unknown', {}, '') AS verb\nFROM (SELECT json, _path, {} AS doc FROM {})\nSETTINGS {READ_SETTINGS}, {EXTRACT_SETTINGS}",
        stage_table(target, stage),
        loadable_expr(&doc),
        category_expr(&doc),
        doc_string(&doc, &["verb", "id"]),
        doc.extract(),
        lines(source)
    )
}

/// The staging table's qualified name.
pub fn stage_table(target: &Target<'_>, stage: &str) -> String {
    format!("{}.{}", ident(target.database), ident(stage))
}

/// `DROP` of a staging table (also of one a failed load left behind).
pub fn stage_drop(target: &Target<'_>, stage: &str) -> String {
    stages_drop(target, &[stage])
}

/// One `DROP` of several staging tables.
pub fn stages_drop(target: &Target<'_>, stages: &[&str]) -> String {
    let names: Vec<String> = stages.iter().map(|s| stage_table(target, s)).collect();
    format!("DROP TABLE IF EXISTS {}", names.join(", "))
}

/// Per (object, category, verb): how many statements the stage holds
/// (`verb` is empty except for unknown ones; `invalid` counts the
/// unloadable lines).
pub fn stage_summary(target: &Target<'_>, stage: &str) -> String {
    format!(
        "SELECT source_path, category, verb, count() AS statements\nFROM {}\nGROUP BY source_path, category, verb\nORDER BY source_path, category, verb",
        stage_table(target, stage)
    )
}

/// The rows of one category, computed once for a whole chunk into a
/// table of their own (`<stage>_<category>`): the expressions are those of
/// [`doc_expr`], which compute what [`super::extract`] computes, and the
/// engine plans them once per chunk rather than once per object.
pub fn stage_rows_create(target: &Target<'_>, c: Category, stage: &str) -> String {
    let doc = Doc::new();
    let exprs = columns(c)
        .iter()
        .map(|col| format!("{} AS {}", doc_expr(col, &doc), ident(col.name)))
        .collect::<Vec<_>>()
        .join(",\n  ");
    format!(
        "CREATE TABLE {} ENGINE = Memory AS\nSELECT source_path,\n  {exprs}\nFROM (SELECT json, doc, source_path, source_path AS _path FROM {} WHERE category = {})",
        stage_table(target, &rows_stage(c, stage)),
        stage_table(target, stage),
        literal(c.as_str())
    )
}

/// The name of a category's row stage.
pub fn rows_stage(c: Category, stage: &str) -> String {
    format!("{stage}_{}", c.as_str())
}

/// `INSERT INTO <table>` of one object's rows (`path` as the server names
/// it, `bucket/key`) from the category's row stage, so each insert's
/// deduplication token is about one object only.
pub fn stage_insert(
    target: &Target<'_>,
    c: Category,
    stage: &str,
    path: &str,
    dedup_token: Option<&str>,
) -> String {
    let names = columns(c)
        .iter()
        .map(|c| ident(c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let token = dedup_token
        .map(|t| format!("\nSETTINGS insert_deduplication_token = {}", literal(t)))
        .unwrap_or_default();
    format!(
        "INSERT INTO {} ({names})\nSELECT {names}\nFROM {} WHERE source_path = {}{token}",
        target.table(c),
        stage_table(target, &rows_stage(c, stage)),
        literal(path)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(ident("a`b"), "`a\\`b`");
        assert_eq!(literal("it's \\ x"), "'it\\'s \\\\ x'");
    }

    #[test]
    fn keys_are_hidden_when_redacted() {
        let auth = S3Auth::Keys {
            access_key_id: "AKID",
            secret_access_key: "SECRET",
            session_token: Some("TOKEN"),
        };
        let shown = s3_function("https://b.s3.amazonaws.com/k.jsonl", &auth, None, true);
        assert!(
            !shown.contains("SECRET") && !shown.contains("TOKEN") && !shown.contains("AKID"),
            "{shown}"
        );
        assert!(s3_function("u", &auth, None, false).contains("'TOKEN'"));
        let spread = s3_function("u", &S3Auth::NamedCollection("nc"), Some("c1"), false);
        assert_eq!(
            spread,
            "s3Cluster('c1', `nc`, url = 'u', format = 'LineAsString', structure = 'line String')"
        );
    }

    #[test]
    fn one_read_then_inserts_from_the_stage() {
        let t = Target {
            database: "x",
            cluster: None,
        };
        let create = stage_create(&t, "st", "s3('u', NOSIGN, 'LineAsString', 'line String')");
        assert_eq!(create.matches("s3(").count(), 1, "{create}");
        assert!(create.starts_with("CREATE TABLE `x`.`st` ENGINE = Memory AS"));
        // One typed extraction per line, kept in the stage for the inserts.
        assert_eq!(
            create.matches("JSONExtract(json, 'Tuple(").count(),
            1,
            "{create}"
        );
        assert!(create.contains(" AS doc FROM ") && create.contains(EXTRACT_SETTINGS));
        for c in Category::LOADED {
            let insert = stage_insert(&t, c, "st", "b/k", Some("tok"));
            assert!(!insert.contains("s3("), "{insert}");
            assert!(
                insert.contains(&format!(
                    "FROM `x`.`st_{}` WHERE source_path = 'b/k'",
                    c.as_str()
                )),
                "{insert}"
            );
            assert!(insert.ends_with("insert_deduplication_token = 'tok'"));
            assert!(!insert.contains("json"), "a projection: {insert}");
            let rows = stage_rows_create(&t, c, "st");
            assert!(
                rows.contains(&format!("FROM `x`.`st` WHERE category = '{}'", c.as_str())),
                "{rows}"
            );
            assert!(rows.contains("SELECT json, doc, source_path, source_path AS _path"));
            assert!(!rows.contains("JSONExtract(json, 'Tuple("), "{rows}");
        }
        assert!(stage_summary(&t, "st").contains("FROM `x`.`st`"));
        assert_eq!(stage_drop(&t, "st"), "DROP TABLE IF EXISTS `x`.`st`");
    }

    #[test]
    fn columns_read_the_extraction_and_the_line_where_a_leaf_is_odd() {
        let doc = Doc::new();
        let mut from_doc = 0;
        for c in Category::LOADED {
            for col in columns(c) {
                let e = doc_expr(col, &doc);
                if !e.contains("tupleElement(doc") {
                    assert_eq!(e, expr(col), "{}", col.name);
                    continue;
                }
                from_doc += 1;
                match col.rule {
                    // The text leaf is the value: no JSON function at all.
                    Rule::Text(_) => assert!(!e.contains("json"), "{}: {e}", col.name),
                    _ => assert!(
                        e.starts_with("if((dynamicType(") && e.contains(&expr(col)),
                        "{}: {e}",
                        col.name
                    ),
                }
            }
        }
        assert!(from_doc > 60, "{from_doc}");
        // Members under one not required to be an object stay on the line.
        let title = columns(Category::Video)
            .iter()
            .find(|c| c.name == "video_title")
            .unwrap();
        assert_eq!(doc_expr(title, &doc), expr(title));
    }

    #[test]
    fn ddl_has_five_tables() {
        let single = ddl(&Target {
            database: "xapi",
            cluster: None,
        });
        assert_eq!(single.len(), 6);
        assert!(
            single[1].contains("ENGINE = ReplacingMergeTree")
                && single[1].contains("`video_events`")
        );
        let cluster = ddl(&Target {
            database: "xapi",
            cluster: Some("c1"),
        });
        assert_eq!(cluster.len(), 11);
        assert!(
            cluster[1].contains("ReplicatedReplacingMergeTree")
                && cluster[2].contains("Distributed('c1', 'xapi', 'video_events_local'")
        );
    }
}
