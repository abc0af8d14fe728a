//! The request journal: every request to a service prefix, in arrival order, as received.

use base64::Engine;
use serde::Serialize;
use serde_json::{json, Value};

use crate::faults::Fault;
use crate::service::Service;

#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// 1-based arrival order across all services.
    pub seq: u64,
    /// Milliseconds since the fake started.
    pub received_ms: u64,
    pub service: Service,
    pub method: String,
    /// The full path, prefix included (`/testnod/integrations/test_runs/upload`).
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// Name/value pairs in arrival order; names lower-cased, repeats kept.
    pub headers: Vec<(String, String)>,
    pub body_len: usize,
    pub body_base64: String,
    /// The body as text when it is valid UTF-8.
    pub body_utf8: Option<String>,
    /// The fault injected into this request, if one was.
    pub fault: Option<Fault>,
    /// The status answered; absent when the connection was dropped or the answer is pending.
    pub status: Option<u16>,
    /// Milliseconds since the fake started when the answer was handed to the connection (with
    /// `received_ms`, how long the request was in flight: the upload benchmark counts overlaps).
    pub answered_ms: Option<u64>,
}

impl Entry {
    pub fn set_body(&mut self, body: &[u8]) {
        self.body_len = body.len();
        self.body_base64 = base64::engine::general_purpose::STANDARD.encode(body);
        self.body_utf8 = std::str::from_utf8(body).ok().map(str::to_owned);
    }
}

#[derive(Default)]
pub struct Journal {
    entries: Vec<Entry>,
}

impl Journal {
    pub fn push(&mut self, mut entry: Entry) -> u64 {
        entry.seq = self.entries.len() as u64 + 1;
        let seq = entry.seq;
        self.entries.push(entry);
        seq
    }

    pub fn update(&mut self, seq: u64, change: impl FnOnce(&mut Entry)) {
        if let Some(e) = seq
            .checked_sub(1)
            .and_then(|i| self.entries.get_mut(i as usize))
        {
            change(e);
        }
    }

    pub fn list(&self, service: Option<Service>) -> Value {
        let entries: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| service.is_none_or(|s| e.service == s))
            .collect();
        json!(entries)
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}
