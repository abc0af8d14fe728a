//! The native rows of `bench/peers.sh` (issue 12): a raw single pass over the bytes (read the file,
//! count `<` with memchr) as the ceiling, and our parser on the same file: from the file as the CLI
//! reads a large one (in parts, one per core) and on one thread, and in memory as the action does.
//! `BENCH_FILE=path cargo bench --bench scan` prints one JSON line per row. With `BENCH_ONCE=1` it
//! parses the file once from memory as the action does and prints nothing else: the run to
//! profile under callgrind (bench/PROFILE.md); `BENCH_ONCE=action` does the action's whole work
//! once instead. `BENCH_ONCE=raw` and `BENCH_ONCE=file` time the raw pass or the parse of the file
//! once, in a fresh process, and print that row: bench/peers.sh's first calls.
#![allow(clippy::disallowed_methods)]

use std::fs::File;
use std::io::{BufReader, Seek};
use std::time::Instant;

use test_report::config::RawConfig;
use test_report::convert;
use test_report::http::recording::{block_on, RecordingClient};
use test_report::parse::{parse, parse_in_parts, FormatChoice, ParseError};
use test_report::pipeline::{self, EnvMap, FileReport, Inputs};

/// Best of this many rounds: the machines are noisy.
const ROUNDS: usize = 5;
/// Our CLI's read buffer (src/cli/mod.rs), and the pieces the action's core copies a report in
/// (src/wasm.rs), so the rows are what users get.
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// A report held in memory, read as the action's core reads its `Uint8Array`: in pieces.
fn parse_streamed(
    bytes: &[u8],
) -> Result<(test_report::parse::Format, test_report::parse::Parsed), ParseError> {
    parse(
        BufReader::with_capacity(READ_BUFFER_BYTES, bytes),
        FormatChoice::Auto,
    )
}

/// Every test of `files` as CTRF, the chunks dropped as they come (the action writes them to
/// its file, outside the timed work): answers the document's bytes.
fn ctrf_bytes(files: &[FileReport]) -> u64 {
    let mut bytes = 0;
    let written: Result<(), std::convert::Infallible> =
        convert::ctrf::write_chunks(files, 0, |chunk| {
            bytes += chunk.len() as u64;
            Ok(())
        });
    written.map_or(0, |()| bytes)
}

fn best(mut run: impl FnMut() -> u64) -> (f64, u64) {
    let mut best = f64::MAX;
    let mut value = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        value = run();
        best = best.min(start.elapsed().as_secs_f64() * 1e3);
    }
    (best, value)
}

/// The ceiling: read the file whole, count `<`.
fn raw_pass(path: &std::ffi::OsStr) -> u64 {
    let bytes = std::fs::read(path).unwrap_or_default();
    memchr::memchr_iter(b'<', &bytes).count() as u64
}

/// Our parse of the file as the CLI parses a large one (src/cli/mod.rs `parse_file`): in parts,
/// one per core, each streamed through the CLI's read buffer; with `threads` 1, whole, on one
/// thread. Answers its tests. `keep` leaves the reports to the process's exit, as the CLI does
/// (src/cli/mod.rs `leave_to_exit`).
fn parse_file(path: &std::ffi::OsStr, threads: usize, keep: bool) -> u64 {
    let len = std::fs::metadata(path).map_or(0, |m| m.len());
    let open = |at: u64| -> std::io::Result<BufReader<File>> {
        let mut file = File::open(path)?;
        file.seek(std::io::SeekFrom::Start(at))?;
        Ok(BufReader::with_capacity(READ_BUFFER_BYTES, file))
    };
    let result = parse_in_parts(open, len, threads, FormatChoice::Auto);
    let tests = tests_in(&result);
    if keep {
        std::mem::forget(result);
    }
    tests
}

/// The parts the CLI reads a large file in: one per core.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

fn row(name: &str, ms: f64, tests: u64) {
    println!("{{\"row\":\"{name}\",\"ms\":{ms:.1},\"tests\":{tests}}}");
}

fn tests_in(
    result: &Result<(test_report::parse::Format, test_report::parse::Parsed), ParseError>,
) -> u64 {
    result.as_ref().map_or(0, |(_, parsed)| {
        parsed.runs.iter().map(|r| r.totals().tests).sum()
    })
}

