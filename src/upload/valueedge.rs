//! ValueEdge / ALM Octane: sign in → POST `test_result` XML (gzip) → poll the task
//! (../shared/reference/vendors.md §3, the public test-results resource, as the collection tool
//! uses it; the CI plugins' internal API needs a CI server registered in ValueEdge).
//!
//! - Sign in once with the API access key (`{"client_id","client_secret"}`, [DOC]) and keep the
//!   `LWSSO_COOKIE_KEY` cookie; a response that sets a fresh one replaces it ([SRC] CI SDK). A 401
//!   on a later call signs in again once and repeats that call once ([SRC] CI SDK, JS SDK,
//!   collection tool). Every request carries `HPECLIENTTYPE: HPE_CI_CLIENT` ([SRC]).
//! - Each document (see [`payload`]) is POSTed gzip-compressed with `Content-Encoding: gzip` (the
//!   CI SDK's header; the fake and the server accept the docs' `application/gzip` too) and
//!   `?skip-errors=`. The server hashes payloads and answers a known one with the original task
//!   and `"fromOlderPush":"true"` ([DOC]), so the POST is safe to retry: it is idempotent.
//! - 202 `{"status","id"}` → the task; with `wait`, it is polled (`GET test-results/{id}`) with
//!   doubling delays from [`FIRST_POLL_DELAY`] to [`MAX_POLL_DELAY`] until `success`, `failed`
//!   or `warning` ([SRC] `RestClientTest`), for at most [`POLL_BUDGET`]. A `failed` task is an
//!   error; a `warning` task's details are shown but do not fail the step.
//! - Every request, polls and retries included, is paced to at most
//!   [`MAX_REQUESTS_PER_SECOND`] ([DOC] "up to 20 requests per second") through the client's
//!   clock and `sleep`.
//! - The secret and the cookie are [`Secret`]s: they print as `****`.
//! - A document whose push was not accepted (sign-in refused, push failed after its retries) is
//!   kept in the receipt byte for byte, for the spool: resent as it was, one the server did
//!   process after all is answered with its first task, never stored twice. An accepted push is
//!   delivered, whatever its task does next: sending it again would only return that task.

pub mod payload;

use std::cell::Cell;
use std::io::{Read, Write};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ServiceError;
use crate::http::retry::{send_with_retry, HttpError, Idempotency, RetryPolicy};
use crate::http::{header, request, Body, HttpClient, Method, Request, Response, Secret};
use crate::pipeline::FileReport;
pub use payload::{Document, FieldType, Links, Release, RunContext, MAX_PAYLOAD_BYTES};

