//! `--valueedge-*` flags (environment fallbacks for the server and the key) and the ValueEdge
//! part of `--dry-run`: made-up answers for each step, and what the printout must not show.

use test_report::config::{RawConfig, ValueedgeSettings};
use test_report::upload::valueedge;

/// ValueEdge upload options; an API access key turns the upload on.
#[derive(clap::Args, Default)]
#[command(next_help_heading = "ValueEdge")]
pub struct ValueedgeArgs {
    /// ValueEdge / ALM Octane server URL, e.g. https://almoctane-eur.saas.microfocus.com.
    #[arg(long = "valueedge-url", env = valueedge::ENV_URL, value_name = "URL")]
    url: Option<String>,
    /// Shared space id.
    #[arg(long = "valueedge-shared-space", env = valueedge::ENV_SHARED_SPACE, value_name = "ID")]
    shared_space: Option<String>,
    /// Workspace id.
    #[arg(long = "valueedge-workspace", env = valueedge::ENV_WORKSPACE, value_name = "ID")]
    workspace: Option<String>,
    /// API access key: client id.
    #[arg(long = "valueedge-client-id", env = valueedge::ENV_CLIENT_ID, hide_env_values = true, value_name = "ID")]
    client_id: Option<String>,
    /// API access key: client secret.
    #[arg(long = "valueedge-client-secret", env = valueedge::ENV_CLIENT_SECRET, hide_env_values = true, value_name = "SECRET")]
    client_secret: Option<String>,
    /// Ignore references to missing entities instead of skipping the runs that carry them.
    #[arg(long = "valueedge-skip-errors", value_name = "BOOL", action = clap::ArgAction::Set)]
    skip_errors: Option<bool>,
    /// Poll each task until it ends (default true).
    #[arg(long = "valueedge-wait", value_name = "BOOL", action = clap::ArgAction::Set)]
    wait: Option<bool>,
    /// Release for every run: a numeric id, or a name (_default_ for the default release).
    #[arg(long = "valueedge-release", value_name = "RELEASE")]
    release: Option<String>,
    /// Backlog item ids, comma-separated.
    #[arg(long = "valueedge-backlog-items", value_name = "IDS")]
    backlog_items: Option<String>,
    /// Product area (application module) ids, comma-separated.
    #[arg(long = "valueedge-product-areas", value_name = "IDS")]
    product_areas: Option<String>,
    /// Environment taxonomies, Type:Value, comma-separated (e.g. OS:Linux,Browser:Chrome).
    #[arg(long = "valueedge-environment", value_name = "LIST")]
    environment: Option<String>,
    /// Test level field (e.g. "Integration Test").
    #[arg(long = "valueedge-test-level", value_name = "VALUE")]
    test_level: Option<String>,
    /// Test type field values, comma-separated (e.g. Sanity,Regression).
    #[arg(long = "valueedge-test-type", value_name = "VALUES")]
    test_type: Option<String>,
    /// Testing tool type field.
    #[arg(long = "valueedge-testing-tool", value_name = "VALUE")]
    testing_tool: Option<String>,
    /// Framework field (e.g. JUnit).
    #[arg(long = "valueedge-framework", value_name = "VALUE")]
    framework: Option<String>,
}

impl ValueedgeArgs {
    pub fn settings(&self) -> Result<Option<ValueedgeSettings>, String> {
        super::validate_options(self.raw(), |c| c.valueedge)
    }

    /// Settings for `resume`: the spool names the shared space and workspace, so they need not
    /// be given again.
    pub fn resume_settings(
        &self,
        spool: &test_report::spool::Spool,
    ) -> Result<Option<ValueedgeSettings>, String> {
        let mut raw = self.raw();
        spool.complete(&mut raw);
        super::validate_options(raw, |c| c.valueedge)
    }

    fn raw(&self) -> RawConfig {
        RawConfig {
            valueedge_url: self.url.clone(),
            valueedge_shared_space: self.shared_space.clone(),
            valueedge_workspace: self.workspace.clone(),
            valueedge_client_id: self.client_id.clone(),
            valueedge_client_secret: self.client_secret.clone(),
            valueedge_skip_errors: self.skip_errors,
            valueedge_wait: self.wait,
            valueedge_release: self.release.clone(),
            valueedge_backlog_items: self.backlog_items.clone(),
            valueedge_product_areas: self.product_areas.clone(),
            valueedge_environment: self.environment.clone(),
            valueedge_test_level: self.test_level.clone(),
            valueedge_test_type: self.test_type.clone(),
            valueedge_testing_tool: self.testing_tool.clone(),
            valueedge_framework: self.framework.clone(),
            ..RawConfig::default()
        }
    }
}
