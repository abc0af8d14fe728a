//! TestNod (vendors.md §1) under `/testnod`, and the presigned-URL storage host under `/storage`.
//!
//! Rules (§1.9 numbers in brackets):
//! - `Project-Token` must name a configured project, else 404 `{"error_message":"Project not
//!   found."}` on every endpoint, never 401 [1];
//! - upload takes JSON, urlencoded or multipart bodies with Rails names [3]; malformed
//!   parameters (non-scalar metadata, flat `tags`) → 422 "There was a problem creating this test
//!   run.", then a missing or empty build id → 422 "metadata.build_id is required." [2];
//! - upload answers 201 with `id`, `project`, `project_id`, `test_run_id`, `upload_id`,
//!   `test_run_url`, `presigned_url` [4]; while a run is not finalized, uploads with its build id
//!   join it with the next `upload_id` [6]; after finalize a new run opens [INF];
//! - the storage PUT is S3-strict [5]: chunked bodies → 501, no `Content-Length` → 411, a
//!   `Project-Token` header → 403 (the token must never reach the storage host), a changed
//!   signature, any `x-amz-meta-*` header or a `Content-Type` other than `application/xml` → 403
//!   `SignatureDoesNotMatch`, past the expiry → 403 `AccessDenied` "Request has expired";
//! - finalize: `build_id` at the top level only, else 422 "build_id is required."; unknown →
//!   404; a run none of whose uploads received a file → 422 [INF text]; repeatable [7];
//! - the run is `pending` until finalized with every upload terminal (file received or
//!   upload_failed), then `processing`; `POST /_fake/advance` makes it `processed` [8, 9].

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use base64::Engine;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::params::{self, scalar_text};
use crate::state::{lock, AppState};

/// The default project token and project id, valid until `/_fake/config` replaces them.
pub const DEFAULT_TOKEN: &str = "testnod-token";
pub const DEFAULT_PROJECT: &str = "b7e2c1a0-9f3d-4a8b-bc1e-2d4f6a8c0e11";
/// The presigned URL lifetime; TestNod's is undocumented (§1.6), S3's presigner default is 900 s.
pub const DEFAULT_PRESIGNED_TTL_SECS: u64 = 900;
/// Where ids start, as in the documented sample response (§1.4).
const FIRST_UPLOAD_ROW: u64 = 12345;
const FIRST_RUN_ID: u64 = 42;

const BUILD_ID_REQUIRED: &str = "metadata.build_id is required.";
const PROBLEM_CREATING: &str = "There was a problem creating this test run.";
const FINALIZE_BUILD_ID_REQUIRED: &str = "build_id is required.";
/// [INF] The published text of this 422 is cut off (§6).
const FINALIZE_NO_UPLOADS: &str = "This test run has no uploads.";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Config {
    /// Project token → project id.
    pub tokens: BTreeMap<String, String>,
    pub presigned_url_ttl_secs: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            tokens: BTreeMap::from([(DEFAULT_TOKEN.to_owned(), DEFAULT_PROJECT.to_owned())]),
            presigned_url_ttl_secs: DEFAULT_PRESIGNED_TTL_SECS,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum UploadState {
    AwaitingFile,
    Uploaded,
    Failed,
}

#[derive(Debug, Serialize)]
struct Upload {
    id: u64,
    upload_id: u64,
    state: UploadState,
    storage_key: String,
    #[serde(skip)]
    signature: String,
    issued_unix: u64,
    failure_message: Option<String>,
    file_puts: u32,
    file_base64: Option<String>,
    file_utf8: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    Pending,
    Processing,
    Processed,
}

#[derive(Debug, Serialize)]
struct Run {
    test_run_id: u64,
    project: String,
    build_id: String,
    metadata: Value,
    tags: Vec<String>,
    finalize_calls: u32,
    status: Phase,
    uploads: Vec<Upload>,
}

impl Run {
    /// pending → processing once finalized and every upload is terminal (§1.5).
    fn settle(&mut self) {
        let terminal = self
            .uploads
            .iter()
            .all(|u| u.state != UploadState::AwaitingFile);
        if self.status == Phase::Pending && self.finalize_calls > 0 && terminal {
            self.status = Phase::Processing;
        }
    }
}

pub struct World {
    config: Config,
    runs: Vec<Run>,
    next_row: u64,
    next_run: u64,
}

impl Default for World {
    fn default() -> World {
        World {
            config: Config::default(),
            runs: Vec::new(),
            next_row: FIRST_UPLOAD_ROW,
            next_run: FIRST_RUN_ID,
        }
    }
}

impl World {
    pub fn state(&self) -> Value {
        json!({ "runs": self.runs })
    }

    pub fn config(&self) -> Value {
        json!(self.config)
    }

    /// Replaces the fields given (`tokens` replaces the whole token table).
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

    /// processing → processed; answers how many runs moved.
    pub fn advance(&mut self) -> usize {
        let mut moved = 0;
        for run in &mut self.runs {
            if run.status == Phase::Processing {
                run.status = Phase::Processed;
                moved += 1;
            }
        }
        moved
    }

    fn project_of(&self, headers: &HeaderMap) -> Option<String> {
        let token = headers.get("project-token")?.to_str().ok()?;
        self.config.tokens.get(token).cloned()
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/integrations/test_runs/upload", post(upload))
        .route("/integrations/test_runs/upload_failed", post(upload_failed))
        .route("/integrations/test_runs/finalize", post(finalize))
}

pub fn storage_routes() -> Router<AppState> {
    Router::new().route("/{*key}", put(storage_put))
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error_message": message }))).into_response()
}

fn project_not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Project not found.")
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `http://HOST` from the request, so URLs handed out point back at this fake.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// Checks the upload parameters: (build id, metadata, tags) or the 422 message.
fn upload_params(params: &Value) -> Result<(String, Value, Vec<String>), &'static str> {
    let test_run = params.get("test_run").unwrap_or(&Value::Null);
    let metadata = match test_run {
        Value::Null => Value::Null,
        Value::Object(m) => m.get("metadata").cloned().unwrap_or(Value::Null),
        _ => return Err(PROBLEM_CREATING),
    };
    match &metadata {
        Value::Null => {}
        Value::Object(m) if m.values().all(|v| !v.is_object() && !v.is_array()) => {}
        _ => return Err(PROBLEM_CREATING),
    }
    let tags = match params.get("tags") {
        None | Some(Value::Null) => vec!["Default".to_owned()],
        Some(Value::Array(items)) => {
            let mut tags = Vec::with_capacity(items.len());
            for item in items {
                let value = item
                    .get("value")
                    .and_then(scalar_text)
                    .ok_or(PROBLEM_CREATING)?;
                tags.push(value);
            }
            tags
        }
        Some(_) => return Err(PROBLEM_CREATING),
    };
    let build_id = metadata
        .get("build_id")
        .and_then(scalar_text)
        .filter(|b| !b.trim().is_empty())
        .ok_or(BUILD_ID_REQUIRED)?;
    Ok((build_id, metadata, tags))
}

/// A random-looking hex string (no RNG dependency: std's per-process random hasher keys).
pub fn random_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(now_unix());
    format!(
        "{:016x}{:016x}",
        hasher.finish(),
        std::collections::hash_map::RandomState::new().hash_one(1u8)
    )
}

