//! The job summary: readable in ten seconds, never over GitHub's size limit.
//!
//! Layout: a headline with the verdict, one totals line, one row per report file, reports that
//! could not be read, then the tests worth looking at (failed and errored with message and a
//! collapsible trace, flaky ones, and with `summary-tests: all` the rest).
//!
//! Degradation order when the Markdown would exceed [`SUMMARY_MAX_BYTES`], first that fits wins,
//! each step announced in the summary itself:
//! 1. everything;
//! 2. without passed/skipped listings (`all` behaves as `failed`);
//! 3. traces cut to [`SHORT_TRACE_BYTES`];
//! 4. no traces;
//! 5. names only, the list cut with a count of what was left out.

use std::fmt::Write;
use std::time::Duration;

use super::markdown::{code_block, format_duration, inline, push_inline};
use crate::config::{Config, SummaryTests};
use crate::model::{truncate_utf8, Case, Status, Totals};
use crate::pipeline::{Conclusion, EnvMap, FileEntry, FileReport, Receipts, Report};

/// GitHub rejects a step summary larger than 1 MiB ("Step summary upload aborted", docs:
/// "Adding a job summary": "the maximum size of the summary for a single step is 1MiB").
pub const SUMMARY_MAX_BYTES: usize = 1024 * 1024;
/// Bytes of one failure message shown before it is cut.
pub const MESSAGE_BYTES: usize = 2 * 1024;
/// Bytes of one trace shown at full detail.
pub const TRACE_BYTES: usize = 16 * 1024;
/// Bytes of one trace once the summary had to shrink.
pub const SHORT_TRACE_BYTES: usize = 1024;
/// Report-file rows in the files table; beyond it, one row counts the rest.
pub const MAX_FILE_ROWS: usize = 200;

/// Bytes of a path shown in a table cell.
pub const MAX_PATH_BYTES: usize = 512;

/// How much of each test the summary shows; lower levels are the degradation steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Detail {
    NamesOnly,
    Messages,
    ShortTraces,
    Traces,
    Everything,
}

const ENV_SERVER_URL: &str = "GITHUB_SERVER_URL";
const ENV_REPOSITORY: &str = "GITHUB_REPOSITORY";
const ENV_RUN_ID: &str = "GITHUB_RUN_ID";
const ENV_SHA: &str = "GITHUB_SHA";

pub fn render(
    config: &Config,
    files: &[FileReport],
    report: &Report,
    conclusion: Conclusion,
    receipts: &Receipts,
    env: &EnvMap,
) -> String {
    render_within(
        config,
        files,
        report,
        conclusion,
        receipts,
        env,
        SUMMARY_MAX_BYTES,
    )
}

/// The summary within `budget` bytes, degrading in the module's stated order (check-run
/// summaries get 65,535 bytes, the job summary 1 MiB).
pub fn render_within(
    config: &Config,
    files: &[FileReport],
    report: &Report,
    conclusion: Conclusion,
    receipts: &Receipts,
    env: &EnvMap,
    budget: usize,
) -> String {
    let mut head = String::new();
    write_head(&mut head, config, files, report, conclusion);
    write_receipts(&mut head, receipts);
    let mut foot = String::new();
    write_footer(&mut foot, env);
    let all = config.summary_tests == SummaryTests::All;
    let levels = [
        Detail::Everything,
        Detail::Traces,
        Detail::ShortTraces,
        Detail::Messages,
        Detail::NamesOnly,
    ];
    for level in levels {
        if level == Detail::Everything && !all {
            continue;
        }
        let degraded = level < Detail::Traces || (all && level < Detail::Everything);
        let note = if degraded {
            shrink_note(budget, shrink_reason(level))
        } else {
            String::new()
        };
        let room = budget.saturating_sub(head.len() + note.len() + foot.len());
        let mut body = String::new();
        if write_tests(&mut body, config, files, level, room) {
            return head + &note + &body + &foot;
        }
    }
    // Even names only did not fit: the list is cut to the room left.
    let note = shrink_note(budget, "only the first tests are listed");
    let room = budget.saturating_sub(head.len() + note.len() + foot.len());
    let mut body = String::new();
    write_tests(&mut body, config, files, Detail::NamesOnly, room);
    let mut out = head + &note + &body + &foot;
    out.truncate(truncate_utf8(&out, budget).len());
    out
}

