//! Annotations as GitHub shows them: placed on the failing line for every language's traces,
//! within GitHub's caps, never dropped without the last line saying so.

use std::path::Path;
use std::process::Command;

use test_report::config::{AnnotationChoice, Config, FailOn};
use test_report::github::annotations::{self, Level};
use test_report::github::repo_path::{RepoPaths, ENV_GITHUB_WORKSPACE};
use test_report::http::recording::{block_on, RecordingClient};
use test_report::pipeline::{self, EnvMap, FileReport, Inputs};

use crate::support::{corpus, parse_file, parse_str};

const WORKSPACE: &str = "/home/runner/work/shop/shop";

fn workspace(path: &str) -> EnvMap {
    EnvMap::from([(ENV_GITHUB_WORKSPACE.to_owned(), path.to_owned())])
}

fn corpus_file(path: &str) -> FileReport {
    let mut report = parse_file(&corpus().join(path));
    report.path = format!("reports/{}", path.rsplit('/').next().unwrap_or(path));
    report
}

fn file_list(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(corpus().join(path)).unwrap();
    text.lines().map(str::to_owned).collect()
}

fn commands(
    files: Vec<FileReport>,
    env: EnvMap,
    repo_files: Option<Vec<String>>,
    config: Config,
) -> Vec<String> {
    let inputs = Inputs {
        config,
        patterns: vec!["reports/*.xml".into()],
        files,
        env,
        repo_files,
        event: None,
    };
    block_on(pipeline::run(&inputs, &RecordingClient::new()))
        .expect("no requests without services")
        .workflow_commands
}

/// (file, line) of each error annotation, in order.
fn placed(
    files: &[FileReport],
    env: &EnvMap,
    repo_files: Option<&[String]>,
) -> Vec<(String, Option<u32>)> {
    let paths = RepoPaths::new(env, None, None, repo_files);
    annotations::collect(files, AnnotationChoice::Failures, &paths)
        .into_iter()
        .filter(|a| a.level == Level::Error)
        .map(|a| (a.file.unwrap_or_default(), a.line))
        .collect()
}

fn at(file: &str, line: u32) -> (String, Option<u32>) {
    (file.to_owned(), Some(line))
}

/// dorny/test-reporter's own expectations for these fixtures (`__snapshots__/*.snap`, `path` and
/// `line` of each error) are the reference: we place every one of them on the same line.
#[test]
fn places_failures_where_dorny_test_reporter_expects_them() {
    let java = "dorny-test-reporter/fixtures/external/java";
    let pulsar = [corpus_file(&format!("{java}/pulsar-test-report.xml"))];
    let files = file_list(&format!("{java}/files.txt"));
    assert_eq!(
        placed(
            &pulsar,
            &workspace("/home/runner/work/pulsar/pulsar"),
            Some(&files)
        ),
        [at(
            "pulsar-common/src/test/java/org/apache/pulsar/AddMissingPatchVersionTest.java",
            29
        )]
    );

    let jest = [corpus_file("dorny-test-reporter/fixtures/jest-junit.xml")];
    let windows = workspace("C:\\Users\\Michal\\Workspace\\dorny\\test-check\\reports\\jest");
    let mut got = placed(&jest, &windows, None);
    got.sort();
    assert_eq!(
        got,
        [
            at("__tests__/main.test.js", 10),
            at("__tests__/main.test.js", 21),
            at("__tests__/second.test.js", 1),
            at("lib/main.js", 2),
        ]
    );

    let external = "dorny-test-reporter/fixtures/external/jest";
    let e2e = [corpus_file(&format!("{external}/jest-test-results.xml"))];
    let files = file_list(&format!("{external}/files.txt"));
    let mut got = placed(&e2e, &workspace("/home/dorny/dorny/jest"), Some(&files));
    got.sort();
    assert_eq!(
        got,
        [
            at("e2e/__tests__/jestChangedFiles.test.ts", 418),
            at("e2e/__tests__/onlyChanged.test.ts", 360)
        ]
    );
}

