//! AIO Tests (vendors.md §4) under `/aio`: Cloud at `/aio/aio-tcms/api/v1`, Server/DC at
//! `/aio/rest/aio-tcms-api/1.0`.
//!
//! Rules (§4.9 numbers in brackets):
//! - Cloud needs `Authorization: AioAuth <token>`, DC `Basic user:password` or `Bearer <PAT>`;
//!   anything else → 401 [1];
//! - unknown project or cycle → 404 text [2, INF]; a missing `file` part → 400 [3]; `type` is
//!   matched case-insensitively against testng, junit, nunit, cucumber, robot, newman, other
//!   values → 400 [9, INF];
//! - JUnit files are mapped per test case: a case key in the name (`PROJ-TC-12`), a key in the
//!   method name (`..._PROJ_TC_12`), else the automation key `classname.name` (method name only
//!   with `ignoreClassInAutoKey`). Unknown keys, unpublished cases, cases missing from the cycle
//!   without `addCaseToCycle`, unknown automation keys without `createCase` are per-case errors
//!   with the documented messages inside a 200 [5]; an unparsable file is one error "Invalid
//!   xml: ..." inside a 200 [4]. Other types are checked for syntax only and stored;
//! - `forceUpdateCase=true` updates a matched case from the file: its title becomes the test's
//!   name [DOC, INF: which fields];
//! - `createNewRun=true` (default) adds a run per import, `false` overwrites the latest [6];
//!   defaults: `addCaseToCycle` true, `createCase` false [INF: the docs leave it blank];
//! - more than `rate_limit_per_minute` (60) requests in 60 s → 429 [7];
//! - batch import answers `{batchId, size, errorMsg: null}` at once; `POST /_fake/advance` moves
//!   it Queued → Processing → Completed, importing on the last step [8];
//! - cycles: `POST .../testcycle/detail` (title required; the objective is kept) and
//!   `POST .../testcycle/search`.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use bytes::Bytes;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::state::{lock, AppState};

pub const DEFAULT_CLOUD_TOKEN: &str = "aio-token";
pub const DEFAULT_DC_USER: &str = "jira-user";
pub const DEFAULT_DC_PASSWORD: &str = "jira-password";
pub const DEFAULT_DC_PAT: &str = "jira-pat";
pub const DEFAULT_PROJECT: &str = "PROJ";
pub const DEFAULT_CYCLE: &str = "PROJ-CY-1";
/// AIO's published limit: 60 requests per minute per IP.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: usize = 60;
const RATE_WINDOW: Duration = Duration::from_secs(60);
const TYPES: [&str; 6] = ["testng", "junit", "nunit", "cucumber", "robot", "newman"];
const INVALID_XML: &str =
    "Invalid xml: Unable to parse file. Please check if it is a valid results.xml file.";
const NOT_IN_CYCLE: &str =
    "Case does not exist in the cycle. Set addCaseToCycle if you wish to add.";
const NO_AUTOMATION_KEY: &str =
    "No case found with this automation key. Either map automation key or set createCase to true.";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Case {
    pub key: String,
    #[serde(default)]
    pub automation_key: Option<String>,
    /// Published | Draft | Under Review
    #[serde(default = "published")]
    pub status: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub folder: Option<String>,
}

