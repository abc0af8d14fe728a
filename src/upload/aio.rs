//! AIO Tests (a Jira app): find or create the test cycle, then import every report file into it
//! with `POST /project/{project}/testcycle/{cycle}/import/results[/batch]?type=<Type>`
//! (../shared/reference/vendors.md §4, seeds/aio-tests-import-results.txt).
//!
//! - Base URL: Cloud `https://tcms.aiojiraapps.com/aio-tcms/api/v1`, Server/DC
//!   `<jira>/rest/aio-tcms-api/1.0`; a bare Jira host gets the DC path appended, as the Jenkins
//!   plugin does. Auth ([DOC]): Cloud `Authorization: AioAuth <token>`, DC `Basic` (a
//!   `user:password` token, encoded here) or `Bearer <PAT>`; unset, it follows the URL (a DC
//!   token with a `:` is a user and password).
//! - Files go in their native format where AIO reads it (JUnit, TestNG, NUnit, Cucumber JSON,
//!   Robot output.xml, Newman JSON) with that `type`; every other format is converted to JUnit.
//!   The form carries `file` and the documented flags: those with a documented default are always
//!   sent (so the request says what it asks for), `createCase`, `updateDatasets` and
//!   `defaultFolder` (blank in the docs) only when set.
//! - A 200 whose `errors` names cases is a partial success: each error is kept with its case key,
//!   message and, for the documented messages, a hint. Batch imports answer a `batchId` at once and
//!   are processed later (their outcome is visible only in AIO's UI).
//! - Rate: 60 requests per minute per IP ([DOC]). Every attempt, retries included, goes through a
//!   pacer that keeps at most [`RATE_LIMIT_REQUESTS`] completions in any [`RATE_WINDOW`] (a
//!   window measured from completions is one the server, which counts arrivals, also sees), and
//!   a 429 pauses all requests for its `Retry-After` (a full window without one).
//! - Retries follow [`crate::http::retry`]: searching a cycle is a read; creating one and importing
//!   with `createNewRun=true` (or as a batch) add something each time, so they are retried only
//!   when AIO cannot have acted; a sync import with `createNewRun=false` overwrites, so it is
//!   idempotent.
//! - 401 (and 403, which the official reporters treat alike) means the token or scheme is wrong;
//!   404 an unknown project or cycle. Both stop the remaining files, which would fail the same way.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ServiceError;
use crate::convert;
use crate::http::retry::{parse_retry_after, send_with_retry, HttpError, Idempotency, RetryPolicy};
use crate::http::{
    header, request, Body, HttpClient, Method, Request, Response, Secret, StatusCode,
    TransportError,
};
use crate::model::truncate_utf8;
use crate::parse::Format;
use crate::pipeline::FileReport;

/// [DOC] The Cloud base URL (the older `tcms.aioreports.com` host is deprecated).
pub const CLOUD_BASE_URL: &str = "https://tcms.aiojiraapps.com/aio-tcms/api/v1";
/// [DOC] The API path on Cloud.
pub const CLOUD_API_PATH: &str = "/aio-tcms/api/v1";
/// [DOC] The API path under a Jira Server/Data Center host (and its context path).
pub const DC_API_PATH: &str = "/rest/aio-tcms-api/1.0";
/// CLI fallbacks for the `--aio-*` options, named like the inputs.
pub const ENV_TOKEN: &str = "AIO_TOKEN";
pub const ENV_URL: &str = "AIO_URL";
pub const ENV_AUTH: &str = "AIO_AUTH";
pub const ENV_PROJECT: &str = "AIO_PROJECT";
pub const ENV_CYCLE: &str = "AIO_CYCLE";
pub const ENV_CYCLE_TITLE: &str = "AIO_CYCLE_TITLE";
pub const ENV_BATCH: &str = "AIO_BATCH";
/// [DOC] 60 requests per minute per IP; more answer 429.
pub const RATE_LIMIT_REQUESTS: usize = 60;
pub const RATE_WINDOW: Duration = Duration::from_secs(60);
/// [DOC] "Back off up to 60 s" after a 429; sync imports of big files are slow ([SRC] the Jenkins
/// plugin waits 150 s for one), so a request may take minutes across its attempts.
pub const RETRY_POLICY: RetryPolicy = RetryPolicy {
    max_attempts: 4,
    base_delay: Duration::from_secs(1),
    max_delay: Duration::from_secs(60),
    deadline: Duration::from_secs(300),
};
/// [DOC] The `accept` header of every documented call.
const ACCEPT: &str = "application/json;charset=utf-8";
/// Case errors kept per receipt: enough to act on, bounded for a summary.
pub const MAX_CASE_ERRORS: usize = 200;
const SERVICE: &str = "aio";

