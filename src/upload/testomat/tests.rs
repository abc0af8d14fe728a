use std::time::Duration;

use super::*;
use crate::http::recording::{block_on, Recorded, RecordingClient};
use crate::model::{Location, Problem, Suite};

const KEY: &str = "tstmt_secret-key";

fn config(finish: Finish) -> TestomatConfig {
    TestomatConfig {
        api_key: Secret::new(KEY),
        base_url: "https://testomat.example/".into(),
        run: None,
        title: Some("CI #41".into()),
        env: Some("linux,chrome".into()),
        group_title: Some("nightly".into()),
        ci_build_url: Some("https://github.com/acme/w/actions/runs/9".into()),
        create_tests: true,
        finish,
        shared_run: false,
        run_time_unit: RunTimeUnit::Milliseconds,
        rid_scope: "linux,chrome/test/Linux".into(),
        hold_finish: false,
    }
}

fn case(name: &str, status: Status) -> Case {
    let mut c = Case::new(name.into(), status);
    c.classname = Some("auth.LoginTest".into());
    c.duration = Some(Duration::from_millis(1_250));
    c
}

/// One of each status, ids from the name, a property and the output, parameters, a repeat.
fn sample() -> Vec<TestRun> {
    let mut failed = case("logs in @Ta0b1c2d3 with a bad password", Status::Failed);
    failed.set_location(Some(Location {
        file: "tests/login.py".into(),
        line: Some(12),
    }));
    failed.details_mut().problems.push(Problem {
        message: Some("expected 200, got 401".into()),
        kind: Some("AssertionError".into()),
        trace: Some("at login (tests/login.py:12)".into()),
    });
    let mut errored = case("loads the profile", Status::Errored);
    errored
        .details_mut()
        .properties
        .push(("ID".into(), "@T11112222".into()));
    errored.details_mut().problems.push(Problem {
        message: Some("connection refused".into()),
        kind: None,
        trace: None,
    });
    let mut skipped = case("exports a pdf", Status::Skipped);
    skipped.set_stdout(Some("note tid://@Tdeadbeef here".into()));
    skipped.details_mut().problems.push(Problem {
        message: Some("needs a printer".into()),
        ..Problem::default()
    });
    let mut tagged = case("greets the user", Status::Passed);
    tagged
        .details_mut()
        .properties
        .push(("tag".into(), "@smoke".into()));
    tagged
        .details_mut()
        .properties
        .push(("tag".into(), "@T0a1b2c3d".into()));
    let cases = vec![
        tagged,
        failed,
        errored,
        skipped,
        case("retries the upload", Status::Flaky { attempts: 3 }),
        case("validates email[user@example.com]", Status::Passed),
        case("validates email[bad@]", Status::Failed),
        case("greets the user", Status::Passed),
    ];
    vec![TestRun {
        suites: vec![Suite {
            name: "auth".into(),
            cases,
            ..Suite::default()
        }],
        ..TestRun::default()
    }]
}

fn tests_of(config: &TestomatConfig, runs: &[TestRun]) -> Vec<TestEntry> {
    build_tests(config, &[("reports/junit.xml", runs)])
}

fn run(client: &RecordingClient, config: &TestomatConfig, tests: &[TestEntry]) -> Receipt {
    block_on(upload(
        client,
        config,
        tests,
        12_345,
        &RetryPolicy::default(),
    ))
    .expect("recording client never pends")
}

/// Method, URL and the body pretty-printed with the key redacted, for snapshots.
fn shown(r: &Recorded) -> String {
    let mut body: Value = serde_json::from_slice(&r.body).expect("JSON body");
    if let Some(key) = body.get_mut("api_key") {
        assert_eq!(key, KEY, "every call carries the key in the body");
        *key = json!("****");
    }
    format!(
        "{} {}\n{}",
        r.method,
        r.url,
        serde_json::to_string_pretty(&body).unwrap()
    )
}

fn sequence(client: &RecordingClient) -> String {
    client
        .requests()
        .iter()
        .map(shown)
        .collect::<Vec<_>>()
        .join("\n---\n")
}

const CREATED: &str = r#"{"uid":"a0b1c2d3","url":"https://testomat.example/projects/p/runs/a0b1c2d3","public_url":"https://testomat.example/r/x"}"#;

