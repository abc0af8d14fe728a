//! The GitHub REST subset the action uses, under `/github` (as if `GITHUB_API_URL` were
//! `<fake>/github`): check runs, issue comments, pulls of a commit, files of a pull request, and
//! a GitHub App's installation token.
//!
//! Rules:
//! - `Authorization: Bearer|token <t>` must name a configured token, else 401 "Bad credentials";
//!   a `read` token writing → 403 "Resource not accessible by integration";
//! - request bodies are validated against GitHub's own OpenAPI request schemas
//!   (`schemas/github-requests.json`, extracted from `@octokit/openapi` by
//!   `schemas/extract-github.mjs`): required fields, enums (`status`, `conclusion`,
//!   `annotation_level`), 65,535-character `summary`/`text`, 50 annotations per request, date-times;
//! - on top, what the schemas only say in prose: `head_sha` must name a commit (40 hex here),
//!   `completed` needs a conclusion on create too, annotation columns only on a single line,
//!   annotation `message`/`raw_details` at most 64 KiB, `title` at most 255 characters, and
//!   `summary`/`text` at most 65,535 *bytes* (stricter than GitHub's characters: what a client
//!   can check cheaply, and never wrong); updates append annotations, as GitHub does;
//! - issue comment bodies at most 65,536 characters; lists paginate with `per_page` (default 30,
//!   max 100) and `page` and a `Link` header;
//! - a pull request's files list at most [`MAX_PULL_FILES`] files, as GitHub's does;
//! - App endpoints take a JWT (`Bearer h.c.s`): header `alg` RS256, claims `iss` one of
//!   `config.apps` (app id → installation id), `exp - iat` at most 600 s, else 401 (the signature
//!   is not checked: the fake has no key); the installation token it mints may write.
//!
//! The 422 texts follow GitHub's shape (`Invalid request.\n\n...`); their exact words are [INF].

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::state::{lock, AppState};

/// Default tokens: one that may write, one that may only read (as with `permissions: read-all`).
pub const DEFAULT_WRITE_TOKEN: &str = "github-token";
pub const DEFAULT_READ_TOKEN: &str = "github-readonly-token";
/// GitHub's per-request annotation limit (docs: "maximum of 50 annotations per API request").
pub const MAX_ANNOTATIONS_PER_REQUEST: usize = 50;
/// The `output.summary` / `output.text` cap (docs: "Maximum length: 65535 characters").
pub const MAX_OUTPUT_FIELD: usize = 65_535;
/// An annotation's `message` / `raw_details` cap (docs: "64 KB").
pub const MAX_ANNOTATION_FIELD: usize = 65_536;
/// Issue comment body cap (GitHub's 422: "body is too long (maximum is 65536 characters)").
pub const MAX_COMMENT_BODY_CHARS: usize = 65_536;
const DOCS: &str = "https://docs.github.com/rest";
/// Files listed for one pull request (REST "List pull requests files": "Responses include a
/// maximum of 3000 files").
pub const MAX_PULL_FILES: usize = 3_000;
/// An annotation `title` cap (docs: "The maximum size is 255 characters").
pub const MAX_ANNOTATION_TITLE_CHARS: usize = 255;
/// GitHub's request schemas, extracted from `@octokit/openapi` (see schemas/extract-github.mjs).
const REQUEST_SCHEMAS: &str = include_str!("../schemas/github-requests.json");
const BOT_LOGIN: &str = "github-actions[bot]";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Read,
    Write,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Config {
    pub tokens: BTreeMap<String, Access>,
    /// Commit SHA → the pull request objects `GET .../commits/{sha}/pulls` answers.
    pub pulls: BTreeMap<String, Vec<Value>>,
    /// Pull request number → the paths `GET .../pulls/{n}/files` lists (as `modified` files).
    #[serde(default)]
    pub pull_files: BTreeMap<String, Vec<String>>,
    /// GitHub App id → its installation id (on every repository).
    #[serde(default)]
    pub apps: BTreeMap<String, u64>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            tokens: BTreeMap::from([
                (DEFAULT_WRITE_TOKEN.to_owned(), Access::Write),
                (DEFAULT_READ_TOKEN.to_owned(), Access::Read),
            ]),
            pulls: BTreeMap::new(),
            pull_files: BTreeMap::new(),
            apps: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Serialize)]
