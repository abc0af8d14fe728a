//! `valueedge-*` inputs → [`ValueedgeSettings`]. The upload is on when a client id or secret is
//! given; then the URL, shared space, workspace and both halves of the key are required.
//! Shared space and workspace are numeric ids (they go into the URL path); link ids are numbers;
//! `valueedge-environment` is `Type:Value` items (`OS:Linux, Browser:Chrome`).

use super::{list, ConfigError, RawConfig};
use crate::http::Secret;
use crate::upload::valueedge::{FieldType, Links, Release};

/// ValueEdge settings as the user gave them; the run URL is added by the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueedgeSettings {
    pub url: String,
    pub shared_space: String,
    pub workspace: String,
    pub client_id: Secret,
    pub client_secret: Secret,
    /// `valueedge-skip-errors`: link errors drop the link instead of the run.
    pub skip_errors: bool,
    /// `valueedge-wait`: poll each task until it ends.
    pub wait: bool,
    pub links: Links,
}

/// [DOC] `skip-errors` defaults to false.
pub const DEFAULT_SKIP_ERRORS: bool = false;
pub const DEFAULT_WAIT: bool = true;

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn needed<'a>(input: &'static str, value: &'a Option<String>) -> Result<&'a str, ConfigError> {
    text(value).ok_or_else(|| ConfigError {
        input,
        message: "required when valueedge-client-id or valueedge-client-secret is set".into(),
    })
}

fn numeric(input: &'static str, value: &str) -> Result<String, ConfigError> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err(ConfigError {
            input,
            message: format!(
                "'{value}' is not a numeric id (as in /api/shared_spaces/1001/workspaces/1002)"
            ),
        })
    }
}

fn ids(input: &'static str, value: &Option<String>) -> Result<Vec<i64>, ConfigError> {
    list(value.as_deref().unwrap_or_default())
        .iter()
        .map(|item| {
            item.parse().map_err(|_| ConfigError {
                input,
                message: format!("'{item}' is not a numeric entity id"),
            })
        })
        .collect()
}

fn taxonomies(value: &Option<String>) -> Result<Vec<(String, String)>, ConfigError> {
    list(value.as_deref().unwrap_or_default())
        .iter()
        .map(|item| match item.split_once(':') {
            Some((t, v)) if !t.trim().is_empty() && !v.trim().is_empty() => {
                Ok((t.trim().to_owned(), v.trim().to_owned()))
            }
            _ => Err(ConfigError {
                input: "valueedge-environment",
                message: format!("'{item}' is not Type:Value (e.g. OS:Linux)"),
            }),
        })
        .collect()
}

pub(super) fn settings(raw: &RawConfig) -> Result<Option<ValueedgeSettings>, ConfigError> {
    if text(&raw.valueedge_client_id).is_none() && text(&raw.valueedge_client_secret).is_none() {
        return Ok(None);
    }
    let url = needed("valueedge-url", &raw.valueedge_url)?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ConfigError {
            input: "valueedge-url",
            message: format!("'{url}' is not an http(s) URL such as https://almoctane.example.com"),
        });
    }
    let mut test_fields = Vec::new();
    for (kind, value) in [
        (FieldType::TestLevel, &raw.valueedge_test_level),
        (FieldType::TestingTool, &raw.valueedge_testing_tool),
        (FieldType::Framework, &raw.valueedge_framework),
    ] {
        if let Some(v) = text(value) {
            test_fields.push((kind, v.to_owned()));
        }
    }
    // Test_Type is the one multi-valued field (§3.6).
    for v in list(raw.valueedge_test_type.as_deref().unwrap_or_default()) {
        test_fields.push((FieldType::TestType, v));
    }
    Ok(Some(ValueedgeSettings {
        url: url.to_owned(),
        shared_space: numeric(
            "valueedge-shared-space",
            needed("valueedge-shared-space", &raw.valueedge_shared_space)?,
        )?,
        workspace: numeric(
            "valueedge-workspace",
            needed("valueedge-workspace", &raw.valueedge_workspace)?,
        )?,
        client_id: Secret::new(needed("valueedge-client-id", &raw.valueedge_client_id)?),
        client_secret: Secret::new(needed(
            "valueedge-client-secret",
            &raw.valueedge_client_secret,
        )?),
        skip_errors: raw.valueedge_skip_errors.unwrap_or(DEFAULT_SKIP_ERRORS),
        wait: raw.valueedge_wait.unwrap_or(DEFAULT_WAIT),
        links: Links {
            release: text(&raw.valueedge_release).map(|r| match r.parse::<i64>() {
                Ok(id) => Release::Id(id),
                Err(_) => Release::Name(r.to_owned()),
            }),
            backlog_items: ids("valueedge-backlog-items", &raw.valueedge_backlog_items)?,
            product_areas: ids("valueedge-product-areas", &raw.valueedge_product_areas)?,
            test_fields,
            environment: taxonomies(&raw.valueedge_environment)?,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawConfig {
        RawConfig {
            valueedge_url: Some("https://octane.example".into()),
            valueedge_shared_space: Some("1001".into()),
            valueedge_workspace: Some(" 1002 ".into()),
            valueedge_client_id: Some("id".into()),
            valueedge_client_secret: Some("secret".into()),
            ..RawConfig::default()
        }
    }

    #[test]
    fn off_without_a_key_and_defaults_with_one() {
        assert_eq!(settings(&RawConfig::default()).unwrap(), None);
        let s = settings(&raw()).unwrap().unwrap();
        assert_eq!(s.workspace, "1002");
        assert!(!s.skip_errors);
        assert!(s.wait);
        assert_eq!(s.links, Links::default());
    }

    #[test]
    fn links_are_read_and_bad_ones_name_the_input() {
        let s = settings(&RawConfig {
            valueedge_release: Some("_default_".into()),
            valueedge_backlog_items: Some("1, 2".into()),
            valueedge_environment: Some("OS:Linux\nBrowser: Chrome".into()),
            valueedge_test_type: Some("Sanity, Regression".into()),
            valueedge_framework: Some("JUnit".into()),
            ..raw()
        })
        .unwrap()
        .unwrap();
        assert_eq!(s.links.release, Some(Release::Name("_default_".into())));
        assert_eq!(s.links.backlog_items, [1, 2]);
        assert_eq!(s.links.environment[1], ("Browser".into(), "Chrome".into()));
        assert_eq!(s.links.test_fields.len(), 3);
        let invalid = |r: RawConfig| settings(&r).unwrap_err().to_string();
        assert_eq!(
            invalid(RawConfig {
                valueedge_product_areas: Some("12, x".into()),
                ..raw()
            }),
            "input 'valueedge-product-areas': 'x' is not a numeric entity id"
        );
        assert!(invalid(RawConfig {
            valueedge_workspace: None,
            ..raw()
        })
        .starts_with("input 'valueedge-workspace': required"));
        assert!(invalid(RawConfig {
            valueedge_shared_space: Some("../x".into()),
            ..raw()
        })
        .contains("not a numeric id"));
        assert!(invalid(RawConfig {
            valueedge_environment: Some("Linux".into()),
            ..raw()
        })
        .contains("Type:Value"));
    }
}
