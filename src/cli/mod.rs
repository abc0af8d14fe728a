//! The native CLI: arguments, files, environment, clock and exit codes. Binary-private.
#![allow(clippy::disallowed_methods)]

mod config_file;
mod github_app;
mod paths;
mod progress;
mod spool;
mod valueedge;

use std::fs::File;
use std::io::{BufReader, Cursor, IsTerminal, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use paths::Found;
use progress::{Progress, Verbosity};
use test_report::config::{
    AioSettings, AnnotationChoice, CheckRunSettings, Config, FailOn, PathPrefix, RawConfig,
    SummaryTests, TestnodSettings, TestomatSettings,
};
use test_report::convert;
use test_report::github::annotations::Level;
use test_report::github::comment::CommentMode;
use test_report::github::workflow_commands;
use test_report::http::native::NativeClient;
use test_report::http::recording::RecordingClient;
use test_report::model::Totals;
use test_report::parse::{self, FormatChoice};
use test_report::pipeline::{self, EnvMap, FileReport, Inputs, Outcome, Report};
use test_report::upload::{aio, dry_run, testnod, testomat};

/// Read buffer per report file; large enough for format detection to see the root element.
const READ_BUFFER_BYTES: usize = 256 * 1024;
/// Set by GitHub Actions: the JSON payload of the triggering event.
const ENV_GITHUB_EVENT_PATH: &str = "GITHUB_EVENT_PATH";
/// Set by GitHub Actions: the file the job summary is appended to.
const ENV_GITHUB_STEP_SUMMARY: &str = "GITHUB_STEP_SUMMARY";
/// Set to `true` by GitHub Actions: workflow commands printed to stdout become annotations.
const ENV_GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";

#[derive(Parser)]
#[command(
    name = "test-report",
    version,
    about = "Reads test reports once; writes summaries, annotations and check runs, uploads results",
    after_help = "Exit codes: 0 ok, 1 tests failed (--fail-on failures), 2 bad input or no tests, 3 an upload failed.\nCI metadata (build id, branch, commit, PR) is detected from GitHub Actions, GitLab CI, Jenkins,\nCircleCI, Buildkite, Azure Pipelines, Bitbucket, Travis, TeamCity and Drone: see `test-report env`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Defaults for any option, as TOML with the options' long names as keys (flags and
    /// environment variables win); `./test-report.toml` is read when present.
    #[arg(long = config_file::FLAG, global = true, value_name = "FILE", env = config_file::ENV_CONFIG)]
    config: Option<PathBuf>,
    /// Print nothing on stderr but errors.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Also log each file parsed and each request sent (method, URL without secrets, status).
    #[arg(long, short, global = true)]
    verbose: bool,
}

#[derive(clap::Args)]
struct Sources {
    /// Report files, directories or globs; `!pattern` excludes; `-` reads the standard input.
    /// Commas and newlines also separate.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
    /// Input format, or auto to detect it from each file's content.
    #[arg(long, default_value = "auto")]
    format: FormatChoice,
    /// Resolve relative paths from here instead of the current directory.
    #[arg(long, value_name = "DIR")]
    working_directory: Option<PathBuf>,
}

/// TestNod upload options; a token turns the upload on.
#[derive(clap::Args, Default)]
#[command(next_help_heading = "TestNod")]
struct TestnodArgs {
    /// TestNod project token.
    #[arg(long = "testnod-token", env = testnod::ENV_TOKEN, hide_env_values = true, value_name = "TOKEN")]
    testnod_token: Option<String>,
    /// TestNod base URL.
    #[arg(long = "testnod-url", env = testnod::ENV_BASE_URL, value_name = "URL")]
    testnod_url: Option<String>,
    /// Build id shared by all uploads of one CI run (default: the CI's run id and attempt).
    #[arg(long = "testnod-build-id", value_name = "ID")]
    testnod_build_id: Option<String>,
    /// Tags, comma-separated.
    #[arg(long = "testnod-tags", value_name = "TAGS")]
    testnod_tags: Option<String>,
    /// true: upload and finalize; false: upload only (matrix shard); only: finalize only (fan-in job).
    #[arg(long = "testnod-finalize", value_name = "WHEN")]
    testnod_finalize: Option<String>,
}

impl TestnodArgs {
    fn settings(&self) -> Result<Option<TestnodSettings>, String> {
        let raw = RawConfig {
            testnod_token: self.testnod_token.clone(),
            testnod_url: self.testnod_url.clone(),
            testnod_build_id: self.testnod_build_id.clone(),
            testnod_tags: self.testnod_tags.clone(),
            testnod_finalize: self.testnod_finalize.clone(),
            ..RawConfig::default()
        };
        validate_options(raw, |c| c.testnod)
    }
}

