use std::cell::RefCell;

use super::*;
use crate::http::recording::{block_on, Recorded, RecordingClient};
use crate::parse::{parse_bytes, FormatChoice};

const JUNIT: &str = r#"<testsuite name="cart"><testcase classname="com.acme.CartTest" name="PROJ-TC-1 : adds an item" time="0.2"/><testcase classname="com.acme.CartTest" name="removesAnItem"><failure message="boom"/></testcase></testsuite>"#;

fn config(cycle: CycleChoice) -> AioConfig {
    AioConfig {
        token: Secret::new("aio-secret-token"),
        base_url: base_url("https://tcms.aiojiraapps.com/aio-tcms/api/v1/"),
        auth: AuthMode::Aio,
        project: "PROJ".into(),
        cycle,
        batch: false,
        flags: ImportFlags::default(),
        run_url: Some("https://github.com/acme/widgets/actions/runs/42".into()),
        branch: Some("main".into()),
        commit: Some("0123abc".into()),
    }
}

fn key() -> AioConfig {
    config(CycleChoice::Key("PROJ-CY-1".into()))
}

fn junit(path: &str) -> ImportFile {
    ImportFile {
        path: path.into(),
        kind: ImportType::Junit,
        converted: false,
        bytes: JUNIT.as_bytes().to_vec(),
    }
}

fn success(imported: u64) -> String {
    format!(
        r#"{{"status":"SUCCESS","requestCount":{imported},"successCount":{imported},"errorCount":0,"errors":{{}},"processedData":{{}}}}"#
    )
}

fn run(client: &RecordingClient, config: &AioConfig, files: &[ImportFile]) -> Receipt {
    block_on(upload(client, config, files, &RETRY_POLICY)).expect("recording client never pends")
}

fn describe(requests: &[Recorded]) -> String {
    requests
        .iter()
        .map(|r| r.describe(&["authorization"]))
        .collect::<Vec<_>>()
        .join("\n---\n")
}

fn file_report(path: &str, bytes: &[u8]) -> FileReport {
    FileReport {
        path: path.into(),
        result: parse_bytes(bytes, FormatChoice::Auto),
        original: Some(bytes.to_vec()),
    }
}

#[test]
fn a_sync_import_sends_the_file_and_the_documented_flags() {
    let client = RecordingClient::new();
    client.respond(200, &success(2));
    let receipt = run(&client, &key(), &[junit("build/TEST-cart.xml")]);
    assert!(receipt.errors.is_empty(), "{:?}", receipt.errors);
    assert_eq!(receipt.cycle_key.as_deref(), Some("PROJ-CY-1"));
    assert_eq!((receipt.imported, receipt.errored), (2, 0));
    assert_eq!(receipt.imported_files, ["build/TEST-cart.xml"]);
    let requests = client.requests();
    assert_eq!(
        requests[0].url,
        "https://tcms.aiojiraapps.com/aio-tcms/api/v1/project/PROJ/testcycle/PROJ-CY-1/import/results?type=Junit"
    );
    assert!(requests[0]
        .headers
        .contains(&("authorization".into(), "AioAuth aio-secret-token".into())));
    insta::assert_snapshot!(describe(&requests));
}

