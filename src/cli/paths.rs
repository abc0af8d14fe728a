//! Turning the user's PATH arguments (files, directories, globs, `!` excludes) into files.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

/// File name endings taken from a directory given as a PATH; anything else there is not a report.
pub const REPORT_EXTENSIONS: &[&str] = &["xml", "trx", "json", "jsonl", "ndjson", "tap"];

/// The PATH that names the standard input (`go test -json ./... | test-report report -`).
pub const STDIN_PATH: &str = "-";

/// A file to read, a stream, or a named path that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    File(PathBuf),
    /// A named path that exists but is neither a file nor a directory: a FIFO, `/dev/stdin`,
    /// a shell's process substitution (`<(…)`). Read as a stream, its size unknown until it ends.
    Stream(PathBuf),
    /// [`STDIN_PATH`]: the standard input.
    Stdin,
    Missing(PathBuf),
}

impl Found {
    /// The path named or matched; none for the standard input.
    fn path(&self) -> Option<&Path> {
        match self {
            Found::File(p) | Found::Stream(p) | Found::Missing(p) => Some(p),
            Found::Stdin => None,
        }
    }
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Patterns may be separated by newlines or commas inside one argument, as in action inputs.
pub fn split_patterns(args: &[String]) -> Vec<String> {
    args.iter()
        .flat_map(|a| a.split(['\n', ',']))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub fn expand(patterns: &[String], cwd: &Path) -> Result<Vec<Found>, String> {
    let (excludes, includes): (Vec<&String>, Vec<&String>) =
        patterns.iter().partition(|p| p.starts_with('!'));
    let excluded = exclusion_set(&excludes)?;
    let mut found = Vec::new();
    for pattern in includes {
        if pattern == STDIN_PATH {
            found.push(Found::Stdin);
            continue;
        }
        let path = cwd.join(pattern);
        if is_glob(pattern) {
            let full = path.to_string_lossy().into_owned();
            let matches =
                glob::glob(&full).map_err(|e| format!("invalid glob '{pattern}': {e}"))?;
            for entry in matches.flatten() {
                if entry.is_file() {
                    found.push(Found::File(entry));
                } else if entry.is_dir() {
                    walk(&entry, &mut found);
                }
            }
        } else if path.is_dir() {
            walk(&path, &mut found);
        } else if path.is_file() {
            found.push(Found::File(path));
        } else if path.exists() {
            found.push(Found::Stream(path));
        } else {
            found.push(Found::Missing(path));
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut stdin_seen = false;
    found.retain(|f| match f.path() {
        Some(p) => {
            let rel = relative(p, cwd);
            !excluded.is_match(&rel) && !excluded.is_match(p) && seen.insert(p.to_owned())
        }
        // The standard input can be read once.
        None => !std::mem::replace(&mut stdin_seen, true),
    });
    Ok(found)
}

fn exclusion_set(excludes: &[&String]) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for raw in excludes {
        let pattern = raw.trim_start_matches('!').trim_start_matches("./");
        let glob =
            Glob::new(pattern).map_err(|e| format!("invalid exclude pattern '{raw}': {e}"))?;
        builder.add(glob);
    }
    builder
        .build()
        .map_err(|e| format!("invalid exclude patterns: {e}"))
}

fn walk(dir: &Path, found: &mut Vec<Found>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, found);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| REPORT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            found.push(Found::File(path));
        }
    }
}

/// The path as the user will recognise it: relative to `cwd` when inside it, forward slashes.
pub fn relative(path: &Path, cwd: &Path) -> String {
    let shown = path.strip_prefix(cwd).unwrap_or(path);
    shown.to_string_lossy().replace('\\', "/")
}
