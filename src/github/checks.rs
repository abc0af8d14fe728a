//! The check run: one `POST /repos/{owner}/{repo}/check-runs` with the first 50 annotations, then
//! one `PATCH …/check-runs/{id}` per further 50, so no annotation is dropped (GitHub REST docs,
//! "Create a check run": "The Checks API limits the number of annotations to a maximum of 50 per
//! API request. To create more than 50 annotations, you have to make multiple requests to the
//! Update a check run endpoint").
//!
//! - The run goes on the PR head SHA on pull requests and on the triggering run's head SHA under
//!   `workflow_run` ([`crate::ci::CiInfo::commit`]), or on the `commit` input.
//! - `title`, `summary` and `text` are capped at 65,535 bytes; the summary is the job summary
//!   rendered within that budget, with the same degradation order.
//! - Annotations need a path: those without one stay in the summary and the job's own annotations.
//!   Annotations without a line go on line 1.
//! - `auto`: a 403/404 (read-only token: fork PRs, missing `checks: write`) falls back to
//!   workflow-command annotations with one notice, never a failed step.

use serde::Serialize;
use serde_json::json;

use super::annotations::{Annotation, Level};
pub use super::rest::ApiError as CheckError;
use super::rest::{classify, Api};
use crate::http::retry::{send_with_retry, Idempotency, RetryPolicy};
use crate::http::{HttpClient, Method};

/// Annotations accepted per create/update request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// Bytes of `output.title`, `output.summary` and `output.text` (GitHub: "Maximum length: 65535
/// characters"; bytes are the safe reading for multibyte text).
pub const OUTPUT_FIELD_MAX_BYTES: usize = 65_535;
/// Bytes of one annotation's `message` and `raw_details` (same limit as the output fields).
pub const ANNOTATION_MESSAGE_MAX_BYTES: usize = 65_535;

/// `check-run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckRunMode {
    /// Create one when the token may; otherwise fall back quietly (with a notice).
    #[default]
    Auto,
    True,
    False,
}

impl std::str::FromStr for CheckRunMode {
    type Err = String;
    fn from_str(s: &str) -> Result<CheckRunMode, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(CheckRunMode::Auto),
            "true" => Ok(CheckRunMode::True),
            "false" => Ok(CheckRunMode::False),
            other => Err(format!("'{other}' is not one of auto, true, false")),
        }
    }
}

/// Everything one check run needs, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    pub api: Api,
    pub name: String,
    pub head_sha: String,
    /// `success`, `failure` or `neutral`.
    pub conclusion: String,
    pub title: String,
    pub summary: String,
    pub details_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReceipt {
    pub id: u64,
    pub html_url: Option<String>,
    pub annotations: usize,
}

fn cap(s: &str, max: usize) -> String {
    crate::model::truncate_utf8(s, max).to_owned()
}

fn annotation_json(a: &Annotation) -> Option<serde_json::Value> {
    let path = a.file.as_deref()?;
    let line = a.line.unwrap_or(1).max(1);
    let level = match a.level {
        Level::Error => "failure",
        Level::Warning => "warning",
        Level::Notice => "notice",
    };
    Some(json!({
        "path": path,
        "start_line": line,
        "end_line": line,
        "annotation_level": level,
        "title": cap(&a.title, super::annotations::TITLE_MAX_BYTES),
        "message": cap(&a.message, ANNOTATION_MESSAGE_MAX_BYTES),
    }))
}

/// The request bodies: one create, then one update per further 50 annotations.
pub fn plan(
    run: &CheckRun,
    annotations: &[Annotation],
) -> (serde_json::Value, Vec<serde_json::Value>) {
    let placed: Vec<serde_json::Value> = annotations.iter().filter_map(annotation_json).collect();
    let mut chunks = placed.chunks(ANNOTATIONS_PER_REQUEST);
    let output = |chunk: Option<&[serde_json::Value]>| {
        json!({
            "title": cap(&run.title, OUTPUT_FIELD_MAX_BYTES),
            "summary": cap(&run.summary, OUTPUT_FIELD_MAX_BYTES),
            "annotations": chunk.unwrap_or_default(),
        })
    };
    let mut create = json!({
        "name": run.name,
        "head_sha": run.head_sha,
        "status": "completed",
        "conclusion": run.conclusion,
        "output": output(chunks.next()),
    });
    if let Some(url) = &run.details_url {
        create["details_url"] = json!(url);
    }
    let updates = chunks
        .map(|chunk| json!({"output": output(Some(chunk))}))
        .collect();
    (create, updates)
}