fn published() -> String {
    "Published".into()
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Cycle {
    pub key: String,
    #[serde(default)]
    pub title: String,
    /// As given on creation (the uploader puts the CI run there).
    #[serde(default)]
    pub objective: String,
    /// Case keys in the cycle.
    #[serde(default)]
    pub cases: Vec<String>,
    /// Case key → its runs, oldest first.
    #[serde(default)]
    pub runs: BTreeMap<String, Vec<Value>>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Project {
    #[serde(default)]
    pub cases: Vec<Case>,
    #[serde(default)]
    pub cycles: Vec<Cycle>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Config {
    pub cloud_tokens: Vec<String>,
    /// DC Basic users: user → password.
    pub dc_users: BTreeMap<String, String>,
    pub dc_pats: Vec<String>,
    /// 0 turns the limit off.
    pub rate_limit_per_minute: usize,
    /// Setting `projects` replaces the stored projects (cases, cycles, runs).
    pub projects: BTreeMap<String, Project>,
}

impl Default for Config {
    fn default() -> Config {
        let cycle = Cycle {
            key: DEFAULT_CYCLE.into(),
            title: "Default cycle".into(),
            ..Cycle::default()
        };
        Config {
            cloud_tokens: vec![DEFAULT_CLOUD_TOKEN.into()],
            dc_users: BTreeMap::from([(DEFAULT_DC_USER.into(), DEFAULT_DC_PASSWORD.into())]),
            dc_pats: vec![DEFAULT_DC_PAT.into()],
            rate_limit_per_minute: DEFAULT_RATE_LIMIT_PER_MINUTE,
            projects: BTreeMap::from([(
                DEFAULT_PROJECT.into(),
                Project {
                    cases: Vec::new(),
                    cycles: vec![cycle],
                },
            )]),
        }
    }
}

#[derive(Debug, Serialize)]
struct Import {
    project: String,
    cycle: String,
    kind: String,
    flags: BTreeMap<String, String>,
    file_len: usize,
    /// batch id when asynchronous
    batch_id: Option<String>,
    /// Queued | Processing | Completed (batches); Completed (sync)
    status: &'static str,
    result: Option<Value>,
    #[serde(skip)]
    file: Bytes,
}

#[derive(Default)]
pub struct World {
    /// Projects live in the config so a test can seed and read them in one shape.
    config: Config,
    imports: Vec<Import>,
    recent: VecDeque<Instant>,
    counter: u64,
}

impl World {
    pub fn state(&self) -> Value {
        json!({ "projects": self.config.projects, "imports": self.imports })
    }

    pub fn config(&self) -> Value {
        let mut config = json!(self.config);
        if let Some(m) = config.as_object_mut() {
            m.remove("projects");
        }
        config
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

    /// Batches move one step: Queued → Processing → Completed (imported then).
    pub fn advance(&mut self) -> usize {
        let mut moved = 0;
        for i in 0..self.imports.len() {
            match self.imports[i].status {
                "Queued" => self.imports[i].status = "Processing",
                "Processing" => {
                    let import = &self.imports[i];
                    let (project, cycle, kind, flags, file) = (
                        import.project.clone(),
                        import.cycle.clone(),
                        import.kind.clone(),
                        import.flags.clone(),
                        import.file.clone(),
                    );
                    let result = self.import(&project, &cycle, &kind, &flags, &file);
                    self.imports[i].result = Some(result);
                    self.imports[i].status = "Completed";
                }
                _ => continue,
            }
            moved += 1;
        }
        moved
    }

    /// Records this request; true when it is over the per-minute limit.
    fn throttled(&mut self) -> bool {
        let limit = self.config.rate_limit_per_minute;
        let now = Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= RATE_WINDOW)
        {
            self.recent.pop_front();
        }
        if limit > 0 && self.recent.len() >= limit {
            return true;
        }
        self.recent.push_back(now);
        false
    }

    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// Imports a file into a cycle → the documented 200 body.
    fn import(
        &mut self,
        project_key: &str,
        cycle_key: &str,
        kind: &str,
        flags: &BTreeMap<String, String>,
        file: &[u8],
    ) -> Value {
        let flag = |name: &str, default: bool| flags.get(name).map_or(default, |v| v == "true");
        let cases = if kind == "junit" {
            parse_junit(file)
        } else if matches!(kind, "cucumber" | "newman") {
            serde_json::from_slice::<Value>(file)
                .map(|_| Vec::new())
                .map_err(|_| ())
        } else {
            well_formed(file).map(|()| Vec::new())
        };
        let Ok(cases) = cases else {
            return json!({"status": "FAILED", "requestCount": 1, "successCount": 0, "errorCount": 1,
                "errors": {"file": {"message": INVALID_XML}}, "processedData": {}});
        };
        let Some(project) = self.config.projects.get_mut(project_key) else {
            return json!({});
        };
        let mut errors = Map::new();
        let mut processed = Map::new();
        let key_in_name = Regex::new(r"\b([A-Z][A-Z0-9]+-TC-\d+)\b").ok();
        let key_in_method = Regex::new(r"_([A-Z][A-Z0-9]*)_TC_(\d+)$").ok();
        for case in &cases {
            let automation_key = if flag("ignoreClassInAutoKey", false) || case.classname.is_empty()
            {
                case.name.clone()
            } else {
                format!("{}.{}", case.classname, case.name)
            };
            let explicit = key_in_name
                .as_ref()
                .and_then(|re| re.captures(&case.name))
                .map(|c| c[1].to_owned())
                .or_else(|| {
                    key_in_method
                        .as_ref()
                        .and_then(|re| re.captures(&case.name))
                        .map(|c| format!("{}-TC-{}", &c[1], &c[2]))
                });
            let (label, key) = match explicit {
                Some(key) => match project.cases.iter().find(|c| c.key == key) {
                    None => {
                        let message = format!(
                            "{key} not found or you don't have privileges to add this case."
                        );
                        errors.insert(key.clone(), json!({ "message": message }));
                        continue;
                    }
                    Some(c) if c.status != "Published" => {
                        let message = format!("{key} is in Under Review/Draft status. Only published cases can be added to cycle.");
                        errors.insert(key.clone(), json!({ "message": message }));
                        continue;
                    }
                    Some(_) => (key.clone(), key),
                },
                None => match project
                    .cases
                    .iter()
                    .find(|c| c.automation_key.as_deref() == Some(&automation_key))
                {
                    Some(c) => (automation_key.clone(), c.key.clone()),
                    None if flag("createCase", false) => {
                        let key = format!("{project_key}-TC-{}", project.cases.len() + 1);
                        project.cases.push(Case {
                            key: key.clone(),
                            automation_key: Some(automation_key.clone()),
                            status: published(),
                            title: Some(case.name.clone()),
                            folder: flags
                                .get("defaultFolder")
                                .filter(|f| !f.is_empty())
                                .cloned(),
                        });
                        (automation_key.clone(), key)
                    }
                    None => {
                        errors.insert(
                            automation_key.clone(),
                            json!({ "message": NO_AUTOMATION_KEY }),
                        );
                        continue;
                    }
                },
            };
            // [DOC] forceUpdateCase: the case is updated from the file (here: its title).
            if flag("forceUpdateCase", false) {
                if let Some(c) = project.cases.iter_mut().find(|c| c.key == key) {
                    c.title = Some(case.name.clone());
                }
            }
            let Some(cycle) = project.cycles.iter_mut().find(|c| c.key == cycle_key) else {
                continue;
            };
            if !cycle.cases.contains(&key) {
                if !flag("addCaseToCycle", true) {
                    errors.insert(label, json!({ "message": NOT_IN_CYCLE }));
                    continue;
                }
                cycle.cases.push(key.clone());
            }
            let run = json!({ "status": case.status, "duration_s": case.time, "automation_key": automation_key });
            let runs = cycle.runs.entry(key.clone()).or_default();
            match runs.last_mut() {
                Some(last) if !flag("createNewRun", true) => *last = run,
                _ => runs.push(run),
            }
            processed.insert(key, json!({ "status": case.status }));
        }
        let status = match (processed.is_empty(), errors.is_empty()) {
            (_, true) => "SUCCESS",
            (false, false) => "PARTIAL",
            (true, false) => "FAILED",
        };
        json!({
            "status": status,
            "requestCount": cases.len(),
            "successCount": processed.len(),
            "errorCount": errors.len(),
            "errors": errors,
            "processedData": processed,
        })
    }
}

struct JunitCase {
    classname: String,
    name: String,
    time: Option<f64>,
    status: &'static str,
}

fn well_formed(file: &[u8]) -> Result<(), ()> {
    let mut reader = quick_xml::Reader::from_reader(file);
    let mut buf = Vec::new();
    let mut root = false;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Eof) => return if root { Ok(()) } else { Err(()) },
            Ok(quick_xml::events::Event::Start(_) | quick_xml::events::Event::Empty(_)) => {
                root = true
            }
            Ok(_) => {}
            Err(_) => return Err(()),
        }
        buf.clear();
    }
}

