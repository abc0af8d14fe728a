//! A client that answers from a script and remembers every request: for tests of the request
//! sequences each service module sends, and for `--dry-run`, which shows what would be sent.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::time::Duration;

use super::{Body, HttpClient, Request, Response, StatusCode, TransportError};

/// One request as sent, with its body, for assertions and snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

/// Answers requests the script does not cover.
pub type Responder = fn(&Recorded) -> Response<Body>;

#[derive(Debug, Default)]
pub struct RecordingClient {
    script: RefCell<VecDeque<Result<Response<Body>, TransportError>>>,
    responder: Option<Responder>,
    recorded: RefCell<Vec<Recorded>>,
    slept: RefCell<Vec<Duration>>,
    clock_ms: Cell<u64>,
}

impl RecordingClient {
    /// A client that answers every request with `200 {}` unless scripted otherwise.
    pub fn new() -> RecordingClient {
        RecordingClient::default()
    }

    /// A client that answers every unscripted request with `responder` (`--dry-run`).
    pub fn answering(responder: Responder) -> RecordingClient {
        RecordingClient {
            responder: Some(responder),
            ..RecordingClient::default()
        }
    }

    /// Queues the answer to the next unanswered request.
    pub fn respond(&self, status: u16, body: &str) -> &Self {
        let response = Response::builder()
            .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .body(body.as_bytes().to_vec())
            .unwrap_or_default();
        self.script.borrow_mut().push_back(Ok(response));
        self
    }

    /// Queues a full response (headers included).
    pub fn respond_with(&self, response: Response<Body>) -> &Self {
        self.script.borrow_mut().push_back(Ok(response));
        self
    }

    /// Queues a transport failure.
    pub fn fail(&self, error: TransportError) -> &Self {
        self.script.borrow_mut().push_back(Err(error));
        self
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.borrow().clone()
    }

    pub fn sleeps(&self) -> Vec<Duration> {
        self.slept.borrow().clone()
    }
}

impl HttpClient for RecordingClient {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        let (parts, body) = request.into_parts();
        let recorded = Recorded {
            method: parts.method.to_string(),
            url: parts.uri.to_string(),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body,
        };
        let scripted = self.script.borrow_mut().pop_front();
        let answer = scripted.unwrap_or_else(|| {
            Ok(match self.responder {
                Some(respond) => respond(&recorded),
                None => Response::new(b"{}".to_vec()),
            })
        });
        self.recorded.borrow_mut().push(recorded);
        answer
    }

    /// Sleeping only advances the recorded clock: tests of backoff take no time.
    async fn sleep(&self, duration: Duration) {
        self.slept.borrow_mut().push(duration);
        self.clock_ms
            .set(self.clock_ms.get() + super::super::model::millis(duration));
    }

    fn now_ms(&self) -> u64 {
        self.clock_ms.get()
    }
}

/// Drives a future over the recording client to completion. Its futures never pend, so one poll
/// with a no-op waker finishes them; `None` if something else made the future pend.
pub fn block_on<F: std::future::Future>(f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}

impl Recorded {
    /// One line per request for snapshots: method, URL and headers with secrets redacted, body.
    pub fn describe(&self, secret_headers: &[&str]) -> String {
        let mut out = format!("{} {}\n", self.method, super::redact_url(&self.url));
        for (k, v) in &self.headers {
            let shown = if secret_headers.iter().any(|s| s.eq_ignore_ascii_case(k)) {
                "****"
            } else {
                v
            };
            out.push_str(&format!("{k}: {shown}\n"));
        }
        out.push_str(&redact_body(&self.body));
        out
    }
}

/// Top-level JSON body fields whose values are credentials (Testomat.io's `api_key`).
const SECRET_BODY_FIELDS: &[&str] = &["api_key"];

/// The body as text, with the values of [`SECRET_BODY_FIELDS`] replaced by `****` when it is
/// a JSON object holding one (other bodies are shown as sent).
fn redact_body(body: &[u8]) -> String {
    if let Ok(serde_json::Value::Object(mut map)) = serde_json::from_slice(body) {
        let mut hit = false;
        for field in SECRET_BODY_FIELDS {
            if let Some(v) = map.get_mut(*field) {
                *v = serde_json::Value::String("****".into());
                hit = true;
            }
        }
        if hit {
            return serde_json::Value::Object(map).to_string();
        }
    }
    String::from_utf8_lossy(body).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::retry::{send_with_retry, HttpError, Idempotency, RetryPolicy};
    use crate::http::{request, Method};

    #[test]
    fn a_503_then_success_is_retried_after_backing_off() {
        let client = RecordingClient::new();
        client.respond(503, "busy").respond(201, "{\"id\":1}");
        let req = request(
            Method::POST,
            "https://svc/api?api_key=secret",
            &[],
            b"x".to_vec(),
        )
        .unwrap();
        let response = block_on(send_with_retry(
            &client,
            req,
            Idempotency::NotIdempotent,
            &RetryPolicy::default(),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(response.status(), 201);
        assert_eq!(client.requests().len(), 2);
        assert_eq!(client.requests()[1].body, b"x");
        assert_eq!(client.sleeps().len(), 1);
    }

    #[test]
    fn a_500_on_a_post_is_not_repeated_and_says_what_came_back() {
        let client = RecordingClient::new();
        client.respond(500, "{\"error\":\"boom\"}");
        let req = request(Method::POST, "https://svc/api", &[], Vec::new()).unwrap();
        let err = block_on(send_with_retry(
            &client,
            req,
            Idempotency::NotIdempotent,
            &RetryPolicy::default(),
        ))
        .unwrap()
        .unwrap_err();
        assert_eq!(client.requests().len(), 1);
        assert_eq!(
            err.to_string(),
            "HTTP 500 Internal Server Error: {\"error\":\"boom\"}"
        );
        assert!(matches!(err, HttpError::Status { attempts: 1, .. }));
    }

    #[test]
    fn gives_up_after_max_attempts() {
        let client = RecordingClient::new();
        for _ in 0..10 {
            client.fail(TransportError::Connect("refused".into()));
        }
        let req = request(Method::GET, "https://svc/api", &[], Vec::new()).unwrap();
        let err = block_on(send_with_retry(
            &client,
            req,
            Idempotency::Idempotent,
            &RetryPolicy::default(),
        ))
        .unwrap()
        .unwrap_err();
        assert_eq!(
            client.requests().len() as u32,
            crate::http::retry::DEFAULT_MAX_ATTEMPTS
        );
        assert_eq!(
            err.to_string(),
            "could not connect: refused after 4 attempts"
        );
    }
}
