//! The one orchestration: parsed files and settings in, everything the edges write out.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ci::{self, CiInfo};
use crate::config::{
    AioSettings, Config, ConfigError, FailOn, TestnodSettings, TestomatSettings, ValueedgeSettings,
};
use crate::convert;
use crate::diagnostic::Diagnostic;
use crate::github::annotations::Annotation;
use crate::github::changed_files;
use crate::github::checks::{self, CheckError, CheckReceipt, CheckRun, CheckRunMode};
use crate::github::comment::{
    self, CommentMode, CommentOutcome, CommentReceipt, PrComment, PullRequest,
};
use crate::github::repo_path::RepoPaths;
use crate::github::rest::{Api, ApiError};
use crate::github::workflow_commands::{self, Limits};
use crate::github::{annotations, outputs, summary};
use crate::http::retry::RetryPolicy;
use crate::http::HttpClient;
use crate::model::{TestRun, Totals};
use crate::parse::{Format, ParseError, ParseErrorKind, Parsed};
use crate::spool::{self, Delivery, Spool};
use crate::upload::aio::{self, AioConfig};
use crate::upload::testnod::{self, TestnodConfig};
use crate::upload::testomat::{self, TestomatConfig};
use crate::upload::valueedge;
use crate::upload::Payload;

/// `owner/repo` on GitHub Actions.
const ENV_REPOSITORY: &str = crate::ci::github_env::REPOSITORY;

/// Environment variables as the edge captured them.
pub type EnvMap = BTreeMap<String, String>;

/// One input file after reading and parsing.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// As the user will recognise it: relative to the working directory, forward slashes.
    pub path: String,
    pub result: Result<(Format, Parsed), ParseError>,
    /// The file's bytes, kept by the edge only when a service needs the report as it was.
    pub original: Option<Vec<u8>>,
}

impl FileReport {
    /// A file the edge could not read (missing, permission denied).
    pub fn unreadable(path: String, reason: &str) -> FileReport {
        FileReport {
            path,
            original: None,
            result: Err(ParseError {
                kind: ParseErrorKind::Io,
                line: None,
                message: format!("could not read the file: {reason}"),
            }),
        }
    }

    pub fn runs(&self) -> &[TestRun] {
        match &self.result {
            Ok((_, parsed)) => &parsed.runs,
            Err(_) => &[],
        }
    }

    pub fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for run in self.runs() {
            totals.merge(&run.totals());
        }
        totals
    }

    pub fn error(&self) -> Option<&ParseError> {
        self.result.as_ref().err()
    }
}

/// The machine-readable totals: a public contract (`test-report parse --json`). Extend, never rename.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub totals: Totals,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    pub path: String,
    pub format: Option<Format>,
    pub totals: Totals,
    pub error: Option<String>,
}

impl Report {
    pub fn new(files: &[FileReport]) -> Report {
        let mut totals = Totals::default();
        let files = files
            .iter()
            .map(|f| {
                let file_totals = f.totals();
                totals.merge(&file_totals);
                FileEntry {
                    path: f.path.clone(),
                    format: f.result.as_ref().ok().map(|(format, _)| *format),
                    totals: file_totals,
                    error: f.error().map(ToString::to_string),
                }
            })
            .collect();
        Report { totals, files }
    }

    pub fn has_file_errors(&self) -> bool {
        self.files.iter().any(|f| f.error.is_some())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Conclusion {
    Success,
    Failure,
    /// Nothing was tested: no files, or files without tests.
    Neutral,
}

impl Conclusion {
    pub fn of(report: &Report) -> Conclusion {
        if report.totals.has_failures() || report.has_file_errors() {
            Conclusion::Failure
        } else if report.totals.tests == 0 {
            Conclusion::Neutral
        } else {
            Conclusion::Success
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Neutral => "neutral",
        }
    }
}

/// Process exit codes, the same for the CLI and (as pass/fail) the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ExitCode {
    Ok = 0,
    /// Tests failed and the fail policy asks to fail for that.
    TestsFailed = 1,
    /// Bad input or settings: unreadable report, no results when required, invalid option.
    BadInput = 2,
    /// An upload or publish step failed.
    PublishFailed = 3,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// What the user asked for and what the edge found.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub config: Config,
    /// The `path` patterns as given, for messages about empty matches.
    pub patterns: Vec<String>,
    pub files: Vec<FileReport>,
    pub env: EnvMap,
    /// The GitHub event payload (`GITHUB_EVENT_PATH`), when the edge could read it.
    pub event: Option<serde_json::Value>,
    /// The checkout's files, repository-relative (`git ls-files`), when the edge could list them:
    /// annotations only point at files that exist.
    pub repo_files: Option<Vec<String>>,
}

/// Everything the edges write back.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub report: Report,
    pub conclusion: Conclusion,
    /// The job summary Markdown, always rendered: the action also offers it as a file.
    pub summary: String,
    /// Whether the edge appends [`Outcome::summary`] to the job summary (`job-summary`).
    pub job_summary: bool,
    pub outputs: BTreeMap<&'static str, String>,
    pub diagnostics: Vec<Diagnostic>,
    pub receipts: Receipts,
    /// Each report file at each configured service that did not arrive, and why.
    pub delivery: Delivery,
    /// What the uploads left undelivered, for the edge to write when it spools.
    #[serde(skip)]
    pub spool: Option<Spool>,
    /// Annotations of report problems and tests as ready workflow command lines, within GitHub's
    /// caps: the edge prints them to stdout unchanged when running in GitHub Actions.
    pub workflow_commands: Vec<String>,
    /// Why the step should fail, when it should.
    pub failure: Option<String>,
    pub exit_code: i32,
}

