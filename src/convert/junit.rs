//! Normalized JUnit XML: one `<testsuites>` for all files, Surefire's `flakyFailure` and
//! `rerunFailure` for earlier attempts, text stripped of characters XML 1.0 cannot carry.

use std::fmt::Write;
use std::time::Duration;

use crate::model::{Case, Problem, Status, Suite, Totals};
use crate::pipeline::{FileReport, Report};

/// Escapes text for XML content and attribute values, dropping characters XML 1.0 forbids.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Content text keeps its newlines readable.
pub(crate) fn esc_text(s: &str) -> String {
    esc(s).replace("&#10;", "\n").replace("&#9;", "\t")
}

fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

fn suite_totals(suite: &Suite) -> Totals {
    let mut t = Totals::default();
    for c in &suite.cases {
        t.add(c.status);
    }
    t
}

fn write_problem(out: &mut String, tag: &str, p: &Problem) {
    let _ = write!(out, "      <{tag}");
    if let Some(m) = &p.message {
        let _ = write!(out, " message=\"{}\"", esc(m));
    }
    if let Some(k) = &p.kind {
        let _ = write!(out, " type=\"{}\"", esc(k));
    }
    match &p.trace {
        Some(trace) => {
            let _ = writeln!(out, ">{}</{tag}>", esc_text(trace));
        }
        None => out.push_str("/>\n"),
    }
}

fn write_case(out: &mut String, case: &Case) {
    let _ = write!(out, "    <testcase name=\"{}\"", esc(&case.name));
    if let Some(c) = &case.classname {
        let _ = write!(out, " classname=\"{}\"", esc(c));
    }
    if let Some(d) = case.duration {
        let _ = write!(out, " time=\"{}\"", secs(d));
    }
    if let Some(loc) = case.location() {
        let _ = write!(out, " file=\"{}\"", esc(&loc.file));
        if let Some(line) = loc.line {
            let _ = write!(out, " line=\"{line}\"");
        }
    }
    out.push_str(">\n");
    if !case.properties().is_empty() {
        out.push_str("      <properties>\n");
        for (k, v) in case.properties() {
            let _ = writeln!(
                out,
                "        <property name=\"{}\" value=\"{}\"/>",
                esc(k),
                esc(v)
            );
        }
        out.push_str("      </properties>\n");
    }
    let main_tag = match case.status {
        Status::Failed => "failure",
        Status::Errored => "error",
        Status::Skipped => "skipped",
        Status::Passed | Status::Flaky { .. } => "",
    };
    // A status without a recorded reason still needs its element, or the test reads back as passed.
    if !main_tag.is_empty() && case.problems().is_empty() {
        let _ = writeln!(out, "      <{main_tag}/>");
    }
    for p in case.problems() {
        write_problem(out, main_tag, p);
    }
    let retry_tag = if matches!(case.status, Status::Flaky { .. }) {
        "flakyFailure"
    } else {
        "rerunFailure"
    };
    for p in case.retries() {
        write_problem(out, retry_tag, p);
    }
    for (tag, text) in [("system-out", case.stdout()), ("system-err", case.stderr())] {
        if let Some(text) = text {
            let _ = writeln!(out, "      <{tag}>{}</{tag}>", esc_text(text));
        }
    }
    out.push_str("    </testcase>\n");
}

pub fn write(files: &[FileReport]) -> String {
    let report = Report::new(files);
    let t = report.totals;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
        t.tests,
        t.failed,
        t.errored,
        t.skipped,
        secs(Duration::from_millis(t.duration_ms))
    );
    for suite in files
        .iter()
        .flat_map(|f| f.runs())
        .flat_map(|r| r.suites.iter())
    {
        let st = suite_totals(suite);
        let _ = write!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"",
            esc(&suite.name),
            st.tests,
            st.failed,
            st.errored,
            st.skipped
        );
        if let Some(d) = suite.duration {
            let _ = write!(out, " time=\"{}\"", secs(d));
        }
        if let Some(ts) = &suite.timestamp {
            let _ = write!(out, " timestamp=\"{}\"", esc(ts));
        }
        out.push_str(">\n");
        if !suite.properties.is_empty() {
            out.push_str("    <properties>\n");
            for (k, v) in &suite.properties {
                let _ = writeln!(
                    out,
                    "      <property name=\"{}\" value=\"{}\"/>",
                    esc(k),
                    esc(v)
                );
            }
            out.push_str("    </properties>\n");
        }
        for case in &suite.cases {
            write_case(&mut out, case);
        }
        for (tag, text) in [("system-out", &suite.stdout), ("system-err", &suite.stderr)] {
            if let Some(text) = text {
                let _ = writeln!(out, "    <{tag}>{}</{tag}>", esc_text(text));
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
