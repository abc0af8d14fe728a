//! The accept loop: one HTTP/1.1 connection per task, each with a kill switch.
//!
//! axum's own `serve` cannot drop a connection on purpose, and a connection reset is one of the
//! faults the tests script, so every request carries a [`ConnectionKill`] that ends its
//! connection's task; dropping the socket with unread bytes makes the kernel send a reset.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower::ServiceExt;

use crate::state::AppState;

/// Closes the connection a request arrived on (request extension).
#[derive(Clone)]
pub struct ConnectionKill(Arc<Notify>);

impl ConnectionKill {
    /// Drops the connection; the caller should then never answer.
    pub fn fire(&self) {
        self.0.notify_one();
    }
}

pub async fn serve(listener: TcpListener, state: AppState) {
    let router = crate::wire::router(state);
    loop {
        let (socket, _) = match listener.accept().await {
            Ok(pair) => pair,
            Err(e) => {
                eprintln!("fake-services: accept failed: {e}");
                continue;
            }
        };
        let router = router.clone();
        tokio::spawn(async move {
            let kill = Arc::new(Notify::new());
            let per_request = ConnectionKill(kill.clone());
            let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(per_request.clone());
                let router = router.clone();
                async move { Ok::<_, Infallible>(infallible(router.oneshot(req.map(Body::new)).await)) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(socket), service);
            tokio::select! {
                _ = conn => {}
                () = kill.notified() => {}
            }
        });
    }
}

/// `Result<T, Infallible>` → `T` without a panic path.
fn infallible<T>(result: Result<T, Infallible>) -> T {
    match result {
        Ok(v) => v,
        Err(never) => match never {},
    }
}
