//! ValueEdge / ALM Octane (vendors.md §3) under `/octane`.
//!
//! Rules (§3.10 numbers in brackets):
//! - `POST /authentication/sign_in` with `{client_id, client_secret}` or `{user, password}` (the
//!   official tools send API keys both ways) → 200 and cookie `LWSSO_COOKIE_KEY`; else 401 [1];
//! - every API call needs a live session cookie, else 401; a session lives
//!   `session_ttl_secs`, so setting it to 0 expires every session and forces a re-login [2];
//! - `POST /api/shared_spaces/{sid}/workspaces/{wid}/test-results[?skip-errors=bool]`:
//!   `Content-Type: application/xml` or 415; a body gzip-compressed when `Content-Encoding` is
//!   `gzip` or `application/gzip` [7]; checked against the rules of the public XSD
//!   (`octaneResultSchema.xsd`, encoded by hand below, not copied) → 400 on violation [3];
//!   accepted → 202 `{"status":"queued","id":N}` [4];
//! - the byte-identical payload again → 202 with the original task's id and latest status plus
//!   `"fromOlderPush":"true"` and `until` [6];
//! - `GET .../test-results/{id}` → `{id, status, until?, errorDetails?}`; every read moves the task
//!   queued → running → success, or failed (unknown references, `skip-errors=false`) / warning
//!   (unknown references, `skip-errors=true`) [4, 5]; unknown id → 404 [8];
//! - more than `rate_limit_per_second` (20) requests within one second → `throttle_status`
//!   (429, or 503) [9].

use std::collections::{BTreeMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Read;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use quick_xml::events::{BytesStart, Event};
use quick_xml::XmlVersion;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::state::{lock, AppState};

pub const DEFAULT_CLIENT_ID: &str = "octane-client";
pub const DEFAULT_CLIENT_SECRET: &str = "octane-secret";
pub const DEFAULT_SHARED_SPACE: &str = "1001";
pub const DEFAULT_WORKSPACE: &str = "1002";
/// [INF] Octane's session lifetime is not published; long enough for any test.
pub const DEFAULT_SESSION_TTL_SECS: u64 = 3600;
/// The documented recommendation: "up to 20 requests per second".
pub const DEFAULT_RATE_LIMIT_PER_SECOND: usize = 20;
const COOKIE: &str = "LWSSO_COOKIE_KEY";
const FIRST_TASK_ID: u64 = 1103;
const STATUSES: [&str; 4] = ["Passed", "Failed", "Skipped", "Planned"];
const TEST_FIELD_TYPES: [&str; 4] = ["Test_Level", "Test_Type", "Testing_Tool_Type", "Framework"];

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Config {
    /// Client id (or user) → secret (or password).
    pub clients: BTreeMap<String, String>,
    pub shared_space: String,
    pub workspace: String,
    pub session_ttl_secs: u64,
    /// 0 turns the limit off.
    pub rate_limit_per_second: usize,
    pub throttle_status: u16,
    /// Ids that exist, per reference kind (`release`, `milestone`, `program`, `suite`,
    /// `backlog_item`, `product_area`), and release names; anything else is unknown.
    pub known_ids: BTreeMap<String, Vec<i64>>,
    pub release_names: Vec<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            clients: BTreeMap::from([(DEFAULT_CLIENT_ID.into(), DEFAULT_CLIENT_SECRET.into())]),
            shared_space: DEFAULT_SHARED_SPACE.into(),
            workspace: DEFAULT_WORKSPACE.into(),
            session_ttl_secs: DEFAULT_SESSION_TTL_SECS,
            rate_limit_per_second: DEFAULT_RATE_LIMIT_PER_SECOND,
            throttle_status: 429,
            known_ids: BTreeMap::new(),
            release_names: vec!["_default_".into()],
        }
    }
}

#[derive(Debug, Serialize)]
struct Session {
    cookie: String,
    client: String,
    #[serde(skip)]
    started: Instant,
}

#[derive(Debug, Serialize)]
struct Task {
    id: u64,
    /// queued | running | success | failed | warning
    status: &'static str,
    /// What the task ends as once it has run.
    outcome: &'static str,
    skip_errors: bool,
    error_details: Option<String>,
    gzip: bool,
    /// `test_run` / `gherkin_test_run` elements: name, status, duration, class, package.
    runs: Vec<Value>,
    duplicate_pushes: u32,
    payload_utf8: String,
    #[serde(skip)]
    hash: u64,
}

