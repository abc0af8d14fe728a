//! The router and the layer every service request goes through: it journals the request, then
//! applies the first matching scripted fault (see [`crate::faults`]).

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};

use crate::faults::{self, Fault, ResetPoint};
use crate::journal::Entry;
use crate::server::ConnectionKill;
use crate::service::Service;
use crate::state::{lock, AppState};

pub fn router(state: AppState) -> Router {
    Router::new()
        .nest("/_fake", crate::control::routes())
        .nest("/testnod", crate::testnod::routes())
        .nest("/storage", crate::testnod::storage_routes())
        .nest("/github", crate::github::routes())
        .nest("/testomatio", crate::testomatio::routes())
        .nest("/aio", crate::aio::routes())
        .nest("/octane", crate::octane::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            journal_and_faults,
        ))
        .with_state(state)
}

async fn not_found(req: Request) -> Response {
    let message = format!(
        "fake-services: no endpoint for {} {}",
        req.method(),
        req.uri().path()
    );
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({ "message": message })),
    )
        .into_response()
}

async fn journal_and_faults(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let Some(service) = Service::of_path(&path) else {
        return next.run(req).await;
    };
    let method = req.method().as_str().to_owned();
    let mut entry = Entry {
        seq: 0,
        received_ms: u64::try_from(state.inner().started.elapsed().as_millis()).unwrap_or(u64::MAX),
        service,
        method: method.clone(),
        path: path.clone(),
        query: req.uri().query().map(str::to_owned),
        headers: header_pairs(req.headers()),
        body_len: 0,
        body_base64: String::new(),
        body_utf8: None,
        fault: None,
        status: None,
        answered_ms: None,
    };
    let fault = lock(&state.inner().faults).take(service, &method, &path);
    entry.fault = fault.clone();
    let kill = req.extensions().get::<ConnectionKill>().cloned();

    if let Some(Fault::Reset {
        reset: ResetPoint::BeforeBody,
    }) = fault
    {
        lock(&state.inner().journal).push(entry);
        return drop_connection(kill).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            // The client went away mid-body: journal what is known, answer nobody.
            entry.body_utf8 = Some(format!("<body not received: {e}>"));
            lock(&state.inner().journal).push(entry);
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    entry.set_body(&bytes);
    let seq = lock(&state.inner().journal).push(entry);

    let response = match fault {
        Some(Fault::Reset { .. }) => return drop_connection(kill).await,
        Some(Fault::Status {
            status,
            ref retry_after,
            ref body,
        }) => faults::status_response(status, retry_after.as_deref(), body.as_deref()),
        Some(Fault::Stall { stall_ms }) => {
            // A task of its own: hyper drops this future when the client gives up, and the
            // request must still reach the service, as it would on a slow real server.
            let handled = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(stall_ms)).await;
                next.run(Request::from_parts(parts, Body::from(bytes)))
                    .await
            });
            match handled.await {
                Ok(r) => r,
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        Some(ref f) => {
            let answered = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            faults::damage(f, answered).await
        }
        None => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    };
    let status = response.status().as_u16();
    let answered_ms = u64::try_from(state.inner().started.elapsed().as_millis()).ok();
    lock(&state.inner().journal).update(seq, |e| {
        e.status = Some(status);
        e.answered_ms = answered_ms;
    });
    response
}

async fn drop_connection(kill: Option<ConnectionKill>) -> Response {
    match kill {
        Some(k) => {
            k.fire();
            std::future::pending::<Response>().await
        }
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}