/// AIO Tests upload options; a token turns the upload on. Flags take true or false.
#[derive(clap::Args, Default)]
#[command(next_help_heading = "AIO Tests")]
struct AioArgs {
    /// AIO Tests API token (Cloud), Jira personal access token, or user:password (Server/DC).
    #[arg(long = "aio-token", env = aio::ENV_TOKEN, hide_env_values = true, value_name = "TOKEN")]
    aio_token: Option<String>,
    /// API base URL (default: AIO Cloud); a Jira Server/DC host gets /rest/aio-tcms-api/1.0.
    #[arg(long = "aio-url", env = aio::ENV_URL, value_name = "URL")]
    aio_url: Option<String>,
    /// aio (Cloud), basic or bearer (Server/DC); default: from the URL and token.
    #[arg(long = "aio-auth", env = aio::ENV_AUTH, value_name = "SCHEME")]
    aio_auth: Option<String>,
    /// Jira project key.
    #[arg(long = "aio-project", env = aio::ENV_PROJECT, value_name = "KEY")]
    aio_project: Option<String>,
    /// Test cycle key, e.g. PROJ-CY-12.
    #[arg(long = "aio-cycle", env = aio::ENV_CYCLE, value_name = "KEY")]
    aio_cycle: Option<String>,
    /// Exact title of the cycle to import into; created when missing.
    #[arg(long = "aio-cycle-title", env = aio::ENV_CYCLE_TITLE, value_name = "TITLE")]
    aio_cycle_title: Option<String>,
    /// true: queue each file as a batch (processed later by AIO).
    #[arg(long = "aio-batch", env = aio::ENV_BATCH, value_name = "BOOL")]
    aio_batch: Option<String>,
    /// A new run per import (default true); false overwrites the latest run.
    #[arg(long = "aio-create-new-run", value_name = "BOOL")]
    aio_create_new_run: Option<String>,
    /// Add mapped cases missing from the cycle (default true).
    #[arg(long = "aio-add-case-to-cycle", value_name = "BOOL")]
    aio_add_case_to_cycle: Option<String>,
    /// Create cases for unknown keys (default: AIO's).
    #[arg(long = "aio-create-case", value_name = "BOOL")]
    aio_create_case: Option<String>,
    /// Add or remove datasets of data-driven cases (default: AIO's).
    #[arg(long = "aio-update-datasets", value_name = "BOOL")]
    aio_update_datasets: Option<String>,
    /// Update cases from the file: JUnit, TestNG, NUnit, Robot (default false).
    #[arg(long = "aio-force-update-case", value_name = "BOOL")]
    aio_force_update_case: Option<String>,
    /// Update BDD case steps from the scenarios (default false).
    #[arg(long = "aio-bdd-force-update-case", value_name = "BOOL")]
    aio_bdd_force_update_case: Option<String>,
    /// Update only run-level details: Cucumber, Robot, Newman (default false).
    #[arg(long = "aio-update-only-run-status", value_name = "BOOL")]
    aio_update_only_run_status: Option<String>,
    /// JUnit: the automation key is the method name only (default false).
    #[arg(long = "aio-ignore-class-in-auto-key", value_name = "BOOL")]
    aio_ignore_class_in_auto_key: Option<String>,
    /// Folder ID for cases the import creates.
    #[arg(long = "aio-default-folder", value_name = "ID")]
    aio_default_folder: Option<String>,
}

impl AioArgs {
    fn settings(&self) -> Result<Option<AioSettings>, String> {
        validate_options(self.raw(), |c| c.aio)
    }

    /// Settings for `resume`: the spool knows the project and the cycle.
    fn resume_settings(
        &self,
        spool: &test_report::spool::Spool,
    ) -> Result<Option<AioSettings>, String> {
        let mut raw = self.raw();
        spool.complete(&mut raw);
        validate_options(raw, |c| c.aio)
    }

    fn raw(&self) -> RawConfig {
        RawConfig {
            aio_token: self.aio_token.clone(),
            aio_url: self.aio_url.clone(),
            aio_auth: self.aio_auth.clone(),
            aio_project: self.aio_project.clone(),
            aio_cycle: self.aio_cycle.clone(),
            aio_cycle_title: self.aio_cycle_title.clone(),
            aio_batch: self.aio_batch.clone(),
            aio_create_new_run: self.aio_create_new_run.clone(),
            aio_add_case_to_cycle: self.aio_add_case_to_cycle.clone(),
            aio_create_case: self.aio_create_case.clone(),
            aio_update_datasets: self.aio_update_datasets.clone(),
            aio_force_update_case: self.aio_force_update_case.clone(),
            aio_bdd_force_update_case: self.aio_bdd_force_update_case.clone(),
            aio_update_only_run_status: self.aio_update_only_run_status.clone(),
            aio_ignore_class_in_auto_key: self.aio_ignore_class_in_auto_key.clone(),
            aio_default_folder: self.aio_default_folder.clone(),
            ..RawConfig::default()
        }
    }
}

/// Testomat.io upload options; an API key turns the upload on. Fallbacks are the official
/// reporters' environment variables.
#[derive(clap::Args, Default)]
#[command(next_help_heading = "Testomat.io")]
struct TestomatArgs {
    /// Testomat.io project API key (tstmt_...); also TESTOMATIO_TOKEN or TESTOMATIO_API_KEY.
    #[arg(long = "testomatio-api-key", env = testomat::ENV_API_KEY, hide_env_values = true, value_name = "KEY")]
    testomatio_api_key: Option<String>,
    /// Testomat.io base URL.
    #[arg(long = "testomatio-url", env = testomat::ENV_URL, value_name = "URL")]
    testomatio_url: Option<String>,
    /// Run title (default: the workflow name and run number).
    #[arg(long = "testomatio-title", env = testomat::ENV_TITLE, value_name = "TITLE")]
    testomatio_title: Option<String>,
    /// Run environment, e.g. linux,chrome; also separates matrix jobs' executions.
    #[arg(long = "testomatio-env", env = testomat::ENV_ENV, value_name = "ENV")]
    testomatio_env: Option<String>,
    /// Run group title.
    #[arg(long = "testomatio-group", env = testomat::ENV_GROUP, value_name = "TITLE")]
    testomatio_group: Option<String>,
    /// Attach to this run uid instead of creating a run.
    #[arg(long = "testomatio-run", env = testomat::ENV_RUN, value_name = "UID")]
    testomatio_run: Option<String>,
    /// Create tests Testomat.io does not know yet (true|false).
    #[arg(long = "testomatio-create-tests", env = testomat::ENV_CREATE, value_name = "BOOL")]
    testomatio_create_tests: Option<String>,
    /// true: finish the run; false: leave it open; parallel: this shard is done.
    #[arg(long = "testomatio-finish", value_name = "WHEN")]
    testomatio_finish: Option<String>,
    /// Report into the shared run of the same title (true|false).
    #[arg(long = "testomatio-shared-run", env = testomat::ENV_SHARED_RUN, value_name = "BOOL")]
    testomatio_shared_run: Option<String>,
    /// Unit of each test's run_time: ms (the official JS reporter) or s (the API docs).
    #[arg(long = "testomatio-run-time-unit", value_name = "UNIT")]
    testomatio_run_time_unit: Option<String>,
}

