//! Testomat.io: create a run (`POST /api/reporter`) or attach to one (`PUT /api/reporter/{uid}`)
//! → send the tests in batches (`POST /api/reporter/{uid}/testrun`) → finish (`PUT
//! /api/reporter/{uid}` with `status_event`) (../shared/reference/vendors.md §2).
//!
//! - The API takes JSON only, so every format we parse is sent as Testomat test objects. The
//!   project key travels as `api_key` in the JSON body of every call, as the official JS reporter
//!   sends it ([SRC] `src/pipe/testomatio.js`), never in a URL; it is a [`Secret`] and bodies are
//!   redacted before anything prints them.
//! - Statuses: Testomat knows only passed/failed/skipped ([DOC] §2.6). Errored → `failed` (the
//!   official XML reader maps `<error>` the same way); flaky → `passed` (the final attempt
//!   passed; the message says after how many attempts).
//! - `run_time` is sent in milliseconds by default: the docs say seconds, but the dominant
//!   official client (the JS reporter and its XML reader, `parseFloat(time) * 1000`) sends ms and
//!   the service displays those correctly; [`RunTimeUnit::Seconds`] follows the docs and
//!   pytestomatio instead. The finish `duration` is seconds everywhere ([DOC]).
//! - Test ids: `@T` + 8 hex in the test name, a test property `ID`/`test_id`, a `@T…` tag
//!   (Cucumber, Robot, CTRF), or `tid://@T…` in the test's output (the XML reader's marker) becomes `test_id` (8 hex, the reporter strips
//!   `@T`); the id is removed from the title.
//! - Parameters: a trailing `[…]` in the name (pytest, JUnit 5) becomes `example` and leaves the
//!   plain title, so the executions of one parameterized test land on one Testomat test.
//! - Every test carries a `rid`: a hash of the scope (`testomatio-env`, CI job and runner), the
//!   report file, the suite, the name and the occurrence of that name, so a test repeated across
//!   parameters, matrix shards or report files stays a separate execution, and the same execution
//!   sent twice has the same rid. Every test is also sent with `overwrite: true` ([DOC]
//!   "overwrite previous status to avoid retry counters"): a batch sent again after a timeout or a
//!   broken connection replaces its own executions instead of adding to them. That is why batches
//!   are retried as idempotent (`batch_index` repeats too, so the repeat is visible).
//! - Batches are bounded by [`MAX_BATCH_TESTS`] and [`MAX_BATCH_BYTES`]; stacks by
//!   [`MAX_STACK_BYTES`], messages by [`MAX_MESSAGE_BYTES`]. Steps are not sent: the model keeps
//!   no steps.
//! - Creating a run is not idempotent (a repeat makes a second run), so it is retried only when
//!   the service cannot have acted (429, 503, refused connection). Attach and finish are PUTs.
//! - Errors: 401/403 → "API key rejected" (the service answers 403 `Project API Token is
//!   invalid`, the OpenAPI says 401); 404 → unknown run uid; other answers carry `message`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::ServiceError;
use crate::http::retry::{send_with_retry, HttpError, Idempotency, RetryPolicy};
use crate::http::{request, Body, HttpClient, Method, Request, Response, Secret};
use crate::model::{truncate_utf8, Case, Status, TestRun};

