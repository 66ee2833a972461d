use super::*;

#[test]
fn lines_follow_universal_newlines() {
    let got: Vec<(u64, &[u8])> = lines(b"a\r\nb\rc\n\nd").collect();
    assert_eq!(
        got,
        vec![
            (1, &b"a"[..]),
            (2, &b"b"[..]),
            (3, &b"c"[..]),
            (4, &b""[..]),
            (5, &b"d"[..])
        ]
    );
    assert_eq!(lines(b"x\n").count(), 1);
    assert_eq!(lines(b"").count(), 0);
}

/// The word-at-a-time search finds what a byte-at-a-time one finds, for
/// every place of a `\n` or `\r` (or both, or neither) in lines of every
/// length up to three words, among bytes that differ from them by one bit.
#[test]
fn line_end_finds_the_first_line_break() {
    let slow = |s: &[u8]| s.iter().position(|b| *b == b'\n' || *b == b'\r');
    for len in 0..24 {
        for fill in [b'a', 0x0b, 0x0c, 0x0e, 0x8a, 0x8d, 0xff, 0] {
            let mut s = vec![fill; len];
            assert_eq!(line_end(&s), slow(&s));
            for at in 0..len {
                for stop in [b'\n', b'\r'] {
                    s[at] = stop;
                    assert_eq!(line_end(&s), slow(&s), "{s:?}");
                    for later in at + 1..len {
                        s[later] = b'\n' ^ b'\r' ^ stop;
                        assert_eq!(line_end(&s), slow(&s), "{s:?}");
                        s[later] = fill;
                    }
                    s[at] = fill;
                }
            }
        }
    }
}

const EXAMPLES: &str = include_str!("../../../../testdata/xapi/examples.jsonl");
const EXTRA: &str = include_str!("../../../../testdata/xapi/examples-extra.jsonl");

fn prov() -> Provenance<'static> {
    Provenance {
        file: "s3://b/section/1/a.jsonl",
        etag: Some("abc"),
    }
}

fn get<'a>(d: &'a Derived, name: &str) -> &'a Cell {
    &d.raw[RAW.iter().position(|c| c.name == name).expect(name)]
}

fn text(s: &str) -> Cell {
    Cell::Text(s.into())
}

fn derive_ok(line: &str) -> Derived {
    derive(line.as_bytes(), &prov(), 1, &Limits::default())
        .unwrap_or_else(|p| panic!("{p}: {line}"))
}

/// The rows the spec's table lists for the five examples (xapi-etl.md §8).
#[test]
fn the_examples_give_the_reference_rows() {
    let l: Vec<&str> = EXAMPLES.lines().collect();
    let video = derive_ok(l[0]);
    assert_eq!(video.event_type, Category::Video);
    assert_eq!(
        video.event_hash(),
        "cf7d110ed1ff870ef2852fe7f75ebd9ed70f31cdf3e369f7e63d5bf6a8c2e1e2"
    );
    for (name, want) in [
        ("user_id", text("15474")),
        ("home_page", text("proton.oli.cmu.edu")),
        ("section_id", Cell::UInt(2161)),
        ("project_id", Cell::UInt(1719)),
        ("publication_id", Cell::UInt(8625)),
        ("enrollment_id", Cell::Null),
        ("page_id", Cell::Null),
        ("page_attempt_number", Cell::UInt(1)),
        ("content_element_id", text("3210567890")),
        (
            "video_url",
            text("https://cdn.example.edu/media/intro-to-chemistry.mp4"),
        ),
        ("video_time", Cell::Float(18.25)),
        ("video_length", Cell::Float(98.5)),
        ("video_progress", Cell::Float(0.18527918781725888)),
        ("video_played_segments", text("0[.]18.25")),
        ("verb_id", text("https://w3id.org/xapi/video/verbs/paused")),
        ("event_type", text("video")),
        ("timestamp", Cell::Timestamp(1_759_849_445_123)),
        ("source_file", text("s3://b/section/1/a.jsonl")),
        ("source_etag", text("abc")),
        ("source_line", Cell::UInt(1)),
        ("success", Cell::Null),
    ] {
        assert_eq!(get(&video, name), &want, "{name}");
    }
}