impl TestomatArgs {
    fn settings(&self) -> Result<Option<TestomatSettings>, String> {
        let api_key = self.testomatio_api_key.clone().or_else(|| {
            testomat::ENV_API_KEY_ALIASES
                .iter()
                .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
        });
        let raw = RawConfig {
            testomatio_api_key: api_key,
            testomatio_url: self.testomatio_url.clone(),
            testomatio_title: self.testomatio_title.clone(),
            testomatio_env: self.testomatio_env.clone(),
            testomatio_group: self.testomatio_group.clone(),
            testomatio_run: self.testomatio_run.clone(),
            testomatio_create_tests: self.testomatio_create_tests.clone(),
            testomatio_finish: self.testomatio_finish.clone(),
            testomatio_shared_run: self.testomatio_shared_run.clone(),
            testomatio_run_time_unit: self.testomatio_run_time_unit.clone(),
            ..RawConfig::default()
        };
        validate_options(raw, |c| c.testomatio)
    }
}

/// Check run options: a token that may write checks turns it on.
#[derive(clap::Args)]
#[command(next_help_heading = "GitHub")]
struct CheckRunArgs {
    /// auto: create a check run when the token may; true: it must; false: never.
    #[arg(long = "check-run", default_value = "auto", value_name = "WHEN")]
    check_run: String,
    /// Name of the check run.
    #[arg(long = "check-name", default_value = test_report::config::DEFAULT_TITLE)]
    check_name: String,
    /// Token that may write checks (GitHub App installation token or GITHUB_TOKEN).
    #[arg(
        long = "github-token",
        env = "GITHUB_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    github_token: Option<String>,
    /// Commit to attach the check run to (default: the PR head or the pushed commit).
    #[arg(long, value_name = "SHA")]
    commit: Option<String>,
    /// One pull-request comment per check name, updated in place: off, always, failures
    /// (create only when tests failed) or changes (update only when the results changed).
    #[arg(long = "pr-comment", default_value = "off", value_name = "WHEN")]
    pr_comment: String,
}

impl CheckRunArgs {
    fn settings(&self) -> Result<CheckRunSettings, String> {
        let raw = RawConfig {
            check_run: Some(self.check_run.clone()),
            name: Some(self.check_name.clone()),
            token: self.github_token.clone(),
            commit: self.commit.clone(),
            ..RawConfig::default()
        };
        validate_options(raw, |c| c.check_run)
    }

    fn comment_mode(&self) -> Result<CommentMode, String> {
        self.pr_comment
            .parse()
            .map_err(|e| format!("option '--pr-comment': {e}"))
    }
}

/// Validates options the way the action validates its inputs, naming the option in errors.
fn validate_options<T>(raw: RawConfig, pick: impl FnOnce(Config) -> T) -> Result<T, String> {
    raw.validate()
        .map(pick)
        .map_err(|e| e.to_string().replacen("input '", "option '--", 1))
}

/// `summary`: everything the action does, from the command line.
#[derive(clap::Args)]
struct SummaryArgs {
    #[command(flatten)]
    sources: Sources,
    /// Which tests to list.
    #[arg(long, value_enum, default_value_t = SummaryTestsArg::Failed)]
    summary_tests: SummaryTestsArg,
    /// When to exit non-zero: failures (1 for failed tests), errors (2 for unreadable reports), nothing.
    #[arg(long, value_enum, default_value_t = FailOnArg::Errors)]
    fail_on: FailOnArg,
    /// Treat "no tests found" as an error (exit 2).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    fail_on_empty: bool,
    /// Heading of the summary.
    #[arg(long, default_value = test_report::config::DEFAULT_TITLE)]
    title: String,
    /// Print the requests uploads would send (secrets redacted) instead of sending them.
    #[arg(long)]
    dry_run: bool,
    /// Print the whole result as JSON (totals, files, outputs, receipts, diagnostics, exit code)
    /// instead of the Markdown summary.
    #[arg(long)]
    json: bool,
    /// Which tests get an annotation when run in GitHub Actions: failures, all (also flaky
    /// and skipped) or none.
    #[arg(long, value_enum, default_value_t = AnnotationsArg::Failures)]
    annotations: AnnotationsArg,
    /// At most this many test annotations (GitHub's own caps still apply).
    #[arg(long, value_name = "N")]
    max_annotations: Option<u32>,
    /// Map reported paths to the repository: -PREFIX removes a prefix, +PREFIX adds one to
    /// relative paths.
    #[arg(long, value_name = "RULE", allow_hyphen_values = true, value_parser = parse_path_prefix)]
    path_prefix: Option<PathPrefix>,
    /// Also write every test as CTRF JSON here: complete even when the summary had to shrink.
    #[arg(long, value_name = "PATH")]
    ctrf_file: Option<PathBuf>,
    /// When an upload finally fails, write what remains to be sent here (no secrets), for
    /// `test-report resume DIR`; TestNod then finalizes only once every file arrived.
    #[arg(long, value_name = "DIR")]
    spool_dir: Option<PathBuf>,
    // Destinations last: each flattened group sets its own help heading, which clap keeps for
    // the arguments after it.
    #[command(flatten)]
    testnod: TestnodArgs,
    #[command(flatten)]
    aio: AioArgs,
    #[command(flatten)]
    testomatio: TestomatArgs,
    #[command(flatten)]
    valueedge: valueedge::ValueedgeArgs,
    #[command(flatten)]
    check_run: CheckRunArgs,
}

