//! The retry policy, pure: which outcomes are worth another attempt, and how long to wait.
//!
//! - Retryable statuses: 408, 429, 500, 502, 503, 504. 429 and 503 mean the server did not act on
//!   the request, so they are retried for every method; 408/500/502/504 and timeouts or broken
//!   connections may hide a request that was processed, so they are retried only for idempotent
//!   requests (GET, HEAD, PUT, DELETE, OPTIONS, or a POST the caller marks idempotent because the
//!   service deduplicates it). A refused connection is always retried: nothing was sent.
//! - Waits: `Retry-After` (seconds or HTTP date) when the server gives it, capped by
//!   [`RetryPolicy::max_delay`]; otherwise exponential backoff from `base_delay` with "full
//!   jitter" derived from a hash of the URL and attempt (deterministic: the core has no RNG,
//!   and different requests still spread out).
//! - Limits: `max_attempts` in all, and no wait that would end past the deadline.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use super::{header, Body, HttpClient, Method, Request, Response, StatusCode, TransportError};

/// Attempts per request unless a service says otherwise (TestNod's uploader uses 3, Testomat's
/// gaxios client 3 retries: 4 attempts).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 4;
/// First backoff step.
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(500);
/// Longest single wait, including a server's `Retry-After`.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(30);
/// Total time one request may take across attempts and waits.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            base_delay: DEFAULT_BASE_DELAY,
            max_delay: DEFAULT_MAX_DELAY,
            deadline: DEFAULT_DEADLINE,
        }
    }
}

/// Whether sending a request twice has the same effect as sending it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    Idempotent,
    NotIdempotent,
}

impl Idempotency {
    pub fn of(method: &Method) -> Idempotency {
        if matches!(
            *method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        ) {
            Idempotency::Idempotent
        } else {
            Idempotency::NotIdempotent
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Keep this outcome: success, or a failure retrying cannot fix.
    Stop,
    RetryAfter(Duration),
}

/// What one attempt produced, reduced to what the policy looks at.
#[derive(Debug, Clone, Copy)]
pub enum Attempt<'a> {
    Status {
        status: StatusCode,
        retry_after: Option<&'a str>,
    },
    Failed(&'a TransportError),
}

impl RetryPolicy {
    /// `attempt` counts from 1; `elapsed` is the time since the first attempt started.
    pub fn decide(
        &self,
        outcome: Attempt<'_>,
        idempotency: Idempotency,
        attempt: u32,
        elapsed: Duration,
        now_ms: u64,
        url: &str,
    ) -> Decision {
        if attempt >= self.max_attempts {
            return Decision::Stop;
        }
        let idempotent = idempotency == Idempotency::Idempotent;
        let (retry, server_wait) = match outcome {
            Attempt::Status {
                status,
                retry_after,
            } => {
                let not_processed = matches!(status.as_u16(), 429 | 503);
                let maybe_processed = matches!(status.as_u16(), 408 | 500 | 502 | 504);
                (
                    not_processed || (maybe_processed && idempotent),
                    retry_after.and_then(|v| parse_retry_after(v, now_ms)),
                )
            }
            Attempt::Failed(err) => match err {
                TransportError::Connect(_) => (true, None),
                TransportError::Timeout | TransportError::Interrupted(_) => (idempotent, None),
                TransportError::Invalid(_) => (false, None),
            },
        };
        if !retry {
            return Decision::Stop;
        }
        let wait = server_wait
            .unwrap_or_else(|| self.backoff(attempt, url))
            .min(self.max_delay);
        if elapsed + wait > self.deadline {
            return Decision::Stop;
        }
        Decision::RetryAfter(wait)
    }

    /// Full jitter: a point in [0, base · 2^(attempt−1)], chosen by hashing the URL and attempt.
    fn backoff(&self, attempt: u32, url: &str) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(self.max_delay);
        let mut h = DefaultHasher::new();
        (url, attempt).hash(&mut h);
        let fraction = (h.finish() % 1_000) as u32;
        // Never zero: a retry storm at the same instant is what jitter exists to avoid.
        (ceiling * fraction / 1_000).max(self.base_delay / 4)
    }
}

/// `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT` (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now_ms: u64) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at_ms = parse_http_date(value)?;
    Some(Duration::from_millis(at_ms.saturating_sub(now_ms)))
}

/// IMF-fixdate only (`Sun, 06 Nov 1994 08:49:37 GMT`), the form servers must send.
fn parse_http_date(s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as i64 + 1;
    let day: i64 = day.parse().ok()?;
    let year: i64 = year.parse().ok()?;
    let mut hms = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3_600 + m * 60 + sec;
    u64::try_from(secs).ok().map(|s| s * 1_000)
}

/// The outcome of a request after retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The server answered with a status the caller did not accept, after `attempts` tries.
    Status {
        status: StatusCode,
        body: String,
        attempts: u32,
    },
    Transport {
        error: TransportError,
        attempts: u32,
    },
}

/// Bytes of a failed response body kept for error messages.
pub const ERROR_BODY_BYTES: usize = 2 * 1024;

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tries = |n: u32| {
            if n > 1 {
                format!(" after {n} attempts")
            } else {
                String::new()
            }
        };
        match self {
            HttpError::Status {
                status,
                body,
                attempts,
            } => {
                write!(f, "HTTP {status}{}", tries(*attempts))?;
                if !body.trim().is_empty() {
                    write!(f, ": {}", body.trim())?;
                }
                Ok(())
            }
            HttpError::Transport { error, attempts } => write!(f, "{error}{}", tries(*attempts)),
        }
    }
}

impl std::error::Error for HttpError {}

