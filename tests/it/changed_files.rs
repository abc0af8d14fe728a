//! Failures in the pull request's changed files lead the job's annotations, which GitHub caps at
//! 10 errors per step: the native binary against the GitHub fake's `pulls/{n}/files`.

use std::process::Command;

use serde_json::json;

use crate::fakes::FakeServices;
use crate::support::repo;

/// `n` failures in `src/main.rs`, then `n` in `src/lib.rs`: by file alone, `src/lib.rs` leads.
fn report(n: usize) -> String {
    let mut xml = String::from("<testsuite name=\"many\">");
    for (file, tag) in [("src/main.rs", "main"), ("src/lib.rs", "lib")] {
        for i in 0..n {
            xml.push_str(&format!(
                "<testcase classname=\"t\" name=\"{tag}_{i}\" file=\"{file}\" line=\"{}\"><failure message=\"boom\"/></testcase>",
                i + 1
            ));
        }
    }
    xml.push_str("</testsuite>");
    xml
}

fn error_files(token: &str, fake: &FakeServices) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("many.xml");
    std::fs::write(&report_path, report(12)).unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        json!({"pull_request": {"number": 7, "head": {"sha": "0123456789abcdef0123456789abcdef01234567"}}}).to_string(),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_test-report"))
        .args([
            "summary",
            report_path.to_str().unwrap(),
            "--check-run",
            "false",
        ])
        .current_dir(repo())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", repo())
        .env("GITHUB_TOKEN", token)
        .env("GITHUB_API_URL", format!("{}/github", fake.url))
        .env("GITHUB_REPOSITORY", "acme/widgets")
        .env("GITHUB_EVENT_PATH", &event)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("::error file="))
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect()
}

#[test]
fn failures_in_changed_files_are_annotated_first() {
    let fake = FakeServices::start();
    fake.control(
        "/_fake/config",
        &json!({"github": {"pull_files": {"7": ["README.md", "src/main.rs"]}}}).to_string(),
    );
    let files = error_files("github-readonly-token", &fake);
    assert_eq!(files.len(), 10, "GitHub's step cap: {files:?}");
    assert!(files.iter().all(|f| f == "src/main.rs"), "{files:?}");
    let asked: Vec<String> = fake
        .requests("github")
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(asked, ["GET /github/repos/acme/widgets/pulls/7/files"]);
}

#[test]
fn without_the_file_list_the_order_stays_by_file() {
    let fake = FakeServices::start();
    // No files configured for PR 7: the fake answers 404, as GitHub does for a PR the token
    // cannot see.
    let files = error_files("github-readonly-token", &fake);
    assert_eq!(files.len(), 10);
    assert!(files.iter().all(|f| f == "src/lib.rs"), "{files:?}");
}