/// Where on GitHub the results go, for runs outside GitHub Actions.
#[derive(clap::Args)]
struct GithubArgs {
    #[command(flatten)]
    summary: SummaryArgs,
    /// owner/repo.
    #[arg(long, env = "GITHUB_REPOSITORY", value_name = "OWNER/REPO")]
    repository: Option<String>,
    /// REST API base (GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(long, env = test_report::github::rest::ENV_API_URL, value_name = "URL")]
    api_url: Option<String>,
    /// Pull request to comment on and to read changed files from (with --pr-comment).
    #[arg(long, value_name = "NUMBER")]
    pull_request: Option<u64>,
    /// GitHub App id (or client id): with --app-private-key, the check run and comment use an
    /// installation token of the App instead of --github-token.
    #[arg(
        long,
        env = "GITHUB_APP_ID",
        requires = "app_private_key",
        value_name = "ID"
    )]
    app_id: Option<String>,
    /// The App's private key, the .pem file GitHub generated.
    #[arg(
        long,
        env = "GITHUB_APP_PRIVATE_KEY_PATH",
        requires = "app_id",
        value_name = "PEM"
    )]
    app_private_key: Option<PathBuf>,
}

/// `resume DIR`: the spool and the services' settings again.
#[derive(clap::Args)]
struct ResumeArgs {
    /// The spool directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Print the result as JSON (receipts, delivery, errors, exit code).
    #[arg(long)]
    json: bool,
    /// Print the requests the resume would send (secrets redacted) instead of sending them; the
    /// spool is left as it is.
    #[arg(long)]
    dry_run: bool,
    // Destinations last: their help headings carry over to the arguments after them.
    #[command(flatten)]
    testnod: TestnodArgs,
    #[command(flatten)]
    aio: AioArgs,
    #[command(flatten)]
    testomatio: TestomatArgs,
    #[command(flatten)]
    valueedge: valueedge::ValueedgeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// The whole pipeline, as the action runs it: parse once, publish to every configured
    /// destination (TestNod, AIO Tests, Testomat.io, ValueEdge, GitHub check run, PR comment,
    /// annotations), print the Markdown summary and append it to $GITHUB_STEP_SUMMARY when set.
    #[command(
        visible_alias = "summary",
        after_help = "Examples:\n  test-report report 'reports/**/*.xml' --fail-on failures\n  test-report report reports/ --testnod-token \"$TESTNOD_PROJECT_TOKEN\" --dry-run\n  test-report report reports/ --json > result.json\n\nEvery option can also come from test-report.toml (keys are the long names)."
    )]
    Report(Box<SummaryArgs>),
    /// Everything `report` does, from any CI, publishing to GitHub: a check run (a GitHub App
    /// may create one; --check-run true), a PR comment (--pr-comment), annotations in Actions.
    Github(Box<GithubArgs>),
    /// Print totals per file; with --json the machine-readable contract. Exit 2 if a file is unreadable.
    Parse {
        #[command(flatten)]
        sources: Sources,
        #[arg(long)]
        json: bool,
    },
    /// Print the reports converted to another format.
    Convert {
        #[command(flatten)]
        sources: Sources,
        #[arg(long, value_enum)]
        to: Target,
        /// Write here instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Send what `report --spool-dir DIR` left undelivered, without repeating what arrived; give
    /// the services' credentials and settings again. Exit 3 while anything is still pending.
    Resume(Box<ResumeArgs>),
    /// Print the CI metadata detected from the environment: provider, build id, branch, commit,
    /// pull request, run URL. `TEST_REPORT_*` variables override it.
    Env {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum SummaryTestsArg {
    Failed,
    All,
    None,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOnArg {
    Failures,
    Errors,
    Nothing,
}

#[derive(Clone, Copy, ValueEnum)]
enum AnnotationsArg {
    Failures,
    All,
    None,
}

fn parse_path_prefix(raw: &str) -> Result<PathPrefix, String> {
    raw.parse()
        .map_err(|e: test_report::config::ConfigError| e.message)
}

#[derive(Clone, Copy, ValueEnum)]
enum Target {
    Ctrf,
    Junit,
}

pub fn main() -> ExitCode {
    let cli = match parse_cli() {
        Ok(cli) => cli,
        Err(message) => {
            eprintln!("test-report: {message}");
            return ExitCode::from(pipeline::ExitCode::BadInput.code() as u8);
        }
    };
    let verbosity = match (cli.quiet, cli.verbose) {
        (true, _) => Verbosity::Quiet,
        (_, true) => Verbosity::Verbose,
        _ => Verbosity::Normal,
    };
    match execute(cli.command, verbosity) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("test-report: {message}");
            ExitCode::from(pipeline::ExitCode::BadInput.code() as u8)
        }
    }
}

/// Parses the arguments over the config file's defaults; `--help` and usage errors exit here.
fn parse_cli() -> Result<Cli, String> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut command = Cli::command();
    if let Some(path) = config_file::locate(&args, std::env::var_os(config_file::ENV_CONFIG)) {
        command = config_file::apply_file(command, &path)?;
    }
    let matches = command.get_matches_from(args);
    Cli::from_arg_matches(&matches).map_err(|e| e.to_string())
}

