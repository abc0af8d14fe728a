//! What the CLI says while it works: progress bars when stderr is a terminal, plain log lines
//! otherwise (CI logs are not terminals), nothing but errors with `--quiet`.
//!
//! Upload progress comes from wrapping the HTTP client: the core stays unaware of terminals.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use test_report::http::{redact_url, Body, HttpClient, Request, Response, TransportError};

/// How much the CLI reports on stderr (`--quiet`, `--verbose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Redraws per second of a bar: often enough to look alive, rarely enough to cost nothing.
const REFRESH_HZ: u8 = 10;

pub struct Progress {
    verbosity: Verbosity,
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Progress {
    /// A bar over `files` files when stderr is a terminal and not quiet.
    pub fn parsing(verbosity: Verbosity, files: usize) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = (terminal && verbosity != Verbosity::Quiet).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(files as u64),
                ProgressDrawTarget::stderr_with_hz(REFRESH_HZ),
            );
            bar.set_style(
                ProgressStyle::with_template("{spinner} parsing {pos}/{len} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            verbosity,
            bar,
            started: Instant::now(),
        }
    }

    /// One file parsed; `what` is its path and counts.
    pub fn file_done(&self, what: &str) {
        match &self.bar {
            Some(bar) => {
                bar.set_message(what.to_owned());
                bar.inc(1);
            }
            None if self.verbosity == Verbosity::Verbose => eprintln!("test-report: parsed {what}"),
            None => {}
        }
    }

    /// Parsing is over: the bar goes, one line stays (unless quiet).
    pub fn parsed(&self, files: usize, tests: u64) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.verbosity != Verbosity::Quiet {
            eprintln!(
                "test-report: parsed {files} report files, {tests} tests in {}",
                elapsed(self.started.elapsed())
            );
        }
    }
}

/// The client, with a spinner (terminal) or log lines (`--verbose`) for each request it sends.
pub fn uploads<C: HttpClient>(verbosity: Verbosity, client: C) -> ProgressClient<C> {
    let terminal = std::io::stderr().is_terminal() && verbosity != Verbosity::Quiet;
    let spinner = terminal.then(|| {
        let spinner =
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(REFRESH_HZ));
        spinner.set_style(
            ProgressStyle::with_template("{spinner} {pos} requests {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        spinner.enable_steady_tick(Duration::from_millis(1000 / u64::from(REFRESH_HZ)));
        spinner
    });
    ProgressClient {
        inner: client,
        spinner,
        verbose: verbosity == Verbosity::Verbose,
    }
}

fn elapsed(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The HTTP client, showing each request as it goes: method and URL with secrets redacted.
pub struct ProgressClient<C> {
    inner: C,
    spinner: Option<ProgressBar>,
    verbose: bool,
}

impl<C> ProgressClient<C> {
    pub fn finish(&self) {
        if let Some(spinner) = &self.spinner {
            spinner.finish_and_clear();
        }
    }
}

impl<C: HttpClient> HttpClient for ProgressClient<C> {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        let line = format!(
            "{} {}",
            request.method(),
            redact_url(&request.uri().to_string())
        );
        if let Some(spinner) = &self.spinner {
            spinner.set_message(line.clone());
        }
        let started = Instant::now();
        let result = self.inner.send(request).await;
        if let Some(spinner) = &self.spinner {
            spinner.inc(1);
        }
        if self.verbose {
            let took = elapsed(started.elapsed());
            let answer = match &result {
                Ok(response) => response.status().as_u16().to_string(),
                Err(e) => e.to_string(),
            };
            match &self.spinner {
                Some(spinner) => spinner.println(format!("{line} → {answer} ({took})")),
                None => eprintln!("test-report: {line} → {answer} ({took})"),
            }
        }
        result
    }

    async fn sleep(&self, duration: Duration) {
        self.inner.sleep(duration).await
    }

    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }
}