#[test]
fn the_other_examples_give_the_reference_rows() {
    let l: Vec<&str> = EXAMPLES.lines().collect();
    let activity = derive_ok(l[1]);
    assert_eq!(activity.event_type, Category::ActivityAttempt);
    for (name, want) in [
        ("score", Cell::Float(1.0)),
        ("out_of", Cell::Float(2.0)),
        ("scaled_score", Cell::Float(0.5)),
        ("success", Cell::Bool(true)),
        ("completion", Cell::Bool(true)),
        ("page_id", Cell::UInt(81181)),
        ("activity_id", Cell::UInt(80772)),
        ("activity_revision_id", Cell::UInt(388148)),
        ("video_url", Cell::Null),
    ] {
        assert_eq!(get(&activity, name), &want, "{name}");
    }
    let viewed = derive_ok(l[3]);
    assert_eq!(viewed.event_type, Category::PageViewed);
    assert_eq!(get(&viewed, "page_sub_type"), &text("basic"));
    assert_eq!(
        viewed.event_hash(),
        "08c3447ace5d7ac8f1d9665cc0dfe6ea4613bb49e0f5edc4d9d000d5265435bb"
    );
    // 13:30:02.418775 truncated to the millisecond.
    assert_eq!(
        get(&viewed, "timestamp"),
        &Cell::Timestamp(1_747_834_202_418)
    );
    let part = derive_ok(l[4]);
    for (name, want) in [
        ("response", text(".138")),
        (
            "feedback",
            text(
                r#"{"id": "2475577451", "content": [{"id": "8vynyuekul3yctz", "type": "p", "children": [{"text": "Incorrect. Check the units."}]}]}"#,
            ),
        ),
        ("hints_requested", Cell::UInt(0)),
        ("attached_objectives", text("[120498]")),
        ("part_id", text("132824041")),
        ("session_id", text("70a20ff3-1373-4fe1-af64-59774295d22e")),
    ] {
        assert_eq!(get(&part, name), &want, "{name}");
    }
    // The tutor message is kept, with its ids.
    let tutor = derive_ok(EXTRA.lines().nth(3).unwrap());
    assert_eq!(tutor.event_type, Category::Unknown);
    assert_eq!(get(&tutor, "event_type"), &text("unknown"));
    assert_eq!(get(&tutor, "page_id"), &Cell::UInt(81181));
    assert_eq!(
        get(&tutor, "activity_attempt_guid"),
        &text("c282871f-9253-4f73-af64-45794c024a95")
    );
}

fn with(ext: &str) -> String {
    format!(
        r#"{{"verb":{{"id":"http://adlnet.gov/expapi/verbs/completed"}},"object":{{"definition":{{"type":"http://adlnet.gov/expapi/activities/question"}}}},"context":{{"extensions":{{{ext}}}}},"timestamp":"2025-01-01T00:00:00Z"}}"#
    )
}

