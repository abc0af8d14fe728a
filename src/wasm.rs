//! The action's entry into the core: JSON and bytes in, JSON out. The only `#[wasm_bindgen]`.

use std::sync::Once;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::config::RawConfig;
use crate::convert;
use crate::http::recording::RecordingClient;
use crate::http::wasm::WasmClient;
use crate::http::HttpClient;
use crate::parse;
use crate::pipeline::{self, EnvMap, FileReport, Inputs, Outcome};
use crate::upload::dry_run;

/// What the wrapper gets back: the outcome, plus the whole report as CTRF JSON for the
/// `ctrf-file` output (complete even when the summary had to shrink).
#[derive(Serialize)]
struct WasmOutput<'a> {
    #[serde(flatten)]
    outcome: &'a Outcome,
    ctrf: String,
    /// With `dry-run`: each request that would have been sent, secrets redacted, for the log.
    dry_run_requests: Vec<String>,
}

#[derive(Deserialize)]
struct WasmInput {
    #[serde(default)]
    config: RawConfig,
    #[serde(default)]
    patterns: Vec<String>,
    files: Vec<WasmFile>,
    #[serde(default)]
    env: EnvMap,
    /// The GitHub event payload, read by the wrapper from `GITHUB_EVENT_PATH`.
    #[serde(default)]
    event: Option<serde_json::Value>,
    /// `git ls-files` of the workspace; absent when the edge could not list it.
    #[serde(default)]
    repo_files: Option<Vec<String>>,
    /// `dry-run`: answer every request with [`dry_run::respond`] and send nothing.
    #[serde(default)]
    dry_run: bool,
}

#[derive(Deserialize)]
struct WasmFile {
    path: String,
    read_error: Option<String>,
}

static PANIC_HOOK: Once = Once::new();

/// Runs the whole report. `contents[i]` holds the bytes of `files[i]` of the input JSON.
/// Resolves to the [`pipeline::Outcome`] as JSON; rejects with a message for invalid input.
#[wasm_bindgen]
pub async fn run(input_json: String, contents: js_sys::Array) -> Result<String, JsError> {
    // A panic in wasm aborts the instance; the hook at least prints why before the trap.
    PANIC_HOOK.call_once(|| std::panic::set_hook(Box::new(console_error_panic_hook::hook)));
    let input: WasmInput = serde_json::from_str(&input_json)
        .map_err(|e| JsError::new(&format!("invalid input from the action wrapper: {e}")))?;
    let config = input
        .config
        .validate()
        .map_err(|e| JsError::new(&e.to_string()))?;
    if contents.length() as usize != input.files.len() {
        return Err(JsError::new(&format!(
            "the action wrapper passed {} file contents for {} files",
            contents.length(),
            input.files.len()
        )));
    }
    let keep_originals = config.keeps_originals();
    let files = input
        .files
        .into_iter()
        .zip(contents.iter())
        .map(|(file, bytes)| match file.read_error {
            Some(reason) => FileReport::unreadable(file.path, &reason),
            None => {
                let bytes = js_sys::Uint8Array::new(&bytes).to_vec();
                FileReport {
                    path: file.path,
                    result: parse::parse_bytes(&bytes, config.format),
                    original: keep_originals.then_some(bytes),
                }
            }
        })
        .collect();
    let inputs = Inputs {
        config,
        patterns: input.patterns,
        files,
        env: input.env,
        event: input.event,
        repo_files: input.repo_files,
    };
    let now_ms = WasmClient::new().now_ms();
    let (outcome, dry_run_requests) = if input.dry_run {
        let client = RecordingClient::answering(dry_run::respond);
        let outcome = pipeline::run(&inputs, &client).await;
        (outcome, dry_run::describe(client.requests()))
    } else {
        (pipeline::run(&inputs, &WasmClient::new()).await, Vec::new())
    };
    let output = WasmOutput {
        outcome: &outcome,
        ctrf: convert::ctrf::write(&inputs.files, now_ms),
        dry_run_requests,
    };
    serde_json::to_string(&output)
        .map_err(|e| JsError::new(&format!("could not encode the outcome: {e}")))
}
