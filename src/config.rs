//! Settings shared by the action's inputs and the CLI's flags, validated with errors that name
//! the input.

use serde::{Deserialize, Serialize};

use crate::github::checks::CheckRunMode;
use crate::github::comment::CommentMode;
use crate::http::Secret;
use crate::parse::FormatChoice;
use crate::upload::aio::{AuthMode, CycleChoice, ImportFlags};
use crate::upload::testnod::Finalize;
use crate::upload::testomat::{Finish, RunTimeUnit};

mod valueedge;
pub use valueedge::ValueedgeSettings;

/// The check run as the user asked for it (`check-run`, `name`, `token`, `commit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRunSettings {
    pub mode: CheckRunMode,
    /// The check's name in the PR's checks list.
    pub name: String,
    /// A token that may write checks; without one no check run is attempted.
    pub token: Option<Secret>,
    /// The commit to attach it to, instead of the detected one.
    pub commit: Option<String>,
    /// The pull request for the comment and changed files, instead of the detected one (CLI
    /// outside Actions).
    pub pull_request: Option<u64>,
}

impl Default for CheckRunSettings {
    fn default() -> CheckRunSettings {
        CheckRunSettings {
            mode: CheckRunMode::Auto,
            name: DEFAULT_TITLE.to_owned(),
            token: None,
            commit: None,
            pull_request: None,
        }
    }
}

/// TestNod settings as the user gave them; CI metadata fills the rest (`pipeline`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestnodSettings {
    pub token: Secret,
    /// Base URL; the vendor's default when `None`.
    pub url: Option<String>,
    /// Build id shared by the uploads of one run; the CI's when `None`.
    pub build_id: Option<String>,
    pub tags: Vec<String>,
    pub finalize: Finalize,
}

/// AIO Tests settings as the user gave them; CI metadata fills the rest (`pipeline`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AioSettings {
    pub token: Secret,
    /// API base URL; Cloud's when `None`.
    pub url: Option<String>,
    /// `Authorization` scheme; derived from the URL and token when `None`.
    pub auth: Option<AuthMode>,
    pub project: String,
    pub cycle: CycleChoice,
    pub batch: bool,
    pub flags: ImportFlags,
}

/// Testomat.io settings as the user gave them; CI metadata fills the rest (`pipeline`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestomatSettings {
    pub api_key: Secret,
    /// Base URL; the vendor's default when `None`.
    pub url: Option<String>,
    /// Run title; the workflow name and run number when `None`.
    pub title: Option<String>,
    pub env: Option<String>,
    /// Run group title.
    pub group: Option<String>,
    /// Attach to this run uid instead of creating one.
    pub run: Option<String>,
    pub create_tests: bool,
    pub finish: Finish,
    pub shared_run: bool,
    pub run_time_unit: RunTimeUnit,
}

/// A comma- or newline-separated list input, trimmed, empty items dropped.
pub fn list(raw: &str) -> Vec<String> {
    raw.split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Title of the job summary when none is given.
pub const DEFAULT_TITLE: &str = "Test results";

/// Which tests the summary lists (`summary-tests`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SummaryTests {
    #[default]
    Failed,
    All,
    None,
}

/// When the step fails (`fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailOn {
    /// A failed or errored test, or a reporting problem.
    #[default]
    Failures,
    /// Only a reporting problem: unreadable report, no results when results were required.
    Errors,
    Nothing,
}

/// Which tests get an annotation (`annotations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnnotationChoice {
    /// Failed and errored tests, as errors.
    #[default]
    Failures,
    /// Also flaky tests as warnings and skipped tests as notices.
    All,
    None,
}