struct CheckRun {
    id: u64,
    repo: String,
    name: String,
    head_sha: String,
    status: String,
    conclusion: Option<String>,
    details_url: Option<String>,
    external_id: Option<String>,
    started_at: Option<String>,
    completed_at: Option<String>,
    output: Map<String, Value>,
    annotations: Vec<Value>,
    /// Annotation counts per request (create first), to prove batching.
    annotation_batches: Vec<usize>,
    updates: u32,
}

#[derive(Debug, Serialize)]
struct Comment {
    id: u64,
    repo: String,
    issue_number: u64,
    body: String,
    user: String,
    updates: u32,
}

#[derive(Default)]
pub struct World {
    config: Config,
    check_runs: Vec<CheckRun>,
    comments: Vec<Comment>,
    next_id: u64,
}

impl World {
    pub fn state(&self) -> Value {
        json!({ "check_runs": self.check_runs, "comments": self.comments })
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

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        1_000 + self.next_id
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/repos/{owner}/{repo}/check-runs", post(create_check_run))
        .route(
            "/repos/{owner}/{repo}/check-runs/{id}",
            patch(update_check_run).get(get_check_run),
        )
        .route(
            "/repos/{owner}/{repo}/check-runs/{id}/annotations",
            get(list_annotations),
        )
        .route(
            "/repos/{owner}/{repo}/issues/{number}/comments",
            get(list_comments).post(create_comment),
        )
        .route(
            "/repos/{owner}/{repo}/issues/comments/{id}",
            patch(update_comment),
        )
        .route(
            "/repos/{owner}/{repo}/commits/{sha}/pulls",
            get(commit_pulls),
        )
        .route(
            "/repos/{owner}/{repo}/pulls/{number}/files",
            get(pull_files),
        )
        .route("/repos/{owner}/{repo}/installation", get(repo_installation))
        .route(
            "/app/installations/{id}/access_tokens",
            post(installation_access_token),
        )
}

fn message(status: StatusCode, text: &str) -> Response {
    let body = json!({ "message": text, "documentation_url": DOCS, "status": status.as_u16().to_string() });
    (status, Json(body)).into_response()
}

fn invalid(detail: &str) -> Response {
    message(
        StatusCode::UNPROCESSABLE_ENTITY,
        &format!("Invalid request.\n\n{detail}"),
    )
}

/// Checks the token; `write` says whether the endpoint changes anything.
fn authorize(world: &World, headers: &HeaderMap, write: bool) -> Result<(), Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("token "))
        })
        .map(str::trim);
    match token.and_then(|t| world.config.tokens.get(t)) {
        None => Err(message(StatusCode::UNAUTHORIZED, "Bad credentials")),
        Some(Access::Read) if write => Err(message(
            StatusCode::FORBIDDEN,
            "Resource not accessible by integration",
        )),
        Some(_) => Ok(()),
    }
}

fn json_object(body: &Bytes) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(message(StatusCode::BAD_REQUEST, "Problems parsing JSON")),
    }
}

fn optional_string(body: &Map<String, Value>, field: &str) -> Result<Option<String>, Response> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(invalid(&format!("For '{field}', {other} is not a string."))),
    }
}

/// Checks a body against GitHub's schema for the operation (a key of `operations`).
fn check_schema(operation: &str, body: &Map<String, Value>) -> Result<(), Response> {
    static SCHEMAS: OnceLock<Option<Value>> = OnceLock::new();
    let schemas = SCHEMAS.get_or_init(|| serde_json::from_str(REQUEST_SCHEMAS).ok());
    let pointer = format!("/operations/{operation}/schema");
    let Some(schema) = schemas.as_ref().and_then(|s| s.pointer(&pointer)) else {
        let text = format!(
            "fake-services: no request schema for {operation} in schemas/github-requests.json"
        );
        return Err(message(StatusCode::INTERNAL_SERVER_ERROR, &text));
    };
    crate::schema::validate(schema, &Value::Object(body.clone()), "")
        .map_err(|detail| invalid(&detail))
}

