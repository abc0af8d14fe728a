//! `test-report github` from another CI: a GitHub App's installation token, the check run on the
//! given commit and the comment on the given pull request, against the GitHub fake.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;

use crate::fakes::FakeServices;
use crate::support::repo;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// A fresh App key, PKCS#1 PEM as GitHub issues them.
fn app_key(dir: &Path) -> String {
    let path = dir.join("app.pem");
    let out = Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&path)
        .arg("2048")
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path.display().to_string()
}

fn github(fake: &FakeServices, extra: &[&str]) -> Output {
    let mut args = vec![
        "github",
        "examples/failing.xml",
        "--repository",
        "acme/widgets",
        "--commit",
        SHA,
        "--pull-request",
        "5",
        "--check-run",
        "true",
        "--pr-comment",
        "always",
    ];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_test-report"))
        .args(&args)
        .current_dir(repo())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GITHUB_API_URL", format!("{}/github", fake.url))
        .output()
        .expect("the test-report binary runs")
}

#[test]
fn a_github_app_publishes_the_check_run_and_the_comment_from_any_ci() {
    let fake = FakeServices::start();
    fake.control(
        "/_fake/config",
        &json!({"github": {"apps": {"12345": 99}}}).to_string(),
    );
    let dir = tempfile::tempdir().unwrap();
    let key = app_key(dir.path());
    let out = github(&fake, &["--app-id", "12345", "--app-private-key", &key]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let state = fake.state("github");
    assert_eq!(state["check_runs"][0]["head_sha"], SHA, "{state}");
    assert_eq!(state["check_runs"][0]["conclusion"], "failure");
    assert_eq!(state["comments"][0]["issue_number"], 5);
    let requests = fake.requests("github");
    let calls: Vec<(String, String)> = requests
        .iter()
        .map(|r| {
            let auth = r["headers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h[0] == "authorization")
                .map(|h| h[1].as_str().unwrap().to_owned())
                .unwrap_or_default();
            let token = if auth.matches('.').count() == 2 {
                "jwt".to_owned()
            } else {
                auth.trim_start_matches("Bearer ").to_owned()
            };
            (
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap(),
                    r["path"].as_str().unwrap()
                ),
                token,
            )
        })
        .collect();
    assert_eq!(
        calls[0],
        (
            "GET /github/repos/acme/widgets/installation".into(),
            "jwt".into()
        )
    );
    assert_eq!(
        calls[1],
        (
            "POST /github/app/installations/99/access_tokens".into(),
            "jwt".into()
        )
    );
    assert!(
        calls[2..]
            .iter()
            .all(|(_, token)| token == "ghs_fake_installation_99"),
        "{calls:?}"
    );
}

#[test]
fn an_app_that_is_not_installed_stops_with_a_message_naming_it() {
    let fake = FakeServices::start();
    let dir = tempfile::tempdir().unwrap();
    let key = app_key(dir.path());
    let out = github(&fake, &["--app-id", "777", "--app-private-key", &key]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("github app 777"), "{stderr}");
    assert!(stderr.contains("HTTP 401"), "{stderr}");
    assert_eq!(
        fake.state("github")["check_runs"].as_array().unwrap().len(),
        0
    );
}
