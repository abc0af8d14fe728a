//! The fault matrix (issue 10): every service × injected fault → what the user ends up with.
//!
//! Each cell runs the real `pipeline::run` with the native client against a fresh fake, injects
//! one fault (tests/README.md, "Faults") on the request that carries the results, and asserts on
//! what the fake stored: a retried cell is delivered exactly once (no loss, no duplicate), a
//! reported cell fails the step with exit code 3 and names the service and the cause, and never
//! leaves more than one copy behind.
//!
//! Stalls: the native client's `REQUEST_TIMEOUT` is a 60 s constant, not a setting, so the stall
//! cells wrap it in [`Impatient`], which gives up after [`CLIENT_LIMIT`] with the same
//! `TransportError::Timeout` the native client answers; the fake finishes the stalled request
//! anyway, so a request processed but unanswered is exactly what these cells produce. The slow
//! body cells send the headers at once and trickle the body past that limit: the deadline covers
//! the whole response, so they end as the stalls do.

use std::time::Duration;

use test_report::config::RawConfig;
use test_report::http::native::NativeClient;
use test_report::http::{Body, HttpClient, Request, Response, TransportError};
use test_report::pipeline::{self, Inputs, Outcome};

use crate::fakes::FakeServices;
use crate::support::{parse_file, repo};

/// The report every cell sends: 4 tests, all passing (so exit code 3 can only be a publish error).
const REPORT: &str = "examples/passing.xml";
const REPORT_TESTS: usize = 4;
/// How long [`Impatient`] waits for a response; the stall cells stall longer.
const CLIENT_LIMIT: Duration = Duration::from_millis(2_000);
const STALL: &str = r#"{"stall_ms":2500}"#;
/// Headers at once, then the body a byte at a time until past [`CLIENT_LIMIT`]: the service has
/// acted, and the client gives up while the answer is still arriving.
const SLOW_BODY: &str = r#"{"trickle_body_ms":2500}"#;
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Testnod,
    Aio,
    Testomat,
    Valueedge,
    Github,
}