/// Read by the CLI when no flag is given ([INF] our names; the official tools take arguments).
pub const ENV_URL: &str = "VALUEEDGE_URL";
pub const ENV_SHARED_SPACE: &str = "VALUEEDGE_SHARED_SPACE";
pub const ENV_WORKSPACE: &str = "VALUEEDGE_WORKSPACE";
pub const ENV_CLIENT_ID: &str = "VALUEEDGE_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "VALUEEDGE_CLIENT_SECRET";
/// [DOC] Authentication endpoints sit at the server root.
pub const SIGN_IN_PATH: &str = "/authentication/sign_in";
pub const SIGN_OUT_PATH: &str = "/authentication/sign_out";
/// [DOC] The session cookie sign-in sets.
pub const SESSION_COOKIE: &str = "LWSSO_COOKIE_KEY";
/// [SRC] `OctaneRestClient.CLIENT_TYPE_HEADER`, sent on every request by the official CI tools.
pub const CLIENT_TYPE_HEADER: &str = "HPECLIENTTYPE";
pub const CLIENT_TYPE: &str = "HPE_CI_CLIENT";
/// [DOC] "We recommend sending up to 20 requests per second."
pub const MAX_REQUESTS_PER_SECOND: u64 = 20;
/// 1000 / 20 = 50 ms, plus 10 % so network jitter never bunches 21 requests into one second.
pub const MIN_REQUEST_INTERVAL: Duration = Duration::from_millis(55);
/// [INF] A small task is processed in well under a second; the collection tool polls every 100 ms.
pub const FIRST_POLL_DELAY: Duration = Duration::from_millis(250);
pub const MAX_POLL_DELAY: Duration = Duration::from_secs(5);
/// [SRC] The collection tool waits 10 s by default; large pushes take longer, so we wait 5 min.
pub const POLL_BUDGET: Duration = Duration::from_secs(300);
const SERVICE: &str = "valueedge";
/// [SRC] `RestClientTest`: the states a task ends in.
const TERMINAL: [&str; 3] = ["success", "failed", "warning"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueedgeConfig {
    /// `http[s]://host[:port]`, without the `/api/...` part.
    pub base_url: String,
    pub shared_space: String,
    pub workspace: String,
    pub client_id: Secret,
    pub client_secret: Secret,
    pub skip_errors: bool,
    /// Poll each task until it ends.
    pub wait: bool,
    pub context: RunContext,
    /// Bytes of XML per POST (before gzip); [`MAX_PAYLOAD_BYTES`] unless a test splits finer.
    pub max_payload_bytes: usize,
}

/// One POSTed document and what became of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Task {
    pub id: u64,
    /// `queued`, `running`, `success`, `failed`, `warning` (lower case, trimmed).
    pub status: String,
    /// The server had this exact payload already (`fromOlderPush`): not processed again.
    pub already_received: bool,
    pub error_details: Option<String>,
    /// Runs in the document.
    pub runs: usize,
    /// Bytes sent (gzip).
    pub bytes: usize,
    /// Position of its document among those sent.
    #[serde(skip)]
    pub document: usize,
}

/// What ValueEdge ended up with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub tasks: Vec<Task>,
    pub errors: Vec<ServiceError>,
    /// The documents no push was accepted for, with their positions among those sent.
    #[serde(skip)]
    pub unsent: Vec<(usize, Document)>,
}

impl Receipt {
    /// The task ids, comma-separated (`valueedge-task-id`).
    pub fn task_ids(&self) -> Option<String> {
        let ids: Vec<String> = self.tasks.iter().map(|t| t.id.to_string()).collect();
        (!ids.is_empty()).then(|| ids.join(","))
    }

    /// The worst task status (`valueedge-task-status`): failed, warning, running, queued,
    /// success.
    pub fn status(&self) -> Option<&str> {
        let rank = |s: &str| match s {
            "failed" => 0,
            "warning" => 1,
            "running" => 2,
            "queued" => 3,
            "success" => 5,
            _ => 4,
        };
        self.tasks
            .iter()
            .map(|t| t.status.as_str())
            .min_by_key(|s| rank(s))
    }

    pub fn runs(&self) -> usize {
        self.tasks.iter().map(|t| t.runs).sum()
    }
}

/// Spaces requests at least [`MIN_REQUEST_INTERVAL`] apart on the wrapped client's clock.
pub struct Paced<'a, C> {
    inner: &'a C,
    last_ms: Cell<Option<u64>>,
}

impl<'a, C: HttpClient> Paced<'a, C> {
    pub fn new(inner: &'a C) -> Paced<'a, C> {
        Paced {
            inner,
            last_ms: Cell::new(None),
        }
    }
}

impl<C: HttpClient> HttpClient for Paced<'_, C> {
    async fn send(
        &self,
        request: Request<Body>,
    ) -> Result<Response<Body>, crate::http::TransportError> {
        if let Some(last) = self.last_ms.get() {
            let due = last + crate::model::millis(MIN_REQUEST_INTERVAL);
            let now = self.inner.now_ms();
            if now < due {
                self.inner.sleep(Duration::from_millis(due - now)).await;
            }
        }
        self.last_ms.set(Some(self.inner.now_ms()));
        self.inner.send(request).await
    }

    async fn sleep(&self, duration: Duration) {
        self.inner.sleep(duration).await
    }

    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }
}

fn error(step: &'static str, message: String) -> ServiceError {
    ServiceError {
        service: SERVICE,
        step,
        file: None,
        message,
    }
}

