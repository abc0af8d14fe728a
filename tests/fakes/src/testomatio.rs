//! Testomat.io (vendors.md §2) under `/testomatio`.
//!
//! Rules (§2.9 numbers in brackets):
//! - `api_key` comes from the query or the JSON body; missing or unknown → 403
//!   `{"message":"Project API Token is invalid"}` [1];
//! - `POST /api/reporter` creates a run → 200 `{uid (8 hex), url, public_url}`; with
//!   `shared_run: true` and the title of an open shared run it answers that run instead [INF]; `PUT
//!   /api/reporter/{uid}` without `status_event` updates it, same answer [2];
//! - `POST /api/reporter/{uid}/testrun`: unknown uid → 404 [3]; a single test object or
//!   `{tests:[...], batch_index}` → 200 `{"message":"Test run added"}` whatever the tests hold
//!   (processing is asynchronous); every `batch_index` is recorded, repeats listed [4];
//! - a test matches a configured test by `test_id` (`@T`/`T` prefix ignored) or by
//!   title + suite_title + file; otherwise `create: true` creates it and anything else is stored
//!   as unmatched, or answered 404 "... could not be matched" when `unmatched_answer` is `error` [5];
//! - executions are keyed by (test identity: test_id, title, suite_title, file; `rid`): a new rid is a new execution; the same key again is
//!   replaced with `overwrite: true`, else duplicated (or replaced when `same_rid` is `update`) [6];
//! - finish: `PUT` with `status_event` ∈ finish, pass, fail (close the run) or their `_parallel`
//!   variants (recorded, the run stays open); anything else → 422 [INF] [7];
//! - `run_time` and `duration` are stored verbatim (the unit is disputed) [8].

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::state::{lock, AppState};

/// The default project API key and the project slug it opens.
pub const DEFAULT_API_KEY: &str = "tstmt_fake-key";
pub const DEFAULT_PROJECT: &str = "fake-project";
const INVALID_KEY: &str = "Project API Token is invalid";
const FINISHING: [&str; 3] = ["finish", "pass", "fail"];
const PARALLEL: [&str; 3] = ["finish_parallel", "pass_parallel", "fail_parallel"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmatchedAnswer {
    /// 200 "Test run added"; the test is stored as unmatched.
    Ok,
    /// 404 `{"message":"Test ... could not be matched"}`.
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SameRid {
    Duplicate,
    Update,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Config {
    /// API key → project slug.
    pub api_keys: BTreeMap<String, String>,
    /// Tests that exist in the project: `{id, title, suite_title, file}`.
    pub tests: Vec<Value>,
    pub unmatched_answer: UnmatchedAnswer,
    /// What a repeated (test, rid) without `overwrite: true` does.
    pub same_rid: SameRid,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            api_keys: BTreeMap::from([(DEFAULT_API_KEY.to_owned(), DEFAULT_PROJECT.to_owned())]),
            tests: Vec::new(),
            unmatched_answer: UnmatchedAnswer::Ok,
            same_rid: SameRid::Duplicate,
        }
    }
}

#[derive(Debug, Serialize)]
struct Execution {
    /// matched | created | unmatched
    matched: &'static str,
    test_id: Option<String>,
    title: Option<String>,
    suite_title: Option<String>,
    file: Option<String>,
    rid: Option<String>,
    status: Option<String>,
    run_time: Option<Value>,
    batch_index: Option<Value>,
    /// The test object as received (`api_key` removed).
    received: Value,
}

#[derive(Debug, Serialize)]
struct Run {
    uid: String,
    project: String,
    /// Create/update parameters as received (`api_key` removed), later updates merged in.
    params: Map<String, Value>,
    /// running | finished
    status: &'static str,
    status_events: Vec<Value>,
    batch_indexes: Vec<Value>,
    duplicate_batch_indexes: Vec<Value>,
    testrun_requests: u32,
    executions: Vec<Execution>,
    /// The first execution of each (test identity, rid), for replacing it in constant time.
    #[serde(skip)]
    execution_index: HashMap<ExecutionKey, usize>,
}

type ExecutionKey = [Option<String>; 5];

impl Execution {
    fn key(&self) -> ExecutionKey {
        [
            self.rid.clone(),
            self.test_id.clone(),
            self.title.clone(),
            self.suite_title.clone(),
            self.file.clone(),
        ]
    }
}

impl Run {
    /// Stores an execution: replaces the first one with the same key when `replace`, else adds it.
    fn store(&mut self, execution: Execution, replace: bool) {
        let key = execution.key();
        match self.execution_index.get(&key) {
            Some(&i) if replace => self.executions[i] = execution,
            _ => {
                self.execution_index
                    .entry(key)
                    .or_insert(self.executions.len());
                self.executions.push(execution);
            }
        }
    }
}

#[derive(Default)]
pub struct World {
    config: Config,
    runs: Vec<Run>,
    created_tests: Created,
    counter: u32,
}

/// Tests created through `create: true`, indexed so that matching 10,000 tests stays linear.
#[derive(Default)]
struct Created {
    tests: Vec<Value>,
    /// Bare ids of created tests that have one.
    ids: HashSet<String>,
    /// (title, suite_title, file) of every created test, and of those without an id.
    keys: HashSet<TitleKey>,
    keys_without_id: HashSet<TitleKey>,
}

type TitleKey = (Option<String>, Option<String>, Option<String>);

fn title_key(test: &Value) -> TitleKey {
    (
        text(test, "title"),
        text(test, "suite_title"),
        text(test, "file"),
    )
}

impl Created {
    /// The same answer as [`same_test`] against every created test.
    fn matches(&self, test: &Value) -> bool {
        let key = title_key(test);
        match text(test, "test_id") {
            Some(id) => self.ids.contains(bare_id(&id)) || self.keys_without_id.contains(&key),
            None => self.keys.contains(&key),
        }
    }

    fn add(&mut self, test: Value) {
        let key = title_key(&test);
        match text(&test, "id") {
            Some(id) => {
                self.ids.insert(bare_id(&id).to_owned());
            }
            None => {
                self.keys_without_id.insert(key.clone());
            }
        }
        self.keys.insert(key);
        self.tests.push(test);
    }
}

impl World {
    pub fn state(&self) -> Value {
        json!({ "runs": self.runs, "created_tests": self.created_tests.tests })
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
        self.config = serde_json::from_value(merged).map_err(|e| e.to_string())?;
        Ok(())
    }

    fn new_uid(&mut self) -> String {
        self.counter += 1;
        format!(
            "{:08x}",
            0xa0b1_c2d3_u32.wrapping_add(self.counter.wrapping_mul(0x0101_0101))
        )
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/reporter", post(create_run))
        .route("/api/reporter/{uid}", put(update_run))
        .route("/api/reporter/{uid}/testrun", post(testrun))
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "message": text }))).into_response()
}

