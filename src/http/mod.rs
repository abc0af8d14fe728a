//! Every request the core makes goes through [`HttpClient`]: one trait with a native client
//! (reqwest + rustls on tokio), a wasm client (reqwest over Node's fetch) and a recording client
//! (tests and `--dry-run`). Callers are generic over the client, never `dyn`, and nothing here
//! requires `Send`: wasm futures are not `Send`.
//!
//! Retry decisions come from types ([`TransportError`] kinds and status codes, see [`retry`]),
//! never from message text.

pub mod recording;
pub mod retry;
mod secret;

#[cfg(not(target_arch = "wasm32"))]
pub mod native;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

use std::time::Duration;

pub use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
pub use secret::{redact_url, Secret};

/// A request or response body, whole. Report uploads are megabytes, not gigabytes.
pub type Body = Vec<u8>;

/// Why no response arrived. The variants carry exactly what retrying needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// The connection could not be made (DNS, refused, TLS handshake): the request was not sent.
    Connect(String),
    /// No complete response within the client's timeout: the server may have acted on it.
    Timeout,
    /// The connection broke after the request went out, or the response body was cut.
    Interrupted(String),
    /// The request could not even be built (bad URL, header): retrying cannot help.
    Invalid(String),
}

impl TransportError {
    /// True when the server cannot have seen the request, so even a POST may be sent again.
    pub fn request_not_sent(&self) -> bool {
        matches!(self, TransportError::Connect(_))
    }
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Connect(e) => write!(f, "could not connect: {e}"),
            TransportError::Timeout => f.write_str("no response before the timeout"),
            TransportError::Interrupted(e) => write!(f, "connection interrupted: {e}"),
            TransportError::Invalid(e) => write!(f, "invalid request: {e}"),
        }
    }
}

impl std::error::Error for TransportError {}

/// The transport every service module and the GitHub publisher use.
///
/// `async fn` in a public trait is fine here: callers are generic, and the futures deliberately
/// carry no `Send` bound because wasm futures cannot be `Send`.
#[allow(async_fn_in_trait)]
pub trait HttpClient {
    /// Sends one request and returns the whole response, whatever its status.
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError>;

    /// Waits, for backoff between attempts.
    async fn sleep(&self, duration: Duration);

    /// Milliseconds since the Unix epoch, for `Retry-After` dates and deadlines.
    fn now_ms(&self) -> u64;
}

/// Builds a request from parts the service modules have at hand.
pub fn request(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Body,
) -> Result<Request<Body>, TransportError> {
    let mut builder = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(body)
        .map_err(|e| TransportError::Invalid(format!("{}: {e}", redact_url(url))))
}
