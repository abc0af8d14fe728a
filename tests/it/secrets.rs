//! Nothing leaked (issue 10): the binary, sending to every service at once, in every output mode
//! and with refused credentials, never writes a secret to stdout, stderr, the step summary, the
//! outputs file or the CTRF file — including URLs that carry `user:password@` or `api_key=`.
//! Nor does it write one into a spool directory (manifest and payload files) or the output of
//! `resume DIR` and `resume DIR --dry-run`, when every service fails into the spool, a resume
//! fails again and a second one delivers.

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

/// A basic-auth password inside the TestNod URL (`http://ci:PASSWORD@host/testnod`).
const URL_PASSWORD: &str = "url-SECRET-pw-9d4b";
/// AIO Server/DC basic-auth credentials, and their `Authorization: Basic` value.
const AIO_DC_USER: &str = "jira-SECRET-user-61d0";
const AIO_DC_PASSWORD: &str = "jira-SECRET-pw-2c8e";
const AIO_DC_BASIC: &str = "amlyYS1TRUNSRVQtdXNlci02MWQwOmppcmEtU0VDUkVULXB3LTJjOGU=";
/// How the fake's ValueEdge session cookies (`LWSSO_COOKIE_KEY`) begin (tests/fakes/src/octane.rs).
const OCTANE_COOKIE: &str = "fake-lwsso-";

/// AIO Tests as Cloud (a token) or Server/DC (a user and password sent as basic auth).
#[derive(Clone, Copy, Debug)]
enum AioFlavour {
    Cloud,
    DataCenter,
}

impl AioFlavour {
    /// `AIO_URL` and `AIO_TOKEN`.
    fn env(self, url: &str) -> (String, String) {
        match self {
            AioFlavour::Cloud => (format!("{url}/aio/aio-tcms/api/v1"), AIO.to_owned()),
            AioFlavour::DataCenter => (
                format!("{url}/aio"),
                format!("{AIO_DC_USER}:{AIO_DC_PASSWORD}"),
            ),
        }
    }

    fn secrets(self) -> Vec<&'static str> {
        let mut secrets = vec![
            TESTNOD,
            TESTOMAT,
            OCTANE_ID,
            OCTANE_SECRET,
            GITHUB,
            URL_PASSWORD,
            OCTANE_COOKIE,
        ];
        match self {
            AioFlavour::Cloud => secrets.push(AIO),
            AioFlavour::DataCenter => secrets.extend([AIO_DC_PASSWORD, AIO_DC_BASIC]),
        }
        secrets
    }
}

/// Runs `test-report ARGS` in `work` with every credential planted in the environment (the flags'
/// fallbacks, read by `report` and `resume` alike); `name` keeps its step summary and outputs
/// files apart. Answers the exit code and everything the run wrote: stdout, stderr, the step
/// summary, the outputs file, and every file of the spool directory `work/spool` after it.
fn spool_run(
    fake: &FakeServices,
    aio: AioFlavour,
    work: &Path,
    name: &str,
    args: &[&str],
) -> (i32, String) {
    let summary = work.join(format!("{name}-summary.md"));
    let outputs = work.join(format!("{name}-outputs.txt"));
    let url = &fake.url;
    let testnod = format!(
        "http://ci:{URL_PASSWORD}@{}/testnod",
        url.trim_start_matches("http://")
    );
    let (aio_url, aio_token) = aio.env(url);
    let out = Command::new(env!("CARGO_BIN_EXE_test-report"))
        .args(args)
        .current_dir(work)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TESTNOD_PROJECT_TOKEN", TESTNOD)
        .env("TESTNOD_BASE_URL", testnod)
        .env("AIO_TOKEN", aio_token)
        .env("AIO_URL", aio_url)
        .env("AIO_PROJECT", "PROJ")
        .env("AIO_CYCLE", "PROJ-CY-1")
        .env("TESTOMATIO", TESTOMAT)
        .env("TESTOMATIO_URL", format!("{url}/testomatio"))
        .env("VALUEEDGE_CLIENT_ID", OCTANE_ID)
        .env("VALUEEDGE_CLIENT_SECRET", OCTANE_SECRET)
        .env("VALUEEDGE_URL", format!("{url}/octane"))
        .env("GITHUB_TOKEN", GITHUB)
        .env("GITHUB_API_URL", format!("{url}/github"))
        .env("GITHUB_REPOSITORY", "acme/widgets")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .output()
        .expect("the test-report binary runs");
    let mut all = format!(
        "== stdout\n{}\n== stderr\n{}\n",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for file in [&summary, &outputs] {
        all.push_str(&std::fs::read_to_string(file).unwrap_or_default());
    }
    let spool = work.join("spool");
    let mut files: Vec<_> = std::fs::read_dir(&spool)
        .map(|dir| dir.map(|entry| entry.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        all.push_str(&format!(
            "== {}\n{}\n",
            file.display(),
            String::from_utf8_lossy(&bytes)
        ));
    }
    (out.status.code().unwrap_or(-1), all)
}

/// The services with units pending in `work/spool`, from its manifest.
fn spooled_services(work: &Path) -> Vec<&'static str> {
    let Ok(bytes) = std::fs::read(work.join("spool/manifest.json")) else {
        return Vec::new();
    };
    let manifest: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    ["testnod", "aio", "testomatio", "valueedge"]
        .into_iter()
        .filter(|service| !manifest[service].is_null())
        .collect()
}

/// Every service refuses its report once more (none of these statuses is retried).
fn fail_every_service(fake: &FakeServices) {
    fake.control(
        "/_fake/faults",
        r#"[{"service":"storage","method":"PUT","times":1,"fault":{"status":403}},
            {"service":"aio","path_regex":"/import/results$","times":1,"fault":{"status":400}},
            {"service":"testomatio","path_regex":"/testrun$","times":1,"fault":{"status":400}},
            {"service":"octane","path_regex":"/test-results$","times":1,"fault":{"status":403}}]"#,
    );
}

