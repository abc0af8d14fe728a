//! The action's entry into the core: JSON and bytes in, JSON out. The only `#[wasm_bindgen]`.

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Read};
use std::sync::Once;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::config::RawConfig;
use crate::convert;
use crate::http::wasm::WasmClient;
use crate::http::HttpClient;
use crate::parse;
use crate::pipeline::{self, EnvMap, FileReport, Inputs, Outcome};
use crate::spool::{self, Resumed, Spool};
use crate::upload::dry_run;

/// What the wrapper gets back as JSON: the outcome and what the edge must write or print.
/// The CTRF document goes to its own sink (see [`run`]): escaping 30 MB of JSON into a string
/// field and decoding it again in JS cost more than parsing the report did.
#[derive(Serialize)]
struct WasmOutput<'a> {
    #[serde(flatten)]
    outcome: &'a Outcome,
    /// What the uploads left undelivered, for the wrapper to write as the spool directory.
    spool: Option<WasmSpool<'a>>,
    /// With `dry-run`: each request that would have been sent, secrets redacted, for the log.
    dry_run_requests: Vec<String>,
}

/// A spool as files: `manifest.json` and the payloads it names.
#[derive(Serialize)]
struct WasmSpool<'a> {
    manifest: String,
    payloads: Vec<WasmPayload<'a>>,
}

#[derive(Serialize)]
struct WasmPayload<'a> {
    name: &'a str,
    bytes: &'a [u8],
}

impl<'a> WasmSpool<'a> {
    fn of(spool: &'a Spool) -> WasmSpool<'a> {
        WasmSpool {
            manifest: spool.manifest(),
            payloads: spool
                .payloads()
                .into_iter()
                .map(|(name, bytes)| WasmPayload { name, bytes })
                .collect(),
        }
    }
}

/// `resume-from`: the spool read back by the wrapper, and the settings again.
#[derive(Deserialize)]
struct WasmResumeInput {
    #[serde(default)]
    config: RawConfig,
    #[serde(default)]
    env: EnvMap,
    #[serde(default)]
    event: Option<serde_json::Value>,
    manifest: String,
    /// The names of `payloads[i]`, as the manifest gives them.
    payload_names: Vec<String>,
}

#[derive(Serialize)]
struct WasmResumed<'a> {
    #[serde(flatten)]
    resumed: &'a Resumed,
    spool: Option<WasmSpool<'a>>,
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
}

#[wasm_bindgen]
extern "C" {
    /// The wrapper's writer of the CTRF file: `{ write(chunk) }`, called with views into wasm
    /// memory (a `&[u8]` argument is not copied) that it must consume before returning.
    pub type CtrfSink;

    #[wasm_bindgen(method, catch)]
    fn write(this: &CtrfSink, chunk: &[u8]) -> Result<(), JsValue>;

    /// The wrapper's reader of one report file: `{ read() }` answers its next bytes as a
    /// `Uint8Array` (empty at the end; a view the wrapper may reuse at the next call of any
    /// reader: reports are read one after the other, each piece copied before the next), or throws
    /// the failed read's error. Every piece but the last holds [`READ_BUFFER_BYTES`]: the format
    /// is detected from the first.
    pub type ReportReader;

    #[wasm_bindgen(method, catch)]
    fn read(this: &ReportReader) -> Result<js_sys::Uint8Array, JsValue>;
}

static PANIC_HOOK: Once = Once::new();

thread_local! {
    /// The last call's parsed reports, freed when the next call starts instead of at the end of
    /// their own: the action calls once, and freeing a hundred thousand cases one by one was
    /// 3–6 % of that call (bench/PROFILE.md, ninth and tenth rounds). Wasm memory is never given
    /// back to the system, so holding them costs nothing a later call would not reuse.
    static LAST_REPORTS: RefCell<Option<Vec<FileReport>>> = const { RefCell::new(None) };
}

