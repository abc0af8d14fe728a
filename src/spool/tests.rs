use super::*;

use crate::http::{Response, Secret};
use crate::parse::{self, FormatChoice};

fn report(path: &str, name: &str) -> FileReport {
    let xml = format!("<testsuite name=\"{name}\"><testcase name=\"t\"/></testsuite>");
    FileReport {
        path: path.into(),
        result: parse::parse_bytes(xml.as_bytes(), FormatChoice::Auto),
        original: Some(xml.into_bytes()),
    }
}

fn config(finalize: Finalize) -> Config {
    Config {
        testnod: Some(TestnodSettings {
            token: Secret::new("tn-secret"),
            url: None,
            build_id: None,
            tags: Vec::new(),
            finalize,
        }),
        ..Config::default()
    }
}

fn inputs(finalize: Finalize, files: &[FileReport]) -> Inputs {
    Inputs {
        config: Config {
            spool: true,
            ..config(finalize)
        },
        files: files.to_vec(),
        ..Inputs::default()
    }
}

fn testnod_receipt(uploaded: &[&str], finalized: bool) -> Receipts {
    Receipts {
        testnod: Some(testnod::Receipt {
            build_id: "77-1".into(),
            uploaded: uploaded.iter().map(|s| s.to_string()).collect(),
            status: finalized.then(|| "processing".into()),
            errors: vec![ServiceError {
                service: "testnod",
                step: "put",
                file: Some("b.xml".into()),
                message: "HTTP 403".into(),
            }],
            ..testnod::Receipt::default()
        }),
        ..Receipts::default()
    }
}

#[test]
fn the_spool_holds_the_files_not_uploaded_and_the_finalize() {
    let files = [
        report("a.xml", "a"),
        report("b.xml", "b"),
        report("c.xml", "c"),
    ];
    let receipts = testnod_receipt(&["a.xml"], false);
    let spool = plan(
        &inputs(Finalize::True, &files),
        &receipts,
        &CiInfo::default(),
        5,
    )
    .unwrap();
    let pending = spool.testnod.as_ref().unwrap();
    assert_eq!(pending.build_id, "77-1");
    assert!(pending.finalize);
    let paths: Vec<&str> = pending.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["b.xml", "c.xml"]);
    assert_eq!(spool.pending(), 3);
    assert_eq!(
        spool.payloads().iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        ["testnod-0.xml", "testnod-1.xml"]
    );
    // A shard (finalize false) that uploaded everything leaves nothing.
    let all = testnod_receipt(&["a.xml", "b.xml", "c.xml"], false);
    assert_eq!(
        plan(
            &inputs(Finalize::False, &files),
            &all,
            &CiInfo::default(),
            5
        ),
        None
    );
    // Not spooling (no --spool-dir, spool: false): nothing to write.
    let off = Inputs {
        config: config(Finalize::True),
        ..inputs(Finalize::True, &files)
    };
    assert_eq!(plan(&off, &receipts, &CiInfo::default(), 5), None);
}

#[test]
fn a_manifest_reads_back_with_its_payloads_and_never_names_a_path_outside() {
    let files = [report("a.xml", "a"), report("b.xml", "b")];
    let receipts = testnod_receipt(&[], false);
    let spool = plan(
        &inputs(Finalize::True, &files),
        &receipts,
        &CiInfo::default(),
        5,
    )
    .unwrap();
    let stored: Vec<(String, Vec<u8>)> = spool
        .payloads()
        .iter()
        .map(|(n, b)| (n.to_string(), b.to_vec()))
        .collect();
    let manifest = spool.manifest();
    assert!(!manifest.contains("tn-secret"));
    let read = Spool::read(manifest.as_bytes(), |name| {
        stored
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
            .ok_or_else(|| "missing".to_owned())
    })
    .unwrap();
    assert_eq!(read, spool);
    let hostile = manifest.replace("testnod-0.xml", "../../etc/passwd");
    let err = Spool::read(hostile.as_bytes(), |_| Ok(Vec::new())).unwrap_err();
    assert!(err.contains("not a spool file name"), "{err}");
    let future = manifest.replace("\"version\": 1", "\"version\": 9");
    assert!(Spool::read(future.as_bytes(), |_| Ok(Vec::new())).is_err());
}