/// How reported paths become repository paths (`path-prefix`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPrefix {
    /// `-PREFIX`: remove PREFIX where a reported path starts with it (a container mount such as
    /// `/app/`); what is left is relative to the repository root.
    Strip(String),
    /// `+PREFIX`: relative reported paths are relative to PREFIX in the repository, not to the
    /// working directory.
    Add(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub format: FormatChoice,
    pub job_summary: bool,
    pub summary_tests: SummaryTests,
    pub fail_on: FailOn,
    pub fail_on_empty: bool,
    pub title: String,
    /// Upload to TestNod; `None` when no token was given.
    pub testnod: Option<TestnodSettings>,
    /// Upload to AIO Tests; `None` when no token was given.
    pub aio: Option<AioSettings>,
    /// Upload to Testomat.io; `None` when no API key was given.
    pub testomatio: Option<TestomatSettings>,
    /// Upload to ValueEdge; `None` when no API access key was given.
    pub valueedge: Option<ValueedgeSettings>,
    pub check_run: CheckRunSettings,
    /// The pull-request comment (`pr-comment`), with the check run's name and token.
    pub pr_comment: CommentMode,
    pub annotations: AnnotationChoice,
    /// At most this many test annotations, within GitHub's own caps; `None`: only GitHub's caps.
    pub max_annotations: Option<u32>,
    pub path_prefix: Option<PathPrefix>,
    /// Where the tests ran and relative report paths start: absolute, or relative to
    /// `GITHUB_WORKSPACE`; `None` is the workspace itself.
    pub working_directory: Option<String>,
    /// What an upload leaves undelivered is spooled for `resume` (`spool`): TestNod then holds
    /// its finalize back while files are missing, so the resumed files join the same run.
    pub spool: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            format: FormatChoice::Auto,
            job_summary: true,
            summary_tests: SummaryTests::Failed,
            fail_on: FailOn::Failures,
            fail_on_empty: true,
            title: DEFAULT_TITLE.to_owned(),
            testnod: None,
            aio: None,
            testomatio: None,
            valueedge: None,
            check_run: CheckRunSettings::default(),
            pr_comment: CommentMode::Off,
            annotations: AnnotationChoice::Failures,
            max_annotations: None,
            path_prefix: None,
            working_directory: None,
            spool: false,
        }
    }
}

impl Config {
    /// Whether the edges keep each report's bytes: services that take reports in their native
    /// format get them byte for byte.
    pub fn keeps_originals(&self) -> bool {
        self.testnod.is_some() || self.aio.is_some()
    }
}

/// A setting that could not be understood, with the input it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub input: &'static str,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "input '{}': {}", self.input, self.message)
    }
}

impl std::error::Error for ConfigError {}

fn one_of<T: Copy>(
    input: &'static str,
    raw: &str,
    choices: &[(&str, T)],
) -> Result<T, ConfigError> {
    let wanted = raw.trim().to_ascii_lowercase();
    choices
        .iter()
        .find(|(name, _)| *name == wanted)
        .map(|(_, v)| *v)
        .ok_or_else(|| ConfigError {
            input,
            message: format!(
                "'{raw}' is not one of {}",
                choices
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

impl std::str::FromStr for SummaryTests {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        one_of(
            "summary-tests",
            s,
            &[
                ("failed", SummaryTests::Failed),
                ("all", SummaryTests::All),
                ("none", SummaryTests::None),
            ],
        )
    }
}

impl std::str::FromStr for FailOn {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        one_of(
            "fail-on",
            s,
            &[
                ("failures", FailOn::Failures),
                ("errors", FailOn::Errors),
                ("nothing", FailOn::Nothing),
            ],
        )
    }
}

impl std::str::FromStr for AnnotationChoice {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        one_of(
            "annotations",
            s,
            &[
                ("failures", AnnotationChoice::Failures),
                ("all", AnnotationChoice::All),
                ("none", AnnotationChoice::None),
            ],
        )
    }
}

impl std::str::FromStr for PathPrefix {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let error = |message: &str| ConfigError {
            input: "path-prefix",
            message: format!("'{s}' {message}"),
        };
        let s = s.trim();
        let (sign, prefix) = s.split_at(s.chars().next().map_or(0, char::len_utf8));
        let prefix = prefix.replace('\\', "/");
        if prefix.is_empty() {
            return Err(error("needs a path after + or -"));
        }
        match sign {
            "-" => Ok(PathPrefix::Strip(prefix)),
            "+" => Ok(PathPrefix::Add(prefix)),
            _ => Err(error(
                "must start with - (remove a prefix) or + (add a prefix), e.g. -/app/ or +backend/",
            )),
        }
    }
}