/// [DOC] The public host.
pub const DEFAULT_BASE_URL: &str = "https://app.testomat.io";
/// [DOC] The project API key, as all official reporters read it.
pub const ENV_API_KEY: &str = "TESTOMATIO";
/// [DOC] Aliases of [`ENV_API_KEY`], read in this order when it is unset.
pub const ENV_API_KEY_ALIASES: [&str; 2] = ["TESTOMATIO_TOKEN", "TESTOMATIO_API_KEY"];
/// [SRC] Base URL override of all official reporters.
pub const ENV_URL: &str = "TESTOMATIO_URL";
/// [DOC] Attach to this run uid instead of creating one.
pub const ENV_RUN: &str = "TESTOMATIO_RUN";
/// [DOC] Run title.
pub const ENV_TITLE: &str = "TESTOMATIO_TITLE";
/// [DOC] Run environment (`linux,chrome`).
pub const ENV_ENV: &str = "TESTOMATIO_ENV";
/// [DOC] Run group title.
pub const ENV_GROUP: &str = "TESTOMATIO_RUNGROUP_TITLE";
/// [DOC] Create unknown tests (`1`/`true`).
pub const ENV_CREATE: &str = "TESTOMATIO_CREATE";
/// [DOC] Report into the shared run of the same title.
pub const ENV_SHARED_RUN: &str = "TESTOMATIO_SHARED_RUN";
/// [DOC] Create a run.
pub const CREATE_PATH: &str = "/api/reporter";
/// [INF] Tests per `testrun` request. The JS reporter flushes by time (every 5–6 s) and
/// pytestomatio by a fixed count; a hundred keeps each request small and 10,000 tests at 100
/// requests.
pub const MAX_BATCH_TESTS: usize = 100;
/// [INF] Bytes of one `testrun` body: under nginx's default `client_max_body_size` (1 MiB) with
/// room for the envelope. A single larger test is sent alone.
pub const MAX_BATCH_BYTES: usize = 900 * 1024;
/// [SRC] `TESTOMATIO_MAX_STACK_TRACE`'s default (10,000 characters; bytes here, cut on a
/// character boundary).
pub const MAX_STACK_BYTES: usize = 10_000;
/// [INF] A failure message is a headline; its detail belongs in the stack.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024;
const SERVICE: &str = "testomatio";

/// `testomatio-finish`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Finish {
    /// `status_event: finish`: the run is complete after this job.
    #[default]
    True,
    /// Leave the run open (a later job finishes it).
    False,
    /// `status_event: finish_parallel`: this shard is done; a final `finish` closes the run.
    Parallel,
}

impl Finish {
    /// The `status_event` sent, if any.
    pub fn status_event(self) -> Option<&'static str> {
        match self {
            Finish::True => Some("finish"),
            Finish::False => None,
            Finish::Parallel => Some("finish_parallel"),
        }
    }
}

impl std::str::FromStr for Finish {
    type Err = String;
    fn from_str(s: &str) -> Result<Finish, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "true" => Ok(Finish::True),
            "false" => Ok(Finish::False),
            "parallel" => Ok(Finish::Parallel),
            other => Err(format!("'{other}' is not one of true, false, parallel")),
        }
    }
}

/// `testomatio-run-time-unit`: the unit of each test's `run_time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum RunTimeUnit {
    /// What the official JS reporter and XML importer send.
    #[default]
    #[serde(rename = "ms")]
    Milliseconds,
    /// What the docs and pytestomatio say.
    #[serde(rename = "s")]
    Seconds,
}

impl std::str::FromStr for RunTimeUnit {
    type Err = String;
    fn from_str(s: &str) -> Result<RunTimeUnit, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "ms" => Ok(RunTimeUnit::Milliseconds),
            "s" => Ok(RunTimeUnit::Seconds),
            other => Err(format!("'{other}' is not one of ms, s")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestomatConfig {
    pub api_key: Secret,
    pub base_url: String,
    /// Attach to this run instead of creating one.
    pub run: Option<String>,
    pub title: Option<String>,
    pub env: Option<String>,
    pub group_title: Option<String>,
    pub ci_build_url: Option<String>,
    pub create_tests: bool,
    pub finish: Finish,
    pub shared_run: bool,
    pub run_time_unit: RunTimeUnit,
    /// Separates the rids of jobs that report the same tests into one run (env, job, runner).
    pub rid_scope: String,
    /// Skip the finish when a batch failed: the batches are spooled and a resume sends them
    /// and finishes, so they never land in a closed run.
    pub hold_finish: bool,
}

/// What Testomat.io ended up with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub run_uid: Option<String>,
    pub run_url: Option<String>,
    pub public_url: Option<String>,
    /// Tests in the batches the service accepted.
    pub tests_sent: usize,
    pub tests_total: usize,
    pub batches_sent: usize,
    /// The batches (`batch_index`, from 1) not delivered, to spool.
    pub failed_batches: Vec<usize>,
    /// The `status_event` the service accepted, when one was sent.
    pub finished: Option<&'static str>,
    pub errors: Vec<ServiceError>,
}

/// [DOC] The answer to create and attach.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RunAnswer {
    pub uid: Option<String>,
    pub url: Option<String>,
    pub public_url: Option<String>,
}