#[test]
fn every_file_is_delivered_or_listed_with_its_reason() {
    let files = [report("a.xml", "a"), report("b.xml", "b")];
    let delivery = Delivery::of(
        &config(Finalize::False),
        &files,
        &testnod_receipt(&["a.xml"], false),
    );
    assert_eq!(delivery.units, 2);
    assert_eq!(
        delivery.undelivered,
        [Undelivered {
            file: "b.xml".into(),
            service: TESTNOD,
            reason: "testnod: put of b.xml: HTTP 403".into(),
        }]
    );
    // Uploaded but never finalized is not delivered either.
    let held = Delivery::of(
        &config(Finalize::True),
        &files,
        &testnod_receipt(&["a.xml"], false),
    );
    assert_eq!(held.undelivered.len(), 2);
    assert!(held
        .markdown()
        .contains("| `a.xml` | TestNod | uploaded, the run not finalized"));
}

fn valueedge_settings(workspace: &str) -> crate::config::ValueedgeSettings {
    crate::config::ValueedgeSettings {
        url: "https://octane.example".into(),
        shared_space: "1001".into(),
        workspace: workspace.into(),
        client_id: Secret::new("ve-id"),
        client_secret: Secret::new("ve-secret"),
        skip_errors: true,
        wait: true,
        links: valueedge::Links::default(),
    }
}

const GHERKIN_XML: &str =
    "<test_result><test_runs><gherkin_test_run name=\"f\"/></test_runs></test_result>";

/// An upload of two documents whose second push failed.
fn valueedge_spool() -> Spool {
    let inputs = Inputs {
        config: Config {
            spool: true,
            valueedge: Some(valueedge_settings("1002")),
            ..Config::default()
        },
        files: vec![report("a.xml", "a")],
        ..Inputs::default()
    };
    let document = |xml: &str| Document {
        xml: xml.into(),
        runs: 1,
    };
    let receipts = Receipts {
        valueedge: Some(valueedge::Receipt {
            tasks: vec![valueedge::Task {
                id: 7,
                status: "success".into(),
                ..valueedge::Task::default()
            }],
            errors: vec![ServiceError {
                service: "valueedge",
                step: "push",
                file: None,
                message: "HTTP 403".into(),
            }],
            unsent: vec![(1, document(GHERKIN_XML))],
        }),
        ..Receipts::default()
    };
    plan(&inputs, &receipts, &CiInfo::default(), 5).unwrap()
}

#[test]
fn valueedge_spools_the_documents_not_accepted_byte_for_byte_with_their_space() {
    let spool = valueedge_spool();
    let pending = spool.valueedge.as_ref().unwrap();
    assert_eq!(
        (pending.shared_space.as_str(), pending.workspace.as_str()),
        ("1001", "1002")
    );
    assert!(pending.skip_errors);
    assert_eq!(pending.document_count, 2);
    assert_eq!(pending.documents.len(), 1);
    assert_eq!(pending.documents[0].index, 2);
    assert_eq!(pending.documents[0].file.path, "document 2 of 2");
    assert_eq!(spool.pending(), 1);
    assert_eq!(
        spool.payloads(),
        [("valueedge-2.xml", GHERKIN_XML.as_bytes())]
    );
    let manifest = spool.manifest();
    for secret in ["ve-id", "ve-secret"] {
        assert!(!manifest.contains(secret), "{manifest}");
    }
    let read = Spool::read(manifest.as_bytes(), |name| {
        (name == "valueedge-2.xml")
            .then(|| GHERKIN_XML.as_bytes().to_vec())
            .ok_or_else(|| "missing".to_owned())
    })
    .unwrap();
    assert_eq!(read, spool);
    let hostile = manifest.replace("valueedge-2.xml", "../valueedge-2.xml");
    assert!(Spool::read(hostile.as_bytes(), |_| Ok(Vec::new())).is_err());
}

