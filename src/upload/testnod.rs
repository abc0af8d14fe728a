//! TestNod: `POST /upload` (metadata) → `PUT` the JUnit file to the returned presigned URL →
//! `POST /finalize` once per build (../shared/reference/vendors.md §1).
//!
//! - Every upload sharing a `build_id` attaches to one pending run; matrix shards upload with
//!   `finalize: false` and one fan-in job finalizes with `finalize: only`.
//! - The upload body is JSON, as the official uploader sends it ([SRC] `internal/testnod`), though
//!   the docs show multipart: the service accepts both.
//! - The PUT carries `Content-Type: application/xml`, an explicit `Content-Length` and nothing
//!   else: an `x-amz-meta-*` header breaks the S3 signature and the project token must never reach
//!   the storage host. A failed PUT is reported through `upload_failed`, so the run can still finish.
//! - Retries follow [`crate::http::retry`]: the upload POST is not idempotent (a duplicate upload
//!   row that never gets its file would keep the run pending forever), so it is retried only when
//!   the service cannot have acted (429, 503, refused connection); the PUT and finalize are
//!   idempotent ([DOC] "finalize is idempotent") and retried on any 5xx or broken connection.
//! - Errors: 404 means an unknown token (upload) or a build id without a run (finalize); 422
//!   carries the service's `error_message`.

use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

use super::{Payload, ServiceError};
use crate::http::retry::{send_with_retry, HttpError, Idempotency, RetryPolicy};
use crate::http::{request, Body, HttpClient, Method, Request, Response, Secret};

/// [SRC] The official uploader's and action's default; [DOC] also serves `https://app.testnod.com`.
pub const DEFAULT_BASE_URL: &str = "https://testnod.com";
/// [DOC] Suggested CI secret name; read by the CLI when no flag is given.
pub const ENV_TOKEN: &str = "TESTNOD_PROJECT_TOKEN";
/// [SRC] Base URL override of the official uploader.
pub const ENV_BASE_URL: &str = "TESTNOD_BASE_URL";
/// [DOC] Authentication header on all three endpoints.
pub const TOKEN_HEADER: &str = "Project-Token";
pub const UPLOAD_PATH: &str = "/integrations/test_runs/upload";
pub const UPLOAD_FAILED_PATH: &str = "/integrations/test_runs/upload_failed";
pub const FINALIZE_PATH: &str = "/integrations/test_runs/finalize";
/// Uploads in flight at once: enough to hide latency, few enough not to look like abuse.
pub const MAX_CONCURRENT_UPLOADS: usize = 4;
const SERVICE: &str = "testnod";

/// `testnod-finalize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Finalize {
    /// Upload, then finalize: a job that produces all of the build's reports.
    #[default]
    True,
    /// Upload only: one matrix shard of several.
    False,
    /// Finalize only: the fan-in job after the shards.
    Only,
}

impl std::str::FromStr for Finalize {
    type Err = String;
    fn from_str(s: &str) -> Result<Finalize, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "true" => Ok(Finalize::True),
            "false" => Ok(Finalize::False),
            "only" => Ok(Finalize::Only),
            other => Err(format!("'{other}' is not one of true, false, only")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestnodConfig {
    pub token: Secret,
    pub base_url: String,
    pub build_id: String,
    pub tags: Vec<String>,
    pub finalize: Finalize,
    pub branch: Option<String>,
    pub commit_sha: Option<String>,
    pub run_url: Option<String>,
    /// Skip the finalize when a file failed: the files are spooled and a resume sends them and
    /// finalizes, so they join this run instead of a new one.
    pub hold_finalize: bool,
}

/// What TestNod ended up with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub build_id: String,
    pub test_run_id: Option<u64>,
    pub test_run_url: Option<String>,
    /// Run status after finalize (`pending`, `processing`, `processed`), when finalized.
    pub status: Option<String>,
    pub uploaded: Vec<String>,
    pub errors: Vec<ServiceError>,
}

/// [DOC]/[SRC] The 201 body of an upload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Created {
    pub test_run_id: u64,
    pub upload_id: u64,
    pub test_run_url: Option<String>,
    pub presigned_url: String,
}

fn url(config: &TestnodConfig, path: &str) -> String {
    format!("{}{path}", config.base_url.trim_end_matches('/'))
}

fn error(step: &'static str, file: Option<&str>, message: String) -> ServiceError {
    ServiceError {
        service: SERVICE,
        step,
        file: file.map(str::to_owned),
        message,
    }
}

fn json_request(
    config: &TestnodConfig,
    path: &str,
    body: &serde_json::Value,
) -> Result<Request<Body>, ServiceError> {
    request(
        Method::POST,
        &url(config, path),
        &[
            (TOKEN_HEADER, config.token.expose()),
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ],
        body.to_string().into_bytes(),
    )
    .map_err(|e| error("request", None, e.to_string()))
}

/// The upload registration: metadata only, the file goes to the presigned URL.
pub fn build_upload(config: &TestnodConfig) -> Result<Request<Body>, ServiceError> {
    // Unset metadata is sent as "", as the official client does.
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let body = serde_json::json!({
        "tags": config.tags.iter().map(|t| serde_json::json!({"value": t})).collect::<Vec<_>>(),
        "test_run": {"metadata": {
            "build_id": config.build_id,
            "branch": text(&config.branch),
            "commit_sha": text(&config.commit_sha),
            "run_url": text(&config.run_url),
        }},
    });
    json_request(config, UPLOAD_PATH, &body)
}

/// The error message from a TestNod error body (`{"error_message": …}`), or the body itself.
fn service_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("error_message")
                .and_then(|m| m.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| body.trim().to_owned())
}