/// Validates `output`, returning its fields without annotations, and the annotations.
fn check_output(output: &Value) -> Result<(Map<String, Value>, Vec<Value>), Response> {
    let Value::Object(output) = output else {
        return Err(invalid("For 'properties/output', it is not an object."));
    };
    for field in ["title", "summary"] {
        if !output.get(field).is_some_and(Value::is_string) {
            return Err(invalid(&format!("\"{field}\" wasn't supplied.")));
        }
    }
    for field in ["summary", "text"] {
        if let Some(text) = output.get(field) {
            let Some(text) = text.as_str() else {
                return Err(invalid(&format!(
                    "For 'properties/{field}', it is not a string."
                )));
            };
            if text.len() > MAX_OUTPUT_FIELD {
                return Err(invalid(&format!(
                    "Only {MAX_OUTPUT_FIELD} characters are allowed; {} were supplied.",
                    text.len()
                )));
            }
        }
    }
    let annotations = match output.get("annotations") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return Err(invalid("For 'properties/annotations', it is not an array.")),
    };
    if annotations.len() > MAX_ANNOTATIONS_PER_REQUEST {
        return Err(invalid(&format!(
            "Only {MAX_ANNOTATIONS_PER_REQUEST} annotations are allowed per request; {} were supplied.",
            annotations.len()
        )));
    }
    for (i, a) in annotations.iter().enumerate() {
        check_annotation(i, a)?;
    }
    let mut fields = output.clone();
    fields.remove("annotations");
    Ok((fields, annotations))
}

fn check_annotation(index: usize, annotation: &Value) -> Result<(), Response> {
    let at = |detail: String| invalid(&format!("annotations[{index}]: {detail}"));
    let Value::Object(a) = annotation else {
        return Err(at("is not an object".into()));
    };
    for field in ["path", "message"] {
        if !a.get(field).is_some_and(Value::is_string) {
            return Err(at(format!("\"{field}\" wasn't supplied.")));
        }
    }
    let line = |field: &str| a.get(field).and_then(Value::as_u64);
    let (Some(start), Some(end)) = (line("start_line"), line("end_line")) else {
        return Err(at(
            "\"start_line\" and \"end_line\" must be supplied as integers.".into(),
        ));
    };
    if end < start {
        return Err(at("end_line is before start_line.".into()));
    }
    if (a.contains_key("start_column") || a.contains_key("end_column")) && start != end {
        return Err(at(
            "start_column and end_column are only allowed when start_line equals end_line.".into(),
        ));
    }
    for field in ["message", "raw_details"] {
        if a.get(field)
            .and_then(Value::as_str)
            .is_some_and(|s| s.len() > MAX_ANNOTATION_FIELD)
        {
            return Err(at(format!(
                "{field} is longer than {MAX_ANNOTATION_FIELD} bytes."
            )));
        }
    }
    let title_chars = a
        .get("title")
        .and_then(Value::as_str)
        .map_or(0, |t| t.chars().count());
    if title_chars > MAX_ANNOTATION_TITLE_CHARS {
        return Err(at(format!(
            "title is longer than {MAX_ANNOTATION_TITLE_CHARS} characters."
        )));
    }
    Ok(())
}

fn check_run_json(base: &str, run: &CheckRun) -> Value {
    let mut output = run.output.clone();
    output.insert("annotations_count".into(), json!(run.annotations.len()));
    output.insert(
        "annotations_url".into(),
        json!(format!(
            "{base}/repos/{}/check-runs/{}/annotations",
            run.repo, run.id
        )),
    );
    json!({
        "id": run.id,
        "name": run.name,
        "head_sha": run.head_sha,
        "status": run.status,
        "conclusion": run.conclusion,
        "details_url": run.details_url,
        "external_id": run.external_id,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "output": output,
        "url": format!("{base}/repos/{}/check-runs/{}", run.repo, run.id),
        "html_url": format!("https://github.com/{}/runs/{}", run.repo, run.id),
    })
}

fn api_base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}/github")
}

