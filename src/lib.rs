//! test-report: reads the test reports a CI job produced and turns one parse into a job summary,
//! outputs and converted reports. The core is pure (bytes, settings and an environment map in,
//! values out); file system, environment and clock live at the edges: `src/cli/` for the native
//! binary and `js/` for the GitHub Action, which calls [`wasm::run`].

#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod ci;
pub mod config;
pub mod convert;
pub mod diagnostic;
pub mod github;
pub mod http;
pub mod model;
pub mod parse;
pub mod pipeline;
pub mod spool;
pub mod upload;
mod word;

#[cfg(target_arch = "wasm32")]
pub mod wasm;