fn explain(
    step: &'static str,
    config: &TestnodConfig,
    file: Option<&str>,
    err: HttpError,
) -> ServiceError {
    let message = match &err {
        HttpError::Status { status, body, .. } if status.as_u16() == 404 && step == "finalize" => format!(
            "no run for build id '{}', or the project token is not recognised (HTTP 404): check that the uploads used the same build id and the testnod-token secret",
            config.build_id
        ),
        HttpError::Status { status, body, .. } if status.as_u16() == 404 => format!(
            "project token not recognised (HTTP 404 {}): check the testnod-token secret",
            service_message(body)
        ),
        HttpError::Status { status, body, .. } if status.as_u16() == 422 => {
            format!("TestNod rejected the request (HTTP 422): {}", service_message(body))
        }
        other => other.to_string(),
    };
    error(step, file, message)
}

pub fn parse_upload(response: &Response<Body>) -> Result<Created, String> {
    serde_json::from_slice(response.body()).map_err(|e| {
        format!(
            "unexpected upload response ({e}): {}",
            crate::model::truncate_utf8(&String::from_utf8_lossy(response.body()), 200)
        )
    })
}

/// The presigned PUT: exactly these two headers, never the token.
pub fn build_put(presigned_url: &str, xml: &[u8]) -> Result<Request<Body>, ServiceError> {
    let length = xml.len().to_string();
    request(
        Method::PUT,
        presigned_url,
        &[
            ("content-type", "application/xml"),
            ("content-length", &length),
        ],
        xml.to_vec(),
    )
    .map_err(|e| error("put", None, e.to_string()))
}

pub fn build_upload_failed(
    config: &TestnodConfig,
    created: &Created,
    message: &str,
) -> Result<Request<Body>, ServiceError> {
    let body = serde_json::json!({
        "test_run_id": created.test_run_id,
        "upload_id": created.upload_id,
        "failure_message": message,
    });
    json_request(config, UPLOAD_FAILED_PATH, &body)
}

pub fn build_finalize(config: &TestnodConfig) -> Result<Request<Body>, ServiceError> {
    json_request(
        config,
        FINALIZE_PATH,
        &serde_json::json!({"build_id": config.build_id}),
    )
}

/// [INF] The finalize body is not published; read what is there.
#[derive(Debug, Default, Deserialize)]
struct Finalized {
    status: Option<String>,
    test_run_id: Option<u64>,
    test_run_url: Option<String>,
}

/// One file: register, PUT, and report a failed PUT. Returns the registration when it succeeded.
async fn upload_one<C: HttpClient>(
    client: &C,
    config: &TestnodConfig,
    file: &Payload,
    policy: &RetryPolicy,
) -> Result<Created, ServiceError> {
    let path = Some(file.path.as_str());
    let response = send_with_retry(
        client,
        build_upload(config)?,
        Idempotency::NotIdempotent,
        policy,
    )
    .await
    .map_err(|e| explain("upload", config, path, e))?;
    let created = parse_upload(&response).map_err(|m| error("upload", path, m))?;
    let put = send_with_retry(
        client,
        build_put(&created.presigned_url, &file.bytes)?,
        Idempotency::Idempotent,
        policy,
    )
    .await;
    if let Err(err) = put {
        let message = err.to_string();
        // Best effort: the run must learn the upload is terminal, or it stays pending.
        let reported = send_with_retry(
            client,
            build_upload_failed(config, &created, &message)?,
            Idempotency::Idempotent,
            policy,
        )
        .await;
        let note = match reported {
            Ok(_) => "reported to TestNod as failed",
            Err(_) => "and reporting the failure to TestNod failed too",
        };
        return Err(error("put", path, format!("{message} ({note})")));
    }
    Ok(created)
}

/// Uploads every file (concurrently, bounded) and finalizes as configured.
pub async fn upload<C: HttpClient>(
    client: &C,
    config: &TestnodConfig,
    files: &[Payload],
    policy: &RetryPolicy,
) -> Receipt {
    let mut receipt = Receipt {
        build_id: config.build_id.clone(),
        ..Receipt::default()
    };
    if config.finalize != Finalize::Only {
        let results: Vec<(String, Result<Created, ServiceError>)> = stream::iter(files)
            .map(|file| async move {
                (
                    file.path.clone(),
                    upload_one(client, config, file, policy).await,
                )
            })
            .buffered(MAX_CONCURRENT_UPLOADS)
            .collect()
            .await;
        for (path, result) in results {
            match result {
                Ok(created) => {
                    receipt.test_run_id = Some(created.test_run_id);
                    receipt.test_run_url = created.test_run_url.or(receipt.test_run_url.take());
                    receipt.uploaded.push(path);
                }
                Err(e) => receipt.errors.push(e),
            }
        }
        // Nothing attached to the run: finalize would only answer 422.
        if receipt.uploaded.is_empty() || (config.hold_finalize && !receipt.errors.is_empty()) {
            return receipt;
        }
    }
    if config.finalize == Finalize::False {
        return receipt;
    }
    let finalize = async {
        send_with_retry(
            client,
            build_finalize(config)?,
            Idempotency::Idempotent,
            policy,
        )
        .await
        .map_err(|e| explain("finalize", config, None, e))
    };
    match finalize.await {
        Ok(response) => {
            let done: Finalized = serde_json::from_slice(response.body()).unwrap_or_default();
            receipt.status = done.status.or(Some("finalized".into()));
            receipt.test_run_id = done.test_run_id.or(receipt.test_run_id);
            receipt.test_run_url = done.test_run_url.or(receipt.test_run_url.take());
        }
        Err(e) => receipt.errors.push(e),
    }
    receipt
}

#[cfg(test)]
mod tests;