/// The JSON body (an empty body is `{}`), or 400.
fn body_object(body: &Bytes) -> Result<Map<String, Value>, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(message(
            StatusCode::BAD_REQUEST,
            "Bad request: the body must be a JSON object",
        )),
    }
}

/// The project the `api_key` (query first, then body) opens, or 403.
fn authenticate(
    world: &World,
    query: &HashMap<String, String>,
    body: &mut Map<String, Value>,
) -> Result<String, Response> {
    let from_body = body.remove("api_key");
    let key = query
        .get("api_key")
        .cloned()
        .or_else(|| from_body.and_then(|v| v.as_str().map(str::to_owned)));
    key.and_then(|k| world.config.api_keys.get(&k).cloned())
        .ok_or_else(|| message(StatusCode::FORBIDDEN, INVALID_KEY))
}

fn run_answer(base: &str, run: &Run) -> Value {
    let url = format!("{base}/projects/{}/runs/{}", run.project, run.uid);
    json!({ "uid": run.uid, "url": url, "public_url": format!("{url}/report") })
}

fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}/testomatio")
}

async fn create_run(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut body = match body_object(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut world = lock(&state.inner().testomatio);
    let project = match authenticate(&world, &query, &mut body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    // A shared run: a create with `shared_run: true` and the title of a shared run that is still
    // open reports into that run instead of opening another ([DOC] TESTOMATIO_SHARED_RUN).
    if body.get("shared_run").and_then(Value::as_bool) == Some(true) {
        let title = body.get("title").cloned();
        if let Some(run) = world.runs.iter_mut().find(|r| {
            r.project == project
                && r.status == "running"
                && r.params.get("shared_run").and_then(Value::as_bool) == Some(true)
                && title.is_some()
                && r.params.get("title") == title.as_ref()
        }) {
            run.params.extend(body);
            return Json(run_answer(&base_url(&headers), run)).into_response();
        }
    }
    let uid = world.new_uid();
    let run = Run {
        uid,
        project,
        params: body,
        status: "running",
        status_events: Vec::new(),
        batch_indexes: Vec::new(),
        duplicate_batch_indexes: Vec::new(),
        testrun_requests: 0,
        executions: Vec::new(),
        execution_index: HashMap::new(),
    };
    let answer = run_answer(&base_url(&headers), &run);
    world.runs.push(run);
    Json(answer).into_response()
}

async fn update_run(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut body = match body_object(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut world = lock(&state.inner().testomatio);
    let project = match authenticate(&world, &query, &mut body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let world = &mut *world;
    let Some(run) = world
        .runs
        .iter_mut()
        .find(|r| r.uid == uid && r.project == project)
    else {
        return message(
            StatusCode::NOT_FOUND,
            "Not found - check the runId parameter",
        );
    };
    let Some(event) = body.get("status_event").cloned() else {
        run.params.extend(body);
        return Json(run_answer(&base_url(&headers), run)).into_response();
    };
    let event_name = event.as_str().unwrap_or_default();
    if !FINISHING.contains(&event_name) && !PARALLEL.contains(&event_name) {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("unknown status_event {event}"),
        );
    }
    // The XML importer sends its tests with the finish call.
    if let Some(Value::Array(tests)) = body.get("tests") {
        for test in tests {
            run.store(
                record(&world.config, test, None, &mut world.created_tests),
                false,
            );
        }
    }
    if FINISHING.contains(&event_name) {
        run.status = "finished";
    }
    run.status_events.push(Value::Object(body));
    Json(run_answer(&base_url(&headers), run)).into_response()
}

fn text(test: &Value, field: &str) -> Option<String> {
    test.get(field).and_then(Value::as_str).map(str::to_owned)
}

/// `@Ta0b0c0d0`, `Ta0b0c0d0` and `a0b0c0d0` name the same test.
fn bare_id(id: &str) -> &str {
    let id = id.strip_prefix('@').unwrap_or(id);
    id.strip_prefix('T')
        .filter(|rest| !rest.is_empty())
        .unwrap_or(id)
}

fn same_test(known: &Value, test: &Value) -> bool {
    if let (Some(a), Some(b)) = (text(known, "id"), text(test, "test_id")) {
        return bare_id(&a) == bare_id(&b);
    }
    ["title", "suite_title", "file"]
        .iter()
        .all(|f| text(known, f) == text(test, f))
}

fn record(
    config: &Config,
    test: &Value,
    batch_index: Option<&Value>,
    created: &mut Created,
) -> Execution {
    let mut received = test.clone();
    if let Some(m) = received.as_object_mut() {
        m.remove("api_key");
    }
    let matched = if config.tests.iter().any(|k| same_test(k, test)) || created.matches(test) {
        "matched"
    } else if test.get("create").and_then(Value::as_bool) == Some(true) {
        created.add(json!({
            "id": text(test, "test_id"), "title": text(test, "title"),
            "suite_title": text(test, "suite_title"), "file": text(test, "file"),
        }));
        "created"
    } else {
        "unmatched"
    };
    Execution {
        matched,
        test_id: text(test, "test_id"),
        title: text(test, "title"),
        suite_title: text(test, "suite_title"),
        file: text(test, "file"),
        rid: text(test, "rid"),
        status: text(test, "status"),
        run_time: test.get("run_time").cloned(),
        batch_index: batch_index.cloned(),
        received,
    }
}

async fn testrun(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let mut body = match body_object(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut world = lock(&state.inner().testomatio);
    let project = match authenticate(&world, &query, &mut body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let world = &mut *world;
    let config = &world.config;
    let Some(run) = world
        .runs
        .iter_mut()
        .find(|r| r.uid == uid && r.project == project)
    else {
        return message(
            StatusCode::NOT_FOUND,
            "Not found - check the runId parameter",
        );
    };
    run.testrun_requests += 1;
    let batch_index = body.get("batch_index").cloned();
    let tests: Vec<Value> = match body.get("tests") {
        Some(Value::Array(items)) => items.clone(),
        _ => vec![Value::Object(body.clone())],
    };
    if let Some(index) = &batch_index {
        if run.batch_indexes.contains(index) {
            run.duplicate_batch_indexes.push(index.clone());
        }
        run.batch_indexes.push(index.clone());
    }
    let mut unmatched = Vec::new();
    for test in &tests {
        let execution = record(config, test, batch_index.as_ref(), &mut world.created_tests);
        if execution.matched == "unmatched" {
            unmatched.push(execution.title.clone().unwrap_or_default());
        }
        let overwrite = test.get("overwrite").and_then(Value::as_bool) == Some(true);
        let replace = overwrite || config.same_rid == SameRid::Update;
        run.store(execution, replace);
    }
    if config.unmatched_answer == UnmatchedAnswer::Error && !unmatched.is_empty() {
        let text = format!("Test {} could not be matched", unmatched.join(", "));
        return message(StatusCode::NOT_FOUND, &text);
    }
    message(StatusCode::OK, "Test run added")
}