#[derive(Default)]
pub struct World {
    config: Config,
    sessions: Vec<Session>,
    tasks: Vec<Task>,
    recent: VecDeque<Instant>,
    sign_ins: u32,
}

impl World {
    pub fn state(&self) -> Value {
        json!({ "sessions": self.sessions, "sign_ins": self.sign_ins, "tasks": self.tasks })
    }

    pub fn config(&self) -> Value {
        json!(self.config)
    }

    pub fn configure(&mut self, section: &Value) -> Result<(), String> {
        let mut merged = json!(self.config);
        let (Some(target), Some(given)) = (merged.as_object_mut(), section.as_object()) else {
            return Err("expected an object".into());
        };
        for (k, v) in given {
            target.insert(k.clone(), v.clone());
        }
        let config: Config = serde_json::from_value(merged).map_err(|e| e.to_string())?;
        StatusCode::from_u16(config.throttle_status)
            .map_err(|e| format!("throttle_status: {e}"))?;
        self.config = config;
        Ok(())
    }

    /// Moves every task one step; answers how many moved.
    pub fn advance(&mut self) -> usize {
        self.tasks
            .iter_mut()
            .map(step)
            .filter(|moved| *moved)
            .count()
    }

    fn throttled(&mut self) -> bool {
        let limit = self.config.rate_limit_per_second;
        let now = Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.recent.pop_front();
        }
        if limit > 0 && self.recent.len() >= limit {
            return true;
        }
        self.recent.push_back(now);
        false
    }

    fn session_ok(&self, headers: &HeaderMap) -> bool {
        let ttl = Duration::from_secs(self.config.session_ttl_secs);
        cookie(headers).is_some_and(|c| {
            self.sessions
                .iter()
                .any(|s| s.cookie == c && s.started.elapsed() < ttl)
        })
    }
}

fn step(task: &mut Task) -> bool {
    let next = match task.status {
        "queued" => "running",
        "running" => task.outcome,
        _ => return false,
    };
    task.status = next;
    true
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Octane's error body (all REST APIs).
fn error(status: StatusCode, code: &str, description: &str) -> Response {
    let body = json!({
        "error_code": code,
        "correlation_id": "fake0correlation",
        "description": description,
        "description_translated": description,
        "properties": null,
    });
    (status, Json(body)).into_response()
}

fn now_until() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let date = crate::testnod::amz_date(secs);
    // yyyyMMddTHHmmssZ → yyyy-MM-dd'T'HH:mm:ss+0000 (the collection tool's format)
    format!(
        "{}-{}-{}T{}:{}:{}+0000",
        &date[0..4],
        &date[4..6],
        &date[6..8],
        &date[9..11],
        &date[11..13],
        &date[13..15]
    )
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/authentication/sign_in", post(sign_in))
        .route("/authentication/sign_out", post(sign_out))
        .route(
            "/api/shared_spaces/{sid}/workspaces/{wid}/test-results",
            post(push),
        )
        .route(
            "/api/shared_spaces/{sid}/workspaces/{wid}/test-results/{id}",
            get(task_status),
        )
}

/// The rate limit, then the session.
fn admit(world: &mut World, headers: &HeaderMap) -> Result<(), Response> {
    if world.throttled() {
        let status = StatusCode::from_u16(world.config.throttle_status)
            .unwrap_or(StatusCode::TOO_MANY_REQUESTS);
        return Err(error(
            status,
            "platform.too_many_requests",
            "Too many requests",
        ));
    }
    if !world.session_ok(headers) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "platform.unauthorized",
            "Unauthorized",
        ));
    }
    Ok(())
}

async fn sign_in(State(state): State<AppState>, body: Bytes) -> Response {
    let mut world = lock(&state.inner().octane);
    if world.throttled() {
        let status = StatusCode::from_u16(world.config.throttle_status)
            .unwrap_or(StatusCode::TOO_MANY_REQUESTS);
        return error(status, "platform.too_many_requests", "Too many requests");
    }
    world.sign_ins += 1;
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let field = |a: &str, b: &str| {
        body.get(a)
            .or_else(|| body.get(b))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let (Some(id), Some(secret)) = (
        field("client_id", "user"),
        field("client_secret", "password"),
    ) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "platform.authentication_failed",
            "Authentication failed",
        );
    };
    if world.config.clients.get(&id) != Some(&secret) {
        return error(
            StatusCode::UNAUTHORIZED,
            "platform.authentication_failed",
            "Authentication failed",
        );
    }
    let value = format!(
        "fake-lwsso-{}-{}",
        world.sign_ins,
        crate::testnod::random_hex()
    );
    world.sessions.push(Session {
        cookie: value.clone(),
        client: id,
        started: Instant::now(),
    });
    let mut response = StatusCode::OK.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{COOKIE}={value}; Path=/; HttpOnly")) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> StatusCode {
    let mut world = lock(&state.inner().octane);
    if let Some(c) = cookie(&headers) {
        world.sessions.retain(|s| s.cookie != c);
    }
    StatusCode::OK
}

