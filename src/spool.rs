//! Spool and resume (issue 10): what the uploads left undelivered, kept to be sent later, and the
//! delivery table that accounts for every report file.
//!
//! - Every report file ends in exactly one of: delivered to each configured service, or a row of
//!   the [`Delivery`] table naming the service and the reason (summary, `undelivered` output, exit
//!   code 3 through the publish errors).
//! - The spool holds what remains in the unit each service delivers in: TestNod a file (and the
//!   finalize, held back while files are missing, so resumed files join the same run); AIO a file
//!   (with the resolved cycle key, so a resume never creates a second cycle); Testomat.io a batch
//!   (with the run uid and its `batch_index`, and the finish, held back like TestNod's finalize);
//!   ValueEdge a document whose push was not accepted, byte for byte (a resend of one the server
//!   did process is answered with its first task), with the shared space, workspace and
//!   `skip-errors` it was sent with: a resume sends there, as the documents' link ids belong to
//!   that workspace. An accepted push is not spooled, whatever its task did after.
//! - A Testomat.io batch mixes the tests of several files: while any of its steps failed, every
//!   file is listed as not delivered there (over-reporting rather than claiming a delivery).
//! - The manifest holds no secret: tokens come again from flags, environment or inputs on resume.
//!   Payload bytes are separate files named `<service>-<n>.<ext>`, referenced from the manifest.
//! - A resume sends only the pending units; what fails again becomes the next spool.

use serde::{Deserialize, Serialize};

use crate::ci::CiInfo;
use crate::config::{Config, RawConfig, TestnodSettings};
use crate::http::retry::RetryPolicy;
use crate::http::HttpClient;
use crate::model::TestRun;
use crate::pipeline::{self, EnvMap, ExitCode, FileReport, Inputs, Receipts};
use crate::upload::aio::{self, CycleChoice, ImportFile, ImportType};
use crate::upload::testnod::{self, Finalize};
use crate::upload::valueedge::{self, Document, ValueedgeConfig};
use crate::upload::{testomat, Payload, ServiceError};

/// The manifest format; a resume refuses other versions.
pub const VERSION: u32 = 1;
/// The manifest's file name inside the spool directory.
pub const MANIFEST: &str = "manifest.json";
const TESTNOD: &str = "TestNod";
const AIO: &str = "AIO Tests";
const TESTOMAT: &str = "Testomat.io";
const VALUEEDGE: &str = "ValueEdge";

/// What remains to be sent, per service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spool {
    pub version: u32,
    /// When the spool was written, ms since the Unix epoch.
    pub created_ms: u64,
    /// The CI build the reports came from, for the user to recognise the spool.
    pub ci_build_id: Option<String>,
    pub testnod: Option<TestnodPending>,
    pub aio: Option<AioPending>,
    pub testomatio: Option<TestomatPending>,
    pub valueedge: Option<ValueedgePending>,
}

