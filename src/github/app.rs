//! A GitHub App's installation token, for the CLI outside Actions (only Apps and `GITHUB_TOKEN`
//! may create check runs): the App's JWT (signed by the edge, which holds the key and the clock)
//! is exchanged for a token of the installation on the repository.
//!
//! - `GET /repos/{owner}/{repo}/installation` (JWT) → the installation id; 404 means the App is
//!   not installed there.
//! - `POST /app/installations/{id}/access_tokens` (JWT) → `{"token": …}`, valid for one hour.
//! - The JWT claims follow GitHub's "Generating a JSON Web Token for a GitHub App": `iat` 60 s in
//!   the past (clock drift), `exp` at most 10 minutes after, `iss` the App id (or client id).
//!
//! Through [`HttpClient`] like every other request, not octocrab: one client and one retry policy
//! for all services, and octocrab does not build for wasm32.

use serde_json::{json, Value};

use super::rest::{classify, Api, ApiError};
use crate::http::retry::{send_with_retry, Idempotency, RetryPolicy};
use crate::http::{HttpClient, Method, Secret};

/// Seconds `iat` is set in the past, for clock drift (GitHub's recommendation).
pub const JWT_BACKDATE_SECS: u64 = 60;
/// Seconds a JWT is valid after `iat`; GitHub refuses more than 10 minutes.
pub const JWT_LIFETIME_SECS: u64 = 9 * 60;

/// The JWT header and claims (JSON) for App `app_id` at `now_secs` (Unix time): the edge encodes
/// and signs them with RS256.
pub fn jwt_parts(app_id: &str, now_secs: u64) -> (Value, Value) {
    let iat = now_secs.saturating_sub(JWT_BACKDATE_SECS);
    (
        json!({"alg": "RS256", "typ": "JWT"}),
        json!({"iat": iat, "exp": iat + JWT_LIFETIME_SECS, "iss": app_id}),
    )
}

/// Exchanges the App's `jwt` for an installation token on `repository` (`owner/repo`).
pub async fn installation_token<C: HttpClient>(
    client: &C,
    api_url: &str,
    repository: &str,
    jwt: &Secret,
    policy: &RetryPolicy,
) -> Result<Secret, ApiError> {
    let api = Api {
        url: api_url.to_owned(),
        repository: repository.to_owned(),
        token: jwt.clone(),
    };
    let installation = api
        .send(
            client,
            Method::GET,
            "/installation",
            None,
            Idempotency::Idempotent,
            policy,
            &format!(
                "find the GitHub App's installation on {repository} (is the App installed there?)"
            ),
        )
        .await?;
    let id = installation["id"].as_u64().ok_or_else(|| {
        ApiError::Failed("find the GitHub App's installation: no id in the answer".into())
    })?;
    let url = format!(
        "{}/app/installations/{id}/access_tokens",
        api_url.trim_end_matches('/')
    );
    // Each call mints a new token; a retried one only leaves an unused token behind.
    let response = send_with_retry(
        client,
        api.request(Method::POST, &url, None)?,
        Idempotency::Idempotent,
        policy,
    )
    .await
    .map_err(|e| classify("create an installation token", e))?;
    let answer: Value = serde_json::from_slice(response.body()).map_err(|e| {
        ApiError::Failed(format!(
            "create an installation token: unexpected response: {e}"
        ))
    })?;
    answer["token"].as_str().map(Secret::new).ok_or_else(|| {
        ApiError::Failed("create an installation token: no token in the answer".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::recording::{block_on, RecordingClient};

    #[test]
    fn claims_are_backdated_and_short_lived() {
        let (header, claims) = jwt_parts("12345", 1_700_000_000);
        assert_eq!(header["alg"], "RS256");
        assert_eq!(claims["iat"], 1_700_000_000 - 60);
        assert_eq!(claims["exp"], 1_700_000_000 - 60 + 540);
        assert_eq!(claims["iss"], "12345");
    }

    #[test]
    fn the_jwt_buys_an_installation_token_for_the_repository() {
        let client = RecordingClient::new();
        client
            .respond(200, r#"{"id": 77, "app_id": 12345}"#)
            .respond(
                201,
                r#"{"token": "ghs_installation", "expires_at": "2026-12-01T06:00:00Z"}"#,
            );
        let token = block_on(installation_token(
            &client,
            "https://ghe.acme.io/api/v3/",
            "acme/widgets",
            &Secret::new("header.claims.signature"),
            &RetryPolicy::default(),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(token.expose(), "ghs_installation");
        let requests = client.requests();
        let calls: Vec<(&str, &str)> = requests
            .iter()
            .map(|r| (r.method.as_str(), r.url.as_str()))
            .collect();
        assert_eq!(
            calls,
            [
                (
                    "GET",
                    "https://ghe.acme.io/api/v3/repos/acme/widgets/installation"
                ),
                (
                    "POST",
                    "https://ghe.acme.io/api/v3/app/installations/77/access_tokens"
                ),
            ]
        );
        assert!(requests.iter().all(|r| r.headers.contains(&(
            "authorization".into(),
            "Bearer header.claims.signature".into()
        ))));
    }

    #[test]
    fn an_app_not_installed_on_the_repository_says_so() {
        let client = RecordingClient::new();
        client.respond(404, r#"{"message":"Not Found"}"#);
        let err = block_on(installation_token(
            &client,
            "https://api.github.com",
            "acme/widgets",
            &Secret::new("jwt"),
            &RetryPolicy::default(),
        ))
        .unwrap()
        .unwrap_err();
        assert!(
            err.to_string().contains("is the App installed there?"),
            "{err}"
        );
    }
}
