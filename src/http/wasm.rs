//! The wasm client: reqwest over Node's global `fetch`; timers through `setTimeout`.
//!
//! Every request has [`REQUEST_TIMEOUT`], as on native: reqwest's wasm `timeout` arms an
//! `AbortController` that stays armed while the body is read. An abort before the headers
//! reports `is_timeout` ([`TransportError::Timeout`]); one during the body read surfaces as a
//! body error ([`TransportError::Interrupted`]), which the retry policy treats alike.

use std::time::Duration;

use wasm_bindgen::{JsCast, JsValue};

use super::recording::{Recorded, RecordingClient, Responder};
use super::{Body, HttpClient, Request, Response, TransportError};

/// Longest wait for one complete response (fetch has no default timeout).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

pub struct WasmClient {
    inner: reqwest::Client,
    /// `dry-run`: every request is answered and recorded here instead of sent. One client type
    /// for both, so the pipeline is compiled once into the wasm (twice it took 75 KB of 1.5 MB).
    dry_run: Option<RecordingClient>,
}

impl WasmClient {
    pub fn new() -> WasmClient {
        WasmClient {
            inner: reqwest::Client::new(),
            dry_run: None,
        }
    }

    /// A client that sends nothing: `respond` answers each request, which is recorded.
    pub fn answering(respond: Responder) -> WasmClient {
        WasmClient {
            dry_run: Some(RecordingClient::answering(respond)),
            ..WasmClient::new()
        }
    }

    /// What a dry-run client was asked to send; nothing for a real one.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.dry_run
            .as_ref()
            .map(RecordingClient::requests)
            .unwrap_or_default()
    }
}

impl Default for WasmClient {
    fn default() -> WasmClient {
        WasmClient::new()
    }
}

fn classify(error: &reqwest::Error) -> TransportError {
    let text = super::redact_url(&error.to_string());
    if error.is_timeout() {
        TransportError::Timeout
    } else if error.is_builder() {
        TransportError::Invalid(text)
    } else if error.is_request() {
        // fetch reports refused connections and DNS failures alike as a failed request.
        TransportError::Connect(text)
    } else {
        TransportError::Interrupted(text)
    }
}

impl HttpClient for WasmClient {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        if let Some(dry_run) = &self.dry_run {
            return dry_run.send(request).await;
        }
        let (parts, body) = request.into_parts();
        let mut builder = self
            .inner
            .request(parts.method, parts.uri.to_string())
            .timeout(REQUEST_TIMEOUT)
            .body(body);
        // fetch sets Content-Length from the body itself; undici's proxy dispatcher rejects the
        // request when it is given explicitly ("invalid content-length header").
        for (name, value) in parts
            .headers
            .iter()
            .filter(|(name, _)| **name != http::header::CONTENT_LENGTH)
        {
            builder = builder.header(name, value);
        }
        let response = builder.send().await.map_err(|e| classify(&e))?;
        let mut out = Response::builder().status(response.status());
        for (name, value) in response.headers() {
            out = out.header(name, value);
        }
        let body = response.bytes().await.map_err(|e| classify(&e))?;
        out.body(body.to_vec())
            .map_err(|e| TransportError::Interrupted(format!("unreadable response: {e}")))
    }

    async fn sleep(&self, duration: Duration) {
        if let Some(dry_run) = &self.dry_run {
            return dry_run.sleep(duration).await;
        }
        let ms = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
        let promise = js_sys::Promise::new(&mut |resolve, _reject| {
            let set_timeout =
                js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("setTimeout"))
                    .ok()
                    .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
            match set_timeout {
                Some(f) => {
                    let _ = f.call2(&JsValue::NULL, &resolve, &JsValue::from(ms));
                }
                None => {
                    let _ = resolve.call0(&JsValue::NULL);
                }
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }

    fn now_ms(&self) -> u64 {
        match &self.dry_run {
            Some(dry_run) => dry_run.now_ms(),
            None => js_sys::Date::now() as u64,
        }
    }
}