/// One payload: the report it came from and the spool file holding its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpooledFile {
    pub path: String,
    pub payload: String,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestnodPending {
    /// The run the files join: the resume must not default to another CI run's id.
    pub build_id: String,
    /// The run still has to be finalized.
    pub finalize: bool,
    pub files: Vec<SpooledFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AioPending {
    /// The project the files belong to (absent in spools written before it was recorded).
    #[serde(default)]
    pub project: Option<String>,
    /// The cycle the sent files went into, when it was resolved.
    pub cycle_key: Option<String>,
    pub files: Vec<AioSpooledFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AioSpooledFile {
    #[serde(flatten)]
    pub file: SpooledFile,
    pub kind: ImportType,
    pub converted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestomatPending {
    /// The run the batches go to; `None` when it was never created (a resume creates it).
    pub run_uid: Option<String>,
    /// Batches the upload cut the tests into, for `batch N of M` messages.
    pub batch_count: usize,
    /// The undelivered batches: `batch_index` as first sent, the tests one JSON object a line.
    pub batches: Vec<TestomatBatch>,
    /// The finish still to send (`false`: none).
    pub finish: testomat::Finish,
    /// The run's duration for the finish.
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestomatBatch {
    pub index: usize,
    #[serde(flatten)]
    pub file: SpooledFile,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueedgePending {
    /// Where the documents go: their link ids (release, backlog items) belong to this workspace.
    pub shared_space: String,
    pub workspace: String,
    /// The `skip-errors` they were first sent with.
    pub skip_errors: bool,
    /// Documents the upload cut the runs into, for `document N of M` labels.
    pub document_count: usize,
    pub documents: Vec<ValueedgeDocument>,
}

/// One `test_result` XML document, uncompressed: the same bytes gzip to the same payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueedgeDocument {
    /// Its position among the documents first sent, from 1.
    pub index: usize,
    /// Runs in it.
    pub runs: usize,
    #[serde(flatten)]
    pub file: SpooledFile,
}

impl TestomatBatch {
    fn tests(&self) -> Vec<Vec<u8>> {
        self.file
            .bytes
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .map(<[u8]>::to_vec)
            .collect()
    }
}

impl Spool {
    /// Fills in what the spool already knows and the inputs leave blank, so a resume needs only
    /// credentials: ValueEdge's shared space and workspace, AIO's project and the cycle the first
    /// attempt resolved (a cycle title given again is dropped for it: they are exclusive).
    pub fn complete(&self, raw: &mut RawConfig) {
        let blank = |field: &Option<String>| field.as_deref().is_none_or(|v| v.trim().is_empty());
        let mut known: Vec<(&mut Option<String>, &String)> = Vec::new();
        if let Some(pending) = &self.valueedge {
            known.push((&mut raw.valueedge_shared_space, &pending.shared_space));
            known.push((&mut raw.valueedge_workspace, &pending.workspace));
        }
        if let Some(pending) = &self.aio {
            if let Some(project) = &pending.project {
                known.push((&mut raw.aio_project, project));
            }
            if let Some(key) = &pending.cycle_key {
                raw.aio_cycle_title = None;
                known.push((&mut raw.aio_cycle, key));
            }
        }
        for (field, value) in known {
            if blank(field) {
                *field = Some(value.clone());
            }
        }
    }

    /// Pending units: files and batches, plus a TestNod finalize and a Testomat.io finish.
    pub fn pending(&self) -> usize {
        let testnod = self
            .testnod
            .as_ref()
            .map_or(0, |t| t.files.len() + usize::from(t.finalize));
        let testomat = self.testomatio.as_ref().map_or(0, |t| {
            t.batches.len() + usize::from(t.finish.status_event().is_some())
        });
        let valueedge = self.valueedge.as_ref().map_or(0, |v| v.documents.len());
        testnod + testomat + valueedge + self.aio.as_ref().map_or(0, |a| a.files.len())
    }

    fn files(&self) -> impl Iterator<Item = &SpooledFile> {
        let testnod = self.testnod.iter().flat_map(|t| t.files.iter());
        let aio = self
            .aio
            .iter()
            .flat_map(|a| a.files.iter().map(|f| &f.file));
        let testomat = self
            .testomatio
            .iter()
            .flat_map(|t| t.batches.iter().map(|b| &b.file));
        let valueedge = self
            .valueedge
            .iter()
            .flat_map(|v| v.documents.iter().map(|d| &d.file));
        testnod.chain(aio).chain(testomat).chain(valueedge)
    }

    /// The manifest, pretty JSON.
    pub fn manifest(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The payload files to write next to the manifest: name and bytes.
    pub fn payloads(&self) -> Vec<(&str, &[u8])> {
        self.files()
            .map(|f| (f.payload.as_str(), f.bytes.as_slice()))
            .collect()
    }

    /// Reads a manifest and loads each payload by name through `load` (the edge reads the file).
    pub fn read(
        manifest: &[u8],
        mut load: impl FnMut(&str) -> Result<Vec<u8>, String>,
    ) -> Result<Spool, String> {
        let mut spool: Spool = serde_json::from_slice(manifest)
            .map_err(|e| format!("{MANIFEST}: not a spool manifest ({e})"))?;
        if spool.version != VERSION {
            return Err(format!(
                "{MANIFEST}: spool version {} is not {VERSION}: resume with the test-report version that wrote it",
                spool.version
            ));
        }
        let testnod = spool.testnod.iter_mut().flat_map(|t| t.files.iter_mut());
        let aio = spool
            .aio
            .iter_mut()
            .flat_map(|a| a.files.iter_mut().map(|f| &mut f.file));
        let testomat = spool
            .testomatio
            .iter_mut()
            .flat_map(|t| t.batches.iter_mut().map(|b| &mut b.file));
        let valueedge = spool
            .valueedge
            .iter_mut()
            .flat_map(|v| v.documents.iter_mut().map(|d| &mut d.file));
        for file in testnod.chain(aio).chain(testomat).chain(valueedge) {
            if !is_payload_name(&file.payload) {
                return Err(format!(
                    "{MANIFEST}: payload name '{}' of {} is not a spool file name",
                    file.payload, file.path
                ));
            }
            file.bytes = load(&file.payload).map_err(|e| {
                format!("{}: payload of {} unreadable: {e}", file.payload, file.path)
            })?;
        }
        Ok(spool)
    }
}

/// Names the spool writes: no separators, so a manifest cannot point outside its directory.
fn is_payload_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

fn spooled(service: &str, i: usize, path: &str, bytes: &[u8], ext: &str) -> SpooledFile {
    SpooledFile {
        path: path.to_owned(),
        payload: format!("{service}-{i}.{ext}"),
        bytes: bytes.to_vec(),
    }
}

/// TestNod's pending units after an upload of `payloads` as `finalize` asked.
fn testnod_pending(
    payloads: &[Payload],
    receipt: &testnod::Receipt,
    finalize: Finalize,
) -> Option<TestnodPending> {
    let files: Vec<SpooledFile> = if finalize == Finalize::Only {
        Vec::new()
    } else {
        payloads
            .iter()
            .filter(|p| !receipt.uploaded.contains(&p.path))
            .enumerate()
            .map(|(i, p)| spooled("testnod", i, &p.path, &p.bytes, "xml"))
            .collect()
    };
    let finalize = finalize != Finalize::False && receipt.status.is_none();
    (finalize || !files.is_empty()).then(|| TestnodPending {
        build_id: receipt.build_id.clone(),
        finalize,
        files,
    })
}

fn aio_pending(project: &str, files: &[ImportFile], receipt: &aio::Receipt) -> Option<AioPending> {
    let files: Vec<AioSpooledFile> = files
        .iter()
        .filter(|f| !receipt.imported_files.contains(&f.path))
        .enumerate()
        .map(|(i, f)| AioSpooledFile {
            file: spooled(
                "aio",
                i,
                &f.path,
                &f.bytes,
                match f.kind {
                    ImportType::Cucumber | ImportType::Newman => "json",
                    _ => "xml",
                },
            ),
            kind: f.kind,
            converted: f.converted,
        })
        .collect();
    (!files.is_empty()).then(|| AioPending {
        project: Some(project.to_owned()),
        cycle_key: receipt.cycle_key.clone(),
        files,
    })
}

/// Testomat.io's pending units: every batch when no run was opened, else the failed ones; and
/// the finish when it was wanted and not accepted.
fn testomat_pending(
    batches: &[testomat::Batch],
    batch_count: usize,
    receipt: &testomat::Receipt,
    finish: testomat::Finish,
    duration_ms: u64,
) -> Option<TestomatPending> {
    let batches: Vec<TestomatBatch> = batches
        .iter()
        .filter(|(i, _)| receipt.run_uid.is_none() || receipt.failed_batches.contains(i))
        .map(|(index, tests)| TestomatBatch {
            index: *index,
            file: SpooledFile {
                path: format!("batch {index} of {batch_count}"),
                payload: format!("testomatio-{index}.jsonl"),
                bytes: tests.join(&b'\n'),
            },
        })
        .collect();
    let finish = if receipt.finished.is_none() {
        finish
    } else {
        testomat::Finish::False
    };
    (!batches.is_empty() || finish.status_event().is_some()).then(|| TestomatPending {
        run_uid: receipt.run_uid.clone(),
        batch_count,
        batches,
        finish,
        duration_ms,
    })
}

/// ValueEdge's pending documents: those no push was accepted for; `index` maps a position in
/// the sent list to the document's first index.
fn valueedge_pending(
    space: (&str, &str, bool),
    document_count: usize,
    receipt: &valueedge::Receipt,
    index: impl Fn(usize) -> usize,
) -> Option<ValueedgePending> {
    let (shared_space, workspace, skip_errors) = space;
    let documents: Vec<ValueedgeDocument> = receipt
        .unsent
        .iter()
        .map(|(position, document)| {
            let index = index(*position);
            ValueedgeDocument {
                index,
                runs: document.runs,
                file: SpooledFile {
                    path: format!("document {index} of {document_count}"),
                    payload: format!("valueedge-{index}.xml"),
                    bytes: document.xml.as_bytes().to_vec(),
                },
            }
        })
        .collect();
    (!documents.is_empty()).then(|| ValueedgePending {
        shared_space: shared_space.to_owned(),
        workspace: workspace.to_owned(),
        skip_errors,
        document_count,
        documents,
    })
}

/// The spool of a pipeline run, `None` when not spooling or everything spoolable was delivered.
pub fn plan(inputs: &Inputs, receipts: &Receipts, ci: &CiInfo, now_ms: u64) -> Option<Spool> {
    let (config, files) = (&inputs.config, inputs.files.as_slice());
    if !config.spool {
        return None;
    }
    let testnod = config
        .testnod
        .as_ref()
        .zip(receipts.testnod.as_ref())
        .and_then(|(settings, receipt)| {
            testnod_pending(&pipeline::junit_payloads(files), receipt, settings.finalize)
        });
    let aio = config
        .aio
        .as_ref()
        .zip(receipts.aio.as_ref())
        .and_then(|(settings, receipt)| {
            aio_pending(&settings.project, &aio::import_files(files), receipt)
        });
    let testomatio = config
        .testomatio
        .as_ref()
        .zip(receipts.testomatio.as_ref())
        .and_then(|(settings, receipt)| {
            // The same settings cut the same batches the upload sent.
            let cfg = pipeline::testomat_config(settings, &inputs.env, ci);
            let reports: Vec<(&str, &[TestRun])> =
                files.iter().map(|f| (f.path.as_str(), f.runs())).collect();
            let batches: Vec<testomat::Batch> =
                testomat::batches(&testomat::build_tests(&cfg, &reports))
                    .into_iter()
                    .enumerate()
                    .map(|(i, b)| (i + 1, b))
                    .collect();
            let duration_ms = files.iter().map(|f| f.totals().duration_ms).sum();
            testomat_pending(
                &batches,
                batches.len(),
                receipt,
                settings.finish,
                duration_ms,
            )
        });
    let valueedge = config
        .valueedge
        .as_ref()
        .zip(receipts.valueedge.as_ref())
        .and_then(|(settings, receipt)| {
            let space = (
                settings.shared_space.as_str(),
                settings.workspace.as_str(),
                settings.skip_errors,
            );
            // Every document either became a task or stayed unsent.
            let count = receipt.tasks.len() + receipt.unsent.len();
            valueedge_pending(space, count, receipt, |position| position + 1)
        });
    let spool = Spool {
        version: VERSION,
        created_ms: now_ms,
        ci_build_id: ci.build_id.clone(),
        testnod,
        aio,
        testomatio,
        valueedge,
    };
    (spool.pending() > 0).then_some(spool)
}

/// One report file at one service that did not get it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Undelivered {
    pub file: String,
    pub service: &'static str,
    pub reason: String,
}

/// Every report file × configured service that did not end delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// Report files × configured services.
    pub units: usize,
    pub undelivered: Vec<Undelivered>,
}

/// The reason a file did not reach a service: its own error, else the step that stopped all.
fn reason(errors: &[ServiceError], file: &str) -> String {
    errors
        .iter()
        .find(|e| e.file.as_deref() == Some(file))
        .or_else(|| errors.iter().find(|e| e.file.is_none()))
        .or(errors.first())
        .map_or_else(|| "not sent".to_owned(), ToString::to_string)
}

impl Delivery {
    fn account(&mut self, file: &str, service: &'static str, missing: Option<String>) {
        self.units += 1;
        if let Some(reason) = missing {
            self.undelivered.push(Undelivered {
                file: file.to_owned(),
                service,
                reason,
            });
        }
    }

    /// Accounts each file at each service that was configured, from its receipt.
    pub fn of(config: &Config, files: &[FileReport], receipts: &Receipts) -> Delivery {
        let mut delivery = Delivery::default();
        for file in files {
            let path = file.path.as_str();
            let unreadable = file.error().map(|e| format!("unreadable report: {e}"));
            if let Some(r) = &receipts.testnod {
                let finalize = config
                    .testnod
                    .as_ref()
                    .map_or(Finalize::True, |s| s.finalize);
                delivery.account(
                    path,
                    TESTNOD,
                    unreadable
                        .clone()
                        .or_else(|| testnod_missing(r, finalize, path)),
                );
            }
            if let Some(r) = &receipts.aio {
                let missing =
                    (!r.imported_files.iter().any(|f| f == path)).then(|| reason(&r.errors, path));
                delivery.account(path, AIO, unreadable.clone().or(missing));
            }
            if let Some(r) = &receipts.testomatio {
                // Tests of one file may span batches: any failed step leaves the file in doubt.
                let missing = (!r.errors.is_empty()).then(|| {
                    format!(
                        "{} ({} of {} tests sent)",
                        reason(&r.errors, path),
                        r.tests_sent,
                        r.tests_total
                    )
                });
                delivery.account(path, TESTOMAT, unreadable.clone().or(missing));
            }
            if let Some(r) = &receipts.valueedge {
                let missing = r
                    .errors
                    .iter()
                    .any(|e| e.file.is_none() || e.file.as_deref() == Some(path))
                    .then(|| reason(&r.errors, path));
                delivery.account(path, VALUEEDGE, unreadable.clone().or(missing));
            }
        }
        delivery
    }

    /// The table for the summary: empty when everything was delivered.
    pub fn markdown(&self) -> String {
        if self.undelivered.is_empty() {
            return String::new();
        }
        let mut out = format!(
            "\n### Not delivered\n\n{} of {} report uploads did not arrive:\n\n| Report | Service | Reason |\n|---|---|---|\n",
            self.undelivered.len(),
            self.units
        );
        for u in &self.undelivered {
            let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                cell(&u.file),
                u.service,
                cell(&u.reason)
            ));
        }
        out
    }
}

fn testnod_missing(r: &testnod::Receipt, finalize: Finalize, path: &str) -> Option<String> {
    if finalize != Finalize::Only && !r.uploaded.iter().any(|f| f == path) {
        return Some(reason(&r.errors, path));
    }
    // An uploaded file is only results once its run is finalized.
    (finalize != Finalize::False && r.status.is_none()).then(|| {
        r.errors.iter().find(|e| e.step == "finalize").map_or_else(
            || "uploaded, the run not finalized yet: resume the spool".to_owned(),
            |e| format!("uploaded, the run not finalized: {e}"),
        )
    })
}

/// What a resume did.
#[derive(Debug, Clone, Serialize)]
pub struct Resumed {
    pub receipts: Receipts,
    pub delivery: Delivery,
    /// The summary Markdown: the delivery of the resumed units.
    pub summary: String,
    /// What still failed, to spool again.
    #[serde(skip)]
    pub spool: Option<Spool>,
    pub errors: Vec<String>,
    pub exit_code: i32,
}

/// Sends a spool's pending units with fresh settings (credentials, URLs) from `config`.
pub async fn resume<C: HttpClient>(
    client: &C,
    spool: &Spool,
    config: &Config,
    ci: &CiInfo,
) -> Resumed {
    let mut receipts = Receipts::default();
    let mut errors = Vec::new();
    let mut next = Spool {
        created_ms: client.now_ms(),
        testnod: None,
        aio: None,
        testomatio: None,
        valueedge: None,
        ..spool.clone()
    };
    let mut delivery = Delivery::default();
    if let Some(pending) = &spool.testnod {
        // The spooled build id wins: the files join the run they were meant for.
        let settings = config.testnod.clone().map(|s| TestnodSettings {
            build_id: Some(pending.build_id.clone()),
            ..s
        });
        match settings.map(|s| pipeline::testnod_config(&s, ci, true)) {
            Some(Ok(mut cfg)) => {
                cfg.finalize = match (pending.files.is_empty(), pending.finalize) {
                    (true, _) => Finalize::Only,
                    (false, true) => Finalize::True,
                    (false, false) => Finalize::False,
                };
                let payloads: Vec<Payload> = pending
                    .files
                    .iter()
                    .map(|f| Payload {
                        path: f.path.clone(),
                        bytes: f.bytes.clone(),
                    })
                    .collect();
                let receipt =
                    testnod::upload(client, &cfg, &payloads, &RetryPolicy::default()).await;
                errors.extend(receipt.errors.iter().map(ToString::to_string));
                for p in &payloads {
                    delivery.account(&p.path, TESTNOD, testnod_missing(&receipt, cfg.finalize, &p.path));
                }
                if payloads.is_empty() {
                    delivery.account("(finalize)", TESTNOD, testnod_missing(&receipt, cfg.finalize, ""));
                }
                next.testnod = testnod_pending(&payloads, &receipt, cfg.finalize);
                receipts.testnod = Some(receipt);
            }
            Some(Err(e)) => errors.push(e.to_string()),
            None => errors.push(
                "testnod: the spool has TestNod units pending: give the TestNod token (--testnod-token or TESTNOD_PROJECT_TOKEN)".to_owned(),
            ),
        }
        if receipts.testnod.is_none() {
            for f in &pending.files {
                delivery.account(&f.path, TESTNOD, errors.last().cloned());
            }
            next.testnod = Some(pending.clone());
        }
    }
    if let Some(pending) = &spool.aio {
        match &config.aio {
            Some(settings) => {
                let mut cfg = pipeline::aio_config(settings, ci);
                if let Some(key) = &pending.cycle_key {
                    cfg.cycle = CycleChoice::Key(key.clone());
                }
                let files: Vec<ImportFile> = pending
                    .files
                    .iter()
                    .map(|f| ImportFile {
                        path: f.file.path.clone(),
                        kind: f.kind,
                        converted: f.converted,
                        bytes: f.file.bytes.clone(),
                    })
                    .collect();
                let receipt = aio::upload(client, &cfg, &files, &aio::RETRY_POLICY).await;
                errors.extend(receipt.errors.iter().map(ToString::to_string));
                for f in &files {
                    let missing = (!receipt.imported_files.contains(&f.path))
                        .then(|| reason(&receipt.errors, &f.path));
                    delivery.account(&f.path, AIO, missing);
                }
                next.aio = aio_pending(&cfg.project, &files, &receipt);
                receipts.aio = Some(receipt);
            }
            None => {
                let why = "aio: the spool has AIO files pending: give the AIO token again (--aio-token, and --aio-url when not Cloud)".to_owned();
                for f in &pending.files {
                    delivery.account(&f.file.path, AIO, Some(why.clone()));
                }
                errors.push(why);
                next.aio = Some(pending.clone());
            }
        }
    }
    if let Some(pending) = &spool.testomatio {
        next.testomatio = resume_testomat(client, pending, config, ci, &mut delivery, &mut errors)
            .await
            .map(|r| {
                receipts.testomatio = Some(r.0);
                r.1
            })
            .unwrap_or_else(|| Some(pending.clone()));
    }
    if let Some(pending) = &spool.valueedge {
        next.valueedge = resume_valueedge(client, pending, config, &mut delivery, &mut errors)
            .await
            .map(|r| {
                receipts.valueedge = Some(r.0);
                r.1
            })
            .unwrap_or_else(|| Some(pending.clone()));
    }
    let still = next.pending();
    let mut summary = format!(
        "### Resumed uploads\n\n{} of {} resumed uploads delivered; {still} units still pending.\n",
        delivery.units - delivery.undelivered.len(),
        delivery.units
    );
    summary.push_str(&delivery.markdown());
    let exit = if errors.is_empty() {
        ExitCode::Ok
    } else {
        ExitCode::PublishFailed
    };
    Resumed {
        receipts,
        delivery,
        summary,
        spool: (next.pending() > 0).then_some(next),
        errors,
        exit_code: exit.code(),
    }
}

/// Sends Testomat.io's pending batches to their run (created now if it never was) and
/// finishes; `None` when there are no settings to send with.
async fn resume_testomat<C: HttpClient>(
    client: &C,
    pending: &TestomatPending,
    config: &Config,
    ci: &CiInfo,
    delivery: &mut Delivery,
    errors: &mut Vec<String>,
) -> Option<(testomat::Receipt, Option<TestomatPending>)> {
    let Some(settings) = &config.testomatio else {
        let why = "testomatio: the spool has Testomat.io batches pending: give the API key again (--testomatio-api-key or TESTOMATIO)".to_owned();
        for batch in &pending.batches {
            delivery.account(&batch.file.path, TESTOMAT, Some(why.clone()));
        }
        errors.push(why);
        return None;
    };
    // The rids are in the spooled tests already: no environment is needed to scope them.
    let cfg = testomat::TestomatConfig {
        finish: pending.finish,
        hold_finish: true,
        ..pipeline::testomat_config(settings, &EnvMap::new(), ci)
    };
    let batches: Vec<testomat::Batch> = pending
        .batches
        .iter()
        .map(|b| (b.index, b.tests()))
        .collect();
    let mut receipt = testomat::Receipt {
        run_uid: pending.run_uid.clone(),
        tests_total: batches.iter().map(|(_, t)| t.len()).sum(),
        ..testomat::Receipt::default()
    };
    let policy = RetryPolicy::default();
    let uid = match &pending.run_uid {
        Some(uid) => Some(uid.clone()),
        None => testomat::open(client, &cfg, &policy, &mut receipt).await,
    };
    if let Some(uid) = uid {
        let sent = (batches.as_slice(), pending.batch_count);
        testomat::deliver(
            client,
            &cfg,
            &uid,
            sent,
            pending.duration_ms,
            &policy,
            &mut receipt,
        )
        .await;
    }
    errors.extend(receipt.errors.iter().map(ToString::to_string));
    for batch in &pending.batches {
        let failed = receipt.run_uid.is_none() || receipt.failed_batches.contains(&batch.index);
        let missing = failed.then(|| reason(&receipt.errors, &batch.file.path));
        delivery.account(&batch.file.path, TESTOMAT, missing);
    }
    if pending.finish.status_event().is_some() {
        let missing = receipt
            .finished
            .is_none()
            .then(|| reason(&receipt.errors, ""));
        delivery.account("(finish)", TESTOMAT, missing);
    }
    let next = testomat_pending(
        &batches,
        pending.batch_count,
        &receipt,
        pending.finish,
        pending.duration_ms,
    );
    Some((receipt, next))
}

/// Sends ValueEdge's pending documents, as they were, to the space they were meant for; `None`
/// when there are no credentials to send with.
async fn resume_valueedge<C: HttpClient>(
    client: &C,
    pending: &ValueedgePending,
    config: &Config,
    delivery: &mut Delivery,
    errors: &mut Vec<String>,
) -> Option<(valueedge::Receipt, Option<ValueedgePending>)> {
    let Some(settings) = &config.valueedge else {
        let why = "valueedge: the spool has ValueEdge documents pending: give the server and API access key again (--valueedge-url, --valueedge-client-id, --valueedge-client-secret)".to_owned();
        for document in &pending.documents {
            delivery.account(&document.file.path, VALUEEDGE, Some(why.clone()));
        }
        errors.push(why);
        return None;
    };
    let cfg = ValueedgeConfig {
        base_url: settings.url.clone(),
        shared_space: pending.shared_space.clone(),
        workspace: pending.workspace.clone(),
        client_id: settings.client_id.clone(),
        client_secret: settings.client_secret.clone(),
        skip_errors: pending.skip_errors,
        wait: settings.wait,
        // The documents are built already: their links and times are in the XML.
        context: valueedge::RunContext::default(),
        max_payload_bytes: valueedge::MAX_PAYLOAD_BYTES,
    };
    let documents: Vec<Document> = pending
        .documents
        .iter()
        .map(|d| Document {
            xml: String::from_utf8_lossy(&d.file.bytes).into_owned(),
            runs: d.runs,
        })
        .collect();
    let receipt = valueedge::send(client, &cfg, &documents, &RetryPolicy::default()).await;
    errors.extend(receipt.errors.iter().map(ToString::to_string));
    for (position, document) in pending.documents.iter().enumerate() {
        let unsent = receipt.unsent.iter().any(|(p, _)| *p == position);
        let failed = receipt
            .tasks
            .iter()
            .find(|t| t.document == position && t.status == "failed");
        let missing = if unsent {
            Some(reason(&receipt.errors, &document.file.path))
        } else {
            failed.map(|t| {
                let details = t.error_details.as_deref().unwrap_or("no details given");
                format!("task {} failed: {details}", t.id)
            })
        };
        delivery.account(&document.file.path, VALUEEDGE, missing);
    }
    let space = (
        pending.shared_space.as_str(),
        pending.workspace.as_str(),
        pending.skip_errors,
    );
    let next = valueedge_pending(space, pending.document_count, &receipt, |position| {
        pending
            .documents
            .get(position)
            .map_or(position + 1, |d| d.index)
    });
    Some((receipt, next))
}

#[cfg(test)]
mod tests;
