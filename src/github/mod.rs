//! Pure GitHub artifacts: the job summary Markdown, the step outputs and the annotations as
//! workflow commands. The edges write them.

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
