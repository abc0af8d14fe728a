//! Nothing leaked (issue 10): the binary, sending to every service at once, in every output mode
//! and with refused credentials, never writes a secret to stdout, stderr, the step summary, the
//! outputs file or the CTRF file — including URLs that carry `user:password@` or `api_key=`.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::fakes::FakeServices;
use crate::support::repo;

/// Secrets the fake accepts; distinctive so that any copy of them is found.
const TESTNOD: &str = "tn-SECRET-4f1c9a";
const AIO: &str = "aio-SECRET-8b2d7e";
const TESTOMAT: &str = "tstmt_SECRET-93ce10";
const OCTANE_ID: &str = "octane-SECRET-id-5a7b";
const OCTANE_SECRET: &str = "octane-SECRET-pw-c3d9";
const GITHUB: &str = "gh-SECRET-0e6f2b";
/// Secrets the fake refuses (401/403/404), as distinctive.
const WRONG: [&str; 6] = [
    "tn-WRONG-1a2b3c",
    "aio-WRONG-4d5e6f",
    "tstmt_WRONG-7a8b9c",
    "octane-WRONG-id-0d1e",
    "octane-WRONG-pw-2f3a",
    "gh-WRONG-4b5c6d",
];
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

fn accept_secrets(fake: &FakeServices) {
    let config = json!({
        "testnod": {"tokens": {TESTNOD: "b7e2c1a0-9f3d-4a8b-bc1e-2d4f6a8c0e11"}},
        "aio": {"cloud_tokens": [AIO]},
        "testomatio": {"api_keys": {TESTOMAT: "fake-project"}},
        "octane": {"clients": {OCTANE_ID: OCTANE_SECRET}},
        "github": {"tokens": {GITHUB: "write"}},
    });
    fake.control("/_fake/config", &config.to_string());
}

/// Runs `test-report summary` for all five destinations with `secrets` (TestNod, AIO, Testomat.io,
/// Octane id, Octane secret, GitHub); every file it may write lives in `dir`. Answers everything
/// the run wrote, concatenated.
fn run(url: &str, testomat_url: &str, secrets: [&str; 6], mode: &[&str], dir: &Path) -> String {
    let summary = dir.join("summary.md");
    let outputs = dir.join("outputs.txt");
    let ctrf = dir.join("ctrf.json");
    let out = Command::new(env!("CARGO_BIN_EXE_test-report"))
        .arg("summary")
        .arg("examples/failing.xml")
        .args(mode)
        .args(["--testnod-build-id", "b-1", "--aio-project", "PROJ"])
        .args(["--aio-cycle", "PROJ-CY-1", "--check-run", "true"])
        .args(["--commit", COMMIT, "--valueedge-shared-space", "1001"])
        .args(["--valueedge-workspace", "1002"])
        .arg("--ctrf-file")
        .arg(&ctrf)
        .current_dir(repo())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TESTNOD_PROJECT_TOKEN", secrets[0])
        .env("TESTNOD_BASE_URL", format!("{url}/testnod"))
        .env("AIO_TOKEN", secrets[1])
        .env("AIO_URL", format!("{url}/aio/aio-tcms/api/v1"))
        .env("TESTOMATIO", secrets[2])
        .env("TESTOMATIO_URL", testomat_url)
        .env("VALUEEDGE_CLIENT_ID", secrets[3])
        .env("VALUEEDGE_CLIENT_SECRET", secrets[4])
        .env("VALUEEDGE_URL", format!("{url}/octane"))
        .env("GITHUB_TOKEN", secrets[5])
        .env("GITHUB_API_URL", format!("{url}/github"))
        .env("GITHUB_REPOSITORY", "acme/widgets")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .output()
        .expect("the test-report binary runs");
    let mut all = String::from_utf8_lossy(&out.stdout).into_owned();
    all.push_str(&String::from_utf8_lossy(&out.stderr));
    for file in [&summary, &outputs, &ctrf] {
        all.push_str(&std::fs::read_to_string(file).unwrap_or_default());
    }
    all
}

fn assert_clean(all: &str, secrets: &[&str], case: &str) {
    for secret in secrets {
        assert!(!all.contains(secret), "{case}: {secret} leaked in:\n{all}");
    }
}

#[test]
fn no_secret_reaches_any_output_in_any_mode() {
    let fake = FakeServices::start();
    accept_secrets(&fake);
    let right = [TESTNOD, AIO, TESTOMAT, OCTANE_ID, OCTANE_SECRET, GITHUB];
    let testomat_url = format!("{}/testomatio", fake.url);
    let modes: [&[&str]; 4] = [&[], &["--verbose"], &["--json"], &["--dry-run"]];
    for mode in modes {
        let dir = tempfile::tempdir().unwrap();
        let all = run(&fake.url, &testomat_url, right, mode, dir.path());
        assert!(
            all.contains("failing.xml"),
            "{mode:?}: the run produced output: {all}"
        );
        assert_clean(&all, &right, &format!("accepted secrets, {mode:?}"));
        let dir = tempfile::tempdir().unwrap();
        let all = run(&fake.url, &testomat_url, WRONG, mode, dir.path());
        assert_clean(&all, &WRONG, &format!("refused secrets, {mode:?}"));
    }
    // The three sending modes delivered, so the scan covered real receipts, not only errors;
    // --dry-run sent nothing.
    assert_eq!(
        fake.state("testnod")["runs"].as_array().map(Vec::len),
        Some(3)
    );
    assert!(
        fake.state("github")["check_runs"]
            .as_array()
            .map_or(0, Vec::len)
            >= 1
    );
    // The refused runs were refused by the services, not skipped.
    let refused = fake
        .requests("testnod")
        .iter()
        .filter(|r| r["status"] == 404)
        .count();
    assert!(refused >= 1, "TestNod refused the wrong token");
}

#[test]
fn credentials_inside_urls_are_redacted_in_errors() {
    // Nothing listens on port 9 (discard) here: every connection is refused, and the errors name
    // the URLs, which carry a user:password and an `api_key=` query.
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://ci:{}@127.0.0.1:9", WRONG[0]);
    let testomat = format!("http://127.0.0.1:9/testomatio?api_key={}", WRONG[2]);
    let all = run(&base, &testomat, WRONG, &["--verbose"], dir.path());
    assert!(
        all.contains("api_key=****"),
        "the error shows the URL: {all}"
    );
    assert!(all.contains("http://****@127.0.0.1:9/testnod"), "{all}");
    assert_clean(&all, &WRONG, "unreachable services");
}
