//! The one integration-test binary: conformance corpus, CLI behaviour, summaries, hostile input.
#![allow(clippy::disallowed_methods)]

mod aio;
mod annotations;
mod changed_files;
mod cli;
mod comment;
mod conformance;
mod conformance_json;
mod conformance_xml;
mod fakes;
mod fault_matrix;
mod github_command;
mod hostile;
mod roundtrip;
mod secrets;
mod spool;
mod summary;
mod support;
mod testomat;
mod uploads;
mod valueedge;
