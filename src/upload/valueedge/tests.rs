use super::*;
use crate::http::recording::{block_on, RecordingClient};
use crate::parse::{parse_bytes, FormatChoice};

const JUNIT: &str = r#"<testsuites name="backend">
<testsuite name="com.acme.CalcTest" time="0.5">
  <testcase classname="com.acme.CalcTest" name="adds" time="0.25"/>
  <testcase classname="com.acme.CalcTest" name="divides" time="0.125">
    <failure type="java.lang.AssertionError" message="expected &lt;2&gt; &amp; got 3">at Calc.divide(Calc.java:9)
at CalcTest.divides(CalcTest.java:20)</failure>
  </testcase>
  <testcase classname="com.acme.CalcTest" name="later"><skipped message="not yet"/></testcase>
  <testcase classname="com.acme.CalcTest" name="adds" time="0.002"/>
  <testcase classname="tests/ui.spec.js" name="" time="1"><error message="boom"/></testcase>
</testsuite>
</testsuites>"#;

const CUCUMBER: &str = r#"[{"uri":"features/calc.feature","name":"Calculator","elements":[
 {"type":"scenario","id":"c;a","line":3,"name":"adds","tags":[{"name":"@TID4002REV0.2.0"}],"steps":[{"keyword":"Given ","name":"a","result":{"status":"passed","duration":1000000}}]},
 {"type":"scenario","id":"c;b","line":7,"name":"divides","steps":[{"keyword":"Given ","name":"b","result":{"status":"failed","duration":2000000,"error_message":"no"}}]}
]}]"#;

fn file(path: &str, text: &str) -> FileReport {
    FileReport {
        path: path.into(),
        result: parse_bytes(text.as_bytes(), FormatChoice::Auto),
        original: None,
    }
}

fn links() -> Links {
    Links {
        release: Some(Release::Id(77)),
        backlog_items: vec![1001, 1002],
        product_areas: vec![2001],
        test_fields: vec![
            (FieldType::TestLevel, "Integration Test".into()),
            (FieldType::Framework, "JUnit".into()),
        ],
        environment: vec![
            ("OS".into(), "Linux".into()),
            ("Browser".into(), "Chrome".into()),
        ],
    }
}

fn config() -> ValueedgeConfig {
    ValueedgeConfig {
        base_url: "https://octane.example/".into(),
        shared_space: "1001".into(),
        workspace: "1002".into(),
        client_id: Secret::new("ci-client"),
        client_secret: Secret::new("very-secret-key"),
        skip_errors: false,
        wait: true,
        context: RunContext {
            links: links(),
            external_report_url: Some("https://github.com/o/r/actions/runs/9".into()),
            started_ms: 1_700_000_000_000,
        },
        max_payload_bytes: MAX_PAYLOAD_BYTES,
    }
}

fn signed_in(cookie: &str) -> Response<Body> {
    Response::builder()
        .status(200)
        .header(
            "set-cookie",
            format!("{SESSION_COOKIE}={cookie}; Path=/; HttpOnly"),
        )
        .body(Vec::new())
        .unwrap()
}

fn gunzip(bytes: &[u8]) -> String {
    String::from_utf8(super::gunzip(bytes).unwrap()).unwrap()
}

/// The requests as a transcript: headers with the cookie redacted, bodies decompressed.
fn transcript(client: &RecordingClient) -> String {
    client
        .requests()
        .iter()
        .map(|r| {
            let mut shown = r.clone();
            if r.headers
                .iter()
                .any(|(k, v)| k == "content-encoding" && v == "gzip")
            {
                shown.body = gunzip(&r.body).into_bytes();
            }
            let body = String::from_utf8_lossy(&shown.body).replace("very-secret-key", "****");
            shown.body = body.into_bytes();
            shown.describe(&["cookie"])
        })
        .collect::<Vec<_>>()
        .join("\n---\n")
}

fn run(client: &RecordingClient, config: &ValueedgeConfig, files: &[FileReport]) -> Receipt {
    block_on(upload(client, config, files, &RetryPolicy::default()))
        .expect("recording client never pends")
}