/// Status/conclusion after a create or update: a conclusion completes the run.
fn resolve_status(
    status: Option<String>,
    conclusion: Option<&String>,
    current: &str,
) -> Result<String, Response> {
    let status = match (status, conclusion) {
        (_, Some(_)) => "completed".to_owned(),
        (Some(s), None) => s,
        (None, None) => current.to_owned(),
    };
    if status == "completed" && conclusion.is_none() {
        return Err(invalid(
            "\"conclusion\" wasn't supplied; it is required when status is completed.",
        ));
    }
    Ok(status)
}

async fn create_check_run(
    State(state): State<AppState>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut world = lock(&state.inner().github);
    if let Err(r) = authorize(&world, &headers, true) {
        return r;
    }
    let result = (|| {
        let body = json_object(&body)?;
        check_schema("create_check_run", &body)?;
        let name =
            optional_string(&body, "name")?.ok_or_else(|| invalid("\"name\" wasn't supplied."))?;
        let head_sha = optional_string(&body, "head_sha")?
            .ok_or_else(|| invalid("\"head_sha\" wasn't supplied."))?;
        if head_sha.len() != 40 || !head_sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(message(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("No commit found for SHA: {head_sha}"),
            ));
        }
        let status = optional_string(&body, "status")?;
        let conclusion = optional_string(&body, "conclusion")?;
        let status = resolve_status(status, conclusion.as_ref(), "queued")?;
        let (output, annotations) = match body.get("output") {
            None | Some(Value::Null) => (Map::new(), Vec::new()),
            Some(o) => check_output(o)?,
        };
        Ok(CheckRun {
            id: 0,
            repo: format!("{owner}/{repo}"),
            name,
            head_sha,
            status,
            conclusion,
            details_url: optional_string(&body, "details_url")?,
            external_id: optional_string(&body, "external_id")?,
            started_at: optional_string(&body, "started_at")?,
            completed_at: optional_string(&body, "completed_at")?,
            output,
            annotation_batches: vec![annotations.len()],
            annotations,
            updates: 0,
        })
    })();
    match result {
        Ok(mut run) => {
            run.id = world.next_id();
            let body = check_run_json(&api_base(&headers), &run);
            world.check_runs.push(run);
            (StatusCode::CREATED, Json(body)).into_response()
        }
        Err(r) => r,
    }
}

fn find_run<'a>(
    world: &'a mut World,
    owner: &str,
    repo: &str,
    id: u64,
) -> Result<&'a mut CheckRun, Response> {
    let full = format!("{owner}/{repo}");
    world
        .check_runs
        .iter_mut()
        .find(|r| r.id == id && r.repo == full)
        .ok_or_else(|| message(StatusCode::NOT_FOUND, "Not Found"))
}

async fn update_check_run(
    State(state): State<AppState>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut world = lock(&state.inner().github);
    if let Err(r) = authorize(&world, &headers, true) {
        return r;
    }
    let result = (|| {
        let body = json_object(&body)?;
        check_schema("update_check_run", &body)?;
        let run = find_run(&mut world, &owner, &repo, id)?;
        let status = optional_string(&body, "status")?;
        let conclusion = optional_string(&body, "conclusion")?;
        let conclusion = conclusion.or_else(|| run.conclusion.clone());
        let status = resolve_status(status, conclusion.as_ref(), &run.status)?;
        let output = match body.get("output") {
            None | Some(Value::Null) => None,
            Some(o) => Some(check_output(o)?),
        };
        if let Some(name) = optional_string(&body, "name")? {
            run.name = name;
        }
        for (field, slot) in [
            ("details_url", &mut run.details_url),
            ("external_id", &mut run.external_id),
            ("started_at", &mut run.started_at),
            ("completed_at", &mut run.completed_at),
        ] {
            if let Some(v) = optional_string(&body, field)? {
                *slot = Some(v);
            }
        }
        run.status = status;
        run.conclusion = conclusion;
        if let Some((fields, annotations)) = output {
            run.output = fields;
            run.annotation_batches.push(annotations.len());
            run.annotations.extend(annotations);
        }
        run.updates += 1;
        Ok(check_run_json(&api_base(&headers), run))
    })();
    match result {
        Ok(body) => Json(body).into_response(),
        Err(r) => r,
    }
}