#[test]
fn a_valueedge_resume_sends_the_spooled_bytes_to_the_spooled_workspace() {
    use crate::http::recording::{block_on, RecordingClient};
    use crate::upload::dry_run;

    let spool = valueedge_spool();
    // Given another workspace at resume, the documents still go where their links belong.
    let config = Config {
        valueedge: Some(valueedge_settings("9999")),
        ..Config::default()
    };
    let client = RecordingClient::answering(dry_run::respond);
    let resumed = block_on(resume(&client, &spool, &config, &CiInfo::default())).unwrap();
    assert!(resumed.errors.is_empty(), "{:?}", resumed.errors);
    assert_eq!(resumed.spool, None);
    assert_eq!(
        (resumed.delivery.units, resumed.delivery.undelivered.len()),
        (1, 0)
    );
    let pushes: Vec<_> = client
        .requests()
        .into_iter()
        .filter(|r| r.url.contains("/test-results?"))
        .collect();
    assert_eq!(pushes.len(), 1);
    assert_eq!(
        pushes[0].url,
        "https://octane.example/api/shared_spaces/1001/workspaces/1002/test-results?skip-errors=true"
    );
    assert_eq!(
        valueedge::gunzip(&pushes[0].body).as_deref(),
        Some(GHERKIN_XML.as_bytes())
    );

    // Refused again: the next spool keeps the document's first index.
    let client = RecordingClient::answering(dry_run::respond);
    let sign_in = Response::builder()
        .header("set-cookie", "LWSSO_COOKIE_KEY=c; Path=/")
        .body(Vec::new())
        .unwrap();
    client.respond_with(sign_in).respond(403, "{}");
    let resumed = block_on(resume(&client, &spool, &config, &CiInfo::default())).unwrap();
    assert_eq!(resumed.exit_code, ExitCode::PublishFailed.code());
    assert_eq!(resumed.delivery.undelivered[0].file, "document 2 of 2");
    assert_eq!(resumed.spool.unwrap().valueedge, spool.valueedge);

    // Without the key nothing is sent and the flags to give are named.
    let client = RecordingClient::answering(dry_run::respond);
    let resumed = block_on(resume(
        &client,
        &spool,
        &Config::default(),
        &CiInfo::default(),
    ))
    .unwrap();
    assert!(client.requests().is_empty());
    assert!(
        resumed.errors[0].contains("--valueedge-client-secret"),
        "{:?}",
        resumed.errors
    );
    assert_eq!(resumed.spool.unwrap().valueedge, spool.valueedge);
}

#[test]
fn a_resume_takes_project_cycle_and_space_from_the_spool_and_keeps_what_was_given() {
    let spool = Spool {
        version: 1,
        created_ms: 0,
        ci_build_id: None,
        testnod: None,
        aio: Some(AioPending {
            project: Some("PROJ".into()),
            cycle_key: Some("PROJ-CY-7".into()),
            files: Vec::new(),
        }),
        testomatio: None,
        valueedge: Some(ValueedgePending {
            shared_space: "1001".into(),
            workspace: "1002".into(),
            skip_errors: false,
            document_count: 1,
            documents: Vec::new(),
        }),
    };
    let mut raw = RawConfig {
        aio_token: Some("t".into()),
        aio_cycle_title: Some("Nightly".into()),
        valueedge_workspace: Some("2002".into()),
        ..RawConfig::default()
    };
    spool.complete(&mut raw);
    assert_eq!(raw.aio_project.as_deref(), Some("PROJ"));
    // The cycle the first attempt resolved, not a second one found or created by title.
    assert_eq!(raw.aio_cycle.as_deref(), Some("PROJ-CY-7"));
    assert_eq!(raw.aio_cycle_title, None);
    assert_eq!(raw.valueedge_shared_space.as_deref(), Some("1001"));
    assert_eq!(
        raw.valueedge_workspace.as_deref(),
        Some("2002"),
        "given, so kept"
    );
    let aio = raw
        .validate()
        .expect("complete settings")
        .aio
        .expect("aio on");
    assert_eq!(aio.project, "PROJ");
}