#[test]
fn junit_becomes_test_runs_with_links_errors_and_repeat_ids() {
    let docs = payload::documents(
        &[file("a.xml", JUNIT)],
        &config().context,
        MAX_PAYLOAD_BYTES,
    );
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].runs, 5);
    insta::assert_snapshot!(docs[0].xml);
}

#[test]
fn cucumber_becomes_gherkin_runs_in_their_own_document() {
    let files = [file("a.xml", JUNIT), file("c.json", CUCUMBER)];
    let docs = payload::documents(&files, &RunContext::default(), MAX_PAYLOAD_BYTES);
    assert_eq!(
        docs.len(),
        2,
        "test_run and gherkin_test_run never share a document"
    );
    assert!(!docs[0].xml.contains("gherkin_test_run"));
    assert!(!docs[1].xml.contains("<test_run "));
    assert_eq!(docs[1].runs, 1, "one gherkin run per feature");
    insta::assert_snapshot!(docs[1].xml);
}

#[test]
fn large_runs_split_into_bounded_documents() {
    let cases: String = (0..200)
        .map(|i| format!("<testcase classname=\"a.B\" name=\"t{i}\" time=\"0.001\"/>"))
        .collect();
    let files = [file(
        "big.xml",
        &format!("<testsuite name=\"s\">{cases}</testsuite>"),
    )];
    let limit = 4_000;
    let docs = payload::documents(&files, &config().context, limit);
    assert!(docs.len() > 5, "{}", docs.len());
    assert_eq!(docs.iter().map(|d| d.runs).sum::<usize>(), 200);
    for d in &docs {
        assert!(d.xml.len() <= limit, "{}", d.xml.len());
        assert!(
            d.xml.contains("<release_ref id=\"77\"/>"),
            "links in every document"
        );
    }
}

#[test]
fn strings_are_cut_to_the_xsd_lengths_and_bad_report_urls_dropped() {
    let long = "x".repeat(300);
    let xml = format!(
        "<testsuite name=\"s\"><testcase classname=\"{long}\" name=\"{long}\"/></testsuite>"
    );
    let mut context = config().context;
    context.external_report_url = Some("ftp://nope".into());
    let docs = payload::documents(&[file("l.xml", &xml)], &context, MAX_PAYLOAD_BYTES);
    let x255 = "x".repeat(255);
    assert!(docs[0]
        .xml
        .contains(&format!("class=\"{x255}\" name=\"{x255}\"")));
    assert!(!docs[0].xml.contains("external_report_url"));
    assert!(payload::is_report_url(
        "https://github.com/o/r/actions/runs/1"
    ));
    assert!(payload::is_report_url("tds://host/x"));
    assert!(!payload::is_report_url("http:"));
}