/// Real traces in JUnit failures, by language: the .NET one from dorny's NUnit fixture, Go's from
/// its `go test -json` fixture, Ruby's from its RSpec fixture (as JUnit writers embed them).
const POLYGLOT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="DotnetTests.XUnitTests.CalculatorTests">
    <testcase classname="DotnetTests.XUnitTests.CalculatorTests" name="Exception_In_TargetTest">
      <failure message="System.DivideByZeroException : Attempted to divide by zero.">   at DotnetTests.Unit.Calculator.Div(Int32 a, Int32 b) in C:\Users\Michal\Workspace\dorny\test-reporter\reports\dotnet\DotnetTests.Unit\Calculator.cs:line 9
   at DotnetTests.XUnitTests.CalculatorTests.Exception_In_TargetTest() in C:\Users\Michal\Workspace\dorny\test-reporter\reports\dotnet\DotnetTests.NUnitV3Tests\CalculatorTests.cs:line 33</failure>
    </testcase>
  </testsuite>
  <testsuite name="github.com/dorny/test-reporter/reports/go">
    <testcase classname="github.com/dorny/test-reporter/reports/go" name="TestFailing">
      <failure message="Failed">calculator_test.go:19: expected 1+1 = 3, got 2
</failure>
    </testcase>
  </testsuite>
  <testsuite name="CheckEnvVars#call">
    <testcase classname="CheckEnvVars#call when all env vars are defined behaves like success load" name="fails in assertion">
      <failure message="(#ActiveSupport::BroadcastLogger:0x00007f1007fedf58).debug(&quot;All config env vars exist&quot;)">/usr/local/bundle/ruby/3.3.0/gems/net-http-0.4.1/lib/net/http.rb:1603:in `initialize'
./config/check_env_vars.rb:11:in `call'
./spec/config/check_env_vars_spec.rb:7:in `block (3 levels) in &lt;top (required)&gt;'</failure>
    </testcase>
  </testsuite>
</testsuites>"#;

struct Section {
    title: &'static str,
    files: Vec<FileReport>,
    workspace: &'static str,
    repo_files: Option<Vec<String>>,
}

#[test]
fn annotation_lines_for_failures_in_several_languages() {
    let java = "dorny-test-reporter/fixtures/external/java";
    let sections = [
        Section {
            title: "Java (TestNG, Apache Pulsar), with the checkout's file list",
            files: vec![corpus_file(&format!("{java}/pulsar-test-report.xml"))],
            workspace: "/home/runner/work/pulsar/pulsar",
            repo_files: Some(file_list(&format!("{java}/files.txt"))),
        },
        Section {
            title: "JavaScript (Jest on a Windows runner)",
            files: vec![corpus_file("dorny-test-reporter/fixtures/jest-junit.xml")],
            workspace: "C:\\Users\\Michal\\Workspace\\dorny\\test-check\\reports\\jest",
            repo_files: None,
        },
        Section {
            title: "Python (pytest)",
            files: vec![corpus_file(
                "dorny-test-reporter/fixtures/python-xunit-pytest.xml",
            )],
            workspace: "/home/runner/work/python-test/python-test",
            repo_files: None,
        },
        Section {
            title: "Rust (cargo nextest)",
            files: vec![corpus_file("nextest/fixtures/fixture-project-junit.xml")],
            workspace: "/home/runner/work/nextest/nextest",
            repo_files: None,
        },
        Section {
            title: "PHP (PHPUnit, file attributes)",
            files: vec![corpus_file(
                "dorny-test-reporter/fixtures/phpunit/phpunit.xml",
            )],
            workspace: "/home/matteo/OSS/phpunit",
            repo_files: None,
        },
        Section {
            title: "Swift (XCTest, no trace: on the report file)",
            files: vec![corpus_file("dorny-test-reporter/fixtures/swift-xunit.xml")],
            workspace: "/Users/dev/AcmeLib",
            repo_files: None,
        },
        Section {
            title: ".NET, Go and Ruby, with the checkout's file list",
            files: vec![parse_str("reports/polyglot.xml", POLYGLOT)],
            workspace: "C:\\Users\\Michal\\Workspace\\dorny\\test-reporter",
            repo_files: Some(
                [
                    "reports/dotnet/DotnetTests.Unit/Calculator.cs",
                    "reports/go/calculator_test.go",
                    // Another package's file of that name: the classname (package path) decides.
                    "reports/go-other/calculator_test.go",
                    "config/check_env_vars.rb",
                ]
                .map(String::from)
                .to_vec(),
            ),
        },
    ];
    let mut text = String::new();
    for s in sections {
        text.push_str(&format!("# {}\n", s.title));
        for line in commands(
            s.files,
            workspace(s.workspace),
            s.repo_files,
            Config::default(),
        ) {
            text.push_str(&line);
            text.push('\n');
        }
        text.push('\n');
    }
    insta::assert_snapshot!(text);
}

/// `count` tests of each status asked for, spread over 50 source files with `file`/`line`.
fn many(count: usize, failed: bool, flaky: bool, skipped: bool) -> FileReport {
    let mut xml = String::from("<testsuite name=\"many\">\n");
    for i in 0..count {
        let file = format!("file=\"tests/test_{:02}.py\" line=\"{}\"", i % 50, i + 1);
        if failed {
            xml.push_str(&format!("<testcase classname=\"tests.f\" name=\"fails_{i}\" {file}><failure message=\"boom {i}\"/></testcase>\n"));
        }
        if flaky {
            xml.push_str(&format!("<testcase classname=\"tests.k\" name=\"flaky_{i}\" {file}><flakyFailure message=\"timeout\"/></testcase>\n"));
        }
        if skipped {
            xml.push_str(&format!("<testcase classname=\"tests.s\" name=\"skips_{i}\" {file}><skipped message=\"later\"/></testcase>\n"));
        }
    }
    xml.push_str("</testsuite>\n");
    parse_str("reports/many.xml", &xml)
}

fn count(lines: &[String], prefix: &str) -> usize {
    lines.iter().filter(|l| l.starts_with(prefix)).count()
}

#[test]
fn five_thousand_failures_fill_the_step_caps_and_say_how_many_were_left_out() {
    let lines = commands(
        vec![many(5000, true, false, false)],
        workspace(WORKSPACE),
        None,
        Config::default(),
    );
    // 10 errors per step, one left to the edge for the step's own failure; the last line a notice.
    assert_eq!(count(&lines, "::error "), 9, "{lines:#?}");
    assert_eq!(lines.len(), 10);
    assert_eq!(
        lines.last().unwrap(),
        "::notice::4991 more failed tests not annotated — see the job summary"
    );
    // Ordered by file, then line: the first of tests/test_00.py come first.
    assert!(
        lines[0].starts_with("::error file=tests/test_00.py,line=1,title=tests.f.fails_0::boom 0"),
        "{}",
        lines[0]
    );
    assert!(
        lines[8].starts_with("::error file=tests/test_00.py,line=401,"),
        "{}",
        lines[8]
    );

    let config = Config {
        annotations: AnnotationChoice::All,
        ..Config::default()
    };
    let lines = commands(
        vec![many(5000, true, true, true)],
        workspace(WORKSPACE),
        None,
        config,
    );
    assert_eq!(count(&lines, "::error "), 9);
    assert_eq!(count(&lines, "::warning "), 10);
    assert_eq!(
        count(&lines, "::notice "),
        9,
        "one notice slot is kept for the last line"
    );
    assert_eq!(
        lines.last().unwrap(),
        "::notice::4991 more failed tests, 4990 flaky tests and 4991 skipped tests not annotated — see the job summary"
    );
    assert!(lines.len() <= 50, "GitHub's job cap");
}

#[test]
fn max_annotations_and_the_fail_policy_change_the_budget() {
    let limited = Config {
        max_annotations: Some(3),
        ..Config::default()
    };
    let lines = commands(
        vec![many(20, true, false, false)],
        workspace(WORKSPACE),
        None,
        limited,
    );
    assert_eq!(count(&lines, "::error "), 3);
    assert_eq!(
        lines[3],
        "::notice::17 more failed tests not annotated — see the job summary"
    );

    // A step that does not fail leaves all ten errors to the tests.
    let passing_step = Config {
        fail_on: FailOn::Nothing,
        ..Config::default()
    };
    let lines = commands(
        vec![many(20, true, false, false)],
        workspace(WORKSPACE),
        None,
        passing_step,
    );
    assert_eq!(count(&lines, "::error "), 10);
    assert_eq!(
        lines[10],
        "::notice::10 more failed tests not annotated — see the job summary"
    );

    // Everything fits: no last line.
    let lines = commands(
        vec![many(5, true, false, false)],
        workspace(WORKSPACE),
        None,
        Config::default(),
    );
    assert_eq!(lines.len(), 5);
    assert_eq!(count(&lines, "::notice"), 0);

    let none = Config {
        annotations: AnnotationChoice::None,
        ..Config::default()
    };
    assert!(commands(
        vec![many(20, true, true, true)],
        workspace(WORKSPACE),
        None,
        none
    )
    .is_empty());
}

#[test]
fn report_problems_are_annotated_on_the_report_within_the_same_caps() {
    let files = vec![
        parse_str("reports/broken.xml", "<testsuite><testcase name=\"x\">"),
        many(3, true, false, false),
    ];
    let config = Config {
        working_directory: Some("services/api".into()),
        ..Config::default()
    };
    let lines = commands(files, workspace(WORKSPACE), None, config);
    assert!(
        lines[0].starts_with("::warning file=services/api/reports/broken.xml"),
        "{lines:#?}"
    );
    assert_eq!(
        count(&lines, "::error file=services/api/tests/test_0"),
        3,
        "{lines:#?}"
    );
}

#[test]
fn without_a_usable_frame_the_classname_names_the_file_else_the_report() {
    let xml = r#"<testsuite name="s">
      <testcase classname="tests.test_cart.TestTotals" name="test_sum"><failure message="boom"/></testcase>
      <testcase classname="tests.test_gone" name="test_x"><failure message="bang"/></testcase>
    </testsuite>"#;
    let files = Some(vec!["tests/test_cart.py".to_owned()]);
    let lines = commands(
        vec![parse_str("reports/py.xml", xml)],
        workspace(WORKSPACE),
        files,
        Config::default(),
    );
    assert_eq!(
        lines,
        [
            "::error file=tests/test_cart.py,title=tests.test_cart.TestTotals.test_sum::boom",
            "::error file=reports/py.xml,title=tests.test_gone.test_x::bang",
        ]
    );
}

#[test]
fn names_and_messages_are_escaped_once() {
    let xml = r#"<testsuite name="s">
      <testcase classname="billing" name="charges 100%: card, then cash" file="src/pay,ment.py" line="7">
        <failure message="expected 50%&#10;got: 1, 2">AssertionError&#13;&#10;second line</failure>
      </testcase></testsuite>"#;
    let lines = commands(
        vec![parse_str("reports/pay.xml", xml)],
        workspace(WORKSPACE),
        None,
        Config::default(),
    );
    assert_eq!(
        lines,
        ["::error file=src/pay%2Cment.py,line=7,title=billing › charges 100%25%3A card%2C then cash::expected 50%25%0Agot: 1, 2%0A%0AAssertionError%0Asecond line"]
    );
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

/// The CLI prints the workflow commands under GitHub Actions only, placing failures on files that
/// `git ls-files` lists.
#[test]
fn the_cli_prints_annotations_in_github_actions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("reports")).unwrap();
    std::fs::create_dir_all(root.join("tests")).unwrap();
    std::fs::copy(
        corpus().join("nextest/fixtures/fixture-project-junit.xml"),
        root.join("reports/nextest.xml"),
    )
    .unwrap();
    std::fs::write(
        root.join("tests/basic.rs"),
        "#[test]\nfn test_failure_assert() {}\n",
    )
    .unwrap();
    let run = |actions: bool, fail_on: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_test-report"));
        command
            .args(["summary", "reports/nextest.xml", "--fail-on", fail_on])
            .current_dir(root)
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("GITHUB_ACTIONS")
            .env("GITHUB_WORKSPACE", root);
        if actions {
            command.env("GITHUB_ACTIONS", "true");
        }
        command.output().unwrap()
    };
    let summary = |actions: bool| {
        let out = run(actions, "nothing");
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).unwrap()
    };
    let error_lines = |stdout: &str| -> Vec<String> {
        stdout
            .lines()
            .filter(|l| l.starts_with("::error "))
            .map(|l| l.split("::").nth(1).unwrap_or_default().to_owned())
            .collect()
    };

    assert_eq!(error_lines(&summary(false)), Vec::<String>::new());
    // Not a git checkout: the trace's path is taken as it is.
    assert_eq!(error_lines(&summary(true)), ["error file=tests/basic.rs,line=19,title=fixture-project%3A%3Abasic.test_failure_assert"]);
    // A checkout without that file: the annotation goes on the report.
    git(root, &["init", "-q"]);
    git(root, &["add", "reports"]);
    assert_eq!(
        error_lines(&summary(true)),
        ["error file=reports/nextest.xml,title=fixture-project%3A%3Abasic.test_failure_assert"]
    );
    git(root, &["add", "tests"]);
    assert_eq!(error_lines(&summary(true)), ["error file=tests/basic.rs,line=19,title=fixture-project%3A%3Abasic.test_failure_assert"]);

    // A failing step ends with its reason as an error, in the slot the core left for it.
    let out = run(true, "failures");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().last(),
        Some("::error::1 of 3 tests did not pass: 1 failed")
    );
}
