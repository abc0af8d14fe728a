//! Settings shared by the action's inputs and the CLI's flags, validated with errors that name
//! the input.

use serde::{Deserialize, Serialize};

use crate::github::checks::CheckRunMode;
use crate::github::comment::CommentMode;
use crate::http::Secret;
use crate::parse::FormatChoice;
use crate::upload::testnod::Finalize;

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
            check_run: CheckRunSettings::default(),
            pr_comment: CommentMode::Off,
            annotations: AnnotationChoice::Failures,
            max_annotations: None,
            path_prefix: None,
            working_directory: None,
        }
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
    pub annotations: Option<String>,
    pub max_annotations: Option<String>,
    pub path_prefix: Option<String>,
    pub working_directory: Option<String>,
}

impl RawConfig {
    pub fn validate(self) -> Result<Config, ConfigError> {
        let defaults = Config::default();
        let non_empty = |s: Option<String>| s.filter(|v| !v.trim().is_empty());
        Ok(Config {
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