#[test]
fn every_native_format_keeps_its_bytes_and_type_and_others_become_junit() {
    let files = [
        file_report("a.xml", JUNIT.as_bytes()),
        file_report(
            "testng-results.xml",
            include_bytes!("../../../tests/fixtures/testng/testng-results.xml"),
        ),
        file_report(
            "nunit.xml",
            include_bytes!(
                "../../../tests/conformance/dorny-test-reporter/fixtures/dotnet-nunit.xml"
            ),
        ),
        file_report(
            "cucumber.json",
            include_bytes!("../../../tests/fixtures/cucumber-js/cucumber-json.json"),
        ),
        file_report(
            "output.xml",
            include_bytes!("../../../tests/fixtures/robot/rf7-output.xml"),
        ),
        file_report(
            "newman.json",
            include_bytes!("../../../tests/fixtures/newman/newman-json.json"),
        ),
        file_report(
            "mocha.json",
            include_bytes!("../../../tests/fixtures/mocha/mocha-json.json"),
        ),
    ];
    let imports = import_files(&files);
    let kinds: Vec<(&str, &str, bool)> = imports
        .iter()
        .map(|f| (f.path.as_str(), f.kind.as_str(), f.converted))
        .collect();
    assert_eq!(
        kinds,
        [
            ("a.xml", "Junit", false),
            ("testng-results.xml", "Testng", false),
            ("nunit.xml", "NUnit", false),
            ("cucumber.json", "Cucumber", false),
            ("output.xml", "Robot", false),
            ("newman.json", "Newman", false),
            ("mocha.json", "Junit", true),
        ]
    );
    for (import, file) in imports.iter().zip(&files).take(6) {
        assert_eq!(
            Some(&import.bytes),
            file.original.as_ref(),
            "{}",
            import.path
        );
    }
    let converted = String::from_utf8(imports[6].bytes.clone()).unwrap();
    assert!(converted.contains("<testsuites"), "{converted}");
    // The file part says what it is: JSON for Cucumber and Newman, XML otherwise.
    let (_, body) = build_form(&ImportFlags::default(), &imports[3]);
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("filename=\"cucumber.json\"\r\nContent-Type: application/json\r\n"));
    let (_, body) = build_form(&ImportFlags::default(), &imports[6]);
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("filename=\"mocha.json.junit.xml\"\r\nContent-Type: text/xml\r\n"));
}

#[test]
fn flags_default_as_documented_and_blank_ones_are_left_to_aio() {
    let names = |f: &ImportFlags| {
        f.fields()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&ImportFlags::default()),
        [
            "createNewRun=true",
            "addCaseToCycle=true",
            "bddForceUpdateCase=false",
            "forceUpdateCase=false",
            "updateOnlyRunStatus=false",
            "ignoreClassInAutoKey=false",
        ]
    );
    let all = ImportFlags {
        create_new_run: false,
        add_case_to_cycle: false,
        create_case: Some(true),
        update_datasets: Some(false),
        bdd_force_update_case: true,
        force_update_case: true,
        update_only_run_status: true,
        ignore_class_in_auto_key: true,
        default_folder: Some("1204".into()),
    };
    assert_eq!(
        names(&all),
        [
            "createNewRun=false",
            "addCaseToCycle=false",
            "createCase=true",
            "updateDatasets=false",
            "bddForceUpdateCase=true",
            "forceUpdateCase=true",
            "updateOnlyRunStatus=true",
            "ignoreClassInAutoKey=true",
            "defaultFolder=1204",
        ]
    );
}

#[test]
fn auth_follows_the_url_unless_set() {
    let cloud = "https://tcms.aiojiraapps.com/aio-tcms/api/v1";
    let dc = base_url("https://jira.acme.test/jira/");
    assert_eq!(dc, "https://jira.acme.test/jira/rest/aio-tcms-api/1.0");
    assert_eq!(base_url(&format!("{cloud}/")), cloud);
    assert_eq!(AuthMode::for_url(cloud, "tok"), AuthMode::Aio);
    assert_eq!(AuthMode::for_url(&dc, "jira-user:pw"), AuthMode::Basic);
    assert_eq!(AuthMode::for_url(&dc, "pat"), AuthMode::Bearer);

    let with = |auth: AuthMode, token: &str| {
        authorization(&AioConfig {
            auth,
            token: Secret::new(token),
            ..key()
        })
    };
    assert_eq!(with(AuthMode::Aio, "t0k"), "AioAuth t0k");
    assert_eq!(with(AuthMode::Bearer, "jira-pat"), "Bearer jira-pat");
    // RFC 7617's example: Aladdin:open sesame.
    assert_eq!(
        with(AuthMode::Basic, "Aladdin:open sesame"),
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    );
    assert_eq!(with(AuthMode::Basic, "QWxhZGRpbg=="), "Basic QWxhZGRpbg==");
    assert_eq!(
        "Bearer".parse::<AuthMode>(),
        Ok(AuthMode::Bearer),
        "any case"
    );
    assert!("token".parse::<AuthMode>().is_err());
}