fn shrink_note(budget: usize, reason: &str) -> String {
    // Rounded up: 65,535 bytes (check runs) and 65,536 characters less the comment's marker
    // both read as GitHub's "64 KiB".
    let kib = budget.div_ceil(1024);
    let limit = if kib.is_multiple_of(1024) {
        format!("{} MiB", kib / 1024)
    } else {
        format!("{kib} KiB")
    };
    format!(
        "> [!NOTE]\n> The full report is larger than GitHub's {limit} limit here, so {reason}. Every test is in the CTRF report (`ctrf-file` output; CLI: `--ctrf-file`).\n\n"
    )
}

fn shrink_reason(level: Detail) -> &'static str {
    match level {
        Detail::Everything | Detail::Traces => "passed and skipped tests are not listed",
        Detail::ShortTraces => "traces are shortened",
        Detail::Messages => "traces are left out",
        Detail::NamesOnly => "only test names are listed",
    }
}

fn write_head(
    out: &mut String,
    config: &Config,
    files: &[FileReport],
    report: &Report,
    conclusion: Conclusion,
) {
    let icon = match conclusion {
        Conclusion::Success => "✅",
        Conclusion::Failure => "❌",
        Conclusion::Neutral => "⚪",
    };
    let _ = writeln!(out, "## {icon} {}\n", inline(&config.title));
    let t = &report.totals;
    let _ = writeln!(out, "{}\n", totals_sentence(t));
    if report.files.is_empty() {
        out.push_str("_No report files matched the path patterns._\n\n");
    } else if t.tests == 0 && !report.has_file_errors() {
        out.push_str("_The report files contain no tests._\n\n");
    }
    if !report.files.is_empty() {
        write_files_table(out, &report.files);
    }
    let broken: Vec<&FileReport> = files.iter().filter(|f| f.error().is_some()).collect();
    if !broken.is_empty() {
        let _ = writeln!(
            out,
            "### ⚠️ Reports that could not be read ({})\n",
            broken.len()
        );
        for file in broken.iter().take(MAX_FILE_ROWS) {
            if let Some(err) = file.error() {
                let _ = writeln!(
                    out,
                    "- `{}`: {}",
                    code_span_text(&file.path),
                    inline(&err.to_string())
                );
            }
        }
        if broken.len() > MAX_FILE_ROWS {
            let _ = writeln!(out, "- … and {} more", broken.len() - MAX_FILE_ROWS);
        }
        out.push('\n');
    }
}

/// `**120** tests · ✅ **110** passed · ❌ **3** failed · … · ⏱️ 1m 23s`, zero counts left out.
fn totals_sentence(t: &Totals) -> String {
    let mut parts = vec![format!("**{}** tests", t.tests)];
    for (n, icon, word) in [
        (t.passed, "✅", "passed"),
        (t.failed, "❌", "failed"),
        (t.errored, "💥", "errored"),
        (t.skipped, "⏭️", "skipped"),
        (t.flaky, "🔁", "flaky"),
    ] {
        if n > 0 {
            parts.push(format!("{icon} **{n}** {word}"));
        }
    }
    parts.push(format!(
        "⏱️ {}",
        format_duration(Duration::from_millis(t.duration_ms))
    ));
    parts.join(" · ")
}

/// One row per file, from the report's entries: their totals were counted once, in
/// [`Report::new`] (counting them here again walked every case a second time, issue 12).
fn write_files_table(out: &mut String, files: &[FileEntry]) {
    out.push_str("| Report | Tests | Passed | Failed | Errored | Skipped | Flaky | Time |\n");
    out.push_str("|:--|--:|--:|--:|--:|--:|--:|--:|\n");
    for file in files.iter().take(MAX_FILE_ROWS) {
        if file.error.is_some() {
            let _ = writeln!(
                out,
                "| ⚠️ `{}` | unreadable | | | | | | |",
                code_span_text(&file.path)
            );
            continue;
        }
        let t = &file.totals;
        let icon = if t.has_failures() {
            "❌"
        } else if t.tests == 0 {
            "⚪"
        } else {
            "✅"
        };
        let _ = writeln!(
            out,
            "| {icon} `{}` | {} | {} | {} | {} | {} | {} | {} |",
            code_span_text(&file.path),
            t.tests,
            t.passed,
            t.failed,
            t.errored,
            t.skipped,
            t.flaky,
            format_duration(Duration::from_millis(t.duration_ms))
        );
    }
    if files.len() > MAX_FILE_ROWS {
        let _ = writeln!(
            out,
            "| … and {} more report files | | | | | | | |",
            files.len() - MAX_FILE_ROWS
        );
    }
    out.push('\n');
}

