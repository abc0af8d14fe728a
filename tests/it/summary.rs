//! The job summary as a person sees it: snapshots of typical runs, and the size guarantee.

use test_report::config::{Config, SummaryTests};
use test_report::github::summary::SUMMARY_MAX_BYTES;
use test_report::http::recording::{block_on, RecordingClient};
use test_report::pipeline::{self, EnvMap, FileReport, Inputs, Outcome};

use crate::support::{corpus, parse_file, parse_str};

fn env() -> EnvMap {
    [
        ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/widgets"),
        ("GITHUB_RUN_ID", "4242"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn outcome(files: Vec<FileReport>, config: Config) -> Outcome {
    let inputs = Inputs {
        config,
        patterns: vec!["reports/**/*.xml".into()],
        files,
        env: env(),
        event: None,
        repo_files: None,
    };
    block_on(pipeline::run(&inputs, &RecordingClient::new())).expect("no requests without services")
}

fn summary(files: Vec<FileReport>, config: Config) -> String {
    outcome(files, config).summary
}

fn corpus_file(path: &str) -> FileReport {
    let mut report = parse_file(&corpus().join(path));
    report.path = path.to_owned();
    report
}

const FAILING: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="unit" time="2.5">
  <testsuite name="com.acme.MathTest" tests="5" failures="1" errors="1" skipped="1" time="2.5">
    <testcase classname="com.acme.MathTest" name="adds" time="0.01"/>
    <testcase classname="com.acme.MathTest" name="divides" time="0.02" file="src/test/java/com/acme/MathTest.java" line="42">
      <failure message="expected:&lt;2&gt; but was:&lt;3&gt;" type="org.opentest4j.AssertionFailedError">org.opentest4j.AssertionFailedError: expected:&lt;2&gt; but was:&lt;3&gt;
	at com.acme.MathTest.divides(MathTest.java:42)</failure>
      <system-out>dividing 6 by 3</system-out>
    </testcase>
    <testcase classname="com.acme.MathTest" name="connects" time="1.2">
      <error message="Connection refused" type="java.net.ConnectException"><![CDATA[java.net.ConnectException: Connection refused
	at com.acme.Db.open(Db.java:10)
	```markdown fence``` inside]]></error>
    </testcase>
    <testcase classname="com.acme.MathTest" name="later" time="0"><skipped message="not ready"/></testcase>
    <testcase classname="com.acme.MathTest" name="retries | pipes" time="0.3">
      <flakyFailure message="timeout" type="Timeout"/>
    </testcase>
  </testsuite>
</testsuites>"#;

#[test]
fn a_passing_run() {
    let files = vec![corpus_file("nextest/fixtures/stress-test-junit.xml")];
    insta::assert_snapshot!(summary(files, Config::default()));
}

#[test]
fn a_failing_run_lists_failures_with_message_and_trace() {
    let files = vec![
        parse_str("reports/unit.xml", FAILING),
        corpus_file("nextest/fixtures/setup-script-junit.xml"),
        parse_str("reports/broken.xml", "<testsuite><testcase name=\"x\">"),
    ];
    let markdown = summary(files, Config::default());
    assert!(markdown.contains("divides"));
    assert!(markdown.contains("Connection refused"));
    insta::assert_snapshot!(markdown);
}

#[test]
fn an_empty_run() {
    let out = outcome(Vec::new(), Config::default());
    assert_eq!(out.exit_code, 2);
    assert!(out
        .failure
        .as_deref()
        .unwrap()
        .contains("no report files match 'reports/**/*.xml'"));
    insta::assert_snapshot!(out.summary);
}

#[test]
fn summary_tests_all_lists_passed_and_skipped_too() {
    let config = Config {
        summary_tests: SummaryTests::All,
        ..Config::default()
    };
    insta::assert_snapshot!(summary(
        vec![parse_str("reports/unit.xml", FAILING)],
        config
    ));
}

/// 30,000 failing tests with 4 KiB traces: about 150 MB of Markdown at full detail.
fn huge_failing_report(tests: usize) -> String {
    let trace = "at com.acme.Deep.frame(Deep.java:1)\n".repeat(110);
    let mut xml = String::from("<testsuite name=\"huge\">");
    for i in 0..tests {
        xml.push_str(&format!(
            "<testcase classname=\"com.acme.Huge\" name=\"test{i}\"><failure message=\"boom {i}\">{trace}</failure></testcase>"
        ));
    }
    xml.push_str("</testsuite>");
    xml
}

#[test]
fn a_huge_run_degrades_in_order_and_stays_under_the_limit() {
    for (tests, expected_note) in [
        (200, None),
        (600, Some("traces are shortened")),
        (4_000, Some("traces are left out")),
        (30_000, Some("only the first tests are listed")),
    ] {
        let files = vec![parse_str("reports/huge.xml", &huge_failing_report(tests))];
        let markdown = summary(files, Config::default());
        assert!(
            markdown.len() <= SUMMARY_MAX_BYTES,
            "{tests} tests: {} bytes",
            markdown.len()
        );
        match expected_note {
            None => assert!(!markdown.contains("[!NOTE]"), "{tests} tests should fit"),
            Some(note) => assert!(markdown.contains(note), "{tests} tests: expected '{note}'"),
        }
        // The totals and the first failure are always there.
        assert!(markdown.contains(&format!("**{tests}** tests")));
        assert!(markdown.contains("test0"));
    }
}

/// Found by rendering summaries with scripts/screenshot-summary.sh: Selenium messages flowed into
/// one paragraph, and NUnit's nested suite chains repeated the class after every test name.
#[test]
fn multi_line_messages_keep_their_lines_and_nested_suites_are_not_repeated() {
    let xml = r#"<testsuite name="Tests.dll › Integration › CartTests"><testcase classname="Acme.CartTests" name="Adds"><failure message="Timed out after 30 seconds&#10;----&gt; no such element&#10;&#10;Session ID: 92de"/></testcase></testsuite>"#;
    let markdown = summary(vec![parse_str("reports/nunit.xml", xml)], Config::default());
    assert!(
        markdown.contains(
            "> Timed out after 30 seconds  \n> ----&gt; no such element\n> \n> Session ID: 92de\n"
        ),
        "{markdown}"
    );
    assert!(
        markdown.contains("❌ **Acme.CartTests.Adds**\n"),
        "{markdown}"
    );
}