#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Exit 0, stored exactly once, and the faulted endpoint saw this many requests.
    Delivered { attempts: usize },
    /// Exit 3 with `Outcome.failure` containing `says`; the service holds `stored` copies (0, or
    /// 1 when the fault hit after the service acted: a result reported as not delivered that did
    /// arrive is a false alarm, never a loss or a duplicate).
    Reported { says: &'static str, stored: usize },
    /// Left out of the run, with the reason.
    NotRun(&'static str),
}

use Expect::{Delivered, NotRun, Reported};
use Service::{Aio, Github, Testnod, Testomat, Valueedge};

struct Cell {
    service: Service,
    /// The faulted request: method and the end of its path (the fault's `path_regex` is `{path}$`).
    method: &'static str,
    path: &'static str,
    fault: &'static str,
    expect: Expect,
}

const fn cell(
    service: Service,
    method: &'static str,
    path: &'static str,
    fault: &'static str,
    expect: Expect,
) -> Cell {
    Cell {
        service,
        method,
        path,
        fault,
        expect,
    }
}

const TN: &str = "/upload";
const PUT: &str = "/storage";
const AI: &str = "/import/results";
const TR: &str = "/testrun";
const CREATE: &str = "/api/reporter";
const OC: &str = "/test-results";
const GH: &str = "/check-runs";

/// The matrix. Requests not idempotent (TestNod's upload, AIO's import with a new run, Testomat's
/// run creation, GitHub's check-run creation) are retried only on 429/503, when the server cannot
/// have acted; idempotent ones (the presigned PUT, Testomat's batches with `overwrite`, Octane's
/// deduplicated push) also on 500/502, broken connections and timeouts.
#[rustfmt::skip]
const MATRIX: &[Cell] = &[
    // TestNod: the upload POST (not idempotent) and the presigned PUT (idempotent).
    cell(Testnod, "POST", TN, r#"{"status":500}"#, Reported { says: "500", stored: 0 }),
    cell(Testnod, "POST", TN, r#"{"status":502}"#, Reported { says: "502", stored: 0 }),
    cell(Testnod, "POST", TN, r#"{"status":503,"retry_after":"0"}"#, Delivered { attempts: 2 }),
    cell(Testnod, "POST", TN, r#"{"status":429,"retry_after":"1"}"#, Delivered { attempts: 2 }),
    cell(Testnod, "POST", TN, r#"{"status":429}"#, Delivered { attempts: 2 }),
    cell(Testnod, "POST", TN, r#"{"reset":"before_body"}"#, Reported { says: "interrupted", stored: 0 }),
    cell(Testnod, "POST", TN, r#"{"reset":"after_body"}"#, Reported { says: "interrupted", stored: 0 }),
    cell(Testnod, "POST", TN, STALL, Reported { says: "timeout", stored: 1 }),
    cell(Testnod, "POST", TN, SLOW_BODY, Reported { says: "timeout", stored: 1 }),
    cell(Testnod, "POST", TN, r#"{"truncated_body":true}"#, Reported { says: "interrupted", stored: 1 }),
    cell(Testnod, "POST", TN, r#"{"status":401}"#, Reported { says: "401", stored: 0 }),
    cell(Testnod, "POST", TN, r#"{"status":403}"#, Reported { says: "403", stored: 0 }),
    cell(Testnod, "POST", TN, r#"{"status":404}"#, Reported { says: "not recognised", stored: 0 }),
    cell(Testnod, "POST", TN, r#"{"status":422}"#, Reported { says: "422", stored: 0 }),
    cell(Testnod, "PUT", PUT, r#"{"status":500}"#, Delivered { attempts: 2 }),
    cell(Testnod, "PUT", PUT, r#"{"reset":"after_body"}"#, Delivered { attempts: 2 }),
    cell(Testnod, "PUT", PUT, r#"{"truncated_body":true}"#, Delivered { attempts: 2 }),
    cell(Testnod, "PUT", PUT, SLOW_BODY, Delivered { attempts: 2 }),
    // AIO Tests: the sync import with createNewRun=true (not idempotent).
    cell(Aio, "POST", AI, r#"{"status":500}"#, Reported { says: "500", stored: 0 }),
    cell(Aio, "POST", AI, r#"{"status":502}"#, Reported { says: "502", stored: 0 }),
    cell(Aio, "POST", AI, r#"{"status":503,"retry_after":"0"}"#, Delivered { attempts: 2 }),
    cell(Aio, "POST", AI, r#"{"status":429,"retry_after":"1"}"#, Delivered { attempts: 2 }),
    cell(Aio, "POST", AI, r#"{"status":429}"#, NotRun("a 429 without Retry-After pauses every AIO request for the documented 60 s window")),
    cell(Aio, "POST", AI, r#"{"reset":"before_body"}"#, Reported { says: "interrupted", stored: 0 }),
    cell(Aio, "POST", AI, r#"{"reset":"after_body"}"#, Reported { says: "interrupted", stored: 0 }),
    cell(Aio, "POST", AI, STALL, Reported { says: "timeout", stored: 1 }),
    cell(Aio, "POST", AI, SLOW_BODY, Reported { says: "timeout", stored: 1 }),
    cell(Aio, "POST", AI, r#"{"truncated_body":true}"#, Reported { says: "interrupted", stored: 1 }),
    cell(Aio, "POST", AI, r#"{"status":401}"#, Reported { says: "401", stored: 0 }),
    cell(Aio, "POST", AI, r#"{"status":403}"#, Reported { says: "403", stored: 0 }),
    cell(Aio, "POST", AI, r#"{"status":404}"#, Reported { says: "404", stored: 0 }),
    cell(Aio, "POST", AI, r#"{"status":422}"#, Reported { says: "422", stored: 0 }),
    // Testomat.io: the batches (idempotent: `overwrite` with stable rids) and the run creation.
    cell(Testomat, "POST", TR, r#"{"status":500}"#, Delivered { attempts: 2 }),
    cell(Testomat, "POST", TR, r#"{"status":502}"#, Delivered { attempts: 2 }),
    cell(Testomat, "POST", TR, r#"{"status":503,"retry_after":"0"}"#, Delivered { attempts: 2 }),
    cell(Testomat, "POST", TR, r#"{"status":429,"retry_after":"1"}"#, Delivered { attempts: 2 }),
    cell(Testomat, "POST", TR, r#"{"status":429}"#, Delivered { attempts: 2 }),
    cell(Testomat, "POST", TR, r#"{"reset":"before_body"}"#, Delivered { attempts: 2 }),
    cell(Testomat, "POST", TR, r#"{"reset":"after_body"}"#, Delivered { attempts: 2 }),
    cell(Testomat, "POST", TR, STALL, Delivered { attempts: 2 }),
    cell(Testomat, "POST", TR, SLOW_BODY, Delivered { attempts: 2 }),
    cell(Testomat, "POST", TR, r#"{"truncated_body":true}"#, Delivered { attempts: 2 }),
    cell(Testomat, "POST", TR, r#"{"status":401}"#, Reported { says: "401", stored: 0 }),
    cell(Testomat, "POST", TR, r#"{"status":403}"#, Reported { says: "403", stored: 0 }),
    cell(Testomat, "POST", TR, r#"{"status":404}"#, Reported { says: "404", stored: 0 }),
    cell(Testomat, "POST", TR, r#"{"status":422}"#, Reported { says: "422", stored: 0 }),
    cell(Testomat, "POST", CREATE, r#"{"status":500}"#, Reported { says: "500", stored: 0 }),
    cell(Testomat, "POST", CREATE, r#"{"reset":"after_body"}"#, Reported { says: "interrupted", stored: 0 }),
    // ValueEdge: the push (idempotent: Octane answers a repeated payload with the first task).
    cell(Valueedge, "POST", OC, r#"{"status":500}"#, Delivered { attempts: 2 }),
    cell(Valueedge, "POST", OC, r#"{"status":502}"#, Delivered { attempts: 2 }),
    cell(Valueedge, "POST", OC, r#"{"status":503,"retry_after":"0"}"#, Delivered { attempts: 2 }),
    cell(Valueedge, "POST", OC, r#"{"status":429,"retry_after":"1"}"#, Delivered { attempts: 2 }),
    cell(Valueedge, "POST", OC, r#"{"status":429}"#, Delivered { attempts: 2 }),
    cell(Valueedge, "POST", OC, r#"{"reset":"before_body"}"#, Delivered { attempts: 2 }),
    cell(Valueedge, "POST", OC, r#"{"reset":"after_body"}"#, Delivered { attempts: 2 }),
    cell(Valueedge, "POST", OC, STALL, Delivered { attempts: 2 }),
    cell(Valueedge, "POST", OC, SLOW_BODY, Delivered { attempts: 2 }),
    cell(Valueedge, "POST", OC, r#"{"truncated_body":true}"#, Delivered { attempts: 2 }),
    cell(Valueedge, "POST", OC, r#"{"status":401}"#, Delivered { attempts: 2 }),
    cell(Valueedge, "POST", OC, r#"{"status":403}"#, Reported { says: "403", stored: 0 }),
    cell(Valueedge, "POST", OC, r#"{"status":404}"#, Reported { says: "404", stored: 0 }),
    cell(Valueedge, "POST", OC, r#"{"status":422}"#, Reported { says: "422", stored: 0 }),
    // GitHub: the check-run creation (not idempotent: a retry could leave two check runs).
    cell(Github, "POST", GH, r#"{"status":500}"#, Reported { says: "500", stored: 0 }),
    cell(Github, "POST", GH, r#"{"status":502}"#, Reported { says: "502", stored: 0 }),
    cell(Github, "POST", GH, r#"{"status":503,"retry_after":"0"}"#, Delivered { attempts: 2 }),
    cell(Github, "POST", GH, r#"{"status":429,"retry_after":"1"}"#, Delivered { attempts: 2 }),
    cell(Github, "POST", GH, r#"{"status":429}"#, Delivered { attempts: 2 }),
    cell(Github, "POST", GH, r#"{"reset":"before_body"}"#, Reported { says: "interrupted", stored: 0 }),
    cell(Github, "POST", GH, r#"{"reset":"after_body"}"#, Reported { says: "interrupted", stored: 0 }),
    cell(Github, "POST", GH, STALL, Reported { says: "timeout", stored: 1 }),
    cell(Github, "POST", GH, r#"{"truncated_body":true}"#, Reported { says: "interrupted", stored: 1 }),
    cell(Github, "POST", GH, r#"{"status":401}"#, Reported { says: "401", stored: 0 }),
    cell(Github, "POST", GH, r#"{"status":403}"#, Reported { says: "403", stored: 0 }),
    cell(Github, "POST", GH, r#"{"status":404}"#, Reported { says: "404", stored: 0 }),
    cell(Github, "POST", GH, r#"{"status":422}"#, Reported { says: "422", stored: 0 }),
];

/// A native client that gives up on a response after [`CLIENT_LIMIT`], as its own
/// `REQUEST_TIMEOUT` would after 60 s.
struct Impatient {
    inner: NativeClient,
}

impl HttpClient for Impatient {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        tokio::time::timeout(CLIENT_LIMIT, self.inner.send(request))
            .await
            .unwrap_or(Err(TransportError::Timeout))
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }
}

fn fake_name(service: Service, path: &str) -> &'static str {
    match service {
        Testnod if path == PUT => "storage",
        Testnod => "testnod",
        Aio => "aio",
        Testomat => "testomatio",
        Valueedge => "octane",
        Github => "github",
    }
}

/// The settings that send [`REPORT`] to `service` on `fake`, merged into `raw`.
fn configure(service: Service, fake: &FakeServices, raw: RawConfig) -> RawConfig {
    let url = &fake.url;
    match service {
        Testnod => RawConfig {
            testnod_token: Some("testnod-token".into()),
            testnod_url: Some(format!("{url}/testnod")),
            testnod_build_id: Some("build-1".into()),
            ..raw
        },
        Aio => RawConfig {
            aio_token: Some("aio-token".into()),
            aio_url: Some(format!("{url}/aio/aio-tcms/api/v1")),
            aio_project: Some("PROJ".into()),
            aio_cycle: Some("PROJ-CY-1".into()),
            aio_create_case: Some("true".into()),
            ..raw
        },
        Testomat => RawConfig {
            testomatio_api_key: Some("tstmt_fake-key".into()),
            testomatio_url: Some(format!("{url}/testomatio")),
            ..raw
        },
        Valueedge => RawConfig {
            valueedge_url: Some(format!("{url}/octane")),
            valueedge_shared_space: Some("1001".into()),
            valueedge_workspace: Some("1002".into()),
            valueedge_client_id: Some("octane-client".into()),
            valueedge_client_secret: Some("octane-secret".into()),
            ..raw
        },
        Github => RawConfig {
            check_run: Some("true".into()),
            token: Some("github-token".into()),
            commit: Some(COMMIT.into()),
            ..raw
        },
    }
}

fn run_pipeline(fake: &FakeServices, services: &[Service]) -> Outcome {
    let raw = services
        .iter()
        .fold(RawConfig::default(), |raw, s| configure(*s, fake, raw));
    let inputs = Inputs {
        config: raw.validate().expect("valid settings"),
        files: vec![parse_file(&repo().join(REPORT))],
        env: [
            ("GITHUB_API_URL", format!("{}/github", fake.url)),
            ("GITHUB_REPOSITORY", "acme/widgets".into()),
        ]
        .map(|(k, v)| (k.to_owned(), v))
        .into(),
        ..Inputs::default()
    };
    let client = Impatient {
        inner: NativeClient::new(),
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(pipeline::run(&inputs, &client))
}

/// Copies of the report the service holds: TestNod uploads, AIO imports, Octane tasks, GitHub
/// check runs; Testomat.io executions divided by the tests in the report.
fn stored(fake: &FakeServices, service: Service) -> usize {
    let count = |v: &serde_json::Value| v.as_array().map_or(0, Vec::len);
    match service {
        Testnod => fake.state("testnod")["runs"]
            .as_array()
            .map_or(0, |runs| runs.iter().map(|r| count(&r["uploads"])).sum()),
        Aio => count(&fake.state("aio")["imports"]),
        Testomat => {
            let executions: usize = fake.state("testomatio")["runs"]
                .as_array()
                .map_or(0, |runs| runs.iter().map(|r| count(&r["executions"])).sum());
            assert_eq!(executions % REPORT_TESTS, 0, "a partial copy: {executions}");
            executions / REPORT_TESTS
        }
        Valueedge => count(&fake.state("octane")["tasks"]),
        Github => count(&fake.state("github")["check_runs"]),
    }
}

/// Checks that the delivered copy is whole, beyond being there.
fn assert_whole(fake: &FakeServices, service: Service, cell: &str) {
    match service {
        Testnod => {
            let upload = &fake.state("testnod")["runs"][0]["uploads"][0];
            let file = upload["file_utf8"].as_str().unwrap_or_default();
            for test in [
                "addsAnItem",
                "removesAnItem",
                "appliesCoupon",
                "paysWithCard",
            ] {
                assert!(file.contains(test), "{cell}: {test} is in the stored file");
            }
        }
        Valueedge => {
            let runs = &fake.state("octane")["tasks"][0]["runs"];
            assert_eq!(runs.as_array().map(Vec::len), Some(REPORT_TESTS), "{cell}");
        }
        Aio | Testomat | Github => {}
    }
}

fn run_cell(cell: &Cell) -> Option<String> {
    let name = format!(
        "{:?} {} {} {}",
        cell.service, cell.method, cell.path, cell.fault
    );
    if let NotRun(why) = cell.expect {
        eprintln!("{name}: not run: {why}");
        return None;
    }
    let fake = FakeServices::start();
    let service = fake_name(cell.service, cell.path);
    let rule = format!(
        r#"[{{"service":"{service}","method":"{}","path_regex":"{}$","fault":{}}}]"#,
        cell.method,
        if cell.path == PUT { "" } else { cell.path },
        cell.fault
    );
    fake.control("/_fake/faults", &rule);
    let outcome = run_pipeline(&fake, &[cell.service]);
    if cell.fault == STALL {
        // The fake finishes the stalled request after the client gave up on it.
        std::thread::sleep(Duration::from_millis(800));
    }
    let hits = fake
        .requests(service)
        .iter()
        .filter(|r| r["method"] == cell.method)
        .filter(|r| cell.path == PUT || r["path"].as_str().unwrap_or("").ends_with(cell.path))
        .count();
    let stored = stored(&fake, cell.service);
    let failure = outcome.failure.clone().unwrap_or_default();
    let mismatch = match cell.expect {
        Delivered { attempts } => {
            if outcome.exit_code != 0 || stored != 1 || hits != attempts {
                Some(format!(
                    "expected delivered once after {attempts} attempts; got exit {}, {stored} stored, {hits} attempts, failure {failure:?}",
                    outcome.exit_code
                ))
            } else {
                assert_whole(&fake, cell.service, &name);
                None
            }
        }
        Reported { says, stored: want } => {
            let lower = failure.to_lowercase();
            if outcome.exit_code != 3 || !lower.contains(says) || stored != want {
                Some(format!(
                    "expected exit 3 saying {says:?} with {want} stored; got exit {}, {stored} stored, {hits} attempts, failure {failure:?}",
                    outcome.exit_code
                ))
            } else {
                None
            }
        }
        NotRun(_) => None,
    };
    mismatch.map(|m| format!("{name}: {m}"))
}

/// Runs the cells of one service and reports every mismatch at once.
fn run_service(service: Service) {
    let cells: Vec<&Cell> = MATRIX.iter().filter(|c| c.service == service).collect();
    assert!(cells.len() >= 12, "{service:?}: the matrix is complete");
    let failures: Vec<String> = cells.iter().filter_map(|c| run_cell(c)).collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn testnod_under_faults() {
    run_service(Testnod);
}

#[test]
fn aio_under_faults() {
    run_service(Aio);
}

#[test]
fn testomat_under_faults() {
    run_service(Testomat);
}

#[test]
fn valueedge_under_faults() {
    run_service(Valueedge);
}

#[test]
fn github_check_run_under_faults() {
    run_service(Github);
}

#[test]
fn one_failing_service_never_stops_the_others() {
    let fake = FakeServices::start();
    fake.control(
        "/_fake/faults",
        r#"[{"service":"testnod","method":"POST","path_regex":"/upload$","times":10,"fault":{"status":500}}]"#,
    );
    let all = [Testnod, Aio, Testomat, Valueedge, Github];
    let outcome = run_pipeline(&fake, &all);
    assert_eq!(outcome.exit_code, 3, "{:?}", outcome.failure);
    let failure = outcome.failure.unwrap_or_default();
    assert!(failure.to_lowercase().contains("testnod"), "{failure}");
    assert_eq!(stored(&fake, Testnod), 0);
    for service in [Aio, Testomat, Valueedge, Github] {
        assert_eq!(stored(&fake, service), 1, "{service:?} still delivered");
    }
    assert!(
        outcome.summary.contains("TestNod"),
        "the summary lists the failed upload"
    );
}