/// Parses nothing (the edges did), publishes to every configured service, renders what the
/// edges write. Services run independently: one failing never stops another.
pub async fn run<C: HttpClient>(inputs: &Inputs, client: &C) -> Outcome {
    let report = Report::new(&inputs.files);
    let conclusion = Conclusion::of(&report);
    let mut diagnostics = file_diagnostics(&inputs.files);
    let ci = ci::detect(&inputs.env, inputs.event.as_ref());
    let mut receipts = Receipts::default();
    let mut publish_errors: Vec<String> = Vec::new();
    if let Some(settings) = &inputs.config.testnod {
        match testnod_config(settings, &ci, inputs.config.spool) {
            Ok(config) => {
                let payloads = junit_payloads(&inputs.files);
                let receipt =
                    testnod::upload(client, &config, &payloads, &RetryPolicy::default()).await;
                publish_errors.extend(receipt.errors.iter().map(ToString::to_string));
                if receipt.status.as_deref() == Some("pending") {
                    diagnostics.push(Diagnostic::notice(format!(
                        "TestNod run for build id '{}' is still pending: it is processed once every upload is terminal; if it stays pending, finalize again (testnod-finalize: only)",
                        config.build_id
                    )));
                }
                receipts.testnod = Some(receipt);
            }
            Err(e) => publish_errors.push(e.to_string()),
        }
    }
    if let Some(settings) = &inputs.config.aio {
        let receipt = upload_to_aio(client, settings, &ci, &inputs.files).await;
        publish_errors.extend(aio_problems(&receipt));
        receipts.aio = Some(receipt);
    }
    if let Some(settings) = &inputs.config.testomatio {
        let receipt = testomat_upload(client, settings, inputs, &ci, &report).await;
        publish_errors.extend(receipt.errors.iter().map(ToString::to_string));
        receipts.testomatio = Some(receipt);
    }
    if let Some(settings) = &inputs.config.valueedge {
        let receipt = upload_valueedge(client, settings, &ci, &report, &inputs.files).await;
        publish_errors.extend(receipt.errors.iter().map(ToString::to_string));
        receipts.valueedge = Some(receipt);
    }
    let delivery = Delivery::of(&inputs.config, &inputs.files, &receipts);
    let mut summary = summary::render(
        &inputs.config,
        &inputs.files,
        &report,
        conclusion,
        &receipts,
        &inputs.env,
    );
    summary.push_str(&delivery.markdown());
    let spool = spool::plan(inputs, &receipts, &ci, client.now_ms());
    let paths = RepoPaths::new(
        &inputs.env,
        inputs.config.working_directory.as_deref(),
        inputs.config.path_prefix.as_ref(),
        inputs.repo_files.as_deref(),
    );
    let tests = annotations::collect(&inputs.files, inputs.config.annotations, &paths);
    let check = check_run(inputs, &ci, &report, conclusion, &receipts);
    match &check {
        Some(run) => match checks::publish(client, run, &tests, &RetryPolicy::default()).await {
            Ok(receipt) => receipts.check_run = Some(receipt),
            Err(CheckError::NotPermitted(why))
                if inputs.config.check_run.mode == CheckRunMode::Auto =>
            {
                diagnostics.push(Diagnostic::notice(format!(
                    "no check run: the token may not write checks here (fork pull request, or the workflow lacks `permissions: checks: write`); failures are annotated on the job instead ({why})"
                )));
            }
            Err(CheckError::NotPermitted(why) | CheckError::Failed(why)) => {
                publish_errors.push(format!("github: {why}"))
            }
        },
        None if inputs.config.check_run.mode == CheckRunMode::True => {
            publish_errors.push("github: check-run is true but no token, repository or commit is known: set token (and commit outside Actions)".into());
        }
        None => {}
    }
    if inputs.config.pr_comment != CommentMode::Off {
        let comment = pr_comment(inputs, client, &ci, &report, conclusion, &receipts).await;
        match comment {
            Ok(receipt) => receipts.pr_comment = receipt,
            Err(CommentError::Notice(why)) => diagnostics.push(Diagnostic::notice(why)),
            Err(CommentError::Failed(why)) => publish_errors.push(why),
        }
    }
    let (failure, exit) = judge(inputs, &report, &publish_errors);
    let mut outputs = outputs::of(&report, conclusion);
    outputs.extend(receipts.outputs());
    if delivery.units > 0 {
        outputs.insert("undelivered", delivery.undelivered.len().to_string());
    }
    let limits = Limits {
        max_tests: inputs.config.max_annotations,
        step_fails: failure.is_some(),
    };
    // The check run carries every test annotation; repeating them as workflow commands would
    // show each twice on the pull request.
    let job_annotations = if receipts.check_run.is_some() {
        Vec::new()
    } else {
        changed_files_first(inputs, client, &ci, tests).await
    };
    let workflow_commands =
        workflow_commands::render(&diagnostics, &job_annotations, &paths, limits);
    Outcome {
        outputs,
        report,
        conclusion,
        summary,
        job_summary: inputs.config.job_summary,
        diagnostics,
        receipts,
        delivery,
        spool,
        workflow_commands,
        failure,
        exit_code: exit.code(),
    }
}

