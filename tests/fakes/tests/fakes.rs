//! The fakes reject what the real services reject (vendors.md §1.9, GitHub REST docs), faults
//! fire as scripted, and the inspection API shows what was received.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{multipart, Client, Response};
use serde_json::{json, Value};

const TOKEN: &str = "testnod-token";
const GH: &str = "github-token";
const GH_READ: &str = "github-readonly-token";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

struct Fake {
    child: Child,
    url: String,
    http: Client,
}

impl Fake {
    fn start() -> Fake {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fake-services"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn fake-services");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let first: Value = serde_json::from_str(&line).expect("first line is JSON");
        let url = first["url"].as_str().unwrap().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        // In the workspace reqwest is built with `rustls-no-provider` (the main crate brings ring
        // itself), so a client needs a provider even for plain HTTP.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Fake { child, url, http }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    fn faults(&self, rules: Value) {
        let r = self
            .http
            .post(self.url("/_fake/faults"))
            .json(&rules)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    }

    fn requests(&self, service: &str) -> Vec<Value> {
        let r = self
            .http
            .get(self.url(&format!("/_fake/requests?service={service}")))
            .send()
            .unwrap();
        r.json::<Vec<Value>>().unwrap()
    }

    fn state(&self, service: &str) -> Value {
        self.http
            .get(self.url(&format!("/_fake/state/{service}")))
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    fn testnod(&self, path: &str) -> reqwest::blocking::RequestBuilder {
        self.http
            .post(self.url(&format!("/testnod/integrations/test_runs/{path}")))
            .header("Project-Token", TOKEN)
    }

    /// Upload → the 201 JSON.
    fn upload(&self, build_id: &str) -> Value {
        let r = self
            .testnod("upload")
            .json(&json!({"test_run":{"metadata":{"build_id":build_id}}}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json().unwrap()
    }

    fn put_file(&self, presigned: &str, xml: &str) -> Response {
        self.http
            .put(presigned)
            .header("Content-Type", "application/xml")
            .body(xml.to_owned())
            .send()
            .unwrap()
    }

    fn github(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::blocking::RequestBuilder {
        self.http
            .request(method, self.url(&format!("/github/repos/o/r/{path}")))
            .bearer_auth(token)
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn error_message(r: Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().unwrap();
    (
        status,
        body["error_message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

// ---------------------------------------------------------------- framework

#[test]
fn exits_when_stdin_closes() {
    let mut fake = Fake::start();
    drop(fake.child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(5);
    while fake.child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "still running after stdin closed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn journal_records_requests_in_order_with_headers_and_body() {
    let fake = Fake::start();
    fake.testnod("upload")
        .header("X-Trace", "one")
        .body("{\"a\":1}")
        .send()
        .unwrap();
    fake.http
        .get(fake.url("/github/repos/o/r/commits/abc/pulls"))
        .send()
        .unwrap();
    fake.http
        .put(fake.url("/storage/k"))
        .body(vec![0xff, 0x00])
        .send()
        .unwrap();

    let all = fake.requests("testnod");
    assert_eq!(all.len(), 1);
    let first = &all[0];
    assert_eq!(first["method"], "POST");
    assert_eq!(first["path"], "/testnod/integrations/test_runs/upload");
    assert_eq!(first["body_utf8"], "{\"a\":1}");
    assert_eq!(
        first["status"], 422,
        "no JSON content type: Rails sees no build id"
    );
    let headers = first["headers"].as_array().unwrap();
    assert!(headers.contains(&json!(["x-trace", "one"])));
    assert!(headers.contains(&json!(["project-token", TOKEN])));

    let storage = fake.requests("storage");
    assert_eq!(storage[0]["body_base64"], "/wA=");
    assert_eq!(
        storage[0]["body_utf8"],
        Value::Null,
        "binary body has no text form"
    );
    let seqs: Vec<u64> = ["testnod", "github", "storage"]
        .iter()
        .map(|s| fake.requests(s)[0]["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3]);

    fake.http.post(fake.url("/_fake/reset")).send().unwrap();
    assert!(fake.requests("testnod").is_empty());
}

#[test]
fn status_fault_fires_times_then_the_service_answers() {
    let fake = Fake::start();
    fake.faults(
        json!([{"service":"testnod","method":"POST","path_regex":"/upload$","times":2,
        "fault":{"status":503,"retry_after":"2"}}]),
    );
    for _ in 0..2 {
        let r = fake
            .testnod("upload")
            .json(&json!({"test_run":{"metadata":{"build_id":"b"}}}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "2");
    }
    assert_eq!(
        fake.upload("b")["upload_id"],
        1,
        "the faulted attempts changed no state"
    );
    let journal = fake.requests("testnod");
    assert_eq!(journal.len(), 3);
    assert_eq!(journal[0]["fault"]["status"], 503);
    assert_eq!(journal[2]["fault"], Value::Null);
}

#[test]
fn faults_match_only_their_service_method_and_path() {
    let fake = Fake::start();
    fake.faults(json!([{"service":"testnod","method":"GET","fault":{"status":500}},
        {"service":"testnod","path_regex":"finalize","fault":{"status":502,"body":"<html>bad gateway</html>"}}]));
    assert_eq!(fake.upload("b")["upload_id"], 1);
    let r = fake
        .testnod("finalize")
        .json(&json!({"build_id":"b"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(r.text().unwrap(), "<html>bad gateway</html>");
    let left: Vec<Value> = fake
        .http
        .get(fake.url("/_fake/faults"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(left.len(), 1, "the GET rule is still waiting");
}

#[test]
fn invalid_fault_rules_are_refused() {
    let fake = Fake::start();
    for bad in [
        json!([{"service":"nope","fault":{"status":500}}]),
        json!([{"service":"testnod","fault":{"bogus":1}}]),
        json!([{"service":"testnod","path_regex":"(","fault":{"status":500}}]),
        json!([{"service":"testnod","fault":{"status":1000}}]),
    ] {
        let r = fake
            .http
            .post(fake.url("/_fake/faults"))
            .json(&bad)
            .send()
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
}

#[test]
fn reset_faults_close_the_connection_before_and_after_the_body() {
    let fake = Fake::start();
    fake.faults(
        json!([{"service":"testnod","fault":{"reset":"before_body"}},
        {"service":"testnod","fault":{"reset":"after_body"}}]),
    );
    for _ in 0..2 {
        let r = fake
            .testnod("upload")
            .json(&json!({"test_run":{"metadata":{"build_id":"b"}}}))
            .send();
        assert!(r.is_err(), "expected a connection error, got {r:?}");
    }
    let journal = fake.requests("testnod");
    assert_eq!(journal[0]["body_len"], 0, "before_body: nothing read");
    assert!(
        journal[1]["body_len"].as_u64().unwrap() > 0,
        "after_body: body read"
    );
    assert!(fake.state("testnod")["runs"].as_array().unwrap().is_empty());
}

#[test]
fn stall_exceeds_a_client_timeout_but_the_request_is_processed() {
    let fake = Fake::start();
    fake.faults(json!([{"service":"testnod","fault":{"stall_ms":1500}}]));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let quick = Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let r = quick
        .post(fake.url("/testnod/integrations/test_runs/upload"))
        .header("Project-Token", TOKEN)
        .json(&json!({"test_run":{"metadata":{"build_id":"b"}}}))
        .send();
    assert!(r.unwrap_err().is_timeout());
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        fake.state("testnod")["runs"][0]["uploads"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn the_journal_says_when_each_answer_left() {
    let fake = Fake::start();
    fake.faults(json!([{"service":"testnod","fault":{"stall_ms":300}}]));
    fake.upload("stalled");
    fake.upload("prompt");
    let journal = fake.requests("testnod");
    let held = |r: &Value| r["answered_ms"].as_u64().unwrap() - r["received_ms"].as_u64().unwrap();
    assert!(held(&journal[0]) >= 300, "{}", journal[0]);
    assert!(held(&journal[1]) < 300, "{}", journal[1]);
    assert!(journal[1]["received_ms"].as_u64() >= journal[0]["answered_ms"].as_u64());
}

#[test]
fn body_faults_damage_only_the_answer() {
    let fake = Fake::start();
    fake.faults(
        json!([{"service":"testnod","fault":{"truncated_body":true}},
        {"service":"testnod","fault":{"non_json_body":true}},
        {"service":"testnod","fault":{"slow_body_ms_per_kb":200}}]),
    );
    let send = || {
        fake.testnod("upload")
            .json(&json!({"test_run":{"metadata":{"build_id":"b"}}}))
            .send()
            .unwrap()
    };
    assert!(send().text().is_err(), "truncated body must fail to read");
    let r = send();
    assert_eq!(r.status(), 201);
    assert!(
        r.json::<Value>().is_err(),
        "non-JSON body must fail to parse"
    );
    let started = Instant::now();
    let slow = send().json::<Value>().unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        slow["upload_id"], 3,
        "all three uploads reached the service"
    );
}

#[test]
fn trickle_body_sends_headers_at_once_then_the_body_byte_by_byte_past_a_deadline() {
    use std::io::Read;

    let fake = Fake::start();
    fake.faults(json!([{"service":"testnod","fault":{"trickle_body_ms":800}}]));
    let started = Instant::now();
    let mut answer = fake
        .testnod("upload")
        .json(&json!({"test_run":{"metadata":{"build_id":"b"}}}))
        .send()
        .unwrap();
    let headers_after = started.elapsed();
    assert_eq!(answer.status(), 201);
    assert!(
        headers_after < Duration::from_millis(400),
        "{headers_after:?}"
    );
    let (mut body, mut reads, mut buf) = (Vec::new(), 0, [0u8; 4096]);
    loop {
        let n = answer.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        reads += 1;
        body.extend_from_slice(&buf[..n]);
    }
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
    assert!(reads > 10, "the body came in pieces: {reads} reads");
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["upload_id"], 1, "whole, and the service handled it");
    assert_eq!(
        fake.state("testnod")["runs"][0]["uploads"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

// ---------------------------------------------------------------- TestNod (vendors.md §1.9)

#[test]
fn testnod_bad_or_missing_token_is_404_project_not_found_everywhere() {
    let fake = Fake::start();
    for path in ["upload", "finalize", "upload_failed"] {
        let url = fake.url(&format!("/testnod/integrations/test_runs/{path}"));
        for token in [Some("wrong"), None] {
            let mut req = fake.http.post(&url).json(&json!({"build_id":"b"}));
            if let Some(t) = token {
                req = req.header("Project-Token", t);
            }
            assert_eq!(
                error_message(req.send().unwrap()),
                (404, "Project not found.".to_owned()),
                "{path}"
            );
        }
    }
}

#[test]
fn testnod_upload_accepts_json_multipart_and_urlencoded() {
    let fake = Fake::start();
    let json_run = fake.upload("b1");
    let form = multipart::Form::new()
        .text("test_run[metadata][build_id]", "b1")
        .text("test_run[metadata][branch]", "main")
        .text("tags[][value]", "smoke")
        .text("tags[][value]", "api");
    let r = fake.testnod("upload").multipart(form).send().unwrap();
    assert_eq!(r.status(), 201);
    let multipart_run: Value = r.json().unwrap();
    let r = fake
        .testnod("upload")
        .form(&[
            ("test_run[metadata][build_id]", "b2"),
            ("tags[][value]", "x"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let form_run: Value = r.json().unwrap();

    for key in [
        "id",
        "project",
        "project_id",
        "test_run_id",
        "upload_id",
        "test_run_url",
        "presigned_url",
    ] {
        assert!(!json_run[key].is_null(), "{key} missing");
    }
    assert_eq!(
        multipart_run["test_run_id"], json_run["test_run_id"],
        "same build id joins the pending run"
    );
    assert_eq!(multipart_run["upload_id"], 2);
    assert_ne!(form_run["test_run_id"], json_run["test_run_id"]);
    let runs = fake.state("testnod")["runs"].clone();
    assert_eq!(runs[0]["tags"], json!(["Default"]), "no tags → Default");
    assert_eq!(runs[1]["tags"], json!(["x"]));
    assert!(json_run["presigned_url"]
        .as_str()
        .unwrap()
        .starts_with(&fake.url("/storage/")));
}

#[test]
fn testnod_upload_422_bodies_are_exactly_as_documented() {
    let fake = Fake::start();
    let cases = [
        (
            fake.testnod("upload")
                .json(&json!({"test_run":{"metadata":{"branch":"main"}}})),
            "metadata.build_id is required.",
        ),
        (
            fake.testnod("upload")
                .json(&json!({"test_run":{"metadata":{"build_id":""}}})),
            "metadata.build_id is required.",
        ),
        (
            fake.testnod("upload").form(&[("branch", "main")]),
            "metadata.build_id is required.",
        ),
        (
            fake.testnod("upload")
                .form(&[("test_run[metadata][build_id]", "b"), ("tags", "smoke")]),
            "There was a problem creating this test run.",
        ),
        (
            fake.testnod("upload")
                .json(&json!({"test_run":{"metadata":{"build_id":"b","branch":{"x":1}}}})),
            "There was a problem creating this test run.",
        ),
        (
            fake.testnod("upload")
                .header("Content-Type", "application/json")
                .body("{not json"),
            "There was a problem creating this test run.",
        ),
    ];
    for (req, expected) in cases {
        let r = req.send().unwrap();
        let raw = r.text().unwrap();
        assert_eq!(raw, json!({ "error_message": expected }).to_string());
    }
    assert!(fake.state("testnod")["runs"].as_array().unwrap().is_empty());
}

#[test]
fn testnod_storage_is_as_strict_as_s3() {
    let fake = Fake::start();
    let url = fake.upload("b")["presigned_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let xml = "<testsuite name=\"s\"/>";
    let put = || {
        fake.http
            .put(&url)
            .header("Content-Type", "application/xml")
    };

    let meta = put()
        .header("x-amz-meta-project_id", "p")
        .body(xml)
        .send()
        .unwrap();
    assert_eq!(meta.status(), 403);
    assert!(meta.text().unwrap().contains("SignatureDoesNotMatch"));
    let token = put()
        .header("Project-Token", TOKEN)
        .body(xml)
        .send()
        .unwrap();
    assert_eq!(
        token.status(),
        403,
        "the token must never reach the storage host"
    );
    let stream = futures_body(xml);
    let chunked = put().body(stream).send().unwrap();
    assert_eq!(chunked.status(), 501, "chunked bodies are refused");
    let wrong_type = fake
        .http
        .put(&url)
        .header("Content-Type", "text/xml")
        .body(xml)
        .send()
        .unwrap();
    assert_eq!(wrong_type.status(), 403);
    let tampered = fake
        .http
        .put(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"))
        .header("Content-Type", "application/xml")
        .body(xml)
        .send()
        .unwrap();
    assert_eq!(tampered.status(), 403);
    assert_eq!(
        fake.state("testnod")["runs"][0]["uploads"][0]["state"],
        "awaiting_file"
    );

    assert_eq!(fake.put_file(&url, xml).status(), 200);
    let upload = &fake.state("testnod")["runs"][0]["uploads"][0];
    assert_eq!(upload["state"], "uploaded");
    assert_eq!(upload["file_utf8"], xml);
}

/// A body without a known length: reqwest sends it with `Transfer-Encoding: chunked`.
fn futures_body(text: &str) -> reqwest::blocking::Body {
    reqwest::blocking::Body::new(std::io::Cursor::new(text.as_bytes().to_vec()))
}

#[test]
fn testnod_expired_presigned_url_is_403_like_s3() {
    let fake = Fake::start();
    let r = fake
        .http
        .post(fake.url("/_fake/config"))
        .json(&json!({"testnod":{"presigned_url_ttl_secs":0}}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let url = fake.upload("b")["presigned_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = fake.put_file(&url, "<testsuites/>");
    assert_eq!(r.status(), 403);
    assert!(r.text().unwrap().contains("Request has expired"));
}

#[test]
fn testnod_configured_tokens_replace_the_default() {
    let fake = Fake::start();
    fake.http
        .post(fake.url("/_fake/config"))
        .json(&json!({"testnod":{"tokens":{"other":"p-2"}}}))
        .send()
        .unwrap();
    let r = fake
        .testnod("upload")
        .json(&json!({"test_run":{"metadata":{"build_id":"b"}}}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = fake
        .http
        .post(fake.url("/testnod/integrations/test_runs/upload"))
        .header("Project-Token", "other")
        .json(&json!({"test_run":{"metadata":{"build_id":"b"}}}))
        .send()
        .unwrap();
    assert_eq!(r.json::<Value>().unwrap()["project"], "p-2");
}

#[test]
fn testnod_finalize_rules_and_run_lifecycle() {
    let fake = Fake::start();
    let finalize = |body: Value| fake.testnod("finalize").json(&body).send().unwrap();
    assert_eq!(
        error_message(finalize(json!({}))),
        (422, "build_id is required.".to_owned())
    );
    assert_eq!(
        error_message(finalize(json!({"test_run":{"metadata":{"build_id":"b"}}}))),
        (422, "build_id is required.".to_owned()),
        "build_id belongs at the top level"
    );
    assert_eq!(finalize(json!({"build_id":"nope"})).status(), 404);

    let first = fake.upload("b");
    let second = fake.upload("b");
    assert_eq!(
        finalize(json!({"build_id":"b"})).status(),
        422,
        "no upload received a file yet"
    );
    fake.put_file(first["presigned_url"].as_str().unwrap(), "<testsuite/>");

    let r = finalize(json!({"build_id":"b"}));
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().unwrap()["status"],
        "pending",
        "the second upload is not terminal"
    );
    let failed = fake
        .testnod("upload_failed")
        .json(&json!({"test_run_id": second["test_run_id"], "upload_id": second["upload_id"], "failure_message": "PUT 403"}))
        .send()
        .unwrap();
    assert_eq!(failed.status(), 200);
    // Form-encoded finalize works as the docs show it; calling it again is harmless.
    let r = fake
        .testnod("finalize")
        .form(&[("build_id", "b")])
        .send()
        .unwrap();
    assert_eq!(r.json::<Value>().unwrap()["status"], "processing");
    let advanced: Value = fake
        .http
        .post(fake.url("/_fake/advance"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(advanced["testnod_runs_advanced"], 1);
    let run = &fake.state("testnod")["runs"][0];
    assert_eq!(run["status"], "processed");
    assert_eq!(run["finalize_calls"], 2);
    assert_eq!(run["uploads"][1]["failure_message"], "PUT 403");

    let after = fake.upload("b");
    assert_ne!(
        after["test_run_id"], first["test_run_id"],
        "after finalize the build id opens a new run"
    );
}

#[test]
fn testnod_upload_failed_for_unknown_upload_is_404() {
    let fake = Fake::start();
    let r = fake
        .testnod("upload_failed")
        .json(&json!({"test_run_id":1,"upload_id":1,"failure_message":"x"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
}

// ---------------------------------------------------------------- GitHub REST

fn check_run(extra: Value) -> Value {
    let mut body = json!({"name":"tests","head_sha":SHA});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

fn annotation(line: u64) -> Value {
    json!({"path":"src/a.rs","start_line":line,"end_line":line,"annotation_level":"failure","message":"boom"})
}

#[test]
fn github_auth_401_without_token_403_for_read_only_writes() {
    let fake = Fake::start();
    let r = fake
        .http
        .post(fake.url("/github/repos/o/r/check-runs"))
        .json(&check_run(json!({})))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = fake
        .github(reqwest::Method::POST, "check-runs", GH_READ)
        .json(&check_run(json!({})))
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().unwrap()["message"],
        "Resource not accessible by integration"
    );
    let r = fake
        .github(reqwest::Method::POST, "issues/1/comments", GH_READ)
        .json(&json!({"body":"x"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = fake
        .github(reqwest::Method::GET, "issues/1/comments", GH_READ)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "reading is allowed");
    assert!(fake.state("github")["check_runs"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn github_check_run_bodies_are_validated() {
    let fake = Fake::start();
    let long = "x".repeat(65_536);
    let too_many: Vec<Value> = (1..=51).map(annotation).collect();
    let bad = [
        json!({"head_sha":SHA}),
        json!({"name":"t"}),
        check_run(json!({"head_sha":"main"})),
        check_run(json!({"status":"done"})),
        check_run(json!({"conclusion":"passed"})),
        check_run(json!({"status":"completed"})),
        check_run(json!({"output":{"title":"t"}})),
        check_run(json!({"output":{"title":"t","summary":long}})),
        check_run(json!({"output":{"title":"t","summary":"s","text":long}})),
        check_run(json!({"output":{"title":"t","summary":"s","annotations":too_many}})),
        check_run(
            json!({"output":{"title":"t","summary":"s","annotations":[{"path":"a","start_line":1,"end_line":1,"annotation_level":"error","message":"m"}]}}),
        ),
        check_run(
            json!({"output":{"title":"t","summary":"s","annotations":[{"path":"a","start_line":1,"end_line":2,"start_column":1,"annotation_level":"notice","message":"m"}]}}),
        ),
        check_run(
            json!({"output":{"title":"t","summary":"s","annotations":[{"start_line":1,"end_line":1,"annotation_level":"notice","message":"m"}]}}),
        ),
        check_run(
            json!({"output":{"title":"t","summary":"s","annotations":[{"path":"a","start_line":1,"end_line":1,"annotation_level":"notice","message":"m","title":"t".repeat(256)}]}}),
        ),
        check_run(json!({"status":"waiting"})),
        check_run(json!({"completed_at":"yesterday","conclusion":"success"})),
        check_run(json!({"name":7})),
        check_run(
            json!({"actions":[{"label":"a","identifier":"a","description":"d"},{"label":"b","identifier":"b","description":"d"},{"label":"c","identifier":"c","description":"d"},{"label":"d","identifier":"d","description":"d"}]}),
        ),
    ];
    for body in bad {
        let r = fake
            .github(reqwest::Method::POST, "check-runs", GH)
            .json(&body)
            .send()
            .unwrap();
        assert_eq!(
            r.status(),
            422,
            "{}",
            serde_json::to_string(&body)
                .unwrap()
                .chars()
                .take(200)
                .collect::<String>()
        );
    }
    let r = fake
        .github(reqwest::Method::POST, "check-runs", GH)
        .body("nope")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(fake.state("github")["check_runs"]
        .as_array()
        .unwrap()
        .is_empty());

    let exact = "y".repeat(65_535);
    let fifty: Vec<Value> = (1..=50).map(annotation).collect();
    let ok = check_run(
        json!({"status":"in_progress","output":{"title":"t","summary":exact,"annotations":fifty}}),
    );
    let r = fake
        .github(reqwest::Method::POST, "check-runs", GH)
        .json(&ok)
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "the limits themselves are allowed");
}

#[test]
fn github_check_run_updates_append_annotations_in_batches() {
    let fake = Fake::start();
    let r = fake
        .github(reqwest::Method::POST, "check-runs", GH)
        .json(&check_run(json!({"status":"in_progress"})))
        .send()
        .unwrap();
    let id = r.json::<Value>().unwrap()["id"].as_u64().unwrap();
    for batch in [50, 20] {
        let output = json!({"title":"t","summary":"s","annotations":(0..batch).map(annotation).collect::<Vec<_>>()});
        let r = fake
            .github(reqwest::Method::PATCH, &format!("check-runs/{id}"), GH)
            .json(&json!({"output":output}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = fake
        .github(reqwest::Method::PATCH, &format!("check-runs/{id}"), GH)
        .json(&json!({"conclusion":"failure"}))
        .send()
        .unwrap();
    let run: Value = r.json().unwrap();
    assert_eq!(run["status"], "completed");
    assert_eq!(run["output"]["annotations_count"], 70);
    let stored = &fake.state("github")["check_runs"][0];
    assert_eq!(stored["annotation_batches"], json!([0, 50, 20]));
    let page2 = fake
        .github(
            reqwest::Method::GET,
            &format!("check-runs/{id}/annotations?per_page=50&page=2"),
            GH,
        )
        .send()
        .unwrap();
    assert_eq!(page2.json::<Vec<Value>>().unwrap().len(), 20);
    let missing = fake
        .github(reqwest::Method::PATCH, "check-runs/999999", GH)
        .json(&json!({}))
        .send()
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[test]
fn github_comments_create_list_update_and_pulls_for_a_commit() {
    let fake = Fake::start();
    let mut ids = Vec::new();
    for i in 0..35 {
        let r = fake
            .github(reqwest::Method::POST, "issues/7/comments", GH)
            .json(&json!({"body":format!("c{i}")}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 201);
        ids.push(r.json::<Value>().unwrap()["id"].as_u64().unwrap());
    }
    let page1 = fake
        .github(reqwest::Method::GET, "issues/7/comments", GH)
        .send()
        .unwrap();
    assert!(page1.headers()["link"]
        .to_str()
        .unwrap()
        .contains("rel=\"next\""));
    assert_eq!(page1.json::<Vec<Value>>().unwrap().len(), 30);
    let r = fake
        .github(
            reqwest::Method::PATCH,
            &format!("issues/comments/{}", ids[3]),
            GH,
        )
        .json(&json!({"body":"edited"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let too_long = fake
        .github(reqwest::Method::POST, "issues/7/comments", GH)
        .json(&json!({"body":"z".repeat(65_537)}))
        .send()
        .unwrap();
    assert_eq!(too_long.status(), 422);
    let comments = fake.state("github")["comments"].clone();
    assert_eq!(comments.as_array().unwrap().len(), 35);
    assert_eq!(comments[3]["body"], "edited");

    fake.http
        .post(fake.url("/_fake/config"))
        .json(&json!({"github":{"pulls":{SHA:[{"number":7,"state":"open"}]}}}))
        .send()
        .unwrap();
    let pulls: Vec<Value> = fake
        .github(reqwest::Method::GET, &format!("commits/{SHA}/pulls"), GH)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(pulls[0]["number"], 7);
    let none: Vec<Value> = fake
        .github(reqwest::Method::GET, "commits/abc/pulls", GH)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(none.is_empty());
}

#[test]
fn github_pull_files_paginate_and_stop_at_3000() {
    let fake = Fake::start();
    let files: Vec<String> = (0..3_050).map(|i| format!("src/f{i}.rs")).collect();
    fake.http
        .post(fake.url("/_fake/config"))
        .json(&json!({"github":{"pull_files":{"7": files}}}))
        .send()
        .unwrap();
    let mut next = Some(fake.url("/github/repos/o/r/pulls/7/files?per_page=100"));
    let mut seen = Vec::new();
    while let Some(url) = next.take() {
        let r = fake.http.get(&url).bearer_auth(GH_READ).send().unwrap();
        assert_eq!(r.status(), 200);
        next = r.headers().get("link").and_then(|l| {
            let l = l.to_str().unwrap();
            l.split(", ")
                .find(|p| p.ends_with("rel=\"next\""))
                .map(|p| p[1..p.find('>').unwrap()].to_owned())
        });
        let page: Vec<Value> = r.json().unwrap();
        seen.extend(
            page.into_iter()
                .map(|f| f["filename"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(seen.len(), 3_000);
    assert_eq!(seen[2_999], "src/f2999.rs");
    let unknown = fake
        .github(reqwest::Method::GET, "pulls/8/files", GH)
        .send()
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[test]
fn github_app_jwts_need_rs256_a_known_app_and_a_short_life() {
    let fake = Fake::start();
    fake.http
        .post(fake.url("/_fake/config"))
        .json(&json!({"github":{"apps":{"12345": 99}}}))
        .send()
        .unwrap();
    let b64 = |v: Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let jwt = |alg: &str, iss: &str, life: u64| {
        format!(
            "{}.{}.c2ln",
            b64(json!({"alg": alg, "typ": "JWT"})),
            b64(json!({"iat": 1000, "exp": 1000 + life, "iss": iss}))
        )
    };
    let installation = |token: &str| {
        fake.github(reqwest::Method::GET, "installation", token)
            .send()
            .unwrap()
    };
    let ok = installation(&jwt("RS256", "12345", 540));
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().unwrap()["id"], 99);
    assert_eq!(installation(&jwt("HS256", "12345", 540)).status(), 401);
    assert_eq!(installation(&jwt("RS256", "54321", 540)).status(), 401);
    assert_eq!(installation(&jwt("RS256", "12345", 3600)).status(), 401);
    let minted: Value = fake
        .http
        .post(fake.url("/github/app/installations/99/access_tokens"))
        .bearer_auth(jwt("RS256", "12345", 540))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = minted["token"].as_str().unwrap();
    let write = fake
        .github(reqwest::Method::POST, "issues/1/comments", token)
        .json(&json!({"body":"from the app"}))
        .send()
        .unwrap();
    assert_eq!(write.status(), 201, "the installation token may write");
}

// ---------------------------------------------------------------- Testomat.io (vendors.md §2.9)

const KEY: &str = "tstmt_fake-key";

impl Fake {
    fn testomatio(&self, method: reqwest::Method, path: &str) -> reqwest::blocking::RequestBuilder {
        self.http
            .request(method, self.url(&format!("/testomatio/api/reporter{path}")))
    }

    /// Creates a run with the key in the body → its uid.
    fn testomatio_run(&self) -> String {
        let r = self
            .testomatio(reqwest::Method::POST, "")
            .json(&json!({"api_key":KEY,"title":"CI"}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().unwrap()["uid"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

#[test]
fn testomatio_api_key_in_query_or_body_else_403() {
    let fake = Fake::start();
    let uid = fake.testomatio_run();
    assert_eq!(uid.len(), 8);
    assert!(uid.bytes().all(|b| b.is_ascii_hexdigit()));
    let r = fake
        .testomatio(
            reqwest::Method::POST,
            &format!("/{uid}/testrun?api_key={KEY}"),
        )
        .json(&json!({"title":"t","status":"passed","create":true}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "key in the query");
    for body in [json!({"title":"x"}), json!({"api_key":"tstmt_wrong"})] {
        let r = fake
            .testomatio(reqwest::Method::POST, "")
            .json(&body)
            .send()
            .unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(
            r.json::<Value>().unwrap(),
            json!({"message":"Project API Token is invalid"})
        );
    }
    let state = fake.state("testomatio");
    assert_eq!(state["runs"].as_array().unwrap().len(), 1);
    assert_eq!(
        state["runs"][0]["params"],
        json!({"title":"CI"}),
        "api_key is not stored"
    );
}

#[test]
fn testomatio_batches_record_batch_index_and_duplicates() {
    let fake = Fake::start();
    let uid = fake.testomatio_run();
    let batch = |index: u64| {
        let tests = json!([{"title":"a","status":"passed","create":true,"run_time":12.5},{"title":"b","status":"failed","create":true}]);
        fake.testomatio(reqwest::Method::POST, &format!("/{uid}/testrun"))
            .json(&json!({"api_key":KEY,"tests":tests,"batch_index":index}))
            .send()
            .unwrap()
    };
    for index in [1, 2, 2] {
        let r = batch(index);
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().unwrap()["message"], "Test run added");
    }
    let run = &fake.state("testomatio")["runs"][0];
    assert_eq!(run["batch_indexes"], json!([1, 2, 2]));
    assert_eq!(
        run["duplicate_batch_indexes"],
        json!([2]),
        "a re-sent batch is observable"
    );
    assert_eq!(
        run["executions"][0]["run_time"], 12.5,
        "run_time stored verbatim"
    );
    assert_eq!(
        run["executions"].as_array().unwrap().len(),
        6,
        "no rid, no overwrite: duplicates kept"
    );
    let r = fake
        .testomatio(reqwest::Method::POST, "/ffffffff/testrun")
        .json(&json!({"api_key":KEY,"title":"a"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[test]
fn testomatio_matching_rid_and_overwrite() {
    let fake = Fake::start();
    fake.http
        .post(fake.url("/_fake/config"))
        .json(&json!({"testomatio":{"tests":[{"id":"Ta0b0c0d0","title":"known"}]}}))
        .send()
        .unwrap();
    let uid = fake.testomatio_run();
    let send = |test: Value| {
        let mut test = test;
        test["api_key"] = json!(KEY);
        let r = fake
            .testomatio(reqwest::Method::POST, &format!("/{uid}/testrun"))
            .json(&test)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    };
    send(json!({"test_id":"@Ta0b0c0d0","status":"passed","rid":"linux"}));
    send(json!({"test_id":"a0b0c0d0","status":"failed","rid":"mac"}));
    send(json!({"test_id":"a0b0c0d0","status":"passed","rid":"mac","overwrite":true}));
    send(json!({"title":"new","status":"passed"}));
    send(json!({"title":"new2","status":"passed","create":true}));
    let run = &fake.state("testomatio")["runs"][0];
    let executions = run["executions"].as_array().unwrap();
    let summary: Vec<(String, String, String)> = executions
        .iter()
        .map(|e| {
            (
                e["matched"].as_str().unwrap().into(),
                e["rid"].as_str().unwrap_or("-").into(),
                e["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("matched".into(), "linux".into(), "passed".into()),
            ("matched".into(), "mac".into(), "passed".into()),
            ("unmatched".into(), "-".into(), "passed".into()),
            ("created".into(), "-".into(), "passed".into()),
        ]
    );

    fake.http
        .post(fake.url("/_fake/config"))
        .json(&json!({"testomatio":{"unmatched_answer":"error"}}))
        .send()
        .unwrap();
    let r = fake
        .testomatio(reqwest::Method::POST, &format!("/{uid}/testrun"))
        .json(&json!({"api_key":KEY,"title":"ghost","status":"passed"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.json::<Value>().unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("could not be matched"));
}

#[test]
fn testomatio_update_and_finish_including_parallel_events() {
    let fake = Fake::start();
    let uid = fake.testomatio_run();
    let put = |body: Value| {
        fake.testomatio(reqwest::Method::PUT, &format!("/{uid}"))
            .json(&body)
            .send()
            .unwrap()
    };
    let r = put(json!({"api_key":KEY,"env":"linux"}));
    assert_eq!(r.json::<Value>().unwrap()["uid"], uid.as_str());
    assert_eq!(
        put(json!({"api_key":KEY,"status_event":"done"})).status(),
        422
    );
    assert_eq!(
        put(json!({"api_key":KEY,"status_event":"finish_parallel","duration":3.5})).status(),
        200
    );
    assert_eq!(
        fake.state("testomatio")["runs"][0]["status"],
        "running",
        "a parallel part does not close the run"
    );
    let tests = json!([{"title":"x","status":"passed","create":true}]);
    assert_eq!(
        put(json!({"api_key":KEY,"status_event":"finish","duration":25.5,"tests":tests})).status(),
        200
    );
    let run = &fake.state("testomatio")["runs"][0];
    assert_eq!(run["status"], "finished");
    assert_eq!(run["params"]["env"], "linux");
    assert_eq!(run["status_events"][1]["duration"], 25.5);
    assert_eq!(run["executions"][0]["matched"], "created");
    assert_eq!(put(json!({"status_event":"finish"})).status(), 403);
}

#[test]
fn testomatio_shared_runs_fold_by_title_until_finished() {
    let fake = Fake::start();
    let create = |title: &str| {
        let r = fake
            .testomatio(reqwest::Method::POST, "")
            .json(&json!({"api_key":KEY,"title":title,"shared_run":true}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().unwrap()["uid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let first = create("CI 7");
    assert_eq!(create("CI 7"), first, "same title: the same shared run");
    assert_ne!(create("CI 8"), first, "another title: another run");
    assert_ne!(fake.testomatio_run(), first, "not shared: a new run");
    let r = fake
        .testomatio(reqwest::Method::PUT, &format!("/{first}"))
        .json(&json!({"api_key":KEY,"status_event":"finish"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_ne!(create("CI 7"), first, "a finished shared run is not reused");
    assert_eq!(
        fake.state("testomatio")["runs"].as_array().unwrap().len(),
        4
    );
}

// ---------------------------------------------------------------- AIO Tests (vendors.md §4.9)

const AIO_CLOUD: &str = "/aio/aio-tcms/api/v1/project/PROJ/testcycle";
const AIO_DC: &str = "/aio/rest/aio-tcms-api/1.0/project/PROJ/testcycle";
const JUNIT: &str = r#"<testsuite name="s">
  <testcase classname="com.acme.LoginTest" name="logsIn" time="1.5"/>
  <testcase classname="com.acme.LoginTest" name="PROJ-TC-1 : rejects bad password"><failure message="x"/></testcase>
  <testcase classname="com.acme.LoginTest" name="locks_PROJ_TC_2"><skipped/></testcase>
</testsuite>"#;

impl Fake {
    fn aio_import(
        &self,
        path: &str,
        auth: &str,
        kind: &str,
        fields: &[(&str, &str)],
        file: Option<&str>,
    ) -> Response {
        let mut form = multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        if let Some(file) = file {
            form = form.part(
                "file",
                multipart::Part::text(file.to_owned()).file_name("results.xml"),
            );
        }
        self.http
            .post(self.url(&format!("{path}/PROJ-CY-1/import/results?type={kind}")))
            .header("Authorization", auth)
            .multipart(form)
            .send()
            .unwrap()
    }

    fn aio_cases(&self, cases: Value) {
        let config = json!({"aio":{"projects":{"PROJ":{"cases":cases,"cycles":[{"key":"PROJ-CY-1","title":"c"}]}}}});
        let r = self
            .http
            .post(self.url("/_fake/config"))
            .json(&config)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    }
}

#[test]
fn aio_auth_cloud_aioauth_and_dc_basic_or_bearer() {
    let fake = Fake::start();
    let xml = Some("<testsuite/>");
    for auth in ["aio-token", "AioAuth wrong", "Bearer aio-token", ""] {
        assert_eq!(
            fake.aio_import(AIO_CLOUD, auth, "junit", &[], xml).status(),
            401,
            "cloud {auth:?}"
        );
    }
    assert_eq!(
        fake.aio_import(AIO_CLOUD, "AioAuth aio-token", "JUnit", &[], xml)
            .status(),
        200,
        "type in any case"
    );
    use base64::Engine;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("jira-user:jira-password")
    );
    let wrong = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("jira-user:nope")
    );
    assert_eq!(
        fake.aio_import(AIO_DC, &basic, "junit", &[], xml).status(),
        200
    );
    assert_eq!(
        fake.aio_import(AIO_DC, "Bearer jira-pat", "junit", &[], xml)
            .status(),
        200
    );
    assert_eq!(
        fake.aio_import(AIO_DC, &wrong, "junit", &[], xml).status(),
        401
    );
    assert_eq!(
        fake.aio_import(AIO_DC, "AioAuth aio-token", "junit", &[], xml)
            .status(),
        401
    );
}

#[test]
fn aio_rejects_missing_file_unknown_type_project_and_cycle() {
    let fake = Fake::start();
    let auth = "AioAuth aio-token";
    assert_eq!(
        fake.aio_import(AIO_CLOUD, auth, "junit", &[], None)
            .status(),
        400
    );
    assert_eq!(
        fake.aio_import(AIO_CLOUD, auth, "pytest", &[], Some(JUNIT))
            .status(),
        400
    );
    assert_eq!(
        fake.aio_import(
            "/aio/aio-tcms/api/v1/project/NOPE/testcycle",
            auth,
            "junit",
            &[],
            Some(JUNIT)
        )
        .status(),
        404
    );
    let r = fake
        .http
        .post(fake.url(&format!("{AIO_CLOUD}/PROJ-CY-9/import/results?type=junit")))
        .header("Authorization", auth)
        .multipart(multipart::Form::new().text("file", JUNIT))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = fake.aio_import(AIO_CLOUD, auth, "junit", &[], Some("<testsuite><testcase"));
    assert_eq!(
        r.status(),
        200,
        "an unparsable file is an error inside a 200"
    );
    let body: Value = r.json().unwrap();
    assert_eq!(body["errorCount"], 1);
    assert!(body["errors"]["file"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid xml: Unable to parse file."));
}

#[test]
fn aio_import_maps_cases_and_applies_the_flags() {
    let fake = Fake::start();
    let auth = "AioAuth aio-token";
    fake.aio_cases(json!([{"key":"PROJ-TC-1"},{"key":"PROJ-TC-2","status":"Draft"}]));
    let r = fake.aio_import(
        AIO_CLOUD,
        auth,
        "junit",
        &[("addCaseToCycle", "false")],
        Some(JUNIT),
    );
    let body: Value = r.json().unwrap();
    assert_eq!(body["requestCount"], 3);
    assert_eq!(body["successCount"], 0);
    assert_eq!(
        body["errors"],
        json!({
            "PROJ-TC-1": {"message": "Case does not exist in the cycle. Set addCaseToCycle if you wish to add."},
            "PROJ-TC-2": {"message": "PROJ-TC-2 is in Under Review/Draft status. Only published cases can be added to cycle."},
            "com.acme.LoginTest.logsIn": {"message": "No case found with this automation key. Either map automation key or set createCase to true."},
        })
    );

    let body: Value = fake
        .aio_import(
            AIO_CLOUD,
            auth,
            "junit",
            &[("createCase", "true")],
            Some(JUNIT),
        )
        .json()
        .unwrap();
    assert_eq!(body["successCount"], 2);
    assert_eq!(body["processedData"]["PROJ-TC-1"]["status"], "Failed");
    assert_eq!(
        body["processedData"]["PROJ-TC-3"]["status"], "Passed",
        "created from the automation key"
    );
    let again: Value = fake
        .aio_import(
            AIO_CLOUD,
            auth,
            "junit",
            &[("createNewRun", "false")],
            Some(JUNIT),
        )
        .json()
        .unwrap();
    assert_eq!(
        again["successCount"], 2,
        "the created case now matches by automation key"
    );
    fake.aio_import(
        AIO_CLOUD,
        auth,
        "junit",
        &[("createNewRun", "true")],
        Some(JUNIT),
    );
    let runs = fake.state("aio")["projects"]["PROJ"]["cycles"][0]["runs"].clone();
    assert_eq!(
        runs["PROJ-TC-1"].as_array().unwrap().len(),
        2,
        "false overwrote, true added"
    );
    assert_eq!(
        fake.aio_import(
            AIO_CLOUD,
            auth,
            "junit",
            &[("createCase", "maybe")],
            Some(JUNIT)
        )
        .status(),
        400
    );
}

#[test]
fn aio_force_update_case_updates_the_matched_case_from_the_file() {
    let fake = Fake::start();
    let auth = "AioAuth aio-token";
    fake.aio_cases(json!([{"key":"PROJ-TC-1","title":"Old title"}]));
    let title = || fake.state("aio")["projects"]["PROJ"]["cases"][0]["title"].clone();
    fake.aio_import(AIO_CLOUD, auth, "junit", &[], Some(JUNIT));
    assert_eq!(title(), "Old title", "forceUpdateCase defaults to false");
    fake.aio_import(
        AIO_CLOUD,
        auth,
        "junit",
        &[("forceUpdateCase", "true")],
        Some(JUNIT),
    );
    assert_eq!(title(), "PROJ-TC-1 : rejects bad password");
}

#[test]
fn aio_batch_answers_at_once_and_imports_on_advance() {
    let fake = Fake::start();
    let form = multipart::Form::new()
        .text("createCase", "true")
        .part("file", multipart::Part::text(JUNIT).file_name("r.xml"));
    let r = fake
        .http
        .post(fake.url(&format!(
            "{AIO_CLOUD}/PROJ-CY-1/import/results/batch?type=junit"
        )))
        .header("Authorization", "AioAuth aio-token")
        .multipart(form)
        .send()
        .unwrap();
    let body: Value = r.json().unwrap();
    assert_eq!(body["size"], JUNIT.len().to_string());
    assert_eq!(body["errorMsg"], Value::Null);
    assert!(body["batchId"].is_string());
    let status = |fake: &Fake| {
        fake.state("aio")["imports"][0]["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(status(&fake), "Queued");
    for expected in ["Processing", "Completed"] {
        fake.http.post(fake.url("/_fake/advance")).send().unwrap();
        assert_eq!(status(&fake), expected);
    }
    assert_eq!(fake.state("aio")["imports"][0]["result"]["successCount"], 1);
}

#[test]
fn aio_cycles_create_and_search_and_the_rate_limit() {
    let fake = Fake::start();
    let post = |path: &str, body: Value| {
        fake.http
            .post(fake.url(&format!("{AIO_CLOUD}/{path}")))
            .header("Authorization", "AioAuth aio-token")
            .json(&body)
            .send()
            .unwrap()
    };
    assert_eq!(
        post("detail", json!({"objective":"no title"})).status(),
        400
    );
    let created: Value = post(
        "detail",
        json!({"title":"CI run 42","objective":"Run: https://ci/42"}),
    )
    .json()
    .unwrap();
    assert_eq!(created["key"], "PROJ-CY-2");
    let stored = fake.state("aio")["projects"]["PROJ"]["cycles"][1].clone();
    assert_eq!(stored["objective"], "Run: https://ci/42", "{stored}");
    let found: Value = post(
        "search",
        json!({"title":{"value":"CI run 42","comparisonType":"EXACT_MATCH"}}),
    )
    .json()
    .unwrap();
    assert_eq!(
        found["items"],
        json!([{"key":"PROJ-CY-2","title":"CI run 42"}])
    );
    for _ in 3..60 {
        assert_eq!(post("search", json!({})).status(), 200);
    }
    assert_eq!(
        post("search", json!({})).status(),
        429,
        "the 61st request in a minute"
    );
}

// ---------------------------------------------------------------- ValueEdge / Octane (vendors.md §3.10)

const OCTANE_RESULTS: &str = "/octane/api/shared_spaces/1001/workspaces/1002/test-results";
const OCTANE_XML: &str = r#"<?xml version="1.0"?>
<test_result>
  <build server_id="gh" job_id="ci" build_id="42"/>
  <release name="_default_"/>
  <test_fields><test_field type="Framework" value="JUnit"/></test_fields>
  <test_runs>
    <test_run module="m" package="com.acme" class="LoginTest" name="logsIn" duration="1500" status="Passed" started="1700000000000"/>
    <test_run class="LoginTest" name="rejects" duration="20" status="Failed">
      <error type="AssertionError" message="expected 1">stack &amp; trace</error>
      <description>d</description>
    </test_run>
  </test_runs>
</test_result>"#;

impl Fake {
    /// Signs in → the `LWSSO_COOKIE_KEY=...` pair for a Cookie header.
    fn octane_sign_in(&self, body: Value) -> Result<String, u16> {
        let r = self
            .http
            .post(self.url("/octane/authentication/sign_in"))
            .json(&body)
            .send()
            .unwrap();
        if r.status() != 200 {
            return Err(r.status().as_u16());
        }
        let cookie = r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        assert!(cookie.starts_with("LWSSO_COOKIE_KEY="), "{cookie}");
        Ok(cookie)
    }

    fn octane_push(
        &self,
        cookie: &str,
        query: &str,
        body: Vec<u8>,
        encoding: Option<&str>,
    ) -> Response {
        let mut req = self
            .http
            .post(self.url(&format!("{OCTANE_RESULTS}{query}")))
            .header("Cookie", cookie)
            .header("Content-Type", "application/xml")
            .body(body);
        if let Some(e) = encoding {
            req = req.header("Content-Encoding", e);
        }
        req.send().unwrap()
    }

    fn octane_task(&self, cookie: &str, id: u64) -> Value {
        let r = self
            .http
            .get(self.url(&format!("{OCTANE_RESULTS}/{id}")))
            .header("Cookie", cookie)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().unwrap()
    }
}

fn octane_client() -> Value {
    json!({"client_id":"octane-client","client_secret":"octane-secret"})
}

#[test]
fn octane_sign_in_both_shapes_401_otherwise_and_session_expiry() {
    let fake = Fake::start();
    assert!(fake
        .octane_sign_in(json!({"user":"octane-client","password":"octane-secret"}))
        .is_ok());
    assert_eq!(
        fake.octane_sign_in(json!({"client_id":"octane-client","client_secret":"nope"})),
        Err(401)
    );
    assert_eq!(fake.octane_sign_in(json!({})), Err(401));
    let cookie = fake.octane_sign_in(octane_client()).unwrap();
    let no_cookie = fake.octane_push("", "", OCTANE_XML.into(), None);
    assert_eq!(no_cookie.status(), 401);
    assert_eq!(
        no_cookie.json::<Value>().unwrap()["error_code"],
        "platform.unauthorized"
    );
    assert_eq!(
        fake.octane_push(&cookie, "", OCTANE_XML.into(), None)
            .status(),
        202
    );

    fake.http
        .post(fake.url("/_fake/config"))
        .json(&json!({"octane":{"session_ttl_secs":0}}))
        .send()
        .unwrap();
    assert_eq!(
        fake.octane_push(&cookie, "", OCTANE_XML.into(), None)
            .status(),
        401,
        "the session expired"
    );
    fake.http
        .post(fake.url("/_fake/config"))
        .json(&json!({"octane":{"session_ttl_secs":3600}}))
        .send()
        .unwrap();
    let again = fake.octane_sign_in(octane_client()).unwrap();
    assert_ne!(again, cookie);
    assert_eq!(fake.state("octane")["sign_ins"], 5);
}

#[test]
fn octane_push_is_validated_against_the_xsd_rules() {
    let fake = Fake::start();
    // More payloads than the 20 requests a second the rate limit allows.
    fake.http
        .post(fake.url("/_fake/config"))
        .json(&json!({"octane":{"rate_limit_per_second":0}}))
        .send()
        .unwrap();
    let cookie = fake.octane_sign_in(octane_client()).unwrap();
    let long = "n".repeat(256);
    let bad = [
        "<test_result/>".to_owned(),
        "<results><test_runs/></results>".to_owned(),
        "<test_result><test_runs><test_run name=\"a\" duration=\"1\" status=\"passed\"/></test_runs></test_result>".to_owned(),
        "<test_result><test_runs><test_run name=\"a\" duration=\"1.5\" status=\"Passed\"/></test_runs></test_result>".to_owned(),
        "<test_result><test_runs><test_run duration=\"1\" status=\"Passed\"/></test_runs></test_result>".to_owned(),
        format!("<test_result><test_runs><test_run name=\"{long}\" duration=\"1\" status=\"Passed\"/></test_runs></test_result>"),
        "<test_result><test_runs><test_run name=\"a\" duration=\"1\" status=\"Passed\" colour=\"red\"/></test_runs></test_result>".to_owned(),
        "<test_result><test_runs><test_run name=\"a\" duration=\"1\" status=\"Passed\" external_report_url=\"ftp://x/y\"/></test_runs></test_result>".to_owned(),
        "<test_result><test_runs/><build server_id=\"s\" job_id=\"j\" build_id=\"b\"/></test_result>".to_owned(),
        "<test_result><build server_id=\"s\" job_id=\"j\"/><test_runs><test_run name=\"a\" duration=\"1\" status=\"Passed\"/></test_runs></test_result>".to_owned(),
        "<test_result><test_fields><test_field type=\"Color\" value=\"x\"/></test_fields><test_runs><test_run name=\"a\" duration=\"1\" status=\"Passed\"/></test_runs></test_result>".to_owned(),
        "<test_result><test_runs><test_run name=\"a\" duration=\"1\" status=\"Passed\"><description>d</description><error/></test_run></test_runs></test_result>".to_owned(),
        "<test_result><test_runs><test_run name=\"a\" duration=\"1\" status=\"Passed\"/><gherkin_test_run name=\"g\" duration=\"1\" status=\"Passed\"/></test_runs></test_result>".to_owned(),
        "<test_result><test_runs><test_run name=\"a\" duration=\"1\" status=\"Passed\">".to_owned(),
        "<test_result><test_runs><gherkin_test_run name=\"g\" duration=\"1\" status=\"Passed\"/></test_runs></test_result>".to_owned(),
        "<test_result><test_runs><gherkin_test_run name=\"g\" duration=\"1\" status=\"Passed\"><feature name=\"f\" tag=\"\" started=\"1\"><file/></feature></gherkin_test_run></test_runs></test_result>".to_owned(),
        "<test_result><test_runs><gherkin_test_run name=\"g\" duration=\"1\" status=\"Passed\"><feature name=\"f\" path=\"f\" tag=\"\" started=\"1\"/></gherkin_test_run></test_runs></test_result>".to_owned(),
        "<test_result><test_runs><gherkin_test_run name=\"g\" duration=\"1\" status=\"Passed\"><feature name=\"f\" path=\"f\" tag=\"\" started=\"1\"><file/><scenarios><scenario name=\"s\" status=\"passed\"><steps/></scenario></scenarios></feature></gherkin_test_run></test_runs></test_result>".to_owned(),
    ];
    for payload in bad {
        let r = fake.octane_push(&cookie, "", payload.clone().into_bytes(), None);
        assert_eq!(r.status(), 400, "{payload}");
        assert!(r.json::<Value>().unwrap()["description"]
            .as_str()
            .unwrap()
            .contains("XSD"));
    }
    let wrong_type = fake
        .http
        .post(fake.url(OCTANE_RESULTS))
        .header("Cookie", &cookie)
        .header("Content-Type", "application/json")
        .body(OCTANE_XML)
        .send()
        .unwrap();
    assert_eq!(wrong_type.status(), 415);
    assert!(fake.state("octane")["tasks"].as_array().unwrap().is_empty());
    let r = fake.octane_push(&cookie, "", OCTANE_XML.into(), None);
    assert_eq!(r.status(), 202);
    let body: Value = r.json().unwrap();
    assert_eq!(body, json!({"status":"queued","id":1103}));
    let task = &fake.state("octane")["tasks"][0];
    assert_eq!(task["runs"].as_array().unwrap().len(), 2);
    assert_eq!(task["runs"][0]["duration"], "1500");
    // The XSD's `test_runs` is a choice of `test_run*` or `gherkin_test_run*`: empty is valid.
    let empty = "<test_result><test_runs/></test_result>";
    let r = fake.octane_push(&cookie, "", empty.into(), None);
    assert_eq!(r.status(), 202);
    assert_eq!(fake.state("octane")["tasks"][1]["runs"], json!([]));
    let gherkin = "<test_result><test_runs><gherkin_test_run name=\"g\" duration=\"1\" status=\"Passed\"><feature name=\"f\" path=\"f.feature\" tag=\"\" started=\"1\"><file>Feature: f</file><scenarios><scenario name=\"s\" status=\"Passed\"><steps><step name=\"Given x\" duration=\"1\" status=\"passed\"/></steps></scenario></scenarios></feature></gherkin_test_run></test_runs></test_result>";
    let r = fake.octane_push(&cookie, "", gherkin.into(), None);
    assert_eq!(r.status(), 202);
}

#[test]
fn octane_gzip_bodies_tasks_and_duplicate_payloads() {
    use std::io::Write;
    let fake = Fake::start();
    let cookie = fake.octane_sign_in(octane_client()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(OCTANE_XML.as_bytes()).unwrap();
    let gzipped = gz.finish().unwrap();
    let first: Value = fake
        .octane_push(&cookie, "", gzipped.clone(), Some("gzip"))
        .json()
        .unwrap();
    let id = first["id"].as_u64().unwrap();
    let statuses: Vec<String> = (0..3)
        .map(|_| {
            fake.octane_task(&cookie, id)["status"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(statuses, ["running", "success", "success"]);

    let duplicate = fake.octane_push(&cookie, "", OCTANE_XML.into(), Some("application/gzip"));
    assert_eq!(
        duplicate.status(),
        400,
        "application/gzip announces gzip: plain bytes are refused"
    );
    let duplicate = fake.octane_push(&cookie, "", gzipped, Some("application/gzip"));
    assert_eq!(duplicate.status(), 202);
    let body: Value = duplicate.json().unwrap();
    assert_eq!(body["fromOlderPush"], "true");
    assert_eq!(body["id"], id);
    assert_eq!(body["status"], "success");
    assert!(body["until"].as_str().unwrap().ends_with("+0000"));

    let missing = fake
        .http
        .get(fake.url(&format!("{OCTANE_RESULTS}/999")))
        .header("Cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[test]
fn octane_unknown_references_fail_or_warn_by_skip_errors() {
    let fake = Fake::start();
    let cookie = fake.octane_sign_in(octane_client()).unwrap();
    let payload = |n: u32| {
        format!("<test_result><release_ref id=\"77\"/><test_runs><test_run name=\"t{n}\" duration=\"1\" status=\"Passed\"/></test_runs></test_result>")
    };
    let strict: Value = fake
        .octane_push(&cookie, "?skip-errors=false", payload(1).into_bytes(), None)
        .json()
        .unwrap();
    let lenient: Value = fake
        .octane_push(&cookie, "?skip-errors=true", payload(2).into_bytes(), None)
        .json()
        .unwrap();
    fake.http.post(fake.url("/_fake/advance")).send().unwrap();
    let strict = fake.octane_task(&cookie, strict["id"].as_u64().unwrap());
    let lenient = fake.octane_task(&cookie, lenient["id"].as_u64().unwrap());
    assert_eq!(strict["status"], "failed");
    assert!(strict["errorDetails"]
        .as_str()
        .unwrap()
        .contains("release_ref id=77"));
    assert_eq!(lenient["status"], "warning");

    fake.http
        .post(fake.url("/_fake/config"))
        .json(&json!({"octane":{"known_ids":{"release":[77]}}}))
        .send()
        .unwrap();
    let known: Value = fake
        .octane_push(&cookie, "", payload(3).into_bytes(), None)
        .json()
        .unwrap();
    fake.octane_task(&cookie, known["id"].as_u64().unwrap());
    assert_eq!(
        fake.octane_task(&cookie, known["id"].as_u64().unwrap())["status"],
        "success"
    );
}

#[test]
fn octane_more_than_20_requests_a_second_are_throttled() {
    let fake = Fake::start();
    let cookie = fake.octane_sign_in(octane_client()).unwrap();
    let started = Instant::now();
    let statuses: Vec<u16> = (0..25)
        .map(|_| {
            fake.http
                .get(fake.url(&format!("{OCTANE_RESULTS}/1")))
                .header("Cookie", &cookie)
                .send()
                .unwrap()
                .status()
                .as_u16()
        })
        .collect();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "too slow to prove the limit"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 404).count(),
        19,
        "sign-in took one of the 20"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 6);
}
