//! Starts the fake services (`tests/fakes/`, see tests/README.md) for upload tests, the same way
//! the JS tests do: spawn the binary, read its first stdout line `{"url":...}`, kill it on drop.
//!
//! The binary is `FAKE_SERVICES_BIN` when set; otherwise this helper runs
//! `cargo build -p fake-services` once per test process (fast when up to date; `scripts/test.sh`
//! builds it beforehand) and uses `target/<profile>/fake-services` next to this test binary.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// The environment variable naming a prebuilt fake-services binary.
pub const BIN_ENV: &str = "FAKE_SERVICES_BIN";

/// A running fake-services process; killed when dropped.
pub struct FakeServices {
    child: Child,
    /// `http://127.0.0.1:PORT`; services live under `/testnod`, `/github`, … (tests/README.md).
    pub url: String,
}

fn binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os(BIN_ENV) {
            return PathBuf::from(bin);
        }
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "fake-services"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build -p fake-services failed");
        // target/<profile>/deps/it-<hash> → target/<profile>/fake-services
        let exe = std::env::current_exe().expect("test binary path");
        exe.parent()
            .and_then(|deps| deps.parent())
            .expect("target/<profile>")
            .join("fake-services")
    })
    .clone()
}

impl FakeServices {
    pub fn start() -> FakeServices {
        let bin = binary();
        let mut child = Command::new(&bin)
            // stdin stays a pipe: the fake exits when it closes, so a crashed test leaks nothing.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (set {BIN_ENV} or build -p fake-services)",
                    bin.display()
                )
            });
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first line");
        let first: serde_json::Value = serde_json::from_str(&line).expect("first line is JSON");
        let url = first["url"].as_str().expect("url").to_owned();
        FakeServices { child, url }
    }

    /// A blocking GET of a `/_fake/` path (the main crate has no HTTP client dev-dependency);
    /// answers the status code and the body.
    pub fn inspect(&self, path: &str) -> (u16, String) {
        self.call("GET", path, "")
    }

    /// A blocking POST of JSON to a `/_fake/` path (faults, config); panics unless it succeeded.
    pub fn control(&self, path: &str, json: &str) {
        let (status, body) = self.call("POST", path, json);
        assert!((200..300).contains(&status), "POST {path}: {status} {body}");
    }

    /// The stored state of one service, as JSON.
    pub fn state(&self, service: &str) -> serde_json::Value {
        let (status, body) = self.inspect(&format!("/_fake/state/{service}"));
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("state is JSON")
    }

    /// The journal of one service's requests, oldest first.
    pub fn requests(&self, service: &str) -> Vec<serde_json::Value> {
        let (_, body) = self.inspect(&format!("/_fake/requests?service={service}"));
        serde_json::from_str(&body).expect("journal is JSON")
    }

    fn call(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let host = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).expect("connect to the fake");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut raw = String::new();
        stream.read_to_string(&mut raw).expect("read");
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, body.to_owned())
    }
}

impl Drop for FakeServices {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn fake_services_start_and_answer_inspection() {
    let fake = FakeServices::start();
    assert!(fake.url.starts_with("http://127.0.0.1:"), "{}", fake.url);
    let (status, body) = fake.inspect("/_fake/requests");
    assert_eq!(status, 200);
    assert_eq!(body, "[]");
}