fn execute(command: Command, verbosity: Verbosity) -> Result<u8, String> {
    match command {
        Command::Report(args) => summarize(*args, None, verbosity),
        Command::Github(args) => {
            let GithubArgs {
                summary,
                repository,
                api_url,
                pull_request,
                app_id,
                app_private_key,
            } = *args;
            let target = GithubTarget {
                repository,
                api_url,
                pull_request,
                app: app_id.zip(app_private_key),
            };
            summarize(summary, Some(target), verbosity)
        }
        Command::Parse { sources, json } => {
            let config = Config {
                format: sources.format,
                job_summary: false,
                ..Config::default()
            };
            let outcome = run(&sources, config, capture_env(), false, verbosity, None)?;
            if json {
                let text =
                    serde_json::to_string_pretty(&outcome.report).map_err(|e| e.to_string())?;
                emit(&text, true);
            } else {
                print_table(&outcome.report);
            }
            Ok(exit_for_errors(&outcome.report))
        }
        Command::Resume(args) => {
            let ResumeArgs {
                dir,
                testnod,
                aio,
                testomatio,
                valueedge,
                json,
                dry_run,
            } = *args;
            let old = spool::read(&dir)?;
            let config = Config {
                testnod: testnod.settings()?,
                aio: aio.resume_settings(&old)?,
                testomatio: testomatio.settings()?,
                valueedge: valueedge.resume_settings(&old)?,
                ..Config::default()
            };
            if dry_run {
                for request in spool::dry_run(&old, &config)? {
                    eprintln!("{request}\n");
                }
                eprintln!(
                    "test-report: dry run: nothing was sent; {} units still pending in {}",
                    old.pending(),
                    dir.display()
                );
                return Ok(pipeline::ExitCode::Ok.code() as u8);
            }
            let resumed = spool::resume(&dir, &old, &config)?;
            if json {
                let text = serde_json::to_string_pretty(&resumed).map_err(|e| e.to_string())?;
                emit(&text, true);
            } else {
                emit(&resumed.summary, false);
            }
            if let Some(path) = std::env::var_os(ENV_GITHUB_STEP_SUMMARY).filter(|p| !p.is_empty())
            {
                append(Path::new(&path), &resumed.summary)?;
            }
            for error in &resumed.errors {
                eprintln!("test-report: {error}");
            }
            if let Some(next) = &resumed.spool {
                eprintln!(
                    "test-report: {} units still pending in {}: resume again",
                    next.pending(),
                    dir.display()
                );
            }
            Ok(resumed.exit_code as u8)
        }
        Command::Env { json } => {
            let env = capture_env();
            let event = read_event(&env);
            let ci = test_report::ci::detect(&env, event.as_ref());
            if json {
                let text = serde_json::to_string_pretty(&ci).map_err(|e| e.to_string())?;
                emit(&text, true);
            } else {
                print_ci(&ci);
            }
            Ok(pipeline::ExitCode::Ok.code() as u8)
        }
        Command::Convert {
            sources,
            to,
            output,
        } => {
            let files = read_files(&sources, false, verbosity)?;
            match (to, output) {
                (Target::Ctrf, Some(path)) => write_ctrf(&path, &files)?,
                (Target::Ctrf, None) => emit(&convert::ctrf::write(&files, now_ms()), false),
                (Target::Junit, Some(path)) => std::fs::write(&path, convert::junit::write(&files))
                    .map_err(|e| format!("{}: could not write: {e}", path.display()))?,
                (Target::Junit, None) => emit(&convert::junit::write(&files), false),
            }
            let report = Report::new(&files);
            leave_to_exit(files);
            for f in &report.files {
                if let Some(e) = &f.error {
                    eprintln!("test-report: {}: {e}", f.path);
                }
            }
            Ok(exit_for_errors(&report))
        }
    }
}

/// Writes to stdout; a closed pipe (`| head`) ends the output quietly instead of panicking.
fn emit(text: &str, newline: bool) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| {
        if newline {
            out.write_all(b"\n")
        } else {
            Ok(())
        }
    });
}

/// Where `test-report github` publishes, from its flags.
struct GithubTarget {
    repository: Option<String>,
    api_url: Option<String>,
    pull_request: Option<u64>,
    /// App id and private key file.
    app: Option<(String, PathBuf)>,
}

impl GithubTarget {
    /// Puts the target into the environment the core reads and into the settings; with an App,
    /// mints its installation token.
    fn apply(self, env: &mut EnvMap, config: &mut Config) -> Result<(), String> {
        if let Some(repository) = self.repository {
            env.insert(test_report::ci::github_env::REPOSITORY.into(), repository);
        }
        if let Some(url) = self.api_url {
            env.insert(test_report::github::rest::ENV_API_URL.into(), url);
        }
        config.check_run.pull_request = self.pull_request;
        let Some((app_id, key_path)) = self.app else {
            return Ok(());
        };
        let repository = env
            .get(test_report::ci::github_env::REPOSITORY)
            .cloned()
            .ok_or("a GitHub App needs the repository: set --repository OWNER/REPO")?;
        let pem = std::fs::read(&key_path).map_err(|e| {
            format!(
                "{}: cannot read the App's private key: {e}",
                key_path.display()
            )
        })?;
        let jwt = github_app::jwt(
            &app_id,
            &pem,
            now_ms() / 1000,
            &key_path.display().to_string(),
        )?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        let client = NativeClient::new();
        let token = runtime
            .block_on(test_report::github::app::installation_token(
                &client,
                &test_report::github::rest::Api::url_from(env),
                &repository,
                &test_report::http::Secret::new(jwt),
                &test_report::http::retry::RetryPolicy::default(),
            ))
            .map_err(|e| format!("github app {app_id}: {e}"))?;
        config.check_run.token = Some(token);
        Ok(())
    }
}