/// `YYYYMMDDTHHMMSSZ` (X-Amz-Date) for a Unix time.
pub fn amz_date(unix: u64) -> String {
    let days = i64::try_from(unix / 86_400).unwrap_or(0);
    let secs = unix % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

async fn upload(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(project) = lock(&state.inner().testnod).project_of(&headers) else {
        return project_not_found();
    };
    let params = match params::parse(&headers, body).await {
        Ok(p) => p,
        Err(_) => return error(StatusCode::UNPROCESSABLE_ENTITY, PROBLEM_CREATING),
    };
    let (build_id, metadata, tags) = match upload_params(&params) {
        Ok(p) => p,
        Err(message) => return error(StatusCode::UNPROCESSABLE_ENTITY, message),
    };
    let base = base_url(&headers);
    let mut world = lock(&state.inner().testnod);
    let ttl = world.config.presigned_url_ttl_secs;
    let row = world.next_row;
    world.next_row += 1;
    let open = world
        .runs
        .iter()
        .position(|r| r.project == project && r.build_id == build_id && r.finalize_calls == 0);
    let index = match open {
        Some(i) => i,
        None => {
            let test_run_id = world.next_run;
            world.next_run += 1;
            world.runs.push(Run {
                test_run_id,
                project: project.clone(),
                build_id,
                metadata,
                tags,
                finalize_calls: 0,
                status: Phase::Pending,
                uploads: Vec::new(),
            });
            world.runs.len() - 1
        }
    };
    let run = &mut world.runs[index];
    let upload_id = run.uploads.len() as u64 + 1;
    let test_run_id = run.test_run_id;
    let storage_key = format!("testnod-uploads/{project}/{test_run_id}/{upload_id}.xml");
    let issued = now_unix();
    let signature = random_hex();
    let presigned_url = format!(
        "{base}/storage/{storage_key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={}&X-Amz-Expires={ttl}\
         &X-Amz-SignedHeaders=content-type%3Bhost&x-amz-meta-project_id={project}\
         &x-amz-meta-test_run_id={test_run_id}&x-amz-meta-upload_id={upload_id}&X-Amz-Signature={signature}",
        amz_date(issued)
    );
    run.uploads.push(Upload {
        id: row,
        upload_id,
        state: UploadState::AwaitingFile,
        storage_key,
        signature,
        issued_unix: issued,
        failure_message: None,
        file_puts: 0,
        file_base64: None,
        file_utf8: None,
    });
    let test_run_url = format!("{base}/testnod/projects/{project}/test_runs/{test_run_id}");
    let body = json!({
        "id": row,
        "project": project,
        "project_id": project,
        "test_run_id": test_run_id,
        "upload_id": upload_id,
        "test_run_url": test_run_url,
        "presigned_url": presigned_url,
    });
    (StatusCode::CREATED, Json(body)).into_response()
}

fn id_param(params: &Value, name: &str) -> Option<u64> {
    match params.get(name)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

async fn upload_failed(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(project) = lock(&state.inner().testnod).project_of(&headers) else {
        return project_not_found();
    };
    let params = params::parse(&headers, body).await.unwrap_or(Value::Null);
    let (Some(test_run_id), Some(upload_id)) = (
        id_param(&params, "test_run_id"),
        id_param(&params, "upload_id"),
    ) else {
        // [INF] The docs name no error for this endpoint.
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "test_run_id and upload_id are required.",
        );
    };
    let message = params
        .get("failure_message")
        .and_then(scalar_text)
        .unwrap_or_default();
    let mut world = lock(&state.inner().testnod);
    let Some(run) = world
        .runs
        .iter_mut()
        .find(|r| r.project == project && r.test_run_id == test_run_id)
    else {
        return error(StatusCode::NOT_FOUND, "Upload not found.");
    };
    let Some(upload) = run.uploads.iter_mut().find(|u| u.upload_id == upload_id) else {
        return error(StatusCode::NOT_FOUND, "Upload not found.");
    };
    upload.state = UploadState::Failed;
    upload.failure_message = Some(message);
    run.settle();
    Json(json!({ "test_run_id": test_run_id, "upload_id": upload_id, "status": "failed" }))
        .into_response()
}

async fn finalize(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(project) = lock(&state.inner().testnod).project_of(&headers) else {
        return project_not_found();
    };
    let params = params::parse(&headers, body).await.unwrap_or(Value::Null);
    let Some(build_id) = params
        .get("build_id")
        .and_then(scalar_text)
        .filter(|b| !b.trim().is_empty())
    else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, FINALIZE_BUILD_ID_REQUIRED);
    };
    let base = base_url(&headers);
    let mut world = lock(&state.inner().testnod);
    let Some(run) = world
        .runs
        .iter_mut()
        .rev()
        .find(|r| r.project == project && r.build_id == build_id)
    else {
        return error(StatusCode::NOT_FOUND, "Test run not found.");
    };
    if run.uploads.iter().all(|u| u.file_puts == 0) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, FINALIZE_NO_UPLOADS);
    }
    run.finalize_calls += 1;
    run.settle();
    let url = format!(
        "{base}/testnod/projects/{project}/test_runs/{}",
        run.test_run_id
    );
    Json(json!({ "test_run_id": run.test_run_id, "status": run.status, "test_run_url": url }))
        .into_response()
}