/// `max-annotations`: a whole number of annotations, 0 for none.
fn parse_max_annotations(raw: &str) -> Result<u32, ConfigError> {
    raw.trim().parse().map_err(|_| ConfigError {
        input: "max-annotations",
        message: format!("'{raw}' is not a whole number of annotations (0 or more)"),
    })
}

/// A `true`/`false` input given as text; empty is the default.
fn flag(input: &'static str, raw: Option<String>, default: bool) -> Result<bool, ConfigError> {
    optional_flag(input, raw.as_deref()).map(|v| v.unwrap_or(default))
}

/// An enumerated input through its `FromStr`; empty is the default.
fn parsed<T: std::str::FromStr<Err = String> + Default>(
    input: &'static str,
    raw: Option<String>,
) -> Result<T, ConfigError> {
    raw.as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|message| ConfigError { input, message })
}

/// The settings as the action passes them: strings straight from the inputs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    pub format: Option<String>,
    pub job_summary: Option<bool>,
    pub summary_tests: Option<String>,
    pub fail_on: Option<String>,
    pub fail_on_empty: Option<bool>,
    pub title: Option<String>,
    pub check_run: Option<String>,
    pub name: Option<String>,
    pub token: Option<String>,
    pub commit: Option<String>,
    pub pr_comment: Option<String>,
    pub testnod_token: Option<String>,
    pub testnod_url: Option<String>,
    pub testnod_build_id: Option<String>,
    pub testnod_tags: Option<String>,
    pub testnod_finalize: Option<String>,
    pub aio_token: Option<String>,
    pub aio_url: Option<String>,
    pub aio_auth: Option<String>,
    pub aio_project: Option<String>,
    pub aio_cycle: Option<String>,
    pub aio_cycle_title: Option<String>,
    pub aio_batch: Option<String>,
    pub aio_create_new_run: Option<String>,
    pub aio_add_case_to_cycle: Option<String>,
    pub aio_create_case: Option<String>,
    pub aio_update_datasets: Option<String>,
    pub aio_force_update_case: Option<String>,
    pub aio_bdd_force_update_case: Option<String>,
    pub aio_update_only_run_status: Option<String>,
    pub aio_ignore_class_in_auto_key: Option<String>,
    pub aio_default_folder: Option<String>,
    pub testomatio_api_key: Option<String>,
    pub testomatio_url: Option<String>,
    pub testomatio_title: Option<String>,
    pub testomatio_env: Option<String>,
    pub testomatio_group: Option<String>,
    pub testomatio_run: Option<String>,
    pub testomatio_create_tests: Option<String>,
    pub testomatio_finish: Option<String>,
    pub testomatio_shared_run: Option<String>,
    pub testomatio_run_time_unit: Option<String>,
    pub valueedge_url: Option<String>,
    pub valueedge_shared_space: Option<String>,
    pub valueedge_workspace: Option<String>,
    pub valueedge_client_id: Option<String>,
    pub valueedge_client_secret: Option<String>,
    pub valueedge_skip_errors: Option<bool>,
    pub valueedge_wait: Option<bool>,
    pub valueedge_release: Option<String>,
    pub valueedge_backlog_items: Option<String>,
    pub valueedge_product_areas: Option<String>,
    pub valueedge_environment: Option<String>,
    pub valueedge_test_level: Option<String>,
    pub valueedge_test_type: Option<String>,
    pub valueedge_testing_tool: Option<String>,
    pub valueedge_framework: Option<String>,
    pub annotations: Option<String>,
    pub max_annotations: Option<String>,
    pub path_prefix: Option<String>,
    pub working_directory: Option<String>,
    /// The edge writes a spool of what was not delivered (the action always does).
    pub spool: Option<bool>,
}

/// A `true`/`false` input (any case, as YAML writes them; also `1`/`0`, as Testomat's
/// environment variables are set); empty means unset.
fn optional_flag(input: &'static str, raw: Option<&str>) -> Result<Option<bool>, ConfigError> {
    match raw.map(|r| r.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(_) => Err(ConfigError {
            input,
            message: format!(
                "'{}' is not one of true, false",
                raw.unwrap_or_default().trim()
            ),
        }),
    }
}

