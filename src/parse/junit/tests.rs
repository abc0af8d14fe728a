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

/// What one reading gives, errors and diagnostics with their lines included.
type Reading = Result<(Vec<TestRun>, Vec<Diagnostic>), ParseError>;

fn reading(parsed: Result<Parsed, ParseError>) -> Reading {
    parsed.map(|p| (p.runs, p.diagnostics))
}

/// `doc` read once, `step` bytes at a time.
fn read_whole(doc: &[u8], step: usize) -> Reading {
    reading(parse(Scanner::streamed(doc).reading_by(step)))
}

/// `doc` read in parts starting at `cuts` (increasing, each with how it starts), each `step`
/// bytes at a time, and joined; with whether the first part's reading was continued by the
/// second's rather than read on by itself.
fn read_in_parts(doc: &[u8], cuts: &[(usize, PartStart)], step: usize) -> (Reading, bool) {
    let stop = |from: usize, to: Option<&(usize, PartStart)>| {
        to.map_or(NO_STOP, |&(to, next)| Stop {
            at: (to - from) as u64,
            next,
        })
    };
    let first = Part::read(
        Scanner::streamed(doc).reading_by(step),
        None,
        stop(0, cuts.first()),
    );
    let rest: Vec<_> = cuts
        .iter()
        .enumerate()
        .map(|(i, &(cut, start))| {
            Part::read(
                Scanner::streamed(&doc[cut..]).reading_by(step),
                Some(start),
                stop(cut, cuts.get(i + 1)),
            )
        })
        .collect();
    let continued = rest
        .first()
        .is_some_and(|next| first.can_continue_with(next));
    (reading(join(first, rest)), continued)
}

/// Where parts of `doc` may start, in order, and how; `under_run` as for [`part_start`].
fn part_starts(doc: &[u8], under_run: bool) -> Vec<(usize, PartStart)> {
    let mut starts = Vec::new();
    let mut from = 0;
    while let Some((at, start)) = part_start(&doc[from..], under_run) {
        starts.push((from + at, start));
        from += at + 1;
    }
    starts
}

/// Every place a part of `doc` may start: its suites' and its cases' starts.
fn every_part_start(doc: &[u8], under_run: bool) -> Vec<(usize, PartStart)> {
    let mut starts = part_starts(doc, under_run);
    if under_run {
        starts.extend(
            part_starts(doc, false)
                .into_iter()
                .map(|(at, _)| (at, PartStart::Case { under_run })),
        );
        starts.sort_by_key(|(at, start)| (*at, *start == PartStart::Suite));
        starts.dedup();
    }
    starts
}

/// Two documents in one file: top-level suites with and without `time`, a nested suite, unnamed
/// tests (warnings with lines), retries (one across the cases a cut could part), properties,
/// suite output, and markup that looks like a suite's or a case's start inside a comment, a CDATA
/// section and a case.
const PARTS_DOC: &str = r#"<?xml version="1.0"?>
<testsuites name="first" >
  <testsuite name="a" time="1.5"><testcase name="t1" time="0.5"/><testcase classname="" name=""/></testsuite>
  <!-- the suites below: >
  <testsuite name="in a comment"> -->
  <testsuite name="b">
    <properties><property name="k" value="v"/></properties>
    <testcase name="r" file="x.py"><failure message="1st"/></testcase>
    <testcase name="s" time="0.5"/>
    <testcase name="r" file="x.py" time="0.25"/>
    <testcase name="c"><system-out><![CDATA[>
  <testsuite name="in CDATA">>
    <testcase name="in CDATA">]]></system-out><failure>t</failure></testcase>
    <testsuite name="nested"><testcase name="n" time="2"/></testsuite>
  </testsuite>
  <testsuite name="c"><testcase/>
    <testcase name="c2" time="1"/>
    <system-out>suite output</system-out>
  </testsuite>
</testsuites>
<testsuites>
  <testsuite name="d" time="3"><testcase name="d1"/>
    <testcase name="d2"/></testsuite>
  <testsuite name="e"><testcase name="e1" time="0.125"/></testsuite>
</testsuites>
"#;

/// One suite as the root, as pytest wrote it for years: cut only where its cases start.
const ROOT_SUITE_DOC: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<testsuite name="pytest" tests="7" time="4.5">
  <properties><property name="python" value="3.12"/></properties>
  <testcase classname="t.test_a" name="test_one" time="0.5"/>
  <testcase classname="t.test_a" name="test_flaky" file="t/test_a.py" time="0.25"><failure message="1st">AssertionError</failure></testcase>
  <testcase classname="t.test_a" name="test_two" time="0.5"/>
  <testcase classname="t.test_a" name="test_flaky" file="t/test_a.py" time="0.25"/>
  <testcase name=""/>
  <testcase classname="t.test_b" name="test_three" time="1"><skipped message="later"/></testcase>
  <!-- a comment >
  <testcase name="in a comment"> -->
  <testcase classname="t.test_b" name="test_four" time="1"/>
  <properties><property name="late" value="yes"/></properties>
</testsuite>
"#;

