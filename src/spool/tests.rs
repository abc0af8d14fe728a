use super::*;

use crate::http::Secret;
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