#[test]
fn coercions_and_the_problems_that_fail_an_object() {
    let section = |v: &str| {
        let line = with(&format!(
            r#""http://oli.cmu.edu/extensions/section_id":{v}"#
        ));
        derive(line.as_bytes(), &prov(), 1, &Limits::default())
            .map(|d| get(&d, "section_id").clone())
    };
    assert_eq!(section("12.7"), Ok(Cell::UInt(12)));
    assert_eq!(section(r#""12.7""#), Ok(Cell::UInt(12)));
    assert_eq!(section("true"), Ok(Cell::UInt(1)));
    assert_eq!(section(r#""1e3""#), Ok(Cell::Null));
    assert_eq!(section(r#""""#), Ok(Cell::Null));
    assert_eq!(section("18446744073709551615"), Ok(Cell::UInt(u64::MAX)));
    for bad in ["-1", r#""-3""#, "18446744073709551616", "1e300"] {
        let p = section(bad).unwrap_err();
        assert_eq!(p.code, "int_range", "{bad}");
        assert!(p.field.ends_with("section_id"), "{p}");
    }
    let hints = |v: &str| {
        let line = with(&format!(
            r#""http://oli.cmu.edu/extensions/hints_requested":{v}"#
        ));
        derive(line.as_bytes(), &prov(), 1, &Limits::default())
            .map(|d| get(&d, "hints_requested").clone())
    };
    assert_eq!(hints("[1,2,3]"), Ok(Cell::UInt(3)));
    assert_eq!(hints("2.9"), Ok(Cell::UInt(2)));
    assert!(hints("4294967296").is_err());
    // Containers: a truthy wrong type fails, a falsy one reads as empty.
    let fails = |line: &str| derive(line.as_bytes(), &prov(), 1, &Limits::default()).err();
    assert_eq!(
        fails(r#"{"verb":"played"}"#).unwrap().code,
        "container_type"
    );
    assert!(fails(r#"{"result":[],"context":null,"verb":0}"#).is_none());
    assert_eq!(fails(r#"[1]"#).unwrap().code, "not_object");
    assert_eq!(fails("   ").unwrap().code, "json_invalid");
    assert_eq!(fails(r#"{"a":NaN}"#).unwrap().code, "json_invalid");
    assert_eq!(fails(r#"{"a":"\ud800"}"#).unwrap().code, "json_invalid");
    let not_utf8 = derive(b"{\"a\":\"\xff\"}", &prov(), 1, &Limits::default());
    assert_eq!(not_utf8.unwrap_err().code, "not_utf8");
    assert_eq!(
        fails(r#"{"timestamp":"yesterday"}"#).unwrap().code,
        "timestamp_invalid"
    );
    assert_eq!(
        fails(r#"{"object":{"definition":{"subType":{"a":1}}}}"#)
            .unwrap()
            .code,
        "subtype_type"
    );
    // A missing or non-text timestamp is the 1970 default.
    let d = derive_ok(r#"{"timestamp":5}"#);
    assert_eq!(get(&d, "timestamp"), &Cell::Null);
    assert_eq!(get(&d, "verb_id"), &text(""));
    // The hash is of the bytes as read: spaces included.
    let spaced = derive_ok(r#"  {"timestamp":null}  "#);
    assert_eq!(
        spaced.event_hash(),
        crate::xapi::sha256_hex(br#"  {"timestamp":null}  "#)
    );
    // A verb with spaces is `unknown` on the raw row.
    let d = derive_ok(r#"{"verb":{"id":" https://w3id.org/xapi/video/verbs/played"}}"#);
    assert_eq!(d.event_type, Category::Unknown);
}

#[test]
fn user_response_and_first_truthy_rules() {
    let d = derive_ok(
        r#"{"actor":{"account":{"name":0},"mbox":"mailto:a@b"},"result":{"response":{"input":""},"extensions":{"https://w3id.org/xapi/video/extensions/length":0}},"context":{"extensions":{"https://w3id.org/xapi/video/extensions/length":"0"}}}"#,
    );
    assert_eq!(get(&d, "user_id"), &text("mailto:a@b"));
    assert_eq!(get(&d, "response"), &text(r#"{"input": ""}"#));
    // 0 falls through; the text "0" is truthy.
    assert_eq!(get(&d, "video_length"), &Cell::Float(0.0));
    let d = derive_ok(r#"{"result":{"response":true,"success":"yes","completion":"maybe"}}"#);
    assert_eq!(get(&d, "response"), &text("True"));
    assert_eq!(get(&d, "success"), &Cell::Bool(true));
    assert_eq!(get(&d, "completion"), &Cell::Null);
}

/// A part attempt with one reward attribution, in the shape of upstream's
/// experiment fixture (our own values).
pub const ATTRIBUTED: &str = r#"{"timestamp":"2026-07-14T12:00:00Z","verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://x/parts/p1","definition":{"type":"http://adlnet.gov/expapi/activities/question"}},"actor":{"account":{"name":"42","homePage":"https://x"}},"result":{"score":{"raw":1.0,"max":1}},"context":{"extensions":{"http://oli.cmu.edu/extensions/section_id":7,"http://oli.cmu.edu/extensions/experiment_attributions":[{"role":"reward","attribution_type":"reward","key":" rk-1 ","experiment_id":101,"experiment_uuid":" u-1 ","condition_id":"303","assignment_id":404.9,"enrollment_id":505,"assigned_by_policy":"ts","reward_value":0,"assignment_scope":"section_enrollment"},"not an object",{"role":"rollup","attribution_type":"outcome","key":"rk-2","algorithm":"  ","assignment_scope":""}]}}}"#;

#[test]
fn attributions_follow_section_6() {
    let d = derive_ok(ATTRIBUTED);
    assert_eq!(d.attributions.len(), 2, "the string element is skipped");
    let a = |row: usize, name: &str| {
        d.attributions[row][attribution::COLUMNS
            .iter()
            .position(|c| c.name == name)
            .expect(name)]
        .clone()
    };
    let hash = crate::xapi::sha256_hex(format!("{}:rk-1", d.event_hash()).as_bytes());
    assert_eq!(a(0, "attribution_hash"), text(&hash));
    assert_eq!(a(0, "raw_event_hash"), text(d.event_hash()));
    assert_eq!(a(0, "raw_event_type"), text("part_attempt"));
    assert_eq!(a(0, "experiment_uuid"), text("u-1"));
    assert_eq!(a(0, "condition_id"), Cell::UInt(303));
    assert_eq!(a(0, "assignment_id"), Cell::UInt(404));
    assert_eq!(
        a(0, "section_id"),
        Cell::Null,
        "ids come from the attribution"
    );
    assert_eq!(a(0, "enrollment_id"), Cell::UInt(505));
    assert_eq!(a(0, "algorithm"), text("ts"));
    assert_eq!(a(0, "reward_value"), Cell::Float(0.0));
    assert_eq!(a(0, "assignment_scope"), text("section_enrollment"));
    assert_eq!(a(0, "source_file"), text("s3://b/section/1/a.jsonl"));
    assert_eq!(a(0, "timestamp"), Cell::Timestamp(1_784_030_400_000));
    assert_eq!(a(1, "algorithm"), Cell::Null);
    assert_eq!(a(1, "assignment_scope"), text("intervention"));
    assert_eq!(a(1, "reward_value"), Cell::Null);
    let over = Limits {
        max_attributions: 2,
    };
    let p = derive(ATTRIBUTED.as_bytes(), &prov(), 1, &over).unwrap_err();
    assert_eq!(p.code, "attribution_count");
    assert!(
        p.message.contains("count 3 exceeds configured maximum 2"),
        "{p}"
    );
    let bad_role = ATTRIBUTED.replace(
        r#""attribution_type":"outcome""#,
        r#""attribution_type":"exposure""#,
    );
    assert_eq!(
        derive(bad_role.as_bytes(), &prov(), 1, &Limits::default())
            .unwrap_err()
            .code,
        "attribution_role"
    );
    let no_key = ATTRIBUTED.replace(r#""key":"rk-2""#, r#""key":"""#);
    assert_eq!(
        derive(no_key.as_bytes(), &prov(), 1, &Limits::default())
            .unwrap_err()
            .code,
        "attribution_key"
    );
    let int_time = ATTRIBUTED.replace(r#""2026-07-14T12:00:00Z""#, "1784030400000");
    let d = derive_ok(&int_time);
    assert_eq!(d.attribution_times, attribution::TimeKind::Integer);
    assert_eq!(
        get(&d, "timestamp"),
        &Cell::Null,
        "the raw row reads text only"
    );
    let float_time = ATTRIBUTED.replace(r#""2026-07-14T12:00:00Z""#, "1.5");
    assert!(derive(float_time.as_bytes(), &prov(), 1, &Limits::default()).is_err());
    assert!(
        attribution::TimeKind::Text
            .join(attribution::TimeKind::Integer)
            .is_err()
    );
}
