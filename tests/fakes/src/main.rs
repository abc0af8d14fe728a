//! `fake-services`: stateful local fakes of the services test-report-action talks to, for tests.
//!
//! Rules implemented here (the contract every test harness relies on):
//! - listens on 127.0.0.1, port 0 (random) unless `--port N` is given;
//! - prints exactly one first line to stdout, `{"url":"http://127.0.0.1:PORT"}`, then nothing else;
//! - runs until killed or until stdin reaches end of file, so a parent that dies (and so closes
//!   the pipe) never leaks the process; `--ignore-stdin` turns that off for manual use.
//!
//! Each service lives under its own path prefix (see [`service::Service`]); `/_fake/` is the
//! inspection, fault and configuration API. `tests/README.md` documents all of it.
// Test support: clock, sleep and exit are its job.
#![allow(clippy::disallowed_methods)]
// Handlers return `Result<_, Response>` (axum's idiom); an error path this rare needs no boxing.
#![allow(clippy::result_large_err)]

mod aio;
mod control;
mod faults;
mod github;
mod journal;
mod octane;
mod params;
mod schema;
mod server;
mod service;
mod state;
mod testnod;
mod testomatio;
mod wire;

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};

use tokio::io::AsyncReadExt;

/// Command-line options; deliberately tiny so the binary has no argument-parsing dependency.
struct Options {
    port: u16,
    watch_stdin: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        port: 0,
        watch_stdin: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a number")?;
                options.port = value
                    .parse()
                    .map_err(|_| format!("--port {value}: not a port number"))?;
            }
            "--ignore-stdin" => options.watch_stdin = false,
            other => {
                return Err(format!(
                    "unknown argument {other}; use --port N, --ignore-stdin"
                ))
            }
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() {
    let options = match parse_options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("fake-services: {e}");
            std::process::exit(2);
        }
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("fake-services: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    let port = listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or(options.port);
    let mut stdout = std::io::stdout();
    let line = serde_json::json!({ "url": format!("http://127.0.0.1:{port}") });
    if writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        std::process::exit(1);
    }
    if options.watch_stdin {
        tokio::spawn(async {
            let mut stdin = tokio::io::stdin();
            let mut buf = [0u8; 256];
            // Anything written to stdin is ignored; end of file (or an error) means the parent is gone.
            while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
            std::process::exit(0);
        });
    }
    server::serve(listener, state::AppState::new()).await;
}
