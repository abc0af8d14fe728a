use super::*;
use crate::http::recording::{block_on, RecordingClient};

fn config(finalize: Finalize) -> TestnodConfig {
    TestnodConfig {
        token: Secret::new("tn-secret-token"),
        base_url: "https://testnod.example/".into(),
        build_id: "987-1".into(),
        tags: vec!["backend".into(), "nightly".into()],
        finalize,
        branch: Some("main".into()),
        commit_sha: Some("abc123".into()),
        run_url: None,
        hold_finalize: false,
    }
}

fn files() -> Vec<Payload> {
    vec![
        Payload {
            path: "a.xml".into(),
            bytes: b"<testsuite name=\"a\"/>".to_vec(),
        },
        Payload {
            path: "b.xml".into(),
            bytes: b"<testsuite name=\"b\"/>".to_vec(),
        },
    ]
}

fn created(upload_id: u64) -> String {
    format!(
        r#"{{"id":{upload_id},"project":"p","project_id":"p","test_run_id":42,"upload_id":{upload_id},"test_run_url":"https://testnod.example/runs/42","presigned_url":"https://storage.example/up/{upload_id}?X-Amz-Signature=sig"}}"#
    )
}

fn run(client: &RecordingClient, config: &TestnodConfig, files: &[Payload]) -> Receipt {
    block_on(upload(client, config, files, &RetryPolicy::default()))
        .expect("recording client never pends")
}

fn sequence(client: &RecordingClient) -> String {
    client
        .requests()
        .iter()
        .map(|r| r.describe(&[TOKEN_HEADER]))
        .collect::<Vec<_>>()
        .join("\n---\n")
}

#[test]
fn uploads_each_file_then_finalizes_once() {
    let client = RecordingClient::new();
    client
        .respond(201, &created(1))
        .respond(200, "")
        .respond(201, &created(2))
        .respond(200, "")
        .respond(200, r#"{"status":"processing","test_run_id":42}"#);
    let receipt = run(&client, &config(Finalize::True), &files());
    assert!(receipt.errors.is_empty(), "{:?}", receipt.errors);
    assert_eq!(receipt.uploaded, ["a.xml", "b.xml"]);
    assert_eq!(receipt.status.as_deref(), Some("processing"));
    assert_eq!(
        receipt.test_run_url.as_deref(),
        Some("https://testnod.example/runs/42")
    );
    insta::assert_snapshot!(sequence(&client));
}

#[test]
fn the_token_never_reaches_the_storage_host() {
    let client = RecordingClient::new();
    client.respond(201, &created(1)).respond(200, "");
    run(&client, &config(Finalize::False), &files()[..1]);
    let put = &client.requests()[1];
    assert_eq!(put.method, "PUT");
    let names: Vec<&str> = put.headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["content-type", "content-length"]);
    assert_eq!(put.body, files()[0].bytes);
}

#[test]
fn a_failed_put_is_reported_and_the_run_still_finalizes() {
    let client = RecordingClient::new();
    // An expired presigned URL: S3 answers 403, which no retry can fix.
    client
        .respond(201, &created(1))
        .respond(
            403,
            "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
        )
        .respond(200, "{}")
        .respond(201, &created(2))
        .respond(200, "")
        .respond(200, r#"{"status":"pending"}"#);
    let receipt = run(&client, &config(Finalize::True), &files());
    let requests = client.requests();
    let failed = requests
        .iter()
        .find(|r| r.url.ends_with(UPLOAD_FAILED_PATH))
        .expect("upload_failed sent");
    let body: serde_json::Value = serde_json::from_slice(&failed.body).unwrap();
    assert_eq!(
        (body["test_run_id"].as_u64(), body["upload_id"].as_u64()),
        (Some(42), Some(1))
    );
    assert!(body["failure_message"]
        .as_str()
        .unwrap()
        .contains("HTTP 403"));
    assert_eq!(receipt.errors.len(), 1);
    assert_eq!(receipt.errors[0].step, "put");
    assert_eq!(receipt.uploaded, ["b.xml"]);
    assert!(requests.last().unwrap().url.ends_with(FINALIZE_PATH));
}

#[test]
fn documented_errors_say_what_to_do() {
    let client = RecordingClient::new();
    client
        .respond(404, "Project not found.")
        .respond(404, "Project not found.");
    let receipt = run(&client, &config(Finalize::True), &files());
    assert_eq!(
        receipt.errors[0].to_string(),
        "testnod: upload of a.xml: project token not recognised (HTTP 404 Project not found.): check the testnod-token secret"
    );
    // Nothing uploaded: no finalize that could only answer 422.
    assert_eq!(client.requests().len(), 2);

    let client = RecordingClient::new();
    client.respond(422, r#"{"error_message":"metadata.build_id is required."}"#);
    let receipt = run(&client, &config(Finalize::True), &files()[..1]);
    assert!(receipt.errors[0]
        .message
        .ends_with("(HTTP 422): metadata.build_id is required."));

    let client = RecordingClient::new();
    client.respond(404, "");
    let receipt = run(&client, &config(Finalize::Only), &[]);
    assert!(
        receipt.errors[0]
            .message
            .starts_with("no run for build id '987-1'"),
        "{}",
        receipt.errors[0]
    );
}

#[test]
fn finalize_only_and_false_do_what_they_say() {
    let client = RecordingClient::new();
    client.respond(200, r#"{"status":"processed"}"#);
    let receipt = run(&client, &config(Finalize::Only), &files());
    assert_eq!(client.requests().len(), 1);
    assert_eq!(client.requests()[0].body, br#"{"build_id":"987-1"}"#);
    assert_eq!(receipt.status.as_deref(), Some("processed"));

    let client = RecordingClient::new();
    client.respond(201, &created(1)).respond(200, "");
    run(&client, &config(Finalize::False), &files()[..1]);
    assert!(client
        .requests()
        .iter()
        .all(|r| !r.url.ends_with(FINALIZE_PATH)));
}

#[test]
fn an_overloaded_service_is_retried_but_a_500_upload_is_not_repeated() {
    let client = RecordingClient::new();
    client
        .respond(503, "")
        .respond(201, &created(1))
        .respond(200, "")
        .respond(200, "{}");
    let receipt = run(&client, &config(Finalize::True), &files()[..1]);
    assert!(receipt.errors.is_empty());
    assert_eq!(client.requests().len(), 4);

    let client = RecordingClient::new();
    client.respond(500, "oops");
    let receipt = run(&client, &config(Finalize::True), &files()[..1]);
    assert_eq!(client.requests().len(), 1);
    assert_eq!(
        receipt.errors[0].message,
        "HTTP 500 Internal Server Error: oops"
    );
}