/// JUnit test cases with AIO's statuses: failure/error → Failed, skipped → Not Run [INF].
fn parse_junit(file: &[u8]) -> Result<Vec<JunitCase>, ()> {
    use quick_xml::events::Event;
    use quick_xml::XmlVersion;
    well_formed(file)?;
    let mut reader = quick_xml::Reader::from_reader(file);
    let mut buf = Vec::new();
    let mut cases = Vec::new();
    let mut open = false;
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|_| ())?;
        match event {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) if e.local_name().as_ref() == "testcase" => {
                let attr = |name: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == name)
                        .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok())
                        .map(|v| v.into_owned())
                };
                cases.push(JunitCase {
                    classname: attr("classname").unwrap_or_default(),
                    name: attr("name").unwrap_or_default(),
                    time: attr("time").and_then(|t| t.parse().ok()),
                    status: "Passed",
                });
                open = matches!(event, Event::Start(_));
            }
            Event::Start(ref e) | Event::Empty(ref e) if open => {
                if let Some(case) = cases.last_mut() {
                    match e.local_name().as_ref() {
                        "failure" | "error" => case.status = "Failed",
                        "skipped" if case.status == "Passed" => case.status = "Not Run",
                        _ => {}
                    }
                }
            }
            Event::End(ref e) if e.local_name().as_ref() == "testcase" => open = false,
            _ => {}
        }
        buf.clear();
    }
    Ok(cases)
}