/// Sends `request` until it succeeds (2xx) or the policy gives up. Non-2xx answers that are not
/// retried come back as [`HttpError::Status`] with the start of their body.
pub async fn send_with_retry<C: HttpClient>(
    client: &C,
    request: Request<Body>,
    idempotency: Idempotency,
    policy: &RetryPolicy,
) -> Result<Response<Body>, HttpError> {
    let started = client.now_ms();
    let url = super::redact_url(&request.uri().to_string());
    let mut attempt = 1;
    loop {
        let outcome = client.send(clone_request(&request)).await;
        let elapsed = Duration::from_millis(client.now_ms().saturating_sub(started));
        let decision = match &outcome {
            Ok(response) if response.status().is_success() => Decision::Stop,
            Ok(response) => {
                let retry_after = response
                    .headers()
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok());
                let attempt_was = Attempt::Status {
                    status: response.status(),
                    retry_after,
                };
                policy.decide(
                    attempt_was,
                    idempotency,
                    attempt,
                    elapsed,
                    client.now_ms(),
                    &url,
                )
            }
            Err(error) => policy.decide(
                Attempt::Failed(error),
                idempotency,
                attempt,
                elapsed,
                client.now_ms(),
                &url,
            ),
        };
        match (decision, outcome) {
            (Decision::RetryAfter(wait), _) => {
                client.sleep(wait).await;
                attempt += 1;
            }
            (Decision::Stop, Ok(response)) if response.status().is_success() => {
                return Ok(response)
            }
            (Decision::Stop, Ok(response)) => {
                let body = String::from_utf8_lossy(response.body());
                return Err(HttpError::Status {
                    status: response.status(),
                    body: crate::model::truncate_utf8(&body, ERROR_BODY_BYTES).to_owned(),
                    attempts: attempt,
                });
            }
            (Decision::Stop, Err(error)) => {
                return Err(HttpError::Transport {
                    error,
                    attempts: attempt,
                })
            }
        }
    }
}

fn clone_request(request: &Request<Body>) -> Request<Body> {
    let mut copy = Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    copy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> Attempt<'static> {
        Attempt::Status {
            status: StatusCode::from_u16(code).unwrap_or(StatusCode::OK),
            retry_after: None,
        }
    }

    fn decide(outcome: Attempt<'_>, idem: Idempotency) -> Decision {
        RetryPolicy::default().decide(outcome, idem, 1, Duration::ZERO, 0, "https://x/y")
    }

    #[test]
    fn posts_retry_only_when_the_server_cannot_have_acted() {
        let post = Idempotency::NotIdempotent;
        assert!(matches!(decide(status(429), post), Decision::RetryAfter(_)));
        assert!(matches!(decide(status(503), post), Decision::RetryAfter(_)));
        assert_eq!(decide(status(500), post), Decision::Stop);
        assert_eq!(decide(status(502), post), Decision::Stop);
        assert_eq!(
            decide(Attempt::Failed(&TransportError::Timeout), post),
            Decision::Stop
        );
        assert!(matches!(
            decide(
                Attempt::Failed(&TransportError::Connect("refused".into())),
                post
            ),
            Decision::RetryAfter(_)
        ));
    }

    #[test]
    fn idempotent_requests_retry_server_errors_and_broken_connections() {
        let get = Idempotency::Idempotent;
        for code in [408, 500, 502, 504] {
            assert!(
                matches!(decide(status(code), get), Decision::RetryAfter(_)),
                "{code}"
            );
        }
        assert!(matches!(
            decide(
                Attempt::Failed(&TransportError::Interrupted("reset".into())),
                get
            ),
            Decision::RetryAfter(_)
        ));
        for code in [400, 401, 403, 404, 409, 422] {
            assert_eq!(decide(status(code), get), Decision::Stop, "{code}");
        }
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let outcome = Attempt::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some("7"),
        };
        assert_eq!(
            decide(outcome, Idempotency::NotIdempotent),
            Decision::RetryAfter(Duration::from_secs(7))
        );
        let long = Attempt::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some("3600"),
        };
        assert_eq!(
            decide(long, Idempotency::NotIdempotent),
            Decision::RetryAfter(DEFAULT_MAX_DELAY)
        );
    }

    #[test]
    fn http_dates_are_read() {
        // 1994-11-06T08:49:37Z = 784111777 s.
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:40 GMT", 784_111_777_000),
            Some(Duration::from_secs(3))
        );
        assert_eq!(parse_retry_after("soon", 0), None);
    }

    #[test]
    fn attempts_and_deadline_bound_the_retries() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.decide(
                status(503),
                Idempotency::Idempotent,
                DEFAULT_MAX_ATTEMPTS,
                Duration::ZERO,
                0,
                "u"
            ),
            Decision::Stop
        );
        assert_eq!(
            policy.decide(
                status(503),
                Idempotency::Idempotent,
                1,
                DEFAULT_DEADLINE,
                0,
                "u"
            ),
            Decision::Stop
        );
    }

    #[test]
    fn backoff_grows_and_is_jittered_per_url() {
        let policy = RetryPolicy::default();
        let a: Vec<Duration> = (1..=4).map(|n| policy.backoff(n, "https://a")).collect();
        for (n, wait) in a.iter().enumerate() {
            assert!(
                *wait <= DEFAULT_BASE_DELAY * (1 << n),
                "attempt {}: {wait:?}",
                n + 1
            );
            assert!(*wait >= DEFAULT_BASE_DELAY / 4);
        }
        assert_ne!(
            policy.backoff(3, "https://a"),
            policy.backoff(3, "https://b")
        );
    }
}