impl RawConfig {
    /// The `aio-*` inputs; `None` without a token.
    fn aio(&self) -> Result<Option<AioSettings>, ConfigError> {
        let text = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let Some(token) = text(&self.aio_token) else {
            return Ok(None);
        };
        let project = text(&self.aio_project).ok_or_else(|| ConfigError {
            input: "aio-project",
            message: "the AIO Tests project key (e.g. PROJ) is required with aio-token".into(),
        })?;
        let cycle = match (text(&self.aio_cycle), text(&self.aio_cycle_title)) {
            (Some(key), None) => CycleChoice::Key(key),
            (None, Some(title)) => CycleChoice::Title(title),
            (None, None) => {
                return Err(ConfigError {
                    input: "aio-cycle",
                    message: "set aio-cycle (a cycle key such as PROJ-CY-12) or aio-cycle-title (found, or created when missing)".into(),
                })
            }
            (Some(_), Some(_)) => {
                return Err(ConfigError {
                    input: "aio-cycle-title",
                    message: "set aio-cycle or aio-cycle-title, not both".into(),
                })
            }
        };
        let defaults = ImportFlags::default();
        let on = |input: &'static str, raw: &Option<String>, default: bool| {
            flag(input, raw.clone(), default)
        };
        Ok(Some(AioSettings {
            token: Secret::new(token),
            url: text(&self.aio_url),
            auth: text(&self.aio_auth)
                .map(|a| a.parse())
                .transpose()
                .map_err(|message| ConfigError {
                    input: "aio-auth",
                    message,
                })?,
            project,
            cycle,
            batch: on("aio-batch", &self.aio_batch, false)?,
            flags: ImportFlags {
                create_new_run: on(
                    "aio-create-new-run",
                    &self.aio_create_new_run,
                    defaults.create_new_run,
                )?,
                add_case_to_cycle: on(
                    "aio-add-case-to-cycle",
                    &self.aio_add_case_to_cycle,
                    defaults.add_case_to_cycle,
                )?,
                create_case: optional_flag("aio-create-case", self.aio_create_case.as_deref())?,
                update_datasets: optional_flag(
                    "aio-update-datasets",
                    self.aio_update_datasets.as_deref(),
                )?,
                force_update_case: on(
                    "aio-force-update-case",
                    &self.aio_force_update_case,
                    defaults.force_update_case,
                )?,
                bdd_force_update_case: on(
                    "aio-bdd-force-update-case",
                    &self.aio_bdd_force_update_case,
                    defaults.bdd_force_update_case,
                )?,
                update_only_run_status: on(
                    "aio-update-only-run-status",
                    &self.aio_update_only_run_status,
                    defaults.update_only_run_status,
                )?,
                ignore_class_in_auto_key: on(
                    "aio-ignore-class-in-auto-key",
                    &self.aio_ignore_class_in_auto_key,
                    defaults.ignore_class_in_auto_key,
                )?,
                default_folder: text(&self.aio_default_folder),
            },
        }))
    }

    pub fn validate(self) -> Result<Config, ConfigError> {
        let defaults = Config::default();
        let aio = self.aio()?;
        let valueedge = valueedge::settings(&self)?;
        let non_empty = |s: Option<String>| s.filter(|v| !v.trim().is_empty());
        Ok(Config {
            aio,
            format: match non_empty(self.format) {
                Some(f) => f.parse().map_err(|message| ConfigError {
                    input: "format",
                    message,
                })?,
                None => defaults.format,
            },
            job_summary: self.job_summary.unwrap_or(defaults.job_summary),
            summary_tests: match non_empty(self.summary_tests) {
                Some(s) => s.parse()?,
                None => defaults.summary_tests,
            },
            fail_on: match non_empty(self.fail_on) {
                Some(s) => s.parse()?,
                None => defaults.fail_on,
            },
            fail_on_empty: self.fail_on_empty.unwrap_or(defaults.fail_on_empty),
            title: non_empty(self.title).unwrap_or(defaults.title),
            check_run: CheckRunSettings {
                mode: non_empty(self.check_run)
                    .map(|m| m.parse())
                    .transpose()
                    .map_err(|message| ConfigError {
                        input: "check-run",
                        message,
                    })?
                    .unwrap_or_default(),
                name: non_empty(self.name).unwrap_or_else(|| DEFAULT_TITLE.to_owned()),
                token: non_empty(self.token).map(|t| Secret::new(t.trim())),
                commit: non_empty(self.commit),
                pull_request: None,
            },
            pr_comment: non_empty(self.pr_comment)
                .map(|m| m.parse())
                .transpose()
                .map_err(|message| ConfigError {
                    input: "pr-comment",
                    message,
                })?
                .unwrap_or_default(),
            testnod: match non_empty(self.testnod_token) {
                None => None,
                Some(token) => Some(TestnodSettings {
                    token: Secret::new(token.trim()),
                    url: non_empty(self.testnod_url),
                    build_id: non_empty(self.testnod_build_id),
                    tags: list(self.testnod_tags.as_deref().unwrap_or_default()),
                    finalize: non_empty(self.testnod_finalize)
                        .map(|f| f.parse())
                        .transpose()
                        .map_err(|message| ConfigError {
                            input: "testnod-finalize",
                            message,
                        })?
                        .unwrap_or_default(),
                }),
            },
            testomatio: match non_empty(self.testomatio_api_key) {
                None => None,
                Some(key) => Some(TestomatSettings {
                    api_key: Secret::new(key.trim()),
                    url: non_empty(self.testomatio_url),
                    title: non_empty(self.testomatio_title),
                    env: non_empty(self.testomatio_env),
                    group: non_empty(self.testomatio_group),
                    run: non_empty(self.testomatio_run).map(|r| r.trim().to_owned()),
                    create_tests: flag(
                        "testomatio-create-tests",
                        self.testomatio_create_tests,
                        true,
                    )?,
                    finish: parsed("testomatio-finish", self.testomatio_finish)?,
                    shared_run: flag("testomatio-shared-run", self.testomatio_shared_run, false)?,
                    run_time_unit: parsed(
                        "testomatio-run-time-unit",
                        self.testomatio_run_time_unit,
                    )?,
                }),
            },
            valueedge,
            annotations: match non_empty(self.annotations) {
                Some(s) => s.parse()?,
                None => defaults.annotations,
            },
            max_annotations: match non_empty(self.max_annotations) {
                Some(s) => Some(parse_max_annotations(&s)?),
                None => defaults.max_annotations,
            },
            path_prefix: match non_empty(self.path_prefix) {
                Some(s) => Some(s.parse()?),
                None => defaults.path_prefix,
            },
            working_directory: non_empty(self.working_directory),
            spool: self.spool.unwrap_or(defaults.spool),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_values_name_the_input() {
        let raw = RawConfig {
            fail_on: Some("sometimes".into()),
            ..RawConfig::default()
        };
        let err = raw.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "input 'fail-on': 'sometimes' is not one of failures, errors, nothing"
        );
    }

    #[test]
    fn annotation_inputs_are_validated_naming_the_input() {
        let invalid = |raw: RawConfig| raw.validate().unwrap_err().to_string();
        assert_eq!(
            invalid(RawConfig {
                annotations: Some("some".into()),
                ..RawConfig::default()
            }),
            "input 'annotations': 'some' is not one of failures, all, none"
        );
        assert_eq!(
            invalid(RawConfig {
                max_annotations: Some("-1".into()),
                ..RawConfig::default()
            }),
            "input 'max-annotations': '-1' is not a whole number of annotations (0 or more)"
        );
        assert!(invalid(RawConfig {
            path_prefix: Some("/app/".into()),
            ..RawConfig::default()
        })
        .starts_with("input 'path-prefix': '/app/' must start with - (remove a prefix) or +"));
        let config = RawConfig {
            annotations: Some("All".into()),
            max_annotations: Some(" 5 ".into()),
            path_prefix: Some("-C:\\app\\".into()),
            ..RawConfig::default()
        }
        .validate()
        .unwrap();
        assert_eq!(config.annotations, AnnotationChoice::All);
        assert_eq!(config.max_annotations, Some(5));
        assert_eq!(
            config.path_prefix,
            Some(PathPrefix::Strip("C:/app/".into()))
        );
    }

    #[test]
    fn aio_inputs_need_a_project_and_one_cycle_and_booleans() {
        let raw = |f: fn(&mut RawConfig)| {
            let mut raw = RawConfig {
                aio_token: Some(" tok ".into()),
                aio_project: Some("PROJ".into()),
                aio_cycle: Some("PROJ-CY-1".into()),
                ..RawConfig::default()
            };
            f(&mut raw);
            raw.validate()
        };
        let aio = raw(|_| {}).unwrap().aio.unwrap();
        assert_eq!(aio.token.expose(), "tok");
        assert_eq!(aio.flags, ImportFlags::default());
        assert!(!aio.batch);
        assert_eq!(aio.auth, None);
        let err = |f| raw(f).unwrap_err().to_string();
        assert_eq!(
            err(|r| r.aio_project = None),
            "input 'aio-project': the AIO Tests project key (e.g. PROJ) is required with aio-token"
        );
        assert!(err(|r| r.aio_cycle = None).starts_with("input 'aio-cycle': set aio-cycle"));
        assert_eq!(
            err(|r| r.aio_cycle_title = Some("Nightly".into())),
            "input 'aio-cycle-title': set aio-cycle or aio-cycle-title, not both"
        );
        assert_eq!(
            err(|r| r.aio_create_case = Some("yes".into())),
            "input 'aio-create-case': 'yes' is not one of true, false"
        );
        assert!(err(|r| r.aio_auth = Some("token".into())).starts_with("input 'aio-auth': 'token'"));
        let aio = raw(|r| {
            r.aio_create_case = Some("True".into());
            r.aio_create_new_run = Some("false".into());
            r.aio_batch = Some("TRUE".into());
            r.aio_auth = Some("bearer".into());
            r.aio_default_folder = Some(" 12 ".into());
        })
        .unwrap()
        .aio
        .unwrap();
        assert_eq!(aio.flags.create_case, Some(true));
        assert!(!aio.flags.create_new_run);
        assert!(aio.batch);
        assert_eq!(aio.auth, Some(AuthMode::Bearer));
        assert_eq!(aio.flags.default_folder.as_deref(), Some("12"));
        assert_eq!(RawConfig::default().validate().unwrap().aio, None);
    }

    #[test]
    fn testomatio_turns_on_with_a_key_and_names_bad_inputs() {
        let bad = |raw: RawConfig| raw.validate().unwrap_err().to_string();
        let key = || Some("tstmt_k".to_owned());
        assert_eq!(
            bad(RawConfig {
                testomatio_api_key: key(),
                testomatio_finish: Some("later".into()),
                ..RawConfig::default()
            }),
            "input 'testomatio-finish': 'later' is not one of true, false, parallel"
        );
        assert_eq!(
            bad(RawConfig {
                testomatio_api_key: key(),
                testomatio_shared_run: Some("yes".into()),
                ..RawConfig::default()
            }),
            "input 'testomatio-shared-run': 'yes' is not one of true, false"
        );
        let settings = RawConfig {
            testomatio_api_key: key(),
            testomatio_create_tests: Some("0".into()),
            testomatio_run_time_unit: Some("s".into()),
            testomatio_run: Some(" a0b1c2d3 ".into()),
            ..RawConfig::default()
        }
        .validate()
        .unwrap()
        .testomatio
        .unwrap();
        assert!(!settings.create_tests);
        assert!(!settings.shared_run);
        assert_eq!(settings.finish, Finish::True);
        assert_eq!(settings.run_time_unit, RunTimeUnit::Seconds);
        assert_eq!(settings.run.as_deref(), Some("a0b1c2d3"));
        assert_eq!(RawConfig::default().validate().unwrap().testomatio, None);
    }

    #[test]
    fn empty_strings_mean_defaults_and_case_is_ignored() {
        let raw = RawConfig {
            format: Some(String::new()),
            summary_tests: Some("ALL".into()),
            ..RawConfig::default()
        };
        let config = raw.validate().unwrap();
        assert_eq!(config.format, FormatChoice::Auto);
        assert_eq!(config.summary_tests, SummaryTests::All);
        assert_eq!(config.fail_on, FailOn::Failures);
    }
}