fn file_diagnostics(files: &[FileReport]) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for file in files {
        match &file.result {
            Ok((_, parsed)) => diagnostics.extend(
                parsed
                    .diagnostics
                    .iter()
                    .map(|d| d.clone().in_file(&file.path)),
            ),
            Err(err) => {
                let mut d = Diagnostic::warning(err.message.clone()).in_file(&file.path);
                d.line = err.line;
                diagnostics.push(d);
            }
        }
    }
    diagnostics
}

/// Every readable report as JUnit XML: JUnit files byte for byte as the edge read them, other
/// formats converted.
pub fn junit_payloads(files: &[FileReport]) -> Vec<Payload> {
    files
        .iter()
        .filter_map(|file| {
            let (format, _) = file.result.as_ref().ok()?;
            let bytes = match (&file.original, format) {
                (Some(original), Format::Junit) => original.clone(),
                _ => convert::junit::write(std::slice::from_ref(file)).into_bytes(),
            };
            Some(Payload {
                path: file.path.clone(),
                bytes,
            })
        })
        .collect()
}

/// The check run to create, when the mode, a token, the repository and the commit allow one.
fn check_run(
    inputs: &Inputs,
    ci: &CiInfo,
    report: &Report,
    conclusion: Conclusion,
    receipts: &Receipts,
) -> Option<CheckRun> {
    let settings = &inputs.config.check_run;
    if settings.mode == CheckRunMode::False {
        return None;
    }
    let token = settings.token.clone()?;
    let repository = inputs
        .env
        .get(ENV_REPOSITORY)
        .filter(|r| r.contains('/'))?
        .clone();
    let head_sha = settings.commit.clone().or_else(|| ci.commit.clone())?;
    let t = &report.totals;
    let title = if t.has_failures() {
        format!(
            "{} failed, {} errored of {} tests",
            t.failed, t.errored, t.tests
        )
    } else {
        format!("{} tests passed, {} skipped", t.passed + t.flaky, t.skipped)
    };
    let summary = summary::render_within(
        &inputs.config,
        &inputs.files,
        report,
        conclusion,
        receipts,
        &inputs.env,
        checks::OUTPUT_FIELD_MAX_BYTES,
    );
    Some(CheckRun {
        api: Api {
            url: Api::url_from(&inputs.env),
            repository,
            token,
        },
        name: settings.name.clone(),
        head_sha,
        conclusion: conclusion.as_str().to_owned(),
        title,
        summary,
        details_url: ci.run_url.clone(),
    })
}

