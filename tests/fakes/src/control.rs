//! The `/_fake/` API: inspection, faults, configuration, reset and time steps.
//! Never journaled and never faulted.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::faults::RuleSpec;
use crate::service::Service;
use crate::state::{lock, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/requests", get(requests))
        .route("/state/{service}", get(service_state))
        .route("/reset", post(reset))
        .route(
            "/faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .route("/config", get(config).post(configure))
        .route("/advance", post(advance))
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "message": message }))).into_response()
}

/// `?service=NAME` → that service, absent → all, unknown → an error naming the known ones.
fn service_filter(query: &HashMap<String, String>) -> Result<Option<Service>, Response> {
    match query.get("service") {
        None => Ok(None),
        Some(name) => Service::from_name(name)
            .map(Some)
            .ok_or_else(|| unknown_service(name)),
    }
}

fn unknown_service(name: &str) -> Response {
    let known: Vec<&str> = Service::ALL.iter().map(|s| s.name()).collect();
    bad_request(format!(
        "unknown service {name:?}; known: {}",
        known.join(", ")
    ))
}

async fn requests(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    match service_filter(&query) {
        Ok(filter) => Json(lock(&state.inner().journal).list(filter)).into_response(),
        Err(r) => r,
    }
}

async fn service_state(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let inner = state.inner();
    let value = match Service::from_name(&name) {
        // The storage host's objects are part of TestNod's uploads.
        Some(Service::Testnod | Service::Storage) => lock(&inner.testnod).state(),
        Some(Service::Github) => lock(&inner.github).state(),
        Some(Service::Testomatio) => lock(&inner.testomatio).state(),
        Some(Service::Aio) => lock(&inner.aio).state(),
        Some(Service::Octane) => lock(&inner.octane).state(),
        None => return unknown_service(&name),
    };
    Json(value).into_response()
}

async fn reset(State(state): State<AppState>) -> StatusCode {
    state.reset();
    StatusCode::NO_CONTENT
}

async fn list_faults(State(state): State<AppState>) -> Json<Vec<RuleSpec>> {
    Json(lock(&state.inner().faults).pending())
}

async fn add_faults(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let specs: Vec<RuleSpec> = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return bad_request(format!("faults: expected a JSON list of rules: {e}")),
    };
    let mut faults = lock(&state.inner().faults);
    match faults.add(specs) {
        Ok(()) => Json(faults.pending()).into_response(),
        Err(e) => bad_request(format!("faults: {e}")),
    }
}

async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    lock(&state.inner().faults).clear();
    StatusCode::NO_CONTENT
}

async fn config(State(state): State<AppState>) -> Json<Value> {
    let inner = state.inner();
    Json(json!({
        "testnod": lock(&inner.testnod).config(),
        "github": lock(&inner.github).config(),
        "testomatio": lock(&inner.testomatio).config(),
        "aio": lock(&inner.aio).config(),
        "octane": lock(&inner.octane).config(),
    }))
}

/// Merges `{"testnod": {...}, "aio": {...}, ...}` (one key per service) into the
/// configuration; see tests/README.md.
async fn configure(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(format!("config: not JSON: {e}")),
    };
    let Some(sections) = value.as_object() else {
        return bad_request("config: expected an object keyed by service".into());
    };
    let inner = state.inner();
    for (name, section) in sections {
        let result = match Service::from_name(name) {
            Some(Service::Testnod) => lock(&inner.testnod).configure(section),
            Some(Service::Github) => lock(&inner.github).configure(section),
            Some(Service::Testomatio) => lock(&inner.testomatio).configure(section),
            Some(Service::Aio) => lock(&inner.aio).configure(section),
            Some(Service::Octane) => lock(&inner.octane).configure(section),
            _ => Err(format!(
                "no configuration for {name:?}; configurable: testnod, github, testomatio, aio, octane"
            )),
        };
        if let Err(e) = result {
            return bad_request(format!("config.{name}: {e}"));
        }
    }
    config(State(state)).await.into_response()
}

/// Moves every asynchronous job one step (TestNod runs processing → processed, AIO batches
/// Queued → Processing → Completed, Octane tasks queued → running → their outcome).
async fn advance(State(state): State<AppState>) -> Json<Value> {
    let testnod = lock(&state.inner().testnod).advance();
    let aio = lock(&state.inner().aio).advance();
    let octane = lock(&state.inner().octane).advance();
    Json(json!({
        "testnod_runs_advanced": testnod,
        "aio_batches_advanced": aio,
        "octane_tasks_advanced": octane,
    }))
}