fn spool_and_resume_leak_nothing(aio: AioFlavour) {
    let fake = FakeServices::start();
    accept_secrets(&fake);
    let dc_users = json!({"aio": {"dc_users": {AIO_DC_USER: AIO_DC_PASSWORD}}});
    fake.control("/_fake/config", &dc_users.to_string());
    let secrets = aio.secrets();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    std::fs::copy(
        repo().join("examples/failing.xml"),
        work.join("failing.xml"),
    )
    .unwrap();
    let every = ["testnod", "aio", "testomatio", "valueedge"];

    fail_every_service(&fake);
    let report = [
        "report",
        "failing.xml",
        "--spool-dir",
        "spool",
        "--verbose",
        "--testnod-build-id",
        "b-1",
        "--check-run",
        "true",
        "--commit",
        COMMIT,
        "--valueedge-shared-space",
        "1001",
        "--valueedge-workspace",
        "1002",
    ];
    let (code, all) = spool_run(&fake, aio, work, "report", &report);
    assert_eq!(code, 3, "{aio:?}: the uploads failed: {all}");
    assert_eq!(spooled_services(work), every, "{aio:?}: {all}");
    assert_clean(&all, &secrets, &format!("{aio:?}: report into the spool"));

    let (code, all) = spool_run(
        &fake,
        aio,
        work,
        "dry-run",
        &["resume", "spool", "--dry-run"],
    );
    assert_eq!(code, 0, "{aio:?}: {all}");
    assert!(
        all.contains("nothing was sent; 6 units still pending"),
        "{aio:?}: {all}"
    );
    assert_clean(&all, &secrets, &format!("{aio:?}: resume --dry-run"));

    fail_every_service(&fake);
    let (code, all) = spool_run(
        &fake,
        aio,
        work,
        "resume-1",
        &["resume", "spool", "--verbose"],
    );
    assert_eq!(code, 3, "{aio:?}: the resume failed again: {all}");
    assert_eq!(spooled_services(work), every, "{aio:?}: {all}");
    assert_clean(&all, &secrets, &format!("{aio:?}: resume failing again"));

    let (code, all) = spool_run(&fake, aio, work, "resume-2", &["resume", "spool", "--json"]);
    assert_eq!(code, 0, "{aio:?}: the second resume delivered: {all}");
    assert_eq!(spooled_services(work), Vec::<&str>::new(), "{aio:?}: {all}");
    assert_clean(&all, &secrets, &format!("{aio:?}: resume delivering"));

    // The scans covered real deliveries with these very credentials, each result stored once.
    let testnod = fake.state("testnod");
    assert_eq!(
        testnod["runs"].as_array().map(Vec::len),
        Some(1),
        "{testnod}"
    );
    assert_eq!(testnod["runs"][0]["status"], "processing", "{testnod}");
    let stored = testnod["runs"][0]["uploads"].as_array().map_or(0, |u| {
        u.iter().filter(|u| u["file_utf8"].is_string()).count()
    });
    assert_eq!(stored, 1, "{testnod}");
    let aio_state = fake.state("aio");
    assert_eq!(
        aio_state["imports"].as_array().map(Vec::len),
        Some(1),
        "{aio_state}"
    );
    let testomat = fake.state("testomatio");
    assert_eq!(testomat["runs"][0]["status"], "finished", "{testomat}");
    assert_eq!(
        testomat["runs"][0]["executions"].as_array().map(Vec::len),
        Some(4)
    );
    let octane = fake.state("octane");
    assert_eq!(
        octane["tasks"].as_array().map(Vec::len),
        Some(1),
        "{octane}"
    );
    assert_eq!(octane["tasks"][0]["runs"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        fake.state("github")["check_runs"].as_array().map(Vec::len),
        Some(1)
    );
    let expected = match aio {
        AioFlavour::Cloud => format!("AioAuth {AIO}"),
        AioFlavour::DataCenter => format!("Basic {AIO_DC_BASIC}"),
    };
    let sent = header_values(&fake, "aio", "authorization");
    assert!(
        !sent.is_empty() && sent.iter().all(|a| *a == expected),
        "{sent:?}"
    );
    let cookies = header_values(&fake, "octane", "cookie");
    assert!(
        !cookies.is_empty() && cookies.iter().all(|c| c.contains(OCTANE_COOKIE)),
        "the sessions the scan looked for: {cookies:?}"
    );
}

/// Every value of one request header the fake received for `service`.
fn header_values(fake: &FakeServices, service: &str, name: &str) -> Vec<String> {
    fake.requests(service)
        .iter()
        .flat_map(|r| r["headers"].as_array().cloned().unwrap_or_default())
        .filter(|h| h[0] == name)
        .filter_map(|h| h[1].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn no_secret_reaches_the_spool_or_the_resume_output_with_aio_cloud() {
    spool_and_resume_leak_nothing(AioFlavour::Cloud);
}

#[test]
fn no_secret_reaches_the_spool_or_the_resume_output_with_aio_server_basic_auth() {
    spool_and_resume_leak_nothing(AioFlavour::DataCenter);
}