fn root(config: &ValueedgeConfig) -> &str {
    config.base_url.trim_end_matches('/')
}

fn results_url(config: &ValueedgeConfig) -> String {
    format!(
        "{}/api/shared_spaces/{}/workspaces/{}/test-results",
        root(config),
        config.shared_space,
        config.workspace
    )
}

/// [DOC] Sign-in with an API access key.
pub fn build_sign_in(config: &ValueedgeConfig) -> Result<Request<Body>, ServiceError> {
    let body = serde_json::json!({
        "client_id": config.client_id.expose(),
        "client_secret": config.client_secret.expose(),
    });
    request(
        Method::POST,
        &format!("{}{SIGN_IN_PATH}", root(config)),
        &[
            ("content-type", "application/json"),
            (CLIENT_TYPE_HEADER, CLIENT_TYPE),
        ],
        body.to_string().into_bytes(),
    )
    .map_err(|e| error("sign-in", e.to_string()))
}

/// The session cookie a response sets, if it sets one.
pub fn parse_session(response: &Response<Body>) -> Option<Secret> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| Secret::new(value))
}

fn session_headers(cookie: &Secret) -> [(String, String); 2] {
    [
        (
            "cookie".to_owned(),
            format!("{SESSION_COOKIE}={}", cookie.expose()),
        ),
        (CLIENT_TYPE_HEADER.to_owned(), CLIENT_TYPE.to_owned()),
    ]
}

/// gzip at the default level; the header carries no name or time, so equal XML gives equal bytes.
pub fn gzip(xml: &[u8]) -> Result<Vec<u8>, String> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(xml)
        .and_then(|()| encoder.finish())
        .map_err(|e| format!("gzip failed: {e}"))
}

/// The XML of a gzip body (`--dry-run` shows it); `None` when the body is not gzip.
pub fn gunzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// One document POSTed to `test-results`.
pub fn build_push(
    config: &ValueedgeConfig,
    cookie: &Secret,
    gzipped: &[u8],
) -> Result<Request<Body>, ServiceError> {
    let url = format!("{}?skip-errors={}", results_url(config), config.skip_errors);
    let session = session_headers(cookie);
    let mut headers: Vec<(&str, &str)> = session
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    headers.extend([
        ("content-type", "application/xml"),
        ("content-encoding", "gzip"),
        ("accept", "application/json"),
    ]);
    request(Method::POST, &url, &headers, gzipped.to_vec())
        .map_err(|e| error("push", e.to_string()))
}

pub fn build_poll(
    config: &ValueedgeConfig,
    cookie: &Secret,
    task_id: u64,
) -> Result<Request<Body>, ServiceError> {
    let url = format!("{}/{task_id}", results_url(config));
    let session = session_headers(cookie);
    let mut headers: Vec<(&str, &str)> = session
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    headers.push(("accept", "application/json"));
    request(Method::GET, &url, &headers, Vec::new()).map_err(|e| error("poll", e.to_string()))
}

fn build_sign_out(
    config: &ValueedgeConfig,
    cookie: &Secret,
) -> Result<Request<Body>, ServiceError> {
    let session = session_headers(cookie);
    let headers: Vec<(&str, &str)> = session
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    request(
        Method::POST,
        &format!("{}{SIGN_OUT_PATH}", root(config)),
        &headers,
        Vec::new(),
    )
    .map_err(|e| error("sign-out", e.to_string()))
}

/// [DOC] The push answer and [SRC] the task status: `fromOlderPush` is the string `"true"` in
/// the docs; a boolean is accepted too.
#[derive(Debug, Clone, Deserialize)]
struct TaskAnswer {
    id: Option<u64>,
    status: Option<String>,
    #[serde(rename = "fromOlderPush")]
    from_older_push: Option<serde_json::Value>,
    #[serde(rename = "errorDetails")]
    error_details: Option<String>,
}

fn parse_task(response: &Response<Body>) -> Result<TaskAnswer, String> {
    serde_json::from_slice(response.body()).map_err(|e| {
        format!(
            "unexpected answer ({e}): {}",
            crate::model::truncate_utf8(&String::from_utf8_lossy(response.body()), 200)
        )
    })
}