async fn get_check_run(
    State(state): State<AppState>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    let mut world = lock(&state.inner().github);
    if let Err(r) = authorize(&world, &headers, false) {
        return r;
    }
    match find_run(&mut world, &owner, &repo, id) {
        Ok(run) => Json(check_run_json(&api_base(&headers), run)).into_response(),
        Err(r) => r,
    }
}

/// `per_page` (1..=100, default 30) and `page` (from 1) as GitHub reads them.
fn page_of<T: Clone>(
    items: &[T],
    query: &HashMap<String, String>,
) -> (Vec<T>, usize, usize, usize) {
    let per_page = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice = items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    (slice, page, per_page, last)
}

fn paged(items: Vec<Value>, page: usize, per_page: usize, last: usize, url: &str) -> Response {
    let mut links = Vec::new();
    if page < last {
        links.push(format!(
            "<{url}?per_page={per_page}&page={}>; rel=\"next\"",
            page + 1
        ));
        links.push(format!(
            "<{url}?per_page={per_page}&page={last}>; rel=\"last\""
        ));
    }
    if page > 1 {
        links.push(format!("<{url}?per_page={per_page}&page=1>; rel=\"first\""));
        links.push(format!(
            "<{url}?per_page={per_page}&page={}>; rel=\"prev\"",
            page - 1
        ));
    }
    let mut response = Json(Value::Array(items)).into_response();
    if let Ok(value) = links.join(", ").parse() {
        if !links.is_empty() {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    response
}

async fn list_annotations(
    State(state): State<AppState>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut world = lock(&state.inner().github);
    if let Err(r) = authorize(&world, &headers, false) {
        return r;
    }
    let run = match find_run(&mut world, &owner, &repo, id) {
        Ok(run) => run,
        Err(r) => return r,
    };
    let (items, page, per_page, last) = page_of(&run.annotations, &query);
    let url = format!(
        "{}/repos/{owner}/{repo}/check-runs/{id}/annotations",
        api_base(&headers)
    );
    paged(items, page, per_page, last, &url)
}

fn comment_json(base: &str, c: &Comment) -> Value {
    json!({
        "id": c.id,
        "body": c.body,
        "user": { "login": c.user, "type": "Bot" },
        "url": format!("{base}/repos/{}/issues/comments/{}", c.repo, c.id),
        "html_url": format!("https://github.com/{}/pull/{}#issuecomment-{}", c.repo, c.issue_number, c.id),
    })
}

fn comment_body(operation: &str, body: &Bytes) -> Result<String, Response> {
    let body = json_object(body)?;
    check_schema(operation, &body)?;
    let text =
        optional_string(&body, "body")?.ok_or_else(|| invalid("\"body\" wasn't supplied."))?;
    if text.chars().count() > MAX_COMMENT_BODY_CHARS {
        let errors = json!([{ "resource": "IssueComment", "code": "custom", "field": "body",
            "message": format!("body is too long (maximum is {MAX_COMMENT_BODY_CHARS} characters)") }]);
        let body = json!({ "message": "Validation Failed", "errors": errors, "documentation_url": DOCS, "status": "422" });
        return Err((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
    }
    Ok(text)
}

async fn list_comments(
    State(state): State<AppState>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let world = lock(&state.inner().github);
    if let Err(r) = authorize(&world, &headers, false) {
        return r;
    }
    let full = format!("{owner}/{repo}");
    let base = api_base(&headers);
    let all: Vec<Value> = world
        .comments
        .iter()
        .filter(|c| c.repo == full && c.issue_number == number)
        .map(|c| comment_json(&base, c))
        .collect();
    let (items, page, per_page, last) = page_of(&all, &query);
    paged(
        items,
        page,
        per_page,
        last,
        &format!("{base}/repos/{full}/issues/{number}/comments"),
    )
}

async fn create_comment(
    State(state): State<AppState>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut world = lock(&state.inner().github);
    if let Err(r) = authorize(&world, &headers, true) {
        return r;
    }
    let text = match comment_body("create_issue_comment", &body) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = world.next_id();
    let comment = Comment {
        id,
        repo: format!("{owner}/{repo}"),
        issue_number: number,
        body: text,
        user: BOT_LOGIN.to_owned(),
        updates: 0,
    };
    let body = comment_json(&api_base(&headers), &comment);
    world.comments.push(comment);
    (StatusCode::CREATED, Json(body)).into_response()
}

async fn update_comment(
    State(state): State<AppState>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut world = lock(&state.inner().github);
    if let Err(r) = authorize(&world, &headers, true) {
        return r;
    }
    let text = match comment_body("update_issue_comment", &body) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let full = format!("{owner}/{repo}");
    let Some(comment) = world
        .comments
        .iter_mut()
        .find(|c| c.id == id && c.repo == full)
    else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    comment.body = text;
    comment.updates += 1;
    Json(comment_json(&api_base(&headers), comment)).into_response()
}

async fn commit_pulls(
    State(state): State<AppState>,
    Path((_owner, _repo, sha)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let world = lock(&state.inner().github);
    if let Err(r) = authorize(&world, &headers, false) {
        return r;
    }
    Json(world.config.pulls.get(&sha).cloned().unwrap_or_default()).into_response()
}

/// The files of a pull request, each as GitHub's `diff-entry` (the fields a client reads).
async fn pull_files(
    State(state): State<AppState>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let world = lock(&state.inner().github);
    if let Err(r) = authorize(&world, &headers, false) {
        return r;
    }
    let Some(files) = world.config.pull_files.get(&number.to_string()) else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    let entries: Vec<Value> = files
        .iter()
        .take(MAX_PULL_FILES)
        .map(|f| json!({"sha": "0".repeat(40), "filename": f, "status": "modified", "additions": 1, "deletions": 0, "changes": 1}))
        .collect();
    let (items, page, per_page, last) = page_of(&entries, &query);
    let url = format!(
        "{}/repos/{owner}/{repo}/pulls/{number}/files",
        api_base(&headers)
    );
    paged(items, page, per_page, last, &url)
}

/// GitHub's limit on a JWT's lifetime ("no more than 10 minutes into the future").
const MAX_JWT_LIFETIME_SECS: u64 = 600;

/// The installation id of the App whose JWT authorizes the request.
fn app_installation(world: &World, headers: &HeaderMap) -> Result<u64, Response> {
    use base64::Engine;
    let bad = || {
        message(
            StatusCode::UNAUTHORIZED,
            "A JSON web token could not be decoded",
        )
    };
    let jwt = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(bad)?;
    let parts: Vec<&str> = jwt.split('.').collect();
    let [head, claims, signature] = parts[..] else {
        return Err(bad());
    };
    let decode = |part: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    };
    let (Some(head), Some(claims)) = (decode(head), decode(claims)) else {
        return Err(bad());
    };
    if head["alg"] != "RS256" || signature.is_empty() {
        return Err(bad());
    }
    let (Some(iat), Some(exp)) = (claims["iat"].as_u64(), claims["exp"].as_u64()) else {
        return Err(bad());
    };
    if exp <= iat || exp - iat > MAX_JWT_LIFETIME_SECS {
        return Err(message(
            StatusCode::UNAUTHORIZED,
            "'Expiration time' claim ('exp') is too far in the future",
        ));
    }
    let iss = match &claims["iss"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(bad()),
    };
    world
        .config
        .apps
        .get(&iss)
        .copied()
        .ok_or_else(|| message(StatusCode::UNAUTHORIZED, "Integration not found"))
}

async fn repo_installation(
    State(state): State<AppState>,
    Path((_owner, _repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let world = lock(&state.inner().github);
    match app_installation(&world, &headers) {
        Ok(id) => Json(json!({ "id": id })).into_response(),
        Err(r) => r,
    }
}

async fn installation_access_token(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> Response {
    let mut world = lock(&state.inner().github);
    match app_installation(&world, &headers) {
        Ok(installed) if installed == id => {
            let token = format!("ghs_fake_installation_{id}");
            world.config.tokens.insert(token.clone(), Access::Write);
            (
                StatusCode::CREATED,
                Json(json!({ "token": token, "expires_at": "2099-01-01T00:00:00Z" })),
            )
                .into_response()
        }
        Ok(_) => message(StatusCode::NOT_FOUND, "Not Found"),
        Err(r) => r,
    }
}