fn check_space(world: &World, sid: &str, wid: &str) -> Result<(), Response> {
    if sid != world.config.shared_space || wid != world.config.workspace {
        return Err(error(
            StatusCode::NOT_FOUND,
            "platform.entity_not_found",
            &format!("shared space {sid} / workspace {wid} not found"),
        ));
    }
    Ok(())
}

async fn push(
    State(state): State<AppState>,
    Path((sid, wid)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut world = lock(&state.inner().octane);
    if let Err(r) = admit(&mut world, &headers).and_then(|()| check_space(&world, &sid, &wid)) {
        return r;
    }
    let xml_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/xml"));
    if !xml_type {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "platform.unsupported_media_type",
            "Content-Type must be application/xml",
        );
    }
    let skip_errors = match query.get("skip-errors").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                "platform.invalid_parameter",
                &format!("skip-errors={other}: expected true or false"),
            )
        }
    };
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let gzip = matches!(
        encoding.to_ascii_lowercase().as_str(),
        "gzip" | "application/gzip"
    );
    let payload = if gzip {
        let mut out = Vec::new();
        if flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut out)
            .is_err()
        {
            return error(
                StatusCode::BAD_REQUEST,
                "platform.invalid_payload",
                "the body is not valid gzip",
            );
        }
        out
    } else {
        body.to_vec()
    };
    let mut hasher = DefaultHasher::new();
    payload.hash(&mut hasher);
    let hash = hasher.finish();
    if let Some(task) = world.tasks.iter_mut().find(|t| t.hash == hash) {
        task.duplicate_pushes += 1;
        let body = json!({ "fromOlderPush": "true", "id": task.id, "until": now_until(), "status": task.status });
        return (StatusCode::ACCEPTED, Json(body)).into_response();
    }
    let parsed = match validate(&payload) {
        Ok(p) => p,
        Err(violation) => {
            let description = format!("payload does not conform to the XSD schema: {violation}");
            return error(
                StatusCode::BAD_REQUEST,
                "platform.invalid_payload",
                &description,
            );
        }
    };
    let unknown: Vec<String> = parsed
        .references
        .iter()
        .filter(|r| match r {
            Reference::Id(kind, id) => !world
                .config
                .known_ids
                .get(kind)
                .is_some_and(|ids| ids.contains(id)),
            Reference::ReleaseName(name) => !world.config.release_names.contains(name),
        })
        .map(Reference::describe)
        .collect();
    let (outcome, error_details) = match (unknown.is_empty(), skip_errors) {
        (true, _) => ("success", None),
        (false, true) => (
            "warning",
            Some(format!(
                "ignored unknown references: {}",
                unknown.join(", ")
            )),
        ),
        (false, false) => (
            "failed",
            Some(format!("unknown references: {}", unknown.join(", "))),
        ),
    };
    let id = FIRST_TASK_ID + world.tasks.len() as u64;
    world.tasks.push(Task {
        id,
        status: "queued",
        outcome,
        skip_errors,
        error_details,
        gzip,
        runs: parsed.runs,
        duplicate_pushes: 0,
        payload_utf8: String::from_utf8_lossy(&payload).into_owned(),
        hash,
    });
    (
        StatusCode::ACCEPTED,
        Json(json!({ "status": "queued", "id": id })),
    )
        .into_response()
}