/// [DOC] Octane's error body: `{"error_code", "description", ...}`.
fn description(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("description")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| body.trim().to_owned())
}

fn explain(step: &'static str, err: HttpError) -> ServiceError {
    let message = match &err {
        HttpError::Status { status, .. } if status.as_u16() == 401 && step == "sign-in" => {
            "sign-in refused (HTTP 401): check valueedge-client-id and valueedge-client-secret (an API access key of the workspace)".to_owned()
        }
        HttpError::Status { status, .. } if status.as_u16() == 401 => {
            "the session was refused again after signing in anew (HTTP 401): check that the API access key has a role in the workspace".to_owned()
        }
        HttpError::Status { status, body, .. } if status.as_u16() == 400 && step == "push" => format!(
            "ValueEdge rejected the payload as not conforming to its XSD (HTTP 400): {}",
            description(body)
        ),
        HttpError::Status { status, body, .. } if status.as_u16() == 404 => format!(
            "not found (HTTP 404): check valueedge-shared-space and valueedge-workspace ({})",
            description(body)
        ),
        HttpError::Status { status, body, .. } => {
            format!("HTTP {status}: {}", description(body))
        }
        HttpError::Transport { .. } => err.to_string(),
    };
    error(step, message)
}

/// Holds the session cookie across the flow.
struct Session<'a, C> {
    client: Paced<'a, C>,
    config: &'a ValueedgeConfig,
    policy: &'a RetryPolicy,
    cookie: Secret,
}

impl<'a, C: HttpClient> Session<'a, C> {
    async fn open(
        client: &'a C,
        config: &'a ValueedgeConfig,
        policy: &'a RetryPolicy,
    ) -> Result<Session<'a, C>, ServiceError> {
        let mut session = Session {
            client: Paced::new(client),
            config,
            policy,
            cookie: Secret::default(),
        };
        session.sign_in().await?;
        Ok(session)
    }

    async fn sign_in(&mut self) -> Result<(), ServiceError> {
        // Sign-in only sets a cookie: repeating it is harmless.
        let response = send_with_retry(
            &self.client,
            build_sign_in(self.config)?,
            Idempotency::Idempotent,
            self.policy,
        )
        .await
        .map_err(|e| explain("sign-in", e))?;
        self.cookie = parse_session(&response).ok_or_else(|| {
            error(
                "sign-in",
                format!("the answer set no {SESSION_COOKIE} cookie: check valueedge-url"),
            )
        })?;
        Ok(())
    }

    /// Sends with the session; on 401 signs in again and repeats once.
    async fn send(
        &mut self,
        step: &'static str,
        build: impl Fn(&ValueedgeConfig, &Secret) -> Result<Request<Body>, ServiceError>,
        idempotency: Idempotency,
    ) -> Result<Response<Body>, ServiceError> {
        let first = send_with_retry(
            &self.client,
            build(self.config, &self.cookie)?,
            idempotency,
            self.policy,
        )
        .await;
        let response = match first {
            Err(HttpError::Status { status, .. }) if status.as_u16() == 401 => {
                self.sign_in().await?;
                send_with_retry(
                    &self.client,
                    build(self.config, &self.cookie)?,
                    idempotency,
                    self.policy,
                )
                .await
            }
            other => other,
        }
        .map_err(|e| explain(step, e))?;
        if let Some(fresh) = parse_session(&response) {
            self.cookie = fresh;
        }
        Ok(response)
    }

    async fn push(&mut self, document: &Document) -> Result<Task, ServiceError> {
        let gzipped = gzip(document.xml.as_bytes()).map_err(|m| error("push", m))?;
        let response = self
            .send(
                "push",
                |config, cookie| build_push(config, cookie, &gzipped),
                Idempotency::Idempotent,
            )
            .await?;
        let answer = parse_task(&response).map_err(|m| error("push", m))?;
        let id = answer
            .id
            .ok_or_else(|| error("push", "the answer carried no task id".into()))?;
        let already_received = answer
            .from_older_push
            .as_ref()
            .is_some_and(|v| v.as_str() == Some("true") || v.as_bool() == Some(true));
        Ok(Task {
            id,
            status: normalize(answer.status.as_deref()),
            already_received,
            error_details: answer.error_details,
            runs: document.runs,
            bytes: gzipped.len(),
            document: 0,
        })
    }

    /// Polls until the task ends or the budget is spent; the task carries the last status seen.
    async fn wait(&mut self, task: &mut Task) -> Result<(), ServiceError> {
        let started = self.client.now_ms();
        let mut delay = FIRST_POLL_DELAY;
        while !TERMINAL.contains(&task.status.as_str()) {
            let waited = self.client.now_ms().saturating_sub(started);
            if waited >= crate::model::millis(POLL_BUDGET) {
                return Err(error(
                    "poll",
                    format!(
                        "task {} still {} after {} s: check it in ValueEdge later, or set valueedge-wait: false to not wait",
                        task.id,
                        task.status,
                        POLL_BUDGET.as_secs()
                    ),
                ));
            }
            self.client.sleep(delay).await;
            delay = (delay * 2).min(MAX_POLL_DELAY);
            let id = task.id;
            let response = self
                .send(
                    "poll",
                    |config, cookie| build_poll(config, cookie, id),
                    Idempotency::Idempotent,
                )
                .await?;
            let answer = parse_task(&response).map_err(|m| error("poll", m))?;
            task.status = normalize(answer.status.as_deref());
            task.error_details = answer.error_details.or(task.error_details.take());
        }
        Ok(())
    }

    /// Best effort: the session ends by itself anyway.
    async fn close(self) {
        if let Ok(request) = build_sign_out(self.config, &self.cookie) {
            let _ = self.client.send(request).await;
        }
    }
}

