//! Scripted faults: a queue of rules, each matching requests by service, method and path, each
//! firing `times` times (default 1) before it is used up. The first matching rule wins.
//!
//! When a fault fires relative to the service's own handling:
//! - `status`, `reset` (both kinds): the service never sees the request (no state change);
//! - `stall_ms`: the service handles the request after the stall (a client that timed out has
//!   still changed state, as with a real slow server);
//! - `slow_body_ms_per_kb`, `trickle_body_ms`, `truncated_body`, `non_json_body`: the service
//!   handles the request, only its answer is damaged.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};
use bytes::Bytes;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::service::Service;

/// What happens to a matched request. Exactly one shape per rule.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Fault {
    Status {
        status: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
    },
    Reset {
        reset: ResetPoint,
    },
    Stall {
        stall_ms: u64,
    },
    SlowBody {
        slow_body_ms_per_kb: u64,
    },
    /// Headers at once, then the body a byte at a time, evenly spaced, the last byte this many
    /// ms after the headers: the client sees progress all along, so only a deadline on the whole
    /// response (not one per read) gives up.
    TrickleBody {
        trickle_body_ms: u64,
    },
    TruncatedBody {
        truncated_body: bool,
    },
    NonJsonBody {
        non_json_body: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetPoint {
    /// Close the connection before reading the request body.
    BeforeBody,
    /// Read the whole request body, then close without answering.
    AfterBody,
}

/// A rule as posted to `POST /_fake/faults`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub service: Service,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Searched (unanchored) in the full request path, prefix included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_regex: Option<String>,
    #[serde(default = "one")]
    pub times: u32,
    pub fault: Fault,
}

fn one() -> u32 {
    1
}

struct Rule {
    spec: RuleSpec,
    path: Option<Regex>,
}

#[derive(Default)]
pub struct Faults {
    rules: Vec<Rule>,
}

impl Faults {
    /// Appends rules after validating all of them (none is added if one is invalid).
    pub fn add(&mut self, specs: Vec<RuleSpec>) -> Result<(), String> {
        let mut rules = Vec::with_capacity(specs.len());
        for (i, spec) in specs.into_iter().enumerate() {
            let path = match &spec.path_regex {
                Some(p) => Some(Regex::new(p).map_err(|e| format!("rule {i}: path_regex: {e}"))?),
                None => None,
            };
            if spec.times == 0 {
                return Err(format!("rule {i}: times must be at least 1"));
            }
            if let Fault::Status { status, .. } = spec.fault {
                StatusCode::from_u16(status)
                    .map_err(|_| format!("rule {i}: status {status} is not an HTTP status"))?;
            }
            rules.push(Rule { spec, path });
        }
        self.rules.extend(rules);
        Ok(())
    }

    /// Takes one use of the first rule matching this request.
    pub fn take(&mut self, service: Service, method: &str, path: &str) -> Option<Fault> {
        let index = self.rules.iter().position(|r| {
            r.spec.service == service
                && r.spec
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && r.path.as_ref().is_none_or(|re| re.is_match(path))
        })?;
        let rule = &mut self.rules[index];
        let fault = rule.spec.fault.clone();
        rule.spec.times -= 1;
        if rule.spec.times == 0 {
            self.rules.remove(index);
        }
        Some(fault)
    }

    pub fn pending(&self) -> Vec<RuleSpec> {
        self.rules.iter().map(|r| r.spec.clone()).collect()
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }
}

/// The answer of a `status` fault.
pub fn status_response(
    status: u16,
    retry_after: Option<&str>,
    body: Option<&str>,
) -> Response<Body> {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (text, content_type) = match body {
        Some(b) if serde_json::from_str::<serde_json::Value>(b).is_ok() => {
            (b.to_owned(), "application/json")
        }
        Some(b) => (b.to_owned(), "text/plain; charset=utf-8"),
        None => (
            serde_json::json!({ "message": format!("injected fault: HTTP {status}") }).to_string(),
            "application/json",
        ),
    };
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = code;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(value) = retry_after.and_then(|r| HeaderValue::from_str(r).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Damages a service's answer as the fault says; other faults leave it alone.
pub async fn damage(fault: &Fault, response: Response<Body>) -> Response<Body> {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    match *fault {
        Fault::SlowBody {
            slow_body_ms_per_kb,
        } => {
            let delay = Duration::from_millis(slow_body_ms_per_kb);
            let chunks: Vec<Bytes> = bytes.chunks(1024).map(Bytes::copy_from_slice).collect();
            let stream =
                futures_util::stream::unfold(chunks.into_iter(), move |mut rest| async move {
                    let chunk = rest.next()?;
                    tokio::time::sleep(delay).await;
                    Some((Ok::<_, std::io::Error>(chunk), rest))
                });
            Response::from_parts(parts, Body::from_stream(stream))
        }
        Fault::TrickleBody { trickle_body_ms } => {
            let pieces: Vec<Bytes> = if bytes.is_empty() {
                vec![Bytes::new()]
            } else {
                bytes.chunks(1).map(Bytes::copy_from_slice).collect()
            };
            let count = u32::try_from(pieces.len()).unwrap_or(u32::MAX);
            let gap = Duration::from_millis(trickle_body_ms) / count;
            let stream =
                futures_util::stream::unfold(pieces.into_iter(), move |mut rest| async move {
                    let piece = rest.next()?;
                    tokio::time::sleep(gap).await;
                    Some((Ok::<_, std::io::Error>(piece), rest))
                });
            Response::from_parts(parts, Body::from_stream(stream))
        }
        Fault::TruncatedBody {
            truncated_body: true,
        } => {
            // Announce the full length, send half, then fail the body: hyper closes the
            // connection and the client sees a body shorter than its Content-Length.
            let full = bytes.len().max(2);
            let half = bytes.slice(..bytes.len() / 2);
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
            let stream = futures_util::stream::unfold(0u8, move |step| {
                let half = half.clone();
                async move {
                    match step {
                        0 => Some((Ok(half), 1)),
                        1 => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Some((Err(std::io::Error::other("injected truncated body")), 2))
                        }
                        _ => None,
                    }
                }
            });
            Response::from_parts(parts, Body::from_stream(stream))
        }
        Fault::NonJsonBody {
            non_json_body: true,
        } => {
            // What a proxy in front of the service answers: HTML under the service's status.
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Response::from_parts(
                parts,
                Body::from("<html><body><h1>Bad Gateway</h1></body></html>"),
            )
        }
        _ => Response::from_parts(parts, Body::from(bytes)),
    }
}
