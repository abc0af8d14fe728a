//! Pure GitHub artifacts: the job summary Markdown and the step outputs. The edges write them.

mod markdown;
pub mod outputs;
pub mod summary;

pub use markdown::format_duration;