#[test]
fn creates_a_run_sends_one_batch_and_finishes() {
    let client = RecordingClient::new();
    client.respond(200, CREATED);
    let config = config(Finish::True);
    let receipt = run(&client, &config, &tests_of(&config, &sample()));
    assert!(receipt.errors.is_empty(), "{:?}", receipt.errors);
    assert_eq!(receipt.run_uid.as_deref(), Some("a0b1c2d3"));
    assert_eq!(
        receipt.run_url.as_deref(),
        Some("https://testomat.example/projects/p/runs/a0b1c2d3")
    );
    assert_eq!((receipt.tests_sent, receipt.batches_sent), (8, 1));
    assert_eq!(receipt.finished, Some("finish"));
    insta::assert_snapshot!(sequence(&client));
}

#[test]
fn statuses_ids_parameters_and_rids_are_mapped() {
    let config = config(Finish::True);
    let tests = tests_of(&config, &sample());
    let statuses: Vec<&str> = tests.iter().map(|t| t.status).collect();
    assert_eq!(
        statuses,
        ["passed", "failed", "failed", "skipped", "passed", "passed", "failed", "passed"]
    );
    let ids: Vec<Option<&str>> = tests.iter().map(|t| t.test_id.as_deref()).collect();
    assert_eq!(
        ids,
        [
            Some("0a1b2c3d"),
            Some("a0b1c2d3"),
            Some("11112222"),
            Some("deadbeef"),
            None,
            None,
            None,
            None
        ]
    );
    assert_eq!(tests[1].title, "logs in with a bad password");
    assert_eq!(tests[5].title, "validates email");
    assert_eq!(tests[5].example, Some(json!("user@example.com")));
    assert_eq!(tests[6].title, "validates email");
    // Every execution has its own rid, the repeated name included.
    let mut rids: Vec<&str> = tests.iter().map(|t| t.rid.as_str()).collect();
    rids.sort_unstable();
    rids.dedup();
    assert_eq!(rids.len(), tests.len());
    // Deterministic: the same reports give the same rids.
    assert_eq!(tests, tests_of(&config, &sample()));
    // Another shard (scope) gives other rids for the same tests.
    let mut other = config.clone();
    other.rid_scope = "linux,firefox/test/Linux".into();
    assert_ne!(tests_of(&other, &sample())[0].rid, tests[0].rid);
}

#[test]
fn run_time_unit_is_an_option() {
    let mut config = config(Finish::True);
    assert_eq!(tests_of(&config, &sample())[0].run_time, Some(json!(1250)));
    config.run_time_unit = RunTimeUnit::Seconds;
    assert_eq!(tests_of(&config, &sample())[0].run_time, Some(json!(1.25)));
    assert_eq!("S".parse(), Ok(RunTimeUnit::Seconds));
    assert!("minutes".parse::<RunTimeUnit>().is_err());
}

#[test]
fn stacks_and_messages_are_trimmed_to_their_limits() {
    let mut huge = case("explodes", Status::Failed);
    huge.details_mut().problems.push(Problem {
        message: Some("é".repeat(MAX_MESSAGE_BYTES)),
        kind: None,
        trace: Some("x".repeat(MAX_STACK_BYTES * 3)),
    });
    let runs = vec![TestRun {
        suites: vec![Suite {
            name: "s".into(),
            cases: vec![huge, case("passes", Status::Passed)],
            ..Suite::default()
        }],
        ..TestRun::default()
    }];
    let tests = tests_of(&config(Finish::True), &runs);
    assert_eq!(
        tests[0].stack.as_ref().map(String::len),
        Some(MAX_STACK_BYTES)
    );
    let message = tests[0].message.as_ref().unwrap();
    assert!(message.len() <= MAX_MESSAGE_BYTES && message.len() > MAX_MESSAGE_BYTES - 2);
    // Passing tests carry no stack.
    assert_eq!(tests[1].stack, None);
}