/// [DOC] shows `" SUCCESS "` in a duplicate answer, [SRC] `success`: compare trimmed, lower case.
fn normalize(status: Option<&str>) -> String {
    status.unwrap_or("unknown").trim().to_ascii_lowercase()
}

/// Converts, signs in, pushes every document, and (with `wait`) polls each task to its end.
pub async fn upload<C: HttpClient>(
    client: &C,
    config: &ValueedgeConfig,
    files: &[FileReport],
    policy: &RetryPolicy,
) -> Receipt {
    let documents = payload::documents(files, &config.context, config.max_payload_bytes);
    send(client, config, &documents, policy).await
}

/// Signs in, pushes `documents` as they are (a resume sends the spooled bytes), and (with
/// `wait`) polls each task to its end.
pub async fn send<C: HttpClient>(
    client: &C,
    config: &ValueedgeConfig,
    documents: &[Document],
    policy: &RetryPolicy,
) -> Receipt {
    let mut receipt = Receipt::default();
    if documents.is_empty() {
        return receipt;
    }
    let mut session = match Session::open(client, config, policy).await {
        Ok(s) => s,
        Err(e) => {
            receipt.errors.push(e);
            receipt.unsent = documents.iter().cloned().enumerate().collect();
            return receipt;
        }
    };
    for (i, document) in documents.iter().enumerate() {
        match session.push(document).await {
            Ok(task) => receipt.tasks.push(Task {
                document: i,
                ..task
            }),
            Err(e) => {
                receipt.errors.push(e);
                receipt.unsent.push((i, document.clone()));
            }
        }
    }
    if config.wait {
        for task in &mut receipt.tasks {
            if let Err(e) = session.wait(task).await {
                receipt.errors.push(e);
            }
        }
    }
    for task in &receipt.tasks {
        if task.status == "failed" {
            receipt.errors.push(error(
                "task",
                format!(
                    "task {} failed: {}; fix the links (valueedge-release, …) or set valueedge-skip-errors: true",
                    task.id,
                    task.error_details.as_deref().unwrap_or("no details given")
                ),
            ));
        }
    }
    session.close().await;
    receipt
}

#[cfg(test)]
mod tests;