/// `report`, and `github` with its target.
fn summarize(
    args: SummaryArgs,
    github: Option<GithubTarget>,
    verbosity: Verbosity,
) -> Result<u8, String> {
    let SummaryArgs {
        sources,
        summary_tests,
        fail_on,
        fail_on_empty,
        title,
        testnod,
        aio,
        testomatio,
        valueedge,
        check_run,
        dry_run,
        json,
        annotations,
        max_annotations,
        path_prefix,
        ctrf_file,
        spool_dir,
    } = args;
    let mut config = Config {
        format: sources.format,
        job_summary: true,
        summary_tests: match summary_tests {
            SummaryTestsArg::Failed => SummaryTests::Failed,
            SummaryTestsArg::All => SummaryTests::All,
            SummaryTestsArg::None => SummaryTests::None,
        },
        fail_on: match fail_on {
            FailOnArg::Failures => FailOn::Failures,
            FailOnArg::Errors => FailOn::Errors,
            FailOnArg::Nothing => FailOn::Nothing,
        },
        fail_on_empty,
        title,
        annotations: match annotations {
            AnnotationsArg::Failures => AnnotationChoice::Failures,
            AnnotationsArg::All => AnnotationChoice::All,
            AnnotationsArg::None => AnnotationChoice::None,
        },
        max_annotations,
        path_prefix,
        working_directory: None,
        testnod: testnod.settings()?,
        aio: aio.settings()?,
        testomatio: testomatio.settings()?,
        valueedge: valueedge.settings()?,
        check_run: check_run.settings()?,
        pr_comment: check_run.comment_mode()?,
        spool: spool_dir.is_some(),
    };
    let mut env = capture_env();
    if let Some(target) = github {
        target.apply(&mut env, &mut config)?;
    }
    let actions = in_github_actions(&env);
    let outcome = run(
        &sources,
        config,
        env,
        dry_run,
        verbosity,
        ctrf_file.as_deref(),
    )?;
    let markdown = &outcome.summary;
    if json {
        let text = serde_json::to_string_pretty(&outcome).map_err(|e| e.to_string())?;
        emit(&text, true);
    } else {
        emit(markdown, false);
    }
    if let Some(path) = std::env::var_os(ENV_GITHUB_STEP_SUMMARY).filter(|p| !p.is_empty()) {
        append(Path::new(&path), markdown)?;
    }
    if actions {
        let mut out = std::io::stdout().lock();
        if !markdown.ends_with('\n') {
            let _ = writeln!(out);
        }
        for line in &outcome.workflow_commands {
            let _ = writeln!(out, "{line}");
        }
        // The error slot the core left for the step's own failure, as the action uses it.
        if let Some(failure) = &outcome.failure {
            let line = workflow_commands::command(Level::Error, None, None, "", failure);
            let _ = writeln!(out, "{line}");
        }
    }
    report_problems(&outcome);
    if let (Some(dir), Some(pending)) = (&spool_dir, &outcome.spool) {
        spool::write(dir, pending)?;
        eprintln!(
            "test-report: {} undelivered units spooled to {}: send them with `test-report resume {}`",
            pending.pending(),
            dir.display(),
            dir.display()
        );
    }
    Ok(outcome.exit_code as u8)
}