/// The annotations with failures in the pull request's changed files first, when there are more
/// than a step shows and the token may read the pull request; otherwise as they are.
async fn changed_files_first<C: HttpClient>(
    inputs: &Inputs,
    client: &C,
    ci: &CiInfo,
    mut tests: Vec<Annotation>,
) -> Vec<Annotation> {
    if tests.len() <= workflow_commands::STEP_ERRORS {
        return tests;
    }
    let number = match comment::pull_request_of(
        inputs.event.as_ref(),
        inputs.config.check_run.pull_request.or(ci.pr_number),
    ) {
        Some(PullRequest::Number(n)) => n,
        _ => return tests,
    };
    let (Some(token), Some(repository)) = (
        inputs.config.check_run.token.clone(),
        inputs.env.get(ENV_REPOSITORY).filter(|r| r.contains('/')),
    ) else {
        return tests;
    };
    let api = Api {
        url: Api::url_from(&inputs.env),
        repository: repository.clone(),
        token,
    };
    // Best effort: without the list the order stays by file, which is still complete.
    if let Ok(changed) = changed_files::fetch(client, &api, number, &RetryPolicy::default()).await {
        changed_files::order(&mut tests, &changed);
    }
    tests
}

/// Why the PR comment was not written: a notice (read-only token) or a publish error.
enum CommentError {
    Notice(String),
    Failed(String),
}

/// Writes the PR comment when there is a pull request, a token and a repository.
async fn pr_comment<C: HttpClient>(
    inputs: &Inputs,
    client: &C,
    ci: &CiInfo,
    report: &Report,
    conclusion: Conclusion,
    receipts: &Receipts,
) -> Result<Option<CommentReceipt>, CommentError> {
    let settings = &inputs.config.check_run;
    let Some(pull) = comment::pull_request_of(
        inputs.event.as_ref(),
        inputs.config.check_run.pull_request.or(ci.pr_number),
    ) else {
        return Ok(None);
    };
    let (Some(token), Some(repository)) = (
        settings.token.clone(),
        inputs.env.get(ENV_REPOSITORY).filter(|r| r.contains('/')),
    ) else {
        return Err(CommentError::Failed(
            "github: pr-comment needs a token and GITHUB_REPOSITORY: set token".into(),
        ));
    };
    let digest = comment::results_digest(&inputs.files);
    let summary = summary::render_within(
        &inputs.config,
        &inputs.files,
        report,
        conclusion,
        receipts,
        &inputs.env,
        comment::body_budget(&settings.name, &digest),
    );
    let request = PrComment {
        api: Api {
            url: Api::url_from(&inputs.env),
            repository: repository.clone(),
            token,
        },
        name: settings.name.clone(),
        mode: inputs.config.pr_comment,
        pull,
        failing: conclusion == Conclusion::Failure,
        digest,
    };
    match comment::publish(client, &request, &summary, &RetryPolicy::default()).await {
        Ok(CommentOutcome::Written(receipt)) => Ok(Some(receipt)),
        Ok(CommentOutcome::NoPullRequest | CommentOutcome::NothingToReport) => Ok(None),
        Err(ApiError::NotPermitted(why)) => Err(CommentError::Notice(format!(
            "no pull request comment: the token may not write to the pull request (fork pull request, or the workflow lacks `permissions: pull-requests: write`); the results are in the job summary ({why})"
        ))),
        Err(ApiError::Failed(why)) => Err(CommentError::Failed(format!("github: {why}"))),
    }
}

pub(crate) fn testnod_config(
    settings: &TestnodSettings,
    ci: &CiInfo,
    hold_finalize: bool,
) -> Result<TestnodConfig, ConfigError> {
    let build_id = settings
        .build_id
        .clone()
        .or_else(|| ci.build_id.clone())
        .ok_or_else(|| ConfigError {
            input: "testnod-build-id",
            message:
                "no build id: set testnod-build-id (no CI build id was detected to default to)"
                    .into(),
        })?;
    Ok(TestnodConfig {
        token: settings.token.clone(),
        base_url: settings
            .url
            .clone()
            .unwrap_or_else(|| testnod::DEFAULT_BASE_URL.to_owned()),
        build_id,
        tags: settings.tags.clone(),
        finalize: settings.finalize,
        branch: ci.branch.clone(),
        commit_sha: ci.commit.clone(),
        run_url: ci.run_url.clone(),
        hold_finalize,
    })
}

async fn upload_to_aio<C: HttpClient>(
    client: &C,
    settings: &AioSettings,
    ci: &CiInfo,
    files: &[FileReport],
) -> aio::Receipt {
    let config = aio_config(settings, ci);
    let files = aio::import_files(files);
    aio::upload(client, &config, &files, &aio::RETRY_POLICY).await
}

