//! Where the reports come from: CI provider, build, branch, commit, pull request, run URL —
//! a pure function of the environment (and, on GitHub, the event payload).
//!
//! Each provider is read from its own documented variables (sources beside each table). Rules:
//! - `build_id` is the same for every job/shard of one pipeline run and differs between runs and
//!   re-runs where the provider tells them apart, so uploads of one run group together.
//! - `commit` is the commit the tests ran for: on pull requests the head, not a merge commit.
//! - `branch` is the source branch of a pull request, else the pushed branch.
//! - Our own `TEST_REPORT_*` variables override whatever was detected, and make an undetected
//!   CI usable ("generic").

use serde::Serialize;

use crate::pipeline::EnvMap;

/// GitHub Actions' documented default variables ("Variables reference").
pub mod github_env {
    pub const ACTIONS: &str = "GITHUB_ACTIONS";
    pub const RUN_ID: &str = "GITHUB_RUN_ID";
    pub const RUN_ATTEMPT: &str = "GITHUB_RUN_ATTEMPT";
    pub const RUN_NUMBER: &str = "GITHUB_RUN_NUMBER";
    pub const SERVER_URL: &str = "GITHUB_SERVER_URL";
    pub const API_URL: &str = "GITHUB_API_URL";
    pub const REPOSITORY: &str = "GITHUB_REPOSITORY";
    pub const SHA: &str = "GITHUB_SHA";
    pub const REF_NAME: &str = "GITHUB_REF_NAME";
    pub const HEAD_REF: &str = "GITHUB_HEAD_REF";
    pub const EVENT_NAME: &str = "GITHUB_EVENT_NAME";
    pub const JOB: &str = "GITHUB_JOB";
    pub const WORKFLOW: &str = "GITHUB_WORKFLOW";
    pub const RUNNER_OS: &str = "RUNNER_OS";
    pub const RUNNER_ARCH: &str = "RUNNER_ARCH";
}

/// Overrides for any CI, and the whole story on an undetected one (documented in the README).
pub mod override_env {
    pub const PROVIDER: &str = "TEST_REPORT_CI";
    pub const BUILD_ID: &str = "TEST_REPORT_BUILD_ID";
    pub const BRANCH: &str = "TEST_REPORT_BRANCH";
    pub const COMMIT: &str = "TEST_REPORT_COMMIT";
    pub const PR_NUMBER: &str = "TEST_REPORT_PR_NUMBER";
    pub const RUN_URL: &str = "TEST_REPORT_RUN_URL";
    pub const JOB: &str = "TEST_REPORT_JOB";
    pub const REPOSITORY: &str = "TEST_REPORT_REPOSITORY";
}

/// Default GitHub host when `GITHUB_SERVER_URL` is absent (never hard-coded elsewhere).
pub const DEFAULT_GITHUB_SERVER_URL: &str = "https://github.com";
/// Bitbucket Cloud's web host: Pipelines exposes the workspace and slug, not the host.
pub const BITBUCKET_WEB_URL: &str = "https://bitbucket.org";

/// Prefixes of the variables GitHub Actions and our overrides define.
const ENV_PREFIXES: &[&str] = &["GITHUB_", "RUNNER_", "TEST_REPORT_"];

/// Whether the edges pass variable `name` to the core: the ones [`detect`] reads, never the whole
/// environment, and never one that looks like a credential (GitLab's `CI_JOB_TOKEN`, a user's
/// `GITHUB_TOKEN`).
pub fn is_ci_variable(name: &str) -> bool {
    let secret_like = ["TOKEN", "PASSWORD", "SECRET", "KEY", "JWT"]
        .iter()
        .any(|word| name.contains(word));
    if secret_like {
        return false;
    }
    name == "CI"
        || ENV_PREFIXES.iter().any(|p| name.starts_with(p))
        || PROVIDERS.iter().any(|(_, var)| *var == name)
        || PROVIDER_VARIABLES.contains(&name)
}