async fn task_status(
    State(state): State<AppState>,
    Path((sid, wid, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut world = lock(&state.inner().octane);
    if let Err(r) = admit(&mut world, &headers).and_then(|()| check_space(&world, &sid, &wid)) {
        return r;
    }
    let task = id
        .parse::<u64>()
        .ok()
        .and_then(|id| world.tasks.iter_mut().find(|t| t.id == id));
    let Some(task) = task else {
        return error(
            StatusCode::NOT_FOUND,
            "platform.entity_not_found",
            &format!("test result task {id} not found"),
        );
    };
    step(task);
    let mut body = json!({ "id": task.id, "status": task.status });
    if matches!(task.status, "success" | "failed" | "warning") {
        body["until"] = json!(now_until());
        if let Some(details) = &task.error_details {
            body["errorDetails"] = json!(details);
        }
    }
    Json(body).into_response()
}

// ------------------------------------------------------------------ the XSD's rules

enum Reference {
    Id(String, i64),
    ReleaseName(String),
}

impl Reference {
    fn describe(&self) -> String {
        match self {
            Reference::Id(kind, id) => format!("{kind}_ref id={id}"),
            Reference::ReleaseName(name) => format!("release name={name}"),
        }
    }
}

struct Parsed {
    runs: Vec<Value>,
    references: Vec<Reference>,
}

/// Children of `test_result` (and, from `suite_ref` on, of `test_run`) in the order the XSD's
/// sequences require; `release_ref` and `release` share a slot (xs:choice).
const RESULT_ORDER: [&str; 10] = [
    "build",
    "suite_ref",
    "program_ref",
    "release",
    "milestone_ref",
    "backlog_items",
    "product_areas",
    "test_fields",
    "environment",
    "test_runs",
];
const RUN_ORDER: [&str; 11] = [
    "suite_ref",
    "program_ref",
    "release",
    "milestone_ref",
    "backlog_items",
    "product_areas",
    "test_fields",
    "environment",
    "error",
    "description",
    "steps",
];

fn slot(name: &str) -> &str {
    if name == "release_ref" {
        "release"
    } else {
        name
    }
}

fn attrs(e: &BytesStart<'_>) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| format!("malformed attribute: {err}"))?;
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|err| format!("malformed attribute value: {err}"))?
            .into_owned();
        out.insert(attr.key.local_name().as_ref().to_owned(), value);
    }
    Ok(out)
}

/// Checks declared attributes: (name, required, type); undeclared attributes are violations.
fn check_attrs(
    element: &str,
    given: &BTreeMap<String, String>,
    declared: &[(&str, bool, &str)],
) -> Result<(), String> {
    for name in given.keys() {
        if !declared.iter().any(|(d, _, _)| d == name) {
            return Err(format!("<{element}>: attribute {name} is not allowed"));
        }
    }
    for (name, required, kind) in declared {
        let Some(value) = given.get(*name) else {
            if *required {
                return Err(format!("<{element}>: attribute {name} is required"));
            }
            continue;
        };
        let chars = value.chars().count();
        let ok = match *kind {
            "string255" => (1..=255).contains(&chars),
            "string0_255" => chars <= 255,
            "string3800" => (1..=3800).contains(&chars),
            "string0_3800" => chars <= 3800,
            "long" => value.trim().parse::<i64>().is_ok(),
            "boolean" => matches!(value.trim(), "true" | "false" | "1" | "0"),
            "status" => STATUSES.contains(&value.as_str()),
            "field_type" => TEST_FIELD_TYPES.contains(&value.as_str()),
            "url" => (6..=512).contains(&chars) && is_report_url(value),
            _ => true,
        };
        if !ok {
            return Err(format!(
                "<{element}>: {name}={value:?} is not a valid {kind}"
            ));
        }
    }
    Ok(())
}

/// `([hH][tT]{2}[pP][sS]?://*.*)|([tT][dD][sS]?://*.*)|(testdirector[s]?:*.*)`
fn is_report_url(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    lower.starts_with("http:/")
        || lower.starts_with("https:/")
        || lower.starts_with("td:/")
        || lower.starts_with("tds:/")
        || value.starts_with("testdirector")
}