fn main() {
    let Some(path) = std::env::var_os("BENCH_FILE") else {
        eprintln!("scan: set BENCH_FILE to the report to scan (bench/peers.sh does)");
        return;
    };
    if std::env::var_os("BENCH_ONCE").is_some_and(|v| v == "action") {
        let bytes = std::fs::read(&path).unwrap_or_default();
        let inputs = action_inputs(&path, &bytes);
        let outcome = block_on(pipeline::run(&inputs, &RecordingClient::new()));
        row(
            "native action work (once)",
            ctrf_bytes(&inputs.files) as f64,
            outcome.map_or(0, |o| o.report.totals.tests),
        );
        return;
    }
    // One row's work, timed once in a fresh process: what a CLI run pays, fresh memory included
    // (later rounds in one process reuse what the allocator kept). bench/peers.sh runs these per
    // pass for the first-call column.
    let once = std::env::var_os("BENCH_ONCE");
    if let Some(work) = once.as_ref().filter(|v| *v == "raw" || *v == "file") {
        let start = Instant::now();
        let (name, tests) = if work == "raw" {
            ("raw read + memchr", raw_pass(&path))
        } else {
            ("native parse (file)", parse_file(&path, cores(), true))
        };
        let ms = start.elapsed().as_secs_f64() * 1e3;
        println!("{{\"row\":\"{name}\",\"ms\":{ms:.1},\"first_ms\":{ms:.1},\"tests\":{tests}}}");
        return;
    }
    if once.is_some() {
        let bytes = std::fs::read(&path).unwrap_or_default();
        row(
            "native parse (once)",
            0.0,
            tests_in(&parse_streamed(&bytes)),
        );
        return;
    }
    let (ms, opens) = best(|| raw_pass(&path));
    row("raw read + memchr", ms, opens);
    let bytes = std::fs::read(&path).unwrap_or_default();
    let (ms, tests) = best(|| parse_file(&path, cores(), false));
    row("native parse (file)", ms, tests);
    let (ms, tests) = best(|| parse_file(&path, 1, false));
    row("native parse, one thread (file)", ms, tests);
    // What the action does after reading the file (src/wasm.rs `run`), whole and phase by phase:
    // the wasm rows of bench/peers.sh do all of it under wasm.
    let (ms, tests) = best(|| {
        let inputs = action_inputs(&path, &bytes);
        let outcome = block_on(pipeline::run(&inputs, &RecordingClient::new()));
        std::hint::black_box(ctrf_bytes(&inputs.files));
        outcome.map_or(0, |o| o.report.totals.tests)
    });
    row(
        "native: the action's work (parse, summary, CTRF)",
        ms,
        tests,
    );
    let (ms, tests) = best(|| {
        let inputs = action_inputs(&path, &bytes);
        inputs.files.iter().map(|f| f.totals().tests).sum()
    });
    row("native: … parse (from memory, in pieces)", ms, tests);
    let inputs = action_inputs(&path, &bytes);
    let (ms, tests) = best(|| {
        let outcome = block_on(pipeline::run(&inputs, &RecordingClient::new()));
        outcome.map_or(0, |o| o.report.totals.tests)
    });
    row("native: … summary, annotations, outputs", ms, tests);
    let (ms, _) = best(|| ctrf_bytes(&inputs.files));
    row("native: … CTRF for ctrf-file", ms, tests);
}

/// The action's inputs for one file: job summary on, no services, as `bench/peers` runs it.
fn action_inputs(path: &std::ffi::OsStr, bytes: &[u8]) -> Inputs {
    let raw = RawConfig {
        job_summary: Some(true),
        ..RawConfig::default()
    };
    let path = path.to_string_lossy().into_owned();
    Inputs {
        config: raw
            .validate()
            .unwrap_or_else(|e| panic!("bench config: {e}")),
        patterns: vec![path.clone()],
        files: vec![FileReport {
            path,
            result: parse_streamed(bytes),
            original: None,
        }],
        env: EnvMap::new(),
        event: None,
        repo_files: None,
    }
}