/// The provider variables read below, one list so the edges pass exactly these.
const PROVIDER_VARIABLES: &[&str] = &[
    // GitLab CI
    "CI_PIPELINE_ID",
    "CI_PIPELINE_IID",
    "CI_PIPELINE_NAME",
    "CI_PIPELINE_URL",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA",
    "CI_MERGE_REQUEST_IID",
    "CI_COMMIT_BRANCH",
    "CI_COMMIT_REF_NAME",
    "CI_COMMIT_SHA",
    "CI_JOB_URL",
    "CI_JOB_NAME",
    "CI_PROJECT_PATH",
    // CircleCI
    "CIRCLE_WORKFLOW_ID",
    "CIRCLE_BUILD_NUM",
    "CIRCLE_BRANCH",
    "CIRCLE_SHA1",
    "CIRCLE_PR_NUMBER",
    "CIRCLE_PULL_REQUEST",
    "CIRCLE_BUILD_URL",
    "CIRCLE_JOB",
    "CIRCLE_PROJECT_USERNAME",
    "CIRCLE_PROJECT_REPONAME",
    // Buildkite
    "BUILDKITE_BUILD_ID",
    "BUILDKITE_BUILD_NUMBER",
    "BUILDKITE_BRANCH",
    "BUILDKITE_COMMIT",
    "BUILDKITE_PULL_REQUEST",
    "BUILDKITE_BUILD_URL",
    "BUILDKITE_JOB_ID",
    "BUILDKITE_LABEL",
    "BUILDKITE_PIPELINE_SLUG",
    "BUILDKITE_REPO",
    // Azure Pipelines
    "BUILD_BUILDID",
    "BUILD_BUILDNUMBER",
    "BUILD_SOURCEBRANCH",
    "BUILD_SOURCEVERSION",
    "BUILD_DEFINITIONNAME",
    "BUILD_REPOSITORY_NAME",
    "SYSTEM_COLLECTIONURI",
    "SYSTEM_TEAMPROJECT",
    "SYSTEM_PULLREQUEST_SOURCEBRANCH",
    "SYSTEM_PULLREQUEST_SOURCECOMMITID",
    "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER",
    "SYSTEM_PULLREQUEST_PULLREQUESTID",
    "SYSTEM_JOBDISPLAYNAME",
    // Bitbucket Pipelines
    "BITBUCKET_BUILD_NUMBER",
    "BITBUCKET_PIPELINE_UUID",
    "BITBUCKET_STEP_UUID",
    "BITBUCKET_BRANCH",
    "BITBUCKET_COMMIT",
    "BITBUCKET_PR_ID",
    "BITBUCKET_REPO_FULL_NAME",
    "BITBUCKET_WORKSPACE",
    "BITBUCKET_REPO_SLUG",
    // Travis CI
    "TRAVIS_BUILD_ID",
    "TRAVIS_BUILD_NUMBER",
    "TRAVIS_BRANCH",
    "TRAVIS_PULL_REQUEST_BRANCH",
    "TRAVIS_COMMIT",
    "TRAVIS_PULL_REQUEST_SHA",
    "TRAVIS_PULL_REQUEST",
    "TRAVIS_BUILD_WEB_URL",
    "TRAVIS_JOB_WEB_URL",
    "TRAVIS_JOB_NAME",
    "TRAVIS_REPO_SLUG",
    // TeamCity
    "BUILD_NUMBER",
    "BUILD_VCS_NUMBER",
    "TEAMCITY_BUILDCONF_NAME",
    "TEAMCITY_PROJECT_NAME",
    // Drone
    "DRONE_BUILD_NUMBER",
    "DRONE_REPO",
    "DRONE_SOURCE_BRANCH",
    "DRONE_BRANCH",
    "DRONE_COMMIT_SHA",
    "DRONE_COMMIT",
    "DRONE_PULL_REQUEST",
    "DRONE_BUILD_LINK",
    "DRONE_STEP_NAME",
    // Jenkins (core, Git plugin, Branch Source)
    "BUILD_TAG",
    "BUILD_URL",
    "JOB_NAME",
    "CHANGE_ID",
    "CHANGE_BRANCH",
    "BRANCH_NAME",
    "GIT_BRANCH",
    "GIT_COMMIT",
    "GIT_URL",
];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CiInfo {
    pub provider: Option<&'static str>,
    /// Stable across the shards of one pipeline run, distinct between runs and re-runs.
    pub build_id: Option<String>,
    /// The run's human-facing number (`#123`), where the provider has one.
    pub run_number: Option<String>,
    pub branch: Option<String>,
    /// The commit the tests ran for: on pull requests the PR head, not the merge commit.
    pub commit: Option<String>,
    pub pr_number: Option<u64>,
    /// The pipeline run's page; `job_url` is the job's, when the provider has a separate one.
    pub run_url: Option<String>,
    pub job_url: Option<String>,
    pub job: Option<String>,
    /// The pipeline or workflow name.
    pub workflow: Option<String>,
    /// `owner/name` or the provider's project path.
    pub repository: Option<String>,
}