fn declared(name: &str) -> Option<&'static [(&'static str, bool, &'static str)]> {
    Some(match name {
        "build" => &[
            ("server_id", true, "string255"),
            ("job_id", true, "string255"),
            ("job_name", false, "string255"),
            ("build_id", true, "string255"),
            ("build_name", false, "string255"),
            ("sub_type", false, "string0_255"),
        ],
        "suite_ref" => &[
            ("id", true, "long"),
            ("external_run_id", false, "string0_255"),
            ("component", false, "string0_255"),
        ],
        "program_ref" | "release_ref" | "milestone_ref" | "backlog_item_ref"
        | "product_area_ref" => &[("id", true, "long")],
        "release" => &[("name", true, "string255")],
        "test_field" => &[("type", true, "field_type"), ("value", true, "string255")],
        "taxonomy" => &[("type", true, "string255"), ("value", true, "string255")],
        "test_run" => &[
            ("module", false, "string0_255"),
            ("package", false, "string0_255"),
            ("class", false, "string0_255"),
            ("name", true, "string255"),
            ("run_name", false, "string255"),
            ("duration", true, "long"),
            ("status", true, "status"),
            ("manual", false, "boolean"),
            ("started", false, "long"),
            ("external_report_url", false, "url"),
            ("external_test_id", false, "string0_255"),
            ("external_run_id", false, "string0_255"),
            ("run_type", false, "string0_255"),
        ],
        "gherkin_test_run" => &[
            ("name", true, "string0_255"),
            ("duration", true, "long"),
            ("status", true, "status"),
            ("external_run_id", false, "string0_255"),
        ],
        "error" => &[("type", false, "any"), ("message", false, "any")],
        "steps" => &[("iteration", false, "string255")],
        "step" => &[
            ("name", true, "string3800"),
            ("duration", true, "long"),
            ("status", true, "string255"),
            ("external_step_id", false, "string255"),
        ],
        "test_runs" | "test_result" | "backlog_items" | "product_areas" | "test_fields"
        | "environment" | "description" | "error_message" | "input_parameters"
        | "output_parameters" => &[],
        "feature" => &[
            ("name", true, "string0_255"),
            ("path", true, "string255"),
            ("tag", true, "string0_255"),
            ("started", true, "long"),
            ("identifier", false, "string0_255"),
        ],
        "scenario" => &[
            ("name", true, "string0_3800"),
            ("status", true, "status"),
            ("outlineIndex", false, "long"),
        ],
        "parameter" => &[
            ("name", true, "string255"),
            ("value", false, "string0_255"),
            ("type", false, "string0_255"),
        ],
        _ => return None,
    })
}

/// The children each element may have (beyond order, checked separately).
fn allowed_children(parent: &str) -> &'static [&'static str] {
    match parent {
        "test_result" => &[
            "build",
            "suite_ref",
            "program_ref",
            "release_ref",
            "release",
            "milestone_ref",
            "backlog_items",
            "product_areas",
            "test_fields",
            "environment",
            "test_runs",
        ],
        "test_runs" => &["test_run", "gherkin_test_run"],
        "test_run" => &[
            "suite_ref",
            "program_ref",
            "release_ref",
            "release",
            "milestone_ref",
            "backlog_items",
            "product_areas",
            "test_fields",
            "environment",
            "error",
            "description",
            "steps",
        ],
        "backlog_items" => &["backlog_item_ref"],
        "product_areas" => &["product_area_ref"],
        "test_fields" => &["test_field"],
        "environment" => &["taxonomy"],
        "steps" => &["step"],
        "step" => &["error_message", "input_parameters", "output_parameters"],
        "input_parameters" | "output_parameters" => &["parameter"],
        _ => &[],
    }
}

struct Open {
    name: String,
    /// Index in the parent's order of the last child seen (sequence check).
    last_slot: Option<usize>,
    seen: Vec<String>,
}

