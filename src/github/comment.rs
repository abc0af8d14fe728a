//! The pull-request comment (`pr-comment`): one comment per check `name`, found again by a hidden
//! marker and edited in place, so a PR never collects one comment per push.
//!
//! - Modes: `off`; `always` (create or update); `failures` (create only when a test failed or a
//!   report was unreadable; an existing comment is still updated, so it never shows stale
//!   failures); `changes` (create, or update only when the results differ from the ones the
//!   existing comment was written for: the marker stores a digest of them).
//! - The pull request: the event's `pull_request.number`; under `workflow_run` the triggering
//!   run's `pull_requests[0].number`, else — always so for fork PRs, whose runs list none — the
//!   open PR whose head is the run's head SHA (`GET /repos/{o}/{r}/commits/{sha}/pulls`). No PR
//!   (a push build): no comment.
//! - The body is the marker line then the job summary rendered within [`COMMENT_MAX_CHARS`]
//!   (GitHub answers 422 "body is too long (maximum is 65536 characters)"), degrading like the
//!   job summary.
//! - The results digest covers the totals and every non-passing test (file, suite, name,
//!   status), not durations, which change on every run. FNV-1a 64: stable across versions and
//!   platforms, which `std`'s hasher does not promise.
//! - Errors are [`ApiError`]s: `NotPermitted` (403/404: fork PRs' read-only token, no
//!   `pull-requests: write`) is for a notice, never a failed step.

use serde::Serialize;
use serde_json::{json, Value};

use super::rest::{Api, ApiError};
use super::summary::display_name;
use crate::http::retry::{Idempotency, RetryPolicy};
use crate::http::{HttpClient, Method};
use crate::model::Status;
use crate::pipeline::FileReport;

/// Characters in one comment body (GitHub's 422: "maximum is 65536 characters").
pub const COMMENT_MAX_CHARS: usize = 65_536;
/// How the marker line starts; the rest names the check and the digest.
pub const MARKER_PREFIX: &str = "<!-- test-report-action:comment ";
/// Pages of 100 comments searched for the marker: 3,000 comments; beyond, a new one is made.
pub const MAX_COMMENT_PAGES: usize = 30;
/// Bytes of the check name kept in the marker.
const MARKER_NAME_BYTES: usize = 200;

/// `pr-comment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentMode {
    #[default]
    Off,
    Always,
    Failures,
    Changes,
}

impl std::str::FromStr for CommentMode {
    type Err = String;
    fn from_str(s: &str) -> Result<CommentMode, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "off" => Ok(CommentMode::Off),
            "always" => Ok(CommentMode::Always),
            "failures" => Ok(CommentMode::Failures),
            "changes" => Ok(CommentMode::Changes),
            other => Err(format!(
                "'{other}' is not one of off, always, failures, changes"
            )),
        }
    }
}

/// Which pull request the comment goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullRequest {
    Number(u64),
    /// Looked up from the commit (fork PRs under `workflow_run`).
    HeadSha(String),
}

/// The pull request named by the event: `pr_number` is what CI detection found
/// (`pull_request.number`); under `workflow_run` the run's PR list, else its head SHA.
pub fn pull_request_of(event: Option<&Value>, pr_number: Option<u64>) -> Option<PullRequest> {
    if let Some(n) = pr_number {
        return Some(PullRequest::Number(n));
    }
    let run = event?.get("workflow_run")?;
    let listed = run
        .get("pull_requests")
        .and_then(Value::as_array)
        .and_then(|prs| prs.first())
        .and_then(|pr| pr.get("number"))
        .and_then(Value::as_u64);
    match listed {
        Some(n) => Some(PullRequest::Number(n)),
        None => run
            .get("head_sha")
            .and_then(Value::as_str)
            .filter(|sha| !sha.is_empty())
            .map(|sha| PullRequest::HeadSha(sha.to_owned())),
    }
}

/// Everything one comment needs, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrComment {
    pub api: Api,
    /// The check name: one comment per name.
    pub name: String,
    pub mode: CommentMode,
    pub pull: PullRequest,
    /// A test failed or a report was unreadable.
    pub failing: bool,
    /// [`results_digest`] of this run.
    pub digest: String,
}

/// What happened to the comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentAction {
    Created,
    Updated,
    /// `changes`: the results are the ones the comment already shows.
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommentReceipt {
    pub id: u64,
    pub html_url: Option<String>,
    pub pull_number: u64,
    pub action: CommentAction,
}

/// Why no comment was written, when that is not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentOutcome {
    Written(CommentReceipt),
    /// No open pull request has the commit.
    NoPullRequest,
    /// `failures` and nothing failed, with no earlier comment to correct.
    NothingToReport,
}

/// The hidden first line: which check the comment belongs to and which results it shows.
pub fn marker(name: &str, digest: &str) -> String {
    format!(
        "{MARKER_PREFIX}name=\"{}\" digest=\"{digest}\" -->",
        marker_name(name)
    )
}

/// The name as it can sit inside an HTML comment attribute: no `"`, `-`, `<`, `>`, `%` or line
/// breaks (percent-encoded), cut to [`MARKER_NAME_BYTES`].
fn marker_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if out.len() >= MARKER_NAME_BYTES {
            break;
        }
        match c {
            '"' | '-' | '<' | '>' | '%' | '\n' | '\r' => {
                out.push_str(&format!("%{:02X}", c as u32))
            }
            _ => out.push(c),
        }
    }
    out
}

/// The `(name, digest)` of a body's marker line, if it has one.
fn parse_marker(body: &str) -> Option<(&str, &str)> {
    let line = body.lines().find(|l| l.starts_with(MARKER_PREFIX))?;
    let attribute = |key: &str| {
        let start = line.find(&format!("{key}=\""))? + key.len() + 2;
        let len = line[start..].find('"')?;
        Some(&line[start..start + len])
    };
    Some((attribute("name")?, attribute("digest")?))
}