pub(crate) fn aio_config(settings: &AioSettings, ci: &CiInfo) -> AioConfig {
    let base_url = aio::base_url(settings.url.as_deref().unwrap_or(aio::CLOUD_BASE_URL));
    AioConfig {
        auth: settings
            .auth
            .unwrap_or_else(|| aio::AuthMode::for_url(&base_url, settings.token.expose())),
        token: settings.token.clone(),
        base_url,
        project: settings.project.clone(),
        cycle: settings.cycle.clone(),
        batch: settings.batch,
        flags: settings.flags.clone(),
        run_url: ci.run_url.clone(),
        branch: ci.branch.clone(),
        commit: ci.commit.clone(),
    }
}

/// AIO's failed steps, and its partial success as one problem: cases it did not import are a
/// reporting problem, so `fail-on` decides whether they fail the step.
fn aio_problems(receipt: &aio::Receipt) -> Vec<String> {
    let mut problems: Vec<String> = receipt.errors.iter().map(ToString::to_string).collect();
    if let Some(first) = receipt.case_errors.first() {
        let cycle = receipt.cycle_key.as_deref().unwrap_or("the cycle");
        let hint = first.hint.map(|h| format!(" ({h})")).unwrap_or_default();
        problems.push(format!(
            "aio: {} cases were not imported into {cycle}, listed in the job summary; first: {}: {}{hint}",
            receipt.errored.max(receipt.case_errors.len() as u64),
            first.case,
            first.message
        ));
    }
    problems
}

/// Sends every parsed test to Testomat.io: a new run's title defaults to the workflow name and
/// run number, and the rids are scoped by `testomatio-env`, the job and the runner (so matrix jobs
/// reporting the same tests into one run stay separate executions).
async fn testomat_upload<C: HttpClient>(
    client: &C,
    settings: &TestomatSettings,
    inputs: &Inputs,
    ci: &CiInfo,
    report: &Report,
) -> testomat::Receipt {
    let config = TestomatConfig {
        hold_finish: inputs.config.spool,
        ..testomat_config(settings, &inputs.env, ci)
    };
    let reports: Vec<(&str, &[TestRun])> = inputs
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.runs()))
        .collect();
    let tests = testomat::build_tests(&config, &reports);
    testomat::upload(
        client,
        &config,
        &tests,
        report.totals.duration_ms,
        &RetryPolicy::default(),
    )
    .await
}

pub(crate) fn testomat_config(
    settings: &TestomatSettings,
    env: &EnvMap,
    ci: &CiInfo,
) -> TestomatConfig {
    use crate::ci::github_env;
    let env = |key: &str| env.get(key).filter(|v| !v.trim().is_empty());
    // Attaching keeps the run's own title unless one is given.
    let title = settings.title.clone().or_else(|| {
        if settings.run.is_some() {
            return None;
        }
        let workflow = ci.workflow.as_ref()?;
        Some(match &ci.run_number {
            Some(number) => format!("{workflow} #{number}"),
            None => workflow.clone(),
        })
    });
    let rid_scope = [
        settings.env.as_ref(),
        ci.job.as_ref(),
        env(github_env::RUNNER_OS),
        env(github_env::RUNNER_ARCH),
    ]
    .map(|part| part.map(String::as_str).unwrap_or_default())
    .join("/");
    TestomatConfig {
        api_key: settings.api_key.clone(),
        base_url: settings
            .url
            .clone()
            .unwrap_or_else(|| testomat::DEFAULT_BASE_URL.to_owned()),
        run: settings.run.clone(),
        title,
        env: settings.env.clone(),
        group_title: settings.group.clone(),
        ci_build_url: ci.run_url.clone(),
        create_tests: settings.create_tests,
        finish: settings.finish,
        shared_run: settings.shared_run,
        run_time_unit: settings.run_time_unit,
        rid_scope,
        hold_finish: false,
    }
}