/// `aio-auth`: the `Authorization` scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Cloud: `AioAuth <token>`.
    Aio,
    /// Server/DC: `Basic base64(user:password)`.
    Basic,
    /// Server/DC: `Bearer <personal access token>`.
    Bearer,
}

impl AuthMode {
    /// The scheme a URL and token imply: Cloud unless the URL is a Server/DC one; there, `Basic`
    /// for a `user:password` token, else `Bearer`.
    pub fn for_url(base_url: &str, token: &str) -> AuthMode {
        if !is_server(base_url) {
            AuthMode::Aio
        } else if token.contains(':') {
            AuthMode::Basic
        } else {
            AuthMode::Bearer
        }
    }
}

impl std::str::FromStr for AuthMode {
    type Err = String;
    fn from_str(s: &str) -> Result<AuthMode, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "aio" | "aioauth" => Ok(AuthMode::Aio),
            "basic" => Ok(AuthMode::Basic),
            "bearer" => Ok(AuthMode::Bearer),
            other => Err(format!(
                "'{other}' is not one of aio (Cloud), basic, bearer (Server/DC)"
            )),
        }
    }
}

fn is_server(base_url: &str) -> bool {
    base_url.contains(DC_API_PATH)
}

/// The API base: as given when it ends in a known API path, else a Jira Server/DC host.
pub fn base_url(raw: &str) -> String {
    let trimmed = raw.trim().trim_end_matches('/');
    if trimmed.ends_with(CLOUD_API_PATH) || trimmed.ends_with(DC_API_PATH) {
        trimmed.to_owned()
    } else {
        format!("{trimmed}{DC_API_PATH}")
    }
}

/// The form flags ([DOC] "Explanation of Parameters"); `None` leaves AIO's own default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFlags {
    pub create_new_run: bool,
    pub add_case_to_cycle: bool,
    pub create_case: Option<bool>,
    pub update_datasets: Option<bool>,
    pub bdd_force_update_case: bool,
    pub force_update_case: bool,
    pub update_only_run_status: bool,
    pub ignore_class_in_auto_key: bool,
    pub default_folder: Option<String>,
}

impl Default for ImportFlags {
    /// The documented defaults.
    fn default() -> ImportFlags {
        ImportFlags {
            create_new_run: true,
            add_case_to_cycle: true,
            create_case: None,
            update_datasets: None,
            bdd_force_update_case: false,
            force_update_case: false,
            update_only_run_status: false,
            ignore_class_in_auto_key: false,
            default_folder: None,
        }
    }
}

impl ImportFlags {
    /// The text fields of the form, in the documented order.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let text = |b: bool| b.to_string();
        let mut out = vec![
            ("createNewRun", text(self.create_new_run)),
            ("addCaseToCycle", text(self.add_case_to_cycle)),
        ];
        if let Some(v) = self.create_case {
            out.push(("createCase", text(v)));
        }
        if let Some(v) = self.update_datasets {
            out.push(("updateDatasets", text(v)));
        }
        out.extend([
            ("bddForceUpdateCase", text(self.bdd_force_update_case)),
            ("forceUpdateCase", text(self.force_update_case)),
            ("updateOnlyRunStatus", text(self.update_only_run_status)),
            ("ignoreClassInAutoKey", text(self.ignore_class_in_auto_key)),
        ]);
        if let Some(folder) = &self.default_folder {
            out.push(("defaultFolder", folder.clone()));
        }
        out
    }
}

