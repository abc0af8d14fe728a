//! Settings shared by the action's inputs and the CLI's flags, validated with errors that name
//! the input.

use serde::{Deserialize, Serialize};

use crate::http::Secret;
use crate::parse::FormatChoice;
use crate::upload::testnod::Finalize;

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
    pub testnod_token: Option<String>,
    pub testnod_url: Option<String>,
    pub testnod_build_id: Option<String>,
    pub testnod_tags: Option<String>,
    pub testnod_finalize: Option<String>,
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