#[test]
fn base64_matches_rfc_4648_vectors() {
    let cases = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];
    for (raw, encoded) in cases {
        assert_eq!(base64(raw.as_bytes()), encoded, "{raw}");
    }
}

#[test]
fn a_cycle_title_is_found_by_exact_match() {
    let client = RecordingClient::new();
    client
        .respond(
            200,
            r#"{"items":[{"key":"PROJ-CY-3","title":"Nightly 2"},{"key":"PROJ-CY-7","title":"Nightly"}]}"#,
        )
        .respond(200, &success(1));
    let receipt = run(
        &client,
        &config(CycleChoice::Title("Nightly".into())),
        &[junit("a.xml")],
    );
    assert_eq!(receipt.cycle_key.as_deref(), Some("PROJ-CY-7"));
    assert!(!receipt.cycle_created);
    let requests = client.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[0].url.ends_with("/project/PROJ/testcycle/search"));
    assert_eq!(
        String::from_utf8_lossy(&requests[0].body),
        r#"{"title":{"comparisonType":"EXACT_MATCH","value":"Nightly"}}"#
    );
    assert!(requests[1]
        .url
        .contains("/testcycle/PROJ-CY-7/import/results?"));
}

#[test]
fn a_missing_cycle_is_created_with_the_run_in_its_objective() {
    let client = RecordingClient::new();
    client
        .respond(200, r#"{"items":[]}"#)
        .respond(200, r#"{"ID":91,"key":"PROJ-CY-8","title":"Nightly"}"#)
        .respond(200, &success(1));
    let receipt = run(
        &client,
        &config(CycleChoice::Title("Nightly".into())),
        &[junit("a.xml")],
    );
    assert_eq!(receipt.cycle_key.as_deref(), Some("PROJ-CY-8"));
    assert!(receipt.cycle_created);
    let requests = client.requests();
    assert!(requests[1].url.ends_with("/project/PROJ/testcycle/detail"));
    insta::assert_snapshot!(describe(&requests[1..2]));
}

#[test]
fn a_partial_success_keeps_each_case_error_with_a_hint() {
    let client = RecordingClient::new();
    client.respond(
        200,
        r#"{"status":"PARTIAL","requestCount":4,"successCount":1,"errorCount":3,
            "errors":{"com.acme.CartTest.removesAnItem":{"message":"No case found with this automation key. Either map automation key or set createCase to true."},
                      "PROJ-TC-9":{"message":"PROJ-TC-9 is in Under Review/Draft status. Only published cases can be added to cycle."},
                      "PROJ-TC-4":{"msg":"Something new"}},
            "processedData":{"PROJ-TC-1":{"status":"Passed"}}}"#,
    );
    let receipt = run(&client, &key(), &[junit("a.xml")]);
    assert!(receipt.errors.is_empty());
    assert_eq!((receipt.imported, receipt.errored), (1, 3));
    let errors: Vec<(&str, Option<&str>)> = receipt
        .case_errors
        .iter()
        .map(|e| (e.case.as_str(), e.hint))
        .collect();
    assert_eq!(
        errors,
        [
            ("PROJ-TC-4", None),
            (
                "PROJ-TC-9",
                Some("publish the case in AIO Tests, or take its key out of the test's name")
            ),
            (
                "com.acme.CartTest.removesAnItem",
                Some("set aio-create-case: true, or map the automation key to a case in AIO Tests")
            ),
        ]
    );
    assert_eq!(receipt.case_errors[0].message, "Something new");
    assert_eq!(receipt.case_errors[0].file, "a.xml");
}

#[test]
fn every_documented_message_has_a_hint() {
    for message in [
        "Invalid xml: Unable to parse file. Please check if it is a valid results.xml file.",
        "PROJ-TC-1 is in Under Review/Draft status. Only published cases can be added to cycle.",
        "PROJ-TC-1 not found or you don't have privileges to add this case.",
        "Case does not exist in the cycle. Set addCaseToCycle if you wish to add.",
        "No case found with this automation key. Either map automation key or set createCase to true.",
        "Unable to update automation data in the case. Insufficient permissions to edit cases in the project.",
    ] {
        assert!(hint(message).is_some(), "{message}");
    }
}

#[test]
fn a_batch_import_collects_batch_ids() {
    let client = RecordingClient::new();
    client
        .respond(200, r#"{"batchId":"b-1","size":"2048","errorMsg":null}"#)
        .respond(200, r#"{"batchId":"b-2","size":"10","errorMsg":null}"#)
        .respond(
            200,
            r#"{"batchId":null,"size":"0","errorMsg":"File too large"}"#,
        );
    let config = AioConfig {
        batch: true,
        ..key()
    };
    let receipt = run(
        &client,
        &config,
        &[junit("a.xml"), junit("b.xml"), junit("c.xml")],
    );
    assert_eq!(receipt.batch_ids, ["b-1", "b-2"]);
    assert_eq!(receipt.imported_files, ["a.xml", "b.xml"]);
    assert_eq!(
        receipt.errors[0].to_string(),
        "aio: import of c.xml: AIO refused the batch: File too large"
    );
    assert!(client.requests()[0]
        .url
        .ends_with("/testcycle/PROJ-CY-1/import/results/batch?type=Junit"));
}

#[test]
fn a_rejected_token_stops_and_says_which_scheme_is_needed() {
    let client = RecordingClient::new();
    client.respond(401, "Unauthorized");
    let receipt = run(&client, &key(), &[junit("a.xml"), junit("b.xml")]);
    assert_eq!(
        client.requests().len(),
        1,
        "401 is not retried nor repeated"
    );
    assert_eq!(receipt.errors.len(), 1);
    assert_eq!(
        receipt.errors[0].to_string(),
        "aio: import of a.xml: token rejected (Cloud tokens need the AioAuth scheme, Server/DC needs basic or bearer): HTTP 401 with aio-auth aio at https://tcms.aiojiraapps.com/aio-tcms/api/v1; check the aio-token secret, aio-auth and aio-url (1 more files not sent)"
    );

    let client = RecordingClient::new();
    client.respond(404, "Cycle PROJ-CY-1 not found in project PROJ");
    let receipt = run(&client, &key(), &[junit("a.xml"), junit("b.xml")]);
    assert_eq!(client.requests().len(), 1);
    assert!(receipt.errors[0]
        .message
        .starts_with("project 'PROJ' or its cycle not found (HTTP 404 Cycle PROJ-CY-1 not found"));
}

#[test]
fn a_failed_file_does_not_stop_the_others() {
    let client = RecordingClient::new();
    client
        .respond(400, "Unsupported type")
        .respond(200, &success(3));
    let receipt = run(&client, &key(), &[junit("a.xml"), junit("b.xml")]);
    assert_eq!(receipt.imported_files, ["b.xml"]);
    assert_eq!(receipt.imported, 3);
    assert_eq!(
        receipt.errors[0].message,
        "AIO rejected the request (HTTP 400): Unsupported type"
    );
}

#[test]
fn imports_that_add_runs_are_not_repeated_after_a_500_but_overwrites_are() {
    let client = RecordingClient::new();
    client.respond(500, "oops");
    let receipt = run(&client, &key(), &[junit("a.xml")]);
    assert_eq!(client.requests().len(), 1);
    assert_eq!(receipt.errors.len(), 1);

    let overwrite = AioConfig {
        flags: ImportFlags {
            create_new_run: false,
            ..ImportFlags::default()
        },
        ..key()
    };
    let client = RecordingClient::new();
    client.respond(500, "oops").respond(200, &success(1));
    let receipt = run(&client, &overwrite, &[junit("a.xml")]);
    assert_eq!(client.requests().len(), 2);
    assert!(receipt.errors.is_empty());
}

#[test]
fn a_429_pauses_for_its_retry_after() {
    let client = RecordingClient::new();
    let limited = Response::builder()
        .status(429)
        .header("retry-after", "7")
        .body(b"Rate limit exceeded".to_vec())
        .unwrap();
    client.respond_with(limited).respond(200, &success(1));
    let receipt = run(&client, &key(), &[junit("a.xml")]);
    assert!(receipt.errors.is_empty(), "{:?}", receipt.errors);
    assert_eq!(client.requests().len(), 2);
    assert_eq!(client.now_ms(), 7_000, "{:?}", client.sleeps());

    // Without Retry-After, the pause is a whole window: the limit is per minute.
    let client = RecordingClient::new();
    client.respond(429, "").respond(200, &success(1));
    let receipt = run(&client, &key(), &[junit("a.xml")]);
    assert!(receipt.errors.is_empty());
    assert_eq!(client.now_ms(), 60_000, "{:?}", client.sleeps());
}

/// A model of AIO's limit on the recording client's virtual clock: more than 60 arrivals
/// within 60 s answer 429.
struct LimitedServer {
    clock: RecordingClient,
    arrivals: RefCell<Vec<u64>>,
    throttled: RefCell<u32>,
}

impl HttpClient for LimitedServer {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        let now = self.clock.now_ms();
        let recent = self
            .arrivals
            .borrow()
            .iter()
            .filter(|t| now - **t < 60_000)
            .count();
        self.arrivals.borrow_mut().push(now);
        let _ = request;
        if recent >= 60 {
            *self.throttled.borrow_mut() += 1;
            return Ok(Response::builder().status(429).body(Vec::new()).unwrap());
        }
        Ok(Response::new(success(1).into_bytes()))
    }

    async fn sleep(&self, duration: Duration) {
        self.clock.sleep(duration).await;
    }

    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
}

#[test]
fn two_hundred_files_stay_under_sixty_requests_a_minute() {
    let server = LimitedServer {
        clock: RecordingClient::new(),
        arrivals: RefCell::new(Vec::new()),
        throttled: RefCell::new(0),
    };
    let files: Vec<ImportFile> = (0..200).map(|i| junit(&format!("r{i}.xml"))).collect();
    let receipt = block_on(upload(&server, &key(), &files, &RETRY_POLICY)).unwrap();
    assert!(receipt.errors.is_empty(), "{:?}", receipt.errors);
    assert_eq!(receipt.imported, 200);
    assert_eq!(*server.throttled.borrow(), 0, "no request was throttled");
    let arrivals = server.arrivals.borrow();
    assert_eq!(arrivals.len(), 200);
    for (i, t) in arrivals.iter().enumerate().skip(60) {
        assert!(t - arrivals[i - 60] >= 60_000, "request {i} at {t} ms");
    }
    // Paced, not crawled: three full windows, then the last 20 at once.
    assert_eq!(server.clock.now_ms(), 180_000);
}

#[test]
fn the_boundary_delimits_only_the_parts() {
    // A file quoting the boundary its plain twin would get.
    let plain = junit("a.xml");
    let (b, _) = build_form(&ImportFlags::default(), &plain);
    let hostile = ImportFile {
        bytes: format!("<x>--{b}</x>").into_bytes(),
        ..plain
    };
    let (b2, body) = build_form(&ImportFlags::default(), &hostile);
    let text = String::from_utf8_lossy(&body);
    assert_eq!(
        text.matches(&format!("--{b2}")).count(),
        8,
        "7 parts + the end"
    );
}