/// Which cycle receives the results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CycleChoice {
    /// `aio-cycle`: a cycle key such as `PROJ-CY-12`.
    Key(String),
    /// `aio-cycle-title`: the cycle with exactly this title, created when there is none.
    Title(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AioConfig {
    pub token: Secret,
    /// The API base ([`base_url`]).
    pub base_url: String,
    pub auth: AuthMode,
    pub project: String,
    pub cycle: CycleChoice,
    /// `/import/results/batch`: queued, processed later.
    pub batch: bool,
    pub flags: ImportFlags,
    /// CI metadata for the objective of a created cycle.
    pub run_url: Option<String>,
    pub branch: Option<String>,
    pub commit: Option<String>,
}

/// [DOC] The `type` query value of each format AIO imports natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportType {
    Junit,
    Testng,
    NUnit,
    Cucumber,
    Robot,
    Newman,
}

impl ImportType {
    /// The native type of a format; `None`: convert to JUnit first.
    pub fn of(format: Format) -> Option<ImportType> {
        match format {
            Format::Junit => Some(ImportType::Junit),
            Format::Testng => Some(ImportType::Testng),
            Format::Nunit => Some(ImportType::NUnit),
            Format::Cucumber => Some(ImportType::Cucumber),
            Format::Robot => Some(ImportType::Robot),
            Format::Newman => Some(ImportType::Newman),
            _ => None,
        }
    }

    /// [DOC] spelling (the server matches any case).
    pub fn as_str(self) -> &'static str {
        match self {
            ImportType::Junit => "Junit",
            ImportType::Testng => "Testng",
            ImportType::NUnit => "NUnit",
            ImportType::Cucumber => "Cucumber",
            ImportType::Robot => "Robot",
            ImportType::Newman => "Newman",
        }
    }

    /// [DOC] The file part's content type: JSON for Cucumber (and Newman's summary JSON).
    fn content_type(self) -> &'static str {
        match self {
            ImportType::Cucumber | ImportType::Newman => "application/json",
            _ => "text/xml",
        }
    }
}

/// One report file as AIO receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFile {
    pub path: String,
    pub kind: ImportType,
    /// Whether the bytes are our JUnit conversion of another format.
    pub converted: bool,
    pub bytes: Vec<u8>,
}

/// Every readable report: native formats as the edge read them, the rest converted to JUnit.
pub fn import_files(files: &[FileReport]) -> Vec<ImportFile> {
    files
        .iter()
        .filter_map(|file| {
            let (format, _) = file.result.as_ref().ok()?;
            Some(match (ImportType::of(*format), &file.original) {
                (Some(kind), Some(original)) => ImportFile {
                    path: file.path.clone(),
                    kind,
                    converted: false,
                    bytes: original.clone(),
                },
                _ => ImportFile {
                    path: file.path.clone(),
                    kind: ImportType::Junit,
                    converted: *format != Format::Junit,
                    bytes: convert::junit::write(std::slice::from_ref(file)).into_bytes(),
                },
            })
        })
        .collect()
}

/// A case AIO did not import, from a 200's `errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseError {
    pub file: String,
    /// The case key or automation key AIO names (`file` for a file it could not read).
    pub case: String,
    pub message: String,
    /// What to do, for the documented messages.
    pub hint: Option<&'static str>,
}

/// What AIO ended up with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub project: String,
    pub cycle_key: Option<String>,
    /// The cycle was created by this upload (`aio-cycle-title` found none).
    pub cycle_created: bool,
    /// Files AIO accepted (imported, or queued as a batch).
    pub imported_files: Vec<String>,
    /// Cases imported and not imported, as AIO counted them (sync imports only).
    pub imported: u64,
    pub errored: u64,
    pub batch_ids: Vec<String>,
    /// Per-case errors of partial successes, at most [`MAX_CASE_ERRORS`].
    pub case_errors: Vec<CaseError>,
    pub errors: Vec<ServiceError>,
}

fn error(step: &'static str, file: Option<&str>, message: String) -> ServiceError {
    ServiceError {
        service: SERVICE,
        step,
        file: file.map(str::to_owned),
        message,
    }
}

/// A path segment with everything but unreserved characters percent-encoded (RFC 3986 §2.3).
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn cycle_url(config: &AioConfig, rest: &str) -> String {
    format!(
        "{}/project/{}/testcycle{rest}",
        config.base_url.trim_end_matches('/'),
        segment(&config.project)
    )
}

