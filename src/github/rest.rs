//! The GitHub REST calls the publishers share (check runs, PR comments, PR files): one base URL
//! (`GITHUB_API_URL`, so GHES works), one token, the documented headers, and list pagination.
//!
//! - Every request carries `Authorization: Bearer`, `Accept: application/vnd.github+json`,
//!   `X-GitHub-Api-Version` and a `User-Agent` (GitHub rejects requests without one).
//! - A 403 or 404 is [`ApiError::NotPermitted`]: read-only tokens (fork pull requests, missing
//!   `permissions:`) get 403 "Resource not accessible by integration", private repositories the
//!   token cannot see 404. Callers turn it into a notice, never a failed step.
//! - Lists follow the `Link: <…>; rel="next"` header, at most `max_pages` pages of
//!   [`PER_PAGE`] items (GitHub REST docs, "Using pagination in the REST API").

use serde_json::Value;

use crate::http::retry::{send_with_retry, HttpError, Idempotency, RetryPolicy};
use crate::http::{header, request, Body, HttpClient, Method, Request, Secret};

/// The REST API version these requests follow.
pub const API_VERSION: &str = "2022-11-28";
/// GitHub rejects requests without a User-Agent.
pub const USER_AGENT: &str = concat!("test-report/", env!("CARGO_PKG_VERSION"));
/// Default REST base when `GITHUB_API_URL` is absent (GHES sets it to `<host>/api/v3`).
pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// Where the API base comes from on a runner.
pub const ENV_API_URL: &str = "GITHUB_API_URL";
/// Items per list page: GitHub's maximum `per_page`.
pub const PER_PAGE: usize = 100;

/// Why a GitHub call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 403/404: the token cannot do this here.
    NotPermitted(String),
    Failed(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::NotPermitted(why) | ApiError::Failed(why) => f.write_str(why),
        }
    }
}

/// One repository on one GitHub host, with the token to use there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    /// REST base, e.g. `https://api.github.com` or `https://ghe.example/api/v3`.
    pub url: String,
    /// `owner/repo`.
    pub repository: String,
    pub token: Secret,
}

impl Api {
    /// The base URL from the environment's `GITHUB_API_URL`, else github.com's.
    pub fn url_from(env: &crate::pipeline::EnvMap) -> String {
        env.get(ENV_API_URL)
            .filter(|u| !u.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned())
    }

    /// `{url}/repos/{owner}/{repo}{path}`.
    pub fn repo_url(&self, path: &str) -> String {
        format!(
            "{}/repos/{}{path}",
            self.url.trim_end_matches('/'),
            self.repository
        )
    }

