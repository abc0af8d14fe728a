use super::*;
use crate::model::Status;
use crate::parse::{parse_bytes, FormatChoice};

fn runs(xml: &str) -> Vec<TestRun> {
    parse_bytes(xml.as_bytes(), FormatChoice::Auto)
        .expect("parses")
        .1
        .runs
}

fn cases(xml: &str) -> Vec<Case> {
    runs(xml)
        .into_iter()
        .flat_map(|r| r.suites)
        .flat_map(|s| s.cases)
        .collect()
}

fn statuses(xml: &str) -> Vec<(String, Status)> {
    cases(xml).into_iter().map(|c| (c.name, c.status)).collect()
}

#[test]
fn error_outranks_failure_outranks_skipped() {
    let got = statuses(
        r#"<testsuite>
            <testcase name="all"><skipped/><failure/><error/></testcase>
            <testcase name="fail"><skipped/><failure message="m"/></testcase>
            <testcase name="skip"><skipped/></testcase>
            <testcase name="disabled" status="disabled"><failure/></testcase>
            <testcase name="gtest" status="notrun" result="suppressed"/>
            <testcase name="ok"/>
        </testsuite>"#,
    );
    assert_eq!(
        got,
        [
            ("all".into(), Status::Errored),
            ("fail".into(), Status::Failed),
            ("skip".into(), Status::Skipped),
            ("disabled".into(), Status::Skipped),
            ("gtest".into(), Status::Skipped),
            ("ok".into(), Status::Passed),
        ]
    );
}

#[test]
fn surefire_flaky_and_rerun_elements_are_attempts() {
    let got = cases(
        r#"<testsuite>
            <testcase name="flaky"><flakyFailure message="1st"/><flakyError message="2nd"><stackTrace>trace</stackTrace><system-out>noise</system-out></flakyError></testcase>
            <testcase name="reruns"><failure message="last"/><rerunFailure message="1st"/><rerunError message="2nd"/></testcase>
        </testsuite>"#,
    );
    assert_eq!(got[0].status, Status::Flaky { attempts: 3 });
    assert_eq!(got[0].retries().len(), 2);
    assert_eq!(got[0].retries()[1].trace.as_deref(), Some("trace"));
    assert_eq!(got[1].status, Status::Failed);
    assert_eq!(got[1].problems()[0].message.as_deref(), Some("last"));
    assert_eq!(got[1].retries().len(), 2);
}

#[test]
fn repeated_testcases_fold_only_when_they_are_retries() {
    let got = statuses(
        r#"<testsuite>
            <testcase classname="t" name="rerun"><failure/></testcase>
            <testcase classname="t" name="rerun"/>
            <testcase classname="t" name="param"/>
            <testcase classname="t" name="param"/>
            <testcase classname="t" name="always"><failure/></testcase>
            <testcase classname="t" name="always"><error/></testcase>
            <testcase classname="t" name="located" file="a.py"/>
            <testcase classname="t" name="located" file="a.py"><failure/></testcase>
        </testsuite>"#,
    );
    assert_eq!(
        got,
        [
            ("rerun".into(), Status::Flaky { attempts: 2 }),
            ("param".into(), Status::Passed),
            ("param".into(), Status::Passed),
            ("always".into(), Status::Errored),
            ("located".into(), Status::Flaky { attempts: 2 }),
        ]
    );
}

#[test]
fn the_same_test_in_two_suites_is_two_tests() {
    let got = statuses(
        r#"<testsuites><testsuite name="a"><testcase name="t"><failure/></testcase></testsuite>
           <testsuite name="b"><testcase name="t"/></testsuite></testsuites>"#,
    );
    assert_eq!(
        got,
        [("t".into(), Status::Failed), ("t".into(), Status::Passed)]
    );
}

#[test]
fn nested_suites_flatten_with_joined_names_children_first() {
    let runs = runs(
        r#"<testsuites><testsuite name="outer" time="3"><testcase name="own"/>
             <testsuite name="inner" time="1"><testcase name="deep" time="1"/></testsuite>
           </testsuite></testsuites>"#,
    );
    let names: Vec<&str> = runs[0].suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["outer › inner", "outer"]);
    // Only top-level suites count towards the run's time: nested time is inside the outer's.
    assert_eq!(runs[0].duration(), Duration::from_secs(3));
}