/// Every provider we detect, in detection order, with the variable that identifies it.
pub const PROVIDERS: &[(&str, &str)] = &[
    ("github-actions", "GITHUB_ACTIONS"),
    ("gitlab-ci", "GITLAB_CI"),
    ("circleci", "CIRCLECI"),
    ("buildkite", "BUILDKITE"),
    ("azure-pipelines", "TF_BUILD"),
    ("bitbucket-pipelines", "BITBUCKET_BUILD_NUMBER"),
    ("travis-ci", "TRAVIS"),
    ("teamcity", "TEAMCITY_VERSION"),
    ("drone", "DRONE"),
    ("jenkins", "JENKINS_URL"),
];

fn get(env: &EnvMap, key: &str) -> Option<String> {
    env.get(key)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The first present of `keys`.
fn first(env: &EnvMap, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| get(env, k))
}

/// A pull request number from a variable that holds a number, `false`, or a PR URL.
fn pr_number(value: Option<String>) -> Option<u64> {
    let value = value?;
    let tail = value.trim_end_matches('/').rsplit('/').next()?;
    tail.parse().ok()
}

/// `refs/heads/x` → `x`, `origin/x` → `x` (Jenkins' `GIT_BRANCH`).
fn short_branch(branch: String) -> String {
    for prefix in ["refs/heads/", "origin/"] {
        if let Some(rest) = branch.strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
    branch
}

/// Detects the CI from its variables. `event` is the GitHub event payload (`GITHUB_EVENT_PATH`'s
/// content), when the edge could read it.
pub fn detect(env: &EnvMap, event: Option<&serde_json::Value>) -> CiInfo {
    let identified = PROVIDERS
        .iter()
        .find(|(_, var)| get(env, var).is_some_and(|v| v != "false"))
        .map(|(name, _)| *name);
    let detected = match identified {
        Some("github-actions") => github(env, event),
        Some("gitlab-ci") => gitlab(env),
        Some("circleci") => circleci(env),
        Some("buildkite") => buildkite(env),
        Some("azure-pipelines") => azure(env),
        Some("bitbucket-pipelines") => bitbucket(env),
        Some("travis-ci") => travis(env),
        Some("teamcity") => teamcity(env),
        Some("drone") => drone(env),
        Some("jenkins") => jenkins(env),
        _ => CiInfo::default(),
    };
    with_overrides(env, detected)
}

fn with_overrides(env: &EnvMap, mut ci: CiInfo) -> CiInfo {
    use override_env as o;
    let set = |slot: &mut Option<String>, key: &str| {
        if let Some(v) = get(env, key) {
            *slot = Some(v);
        }
    };
    set(&mut ci.build_id, o::BUILD_ID);
    set(&mut ci.branch, o::BRANCH);
    set(&mut ci.commit, o::COMMIT);
    set(&mut ci.run_url, o::RUN_URL);
    set(&mut ci.job, o::JOB);
    set(&mut ci.repository, o::REPOSITORY);
    if let Some(n) = pr_number(get(env, o::PR_NUMBER)) {
        ci.pr_number = Some(n);
    }
    let overridden = get(env, o::PROVIDER).is_some() || get(env, o::BUILD_ID).is_some();
    if ci.provider.is_none() && (overridden || get(env, "CI").is_some_and(|v| v != "false")) {
        ci.provider = Some("generic");
    }
    ci
}

/// [DOC] docs.github.com "Variables reference"; the PR head comes from the event payload.
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
    let repository = get(env, github_env::REPOSITORY);
    CiInfo {
        provider: Some("github-actions"),
        build_id: run_id.as_ref().map(|id| {
            format!(
                "{id}-{}",
                get(env, github_env::RUN_ATTEMPT).unwrap_or_else(|| "1".into())
            )
        }),
        run_number: get(env, github_env::RUN_NUMBER),
        branch: get(env, github_env::HEAD_REF)
            .or_else(|| triggering("head_branch"))
            .or_else(|| get(env, github_env::REF_NAME)),
        commit: pr_head("sha")
            .or_else(|| triggering("head_sha"))
            .or_else(|| get(env, github_env::SHA)),
        pr_number: pr.and_then(|p| p.get("number")).and_then(|n| n.as_u64()),
        run_url: match (&repository, &run_id) {
            (Some(repo), Some(id)) => Some(format!(
                "{}/{repo}/actions/runs/{id}",
                server.trim_end_matches('/')
            )),
            _ => None,
        },
        job_url: None,
        job: get(env, github_env::JOB),
        workflow: get(env, github_env::WORKFLOW),
        repository,
    }
}

