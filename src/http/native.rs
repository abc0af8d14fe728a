//! The native client: reqwest with rustls (ring) on tokio, system proxy settings honoured.
#![allow(clippy::disallowed_methods)]

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Body, HttpClient, Request, Response, TransportError};

/// Longest wait for one complete response. Uploads of large reports over slow links fit well
/// within it; a stalled server does not hold a CI job for long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest wait for a TCP + TLS connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Sent with every request so services can tell us apart.
pub const USER_AGENT: &str = concat!("test-report/", env!("CARGO_PKG_VERSION"));

pub struct NativeClient {
    /// Built at the first request: loading the platform's root certificates was nine tenths of
    /// a CLI run that sends nothing (`parse`, `convert`, a summary without services).
    inner: OnceLock<Result<reqwest::Client, String>>,
}

impl Default for NativeClient {
    fn default() -> NativeClient {
        NativeClient::new()
    }
}

impl NativeClient {
    pub fn new() -> NativeClient {
        NativeClient {
            inner: OnceLock::new(),
        }
    }

    /// The reqwest client, built on first use; why it could not be, at every request.
    fn client(&self) -> Result<&reqwest::Client, TransportError> {
        self.inner
            .get_or_init(|| {
                // rustls needs one process-wide crypto provider; a second install is harmless.
                let _ = rustls::crypto::ring::default_provider().install_default();
                reqwest::Client::builder()
                    .user_agent(USER_AGENT)
                    .timeout(REQUEST_TIMEOUT)
                    .connect_timeout(CONNECT_TIMEOUT)
                    .build()
                    .map_err(|e| format!("cannot set up the HTTP client: {e}"))
            })
            .as_ref()
            .map_err(|why| TransportError::Invalid(why.clone()))
    }
}

fn classify(error: &reqwest::Error) -> TransportError {
    let text = super::redact_url(&error.to_string());
    if error.is_timeout() {
        TransportError::Timeout
    } else if error.is_connect() {
        TransportError::Connect(text)
    } else if error.is_builder() {
        TransportError::Invalid(text)
    } else {
        TransportError::Interrupted(text)
    }
}

impl HttpClient for NativeClient {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        let request = reqwest::Request::try_from(request).map_err(|e| classify(&e))?;
        let response = self
            .client()?
            .execute(request)
            .await
            .map_err(|e| classify(&e))?;
        let mut builder = Response::builder()
            .status(response.status())
            .version(response.version());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let body = response.bytes().await.map_err(|e| classify(&e))?;
        builder
            .body(body.to_vec())
            .map_err(|e| TransportError::Interrupted(format!("unreadable response: {e}")))
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(crate::model::millis)
            .unwrap_or(0)
    }
}