pub fn routes() -> Router<AppState> {
    let api = Router::new()
        .route("/project/{project}/testcycle/detail", post(create_cycle))
        .route("/project/{project}/testcycle/search", post(search_cycles))
        .route(
            "/project/{project}/testcycle/{cycle}/import/results",
            post(import_sync),
        )
        .route(
            "/project/{project}/testcycle/{cycle}/import/results/batch",
            post(import_batch),
        );
    Router::new()
        .nest("/aio-tcms/api/v1", api.clone())
        .nest("/rest/aio-tcms-api/1.0", api)
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Auth by flavour (the path says which), then the rate limit.
fn admit(world: &mut World, uri: &axum::http::Uri, headers: &HeaderMap) -> Result<(), Response> {
    if world.throttled() {
        return Err(text(
            StatusCode::TOO_MANY_REQUESTS,
            "Rate limit exceeded: 60 requests per minute".into(),
        ));
    }
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let cloud = uri.path().starts_with("/aio/aio-tcms/");
    let ok = if cloud {
        auth.strip_prefix("AioAuth ")
            .is_some_and(|t| world.config.cloud_tokens.iter().any(|k| k == t))
    } else if let Some(token) = auth.strip_prefix("Bearer ") {
        world.config.dc_pats.iter().any(|k| k == token)
    } else if let Some(encoded) = auth.strip_prefix("Basic ") {
        base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|pair| {
                pair.split_once(':')
                    .map(|(u, p)| (u.to_owned(), p.to_owned()))
            })
            .is_some_and(|(u, p)| world.config.dc_users.get(&u) == Some(&p))
    } else {
        false
    };
    if ok {
        Ok(())
    } else {
        Err(text(StatusCode::UNAUTHORIZED, "Unauthorized".into()))
    }
}

fn known_cycle(world: &World, project: &str, cycle: &str) -> Result<(), Response> {
    let Some(p) = world.config.projects.get(project) else {
        return Err(text(
            StatusCode::NOT_FOUND,
            format!("Project {project} not found"),
        ));
    };
    if !p.cycles.iter().any(|c| c.key == cycle) {
        return Err(text(
            StatusCode::NOT_FOUND,
            format!("Cycle {cycle} not found in project {project}"),
        ));
    }
    Ok(())
}

async fn create_cycle(
    State(state): State<AppState>,
    Path(project): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut world = lock(&state.inner().aio);
    if let Err(r) = admit(&mut world, &uri, &headers) {
        return r;
    }
    let body = serde_json::from_slice::<Value>(&body).unwrap_or_default();
    let title = body
        .get("title")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .filter(|t| !t.trim().is_empty());
    let objective = body
        .get("objective")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Some(title) = title else {
        return text(StatusCode::BAD_REQUEST, "title is required".into());
    };
    let id = world.next();
    let Some(p) = world.config.projects.get_mut(&project) else {
        return text(
            StatusCode::NOT_FOUND,
            format!("Project {project} not found"),
        );
    };
    let key = format!("{project}-CY-{}", p.cycles.len() + 1);
    p.cycles.push(Cycle {
        key: key.clone(),
        title: title.clone(),
        objective,
        ..Cycle::default()
    });
    Json(json!({ "ID": id, "key": key, "title": title })).into_response()
}