/// Text for inside a single-backtick code span in a table: no backticks, no pipes, no newlines.
fn code_span_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_PATH_BYTES) + 8);
    push_code_span_text(&mut out, s);
    out
}

/// [`code_span_text`], appended to `out` in one pass.
fn push_code_span_text(out: &mut String, s: &str) {
    let s = truncate_utf8(s, MAX_PATH_BYTES);
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let replaced = match b {
            b'`' => "'",
            b'|' => "&#124;",
            b'\n' | b'\r' => " ",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(replaced);
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// The test's name as a person searches for it: `Class.method`, or `group › test` when either part
/// reads like a sentence (jest, rspec), without repeating a classname the name already carries.
pub(crate) fn display_name(case: &Case) -> String {
    match display_parts(case) {
        (Some((class, separator)), name) => [class, separator, name].concat(),
        (None, name) => name.to_owned(),
    }
}

/// [`display_name`] as Markdown text ([`push_inline`]), appended to `out` without building it.
fn push_display_name(out: &mut String, case: &Case) {
    let (class, name) = display_parts(case);
    if let Some((class, separator)) = class {
        push_inline(out, class);
        // Neither separator holds markup.
        out.push_str(separator);
    }
    push_inline(out, name);
}

/// The class and the separator before the name when [`display_name`] shows them, and the name.
fn display_parts(case: &Case) -> (Option<(&str, &'static str)>, &str) {
    match case.classname.as_deref() {
        Some(class) if !class.is_empty() && !case.name.contains(class) => {
            let separator = if class.contains(' ') || case.name.contains(' ') {
                " › "
            } else {
                "."
            };
            (Some((class, separator)), &case.name)
        }
        _ => (None, &case.name),
    }
}

struct Listed<'a> {
    file: &'a str,
    /// Whether to name the report file: not when there is only one (the table names it).
    show_file: bool,
    suite: &'a str,
    case: &'a Case,
}

fn cases_where<'a>(files: &'a [FileReport], pick: impl Fn(Status) -> bool) -> Vec<Listed<'a>> {
    let show_file = files.len() > 1;
    files
        .iter()
        .flat_map(|f| {
            f.runs().iter().flat_map(move |run| {
                run.suites.iter().flat_map(move |s| {
                    s.cases
                        .iter()
                        .map(move |c| (f.path.as_str(), s.name.as_str(), c))
                })
            })
        })
        .filter(|(_, _, c)| pick(c.status))
        .map(|(file, suite, case)| Listed {
            file,
            show_file,
            suite,
            case,
        })
        .collect()
}

/// Appends the test listings; false when `room` ran out before everything was written.
fn write_tests(
    out: &mut String,
    config: &Config,
    files: &[FileReport],
    level: Detail,
    room: usize,
) -> bool {
    if config.summary_tests == SummaryTests::None {
        return true;
    }
    let failing = cases_where(files, Status::is_failure);
    if least_with_traces(&failing, level) > room {
        // The entries' traces alone overflow: the level cannot fit, and rendering its entries
        // until they overflowed was most of the summary's work on a report of long traces.
        return false;
    }
    let mut complete = write_section(out, "❌ Failed tests", &failing, level, room, write_failure);
    let flaky = cases_where(files, |s| matches!(s, Status::Flaky { .. }));
    complete &= write_section(out, "🔁 Flaky tests", &flaky, level, room, write_flaky);
    if config.summary_tests == SummaryTests::All && level == Detail::Everything {
        let skipped = cases_where(files, |s| s == Status::Skipped);
        complete &= write_collapsed(out, "⏭️ Skipped tests", &skipped, room);
        let passed = cases_where(files, |s| s == Status::Passed);
        complete &= write_collapsed(out, "✅ Passed tests", &passed, room);
    }
    complete
}