/// Validates a `test_result` document against the XSD's structure and simple types. Inside
/// gherkin runs only the `feature` and `scenario` attributes and the required `feature` and
/// `file` elements are checked.
fn validate(payload: &[u8]) -> Result<Parsed, String> {
    let mut reader = quick_xml::Reader::from_reader(payload);
    let mut buf = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut parsed = Parsed {
        runs: Vec::new(),
        references: Vec::new(),
    };
    let mut root_seen = false;
    let mut gherkin_depth: Option<usize> = None;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("not well-formed XML: {e}"))?;
        let (e, empty) = match event {
            Event::Eof => break,
            Event::Start(ref e) => (e.clone(), false),
            Event::Empty(ref e) => (e.clone(), true),
            Event::End(_) => {
                let closed = stack.pop().ok_or("unbalanced end tag")?;
                close(&closed)?;
                if gherkin_depth.is_some_and(|d| d > stack.len()) {
                    gherkin_depth = None;
                }
                buf.clear();
                continue;
            }
            Event::Text(ref t) => {
                let inside_text_element = stack.last().is_some_and(|o| {
                    matches!(o.name.as_str(), "error" | "description" | "error_message")
                        || gherkin_depth.is_some()
                });
                if !inside_text_element && !t.clone().into_inner().trim().is_empty() {
                    let parent = stack.last().map_or("document", |o| o.name.as_str());
                    return Err(format!("<{parent}>: text content is not allowed"));
                }
                buf.clear();
                continue;
            }
            _ => {
                buf.clear();
                continue;
            }
        };
        let name = e.local_name().as_ref().to_owned();
        if gherkin_depth.is_some() {
            // Inside a gherkin run: `feature` and `scenario` attributes and the required
            // `feature`/`file` children are checked; the rest only nests.
            if let Some(parent) = stack.last_mut() {
                parent.seen.push(name.clone());
            }
            if matches!(name.as_str(), "feature" | "scenario") {
                let given = attrs(&e)?;
                check_attrs(&name, &given, declared(&name).unwrap_or(&[]))?;
            }
            if empty {
                close(&Open {
                    name,
                    last_slot: None,
                    seen: Vec::new(),
                })?;
            } else {
                stack.push(Open {
                    name,
                    last_slot: None,
                    seen: Vec::new(),
                });
            }
            buf.clear();
            continue;
        }
        match stack.last_mut() {
            None if root_seen || name != "test_result" => {
                return Err(format!(
                    "the root element must be <test_result>, found <{name}>"
                ))
            }
            None => root_seen = true,
            Some(parent) => {
                if !allowed_children(&parent.name).contains(&name.as_str()) {
                    return Err(format!("<{}>: child <{name}> is not allowed", parent.name));
                }
                let order: &[&str] = match parent.name.as_str() {
                    "test_result" => &RESULT_ORDER,
                    "test_run" => &RUN_ORDER,
                    _ => &[],
                };
                if let Some(index) = order.iter().position(|s| *s == slot(&name)) {
                    if parent.last_slot.is_some_and(|last| last > index) {
                        return Err(format!("<{}>: <{name}> is out of order", parent.name));
                    }
                    let repeatable = slot(&name) == "steps";
                    if !repeatable && parent.seen.iter().any(|s| slot(s) == slot(&name)) {
                        return Err(format!("<{}>: <{name}> may appear once", parent.name));
                    }
                    parent.last_slot = Some(index);
                }
                if parent.name == "test_runs" && parent.seen.iter().any(|s| *s != name) {
                    return Err("<test_runs>: test_run and gherkin_test_run cannot be mixed".into());
                }
                parent.seen.push(name.clone());
            }
        }
        let given = attrs(&e)?;
        let declared =
            declared(&name).ok_or_else(|| format!("element <{name}> is not declared"))?;
        check_attrs(&name, &given, declared)?;
        collect(&name, &given, &mut parsed);
        let open = Open {
            name: name.clone(),
            last_slot: None,
            seen: Vec::new(),
        };
        if empty {
            close(&open)?;
        } else {
            stack.push(open);
            if name == "gherkin_test_run" {
                gherkin_depth = Some(stack.len());
            }
        }
        buf.clear();
    }
    if let Some(open) = stack.last() {
        return Err(format!(
            "not well-formed XML: <{}> is not closed",
            open.name
        ));
    }
    if !root_seen {
        return Err("empty document".into());
    }
    Ok(parsed)
}

/// Element-level rules checked when an element closes.
fn close(open: &Open) -> Result<(), String> {
    match open.name.as_str() {
        "test_result" if !open.seen.iter().any(|s| s == "test_runs") => {
            Err("<test_result>: <test_runs> is required".into())
        }
        "gherkin_test_run" if !open.seen.iter().any(|s| s == "feature") => {
            Err("<gherkin_test_run>: <feature> is required".into())
        }
        "feature" if !open.seen.iter().any(|s| s == "file") => {
            Err("<feature>: <file> is required".into())
        }
        _ => Ok(()),
    }
}

fn collect(name: &str, attrs: &BTreeMap<String, String>, parsed: &mut Parsed) {
    let kind = match name {
        "release_ref" => Some("release"),
        "program_ref" => Some("program"),
        "milestone_ref" => Some("milestone"),
        "suite_ref" => Some("suite"),
        "backlog_item_ref" => Some("backlog_item"),
        "product_area_ref" => Some("product_area"),
        _ => None,
    };
    if let (Some(kind), Some(id)) = (kind, attrs.get("id").and_then(|v| v.trim().parse().ok())) {
        parsed.references.push(Reference::Id(kind.to_owned(), id));
    }
    if name == "release" {
        if let Some(n) = attrs.get("name") {
            parsed.references.push(Reference::ReleaseName(n.clone()));
        }
    }
    if name == "test_run" || name == "gherkin_test_run" {
        parsed.runs.push(json!(attrs));
    }
}