fn exit_for_errors(report: &Report) -> u8 {
    if report.has_file_errors() || report.files.is_empty() {
        pipeline::ExitCode::BadInput.code() as u8
    } else {
        pipeline::ExitCode::Ok.code() as u8
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(test_report::model::millis)
        .unwrap_or(0)
}

fn capture_env() -> EnvMap {
    std::env::vars()
        .filter(|(k, _)| test_report::ci::is_ci_variable(k))
        .collect()
}

/// Whether this runs as a GitHub Actions step, which turns workflow commands into annotations.
fn in_github_actions(env: &EnvMap) -> bool {
    env.get(ENV_GITHUB_ACTIONS).is_some_and(|v| v == "true")
}

/// Every test as CTRF JSON into `path`, streamed: the document is larger than its reports.
fn write_ctrf(path: &Path, files: &[FileReport]) -> Result<(), String> {
    let failed =
        |e: std::io::Error| format!("{}: could not write the CTRF file: {e}", path.display());
    let mut file = std::fs::File::create(path).map_err(failed)?;
    convert::ctrf::write_chunks(files, now_ms(), |chunk| file.write_all(chunk.as_bytes()))
        .map_err(failed)
}

/// Reads the reports, writes the CTRF file when asked, and runs the pipeline.
fn run(
    sources: &Sources,
    mut config: Config,
    env: EnvMap,
    dry_run: bool,
    verbosity: Verbosity,
    ctrf_file: Option<&Path>,
) -> Result<Outcome, String> {
    let files = read_files(sources, config.keeps_originals(), verbosity)?;
    if let Some(path) = ctrf_file {
        write_ctrf(path, &files)?;
    }
    // The core maps report paths to the repository from here: absolute, inside GITHUB_WORKSPACE.
    config.working_directory = Some(working_directory(sources)?.display().to_string());
    let repo_files = env
        .get(test_report::github::repo_path::ENV_GITHUB_WORKSPACE)
        .filter(|_| in_github_actions(&env))
        .and_then(|workspace| checkout_files(Path::new(workspace)));
    let event = read_event(&env);
    let inputs = Inputs {
        config,
        patterns: paths::split_patterns(&sources.paths),
        files,
        env,
        event,
        repo_files,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let outcome = if dry_run {
        let client = RecordingClient::answering(dry_run::respond);
        let outcome = runtime.block_on(pipeline::run(&inputs, &client));
        for request in dry_run::describe(client.requests()) {
            eprintln!("{request}\n");
        }
        outcome
    } else {
        let client = progress::uploads(verbosity, NativeClient::new());
        let outcome = runtime.block_on(pipeline::run(&inputs, &client));
        client.finish();
        outcome
    };
    leave_to_exit(inputs);
    Ok(outcome)
}

/// Leaves parsed reports to the process's exit, which follows their last use: freeing a hundred
/// thousand cases one by one was a tenth of a `report` run (glibc coalescing its free lists;
/// bench/PROFILE.md, ninth round).
fn leave_to_exit<T>(reports: T) {
    std::mem::forget(reports);
}

/// The checkout's tracked files (`git ls-files`), so annotations point only at files that exist;
/// `None` without git or outside a repository.
fn checkout_files(workspace: &Path) -> Option<Vec<String>> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(workspace)
        .args(["ls-files", "-z"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&output.stdout);
    Some(
        text.split('\0')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

fn working_directory(sources: &Sources) -> Result<PathBuf, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    Ok(match &sources.working_directory {
        Some(dir) => cwd.join(dir),
        None => cwd,
    })
}

/// Reads and parses every matched file; `keep_originals` also keeps each file's bytes for uploads.
fn read_files(
    sources: &Sources,
    keep_originals: bool,
    verbosity: Verbosity,
) -> Result<Vec<FileReport>, String> {
    let cwd = match &sources.working_directory {
        Some(dir) => dir.clone(),
        None => std::env::current_dir()
            .map_err(|e| format!("cannot read the current directory: {e}"))?,
    };
    let patterns = paths::split_patterns(&sources.paths);
    let found = paths::expand(&patterns, &cwd)?;
    if found.is_empty() {
        eprintln!("test-report: no report files match {}", patterns.join(", "));
    }
    let progress = Progress::parsing(verbosity, found.len());
    let read = |f: &Found| {
        let file = read_file(f, &cwd, sources.format, keep_originals);
        progress.file_done(&describe(&file));
        file
    };
    let large: Vec<bool> = found
        .iter()
        .map(|f| match f {
            Found::File(path) => {
                std::fs::metadata(path).is_ok_and(|m| m.len() > PARALLEL_FILE_MAX_BYTES)
            }
            // Their size is unknown until they end.
            Found::Stream(_) | Found::Stdin => true,
            Found::Missing(_) => false,
        })
        .collect();
    let files = in_parallel(&found, &large, read);
    if !files.is_empty() {
        let tests = files
            .iter()
            .filter_map(|f| f.result.as_ref().ok())
            .flat_map(|(_, parsed)| &parsed.runs)
            .map(|run| run.totals().tests)
            .sum();
        progress.parsed(files.len(), tests);
    }
    Ok(files)
}

/// Most report files parsed at once. Parsing is CPU work that scales with cores, and a CI job's
/// reports are often hundreds of files (Surefire writes one per test class); each parse holds a
/// 256 KiB read buffer and the model it builds, so eight stay within any runner's memory.
const PARSE_THREADS_MAX: usize = 8;

/// Files larger than this are parsed one at a time: the JSON document readers hold a document
/// and its values while they read it (up to 11× the file, README "Performance"), and eight large
/// ones at once could exhaust a small runner's memory where one at a time did not.
const PARALLEL_FILE_MAX_BYTES: u64 = 8 << 20;

/// `read` applied to every one of `found`, on up to [`PARSE_THREADS_MAX`] threads (one per core),
/// each taking the next file as it finishes one, except the files `alone` marks, which are read
/// one after the other once the others are done; the results in the order of `found`.
fn in_parallel<T: Send>(
    found: &[Found],
    alone: &[bool],
    read: impl Fn(&Found) -> T + Sync,
) -> Vec<T> {
    let workers = parse_threads().min(found.len());
    if workers <= 1 {
        return found.iter().map(read).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, T)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(f) = found.get(i) else {
                            return mine;
                        };
                        if !alone.get(i).copied().unwrap_or(false) {
                            mine.push((i, read(f)));
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            // A parse that panicked is a bug: it goes on as the panic it was.
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let alone = found
        .iter()
        .enumerate()
        .filter(|(i, _)| alone.get(*i).copied().unwrap_or(false));
    done.extend(alone.map(|(i, f)| (i, read(f))));
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, t)| t).collect()
}

/// One report file, parsed, or why it could not be.
fn read_file(found: &Found, cwd: &Path, format: FormatChoice, keep_originals: bool) -> FileReport {
    match found {
        Found::Missing(path) => {
            FileReport::unreadable(paths::relative(path, cwd), "file does not exist")
        }
        Found::File(path) => {
            let shown = paths::relative(path, cwd);
            match File::open(path) {
                Ok(file) => FileReport {
                    path: shown,
                    result: parse_file(path, file, format),
                    // Read again rather than held from the parse: most runs upload nothing.
                    original: if keep_originals {
                        std::fs::read(path).ok()
                    } else {
                        None
                    },
                },
                Err(e) => FileReport::unreadable(shown, &e.to_string()),
            }
        }
        Found::Stream(path) => {
            let shown = paths::relative(path, cwd);
            match File::open(path) {
                Ok(stream) => read_stream(shown, stream, format, keep_originals),
                Err(e) => FileReport::unreadable(shown, &e.to_string()),
            }
        }
        Found::Stdin => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                // Nothing was piped in: waiting for the user to type a report would hang a job.
                return FileReport::unreadable(
                    STDIN_SHOWN.to_owned(),
                    "the standard input is a terminal; pipe a report into it, e.g. go test -json ./... | test-report report -",
                );
            }
            read_stream(STDIN_SHOWN.to_owned(), stdin.lock(), format, keep_originals)
        }
    }
}

/// A report file parsed: a large one, which is parsed alone ([`in_parallel`]), in parts on every
/// core ([`parse::parse_in_parts`]; JUnit only, other formats whole).
fn parse_file(
    path: &Path,
    file: File,
    format: FormatChoice,
) -> Result<(parse::Format, parse::Parsed), parse::ParseError> {
    let len = file.metadata().map_or(0, |m| m.len());
    if len <= PARALLEL_FILE_MAX_BYTES {
        return parse::parse(BufReader::with_capacity(READ_BUFFER_BYTES, file), format);
    }
    let open = |at: u64| -> std::io::Result<BufReader<File>> {
        let mut file = File::open(path)?;
        file.seek(std::io::SeekFrom::Start(at))?;
        Ok(BufReader::with_capacity(READ_BUFFER_BYTES, file))
    };
    parse::parse_in_parts(open, len, parse_threads(), format)
}