/// An S3-style XML error.
fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>\
         <RequestId>FAKE0000</RequestId></Error>"
    );
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        )],
        body,
    )
        .into_response()
}

fn query_value<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn storage_put(
    State(state): State<AppState>,
    Path(key): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let chunked = headers.get_all(header::TRANSFER_ENCODING).iter().any(|v| {
        v.to_str()
            .is_ok_and(|s| s.to_ascii_lowercase().contains("chunked"))
    });
    if chunked {
        return s3_error(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
        );
    }
    if !headers.contains_key(header::CONTENT_LENGTH) {
        return s3_error(
            StatusCode::LENGTH_REQUIRED,
            "MissingContentLength",
            "You must provide the Content-Length HTTP header.",
        );
    }
    if headers.contains_key("project-token") {
        return s3_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "fake-services: the Project-Token header must never be sent to the storage host",
        );
    }
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    let mut world = lock(&state.inner().testnod);
    let ttl = world.config.presigned_url_ttl_secs;
    let upload = world
        .runs
        .iter_mut()
        .flat_map(|r| r.uploads.iter_mut())
        .find(|u| u.storage_key == key);
    let Some(upload) = upload else {
        return s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "No such presigned object",
        );
    };
    let signed = query_value(&query, "X-Amz-Signature") == Some(upload.signature.as_str())
        && query_value(&query, "X-Amz-Date") == Some(amz_date(upload.issued_unix).as_str());
    let meta_header = headers
        .keys()
        .any(|k| k.as_str().starts_with("x-amz-meta-"));
    let xml = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("application/xml"));
    if !signed || meta_header || !xml {
        return s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        );
    }
    if now_unix() >= upload.issued_unix.saturating_add(ttl) {
        return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired");
    }
    upload.file_puts += 1;
    upload.file_base64 = Some(base64::engine::general_purpose::STANDARD.encode(&body));
    upload.file_utf8 = std::str::from_utf8(&body).ok().map(str::to_owned);
    if upload.state == UploadState::AwaitingFile {
        upload.state = UploadState::Uploaded;
    }
    let etag = format!("\"{}\"", random_hex());
    for run in &mut world.runs {
        run.settle();
    }
    (StatusCode::OK, [(header::ETAG, etag)]).into_response()
}