#[test]
fn several_documents_in_one_file_are_several_runs() {
    let xml = "<?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"a\"><testcase name=\"x\"/></testsuite></testsuites>\n\
               <?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"b\"><testcase name=\"y\"><failure/></testcase></testsuite></testsuites>\n";
    let runs = runs(xml);
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1].totals().failed, 1);
}

#[test]
fn text_is_decoded_cleaned_and_kept_only_where_useful() {
    let got = cases(
        "\u{feff}<?xml version=\"1.0\"?>\r\n<testsuite name=\"s\">\r\n\
         <testcase name=\"a &amp; b &#x263A;\" time=\"1,5\"><failure message=\"\u{1b}[31mred\u{1b}[0m\"><![CDATA[line1\r\nline2]]></failure>\
         <system-out>out &lt;here&gt;</system-out><properties><property name=\"k\" value=\"v\"/></properties></testcase>\r\n\
         <testcase name=\"quiet\" time=\"1,234.5\"><system-out>passing output is not kept</system-out></testcase></testsuite>",
    );
    assert_eq!(got[0].name, "a & b ☺");
    assert_eq!(got[0].duration, Some(Duration::from_millis(1500)));
    assert_eq!(got[0].problems()[0].message.as_deref(), Some("red"));
    assert_eq!(got[0].problems()[0].trace.as_deref(), Some("line1\nline2"));
    assert_eq!(got[0].stdout(), Some("out <here>"));
    assert_eq!(got[0].properties(), [("k".to_owned(), "v".to_owned())]);
    assert_eq!(got[1].duration, Some(Duration::from_secs_f64(1234.5)));
    assert_eq!(got[1].stdout(), None);
}

#[test]
fn output_buffers_passed_cases_leave_behind_start_empty_for_the_next_case() {
    let got = cases(
        "<testsuite name=\"s\">\
         <testcase name=\"p1\"><system-out>first passing output</system-out><system-err>err 1</system-err></testcase>\
         <testcase name=\"p2\"><system-out>second</system-out></testcase>\
         <testcase name=\"f\"><failure/><system-out>mine</system-out><system-err>my err</system-err></testcase>\
         <testcase name=\"g\"><system-out>only out</system-out><error/></testcase></testsuite>",
    );
    assert_eq!(
        (got[2].stdout(), got[2].stderr()),
        (Some("mine"), Some("my err"))
    );
    assert_eq!((got[3].stdout(), got[3].stderr()), (Some("only out"), None));
    assert_eq!((got[0].stdout(), got[1].stdout()), (None, None));
}

#[test]
fn long_traces_are_capped_with_a_count_of_what_was_dropped() {
    let trace = "x".repeat(MAX_TRACE_BYTES + 10);
    let got = cases(&format!(
        "<testsuite><testcase name=\"t\"><failure>{trace}</failure></testcase></testsuite>"
    ));
    let kept = got[0].problems()[0].trace.as_deref().unwrap();
    assert!(
        kept.ends_with("… [10 more bytes not kept]"),
        "{}",
        &kept[kept.len() - 40..]
    );
}

#[test]
fn location_comes_from_the_testcase_or_its_failure() {
    let got = cases(
        r#"<testsuite><testcase name="a" file="src/a.rs" line="7"/>
           <testcase name="b"><failure file="b.c" line="12"/></testcase></testsuite>"#,
    );
    assert_eq!(
        got[0].location(),
        Some(&Location {
            file: "src/a.rs".into(),
            line: Some(7)
        })
    );
    assert_eq!(
        got[1].location(),
        Some(&Location {
            file: "b.c".into(),
            line: Some(12)
        })
    );
}