/// Joined parts read exactly as one reading of `doc`, cut at every byte as every kind of start,
/// at every pair of places a part may start, and at all of those where parts join: answers
/// those places.
fn assert_parts_read_as_whole(doc: &[u8], under_run: bool) -> Vec<usize> {
    let whole = read_whole(doc, 7);
    let kinds = [
        PartStart::Suite,
        PartStart::Case { under_run: true },
        PartStart::Case { under_run: false },
    ];
    for cut in 1..doc.len() {
        for kind in kinds {
            let (parts, _) = read_in_parts(doc, &[(cut, kind)], 7);
            assert_eq!(parts, whole, "cut at {cut} as {kind:?}");
        }
    }
    let starts = every_part_start(doc, under_run);
    for (i, &a) in starts.iter().enumerate() {
        for &b in &starts[i + 1..] {
            for step in [3, 4096] {
                let (parts, _) = read_in_parts(doc, &[a, b], step);
                assert_eq!(parts, whole, "cuts at {a:?}, {b:?}");
            }
        }
    }
    let joinable: Vec<_> = starts
        .iter()
        .copied()
        .filter(|&start| read_in_parts(doc, &[start], 7).1)
        .collect();
    assert_eq!(read_in_parts(doc, &joinable, 5), (whole, true));
    joinable.into_iter().map(|(at, _)| at).collect()
}

/// Where a top-level suite or a case starts, the part before stops for the next (not after a
/// comment: the scan passes over it and the white space after it in one step), and the parts
/// join unless the later one read what depends on the earlier (a retry of its test, a suite
/// nested in the suite it started inside, that suite's output).
#[test]
fn parts_cut_anywhere_read_as_the_whole_file() {
    let doc = PARTS_DOC.as_bytes();
    let (runs, diagnostics) = read_whole(doc, 7).expect("parses");
    assert_eq!(runs.len(), 2);
    assert_eq!(diagnostics.iter().filter_map(|d| d.line).count(), 2);
    // Not joined: after the comment (185, 223), in the CDATA section (508, 539), in suite b,
    // which nests a suite (306–462), and in suite c, which has output after its cases (726,
    // 737); 617 and 647 are in the nested suite, where no part may start.
    let joinable = assert_parts_read_as_whole(doc, true);
    assert_eq!(joinable, [48, 82, 114, 703, 856, 888, 909, 947, 970]);
}

#[test]
fn parts_of_a_root_suite_read_as_the_whole_file() {
    let doc = ROOT_SUITE_DOC.as_bytes();
    let (runs, _) = read_whole(doc, 7).expect("parses");
    assert_eq!(runs[0].suites[0].cases.len(), 6, "the retry folds");
    // Not joined: between the failed attempt of test_flaky and its retry (354, 416: one reading
    // folds them into one flaky test) and after the comment (639 in it, 676).
    let joinable = assert_parts_read_as_whole(doc, false);
    assert_eq!(joinable, [151, 213, 500, 522]);
}

/// A later part's errors are one reading's, lines included: the file cut off inside the root,
/// and a tag that closes the wrong element.
#[test]
fn errors_after_a_cut_are_the_whole_file_s() {
    let cut_off =
        &PARTS_DOC[..PARTS_DOC.find("\n<testsuites>").unwrap()].replace("</testsuites>", "");
    let mismatched = PARTS_DOC.replace(r#"<testcase name="d1"/>"#, "<testcase></tastcase>");
    for doc in [cut_off.as_str(), mismatched.as_str()] {
        let doc = doc.as_bytes();
        let whole = read_whole(doc, 11);
        assert!(whole.is_err());
        for start in every_part_start(doc, true) {
            assert_eq!(
                read_in_parts(doc, &[start], 11).0,
                whole,
                "cut at {start:?}"
            );
        }
    }
    let c = cut_off.find(r#"  <testsuite name="c">"#).unwrap() - 1;
    let (err, continued) = read_in_parts(cut_off.as_bytes(), &[(c, PartStart::Suite)], 11);
    // The later part read to the end; the root it took as open is the one opened on line 2.
    assert!(continued);
    let message = err.unwrap_err().message;
    assert!(
        message.contains("inside <testsuites> opened at line 2"),
        "{message}"
    );
}

/// Every JUnit report of the corpus reads the same whole and in parts cut where its top-level
/// suites or its cases start (up to 40 places a file).
#[test]
#[allow(clippy::disallowed_methods)]
fn corpus_reports_read_in_parts_as_whole() {
    let mut files = Vec::new();
    crate::parse::scanner::tests::xml_files(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/conformance")
            .as_path(),
        &mut files,
    );
    let (mut read, mut joined) = (0, 0);
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let head = &bytes[..bytes.len().min(crate::parse::DETECT_PREFIX_BYTES)];
        if crate::parse::detect(head, FormatChoice::Auto) != Ok(crate::parse::Format::Junit) {
            continue;
        }
        let under_run = matches!(
            crate::parse::sniff(head),
            crate::parse::Sniffed::Xml { root: Some(root) } if root == "testsuites"
        );
        let whole = read_whole(&bytes, 4096);
        let starts = every_part_start(&bytes, under_run);
        for &start in starts.iter().step_by(starts.len().div_ceil(40).max(1)) {
            let (parts, continued) = read_in_parts(&bytes, &[start], 4096);
            assert_eq!(parts, whole, "{} cut at {start:?}", path.display());
            joined += usize::from(continued);
        }
        read += 1;
    }
    eprintln!("{read} files, {joined} joins");
    assert!(read > 80 && joined > 500, "{read} files, {joined} joins");
}