/// [DOC] docs.gitlab.com "Predefined CI/CD variables reference". Merge request pipelines carry
/// the source branch and (for merged-results pipelines) the source head SHA.
fn gitlab(env: &EnvMap) -> CiInfo {
    CiInfo {
        provider: Some("gitlab-ci"),
        build_id: get(env, "CI_PIPELINE_ID"),
        run_number: get(env, "CI_PIPELINE_IID"),
        branch: first(
            env,
            &[
                "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
                "CI_COMMIT_BRANCH",
                "CI_COMMIT_REF_NAME",
            ],
        ),
        commit: first(
            env,
            &["CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", "CI_COMMIT_SHA"],
        ),
        pr_number: pr_number(get(env, "CI_MERGE_REQUEST_IID")),
        run_url: get(env, "CI_PIPELINE_URL"),
        job_url: get(env, "CI_JOB_URL"),
        job: get(env, "CI_JOB_NAME"),
        workflow: get(env, "CI_PIPELINE_NAME"),
        repository: get(env, "CI_PROJECT_PATH"),
    }
}

/// [DOC] circleci.com/docs/variables "Built-in environment variables". The workflow id is shared
/// by every job of the workflow; `CIRCLE_PULL_REQUEST` is the PR's URL.
fn circleci(env: &EnvMap) -> CiInfo {
    let repository = match (
        get(env, "CIRCLE_PROJECT_USERNAME"),
        get(env, "CIRCLE_PROJECT_REPONAME"),
    ) {
        (Some(owner), Some(name)) => Some(format!("{owner}/{name}")),
        _ => None,
    };
    CiInfo {
        provider: Some("circleci"),
        build_id: first(env, &["CIRCLE_WORKFLOW_ID", "CIRCLE_BUILD_NUM"]),
        run_number: get(env, "CIRCLE_BUILD_NUM"),
        branch: get(env, "CIRCLE_BRANCH"),
        commit: get(env, "CIRCLE_SHA1"),
        pr_number: pr_number(first(env, &["CIRCLE_PR_NUMBER", "CIRCLE_PULL_REQUEST"])),
        run_url: get(env, "CIRCLE_BUILD_URL"),
        job_url: None,
        job: get(env, "CIRCLE_JOB"),
        workflow: None,
        repository,
    }
}