/// Creates the check run and adds the remaining annotations.
pub async fn publish<C: HttpClient>(
    client: &C,
    run: &CheckRun,
    annotations: &[Annotation],
    policy: &RetryPolicy,
) -> Result<CheckReceipt, CheckError> {
    let (create, updates) = plan(run, annotations);
    let sent = create["output"]["annotations"]
        .as_array()
        .map_or(0, Vec::len)
        + updates
            .iter()
            .map(|u| u["output"]["annotations"].as_array().map_or(0, Vec::len))
            .sum::<usize>();
    // Not idempotent: a retried create could leave two check runs.
    let response = send_with_retry(
        client,
        run.api.request(
            Method::POST,
            &run.api.repo_url("/check-runs"),
            Some(&create),
        )?,
        Idempotency::NotIdempotent,
        policy,
    )
    .await
    .map_err(|e| classify("create check run", e))?;
    let created: serde_json::Value = serde_json::from_slice(response.body())
        .map_err(|e| CheckError::Failed(format!("create check run: unexpected response: {e}")))?;
    let id = created["id"]
        .as_u64()
        .ok_or_else(|| CheckError::Failed("create check run: no id in the response".into()))?;
    for update in &updates {
        // Updates with the same annotations replace nothing: GitHub appends them, so a retry of a
        // lost response could duplicate a batch; duplicates beat losing annotations.
        send_with_retry(
            client,
            run.api.request(
                Method::PATCH,
                &run.api.repo_url(&format!("/check-runs/{id}")),
                Some(update),
            )?,
            Idempotency::Idempotent,
            policy,
        )
        .await
        .map_err(|e| classify("add annotations to the check run", e))?;
    }
    Ok(CheckReceipt {
        id,
        html_url: created["html_url"].as_str().map(str::to_owned),
        annotations: sent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::recording::{block_on, RecordingClient};

    fn run() -> CheckRun {
        CheckRun {
            api: Api {
                url: "https://ghe.acme.io/api/v3/".into(),
                repository: "acme/widgets".into(),
                token: crate::http::Secret::new("ghs_secret"),
            },
            name: "Test results".into(),
            head_sha: "head1111".into(),
            conclusion: "failure".into(),
            title: "3 failed of 120 tests".into(),
            summary: "## summary".into(),
            details_url: None,
        }
    }

    fn annotations(n: usize) -> Vec<Annotation> {
        (0..n)
            .map(|i| Annotation {
                level: Level::Error,
                file: Some(format!("src/t{i}.rs")),
                line: if i == 0 { None } else { Some(i as u32) },
                in_source: true,
                title: format!("test {i}"),
                message: "boom".into(),
            })
            .collect()
    }

    #[test]
    fn every_annotation_is_sent_fifty_at_a_time() {
        let client = RecordingClient::new();
        client.respond(
            201,
            r#"{"id":7,"html_url":"https://ghe.acme.io/acme/widgets/runs/7"}"#,
        );
        let receipt = block_on(publish(
            &client,
            &run(),
            &annotations(120),
            &RetryPolicy::default(),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(receipt.annotations, 120);
        let requests = client.requests();
        let methods: Vec<(&str, &str)> = requests
            .iter()
            .map(|r| (r.method.as_str(), r.url.as_str()))
            .collect();
        assert_eq!(
            methods,
            [
                (
                    "POST",
                    "https://ghe.acme.io/api/v3/repos/acme/widgets/check-runs"
                ),
                (
                    "PATCH",
                    "https://ghe.acme.io/api/v3/repos/acme/widgets/check-runs/7"
                ),
                (
                    "PATCH",
                    "https://ghe.acme.io/api/v3/repos/acme/widgets/check-runs/7"
                ),
            ]
        );
        let counts: Vec<usize> = requests
            .iter()
            .map(|r| {
                serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["output"]
                    ["annotations"]
                    .as_array()
                    .unwrap()
                    .len()
            })
            .collect();
        assert_eq!(counts, [50, 50, 20]);
        let first: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
        assert_eq!(first["head_sha"], "head1111");
        assert_eq!(first["output"]["annotations"][0]["start_line"], 1);
        assert_eq!(
            first["output"]["annotations"][0]["annotation_level"],
            "failure"
        );
    }

    #[test]
    fn a_read_only_token_is_not_permitted_rather_than_failed() {
        let client = RecordingClient::new();
        client.respond(
            403,
            r#"{"message":"Resource not accessible by integration"}"#,
        );
        let err = block_on(publish(
            &client,
            &run(),
            &annotations(1),
            &RetryPolicy::default(),
        ))
        .unwrap()
        .unwrap_err();
        assert!(
            matches!(err, CheckError::NotPermitted(ref m) if m.contains("Resource not accessible by integration")),
            "{err:?}"
        );
    }

    #[test]
    fn output_fields_stay_within_github_limits() {
        let mut big = run();
        big.summary = "é".repeat(40_000);
        let (create, _) = plan(&big, &[]);
        assert!(create["output"]["summary"].as_str().unwrap().len() <= OUTPUT_FIELD_MAX_BYTES);
    }

    #[test]
    fn annotations_without_a_path_stay_out_of_the_api() {
        let mut list = annotations(2);
        list[1].file = None;
        let (create, updates) = plan(&run(), &list);
        assert_eq!(create["output"]["annotations"].as_array().unwrap().len(), 1);
        assert!(updates.is_empty());
    }
}