/// One test as the `testrun` endpoint takes it ([DOC] §2.4 (2)).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestEntry {
    pub title: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suite_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_time: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<Value>,
    pub rid: String,
    pub create: bool,
    pub overwrite: bool,
}

/// The report files to send: each file's path and its parsed runs.
pub type Reports<'a> = [(&'a str, &'a [TestRun])];

/// 64-bit FNV-1a: stable across platforms and compiler versions, unlike `DefaultHasher`, so a
/// rid never changes between the action's wasm build and the CLI.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// The first `@T` + 8 hex digits not followed by a letter or digit: its start and the digits.
fn find_tag(text: &str) -> Option<(usize, &str)> {
    let mut from = 0;
    while let Some(at) = text[from..].find("@T") {
        let start = from + at;
        let id = text.get(start + 2..start + 10);
        let after = text[start + 2..].chars().nth(8);
        if let Some(id) = id.filter(|id| id.bytes().all(|b| b.is_ascii_hexdigit())) {
            if !after.is_some_and(char::is_alphanumeric) {
                return Some((start, id));
            }
        }
        from = start + 2;
    }
    None
}

/// A bare Testomat id (`@Ta0b1c2d3`, `Ta0b1c2d3` or `a0b1c2d3`) as 8 hex, or `None`.
fn bare_id(value: &str) -> Option<String> {
    let v = value.trim();
    let v = v.strip_prefix('@').unwrap_or(v);
    let v = if v.len() == 9 {
        v.strip_prefix('T').unwrap_or(v)
    } else {
        v
    };
    (v.len() == 8 && v.bytes().all(|b| b.is_ascii_hexdigit())).then(|| v.to_owned())
}

/// The test id from the name, a property (`ID`, `test_id`), a tag or a `tid://` marker in the
/// output.
fn test_id(case: &Case) -> Option<String> {
    if let Some((_, id)) = find_tag(&case.name) {
        return Some(id.to_owned());
    }
    let property = case.properties().iter().find_map(|(name, value)| {
        match name.to_ascii_lowercase().as_str() {
            "id" | "test_id" | "testomatio" => bare_id(value),
            // Cucumber, Robot and CTRF tags: Testomat tags scenarios `@T…`.
            "tag" => find_tag(value).map(|(_, id)| id.to_owned()),
            _ => None,
        }
    });
    if property.is_some() {
        return property;
    }
    [case.stdout(), case.stderr()]
        .into_iter()
        .flatten()
        .find_map(|out| {
            out.match_indices("tid://").find_map(|(at, marker)| {
                find_tag(&out[at + marker.len()..])
                    .filter(|(start, _)| *start == 0)
                    .map(|(_, id)| id.to_owned())
            })
        })
}

/// The title without its `@T` id, and the trailing `[parameters]` split off as the example.
fn title_and_example(name: &str) -> (String, Option<Value>) {
    let title = match find_tag(name) {
        Some((start, _)) => {
            let (before, after) = (name[..start].trim_end(), name[start + 10..].trim_start());
            let gap = if before.is_empty() || after.is_empty() {
                ""
            } else {
                " "
            };
            format!("{before}{gap}{after}")
        }
        None => name.to_owned(),
    };
    if let Some(open) = title.rfind('[').filter(|_| title.ends_with(']')) {
        let params = title[open + 1..title.len() - 1].trim();
        let base = title[..open].trim_end();
        if !params.is_empty() && !base.is_empty() {
            return (base.to_owned(), Some(Value::String(params.to_owned())));
        }
    }
    (title, None)
}

fn status(status: Status) -> &'static str {
    match status {
        Status::Passed | Status::Flaky { .. } => "passed",
        Status::Failed | Status::Errored => "failed",
        Status::Skipped => "skipped",
    }
}

fn message(case: &Case) -> Option<String> {
    let text = match case.status {
        Status::Flaky { attempts } => format!("flaky: passed after {attempts} attempts"),
        _ => case.headline()?.to_owned(),
    };
    Some(truncate_utf8(&text, MAX_MESSAGE_BYTES).to_owned())
}