/// [DOC] buildkite.com/docs/pipelines/environment-variables. `BUILDKITE_PULL_REQUEST` is `false`
/// outside pull requests.
fn buildkite(env: &EnvMap) -> CiInfo {
    let build_url = get(env, "BUILDKITE_BUILD_URL");
    let job_url = match (&build_url, get(env, "BUILDKITE_JOB_ID")) {
        (Some(url), Some(job)) => Some(format!("{url}#{job}")),
        _ => None,
    };
    CiInfo {
        provider: Some("buildkite"),
        build_id: get(env, "BUILDKITE_BUILD_ID"),
        run_number: get(env, "BUILDKITE_BUILD_NUMBER"),
        branch: get(env, "BUILDKITE_BRANCH"),
        commit: get(env, "BUILDKITE_COMMIT"),
        pr_number: pr_number(get(env, "BUILDKITE_PULL_REQUEST")),
        run_url: build_url,
        job_url,
        job: get(env, "BUILDKITE_LABEL"),
        workflow: get(env, "BUILDKITE_PIPELINE_SLUG"),
        repository: get(env, "BUILDKITE_REPO"),
    }
}

/// [DOC] learn.microsoft.com "Use predefined variables" (Azure Pipelines). Variables are exposed
/// upper-cased with `.` → `_`. A re-run keeps `Build.BuildId`; `System.JobAttempt` tells them
/// apart. GitHub PRs carry the source commit.
fn azure(env: &EnvMap) -> CiInfo {
    let build_id = get(env, "BUILD_BUILDID");
    let run_url = match (
        get(env, "SYSTEM_COLLECTIONURI"),
        get(env, "SYSTEM_TEAMPROJECT"),
        &build_id,
    ) {
        (Some(collection), Some(project), Some(id)) => Some(format!(
            "{}/{project}/_build/results?buildId={id}",
            collection.trim_end_matches('/')
        )),
        _ => None,
    };
    CiInfo {
        provider: Some("azure-pipelines"),
        build_id,
        run_number: get(env, "BUILD_BUILDNUMBER"),
        branch: first(
            env,
            &["SYSTEM_PULLREQUEST_SOURCEBRANCH", "BUILD_SOURCEBRANCH"],
        )
        .map(short_branch),
        commit: first(
            env,
            &["SYSTEM_PULLREQUEST_SOURCECOMMITID", "BUILD_SOURCEVERSION"],
        ),
        pr_number: pr_number(first(
            env,
            &[
                "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER",
                "SYSTEM_PULLREQUEST_PULLREQUESTID",
            ],
        )),
        run_url,
        job_url: None,
        job: get(env, "SYSTEM_JOBDISPLAYNAME"),
        workflow: get(env, "BUILD_DEFINITIONNAME"),
        repository: get(env, "BUILD_REPOSITORY_NAME"),
    }
}

/// [DOC] support.atlassian.com "Variables and secrets" (Bitbucket Pipelines). The pipeline UUID
/// is shared by every step; the run page is built from workspace, slug and build number.
fn bitbucket(env: &EnvMap) -> CiInfo {
    let number = get(env, "BITBUCKET_BUILD_NUMBER");
    let repository = get(env, "BITBUCKET_REPO_FULL_NAME").or_else(|| {
        match (
            get(env, "BITBUCKET_WORKSPACE"),
            get(env, "BITBUCKET_REPO_SLUG"),
        ) {
            (Some(w), Some(s)) => Some(format!("{w}/{s}")),
            _ => None,
        }
    });
    let run_url = match (&repository, &number) {
        (Some(repo), Some(n)) => Some(format!("{BITBUCKET_WEB_URL}/{repo}/pipelines/results/{n}")),
        _ => None,
    };
    CiInfo {
        provider: Some("bitbucket-pipelines"),
        build_id: get(env, "BITBUCKET_PIPELINE_UUID")
            .map(|u| u.trim_matches(['{', '}']).to_owned())
            .or_else(|| number.clone()),
        run_number: number,
        branch: get(env, "BITBUCKET_BRANCH"),
        commit: get(env, "BITBUCKET_COMMIT"),
        pr_number: pr_number(get(env, "BITBUCKET_PR_ID")),
        run_url,
        job_url: None,
        job: get(env, "BITBUCKET_STEP_UUID").map(|u| u.trim_matches(['{', '}']).to_owned()),
        workflow: None,
        repository,
    }
}