#[test]
fn signs_in_pushes_gzip_and_polls_until_success() {
    let client = RecordingClient::new();
    client
        .respond_with(signed_in("c1"))
        .respond(202, r#"{"status":"queued","id":1103}"#)
        .respond(200, r#"{"id":1103,"status":"queued"}"#)
        .respond(200, r#"{"id":1103,"status":"running"}"#)
        .respond(
            200,
            r#"{"id":1103,"status":"success","until":"2026-01-01T00:00:00+0000"}"#,
        )
        .respond(200, "");
    let receipt = run(&client, &config(), &[file("a.xml", JUNIT)]);
    assert!(receipt.errors.is_empty(), "{:?}", receipt.errors);
    assert_eq!(receipt.task_ids().as_deref(), Some("1103"));
    assert_eq!(receipt.status(), Some("success"));
    assert_eq!(receipt.runs(), 5);
    let requests = client.requests();
    assert_eq!(requests.len(), 6);
    assert!(requests.iter().all(|r| r
        .headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case(CLIENT_TYPE_HEADER) && v == CLIENT_TYPE)));
    assert!(requests[1]
        .headers
        .contains(&("cookie".into(), "LWSSO_COOKIE_KEY=c1".into())));
    // Backoff doubles between polls.
    let sleeps = client.sleeps();
    for wait in [250, 500, 1000] {
        assert!(sleeps.contains(&Duration::from_millis(wait)), "{sleeps:?}");
    }
    insta::assert_snapshot!(transcript(&client));
}

#[test]
fn requests_are_paced_under_twenty_per_second() {
    let client = RecordingClient::new();
    client.respond_with(signed_in("c1"));
    for id in 0..30 {
        client.respond(202, &format!(r#"{{"status":"success","id":{id}}}"#));
    }
    let cases: String = (0..30)
        .map(|i| format!("<testcase classname=\"a.B\" name=\"t{i}\"/>"))
        .collect();
    let files = [file(
        "big.xml",
        &format!("<testsuite name=\"s\">{cases}</testsuite>"),
    )];
    let mut config = config();
    config.max_payload_bytes = 700;
    let receipt = run(&client, &config, &files);
    let sent = client.requests().len() as u64;
    assert!(receipt.tasks.len() >= 20, "{}", receipt.tasks.len());
    // Nothing but pacing sleeps: the virtual time spent is the spacing of the requests.
    let elapsed_ms = client.now_ms();
    assert!(
        elapsed_ms >= (sent - 1) * 55,
        "{sent} requests in {elapsed_ms} ms"
    );
    assert!(sent * 1000 / elapsed_ms <= MAX_REQUESTS_PER_SECOND);
}

#[test]
fn a_401_mid_run_signs_in_again_once_and_repeats_the_call() {
    let client = RecordingClient::new();
    client
        .respond_with(signed_in("c1"))
        .respond(
            401,
            r#"{"error_code":"platform.unauthorized","description":"Unauthorized"}"#,
        )
        .respond_with(signed_in("c2"))
        .respond(202, r#"{"status":"queued","id":5}"#);
    let mut config = config();
    config.wait = false;
    let receipt = run(&client, &config, &[file("a.xml", JUNIT)]);
    assert!(receipt.errors.is_empty(), "{:?}", receipt.errors);
    assert_eq!(receipt.status(), Some("queued"));
    let requests = client.requests();
    assert!(requests[2].url.ends_with(SIGN_IN_PATH));
    assert!(requests[3]
        .headers
        .contains(&("cookie".into(), "LWSSO_COOKIE_KEY=c2".into())));
    assert_eq!(requests[1].body, requests[3].body, "the same payload again");
}

#[test]
fn a_second_401_is_an_error_that_says_what_to_check() {
    let client = RecordingClient::new();
    client
        .respond_with(signed_in("c1"))
        .respond(401, "{}")
        .respond_with(signed_in("c2"))
        .respond(401, "{}");
    let receipt = run(&client, &config(), &[file("a.xml", JUNIT)]);
    assert_eq!(receipt.errors.len(), 1);
    assert_eq!(receipt.errors[0].step, "push");
    assert!(receipt.errors[0].message.contains("role in the workspace"));
}

#[test]
fn bad_credentials_stop_before_any_push_and_never_print_the_secret() {
    let client = RecordingClient::new();
    client.respond(401, r#"{"description":"Authentication failed"}"#);
    let receipt = run(&client, &config(), &[file("a.xml", JUNIT)]);
    assert_eq!(client.requests().len(), 1);
    assert_eq!(receipt.errors[0].step, "sign-in");
    let shown = format!("{receipt:?} {}", receipt.errors[0]);
    assert!(shown.contains("valueedge-client-secret"), "{shown}");
    assert!(!shown.contains("very-secret-key"));
    assert!(!format!("{:?}", config()).contains("very-secret-key"));
}

#[test]
fn the_documents_not_accepted_are_kept_as_sent_for_the_spool() {
    let files = [file("a.xml", JUNIT), file("c.json", CUCUMBER)];
    let documents = payload::documents(&files, &config().context, MAX_PAYLOAD_BYTES);
    // Refused sign-in: nothing was pushed, everything stays.
    let client = RecordingClient::new();
    client.respond(401, "{}");
    let receipt = run(&client, &config(), &files);
    let kept: Vec<(usize, Document)> = documents.iter().cloned().enumerate().collect();
    assert_eq!(receipt.unsent, kept);
    // The second push refused: only it stays; the first became a task of document 0.
    let client = RecordingClient::new();
    client
        .respond_with(signed_in("c1"))
        .respond(202, r#"{"status":"success","id":5}"#)
        .respond(403, r#"{"description":"no role"}"#);
    let receipt = run(&client, &config(), &files);
    assert_eq!(receipt.unsent, [(1, documents[1].clone())]);
    assert_eq!((receipt.tasks.len(), receipt.tasks[0].document), (1, 0));
}

#[test]
fn a_duplicate_payload_is_already_received_not_an_error() {
    let client = RecordingClient::new();
    client
        .respond_with(signed_in("c1"))
        .respond(
            202,
            r#"{"fromOlderPush":"true","id":1103,"until":"2020-0-28T11:29:51+0000","status":" SUCCESS "}"#,
        );
    let receipt = run(&client, &config(), &[file("a.xml", JUNIT)]);
    assert!(receipt.errors.is_empty(), "{:?}", receipt.errors);
    assert!(receipt.tasks[0].already_received);
    assert_eq!(receipt.tasks[0].status, "success");
    // Terminal already: no poll, only the sign-out follows.
    assert_eq!(client.requests().len(), 3);
}

#[test]
fn failed_tasks_are_errors_with_details_and_warnings_are_not() {
    for (status, errors) in [("failed", 1), ("warning", 0)] {
        let client = RecordingClient::new();
        client
            .respond_with(signed_in("c1"))
            .respond(202, r#"{"status":"queued","id":9}"#)
            .respond(
                200,
                &format!(r#"{{"id":9,"status":"{status}","errorDetails":"unknown references: release_ref id=77"}}"#),
            );
        let receipt = run(&client, &config(), &[file("a.xml", JUNIT)]);
        assert_eq!(
            receipt.errors.len(),
            errors,
            "{status}: {:?}",
            receipt.errors
        );
        assert_eq!(
            receipt.tasks[0].error_details.as_deref(),
            Some("unknown references: release_ref id=77")
        );
        if errors == 1 {
            assert!(receipt.errors[0].message.contains("release_ref id=77"));
        }
    }
}

#[test]
fn skip_errors_is_sent_as_asked() {
    for skip in [true, false] {
        let client = RecordingClient::new();
        client
            .respond_with(signed_in("c1"))
            .respond(202, r#"{"status":"queued","id":9}"#);
        let mut config = config();
        config.skip_errors = skip;
        config.wait = false;
        run(&client, &config, &[file("a.xml", JUNIT)]);
        assert!(client.requests()[1]
            .url
            .ends_with(&format!("?skip-errors={skip}")));
    }
}

#[test]
fn an_xsd_rejection_names_the_violation() {
    let client = RecordingClient::new();
    client.respond_with(signed_in("c1")).respond(
        400,
        r#"{"error_code":"platform.invalid_payload","description":"payload does not conform to the XSD schema: <test_run>: attribute name is required"}"#,
    );
    let receipt = run(&client, &config(), &[file("a.xml", JUNIT)]);
    assert_eq!(receipt.errors.len(), 1);
    assert!(receipt.errors[0]
        .to_string()
        .contains("valueedge: push: ValueEdge rejected the payload as not conforming to its XSD (HTTP 400): payload does not conform to the XSD schema: <test_run>: attribute name is required"));
}

#[test]
fn polling_gives_up_after_the_budget() {
    let client = RecordingClient::new();
    client
        .respond_with(signed_in("c1"))
        .respond(202, r#"{"status":"queued","id":9}"#);
    // Unscripted polls answer `{}`: no status, never terminal.
    let receipt = run(&client, &config(), &[file("a.xml", JUNIT)]);
    assert_eq!(receipt.errors.len(), 1, "{:?}", receipt.errors);
    assert_eq!(receipt.errors[0].step, "poll");
    let polls = client.requests().len() - 3;
    assert!((60..=70).contains(&polls), "{polls} polls in 300 s");
    assert!(client.now_ms() >= 300_000);
}

#[test]
fn nothing_to_send_makes_no_request() {
    let client = RecordingClient::new();
    let receipt = run(
        &client,
        &config(),
        &[file("e.xml", "<testsuite name=\"e\"/>")],
    );
    assert!(client.requests().is_empty());
    assert_eq!(receipt, Receipt::default());
}