/// Failure details of a failed or errored test, each problem's type, message and trace.
fn stack(case: &Case) -> Option<String> {
    if !case.status.is_failure() {
        return None;
    }
    let mut out = String::new();
    for p in case.problems() {
        let head: Vec<&str> = [p.kind.as_deref(), p.message.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        for part in [Some(head.join(": ")), p.trace.clone()]
            .into_iter()
            .flatten()
        {
            if !part.trim().is_empty() {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&part);
            }
        }
    }
    (!out.is_empty()).then(|| truncate_utf8(&out, MAX_STACK_BYTES).to_owned())
}

fn run_time(case: &Case, unit: RunTimeUnit) -> Option<Value> {
    let d = case.duration?;
    Some(match unit {
        RunTimeUnit::Milliseconds => json!(crate::model::millis(d)),
        // Milliseconds precision, as a decimal number of seconds.
        RunTimeUnit::Seconds => json!(crate::model::millis(d) as f64 / 1000.0),
    })
}

/// Every test of every report as a Testomat test object, in report order.
pub fn build_tests(config: &TestomatConfig, reports: &Reports<'_>) -> Vec<TestEntry> {
    let mut seen: std::collections::HashMap<u64, u32> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for (path, runs) in reports {
        for suite in runs.iter().flat_map(|r| r.suites.iter()) {
            for case in &suite.cases {
                let classname = case.classname.as_deref().unwrap_or_default();
                let key = fnv1a(&[&config.rid_scope, path, &suite.name, classname, &case.name]);
                let occurrence = seen.entry(key).or_insert(0);
                *occurrence += 1;
                let rid = format!(
                    "{:016x}",
                    fnv1a(&[&key.to_string(), &occurrence.to_string()])
                );
                let (title, example) = title_and_example(&case.name);
                let suite_title = case
                    .classname
                    .as_deref()
                    .map(str::to_owned)
                    .or_else(|| (!suite.name.is_empty()).then(|| suite.name.clone()));
                out.push(TestEntry {
                    title,
                    status: status(case.status),
                    test_id: test_id(case),
                    suite_title,
                    file: case.location().map(|l| l.file.clone()),
                    run_time: run_time(case, config.run_time_unit),
                    message: message(case),
                    stack: stack(case),
                    example,
                    rid,
                    create: config.create_tests,
                    overwrite: true,
                });
            }
        }
    }
    out
}

fn url(config: &TestomatConfig, path: &str) -> String {
    format!("{}{path}", config.base_url.trim_end_matches('/'))
}

fn run_path(uid: &str) -> String {
    format!("{CREATE_PATH}/{uid}")
}

fn testrun_path(uid: &str) -> String {
    format!("{CREATE_PATH}/{uid}/testrun")
}

fn error(step: &'static str, message: String) -> ServiceError {
    ServiceError {
        service: SERVICE,
        step,
        file: None,
        message,
    }
}

fn json_request(
    method: Method,
    config: &TestomatConfig,
    path: &str,
    body: Vec<u8>,
) -> Result<Request<Body>, ServiceError> {
    request(
        method,
        &url(config, path),
        &[
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ],
        body,
    )
    .map_err(|e| error("request", e.to_string()))
}

/// The run parameters of create and attach: only what is set.
fn run_params(config: &TestomatConfig) -> Value {
    let mut body = serde_json::Map::new();
    body.insert("api_key".into(), json!(config.api_key.expose()));
    let mut put = |key: &str, value: &Option<String>| {
        if let Some(v) = value.as_ref().filter(|v| !v.trim().is_empty()) {
            body.insert(key.into(), json!(v));
        }
    };
    put("title", &config.title);
    put("env", &config.env);
    put("group_title", &config.group_title);
    // [SRC] dropped unless it is a URL.
    put(
        "ci_build_url",
        &config
            .ci_build_url
            .clone()
            .filter(|u| u.starts_with("http")),
    );
    if config.shared_run {
        body.insert("shared_run".into(), json!(true));
    }
    if config.finish == Finish::Parallel {
        body.insert("parallel".into(), json!(true));
    }
    Value::Object(body)
}

/// `POST /api/reporter`: a new run.
pub fn build_create(config: &TestomatConfig) -> Result<Request<Body>, ServiceError> {
    json_request(
        Method::POST,
        config,
        CREATE_PATH,
        run_params(config).to_string().into_bytes(),
    )
}