/// [DOC] docs.travis-ci.com "Environment Variables". On pull requests `TRAVIS_BRANCH` is the
/// target; the source branch and head are separate.
fn travis(env: &EnvMap) -> CiInfo {
    CiInfo {
        provider: Some("travis-ci"),
        build_id: get(env, "TRAVIS_BUILD_ID"),
        run_number: get(env, "TRAVIS_BUILD_NUMBER"),
        branch: first(env, &["TRAVIS_PULL_REQUEST_BRANCH", "TRAVIS_BRANCH"]),
        commit: first(env, &["TRAVIS_PULL_REQUEST_SHA", "TRAVIS_COMMIT"]),
        pr_number: pr_number(get(env, "TRAVIS_PULL_REQUEST")),
        run_url: get(env, "TRAVIS_BUILD_WEB_URL"),
        job_url: get(env, "TRAVIS_JOB_WEB_URL"),
        job: get(env, "TRAVIS_JOB_NAME"),
        workflow: None,
        repository: get(env, "TRAVIS_REPO_SLUG"),
    }
}

/// [DOC] jetbrains.com/help/teamcity "Predefined build parameters": only a few are environment
/// variables (`BUILD_NUMBER`, `BUILD_VCS_NUMBER`, `TEAMCITY_BUILDCONF_NAME`); the build id and
/// branch are not, so pass them with `TEST_REPORT_BUILD_ID`/`TEST_REPORT_BRANCH`
/// (`%teamcity.build.id%`, `%teamcity.build.branch%`).
fn teamcity(env: &EnvMap) -> CiInfo {
    CiInfo {
        provider: Some("teamcity"),
        build_id: None,
        run_number: get(env, "BUILD_NUMBER"),
        branch: None,
        commit: get(env, "BUILD_VCS_NUMBER"),
        pr_number: None,
        run_url: None,
        job_url: None,
        job: get(env, "TEAMCITY_BUILDCONF_NAME"),
        workflow: get(env, "TEAMCITY_PROJECT_NAME"),
        repository: None,
    }
}

/// [DOC] docs.drone.io "Environment reference".
fn drone(env: &EnvMap) -> CiInfo {
    let number = get(env, "DRONE_BUILD_NUMBER");
    let repository = get(env, "DRONE_REPO");
    CiInfo {
        provider: Some("drone"),
        // Build numbers are per repository: qualify them so two repos never share a build id.
        build_id: match (&repository, &number) {
            (Some(repo), Some(n)) => Some(format!("{repo}#{n}")),
            _ => number.clone(),
        },
        run_number: number,
        branch: first(env, &["DRONE_SOURCE_BRANCH", "DRONE_BRANCH"]),
        commit: first(env, &["DRONE_COMMIT_SHA", "DRONE_COMMIT"]),
        pr_number: pr_number(get(env, "DRONE_PULL_REQUEST")),
        run_url: get(env, "DRONE_BUILD_LINK"),
        job_url: None,
        job: get(env, "DRONE_STEP_NAME"),
        workflow: None,
        repository,
    }
}

/// [DOC] jenkins.io "Jenkins Set Environment Variables" + Git plugin + Branch Source (multibranch
/// `BRANCH_NAME`, `CHANGE_ID`, `CHANGE_BRANCH`). `BUILD_TAG` is unique per job and build.
fn jenkins(env: &EnvMap) -> CiInfo {
    CiInfo {
        provider: Some("jenkins"),
        build_id: first(env, &["BUILD_TAG", "BUILD_NUMBER"]),
        run_number: get(env, "BUILD_NUMBER"),
        branch: first(env, &["CHANGE_BRANCH", "BRANCH_NAME", "GIT_BRANCH"]).map(short_branch),
        commit: get(env, "GIT_COMMIT"),
        pr_number: pr_number(get(env, "CHANGE_ID")),
        run_url: get(env, "BUILD_URL"),
        job_url: None,
        job: get(env, "JOB_NAME"),
        workflow: get(env, "JOB_NAME"),
        repository: get(env, "GIT_URL"),
    }
}

#[cfg(test)]
mod tests;