fn many(n: usize, stack_bytes: usize) -> Vec<TestEntry> {
    let cases = (0..n)
        .map(|i| {
            let mut c = case(&format!("case {i}"), Status::Failed);
            c.details_mut().problems.push(Problem {
                trace: Some("t".repeat(stack_bytes)),
                ..Problem::default()
            });
            c
        })
        .collect();
    let runs = vec![TestRun {
        suites: vec![Suite {
            name: "s".into(),
            cases,
            ..Suite::default()
        }],
        ..TestRun::default()
    }];
    tests_of(&config(Finish::True), &runs)
}

#[test]
fn batches_are_bounded_by_count_and_by_bytes() {
    let sizes: Vec<usize> = batches(&many(250, 10)).iter().map(Vec::len).collect();
    assert_eq!(sizes, [100, 100, 50]);
    // ~10 KB per test: the byte bound cuts first.
    let by_bytes = batches(&many(250, MAX_STACK_BYTES));
    assert!(by_bytes.len() > 3, "{}", by_bytes.len());
    for batch in &by_bytes {
        let bytes: usize = batch.iter().map(|t| t.len() + 1).sum();
        assert!(bytes <= MAX_BATCH_BYTES, "{bytes}");
    }
    assert_eq!(by_bytes.iter().map(Vec::len).sum::<usize>(), 250);

    let client = RecordingClient::new();
    client.respond(200, CREATED);
    let config = config(Finish::False);
    let receipt = run(&client, &config, &many(250, 10));
    assert_eq!((receipt.tests_sent, receipt.batches_sent), (250, 3));
    let indexes: Vec<Value> = client.requests()[1..]
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["batch_index"].clone())
        .collect();
    assert_eq!(indexes, [json!(1), json!(2), json!(3)]);
}

#[test]
fn attach_and_finish_variants_do_what_they_say() {
    let client = RecordingClient::new();
    let mut attached = config(Finish::Parallel);
    attached.run = Some("feedf00d".into());
    attached.shared_run = true;
    client.respond(
        200,
        r#"{"url":"https://testomat.example/projects/p/runs/feedf00d"}"#,
    );
    let receipt = run(&client, &attached, &many(1, 1));
    assert_eq!(receipt.run_uid.as_deref(), Some("feedf00d"));
    assert_eq!(receipt.finished, Some("finish_parallel"));
    let calls: Vec<String> = client
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url))
        .collect();
    assert_eq!(
        calls,
        [
            "PUT https://testomat.example/api/reporter/feedf00d",
            "POST https://testomat.example/api/reporter/feedf00d/testrun",
            "PUT https://testomat.example/api/reporter/feedf00d",
        ]
    );
    let opened: Value = serde_json::from_slice(&client.requests()[0].body).unwrap();
    assert_eq!(opened["shared_run"], true);
    assert_eq!(opened["parallel"], true);
    assert!(opened.get("status_event").is_none());
    let finish: Value = serde_json::from_slice(&client.requests()[2].body).unwrap();
    assert_eq!(finish["status_event"], "finish_parallel");
    assert_eq!(finish["duration"], 12.345);

    let client = RecordingClient::new();
    client.respond(200, CREATED);
    let receipt = run(&client, &config(Finish::False), &many(1, 1));
    assert_eq!(receipt.finished, None);
    assert_eq!(client.requests().len(), 2, "no finish call");
    assert_eq!("PARALLEL".parse(), Ok(Finish::Parallel));
    assert_eq!(
        "sometimes".parse::<Finish>(),
        Err("'sometimes' is not one of true, false, parallel".into())
    );
}