/// The threads parses use: one per core, at most [`PARSE_THREADS_MAX`].
fn parse_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(PARSE_THREADS_MAX)
}

/// What the standard input is called in messages, the summary and `--json`.
const STDIN_SHOWN: &str = "stdin";

/// A report read from a pipe or FIFO. A pipe's first read may hold a single line, while
/// [`parse::parse`] detects the format from its reader's first buffer: the stream's first
/// [`parse::DETECT_PREFIX_BYTES`] are read (over as many reads as it takes) before the rest.
fn read_stream(
    shown: String,
    mut stream: impl Read,
    format: FormatChoice,
    keep_originals: bool,
) -> FileReport {
    let unreadable = |shown, e: std::io::Error| FileReport::unreadable(shown, &e.to_string());
    if keep_originals {
        // Uploads send the report as it was, and a stream cannot be read again: it is held.
        let mut bytes = Vec::new();
        return match stream.read_to_end(&mut bytes) {
            Ok(_) => FileReport {
                path: shown,
                result: parse::parse(bytes.as_slice(), format),
                original: Some(bytes),
            },
            Err(e) => unreadable(shown, e),
        };
    }
    let mut prefix = Vec::new();
    match (&mut stream)
        .take(parse::DETECT_PREFIX_BYTES as u64)
        .read_to_end(&mut prefix)
    {
        Ok(_) => FileReport {
            path: shown,
            result: parse::parse(
                Cursor::new(prefix).chain(BufReader::with_capacity(READ_BUFFER_BYTES, stream)),
                format,
            ),
            original: None,
        },
        Err(e) => unreadable(shown, e),
    }
}

/// A file's path with its format and test count, or its error.
fn describe(file: &FileReport) -> String {
    match &file.result {
        Ok((format, parsed)) => format!(
            "{} ({}, {} tests)",
            file.path,
            format.as_str(),
            parsed.runs.iter().map(|r| r.totals().tests).sum::<u64>()
        ),
        Err(e) => format!("{}: {}", file.path, e.message),
    }
}

fn append(path: &Path, text: &str) -> Result<(), String> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("{}: cannot open the step summary: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("{}: cannot write the step summary: {e}", path.display()))
}

fn report_problems(outcome: &Outcome) {
    for d in &outcome.diagnostics {
        eprintln!("test-report: {d}");
    }
    if let Some(failure) = &outcome.failure {
        eprintln!("test-report: {failure}");
    }
}

/// The GitHub event payload, when running in Actions and it is readable.
fn read_event(env: &EnvMap) -> Option<serde_json::Value> {
    env.get(ENV_GITHUB_EVENT_PATH)
        .and_then(|path| std::fs::read(path).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
}

fn print_ci(ci: &test_report::ci::CiInfo) {
    let mut out = std::io::stdout().lock();
    let rows: [(&str, Option<String>); 11] = [
        ("provider", ci.provider.map(str::to_owned)),
        ("build id", ci.build_id.clone()),
        ("run number", ci.run_number.clone()),
        ("branch", ci.branch.clone()),
        ("commit", ci.commit.clone()),
        ("pull request", ci.pr_number.map(|n| n.to_string())),
        ("run url", ci.run_url.clone()),
        ("job url", ci.job_url.clone()),
        ("job", ci.job.clone()),
        ("workflow", ci.workflow.clone()),
        ("repository", ci.repository.clone()),
    ];
    for (label, value) in rows {
        let shown = value.unwrap_or_else(|| "-".to_owned());
        let _ = writeln!(out, "{label:<13} {shown}");
    }
}

fn print_table(report: &Report) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>10}  file",
        "tests", "passed", "failed", "errored", "skipped", "flaky", "ms"
    );
    let row = |t: &Totals, label: &str| {
        format!(
            "{:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>10}  {label}",
            t.tests, t.passed, t.failed, t.errored, t.skipped, t.flaky, t.duration_ms
        )
    };
    for f in &report.files {
        let line = match &f.error {
            Some(e) => format!("{:>66}  {}: {e}", "error", f.path),
            None => row(&f.totals, &f.path),
        };
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "{}", row(&report.totals, "total"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_read_in_parallel_come_back_in_their_order_and_large_ones_alone() {
        let found: Vec<Found> = (0..64)
            .map(|i| Found::File(PathBuf::from(format!("TEST-{i}.xml"))))
            .collect();
        // Every fifth file is large: read alone, after the others, yet in its place.
        let large: Vec<bool> = (0..64u64).map(|i| i.is_multiple_of(5)).collect();
        let in_flight = std::sync::atomic::AtomicUsize::new(0);
        // Early files take longest, so the threads finish them last.
        let read = |f: &Found| {
            let Found::File(path) = f else {
                panic!("only files here: {f:?}")
            };
            let name = path.display().to_string();
            let i: u64 = name[5..name.len() - 4].parse().unwrap();
            let others = in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let work = (0..(64 - i) * 20_000).fold(0u64, |a, n| a.wrapping_mul(31).wrapping_add(n));
            in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            let alone = others == 0;
            (
                name,
                std::hint::black_box(work) != u64::MAX && (!i.is_multiple_of(5) || alone),
            )
        };
        let read: Vec<(String, bool)> = in_parallel(&found, &large, read);
        assert!(
            read.iter().all(|(_, ok)| *ok),
            "a large file was read beside others"
        );
        let names: Vec<String> = read.into_iter().map(|(n, _)| n).collect();
        let expected: Vec<String> = (0..64).map(|i| format!("TEST-{i}.xml")).collect();
        assert_eq!(names, expected);
    }
}
