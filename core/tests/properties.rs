//! Property tests: no input panics, normalisation is a fixed point, and
//! file names round-trip.

use eventlog_core::visit::key::{NameSuffix, event_file_name, parse_name};
use eventlog_core::visit::{Action, Datatype, Timestamp, VisitEvent, check_file, validate};
use eventlog_core::xapi::check::check_jsonl;
use proptest::prelude::*;

/// Complete xAPI statements (the examples file), mutated by a property below.
const XAPI_EXAMPLES: &str = include_str!("../../testdata/xapi/examples.jsonl");

fn arb_text(max: usize) -> impl Strategy<Value = String> {
    // Printable text without surrounding whitespace (which normalisation
    // would strip), including non-ASCII.
    proptest::string::string_regex(&format!("[A-Za-z0-9_.:/() éÄ漢-]{{0,{max}}}"))
        .unwrap()
        .prop_map(|s| s.trim().to_string())
}

fn arb_event() -> impl Strategy<Value = VisitEvent> {
    let ids = (
        prop::sample::select(Action::ALL.to_vec()),
        "[a-z]{1,8}",
        any::<i32>(),
        arb_text(30),
        arb_text(20),
        arb_text(20),
        "[!-~]{1,10}",
        prop::option::of(arb_text(12)),
    );
    let rest = (
        (1u32..=9999, 1u32..=12, 1u32..=28),
        prop::option::of(arb_text(4)),
        prop::sample::select(Datatype::ALL.to_vec()),
        prop::option::of(arb_text(8)),
        prop::option::of(arb_text(4)),
        prop::option::of("[A-Z]{2}"),
        -62_135_596_800_000_000i64..=253_402_300_799_999_999i64,
    );
    (ids, rest).prop_map(
        |(
            (action, study, adcid, project, center, gear, ptid, naccid),
            ((y, m, d), vn, datatype, module, packet, modality, micros),
        )| {
            let (module, modality) = if datatype == Datatype::Form {
                (Some(module.unwrap_or_default()), None)
            } else {
                (None, modality)
            };
            VisitEvent {
                action,
                study: study.into(),
                pipeline_adcid: adcid,
                project_label: project.into(),
                center_label: center.into(),
                gear_name: gear.into(),
                ptid: ptid.into(),
                naccid: naccid.map(Into::into),
                visit_date: format!("{y:04}-{m:02}-{d:02}").into(),
                visit_number: vn.map(Into::into),
                datatype,
                module: module.map(Into::into),
                packet: packet.map(Into::into),
                modality: modality.map(Into::into),
                timestamp: Timestamp::from_micros(micros).unwrap(),
            }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let report = check_file(Some("prod/log-submit-20240115-100000-42-p-1-2024-01-15.json"), &bytes);
        prop_assert_eq!(report.valid, report.event.is_some());
        prop_assert_eq!(report.valid, report.errors.is_empty());
    }

    #[test]
    fn json_shaped_input_never_panics(text in r#"[{}\[\]",:0-9a-zA-Z\\ .eE+\-\n\t_]{0,200}"#) {
        let v = validate(text.as_bytes());
        prop_assert_eq!(v.event.is_some(), v.errors.is_empty());
    }

    #[test]
    fn mutated_events_never_panic(e in arb_event(), cut in 0usize..400, junk in "[\\x00-\\x7f]{0,8}") {
        let text = e.to_json();
        let mut cut = cut.min(text.len());
        while !text.is_char_boundary(cut) { cut -= 1; }
        let mutated = format!("{}{}{}", &text[..cut], junk, &text[cut..]);
        let v = validate(mutated.as_bytes());
        prop_assert_eq!(v.event.is_some(), v.errors.is_empty());
    }

    #[test]
    fn xapi_documents_never_panic_and_every_line_is_reported(
        lines in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..80),
                r#"[{}\[\]",:0-9a-z\\ .eE+\-\t_]{0,80}"#.prop_map(String::into_bytes),
                (0usize..2000, "[\\x00-\\x7f]{0,6}").prop_map(|(cut, junk)| {
                    let mut cut = cut.min(XAPI_EXAMPLES.len());
                    while !XAPI_EXAMPLES.is_char_boundary(cut) { cut -= 1; }
                    format!("{}{}{}", &XAPI_EXAMPLES[..cut], junk, &XAPI_EXAMPLES[cut..]).into_bytes()
                }),
            ],
            0..12,
        )
    ) {
        let doc: Vec<u8> = lines.join(&b'\n');
        let (out, tally) = check_jsonl(&doc, Some("f.jsonl"));
        let non_blank = if doc.is_empty() { 0 } else {
            doc.strip_suffix(b"\n").unwrap_or(&doc).split(|b| *b == b'\n')
                .filter(|l| !l.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'))).count()
        };
        prop_assert_eq!(out.lines().count(), non_blank);
        prop_assert_eq!((tally.loadable + tally.unknown + tally.invalid) as usize, non_blank);
        for line in out.lines() {
            prop_assert!(eventlog_core::json::decode(line.as_bytes()).is_ok(), "report line is JSON: {}", line);
        }
    }

    /// File names are outside input too: no name, however odd, may panic
    /// the parser, the reference filter emulation or the cross-check.
    #[test]
    fn hostile_names_never_panic(
        e in arb_event(),
        at in 0usize..120,
        insert in "\\PC{1,4}",
        tail in "\\PC{0,24}",
        ext in prop::sample::select(vec![".json", ".JSON", "", ".json\n", ".jsonl"]),
    ) {
        let name = event_file_name(&e);
        let mut at = at.min(name.len());
        while !name.is_char_boundary(at) { at -= 1; }
        let stem = name.strip_suffix(".json").unwrap_or(&name);
        let at = at.min(stem.len());
        for key in [
            format!("prod/{}{}{}{}", &stem[..at], insert, &stem[at..], ext),
            format!("prod/log-{tail}{ext}"),
            format!("prod/log-submit-20240115-100000-42-p-{tail}{ext}"),
        ] {
            let _ = parse_name(&key);
            let _ = eventlog_core::visit::key::reference_skip_reason(&key);
            let _ = eventlog_core::visit::key::is_event_candidate(&key);
            let report = check_file(Some(&key), e.to_json().as_bytes());
            prop_assert!(report.valid, "{key}: the name never changes the verdict");
        }
    }

    #[test]
    fn normalised_json_revalidates_to_the_same_event(e in arb_event()) {
        let text = e.to_json();
        let again = validate(text.as_bytes());
        prop_assert!(again.errors.is_empty(), "{:?} for {}", again.errors, text);
        prop_assert_eq!(again.event.as_deref(), Some(&e));
        prop_assert_eq!(again.event.unwrap().to_json(), text);
    }

    #[test]
    fn event_names_parse_back(e in arb_event()) {
        // The producer does not sanitise the ptid, and the consumer allows
        // `/` in it: such a name has an extra path segment, by construction.
        prop_assume!(!e.ptid.contains('/'));
        let name = event_file_name(&e);
        let key = format!("prod/{name}");
        let parts = parse_name(&key).unwrap();
        prop_assert_eq!(parts.action, e.action.as_str());
        prop_assert_eq!(parts.stamp, e.timestamp.name_stamp());
        prop_assert_eq!(parts.adcid, e.pipeline_adcid.to_string());
        prop_assert_eq!(parts.project_and_ptid, format!("{}-{}", e.project_label.replace(['/', '\\'], "-"), e.ptid));
        prop_assert_eq!(parts.suffix, NameSuffix::VisitDate(&e.visit_date));
        // And the name agrees with the content it was built from.
        let report = check_file(Some(&key), e.to_json().as_bytes());
        let findings: Vec<_> = report.name_findings.unwrap_or_default().into_iter()
            .filter(|f| f.code != eventlog_core::Code::NameReferenceSkip).collect();
        prop_assert!(findings.is_empty(), "{:?}", findings);
    }
}

#[test]
fn the_ten_sample_files_validate_and_match_their_names() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/visit-events/files");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let key = format!("prod/{}", path.file_name().unwrap().to_str().unwrap());
        let report = check_file(Some(&key), &std::fs::read(&path).unwrap());
        assert!(report.valid, "{key}: {:?}", report.errors);
        assert!(parse_name(&key).is_ok(), "{key}");
        assert_eq!(report.name_findings.as_deref(), Some(&[][..]), "{key}");
        n += 1;
    }
    assert_eq!(n, 10);
}
