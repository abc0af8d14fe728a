//! The spool directory on disk: `report --spool-dir` writes what was not delivered,
//! `resume DIR` sends it and writes back what still failed (or empties the directory);
//! `resume DIR --dry-run` prints what it would send and leaves the directory alone.

use std::path::Path;

use test_report::ci::CiInfo;
use test_report::config::Config;
use test_report::http::native::NativeClient;
use test_report::http::recording::RecordingClient;
use test_report::spool::{self, Resumed, Spool};
use test_report::upload::dry_run;

use super::{capture_env, read_event};

/// Writes the manifest and its payload files into `dir` (created when missing).
pub fn write(dir: &Path, spool: &Spool) -> Result<(), String> {
    let shown = dir.display();
    std::fs::create_dir_all(dir).map_err(|e| format!("{shown}: cannot create the spool: {e}"))?;
    for (name, bytes) in spool.payloads() {
        std::fs::write(dir.join(name), bytes)
            .map_err(|e| format!("{shown}/{name}: cannot write the spool: {e}"))?;
    }
    // The manifest last: a directory with a manifest is complete.
    std::fs::write(dir.join(spool::MANIFEST), spool.manifest())
        .map_err(|e| format!("{shown}/{}: cannot write the spool: {e}", spool::MANIFEST))
}

pub fn read(dir: &Path) -> Result<Spool, String> {
    let shown = dir.display();
    let manifest = std::fs::read(dir.join(spool::MANIFEST)).map_err(|e| {
        format!(
            "{shown}/{}: no spool here ({e}): give the directory `report --spool-dir` wrote",
            spool::MANIFEST
        )
    })?;
    Spool::read(&manifest, |name| {
        std::fs::read(dir.join(name)).map_err(|e| e.to_string())
    })
    .map_err(|e| format!("{shown}: {e}"))
}

/// Sends `old`, the spool in `dir`, with the credentials in `config`; rewrites `dir` with what
/// is left.
pub fn resume(dir: &Path, old: &Spool, config: &Config) -> Result<Resumed, String> {
    let runtime = runtime()?;
    let client = NativeClient::new();
    let resumed = runtime.block_on(spool::resume(&client, old, config, &ci()));
    for (name, _) in old.payloads() {
        let _ = std::fs::remove_file(dir.join(name));
    }
    match &resumed.spool {
        Some(next) => write(dir, next)?,
        None => std::fs::remove_file(dir.join(spool::MANIFEST))
            .map_err(|e| format!("{}: cannot remove the delivered spool: {e}", dir.display()))?,
    }
    Ok(resumed)
}

/// `resume DIR --dry-run`: the requests a resume of `old` would send, described as `report
/// --dry-run` describes its own (secrets redacted); nothing is sent and the spool stays as it is.
pub fn dry_run(old: &Spool, config: &Config) -> Result<Vec<String>, String> {
    let client = RecordingClient::answering(dry_run::respond);
    runtime()?.block_on(spool::resume(&client, old, config, &ci()));
    Ok(dry_run::describe(client.requests()))
}

fn ci() -> CiInfo {
    let env = capture_env();
    let event = read_event(&env);
    test_report::ci::detect(&env, event.as_ref())
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}
