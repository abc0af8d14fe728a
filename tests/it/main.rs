//! The one integration-test binary: conformance corpus, CLI behaviour, summaries, hostile input.
#![allow(clippy::disallowed_methods)]

mod cli;
mod conformance;
mod conformance_json;
mod hostile;
mod summary;
mod support;