    /// A request to `url` (absolute) with GitHub's headers and, when given, a JSON body.
    pub fn request(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Request<Body>, ApiError> {
        let auth = format!("Bearer {}", self.token.expose());
        let mut headers = vec![
            ("authorization", auth.as_str()),
            ("accept", "application/vnd.github+json"),
            ("x-github-api-version", API_VERSION),
            ("user-agent", USER_AGENT),
        ];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        request(method, url, &headers, bytes).map_err(|e| ApiError::Failed(e.to_string()))
    }

    /// Sends a JSON request under the repository and parses the JSON answer; `step` says what
    /// was being done, for messages.
    #[allow(clippy::too_many_arguments)]
    pub async fn send<C: HttpClient>(
        &self,
        client: &C,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency: Idempotency,
        policy: &RetryPolicy,
        step: &str,
    ) -> Result<Value, ApiError> {
        let request = self.request(method, &self.repo_url(path), body)?;
        let response = send_with_retry(client, request, idempotency, policy)
            .await
            .map_err(|e| classify(step, e))?;
        serde_json::from_slice(response.body())
            .map_err(|e| ApiError::Failed(format!("{step}: unexpected response: {e}")))
    }

    /// Every item of a list endpoint under the repository, following `Link` headers, at most
    /// `max_pages` pages; the flag says whether the list went on beyond them.
    pub async fn list<C: HttpClient>(
        &self,
        client: &C,
        path: &str,
        max_pages: usize,
        policy: &RetryPolicy,
        step: &str,
    ) -> Result<(Vec<Value>, bool), ApiError> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut next = Some(self.repo_url(&format!("{path}{separator}per_page={PER_PAGE}")));
        let mut items = Vec::new();
        for _ in 0..max_pages {
            let Some(url) = next.take() else {
                return Ok((items, false));
            };
            let request = self.request(Method::GET, &url, None)?;
            let response = send_with_retry(client, request, Idempotency::Idempotent, policy)
                .await
                .map_err(|e| classify(step, e))?;
            next = response
                .headers()
                .get(header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
            match serde_json::from_slice(response.body()) {
                Ok(Value::Array(page)) => items.extend(page),
                Ok(_) => {
                    return Err(ApiError::Failed(format!(
                        "{step}: the answer is not a list"
                    )))
                }
                Err(e) => {
                    return Err(ApiError::Failed(format!(
                        "{step}: unexpected response: {e}"
                    )))
                }
            }
        }
        Ok((items, next.is_some()))
    }
}

/// 403 and 404 mean "not with this token"; everything else is a failure.
pub fn classify(step: &str, err: HttpError) -> ApiError {
    match &err {
        HttpError::Status { status, body, .. } if matches!(status.as_u16(), 403 | 404) => {
            ApiError::NotPermitted(format!("{step}: HTTP {status}: {}", body.trim()))
        }
        _ => ApiError::Failed(format!("{step}: {err}")),
    }
}

/// The `rel="next"` URL of a `Link` header (RFC 8288), as GitHub writes it:
/// `<url>; rel="next", <url>; rel="last"`.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"));
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::recording::{block_on, RecordingClient};
    use crate::http::Response;

    fn api() -> Api {
        Api {
            url: "https://ghe.acme.io/api/v3/".into(),
            repository: "acme/widgets".into(),
            token: Secret::new("ghs_secret"),
        }
    }

    #[test]
    fn the_next_link_is_found_among_the_others() {
        let link = r#"<https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=5>; rel="last""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=2")
        );
        assert_eq!(
            next_link(r#"<https://x/?page=1>; rel="first", <https://x/?page=1>; rel="prev""#),
            None
        );
    }

    fn page(items: &str, next: Option<&str>) -> Response<Body> {
        let mut builder = Response::builder().status(200);
        if let Some(url) = next {
            builder = builder.header("link", format!("<{url}>; rel=\"next\""));
        }
        builder.body(items.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn lists_follow_the_link_header_up_to_the_page_cap() {
        let client = RecordingClient::new();
        client
            .respond_with(page("[1,2]", Some("https://ghe.acme.io/api/v3/p2")))
            .respond_with(page("[3]", Some("https://ghe.acme.io/api/v3/p3")))
            .respond_with(page("[4]", None));
        let (items, more) = block_on(api().list(
            &client,
            "/pulls/7/files",
            2,
            &RetryPolicy::default(),
            "list files",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(items, [1, 2, 3]);
        assert!(more, "a third page was announced");
        let urls: Vec<String> = client.requests().into_iter().map(|r| r.url).collect();
        assert_eq!(
            urls,
            [
                "https://ghe.acme.io/api/v3/repos/acme/widgets/pulls/7/files?per_page=100",
                "https://ghe.acme.io/api/v3/p2"
            ]
        );
    }

    #[test]
    fn a_forbidden_answer_is_not_permitted_and_says_the_step() {
        let client = RecordingClient::new();
        client.respond(
            403,
            r#"{"message":"Resource not accessible by integration"}"#,
        );
        let err = block_on(api().send(
            &client,
            Method::POST,
            "/issues/1/comments",
            Some(&serde_json::json!({"body": "x"})),
            Idempotency::NotIdempotent,
            &RetryPolicy::default(),
            "create the comment",
        ))
        .unwrap()
        .unwrap_err();
        assert!(
            matches!(&err, ApiError::NotPermitted(m) if m.starts_with("create the comment: HTTP 403") && m.contains("Resource not accessible")),
            "{err:?}"
        );
    }
}
