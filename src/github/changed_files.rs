//! Failures in the files a pull request changes come first among the job's annotations: GitHub
//! shows only 10 errors per step ([`super::workflow_commands`]), and those are the ones the
//! author is most likely to have caused.
//!
//! - The files: `GET /repos/{o}/{r}/pulls/{n}/files`, at most [`MAX_PAGES`] pages of 100
//!   (GitHub lists at most 3,000 files per pull request: REST "List pull requests files").
//! - The order: stable, within each level (each has its own cap): annotations on a changed file
//!   first, then the rest, each group in the order it had (source before report files, then by
//!   file and line).
//! - Only worth the requests when the annotations outnumber a step's error cap; a token that may
//!   not read the pull request just leaves the order as it was.

use std::collections::BTreeSet;

use super::annotations::Annotation;
use super::rest::{Api, ApiError};
use crate::http::retry::RetryPolicy;
use crate::http::HttpClient;

/// Pages of 100 files read: GitHub's 3,000-file listing limit.
pub const MAX_PAGES: usize = 30;

/// The repository paths a pull request changes (renamed files under their new name).
pub async fn fetch<C: HttpClient>(
    client: &C,
    api: &Api,
    number: u64,
    policy: &RetryPolicy,
) -> Result<BTreeSet<String>, ApiError> {
    let (files, _) = api
        .list(
            client,
            &format!("/pulls/{number}/files"),
            MAX_PAGES,
            policy,
            "list the pull request's changed files",
        )
        .await?;
    Ok(files
        .iter()
        .filter_map(|f| f["filename"].as_str().map(str::to_owned))
        .collect())
}

/// Moves the annotations on changed files to the front of their level, keeping every other
/// order as it was.
pub fn order(annotations: &mut [Annotation], changed: &BTreeSet<String>) {
    annotations.sort_by_key(|a| {
        let in_changed = a.file.as_ref().is_some_and(|f| changed.contains(f));
        (a.level, !in_changed)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::annotations::Level;
    use crate::http::recording::{block_on, RecordingClient};
    use crate::http::{Response, Secret};

    fn at(level: Level, file: &str, line: u32) -> Annotation {
        Annotation {
            level,
            file: Some(file.into()),
            line: Some(line),
            in_source: true,
            title: format!("{file}:{line}"),
            message: String::new(),
        }
    }

    fn titles(list: &[Annotation]) -> Vec<&str> {
        list.iter().map(|a| a.title.as_str()).collect()
    }

    #[test]
    fn changed_files_lead_each_level_and_the_rest_keep_their_order() {
        let mut list = vec![
            at(Level::Error, "src/a.rs", 1),
            at(Level::Error, "src/b.rs", 5),
            at(Level::Error, "src/c.rs", 2),
            at(Level::Error, "src/b.rs", 9),
            at(Level::Warning, "src/a.rs", 3),
            at(Level::Warning, "src/b.rs", 4),
        ];
        list.push(Annotation {
            file: None,
            ..at(Level::Error, "-", 0)
        });
        let changed = BTreeSet::from(["src/b.rs".to_owned()]);
        order(&mut list, &changed);
        assert_eq!(
            titles(&list),
            [
                "src/b.rs:5",
                "src/b.rs:9",
                "src/a.rs:1",
                "src/c.rs:2",
                "-:0",
                "src/b.rs:4",
                "src/a.rs:3",
            ]
        );
    }

    #[test]
    fn no_changed_files_change_nothing() {
        let mut list = vec![at(Level::Error, "z.rs", 1), at(Level::Error, "a.rs", 1)];
        order(&mut list, &BTreeSet::new());
        assert_eq!(titles(&list), ["z.rs:1", "a.rs:1"]);
    }

    #[test]
    fn every_page_of_files_is_read() {
        let client = RecordingClient::new();
        let page = |body: &str, next: Option<&str>| {
            let mut b = Response::builder().status(200);
            if let Some(n) = next {
                b = b.header("link", format!("<{n}>; rel=\"next\""));
            }
            b.body(body.as_bytes().to_vec()).unwrap()
        };
        client
            .respond_with(page(
                r#"[{"filename":"src/a.rs"},{"filename":"src/b.rs"}]"#,
                Some("https://api.github.com/x?page=2"),
            ))
            .respond_with(page(r#"[{"filename":"docs/c.md"}]"#, None));
        let api = Api {
            url: "https://api.github.com".into(),
            repository: "o/r".into(),
            token: Secret::new("t"),
        };
        let files = block_on(fetch(&client, &api, 7, &RetryPolicy::default()))
            .unwrap()
            .unwrap();
        assert_eq!(
            files.into_iter().collect::<Vec<_>>(),
            ["docs/c.md", "src/a.rs", "src/b.rs"]
        );
        assert_eq!(
            client.requests()[0].url,
            "https://api.github.com/repos/o/r/pulls/7/files?per_page=100"
        );
    }
}