/// RFC 4648 base64 with padding, for Basic credentials.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The `Authorization` value. A Basic token without `:` is taken as already encoded.
pub fn authorization(config: &AioConfig) -> String {
    let token = config.token.expose().trim();
    match config.auth {
        AuthMode::Aio => format!("AioAuth {token}"),
        AuthMode::Bearer => format!("Bearer {token}"),
        AuthMode::Basic if token.contains(':') => format!("Basic {}", base64(token.as_bytes())),
        AuthMode::Basic => format!("Basic {token}"),
    }
}

fn json_request(
    config: &AioConfig,
    step: &'static str,
    url: &str,
    body: &serde_json::Value,
) -> Result<Request<Body>, ServiceError> {
    let auth = authorization(config);
    request(
        Method::POST,
        url,
        &[
            ("authorization", &auth),
            ("accept", ACCEPT),
            ("content-type", "application/json;charset=UTF-8"),
        ],
        body.to_string().into_bytes(),
    )
    .map_err(|e| error(step, None, e.to_string()))
}

/// [SRC] The cycle search: `{"title":{"value":…,"comparisonType":"EXACT_MATCH"}}`.
pub fn build_search(config: &AioConfig, title: &str) -> Result<Request<Body>, ServiceError> {
    let body = serde_json::json!({"title": {"value": title, "comparisonType": "EXACT_MATCH"}});
    json_request(config, "find cycle", &cycle_url(config, "/search"), &body)
}

/// The objective of a cycle this upload creates: where its results came from.
pub fn objective(config: &AioConfig) -> String {
    let mut lines = vec!["Created by test-report-action.".to_owned()];
    let fields = [
        ("Run", &config.run_url),
        ("Branch", &config.branch),
        ("Commit", &config.commit),
    ];
    for (label, value) in fields {
        if let Some(value) = value {
            lines.push(format!("{label}: {value}"));
        }
    }
    lines.join("\n")
}

/// [SRC] `POST …/testcycle/detail` with the title and an objective naming the run.
pub fn build_create_cycle(config: &AioConfig, title: &str) -> Result<Request<Body>, ServiceError> {
    let body = serde_json::json!({"title": title, "objective": objective(config)});
    json_request(config, "create cycle", &cycle_url(config, "/detail"), &body)
}

/// A multipart boundary absent from the file: derived from its bytes with FNV-1a (the core has
/// no RNG, and a hash stable across Rust releases keeps snapshots stable).
fn boundary(file: &[u8]) -> String {
    let mut seed = file.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    loop {
        let candidate = format!("test-report-{seed:016x}");
        if !file
            .windows(candidate.len())
            .any(|w| w == candidate.as_bytes())
        {
            return candidate;
        }
        seed = seed.wrapping_add(1);
    }
}

