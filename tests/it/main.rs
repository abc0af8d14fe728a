//! The one integration-test binary: conformance corpus, CLI behaviour, summaries, hostile input.
#![allow(clippy::disallowed_methods)]

mod annotations;
mod cli;
mod conformance;
mod conformance_json;
mod conformance_xml;
mod fakes;
mod hostile;
mod roundtrip;
mod summary;
mod support;
mod uploads;
