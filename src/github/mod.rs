//! GitHub: the pure artifacts (job summary Markdown, step outputs, annotations as workflow
//! commands) the edges write, and the REST publishers over `HttpClient` (check run, PR comment,
//! changed files, App installation token).

pub mod annotations;
pub mod app;
pub mod changed_files;
pub mod checks;
pub mod comment;
pub mod location;
mod markdown;
pub mod outputs;
pub mod repo_path;
pub mod rest;
pub mod summary;
pub mod workflow_commands;

pub use markdown::format_duration;