/// ValueEdge: every run linked as the settings say, the CI run as the external report; the
/// tests are taken to have started their total duration ago.
async fn upload_valueedge<C: HttpClient>(
    client: &C,
    settings: &ValueedgeSettings,
    ci: &CiInfo,
    report: &Report,
    files: &[FileReport],
) -> valueedge::Receipt {
    let config = valueedge::ValueedgeConfig {
        base_url: settings.url.clone(),
        shared_space: settings.shared_space.clone(),
        workspace: settings.workspace.clone(),
        client_id: settings.client_id.clone(),
        client_secret: settings.client_secret.clone(),
        skip_errors: settings.skip_errors,
        wait: settings.wait,
        context: valueedge::RunContext {
            links: settings.links.clone(),
            external_report_url: ci.run_url.clone(),
            started_ms: client.now_ms().saturating_sub(report.totals.duration_ms),
        },
        max_payload_bytes: valueedge::MAX_PAYLOAD_BYTES,
    };
    valueedge::upload(client, &config, files, &RetryPolicy::default()).await
}

/// What each service ended up with.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Receipts {
    pub testnod: Option<testnod::Receipt>,
    pub aio: Option<aio::Receipt>,
    pub testomatio: Option<testomat::Receipt>,
    pub valueedge: Option<valueedge::Receipt>,
    pub check_run: Option<CheckReceipt>,
    pub pr_comment: Option<CommentReceipt>,
}

impl Receipts {
    fn outputs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(url) = self.check_run.as_ref().and_then(|c| c.html_url.clone()) {
            out.push(("check-run-url", url));
        }
        if let Some(url) = self.pr_comment.as_ref().and_then(|c| c.html_url.clone()) {
            out.push(("comment-url", url));
        }
        if let Some(r) = &self.testnod {
            if let Some(url) = &r.test_run_url {
                out.push(("testnod-run-url", url.clone()));
            }
            if let Some(id) = r.test_run_id {
                out.push(("testnod-test-run-id", id.to_string()));
            }
        }
        if let Some(r) = &self.aio {
            if let Some(key) = &r.cycle_key {
                out.push(("aio-cycle-key", key.clone()));
            }
            out.push(("aio-imported", r.imported.to_string()));
            out.push(("aio-errored", r.errored.to_string()));
            out.push(("aio-batch-ids", r.batch_ids.join(",")));
        }
        if let Some(r) = &self.testomatio {
            if let Some(url) = &r.run_url {
                out.push(("testomatio-run-url", url.clone()));
            }
            if let Some(uid) = &r.run_uid {
                out.push(("testomatio-run-uid", uid.clone()));
            }
        }
        if let Some(r) = &self.valueedge {
            out.extend(r.task_ids().map(|ids| ("valueedge-task-id", ids)));
            out.extend(r.status().map(|s| ("valueedge-task-status", s.to_owned())));
        }
        out
    }
}

/// Applies `fail-on` and `fail-on-empty`: the reason to fail, if any, and the exit code.
fn judge(
    inputs: &Inputs,
    report: &Report,
    publish_errors: &[String],
) -> (Option<String>, ExitCode) {
    let config = &inputs.config;
    if config.fail_on == FailOn::Nothing {
        return (None, ExitCode::Ok);
    }
    let broken: Vec<String> = report
        .files
        .iter()
        .filter_map(|f| f.error.as_ref().map(|e| format!("{}: {e}", f.path)))
        .collect();
    if !broken.is_empty() {
        let more = if broken.len() > 1 {
            format!(" (and {} more unreadable reports)", broken.len() - 1)
        } else {
            String::new()
        };
        return (Some(format!("{}{more}", broken[0])), ExitCode::BadInput);
    }
    if config.fail_on_empty && report.totals.tests == 0 {
        let patterns = inputs.patterns.join(", ");
        let why = if report.files.is_empty() {
            format!("no report files match '{patterns}'")
        } else {
            format!(
                "the {} report files matching '{patterns}' contain no tests",
                report.files.len()
            )
        };
        return (
            Some(format!(
                "{why}: check the path and that the tests ran, or set fail-on-empty to false"
            )),
            ExitCode::BadInput,
        );
    }
    if let Some(first) = publish_errors.first() {
        let more = match publish_errors.len() {
            1 => String::new(),
            n => format!(" (and {} more publish errors)", n - 1),
        };
        return (Some(format!("{first}{more}")), ExitCode::PublishFailed);
    }
    let t = &report.totals;
    if config.fail_on == FailOn::Failures && t.has_failures() {
        let mut parts = Vec::new();
        if t.failed > 0 {
            parts.push(format!("{} failed", t.failed));
        }
        if t.errored > 0 {
            parts.push(format!("{} errored", t.errored));
        }
        return (
            Some(format!(
                "{} of {} tests did not pass: {}",
                t.failed + t.errored,
                t.tests,
                parts.join(", ")
            )),
            ExitCode::TestsFailed,
        );
    }
    (None, ExitCode::Ok)
}