#[test]
fn documented_errors_say_what_to_do() {
    let failing = |status: u16, body: &str| {
        let client = RecordingClient::new();
        client.respond(status, body);
        let receipt = run(&client, &config(Finish::True), &many(3, 1));
        assert_eq!(client.requests().len(), 1, "nothing after a failed create");
        assert_eq!(receipt.errors.len(), 1);
        receipt.errors[0].to_string()
    };
    assert_eq!(
        failing(403, r#"{"message":"Project API Token is invalid"}"#),
        "testomatio: create: API key rejected (HTTP 403 Project API Token is invalid): check the testomatio-api-key secret (a project key starts with tstmt_)"
    );
    assert!(failing(401, "").contains("API key rejected (HTTP 401"));
    assert_eq!(
        failing(422, r#"{"message":"Title is too long"}"#),
        "testomatio: create: Testomat.io refused the request (HTTP 422): Title is too long"
    );
    assert!(failing(200, "<html>").starts_with("testomatio: create: unexpected answer"));

    // An unknown run stops at the first batch: no later call can succeed.
    let client = RecordingClient::new();
    client.respond(200, CREATED).respond(
        404,
        r#"{"message":"Not found - check the runId parameter"}"#,
    );
    let receipt = run(&client, &config(Finish::True), &many(150, 1));
    assert_eq!(client.requests().len(), 2);
    assert_eq!(receipt.tests_sent, 0);
    assert_eq!(
        receipt.errors[0].to_string(),
        "testomatio: testrun: batch 1 of 2: run 'a0b1c2d3' not found (HTTP 404 Not found - check the runId parameter): check testomatio-run and that the API key belongs to the run's project"
    );
}

#[test]
fn a_lost_batch_is_resent_but_a_failed_create_is_not() {
    use crate::http::TransportError;
    // Create: 500 may have made a run, so it is not repeated; 503 did not, so it is.
    let client = RecordingClient::new();
    client.respond(500, "{}");
    let receipt = run(&client, &config(Finish::True), &many(1, 1));
    assert_eq!(client.requests().len(), 1);
    assert_eq!(receipt.run_uid, None);
    let client = RecordingClient::new();
    client.respond(503, "{}").respond(200, CREATED);
    let receipt = run(&client, &config(Finish::True), &many(1, 1));
    assert!(receipt.errors.is_empty(), "{:?}", receipt.errors);
    assert_eq!(client.requests().len(), 4);

    // A batch whose answer was lost is sent again, byte for byte (same rids, same index).
    let client = RecordingClient::new();
    client
        .respond(200, CREATED)
        .fail(TransportError::Timeout)
        .fail(TransportError::Interrupted("reset".into()))
        .respond(200, r#"{"message":"Test run added"}"#);
    let receipt = run(&client, &config(Finish::True), &many(2, 1));
    assert!(receipt.errors.is_empty(), "{:?}", receipt.errors);
    assert_eq!((receipt.tests_sent, receipt.batches_sent), (2, 1));
    let sent = client.requests();
    assert_eq!(sent.len(), 5);
    assert_eq!(sent[1].body, sent[2].body);
    assert_eq!(sent[2].body, sent[3].body);
    let body: Value = serde_json::from_slice(&sent[1].body).unwrap();
    assert!(body["tests"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["overwrite"] == true && t["rid"].is_string()));
}

#[test]
fn the_key_never_prints() {
    let client = RecordingClient::new();
    client.respond(200, CREATED);
    let config = config(Finish::True);
    run(&client, &config, &many(1, 1));
    for r in client.requests() {
        let text = r.describe(&[]);
        assert!(!text.contains(KEY), "{text}");
        assert!(text.contains("\"api_key\":\"****\""), "{text}");
    }
    assert!(!format!("{config:?}").contains(KEY));
}

#[test]
fn ids_are_recognised_only_in_their_documented_shapes() {
    assert_eq!(find_tag("x @Ta0b1c2d3"), Some((2, "a0b1c2d3")));
    assert_eq!(find_tag("@Ta0b1c2d3e"), None, "nine characters");
    assert_eq!(find_tag("@Tzzzzzzzz @T0000000f:"), Some((11, "0000000f")));
    assert_eq!(bare_id(" @T0a1b2c3d "), Some("0a1b2c3d".into()));
    assert_eq!(bare_id("T2"), None);
    let mut c = case("plain", Status::Passed);
    c.set_stdout(Some("tid:// @Ta0b1c2d3 tid://@T0000abcd".into()));
    assert_eq!(
        test_id(&c).as_deref(),
        Some("0000abcd"),
        "the marker is followed directly"
    );
    assert_eq!(
        title_and_example("@Ta0b1c2d3 logs  in"),
        ("logs  in".to_owned(), None),
        "the name's own spacing is kept"
    );
    assert_eq!(
        title_and_example("adds [1, 2] @Ta0b1c2d3 [3]"),
        ("adds [1, 2]".to_owned(), Some(json!("3")))
    );
}