/// The comment body: the marker line, then the summary. `summary` must already fit the budget
/// [`body_budget`] gave.
pub fn body(name: &str, digest: &str, summary: &str) -> String {
    format!("{}\n{summary}", marker(name, digest))
}

/// Bytes left for the summary next to the marker (bytes ≥ characters, so the body stays within
/// [`COMMENT_MAX_CHARS`] characters).
pub fn body_budget(name: &str, digest: &str) -> usize {
    COMMENT_MAX_CHARS.saturating_sub(marker(name, digest).len() + 1)
}

/// A digest of what the results are, not of when they ran.
pub fn results_digest(files: &[FileReport]) -> String {
    let mut hash = Fnv1a::default();
    for file in files {
        let t = file.totals();
        hash.write(file.path.as_bytes());
        hash.write(
            format!(
                "{} {} {} {} {} {}",
                t.tests, t.passed, t.failed, t.errored, t.skipped, t.flaky
            )
            .as_bytes(),
        );
        if let Some(err) = file.error() {
            hash.write(err.message.as_bytes());
        }
        for run in file.runs() {
            for suite in &run.suites {
                for case in suite.cases.iter().filter(|c| c.status != Status::Passed) {
                    hash.write(suite.name.as_bytes());
                    hash.write(display_name(case).as_bytes());
                    hash.write(format!("{:?}", case.status).as_bytes());
                }
            }
        }
    }
    format!("v1-{:016x}", hash.0)
}

/// FNV-1a, 64 bits (the published offset basis and prime); each write ends with a 0 byte so
/// `("ab","c")` and `("a","bc")` differ.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes.iter().chain([0u8].iter()) {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// The open pull request whose head is `sha`, else any listing it.
async fn pull_of_commit<C: HttpClient>(
    client: &C,
    api: &Api,
    sha: &str,
    policy: &RetryPolicy,
) -> Result<Option<u64>, ApiError> {
    let pulls = api
        .send(
            client,
            Method::GET,
            &format!("/commits/{sha}/pulls"),
            None,
            Idempotency::Idempotent,
            policy,
            "find the pull request of the commit",
        )
        .await?;
    let pulls = pulls.as_array().cloned().unwrap_or_default();
    let rank = |pr: &Value| {
        let open = pr["state"] == "open";
        let head = pr["head"]["sha"] == sha;
        (!open, !head)
    };
    Ok(pulls
        .iter()
        .filter(|pr| pr["number"].is_u64())
        .min_by_key(|pr| rank(pr))
        .and_then(|pr| pr["number"].as_u64()))
}

/// Creates or updates the comment; `summary` is the Markdown rendered within [`body_budget`].
pub async fn publish<C: HttpClient>(
    client: &C,
    comment: &PrComment,
    summary: &str,
    policy: &RetryPolicy,
) -> Result<CommentOutcome, ApiError> {
    let number = match &comment.pull {
        PullRequest::Number(n) => *n,
        PullRequest::HeadSha(sha) => match pull_of_commit(client, &comment.api, sha, policy).await?
        {
            Some(n) => n,
            None => return Ok(CommentOutcome::NoPullRequest),
        },
    };
    let (comments, _) = comment
        .api
        .list(
            client,
            &format!("/issues/{number}/comments"),
            MAX_COMMENT_PAGES,
            policy,
            "list the pull request's comments",
        )
        .await?;
    let ours = marker_name(&comment.name);
    let existing = comments.iter().find_map(|c| {
        let (name, digest) = parse_marker(c["body"].as_str()?)?;
        (name == ours).then(|| (c["id"].as_u64(), digest.to_owned()))
    });
    let existing = match existing {
        Some((Some(id), digest)) => Some((id, digest)),
        _ => None,
    };
    if comment.mode == CommentMode::Failures && !comment.failing && existing.is_none() {
        return Ok(CommentOutcome::NothingToReport);
    }
    let receipt = |answer: &Value, id: u64, action| CommentReceipt {
        id: answer["id"].as_u64().unwrap_or(id),
        html_url: answer["html_url"].as_str().map(str::to_owned),
        pull_number: number,
        action,
    };
    if let Some((id, digest)) = &existing {
        if comment.mode == CommentMode::Changes && *digest == comment.digest {
            let shown = comments.iter().find(|c| c["id"].as_u64() == Some(*id));
            return Ok(CommentOutcome::Written(receipt(
                shown.unwrap_or(&Value::Null),
                *id,
                CommentAction::Unchanged,
            )));
        }
    }
    let text = json!({ "body": body(&comment.name, &comment.digest, summary) });
    let written = match existing {
        // Setting the same body twice is harmless: the update may be retried.
        Some((id, _)) => {
            let answer = comment
                .api
                .send(
                    client,
                    Method::PATCH,
                    &format!("/issues/comments/{id}"),
                    Some(&text),
                    Idempotency::Idempotent,
                    policy,
                    "update the pull request comment",
                )
                .await?;
            receipt(&answer, id, CommentAction::Updated)
        }
        // A retried create could leave two comments.
        None => {
            let answer = comment
                .api
                .send(
                    client,
                    Method::POST,
                    &format!("/issues/{number}/comments"),
                    Some(&text),
                    Idempotency::NotIdempotent,
                    policy,
                    "create the pull request comment",
                )
                .await?;
            let id = answer["id"].as_u64().ok_or_else(|| {
                ApiError::Failed("create the pull request comment: no id in the answer".into())
            })?;
            receipt(&answer, id, CommentAction::Created)
        }
    };
    Ok(CommentOutcome::Written(written))
}

#[cfg(test)]
mod tests;