async fn search_cycles(
    State(state): State<AppState>,
    Path(project): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut world = lock(&state.inner().aio);
    if let Err(r) = admit(&mut world, &uri, &headers) {
        return r;
    }
    let wanted = serde_json::from_slice::<Value>(&body).ok().and_then(|b| {
        b.pointer("/title/value")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let Some(p) = world.config.projects.get(&project) else {
        return text(
            StatusCode::NOT_FOUND,
            format!("Project {project} not found"),
        );
    };
    let items: Vec<Value> = p
        .cycles
        .iter()
        .filter(|c| wanted.as_ref().is_none_or(|w| &c.title == w))
        .map(|c| json!({ "key": c.key, "title": c.title }))
        .collect();
    Json(json!({ "items": items })).into_response()
}

/// The multipart form: the `file` part and every other field as text.
async fn form(
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(Option<Bytes>, BTreeMap<String, String>), Response> {
    let bad = |m: &str| text(StatusCode::BAD_REQUEST, m.to_owned());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| bad("Content-Type must be multipart/form-data"))?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut file = None;
    let mut fields = BTreeMap::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| bad("malformed multipart body"))?
    {
        let name = field.name().unwrap_or("").to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|_| bad("malformed multipart body"))?;
        if name == "file" {
            file = Some(bytes);
        } else {
            fields.insert(
                name,
                String::from_utf8_lossy(&bytes).trim().to_ascii_lowercase(),
            );
        }
    }
    Ok((file, fields))
}

/// Checks the type, the form and its flags → (type, flags, file). Auth, the rate limit and
/// the cycle were checked under the lock before; the multipart parse is async, the lock is not.
async fn import_request(
    query: &BTreeMap<String, String>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(String, BTreeMap<String, String>, Bytes), Response> {
    let kind = query
        .get("type")
        .map(|t| t.to_ascii_lowercase())
        .unwrap_or_default();
    if !TYPES.contains(&kind.as_str()) {
        return Err(text(
            StatusCode::BAD_REQUEST,
            format!("Unsupported type {kind:?}; use one of {}", TYPES.join(", ")),
        ));
    }
    let (file, flags) = form(headers, body).await?;
    let Some(file) = file else {
        return Err(text(StatusCode::BAD_REQUEST, "file is mandatory".into()));
    };
    let not_boolean = flags.iter().find(|(n, v)| {
        n.as_str() != "defaultFolder" && !v.is_empty() && *v != "true" && *v != "false"
    });
    if let Some((name, value)) = not_boolean {
        return Err(text(
            StatusCode::BAD_REQUEST,
            format!("{name} must be true or false, got {value:?}"),
        ));
    }
    Ok((kind, flags, file))
}

/// Auth, rate limit and the cycle's existence, under the lock.
fn admit_import(
    state: &AppState,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    project: &str,
    cycle: &str,
) -> Result<(), Response> {
    let mut world = lock(&state.inner().aio);
    admit(&mut world, uri, headers)?;
    known_cycle(&world, project, cycle)
}

async fn import_sync(
    State(state): State<AppState>,
    Path((project, cycle)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = admit_import(&state, &uri, &headers, &project, &cycle) {
        return r;
    }
    let (kind, flags, file) = match import_request(&query, &headers, body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut world = lock(&state.inner().aio);
    let result = world.import(&project, &cycle, &kind, &flags, &file);
    world.imports.push(Import {
        project,
        cycle,
        kind,
        flags,
        file_len: file.len(),
        batch_id: None,
        status: "Completed",
        result: Some(result.clone()),
        file,
    });
    Json(result).into_response()
}

async fn import_batch(
    State(state): State<AppState>,
    Path((project, cycle)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = admit_import(&state, &uri, &headers, &project, &cycle) {
        return r;
    }
    let (kind, flags, file) = match import_request(&query, &headers, body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut world = lock(&state.inner().aio);
    let batch_id = format!("batch-{}", world.next());
    let size = file.len().to_string();
    world.imports.push(Import {
        project,
        cycle,
        kind,
        flags,
        file_len: file.len(),
        batch_id: Some(batch_id.clone()),
        status: "Queued",
        result: None,
        file,
    });
    Json(json!({ "batchId": batch_id, "size": size, "errorMsg": null })).into_response()
}