/// The file name shown to AIO: the report's own, `.xml` for a conversion; quotes and line
/// breaks would end the header, so they become `_`.
fn file_name(file: &ImportFile) -> String {
    let base = file.path.rsplit(['/', '\\']).next().unwrap_or("report");
    let base = if base.is_empty() { "report" } else { base };
    let name = if file.converted {
        format!("{base}.junit.xml")
    } else {
        base.to_owned()
    };
    name.chars()
        .map(|c| {
            if matches!(c, '"' | '\\' | '\r' | '\n') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// The multipart form: the flags, then `file` ([DOC] curl examples).
pub fn build_form(flags: &ImportFlags, file: &ImportFile) -> (String, Vec<u8>) {
    let boundary = boundary(&file.bytes);
    let mut body = Vec::with_capacity(file.bytes.len() + 1024);
    for (name, value) in flags.fields() {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            file_name(file),
            file.kind.content_type()
        )
        .as_bytes(),
    );
    body.extend_from_slice(&file.bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (boundary, body)
}

/// The import of one file into `cycle_key`, sync or batch as configured.
pub fn build_import(
    config: &AioConfig,
    cycle_key: &str,
    file: &ImportFile,
) -> Result<Request<Body>, ServiceError> {
    let path = if config.batch {
        "/import/results/batch"
    } else {
        "/import/results"
    };
    let url = format!(
        "{}?type={}",
        cycle_url(config, &format!("/{}{path}", segment(cycle_key))),
        file.kind.as_str()
    );
    let (boundary, body) = build_form(&config.flags, file);
    let auth = authorization(config);
    let content_type = format!("multipart/form-data; boundary={boundary}");
    request(
        Method::POST,
        &url,
        &[
            ("authorization", &auth),
            ("accept", ACCEPT),
            ("content-type", &content_type),
        ],
        body,
    )
    .map_err(|e| error("import", Some(&file.path), e.to_string()))
}

#[derive(Debug, Default, Deserialize)]
struct CycleItem {
    key: Option<String>,
    title: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct SearchAnswer {
    #[serde(default)]
    items: Vec<CycleItem>,
}

fn unexpected(what: &str, response: &Response<Body>, e: impl std::fmt::Display) -> String {
    format!(
        "unexpected {what} response ({e}): {}",
        truncate_utf8(&String::from_utf8_lossy(response.body()), 200)
    )
}

/// The key of the cycle titled exactly `title`, if the search found one.
pub fn parse_search(response: &Response<Body>, title: &str) -> Result<Option<String>, String> {
    let answer: SearchAnswer =
        serde_json::from_slice(response.body()).map_err(|e| unexpected("search", response, e))?;
    // EXACT_MATCH already filters; a title check keeps a lenient server from picking a neighbour.
    Ok(answer
        .items
        .into_iter()
        .filter(|i| i.title.as_deref().is_none_or(|t| t == title))
        .find_map(|i| i.key))
}

/// The key of a created cycle.
pub fn parse_created(response: &Response<Body>) -> Result<String, String> {
    let item: CycleItem =
        serde_json::from_slice(response.body()).map_err(|e| unexpected("create", response, e))?;
    item.key
        .filter(|k| !k.is_empty())
        .ok_or_else(|| unexpected("create", response, "no cycle key"))
}

#[derive(Debug, Default, Deserialize)]
struct ErrorEntry {
    message: Option<String>,
    /// The seed's wording (`errors.msg`); the clients read `message`.
    msg: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportAnswer {
    success_count: Option<u64>,
    error_count: Option<u64>,
    #[serde(default)]
    errors: Option<BTreeMap<String, ErrorEntry>>,
    #[serde(default)]
    processed_data: Option<BTreeMap<String, serde_json::Value>>,
}

/// A sync import's counts and per-case errors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    pub imported: u64,
    pub errored: u64,
    pub case_errors: Vec<CaseError>,
}

/// What to do about a documented per-case message ([DOC] "Known Errors List").
pub fn hint(message: &str) -> Option<&'static str> {
    const HINTS: &[(&str, &str)] = &[
        ("Invalid xml", "AIO could not read the file as the type sent: check that it is a complete report of that format (or set format)"),
        ("Only published cases can be added", "publish the case in AIO Tests, or take its key out of the test's name"),
        ("not found or you don't have privileges", "check that the case key in the test's name exists in aio-project and that the token's user may add it"),
        ("Case does not exist in the cycle", "set aio-add-case-to-cycle: true, or add the case to the cycle in AIO Tests"),
        ("No case found with this automation key", "set aio-create-case: true, or map the automation key to a case in AIO Tests"),
        ("Insufficient permissions to edit cases", "give the token's Jira user permission to edit test cases, or leave aio-force-update-case false"),
    ];
    HINTS
        .iter()
        .find(|(needle, _)| message.contains(needle))
        .map(|(_, hint)| *hint)
}

pub fn parse_import(response: &Response<Body>, file: &str) -> Result<Imported, String> {
    let answer: ImportAnswer =
        serde_json::from_slice(response.body()).map_err(|e| unexpected("import", response, e))?;
    let errors = answer.errors.unwrap_or_default();
    let case_errors: Vec<CaseError> = errors
        .into_iter()
        .map(|(case, entry)| {
            let message = entry
                .message
                .or(entry.msg)
                .unwrap_or_else(|| "no message".to_owned());
            CaseError {
                file: file.to_owned(),
                hint: hint(&message),
                case,
                message,
            }
        })
        .collect();
    Ok(Imported {
        imported: answer
            .success_count
            .or_else(|| answer.processed_data.as_ref().map(|p| p.len() as u64))
            .unwrap_or(0),
        errored: answer.error_count.unwrap_or(case_errors.len() as u64),
        case_errors,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchAnswer {
    batch_id: Option<serde_json::Value>,
    error_msg: Option<String>,
}

/// [SRC] `{batchId, size, errorMsg}`: the batch id, or the error AIO gave instead.
pub fn parse_batch(response: &Response<Body>) -> Result<String, String> {
    let answer: BatchAnswer =
        serde_json::from_slice(response.body()).map_err(|e| unexpected("batch", response, e))?;
    if let Some(message) = answer.error_msg.filter(|m| !m.trim().is_empty()) {
        return Err(format!("AIO refused the batch: {message}"));
    }
    match answer.batch_id {
        Some(serde_json::Value::String(id)) if !id.is_empty() => Ok(id),
        Some(serde_json::Value::Number(id)) => Ok(id.to_string()),
        _ => Err(unexpected("batch", response, "no batchId")),
    }
}

/// Whether a failure would recur for every other file.
fn is_fatal(err: &HttpError) -> bool {
    matches!(err, HttpError::Status { status, .. } if matches!(status.as_u16(), 401 | 403 | 404))
}

fn explain(
    step: &'static str,
    config: &AioConfig,
    file: Option<&str>,
    err: HttpError,
) -> ServiceError {
    let auth = match config.auth {
        AuthMode::Aio => "aio",
        AuthMode::Basic => "basic",
        AuthMode::Bearer => "bearer",
    };
    let body = |b: &str| truncate_utf8(b.trim(), 200).to_owned();
    let message = match &err {
        HttpError::Status { status, .. } if matches!(status.as_u16(), 401 | 403) => format!(
            "token rejected (Cloud tokens need the AioAuth scheme, Server/DC needs basic or bearer): HTTP {} with aio-auth {auth} at {}; check the aio-token secret, aio-auth and aio-url",
            status.as_u16(),
            config.base_url
        ),
        HttpError::Status { status, body: b, .. } if status.as_u16() == 404 => format!(
            "project '{}' or its cycle not found (HTTP 404 {}): check aio-project and aio-cycle",
            config.project,
            body(b)
        ),
        HttpError::Status { status, body: b, .. } if status.as_u16() == 400 => {
            format!("AIO rejected the request (HTTP 400): {}", body(b))
        }
        other => other.to_string(),
    };
    error(step, file, message)
}

/// The client every AIO request goes through: at most [`RATE_LIMIT_REQUESTS`] completions per
/// [`RATE_WINDOW`], and a pause after a 429.
struct Paced<'c, C> {
    inner: &'c C,
    /// Completion times (ms) within the last window, oldest first.
    done: RefCell<VecDeque<u64>>,
    /// No request before this time (ms): set by a 429.
    resume_at: Cell<u64>,
}

impl<'c, C: HttpClient> Paced<'c, C> {
    fn new(inner: &'c C) -> Paced<'c, C> {
        Paced {
            inner,
            done: RefCell::new(VecDeque::with_capacity(RATE_LIMIT_REQUESTS)),
            resume_at: Cell::new(0),
        }
    }

    /// How long the next request must wait, now.
    fn wait(&self) -> u64 {
        let now = self.inner.now_ms();
        let window = crate::model::millis(RATE_WINDOW);
        let mut done = self.done.borrow_mut();
        while done
            .front()
            .is_some_and(|t| now.saturating_sub(*t) >= window)
        {
            done.pop_front();
        }
        let mut wait = self.resume_at.get().saturating_sub(now);
        if done.len() >= RATE_LIMIT_REQUESTS {
            if let Some(oldest) = done.front() {
                wait = wait.max((oldest + window).saturating_sub(now));
            }
        }
        wait
    }
}

impl<C: HttpClient> HttpClient for Paced<'_, C> {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        loop {
            let wait = self.wait();
            if wait == 0 {
                break;
            }
            self.inner.sleep(Duration::from_millis(wait)).await;
        }
        let result = self.inner.send(request).await;
        let now = self.inner.now_ms();
        self.done.borrow_mut().push_back(now);
        if let Ok(response) = &result {
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                let pause = response
                    .headers()
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, now))
                    .unwrap_or(RATE_WINDOW)
                    .min(RETRY_POLICY.max_delay);
                self.resume_at.set(now + crate::model::millis(pause));
            }
        }
        result
    }

    async fn sleep(&self, duration: Duration) {
        self.inner.sleep(duration).await;
    }

    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }
}