/// `PUT /api/reporter/{uid}` without `status_event`: attach to a run (and update its parameters).
pub fn build_attach(config: &TestomatConfig, uid: &str) -> Result<Request<Body>, ServiceError> {
    json_request(
        Method::PUT,
        config,
        &run_path(uid),
        run_params(config).to_string().into_bytes(),
    )
}

/// The tests cut into batches of at most [`MAX_BATCH_TESTS`] tests and [`MAX_BATCH_BYTES`]
/// bytes of serialized tests, each test serialized once.
pub fn batches(tests: &[TestEntry]) -> Vec<Vec<Vec<u8>>> {
    let mut out: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut bytes = 0;
    for test in tests {
        // A struct of strings and numbers always serializes.
        let Ok(encoded) = serde_json::to_vec(test) else {
            continue;
        };
        let full = out.last().is_none_or(|b| {
            b.len() >= MAX_BATCH_TESTS || bytes + encoded.len() + 1 > MAX_BATCH_BYTES
        });
        if full {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += encoded.len() + 1;
        if let Some(batch) = out.last_mut() {
            batch.push(encoded);
        }
    }
    out
}

/// `POST /api/reporter/{uid}/testrun` with `{"api_key", "batch_index", "tests": [...]}`;
/// `batch_index` counts from 1, as the official clients do.
pub fn build_batch(
    config: &TestomatConfig,
    uid: &str,
    batch_index: usize,
    tests: &[Vec<u8>],
) -> Result<Request<Body>, ServiceError> {
    let size: usize = tests.iter().map(|t| t.len() + 1).sum();
    let mut body = Vec::with_capacity(size + 96);
    body.extend_from_slice(b"{\"api_key\":");
    body.extend_from_slice(json!(config.api_key.expose()).to_string().as_bytes());
    body.extend_from_slice(format!(",\"batch_index\":{batch_index},\"tests\":[").as_bytes());
    for (i, test) in tests.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(test);
    }
    body.extend_from_slice(b"]}");
    json_request(Method::POST, config, &testrun_path(uid), body)
}

/// `PUT /api/reporter/{uid}` with `status_event` and the run's duration in seconds.
pub fn build_finish(
    config: &TestomatConfig,
    uid: &str,
    status_event: &str,
    duration_ms: u64,
) -> Result<Request<Body>, ServiceError> {
    let body = json!({
        "api_key": config.api_key.expose(),
        "status_event": status_event,
        "duration": duration_ms as f64 / 1000.0,
    });
    json_request(
        Method::PUT,
        config,
        &run_path(uid),
        body.to_string().into_bytes(),
    )
}

pub fn parse_run(response: &Response<Body>) -> Result<RunAnswer, String> {
    serde_json::from_slice(response.body()).map_err(|e| {
        format!(
            "unexpected answer ({e}): {}",
            truncate_utf8(&String::from_utf8_lossy(response.body()), 200)
        )
    })
}

/// The `message` of an error body, or the body itself.
fn service_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| body.trim().to_owned())
}

fn explain(step: &'static str, uid: Option<&str>, err: HttpError) -> ServiceError {
    let message = match &err {
        HttpError::Status { status, body, .. } if matches!(status.as_u16(), 401 | 403) => format!(
            "API key rejected (HTTP {} {}): check the testomatio-api-key secret (a project key starts with tstmt_)",
            status.as_u16(),
            service_message(body)
        ),
        HttpError::Status { status, body, .. } if status.as_u16() == 404 => format!(
            "run '{}' not found (HTTP 404 {}): check testomatio-run and that the API key belongs to the run's project",
            uid.unwrap_or_default(),
            service_message(body)
        ),
        HttpError::Status { status, body, .. } => format!(
            "Testomat.io refused the request (HTTP {}): {}",
            status.as_u16(),
            service_message(body)
        ),
        other => other.to_string(),
    };
    error(step, message)
}

/// Whether an error means no later request can succeed either (bad key, unknown run).
fn is_fatal(err: &HttpError) -> bool {
    matches!(err, HttpError::Status { status, .. } if matches!(status.as_u16(), 401 | 403 | 404))
}

