//! The `test-report` binary as scripts use it: exit codes, the JSON contract, conversions.

use std::process::{Command, Output};

use crate::support::{corpus, repo};

/// `test-report ARGS` from the repository, outside any GitHub job.
fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_test-report"));
    command
        .args(args)
        .current_dir(repo())
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_TOKEN");
    command
}

fn test_report(args: &[&str]) -> Output {
    command(args).output().expect("the test-report binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The `--json` result of a run that must have exited 0 (its stderr shown when it did not).
fn json_of_success(o: &Output) -> serde_json::Value {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_str(&stdout(o)).expect("--json prints JSON")
}

const NEXTEST: &str = "tests/conformance/nextest/fixtures/fixture-project-junit.xml";
const PASSING: &str = "tests/conformance/nextest/fixtures/stress-test-junit.xml";

#[test]
fn parse_json_is_the_documented_contract() {
    let out = test_report(&["parse", "--json", NEXTEST]);
    let v = json_of_success(&out);
    let keys = [
        "tests",
        "passed",
        "failed",
        "errored",
        "skipped",
        "flaky",
        "duration_ms",
    ];
    for key in keys {
        assert!(v["totals"][key].is_u64(), "totals.{key} missing: {v}");
        assert!(
            v["files"][0]["totals"][key].is_u64(),
            "files[0].totals.{key} missing"
        );
    }
    assert_eq!(v["totals"]["tests"], 3);
    assert_eq!(v["totals"]["passed"], 1);
    assert_eq!(v["totals"]["failed"], 1);
    assert_eq!(v["totals"]["flaky"], 1);
    assert_eq!(v["files"][0]["path"], NEXTEST);
    assert_eq!(v["files"][0]["format"], "junit");
    assert!(v["files"][0]["error"].is_null());
}

#[test]
fn a_malformed_file_is_named_with_its_line_and_exits_2() {
    let bad = "tests/conformance/enricomi-publish-unit-test-result-action/files/junit-xml/pytest/corrupt-xml.xml";
    let out = test_report(&["parse", "--json", PASSING, bad]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let error = v["files"][1]["error"].as_str().unwrap();
    assert!(error.starts_with("line 11: "), "{error}");
    assert!(error.contains("<skipped>"), "{error}");
    // The readable file still counts.
    assert_eq!(v["totals"]["tests"], 4);
}

#[test]
fn missing_paths_and_empty_matches_exit_2() {
    let out = test_report(&["parse", "--json", "does/not/exist.xml"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(v["files"][0]["error"]
        .as_str()
        .unwrap()
        .contains("does not exist"));

    let out = test_report(&["parse", "--json", "tests/conformance/**/*.nothing-matches"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn directories_globs_and_excludes_select_files() {
    let dir = "tests/conformance/nextest/fixtures";
    let all = test_report(&["parse", "--json", dir]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&all)).unwrap();
    assert_eq!(v["files"].as_array().unwrap().len(), 3);

    let some = test_report(&["parse", "--json", &format!("{dir}/*.xml"), "!**/stress-*"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&some)).unwrap();
    let paths: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            format!("{dir}/fixture-project-junit.xml"),
            format!("{dir}/setup-script-junit.xml")
        ]
    );
}

#[test]
fn summary_exit_codes_follow_fail_on() {
    let ok = test_report(&["summary", PASSING]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(stdout(&ok).contains("**4** tests"));

    let failing = test_report(&["summary", NEXTEST]);
    assert_eq!(
        failing.status.code(),
        Some(0),
        "default --fail-on errors ignores test failures"
    );
    let failing = test_report(&["summary", "--fail-on", "failures", NEXTEST]);
    assert_eq!(failing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&failing.stderr).contains("1 of 3 tests did not pass"));

    let empty = test_report(&[
        "summary",
        "tests/conformance/dorny-test-reporter/fixtures/empty/java-junit.xml",
    ]);
    assert_eq!(empty.status.code(), Some(2));
    let allowed = test_report(&[
        "summary",
        "--fail-on-empty",
        "false",
        "tests/conformance/dorny-test-reporter/fixtures/empty/java-junit.xml",
    ]);
    assert_eq!(allowed.status.code(), Some(0));
}

#[test]
fn summary_appends_to_the_github_step_summary_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("summary.md");
    std::fs::write(&file, "earlier step\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_test-report"))
        .args(["summary", NEXTEST])
        .current_dir(repo())
        .env("GITHUB_STEP_SUMMARY", &file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        written.starts_with("earlier step\n## ❌ Test results"),
        "{written}"
    );
    assert_eq!(&written["earlier step\n".len()..], stdout(&out));
}

#[test]
fn convert_to_ctrf_keeps_every_test_and_its_outcome() {
    let out = test_report(&["convert", "--to", "ctrf", NEXTEST]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["reportFormat"], "CTRF");
    let s = &v["results"]["summary"];
    assert_eq!(
        (
            s["tests"].as_u64(),
            s["passed"].as_u64(),
            s["failed"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    let tests = v["results"]["tests"].as_array().unwrap();
    let flaky = tests
        .iter()
        .find(|t| t["name"] == "test_flaky_mod_4")
        .unwrap();
    assert_eq!(
        (
            flaky["status"].as_str(),
            flaky["flaky"].as_bool(),
            flaky["retries"].as_u64()
        ),
        (Some("passed"), Some(true), Some(3))
    );
    let failed = tests
        .iter()
        .find(|t| t["name"] == "test_failure_assert")
        .unwrap();
    assert_eq!(failed["status"], "failed");
    assert!(failed["trace"]
        .as_str()
        .unwrap()
        .contains("assertion `left == right` failed"));
}

#[test]
fn convert_to_junit_round_trips_the_counts() {
    let src = corpus().join("quick-junit/fixtures/basic_report.xml");
    let out = test_report(&["convert", "--to", "junit", src.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let dir = tempfile::tempdir().unwrap();
    let converted = dir.path().join("normalized.xml");
    std::fs::write(&converted, &out.stdout).unwrap();
    let again = test_report(&[
        "parse",
        "--json",
        src.to_str().unwrap(),
        converted.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&again)).unwrap();
    let original = &v["files"][0]["totals"];
    let round_tripped = &v["files"][1]["totals"];
    for key in ["tests", "passed", "failed", "errored", "skipped", "flaky"] {
        assert_eq!(original[key], round_tripped[key], "{key}");
    }
}

#[test]
fn dry_run_prints_the_testnod_sequence_without_the_token() {
    let out = test_report(&[
        "summary",
        "examples/passing.xml",
        "--testnod-token",
        "tn-very-secret",
        "--testnod-build-id",
        "build-7",
        "--testnod-finalize",
        "true",
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!log.contains("tn-very-secret"), "{log}");
    let steps: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("POST ") || l.starts_with("PUT "))
        .collect();
    assert_eq!(
        steps,
        [
            "POST https://testnod.com/integrations/test_runs/upload",
            "PUT https://storage.dry-run.invalid/presigned-upload",
            "POST https://testnod.com/integrations/test_runs/finalize",
        ]
    );
    // The JUnit file goes to storage byte for byte.
    let original = std::fs::read_to_string(repo().join("examples/passing.xml")).unwrap();
    assert!(log.contains(&original));
    assert!(stdout(&out).contains("📤 **TestNod**"));
}

#[test]
fn an_invalid_testnod_option_is_named() {
    let out = test_report(&[
        "summary",
        "examples/passing.xml",
        "--testnod-token",
        "t",
        "--testnod-finalize",
        "maybe",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("option '--testnod-finalize': 'maybe' is not one of true, false, only"));
}

#[test]
fn env_prints_what_gitlab_ci_provides() {
    let out = Command::new(env!("CARGO_BIN_EXE_test-report"))
        .args(["env", "--json"])
        .env_clear()
        .env("GITLAB_CI", "true")
        .env("CI_PIPELINE_ID", "4242")
        .env(
            "CI_PIPELINE_URL",
            "https://gitlab.example/g/p/-/pipelines/4242",
        )
        .env("CI_COMMIT_SHA", "abc123")
        .env("CI_COMMIT_BRANCH", "main")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    let ci: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(ci["provider"], "gitlab-ci");
    assert_eq!(ci["build_id"], "4242");
    assert_eq!(ci["commit"], "abc123");
    assert_eq!(ci["run_url"], "https://gitlab.example/g/p/-/pipelines/4242");
}

/// `test-report.toml` sets defaults; environment variables beat it and flags beat both.
#[test]
fn options_come_from_flags_then_environment_then_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("examples/passing.xml"),
        dir.path().join("passing.xml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("test-report.toml"),
        "path = \"passing.xml\"\ntestnod-token = \"tn-from-file\"\ntestnod-build-id = \"b1\"\n\
         testnod-url = \"https://file.example\"\ndry-run = true\n",
    )
    .unwrap();
    let upload_host = |extra_args: &[&str], env_url: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_test-report"));
        cmd.arg("summary")
            .args(extra_args)
            .current_dir(dir.path())
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("GITHUB_TOKEN")
            .env_remove("TESTNOD_PROJECT_TOKEN")
            .env_remove("TESTNOD_BASE_URL")
            .env_remove("TEST_REPORT_CONFIG");
        if let Some(url) = env_url {
            cmd.env("TESTNOD_BASE_URL", url);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!log.contains("tn-from-file"), "{log}");
        log.lines()
            .find_map(|l| l.strip_prefix("POST "))
            .map(|url| {
                url.split("/integrations")
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
    };
    assert_eq!(
        upload_host(&[], None).as_deref(),
        Some("https://file.example")
    );
    assert_eq!(
        upload_host(&[], Some("https://env.example")).as_deref(),
        Some("https://env.example")
    );
    assert_eq!(
        upload_host(
            &["--testnod-url", "https://flag.example"],
            Some("https://env.example")
        )
        .as_deref(),
        Some("https://flag.example")
    );
}

#[test]
fn a_misspelt_config_key_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ci.toml"), "fail-onn = \"nothing\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_test-report"))
        .args(["summary", "x.xml", "--config", "ci.toml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ci.toml: unknown key 'fail-onn'"), "{err}");
}

/// Not a terminal (a CI log): plain lines, no bar escapes; `-q` silences them, `-v` adds files.
#[test]
fn progress_is_plain_lines_off_a_terminal() {
    let stderr = |extra: &[&str]| {
        let mut args = vec!["summary", "examples/failing.xml", "examples/passing.xml"];
        args.extend_from_slice(extra);
        let out = test_report(&args);
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let normal = stderr(&[]);
    assert!(
        normal.contains("test-report: parsed 2 report files, 8 tests in"),
        "{normal}"
    );
    assert!(
        !normal.contains('\u{1b}'),
        "escape codes in a log: {normal:?}"
    );
    assert!(!normal.contains("parsed examples/"), "{normal}");
    assert_eq!(stderr(&["--quiet"]), "");
    let verbose = stderr(&["--verbose"]);
    assert!(
        verbose.contains("test-report: parsed examples/failing.xml (junit, 4 tests)"),
        "{verbose}"
    );
}

#[test]
fn summary_json_is_the_whole_outcome() {
    let out = test_report(&[
        "summary",
        "examples/failing.xml",
        "--json",
        "--fail-on",
        "failures",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let outcome: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(outcome["report"]["totals"]["failed"], 1);
    assert_eq!(outcome["exit_code"], 1);
    assert_eq!(outcome["outputs"]["failed"], "1");
    assert!(outcome["failure"]
        .as_str()
        .unwrap()
        .contains("did not pass"));
}

#[test]
fn the_ctrf_file_keeps_every_test_the_shrunk_summary_leaves_out() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("many.xml");
    let trace = "at pkg.Suite.case(Suite.java:12)\n".repeat(5);
    let mut xml = String::from("<testsuite name=\"many\">");
    // Names alone (about 100 bytes of Markdown each) outgrow the 1 MiB summary.
    for i in 0..40_000 {
        xml.push_str(&format!(
            "<testcase classname=\"pkg.Suite\" name=\"case_{i}\"><failure message=\"boom {i}\">{trace}</failure></testcase>"
        ));
    }
    xml.push_str("</testsuite>");
    std::fs::write(&report, xml).unwrap();
    let ctrf = dir.path().join("report.ctrf.json");
    let out = test_report(&[
        "summary",
        report.to_str().unwrap(),
        "--ctrf-file",
        ctrf.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = stdout(&out);
    assert!(summary.contains("> [!NOTE]"), "the summary had to shrink");
    assert!(summary.contains("Suite.case\\_1**"), "{summary:.2000}");
    assert!(
        !summary.contains("Suite.case\\_39999**"),
        "and left tests out"
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&ctrf).unwrap()).unwrap();
    let tests = doc["results"]["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 40_000);
    assert_eq!(doc["results"]["summary"]["failed"], 40_000);
    assert_eq!(tests[39_999]["message"], "boom 39999");
}

/// `test-report ARGS` with `chunks` written to its standard input one after the other, a pause
/// between them, as a test process writes into a pipe while it runs.
fn test_report_fed(args: &[&str], chunks: &[&[u8]]) -> Output {
    use std::io::Write;
    let mut child = command(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the test-report binary runs");
    let mut stdin = child.stdin.take().unwrap();
    for chunk in chunks {
        stdin.write_all(chunk).unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(150));
    }
    drop(stdin);
    child.wait_with_output().unwrap()
}

const NUNIT: &str = "tests/conformance/dorny-test-reporter/fixtures/dotnet-nunit.xml";
const GO_TEST_JSON: &str = "tests/fixtures/go/go-test-json.json";

#[test]
fn a_report_piped_in_is_read_from_dash_even_when_its_first_read_is_short() {
    // The first read holds only the XML declaration: the root element that tells NUnit from
    // JUnit arrives later.
    let nunit = std::fs::read(repo().join(NUNIT)).unwrap();
    let out = test_report_fed(&["parse", "--json", "-"], &[&nunit[..40], &nunit[40..]]);
    let v = json_of_success(&out);
    assert_eq!(v["files"][0]["path"], "stdin");
    assert_eq!(v["files"][0]["format"], "nunit");
    assert_eq!(v["totals"]["tests"], 9);
    assert_eq!(v["totals"]["failed"], 3);

    // A `go test -json` stream arrives a line at a time.
    let go = std::fs::read(repo().join(GO_TEST_JSON)).unwrap();
    let lines: Vec<&[u8]> = go.split_inclusive(|&b| b == b'\n').take(3).collect();
    let rest = &go[lines.iter().map(|l| l.len()).sum::<usize>()..];
    let mut chunks = lines.clone();
    chunks.push(rest);
    let out = test_report_fed(&["parse", "--json", GO_TEST_JSON, "-", "-"], &chunks);
    let v = json_of_success(&out);
    // The same tests as from the file, and `-` twice is read once.
    assert_eq!(v["files"].as_array().unwrap().len(), 2);
    assert_eq!(v["files"][1]["format"], "go-test");
    assert_eq!(v["files"][1]["totals"], v["files"][0]["totals"]);
    assert_eq!(v["totals"]["tests"], 24);
}

#[test]
fn a_fifo_or_process_substitution_is_read_as_a_stream() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("results.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let go = std::fs::read(repo().join(GO_TEST_JSON)).unwrap();
            std::fs::write(fifo, go).unwrap();
        })
    };
    let out = test_report(&["parse", "--json", fifo.to_str().unwrap()]);
    writer.join().unwrap();
    let v = json_of_success(&out);
    assert_eq!(v["files"][0]["format"], "go-test");
    assert_eq!(v["totals"]["tests"], 12);
    assert_eq!(v["totals"]["failed"], 4);
}

#[test]
fn a_piped_report_is_uploaded_byte_for_byte() {
    let original = std::fs::read(repo().join("examples/passing.xml")).unwrap();
    let out = test_report_fed(
        &[
            "summary",
            "-",
            "--testnod-token",
            "tn-very-secret",
            "--testnod-build-id",
            "build-7",
            "--dry-run",
        ],
        &[&original[..10], &original[10..]],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("PUT https://storage.dry-run.invalid/presigned-upload"),
        "{log}"
    );
    assert!(
        log.contains(std::str::from_utf8(&original).unwrap()),
        "{log}"
    );
}

/// A JUnit file above the size the CLI reads in parts (one per core) reads as one reading:
/// counts, times, and the line of a warning from the file's last quarter. `one_suite`: all its
/// tests in one root `<testsuite>`, as pytest writes them, cut where cases start; otherwise 80
/// suites in a `<testsuites>` root, cut where suites start.
fn assert_large_junit_reads_in_parts(one_suite: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.xml");
    let mut xml = String::from("<?xml version=\"1.0\"?>\n");
    if !one_suite {
        xml.push_str("<testsuites name=\"large\">\n");
    }
    let (suites, per_suite) = (80, 500);
    let mut unnamed_line = 0;
    for s in 0..suites {
        if !one_suite || s == 0 {
            xml.push_str(&format!("  <testsuite name=\"Suite{s}\">\n"));
        }
        for c in 0..per_suite {
            xml.push_str(&format!(
                "    <testcase classname=\"Suite{s}\" name=\"test_{c}\" time=\"0.002\"><system-out>{}</system-out>",
                "output line of a passing test ".repeat(8)
            ));
            if c % 100 == 7 {
                xml.push_str("<failure message=\"expected 1\">trace</failure>");
            }
            xml.push_str("</testcase>\n");
        }
        if s == suites * 3 / 4 {
            unnamed_line = xml.lines().count() + 1;
            xml.push_str("    <testcase/>\n");
        }
        if !one_suite || s == suites - 1 {
            xml.push_str("  </testsuite>\n");
        }
    }
    if !one_suite {
        xml.push_str("</testsuites>\n");
    }
    assert!(
        xml.len() > 8 << 20,
        "{} bytes: not above the CLI's bound",
        xml.len()
    );
    std::fs::write(&path, &xml).unwrap();
    let out = command(&["report", "--json", "large.xml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    let totals = &v["report"]["totals"];
    assert_eq!(totals["tests"], suites * per_suite + 1, "{totals}");
    assert_eq!(totals["failed"], suites * per_suite / 100, "{totals}");
    assert_eq!(
        totals["passed"],
        suites * per_suite * 99 / 100 + 1,
        "{totals}"
    );
    assert_eq!(totals["duration_ms"], suites * per_suite * 2, "{totals}");
    let warnings: Vec<_> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["message"].as_str().unwrap_or("").contains("neither name"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", v["diagnostics"]);
    assert_eq!(warnings[0]["line"], unnamed_line, "{}", warnings[0]);
    assert_eq!(warnings[0]["file"], "large.xml");
}

#[test]
fn a_large_junit_file_read_in_parts_counts_every_test_and_line() {
    assert_large_junit_reads_in_parts(false);
}

#[test]
fn a_large_junit_file_of_one_suite_read_in_parts_counts_every_test_and_line() {
    assert_large_junit_reads_in_parts(true);
}