/// The cycle key: given, found by title, or created with that title.
async fn resolve_cycle<C: HttpClient>(
    client: &C,
    config: &AioConfig,
    policy: &RetryPolicy,
    receipt: &mut Receipt,
) -> Result<String, ServiceError> {
    let title = match &config.cycle {
        CycleChoice::Key(key) => return Ok(key.clone()),
        CycleChoice::Title(title) => title,
    };
    // A search changes nothing: safe to repeat whatever happened.
    let found = send_with_retry(
        client,
        build_search(config, title)?,
        Idempotency::Idempotent,
        policy,
    )
    .await
    .map_err(|e| explain("find cycle", config, None, e))?;
    if let Some(key) = parse_search(&found, title).map_err(|m| error("find cycle", None, m))? {
        return Ok(key);
    }
    let created = send_with_retry(
        client,
        build_create_cycle(config, title)?,
        Idempotency::NotIdempotent,
        policy,
    )
    .await
    .map_err(|e| explain("create cycle", config, None, e))?;
    let key = parse_created(&created).map_err(|m| error("create cycle", None, m))?;
    receipt.cycle_created = true;
    Ok(key)
}

/// Finds or creates the cycle, then imports every file into it, paced under AIO's rate limit.
pub async fn upload<C: HttpClient>(
    client: &C,
    config: &AioConfig,
    files: &[ImportFile],
    policy: &RetryPolicy,
) -> Receipt {
    let client = Paced::new(client);
    let mut receipt = Receipt {
        project: config.project.clone(),
        ..Receipt::default()
    };
    let cycle = match resolve_cycle(&client, config, policy, &mut receipt).await {
        Ok(key) => key,
        Err(e) => {
            receipt.errors.push(e);
            return receipt;
        }
    };
    receipt.cycle_key = Some(cycle.clone());
    // Overwriting the latest run is the one import that may safely be sent twice.
    let idempotency = if config.batch || config.flags.create_new_run {
        Idempotency::NotIdempotent
    } else {
        Idempotency::Idempotent
    };
    for (i, file) in files.iter().enumerate() {
        let path = Some(file.path.as_str());
        let request = match build_import(config, &cycle, file) {
            Ok(r) => r,
            Err(e) => {
                receipt.errors.push(e);
                continue;
            }
        };
        let response = match send_with_retry(&client, request, idempotency, policy).await {
            Ok(r) => r,
            Err(e) => {
                let fatal = is_fatal(&e);
                let mut err = explain("import", config, path, e);
                let left = files.len() - i - 1;
                if fatal && left > 0 {
                    err.message
                        .push_str(&format!(" ({left} more files not sent)"));
                }
                receipt.errors.push(err);
                if fatal {
                    break;
                }
                continue;
            }
        };
        if config.batch {
            match parse_batch(&response) {
                Ok(id) => {
                    receipt.batch_ids.push(id);
                    receipt.imported_files.push(file.path.clone());
                }
                Err(m) => receipt.errors.push(error("import", path, m)),
            }
            continue;
        }
        match parse_import(&response, &file.path) {
            Ok(imported) => {
                receipt.imported += imported.imported;
                receipt.errored += imported.errored;
                let room = MAX_CASE_ERRORS.saturating_sub(receipt.case_errors.len());
                receipt
                    .case_errors
                    .extend(imported.case_errors.into_iter().take(room));
                receipt.imported_files.push(file.path.clone());
            }
            Err(m) => receipt.errors.push(error("import", path, m)),
        }
    }
    receipt
}

#[cfg(test)]
mod tests;
