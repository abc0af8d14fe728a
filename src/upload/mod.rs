//! Uploads to test-management services. One module per service: pure `build_*` functions
//! (settings and results → requests) and `parse_*` functions (responses → receipts or typed
//! errors), plus one short `async fn` that sequences them over any [`crate::http::HttpClient`].
//! Services are independent: one failing never stops another.

pub mod aio;
pub mod dry_run;
pub mod testnod;
pub mod testomat;
pub mod valueedge;

use serde::Serialize;

/// A service step that failed, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceError {
    pub service: &'static str,
    /// The step of the service's flow: `upload`, `put`, `finalize`, …
    pub step: &'static str,
    /// The report file the step was about, if any.
    pub file: Option<String>,
    pub message: String,
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.service, self.step)?;
        if let Some(file) = &self.file {
            write!(f, " of {file}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ServiceError {}

/// One report file as a service receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub path: String,
    pub bytes: Vec<u8>,
}
