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

/// Asserts the fields users see in `test-report env` for one provider's documented variables.
fn assert_detects(
    pairs: &[(&str, &str)],
    provider: &str,
    build_id: &str,
    branch: &str,
    commit: &str,
    pr: Option<u64>,
    run_url: &str,
) {
    let ci = detect(&env(pairs), None);
    assert_eq!(
        (
            ci.provider,
            ci.build_id.as_deref(),
            ci.branch.as_deref(),
            ci.commit.as_deref(),
            ci.pr_number,
            ci.run_url.as_deref(),
        ),
        (
            Some(provider),
            Some(build_id),
            Some(branch),
            Some(commit),
            pr,
            Some(run_url)
        )
    );
    for (name, _) in pairs {
        assert!(
            is_ci_variable(name),
            "{name} is read but not passed by the edges"
        );
    }
}

#[test]
fn gitlab_merge_request_pipelines_use_the_source_branch_and_head() {
    assert_detects(
        &[
            ("GITLAB_CI", "true"),
            ("CI", "true"),
            ("CI_PIPELINE_ID", "1000"),
            ("CI_PIPELINE_IID", "42"),
            (
                "CI_PIPELINE_URL",
                "https://gitlab.example/g/p/-/pipelines/1000",
            ),
            ("CI_COMMIT_SHA", "merged0"),
            ("CI_COMMIT_REF_NAME", "refs/merge-requests/7/head"),
            ("CI_MERGE_REQUEST_IID", "7"),
            ("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "feature/a"),
            ("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", "head7"),
            ("CI_JOB_NAME", "test 1/3"),
            ("CI_PROJECT_PATH", "g/p"),
        ],
        "gitlab-ci",
        "1000",
        "feature/a",
        "head7",
        Some(7),
        "https://gitlab.example/g/p/-/pipelines/1000",
    );
}

#[test]
fn gitlab_branch_pipelines_use_the_commit_branch() {
    assert_detects(
        &[
            ("GITLAB_CI", "true"),
            ("CI_PIPELINE_ID", "1001"),
            ("CI_PIPELINE_URL", "https://gitlab.com/g/p/-/pipelines/1001"),
            ("CI_COMMIT_SHA", "abc"),
            ("CI_COMMIT_BRANCH", "main"),
            ("CI_COMMIT_REF_NAME", "main"),
        ],
        "gitlab-ci",
        "1001",
        "main",
        "abc",
        None,
        "https://gitlab.com/g/p/-/pipelines/1001",
    );
}

#[test]
fn jenkins_multibranch_pull_requests() {
    assert_detects(
        &[
            ("JENKINS_URL", "https://ci.example/"),
            ("BUILD_NUMBER", "17"),
            ("BUILD_TAG", "jenkins-app-PR-5-17"),
            (
                "BUILD_URL",
                "https://ci.example/job/app/view/change-requests/job/PR-5/17/",
            ),
            ("JOB_NAME", "app/PR-5"),
            ("BRANCH_NAME", "PR-5"),
            ("CHANGE_ID", "5"),
            ("CHANGE_BRANCH", "fix/login"),
            ("GIT_COMMIT", "c0ffee"),
        ],
        "jenkins",
        "jenkins-app-PR-5-17",
        "fix/login",
        "c0ffee",
        Some(5),
        "https://ci.example/job/app/view/change-requests/job/PR-5/17/",
    );
}

#[test]
fn jenkins_freestyle_jobs_strip_the_remote_from_git_branch() {
    assert_detects(
        &[
            ("JENKINS_URL", "https://ci.example/"),
            ("BUILD_NUMBER", "3"),
            ("BUILD_TAG", "jenkins-app-3"),
            ("BUILD_URL", "https://ci.example/job/app/3/"),
            ("GIT_BRANCH", "origin/release/2.0"),
            ("GIT_COMMIT", "beef"),
        ],
        "jenkins",
        "jenkins-app-3",
        "release/2.0",
        "beef",
        None,
        "https://ci.example/job/app/3/",
    );
}

#[test]
fn circleci_shares_the_workflow_id_and_reads_the_pr_url() {
    assert_detects(
        &[
            ("CIRCLECI", "true"),
            ("CI", "true"),
            ("CIRCLE_WORKFLOW_ID", "6f1e-uuid"),
            ("CIRCLE_BUILD_NUM", "88"),
            ("CIRCLE_BRANCH", "feat"),
            ("CIRCLE_SHA1", "5ha"),
            ("CIRCLE_PULL_REQUEST", "https://github.com/o/r/pull/31"),
            ("CIRCLE_BUILD_URL", "https://circleci.com/gh/o/r/88"),
            ("CIRCLE_PROJECT_USERNAME", "o"),
            ("CIRCLE_PROJECT_REPONAME", "r"),
        ],
        "circleci",
        "6f1e-uuid",
        "feat",
        "5ha",
        Some(31),
        "https://circleci.com/gh/o/r/88",
    );
}

#[test]
fn buildkite_reads_false_as_no_pull_request() {
    assert_detects(
        &[
            ("BUILDKITE", "true"),
            ("BUILDKITE_BUILD_ID", "0190-uuid"),
            ("BUILDKITE_BUILD_NUMBER", "12"),
            ("BUILDKITE_BRANCH", "main"),
            ("BUILDKITE_COMMIT", "bk1"),
            ("BUILDKITE_PULL_REQUEST", "false"),
            (
                "BUILDKITE_BUILD_URL",
                "https://buildkite.com/acme/app/builds/12",
            ),
            ("BUILDKITE_JOB_ID", "job-1"),
        ],
        "buildkite",
        "0190-uuid",
        "main",
        "bk1",
        None,
        "https://buildkite.com/acme/app/builds/12",
    );
}

#[test]
fn azure_pipelines_github_pull_requests() {
    assert_detects(
        &[
            ("TF_BUILD", "True"),
            ("BUILD_BUILDID", "555"),
            ("BUILD_BUILDNUMBER", "20261201.3"),
            ("BUILD_SOURCEBRANCH", "refs/pull/9/merge"),
            ("BUILD_SOURCEVERSION", "mergecommit"),
            ("SYSTEM_PULLREQUEST_SOURCEBRANCH", "refs/heads/topic"),
            ("SYSTEM_PULLREQUEST_SOURCECOMMITID", "headcommit"),
            ("SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "9"),
            ("SYSTEM_PULLREQUEST_PULLREQUESTID", "123456789"),
            ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/acme/"),
            ("SYSTEM_TEAMPROJECT", "App"),
        ],
        "azure-pipelines",
        "555",
        "topic",
        "headcommit",
        Some(9),
        "https://dev.azure.com/acme/App/_build/results?buildId=555",
    );
}

#[test]
fn bitbucket_builds_the_run_url_from_workspace_and_slug() {
    assert_detects(
        &[
            ("CI", "true"),
            ("BITBUCKET_BUILD_NUMBER", "64"),
            ("BITBUCKET_PIPELINE_UUID", "{1234-abcd}"),
            ("BITBUCKET_BRANCH", "dev"),
            ("BITBUCKET_COMMIT", "bb1"),
            ("BITBUCKET_PR_ID", "4"),
            ("BITBUCKET_WORKSPACE", "acme"),
            ("BITBUCKET_REPO_SLUG", "app"),
        ],
        "bitbucket-pipelines",
        "1234-abcd",
        "dev",
        "bb1",
        Some(4),
        "https://bitbucket.org/acme/app/pipelines/results/64",
    );
}

#[test]
fn travis_pull_requests_use_the_source_branch_and_head() {
    assert_detects(
        &[
            ("TRAVIS", "true"),
            ("TRAVIS_BUILD_ID", "700"),
            ("TRAVIS_BRANCH", "main"),
            ("TRAVIS_PULL_REQUEST", "12"),
            ("TRAVIS_PULL_REQUEST_BRANCH", "topic"),
            ("TRAVIS_PULL_REQUEST_SHA", "prsha"),
            ("TRAVIS_COMMIT", "mergesha"),
            (
                "TRAVIS_BUILD_WEB_URL",
                "https://app.travis-ci.com/o/r/builds/700",
            ),
        ],
        "travis-ci",
        "700",
        "topic",
        "prsha",
        Some(12),
        "https://app.travis-ci.com/o/r/builds/700",
    );
}

#[test]
fn drone_qualifies_build_numbers_with_the_repository() {
    assert_detects(
        &[
            ("DRONE", "true"),
            ("DRONE_BUILD_NUMBER", "9"),
            ("DRONE_REPO", "o/r"),
            ("DRONE_BRANCH", "main"),
            ("DRONE_SOURCE_BRANCH", "topic"),
            ("DRONE_COMMIT_SHA", "dr1"),
            ("DRONE_PULL_REQUEST", "2"),
            ("DRONE_BUILD_LINK", "https://drone.example/o/r/9"),
        ],
        "drone",
        "o/r#9",
        "topic",
        "dr1",
        Some(2),
        "https://drone.example/o/r/9",
    );
}

#[test]
fn teamcity_takes_build_id_and_branch_from_overrides() {
    assert_detects(
        &[
            ("TEAMCITY_VERSION", "2025.11"),
            ("BUILD_NUMBER", "31"),
            ("BUILD_VCS_NUMBER", "tc1"),
            ("TEST_REPORT_BUILD_ID", "4711"),
            ("TEST_REPORT_BRANCH", "main"),
            (
                "TEST_REPORT_RUN_URL",
                "https://tc.example/viewLog.html?buildId=4711",
            ),
        ],
        "teamcity",
        "4711",
        "main",
        "tc1",
        None,
        "https://tc.example/viewLog.html?buildId=4711",
    );
}

#[test]
fn an_unknown_ci_is_generic_and_usable_through_overrides() {
    assert_detects(
        &[
            ("CI", "true"),
            ("TEST_REPORT_BUILD_ID", "nightly-2026-12-01"),
            ("TEST_REPORT_BRANCH", "main"),
            ("TEST_REPORT_COMMIT", "0123abc"),
            ("TEST_REPORT_PR_NUMBER", "15"),
            ("TEST_REPORT_RUN_URL", "https://ci.internal/runs/1"),
        ],
        "generic",
        "nightly-2026-12-01",
        "main",
        "0123abc",
        Some(15),
        "https://ci.internal/runs/1",
    );
}

#[test]
fn credentials_are_never_passed_to_the_core() {
    for name in [
        "CI_JOB_TOKEN",
        "CI_REGISTRY_PASSWORD",
        "GITHUB_TOKEN",
        "CI_JOB_JWT",
        "TEST_REPORT_SECRET",
        "BUILDKITE_AGENT_ACCESS_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "HOME",
    ] {
        assert!(!is_ci_variable(name), "{name} must not reach the core");
    }
}

/// Every variable name the detectors read is on the list the edges pass: a name missing from it
/// would be silently undetected in production while unit tests (which call `detect` directly)
/// still pass.
#[test]
fn every_variable_read_is_passed_by_the_edges() {
    let source = include_str!("../ci.rs");
    let body = &source[source.find("fn with_overrides").unwrap_or(0)..];
    let mut checked = 0;
    for literal in body.split('"').skip(1).step_by(2) {
        let looks_like_variable = literal.len() > 2
            && literal
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if looks_like_variable {
            checked += 1;
            assert!(is_ci_variable(literal), "{literal} is read but not passed");
        }
    }
    assert!(checked > 60, "only {checked} variable names found");
}