type EntryWriter = fn(&mut String, &Listed<'_>, Detail);

fn write_section(
    out: &mut String,
    title: &str,
    cases: &[Listed<'_>],
    level: Detail,
    room: usize,
    entry: EntryWriter,
) -> bool {
    if cases.is_empty() {
        return true;
    }
    let _ = writeln!(out, "### {title} ({})\n", cases.len());
    for (i, listed) in cases.iter().enumerate() {
        // Written in place and taken back if it does not fit: an entry of its own was an
        // allocation and a copy per test.
        let before = out.len();
        entry(out, listed, level);
        // Keep room for the line that says how many were left out.
        if out.len() + 64 > room {
            out.truncate(before);
            let _ = writeln!(out, "… and {} more\n", cases.len() - i);
            return false;
        }
    }
    true
}

/// ` — file · suite · path:line`, the parts that apply. Written straight into `out`: a string
/// per part, joined, was most of an entry's work.
fn write_location(out: &mut String, listed: &Listed<'_>) {
    let mut first = true;
    let mut separate = |out: &mut String| {
        out.push_str(if first { " — " } else { " · " });
        first = false;
    };
    if listed.show_file {
        separate(out);
        out.push('`');
        push_code_span_text(out, listed.file);
        out.push('`');
    }
    // The suite is worth naming only when the test's own name does not already say it. Nested
    // suites (NUnit, MSTest: `Tests.dll › Integration › … › CartTests`) end with the class the
    // name already shows.
    let class = listed.case.classname.as_deref().unwrap_or_default();
    let innermost = listed.suite.rsplit(" › ").next().unwrap_or(listed.suite);
    if !listed.suite.is_empty()
        && listed.suite != class
        && !listed.case.name.contains(listed.suite)
        && !display_name(listed.case).contains(innermost)
    {
        separate(out);
        push_inline(out, listed.suite);
    }
    if let Some(loc) = listed.case.location() {
        separate(out);
        out.push('`');
        push_code_span_text(out, &loc.file);
        if let Some(line) = loc.line {
            out.push(':');
            out.push_str(itoa::Buffer::new().format(line));
        }
        out.push('`');
    }
}

/// How many bytes of trace [`write_failure`] shows per trace at `level`; `None` when it shows none.
fn trace_bytes(level: Detail) -> Option<usize> {
    match level {
        Detail::Everything | Detail::Traces => Some(TRACE_BYTES),
        Detail::ShortTraces => Some(SHORT_TRACE_BYTES),
        Detail::Messages | Detail::NamesOnly => None,
    }
}

/// A lower bound on the bytes [`write_failure`] writes for `failing` at a `level` that shows
/// traces (0 at one that does not): per entry its icon, bold markers and blank line, and per
/// trace the `<details>` block, the code fence and the trace cut to the level's length at a
/// character boundary (at most three bytes short of it).
fn least_with_traces(failing: &[Listed<'_>], level: Detail) -> usize {
    const ENTRY: usize = "❌ ****\n\n".len();
    const DETAILS: usize = "<details><summary>Trace</summary>\n\n\n</details>\n\n".len();
    const FENCE: usize = "```text\n\n```\n".len();
    let Some(limit) = trace_bytes(level) else {
        return 0;
    };
    failing
        .iter()
        .map(|listed| {
            let traces = listed
                .case
                .problems()
                .iter()
                .filter_map(|p| p.trace.as_deref());
            let shown: usize = traces
                .map(|trace| FENCE + trace.len().min(limit).saturating_sub(3))
                .sum();
            ENTRY + if shown > 0 { DETAILS + shown } else { 0 }
        })
        .sum()
}

fn write_failure(out: &mut String, listed: &Listed<'_>, level: Detail) {
    let case = listed.case;
    let icon = if case.status == Status::Errored {
        "💥"
    } else {
        "❌"
    };
    out.push_str(icon);
    out.push_str(" **");
    push_display_name(out, case);
    out.push_str("**");
    if case.status == Status::Errored {
        out.push_str(" (error)");
    }
    write_location(out, listed);
    out.push_str("\n\n");
    if level == Detail::NamesOnly {
        return;
    }
    if let Some(message) = case.headline() {
        // A hard break (two trailing spaces) between two lines of text: the message keeps its
        // lines instead of flowing into one paragraph. Not a trailing `\`: an autolinked URL at
        // the end of a line would swallow it.
        let lines: Vec<&str> = truncate_utf8(message, MESSAGE_BYTES)
            .lines()
            .take(20)
            .collect();
        for (i, line) in lines.iter().enumerate() {
            let next_is_text = lines.get(i + 1).is_some_and(|l| !l.trim().is_empty());
            let end = if next_is_text && !line.trim().is_empty() {
                "  "
            } else {
                ""
            };
            out.push_str("> ");
            push_inline(out, line);
            out.push_str(end);
            out.push('\n');
        }
        out.push('\n');
    }
    let Some(trace_bytes) = trace_bytes(level) else {
        return;
    };
    let traces: Vec<&str> = case
        .problems()
        .iter()
        .filter_map(|p| p.trace.as_deref())
        .collect();
    if traces.is_empty() {
        return;
    }
    out.push_str("<details><summary>Trace</summary>\n\n");
    for trace in traces {
        let shown = truncate_utf8(trace, trace_bytes);
        let mut text = shown.to_owned();
        if shown.len() < trace.len() {
            let _ = write!(text, "\n… [{} more bytes]", trace.len() - shown.len());
        }
        code_block(out, &text);
    }
    out.push_str("\n</details>\n\n");
}

fn write_flaky(out: &mut String, listed: &Listed<'_>, level: Detail) {
    let case = listed.case;
    let attempts = match case.status {
        Status::Flaky { attempts } => attempts,
        _ => 1,
    };
    out.push_str("🔁 **");
    push_display_name(out, case);
    let _ = write!(out, "** passed on attempt {attempts}");
    write_location(out, listed);
    out.push_str("\n\n");
    if level >= Detail::Messages {
        let first = case
            .retries()
            .first()
            .and_then(|p| p.message.as_deref().or(p.kind.as_deref()));
        if let Some(message) = first {
            if let Some(line) = message.lines().next() {
                let _ = writeln!(out, "> {}\n", inline(truncate_utf8(line, MESSAGE_BYTES)));
            }
        }
    }
}

fn write_collapsed(out: &mut String, title: &str, cases: &[Listed<'_>], room: usize) -> bool {
    if cases.is_empty() {
        return true;
    }
    let _ = writeln!(
        out,
        "<details><summary>{title} ({})</summary>\n",
        cases.len()
    );
    let mut complete = true;
    for (i, listed) in cases.iter().enumerate() {
        let case = listed.case;
        let mut line = format!("- {}", inline(&display_name(case)));
        if let Some(d) = case.duration {
            let _ = write!(line, " ({})", format_duration(d));
        }
        if case.status == Status::Skipped {
            if let Some(reason) = case.headline() {
                let _ = write!(
                    line,
                    ": {}",
                    inline(truncate_utf8(reason.lines().next().unwrap_or(""), 200))
                );
            }
        }
        line.push('\n');
        if out.len() + line.len() + 64 > room {
            let _ = writeln!(out, "- … and {} more", cases.len() - i);
            complete = false;
            break;
        }
        out.push_str(&line);
    }
    out.push_str("\n</details>\n\n");
    complete
}

/// One line per service the results went to, linking what it made of them.
fn write_receipts(out: &mut String, receipts: &Receipts) {
    if let Some(r) = &receipts.testnod {
        let run = match (&r.test_run_url, r.test_run_id) {
            (Some(url), Some(id)) => format!("[run {id}]({url})"),
            (Some(url), None) => format!("[run]({url})"),
            (None, _) => format!("build `{}`", code_span_text(&r.build_id)),
        };
        let mut parts = vec![
            format!("📤 **TestNod**: {run}"),
            format!("{} files uploaded", r.uploaded.len()),
        ];
        if let Some(status) = &r.status {
            parts.push(inline(status));
        }
        if !r.errors.is_empty() {
            parts.push(format!("⚠️ {} errors", r.errors.len()));
        }
        let _ = writeln!(out, "{}\n", parts.join(" · "));
    }
    if let Some(r) = &receipts.aio {
        write_aio_receipt(out, r);
    }
    if let Some(r) = &receipts.testomatio {
        write_testomat_receipt(out, r);
    }
    if let Some(r) = &receipts.valueedge {
        write_valueedge(out, r);
    }
}

/// Rows of AIO's per-case errors in the summary; the rest are counted.
pub const MAX_AIO_ERROR_ROWS: usize = 50;

/// One line for the AIO Tests import, then a table of the cases it did not import.
fn write_aio_receipt(out: &mut String, r: &crate::upload::aio::Receipt) {
    let mut parts = vec![match &r.cycle_key {
        Some(key) if r.cycle_created => {
            format!(
                "📤 **AIO Tests**: cycle `{}` (created)",
                code_span_text(key)
            )
        }
        Some(key) => format!("📤 **AIO Tests**: cycle `{}`", code_span_text(key)),
        None => format!("📤 **AIO Tests**: project `{}`", code_span_text(&r.project)),
    }];
    if r.batch_ids.is_empty() {
        parts.push(format!(
            "{} cases imported from {} files",
            r.imported,
            r.imported_files.len()
        ));
    } else {
        parts.push(format!(
            "{} files queued as batches {}",
            r.batch_ids.len(),
            inline(&r.batch_ids.join(", "))
        ));
    }
    if r.errored > 0 {
        parts.push(format!("⚠️ {} cases not imported", r.errored));
    }
    if !r.errors.is_empty() {
        parts.push(format!("⚠️ {} errors", r.errors.len()));
    }
    let _ = writeln!(out, "{}\n", parts.join(" · "));
    if r.case_errors.is_empty() {
        return;
    }
    out.push_str("| Case | File | AIO says | What to do |\n|---|---|---|---|\n");
    for e in r.case_errors.iter().take(MAX_AIO_ERROR_ROWS) {
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} | {} |",
            code_span_text(&e.case),
            code_span_text(&e.file),
            inline(truncate_utf8(&e.message, MESSAGE_BYTES)),
            e.hint.map(inline).unwrap_or_default()
        );
    }
    let shown = r.case_errors.len().min(MAX_AIO_ERROR_ROWS) as u64;
    let more = r.errored.max(r.case_errors.len() as u64) - shown;
    if more > 0 {
        let _ = writeln!(out, "\n…and {more} more cases not imported.");
    }
    out.push('\n');
}

/// One line for the Testomat.io run.
fn write_testomat_receipt(out: &mut String, r: &crate::upload::testomat::Receipt) {
    let run = match (&r.run_url, &r.run_uid) {
        (Some(url), Some(uid)) => format!("[run {}]({url})", code_span_text(uid)),
        (Some(url), None) => format!("[run]({url})"),
        (None, Some(uid)) => format!("run `{}`", code_span_text(uid)),
        (None, None) => "no run".to_owned(),
    };
    let mut parts = vec![
        format!("📤 **Testomat.io**: {run}"),
        format!(
            "{} of {} tests sent in {} batches",
            r.tests_sent, r.tests_total, r.batches_sent
        ),
    ];
    parts.push(match r.finished {
        Some("finish_parallel") => "shard finished".to_owned(),
        Some(_) => "finished".to_owned(),
        None => "left open".to_owned(),
    });
    if let Some(first) = r.errors.first() {
        // A partial upload says why: the first error, whole.
        parts.push(format!(
            "⚠️ {} errors, first: {}",
            r.errors.len(),
            inline(&first.to_string())
        ));
    }
    let _ = writeln!(out, "{}\n", parts.join(" · "));
}

/// ValueEdge: the task(s), their status, what was already received, and why a task did not
/// end in success.
fn write_valueedge(out: &mut String, r: &crate::upload::valueedge::Receipt) {
    if r.tasks.is_empty() && r.errors.is_empty() {
        let _ = writeln!(out, "📤 **ValueEdge**: no test results to send\n");
        return;
    }
    let ids = r.task_ids().unwrap_or_else(|| "none".to_owned());
    let mut parts = vec![
        format!("📤 **ValueEdge**: task {}", inline(&ids)),
        format!("{} runs", r.runs()),
    ];
    if let Some(status) = r.status() {
        parts.push(inline(status));
    }
    let received = r.tasks.iter().filter(|t| t.already_received).count();
    if received > 0 {
        parts.push(format!("{received} payloads already received"));
    }
    if !r.errors.is_empty() {
        parts.push(format!("⚠️ {} errors", r.errors.len()));
    }
    let _ = writeln!(out, "{}\n", parts.join(" · "));
    for t in r.tasks.iter().filter(|t| t.status != "success") {
        if let Some(details) = &t.error_details {
            let details = crate::model::truncate_utf8(details, MESSAGE_BYTES);
            let _ = writeln!(
                out,
                "- task {} {}: {}",
                t.id,
                inline(&t.status),
                inline(details)
            );
        }
    }
    for e in r.errors.iter().filter(|e| e.step != "task") {
        let message = crate::model::truncate_utf8(&e.message, MESSAGE_BYTES);
        let _ = writeln!(out, "- {}: {}", e.step, inline(message));
    }
    if r.tasks.iter().any(|t| t.status != "success") || !r.errors.is_empty() {
        out.push('\n');
    }
}

fn write_footer(out: &mut String, env: &EnvMap) {
    let get = |k: &str| env.get(k).filter(|v| !v.is_empty());
    let mut parts = Vec::new();
    if let Some(sha) = get(ENV_SHA) {
        parts.push(format!(
            "commit `{}`",
            code_span_text(truncate_utf8(sha, 7))
        ));
    }
    if let (Some(server), Some(repo), Some(run)) =
        (get(ENV_SERVER_URL), get(ENV_REPOSITORY), get(ENV_RUN_ID))
    {
        parts.push(format!(
            "[workflow run]({server}/{repo}/actions/runs/{run})"
        ));
    }
    if !parts.is_empty() {
        let _ = writeln!(out, "<sub>{}</sub>", parts.join(" · "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Case, Problem};

    proptest::proptest! {
        /// One pass agrees with the three replacements it took over.
        #[test]
        fn code_span_text_replaces_as_the_replacements_did(s in "(?s).{0,40}|[`|\r\na-zé ]{0,40}") {
            let replaced = truncate_utf8(&s, MAX_PATH_BYTES)
                .replace('`', "'")
                .replace('|', "&#124;")
                .replace(['\n', '\r'], " ");
            proptest::prop_assert_eq!(code_span_text(&s), replaced);
        }
    }

    /// The bound that lets a level be skipped unrendered never exceeds what rendering writes:
    /// traces of every length around the cuts, multi-byte characters at the cut, several traces
    /// and none, failed and errored.
    #[test]
    fn the_bound_for_skipping_a_level_is_never_above_the_rendering() {
        let mut cases = Vec::new();
        for (i, len) in [
            0, 1, 100, 1021, 1022, 1023, 1024, 1025, 5000, 16383, 16384, 20000,
        ]
        .into_iter()
        .enumerate()
        {
            for traces in 0..3 {
                let status = if i % 2 == 0 {
                    Status::Failed
                } else {
                    Status::Errored
                };
                let mut case = Case::new(format!("t{i}"), status);
                // "é" is two bytes: some cuts fall inside one.
                let trace: String = "aé".repeat(len / 3 + 1).chars().take(len).collect();
                case.set_problems(
                    (0..traces)
                        .map(|_| Problem {
                            message: Some("boom".into()),
                            kind: None,
                            trace: Some(trace.clone()),
                        })
                        .collect(),
                );
                cases.push(case);
            }
        }
        for level in [
            Detail::Everything,
            Detail::Traces,
            Detail::ShortTraces,
            Detail::Messages,
        ] {
            for case in &cases {
                let listed = Listed {
                    file: "r.xml",
                    show_file: false,
                    suite: "",
                    case,
                };
                let mut out = String::new();
                write_failure(&mut out, &listed, level);
                let bound = least_with_traces(std::slice::from_ref(&listed), level);
                assert!(
                    bound <= out.len(),
                    "{level:?} {}: {bound} > {}",
                    case.name,
                    out.len()
                );
            }
        }
    }
}
