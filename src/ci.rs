//! Where the reports come from: CI provider, build, branch, commit, pull request, run URL —
//! a pure function of the environment (and, on GitHub, the event payload).

use serde::Serialize;

use crate::pipeline::EnvMap;

/// GitHub Actions' documented default variables ("Variables reference").
pub mod github_env {
    pub const ACTIONS: &str = "GITHUB_ACTIONS";
    pub const RUN_ID: &str = "GITHUB_RUN_ID";
    pub const RUN_ATTEMPT: &str = "GITHUB_RUN_ATTEMPT";
    pub const SERVER_URL: &str = "GITHUB_SERVER_URL";
    pub const API_URL: &str = "GITHUB_API_URL";
    pub const REPOSITORY: &str = "GITHUB_REPOSITORY";
    pub const SHA: &str = "GITHUB_SHA";
    pub const REF_NAME: &str = "GITHUB_REF_NAME";
    pub const HEAD_REF: &str = "GITHUB_HEAD_REF";
    pub const EVENT_NAME: &str = "GITHUB_EVENT_NAME";
    pub const JOB: &str = "GITHUB_JOB";
    pub const WORKFLOW: &str = "GITHUB_WORKFLOW";
    pub const RUN_NUMBER: &str = "GITHUB_RUN_NUMBER";
    pub const RUNNER_OS: &str = "RUNNER_OS";
    pub const RUNNER_ARCH: &str = "RUNNER_ARCH";
}

/// Default GitHub host when `GITHUB_SERVER_URL` is absent (never hard-coded elsewhere).
pub const DEFAULT_GITHUB_SERVER_URL: &str = "https://github.com";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CiInfo {
    pub provider: Option<&'static str>,
    /// Stable across the shards of one pipeline run, distinct between runs and re-runs.
    pub build_id: Option<String>,
    pub branch: Option<String>,
    /// The commit the tests ran for: on pull requests the PR head, not the merge commit.
    pub commit: Option<String>,
    pub pr_number: Option<u64>,
    pub run_url: Option<String>,
    pub job: Option<String>,
}

fn get(env: &EnvMap, key: &str) -> Option<String> {
    env.get(key)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Detects the CI from its variables. `event` is the GitHub event payload (`GITHUB_EVENT_PATH`'s
/// content), when the edge could read it.
pub fn detect(env: &EnvMap, event: Option<&serde_json::Value>) -> CiInfo {
    if get(env, github_env::ACTIONS).as_deref() == Some("true") {
        return github(env, event);
    }
    CiInfo::default()
}

fn github(env: &EnvMap, event: Option<&serde_json::Value>) -> CiInfo {
    let pr = event.and_then(|e| e.get("pull_request"));
    let pr_head = |key: &str| {
        pr.and_then(|p| p.get("head"))
            .and_then(|h| h.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    // Under `workflow_run` the tests ran in the triggering run: its head is the commit.
    let triggering = |key: &str| {
        event
            .and_then(|e| e.get("workflow_run"))
            .and_then(|w| w.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let run_id = get(env, github_env::RUN_ID);
    let server =
        get(env, github_env::SERVER_URL).unwrap_or_else(|| DEFAULT_GITHUB_SERVER_URL.to_owned());
    CiInfo {
        provider: Some("github-actions"),
        build_id: run_id.as_ref().map(|id| {
            format!(
                "{id}-{}",
                get(env, github_env::RUN_ATTEMPT).unwrap_or_else(|| "1".into())
            )
        }),
        branch: get(env, github_env::HEAD_REF)
            .or_else(|| triggering("head_branch"))
            .or_else(|| get(env, github_env::REF_NAME)),
        commit: pr_head("sha")
            .or_else(|| triggering("head_sha"))
            .or_else(|| get(env, github_env::SHA)),
        pr_number: pr.and_then(|p| p.get("number")).and_then(|n| n.as_u64()),
        run_url: match (get(env, github_env::REPOSITORY), &run_id) {
            (Some(repo), Some(id)) => Some(format!(
                "{}/{repo}/actions/runs/{id}",
                server.trim_end_matches('/')
            )),
            _ => None,
        },
        job: get(env, github_env::JOB),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> EnvMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn github_pull_requests_use_the_head_commit_and_branch() {
        let env = env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_RUN_ID", "987"),
            ("GITHUB_RUN_ATTEMPT", "2"),
            ("GITHUB_SERVER_URL", "https://ghe.acme.io/"),
            ("GITHUB_REPOSITORY", "acme/widgets"),
            ("GITHUB_SHA", "merge0000"),
            ("GITHUB_REF_NAME", "12/merge"),
            ("GITHUB_HEAD_REF", "feature/x"),
        ]);
        let event = serde_json::json!({"pull_request": {"number": 12, "head": {"sha": "head1111", "ref": "feature/x"}}});
        let ci = detect(&env, Some(&event));
        assert_eq!(ci.build_id.as_deref(), Some("987-2"));
        assert_eq!(ci.commit.as_deref(), Some("head1111"));
        assert_eq!(ci.branch.as_deref(), Some("feature/x"));
        assert_eq!(ci.pr_number, Some(12));
        assert_eq!(
            ci.run_url.as_deref(),
            Some("https://ghe.acme.io/acme/widgets/actions/runs/987")
        );
    }

    #[test]
    fn github_pushes_use_the_pushed_commit_and_ref_name() {
        let env = env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_RUN_ID", "5"),
            ("GITHUB_SHA", "abc"),
            ("GITHUB_REF_NAME", "main"),
        ]);
        let ci = detect(&env, None);
        assert_eq!(
            (
                ci.commit.as_deref(),
                ci.branch.as_deref(),
                ci.build_id.as_deref()
            ),
            (Some("abc"), Some("main"), Some("5-1"))
        );
    }

    #[test]
    fn workflow_run_uses_the_triggering_runs_head() {
        let env = env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", "default-branch-tip"),
            ("GITHUB_REF_NAME", "main"),
        ]);
        let event = serde_json::json!({"workflow_run": {"head_sha": "fork2222", "head_branch": "patch-1", "pull_requests": []}});
        let ci = detect(&env, Some(&event));
        assert_eq!(
            (ci.commit.as_deref(), ci.branch.as_deref()),
            (Some("fork2222"), Some("patch-1"))
        );
    }

    #[test]
    fn unknown_ci_detects_nothing() {
        assert_eq!(detect(&env(&[("PATH", "/bin")]), None), CiInfo::default());
    }
}