/// One builder serves every case of a file: nothing of a case (problems, file and line, disabled
/// status, properties, the line of a nameless tag) may leak into the next.
#[test]
fn nothing_of_a_case_carries_over_to_the_next() {
    let got = cases(
        r#"<testsuite>
           <testcase name="a" file="a.rs" line="3" status="disabled">
             <properties><property name="k" value="v"/></properties>
             <failure message="m">trace</failure><system-out>out</system-out>
           </testcase>
           <testcase name="b"/>
           <testcase><error/></testcase>
           <testcase name="c"/></testsuite>"#,
    );
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].status, Status::Skipped);
    assert!(got[0].location().is_some());
    for case in [&got[1], &got[3]] {
        assert_eq!(case.status, Status::Passed, "{}", case.name);
        assert!(
            !case.has_details(),
            "{} has {:?}",
            case.name,
            case.details()
        );
    }
    assert_eq!(got[2].status, Status::Errored);
    assert_eq!(got[2].location(), None);
}

#[test]
fn bare_testcase_roots_and_namespaces_are_accepted() {
    assert_eq!(
        statuses("<testcase name=\"lone\"><failure/></testcase>"),
        [("lone".into(), Status::Failed)]
    );
    assert_eq!(
        statuses("<j:testsuite xmlns:j=\"urn:x\"><j:testcase name=\"ns\"/></j:testsuite>"),
        [("ns".into(), Status::Passed)]
    );
}

#[test]
fn seconds_parse_in_every_spelling_writers_use() {
    assert_eq!(parse_seconds("1.5"), Some(Duration::from_millis(1500)));
    assert_eq!(parse_seconds(" 2,25 "), Some(Duration::from_millis(2250)));
    assert_eq!(
        parse_seconds("1,000.5"),
        Some(Duration::from_millis(1_000_500))
    );
    assert_eq!(parse_seconds("-1"), None);
    assert_eq!(parse_seconds("<<computed>>"), None);
    assert_eq!(parse_seconds("NaN"), None);
}

#[test]
fn a_suite_declaring_more_tests_than_memory_holds_still_parses() {
    // Room for the declared tests is made up front, capped: an uncapped reservation for this
    // suite would abort the process (capacity overflow) instead of reading its one test.
    let xml = r#"<testsuite name="s" tests="18446744073709551615"><testcase name="a"/></testsuite>
<testsuite name="t" tests="3"><testcase name="b"/><testcase name="c"/><testcase name="d"/><testcase name="e"/></testsuite>"#;
    let runs = runs(&format!("<testsuites>{xml}</testsuites>"));
    let suites = &runs[0].suites;
    let sizes: Vec<(usize, usize)> = suites
        .iter()
        .map(|s| (s.cases.len(), s.cases.capacity()))
        .collect();
    // A suite that held more tests than it declared grew past its reservation and gave the
    // spare room back when it closed.
    assert_eq!(sizes, [(1, 1), (4, 4)]);
}

/// The tags every case repeats are matched first; where they stand decides nothing else.
#[test]
fn output_elements_count_only_inside_a_case_or_suite() {
    let junit = FormatChoice::Only(crate::parse::Format::Junit);
    let err = parse_bytes(b"<system-out>x</system-out>", junit).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::Unsupported, "{err}");
    assert!(err.message.contains("root element <system-out>"), "{err}");
    let got = cases(
        r#"<testsuite name="s"><system-out>suite</system-out>
            <testcase name="t"><failure><system-out>inside failure</system-out>trace</failure>
            <properties><system-out>nested</system-out></properties>
            <system-out>own</system-out></testcase></testsuite>"#,
    );
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].details().stdout.as_deref(), Some("own"));
    assert_eq!(got[0].problems()[0].trace.as_deref(), Some("trace"));
}

proptest::proptest! {
    /// The filter of a suite's indexed names never answers "no" for a name it was given, so no
    /// retry is missed; names it was not given it mostly turns away.
    #[test]
    fn the_name_filter_keeps_every_name_it_was_given(
        names in proptest::collection::vec("(?s).{0,40}", 1..40),
    ) {
        let mut filter = NameFilter::default();
        for name in &names {
            filter.insert(name);
        }
        for name in &names {
            proptest::prop_assert!(filter.may_contain(name));
        }
    }
}

#[test]
fn the_name_filter_turns_most_other_names_away() {
    let mut filter = NameFilter::default();
    for i in 0..10 {
        filter.insert(&format!("should_fail_{i}"));
    }
    let let_through = (0..1000)
        .filter(|i| filter.may_contain(&format!("checks_something_else_{i}")))
        .count();
    assert!(let_through < 100, "{let_through} of 1000 let through");
}