/// Runs the whole report. `readers[i]` reads the bytes of `files[i]` of the input JSON (a
/// [`ReportReader`]): reports are read as they are parsed, so none is held whole in memory.
/// Hands every test as CTRF JSON to `ctrf` in chunks of [`convert::ctrf::CHUNK_BYTES`], for the
/// `ctrf-file` output (complete even when the summary had to shrink): views of wasm memory, so
/// the document is neither held whole nor copied into JavaScript (the copy alone was an eighth
/// of the call). Without a sink (`undefined`) no document is built: the action always passes
/// one; `bench/peers` times the parse and the summary alone without it, as issue 12 measures.
/// Resolves to the [`pipeline::Outcome`] as JSON. Rejects with a message for invalid input or
/// when the sink throws.
#[wasm_bindgen]
pub async fn run(
    input_json: String,
    readers: js_sys::Array,
    ctrf: Option<CtrfSink>,
) -> Result<String, JsError> {
    // A panic in wasm aborts the instance; the hook at least prints why before the trap.
    PANIC_HOOK.call_once(|| std::panic::set_hook(Box::new(console_error_panic_hook::hook)));
    LAST_REPORTS.with(|last| last.borrow_mut().take());
    let input: WasmInput = serde_json::from_str(&input_json)
        .map_err(|e| JsError::new(&format!("invalid input from the action wrapper: {e}")))?;
    let config = input
        .config
        .validate()
        .map_err(|e| JsError::new(&e.to_string()))?;
    if readers.length() as usize != input.files.len() {
        return Err(JsError::new(&format!(
            "the action wrapper passed {} file readers for {} files",
            readers.length(),
            input.files.len()
        )));
    }
    let keep_originals = config.keeps_originals();
    let mut buffered = None;
    let files = input
        .files
        .into_iter()
        .zip(readers.iter())
        .map(|(file, reader)| {
            let report = JsReport::new(reader.unchecked_into(), keep_originals);
            read_report(file.path, report, &mut buffered, config.format)
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
    let client = if input.dry_run {
        WasmClient::answering(dry_run::respond)
    } else {
        WasmClient::new()
    };
    let outcome = pipeline::run(&inputs, &client).await;
    let dry_run_requests = dry_run::describe(client.recorded());
    let output = WasmOutput {
        outcome: &outcome,
        spool: outcome.spool.as_ref().map(WasmSpool::of),
        dry_run_requests,
    };
    let json = serde_json::to_string(&output)
        .map_err(|e| JsError::new(&format!("could not encode the outcome: {e}")))?;
    if let Some(ctrf) = ctrf {
        convert::ctrf::write_chunks(&inputs.files, now_ms, |chunk| ctrf.write(chunk.as_bytes()))
            .map_err(|e| {
                JsError::new(&format!(
                    "could not write the CTRF file: {}",
                    message_of(&e)
                ))
            })?;
    }
    LAST_REPORTS.with(|last| *last.borrow_mut() = Some(inputs.files));
    Ok(json)
}

/// Frees the reports the last [`run`] kept. The action calls `run` once and never this; the
/// benchmarks call it between rounds, outside their clocks, so that each round times the work of
/// one call as the action pays it, not also the freeing of the round before (issue 12).
#[wasm_bindgen]
pub fn release() {
    LAST_REPORTS.with(|last| last.borrow_mut().take());
}

/// Bytes a report is copied into wasm memory in, as the parse reads it (the parser's own
/// minimum: [`parse::DETECT_PREFIX_BYTES`] for detecting the format).
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// What a thrown JavaScript value says: an `Error`'s message, a string, or its debug form.
fn message_of(e: &JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => e.as_string().unwrap_or_else(|| format!("{e:?}")),
    }
}

/// One report, parsed as its reader hands it over; held whole only when an upload sends it as it
/// is (most runs upload nothing), by keeping the pieces as they pass. Every report goes through
/// one `BufReader` (`buffered`, made for the first), so its buffer is allocated once and zeroed
/// once — a [`JsReport`] cannot read into uninitialized memory, so each new buffer was zeroed
/// whole at its first fill: 1.3 GB for 5,000 small reports.
fn read_report(
    path: String,
    report: JsReport,
    buffered: &mut Option<BufReader<JsReport>>,
    format: parse::FormatChoice,
) -> FileReport {
    let buffered = match buffered {
        Some(buffered) => {
            // What the last parse left unread belongs to the last report.
            buffered.consume(buffered.buffer().len());
            *buffered.get_mut() = report;
            buffered
        }
        None => buffered.insert(BufReader::with_capacity(READ_BUFFER_BYTES, report)),
    };
    let result = parse::parse(&mut *buffered, format);
    // A parse need not read to the end of the file, and an upload sends all of it.
    let report = buffered.get_mut();
    let original = match (&result, report.kept.is_some()) {
        (Ok(_), true) => match std::io::copy(report, &mut std::io::sink()) {
            Ok(_) => report.kept.take(),
            Err(e) => return FileReport::unreadable(path, &e.to_string()),
        },
        _ => None,
    };
    FileReport {
        path,
        result,
        original,
    }
}

/// A report file read through its [`ReportReader`], a piece at a time: the wrapper holds one
/// piece, wasm memory the parser's buffer, so memory does not grow with the file (a 300 MB
/// `go test -json` stream was a 300 MB `Buffer` first) and files over Node's 2 GiB `readFile`
/// limit can be read.
struct JsReport {
    reader: ReportReader,
    piece: js_sys::Uint8Array,
    at: u32,
    ended: bool,
    /// Every byte read so far, when the report is to be uploaded as it is.
    kept: Option<Vec<u8>>,
}

impl JsReport {
    fn new(reader: ReportReader, keep: bool) -> JsReport {
        JsReport {
            reader,
            piece: js_sys::Uint8Array::new_with_length(0),
            at: 0,
            ended: false,
            kept: keep.then(Vec::new),
        }
    }
}

impl Read for JsReport {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at >= self.piece.length() {
            if self.ended {
                return Ok(0);
            }
            self.piece = self
                .reader
                .read()
                .map_err(|e| std::io::Error::other(message_of(&e)))?;
            self.at = 0;
            if self.piece.length() == 0 {
                self.ended = true;
                return Ok(0);
            }
        }
        let wanted = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        let end = self.piece.length().min(self.at.saturating_add(wanted));
        let n = (end - self.at) as usize;
        self.piece.subarray(self.at, end).copy_to(&mut buf[..n]);
        self.at = end;
        if let Some(kept) = self.kept.as_mut() {
            kept.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }
}

/// The bytes of a `Uint8Array` (Node's `Buffer` is one), copied once into wasm memory.
fn bytes_of(value: JsValue) -> Vec<u8> {
    uint8_array(value).to_vec()
}

/// A value the wrapper passed as bytes, as the `Uint8Array` it is (Node's `Buffer` is one);
/// anything else is viewed as one. `new Uint8Array(buffer)` for every value would first copy
/// each report in JS: a whole report, a tenth of the call.
fn uint8_array(value: JsValue) -> js_sys::Uint8Array {
    value
        .dyn_into::<js_sys::Uint8Array>()
        .unwrap_or_else(|other| js_sys::Uint8Array::new(&other))
}

/// Resumes a spool: `payloads[i]` holds the bytes of `payload_names[i]`. Resolves to the
/// resume's result as JSON, with the spool of what still failed.
#[wasm_bindgen]
pub async fn resume(input_json: String, payloads: js_sys::Array) -> Result<String, JsError> {
    PANIC_HOOK.call_once(|| std::panic::set_hook(Box::new(console_error_panic_hook::hook)));
    let mut input: WasmResumeInput = serde_json::from_str(&input_json)
        .map_err(|e| JsError::new(&format!("invalid input from the action wrapper: {e}")))?;
    let bytes: Vec<Vec<u8>> = payloads.iter().map(bytes_of).collect();
    let old = Spool::read(input.manifest.as_bytes(), |name| {
        input
            .payload_names
            .iter()
            .position(|n| n == name)
            .and_then(|i| bytes.get(i).cloned())
            .ok_or_else(|| "not in the spool directory".to_owned())
    })
    .map_err(|e| JsError::new(&format!("resume-from: {e}")))?;
    // What the spool knows (ValueEdge's space, AIO's project and cycle) need not be given again.
    old.complete(&mut input.config);
    let config = input
        .config
        .validate()
        .map_err(|e| JsError::new(&e.to_string()))?;
    let ci = crate::ci::detect(&input.env, input.event.as_ref());
    let client = WasmClient::new();
    let resumed = spool::resume(&client, &old, &config, &ci).await;
    let output = WasmResumed {
        resumed: &resumed,
        spool: resumed.spool.as_ref().map(WasmSpool::of),
    };
    serde_json::to_string(&output)
        .map_err(|e| JsError::new(&format!("could not encode the resume: {e}")))
}
