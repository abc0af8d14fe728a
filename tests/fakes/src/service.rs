//! The faked services and the path prefix each one lives under.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Testnod,
    /// The presigned-URL host TestNod hands out (S3 in production).
    Storage,
    Aio,
    Testomatio,
    Octane,
    Github,
}

impl Service {
    pub const ALL: [Service; 6] = [
        Service::Testnod,
        Service::Storage,
        Service::Aio,
        Service::Testomatio,
        Service::Octane,
        Service::Github,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Service::Testnod => "testnod",
            Service::Storage => "storage",
            Service::Aio => "aio",
            Service::Testomatio => "testomatio",
            Service::Octane => "octane",
            Service::Github => "github",
        }
    }

    pub fn from_name(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The service a request path belongs to: its first segment is the prefix.
    pub fn of_path(path: &str) -> Option<Service> {
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        Service::from_name(first)
    }
}