/// Creates or attaches to the run, sends every test in batches, then finishes as configured.
pub async fn upload<C: HttpClient>(
    client: &C,
    config: &TestomatConfig,
    tests: &[TestEntry],
    duration_ms: u64,
    policy: &RetryPolicy,
) -> Receipt {
    let mut receipt = Receipt {
        tests_total: tests.len(),
        ..Receipt::default()
    };
    let Some(uid) = open(client, config, policy, &mut receipt).await else {
        return receipt;
    };
    let batches: Vec<Batch> = batches(tests)
        .into_iter()
        .enumerate()
        .map(|(i, b)| (i + 1, b))
        .collect();
    let count = batches.len();
    deliver(
        client,
        config,
        &uid,
        (&batches, count),
        duration_ms,
        policy,
        &mut receipt,
    )
    .await;
    receipt
}

/// Creates or attaches to the run: its uid, or `None` with the error in the receipt.
pub async fn open<C: HttpClient>(
    client: &C,
    config: &TestomatConfig,
    policy: &RetryPolicy,
    receipt: &mut Receipt,
) -> Option<String> {
    let opened = match &config.run {
        Some(uid) => match build_attach(config, uid) {
            Ok(req) => send_with_retry(client, req, Idempotency::Idempotent, policy)
                .await
                .map_err(|e| explain("attach", Some(uid), e)),
            Err(e) => Err(e),
        },
        None => match build_create(config) {
            Ok(req) => send_with_retry(client, req, Idempotency::NotIdempotent, policy)
                .await
                .map_err(|e| explain("create", None, e)),
            Err(e) => Err(e),
        },
    };
    let answer = opened.and_then(|response| {
        parse_run(&response).map_err(|m| {
            error(
                if config.run.is_some() {
                    "attach"
                } else {
                    "create"
                },
                m,
            )
        })
    });
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            receipt.errors.push(e);
            return None;
        }
    };
    let Some(uid) = answer.uid.clone().or_else(|| config.run.clone()) else {
        receipt
            .errors
            .push(error("create", "the answer carried no run uid".into()));
        return None;
    };
    receipt.run_uid = Some(uid.clone());
    receipt.run_url = answer.url;
    receipt.public_url = answer.public_url;
    Some(uid)
}

/// One `testrun` request's content: its `batch_index` (from 1) and the serialized tests.
pub type Batch = (usize, Vec<Vec<u8>>);

/// Sends these batches (`batch_index` and serialized tests, of `count` in all) to run `uid`,
/// then finishes as configured: the second half of [`upload`], and what a resume repeats.
pub async fn deliver<C: HttpClient>(
    client: &C,
    config: &TestomatConfig,
    uid: &str,
    (batches, count): (&[Batch], usize),
    duration_ms: u64,
    policy: &RetryPolicy,
    receipt: &mut Receipt,
) {
    for (n, (index, batch)) in batches.iter().enumerate() {
        let request = match build_batch(config, uid, *index, batch) {
            Ok(r) => r,
            Err(e) => {
                receipt.errors.push(e);
                receipt.failed_batches.push(*index);
                continue;
            }
        };
        // Idempotent: every test carries its rid and `overwrite: true` (module docs).
        match send_with_retry(client, request, Idempotency::Idempotent, policy).await {
            Ok(_) => {
                receipt.batches_sent += 1;
                receipt.tests_sent += batch.len();
            }
            Err(e) => {
                let fatal = is_fatal(&e);
                let mut err = explain("testrun", Some(uid), e);
                err.message = format!("batch {index} of {count}: {}", err.message);
                receipt.errors.push(err);
                receipt.failed_batches.push(*index);
                if fatal {
                    let rest = batches.iter().skip(n + 1).map(|(i, _)| *i);
                    receipt.failed_batches.extend(rest);
                    return;
                }
            }
        }
    }

    let Some(event) = config.finish.status_event() else {
        return;
    };
    if config.hold_finish && !receipt.failed_batches.is_empty() {
        return;
    }
    let finished = match build_finish(config, uid, event, duration_ms) {
        Ok(req) => send_with_retry(client, req, Idempotency::Idempotent, policy)
            .await
            .map_err(|e| explain("finish", Some(uid), e)),
        Err(e) => Err(e),
    };
    match finished {
        Ok(_) => receipt.finished = Some(event),
        Err(e) => receipt.errors.push(e),
    }
}

#[cfg(test)]
mod tests;
