//! The parsed model as ValueEdge's `test_result` XML (vendors.md §3.6, the public XSD
//! `octaneResultSchema.xsd`), split into payloads of bounded size.
//!
//! Rules:
//! - Global links only, in the XSD's order: `release_ref`|`release`, `backlog_items`,
//!   `product_areas`, `test_fields`, `environment`, then `test_runs`. No `<build>`: it must name a
//!   CI server registered in ValueEdge (§3.6 [INF]).
//! - Cucumber and behave reports become `gherkin_test_run`s (one per feature, its scenarios
//!   inside); every other format becomes `test_run`s. The XSD forbids mixing both in one
//!   `test_runs`, so they go in separate payloads.
//! - `test_run`: `classname` `a.b.C` → `package="a.b" class="C"` (a classname that is a path, or
//!   has no dot, is the class); the suite name when there is no classname; the report's run name
//!   as `module`. Status: passed and flaky → `Passed`, failed and errored → `Failed` (there is no
//!   error status, §3.7), skipped → `Skipped`. `duration` in ms; `started` in epoch ms, the
//!   run's start plus the durations of the tests before it in its file (reports rarely say when
//!   each test started). The first problem is `<error type message>trace</error>`; a skip reason
//!   or a flaky test's attempts go to `<description>`.
//! - The same test (module, package, class, name) more than once in one upload (parameterised
//!   cases, the same suite in two files) gets `external_run_id` 1, 2, …: without it ValueEdge
//!   folds them into one run (§3.6 [DOC]).
//! - Strings are cut to the XSD's lengths in characters (255; 1..255 where required), an empty
//!   required name becomes `(unnamed)`; `external_report_url` is sent only when it matches the
//!   XSD's pattern and length.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::convert::junit::{esc, esc_text};
use crate::model::{millis, Case, Status, Suite};
use crate::parse::Format;
use crate::pipeline::FileReport;

/// [INF] No maximum payload size is published (§3.5); the CI SDK allows a push 120 s. A payload
/// of at most 4 MiB of XML (before gzip) keeps each push well inside that on slow links.
pub const MAX_PAYLOAD_BYTES: usize = 4 * 1024 * 1024;
/// [SRC XSD] `string255` / `string0_255`.
pub const MAX_ATTRIBUTE_CHARS: usize = 255;
/// [SRC XSD] `urlType`: 6..512 characters.
const REPORT_URL_CHARS: std::ops::RangeInclusive<usize> = 6..=512;
/// Stands in for an empty required name (`string255` needs one character).
const UNNAMED: &str = "(unnamed)";

/// `test_fields/test_field@type` (§3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    TestLevel,
    TestType,
    TestingTool,
    Framework,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::TestLevel => "Test_Level",
            FieldType::TestType => "Test_Type",
            FieldType::TestingTool => "Testing_Tool_Type",
            FieldType::Framework => "Framework",
        }
    }
}

/// The run's release: by id (`release_ref`) or by name (`release`, `_default_` is the default
/// release).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Release {
    Id(i64),
    Name(String),
}

/// Links that apply to every run of the upload (global context, §3.6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    pub release: Option<Release>,
    pub backlog_items: Vec<i64>,
    pub product_areas: Vec<i64>,
    pub test_fields: Vec<(FieldType, String)>,
    /// Taxonomy `type` → `value`, e.g. `OS` → `Linux`.
    pub environment: Vec<(String, String)>,
}

/// What every run of the upload shares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunContext {
    pub links: Links,
    /// The CI run's URL, as each run's `external_report_url`.
    pub external_report_url: Option<String>,
    /// Epoch ms when the tests started.
    pub started_ms: u64,
}

/// One document to POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub xml: String,
    /// `test_run` or `gherkin_test_run` elements in it.
    pub runs: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Gherkin,
}

/// The XSD's `string0_255` / `string255`: at most 255 characters.
fn cut(s: &str) -> String {
    s.chars().take(MAX_ATTRIBUTE_CHARS).collect()
}

fn required(s: &str) -> String {
    let s = cut(s.trim());
    if s.is_empty() {
        UNNAMED.to_owned()
    } else {
        s
    }
}

fn status(status: Status) -> &'static str {
    match status {
        Status::Passed | Status::Flaky { .. } => "Passed",
        Status::Failed | Status::Errored => "Failed",
        Status::Skipped => "Skipped",
    }
}

/// `([hH][tT]{2}[pP][sS]?://*.*)|([tT][dD][sS]?://*.*)|(testdirector[s]?:*.*)`, 6..512 chars.
pub fn is_report_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let scheme_ok = ["http:/", "https:/", "td:/", "tds:/"]
        .iter()
        .any(|p| lower.starts_with(p))
        || url.starts_with("testdirector");
    scheme_ok && REPORT_URL_CHARS.contains(&url.chars().count())
}

/// `a.b.C` → (`a.b`, `C`); a path or a dotless name is all class.
fn package_and_class(classname: &str) -> (Option<&str>, &str) {
    let looks_dotted = !classname.contains(['/', '\\', ' ']);
    match classname.rsplit_once('.') {
        Some((package, class)) if looks_dotted && !package.is_empty() && !class.is_empty() => {
            (Some(package), class)
        }
        _ => (None, classname),
    }
}

fn globals(links: &Links) -> String {
    let mut out = String::new();
    match &links.release {
        Some(Release::Id(id)) => {
            let _ = writeln!(out, "  <release_ref id=\"{id}\"/>");
        }
        Some(Release::Name(name)) => {
            let _ = writeln!(out, "  <release name=\"{}\"/>", esc(&required(name)));
        }
        None => {}
    }
    let refs = |out: &mut String, list: &str, item: &str, ids: &[i64]| {
        if ids.is_empty() {
            return;
        }
        let _ = writeln!(out, "  <{list}>");
        for id in ids {
            let _ = writeln!(out, "    <{item} id=\"{id}\"/>");
        }
        let _ = writeln!(out, "  </{list}>");
    };
    refs(
        &mut out,
        "backlog_items",
        "backlog_item_ref",
        &links.backlog_items,
    );
    refs(
        &mut out,
        "product_areas",
        "product_area_ref",
        &links.product_areas,
    );
    let pairs = |out: &mut String, list: &str, item: &str, pairs: &[(String, String)]| {
        if pairs.is_empty() {
            return;
        }
        let _ = writeln!(out, "  <{list}>");
        for (t, v) in pairs {
            let _ = writeln!(
                out,
                "    <{item} type=\"{}\" value=\"{}\"/>",
                esc(&required(t)),
                esc(&required(v))
            );
        }
        let _ = writeln!(out, "  </{list}>");
    };
    let fields: Vec<(String, String)> = links
        .test_fields
        .iter()
        .map(|(t, v)| (t.as_str().to_owned(), v.clone()))
        .collect();
    pairs(&mut out, "test_fields", "test_field", &fields);
    pairs(&mut out, "environment", "taxonomy", &links.environment);
    out
}

/// Counts identities so repeated tests get an `external_run_id`.
#[derive(Default)]
struct Occurrences {
    total: BTreeMap<String, usize>,
    seen: BTreeMap<String, usize>,
}

impl Occurrences {
    /// `None` for a test seen once in the upload; else its 1-based occurrence.
    fn next(&mut self, identity: &str) -> Option<usize> {
        if self.total.get(identity).copied().unwrap_or(0) < 2 {
            return None;
        }
        let n = self.seen.entry(identity.to_owned()).or_insert(0);
        *n += 1;
        Some(*n)
    }
}

struct PlainRun<'a> {
    module: Option<&'a str>,
    suite: &'a Suite,
    case: &'a Case,
}

impl PlainRun<'_> {
    fn identity(&self) -> (Option<String>, Option<String>, String, String) {
        let classname = self
            .case
            .classname
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .unwrap_or(&self.suite.name);
        let (package, class) = package_and_class(classname);
        (
            self.module.map(cut).filter(|m| !m.is_empty()),
            package.map(cut),
            cut(class),
            required(&self.case.name),
        )
    }

    fn key(&self) -> String {
        format!("{:?}", self.identity())
    }
}

fn write_plain(
    out: &mut String,
    run: &PlainRun<'_>,
    started_ms: u64,
    external_run_id: Option<usize>,
    report_url: Option<&str>,
) {
    let (module, package, class, name) = run.identity();
    let case = run.case;
    out.push_str("    <test_run");
    if let Some(m) = module {
        let _ = write!(out, " module=\"{}\"", esc(&m));
    }
    if let Some(p) = package {
        let _ = write!(out, " package=\"{}\"", esc(&p));
    }
    if !class.is_empty() {
        let _ = write!(out, " class=\"{}\"", esc(&class));
    }
    let _ = write!(
        out,
        " name=\"{}\" duration=\"{}\" status=\"{}\" started=\"{started_ms}\"",
        esc(&name),
        case.duration.map_or(0, millis),
        status(case.status)
    );
    if let Some(url) = report_url {
        let _ = write!(out, " external_report_url=\"{}\"", esc(url));
    }
    if let Some(n) = external_run_id {
        let _ = write!(out, " external_run_id=\"{n}\"");
    }
    let error = case.problems().first().filter(|_| case.status.is_failure());
    let description = match case.status {
        Status::Skipped => case
            .problems()
            .first()
            .and_then(|p| p.message.clone().or_else(|| p.kind.clone())),
        Status::Flaky { attempts } => Some(format!("passed after {attempts} attempts")),
        _ => None,
    };
    if error.is_none() && description.is_none() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    if let Some(p) = error {
        out.push_str("      <error");
        if let Some(kind) = &p.kind {
            let _ = write!(out, " type=\"{}\"", esc(kind));
        }
        if let Some(message) = &p.message {
            let _ = write!(out, " message=\"{}\"", esc(message));
        }
        match &p.trace {
            Some(trace) => {
                let _ = writeln!(out, ">{}</error>", esc_text(trace));
            }
            None => out.push_str("/>\n"),
        }
    }
    if let Some(d) = description {
        let _ = writeln!(out, "      <description>{}</description>", esc_text(&d));
    }
    out.push_str("    </test_run>\n");
}

/// The worst scenario status decides the feature's.
fn feature_status(cases: &[Case]) -> Status {
    if cases.iter().any(|c| c.status.is_failure()) {
        Status::Failed
    } else if cases.iter().all(|c| c.status == Status::Skipped) {
        Status::Skipped
    } else {
        Status::Passed
    }
}

/// A `@TID…` tag of a test downloaded from ValueEdge identifies it (§3.6); else no tag.
fn feature_tag(suite: &Suite) -> String {
    suite
        .cases
        .iter()
        .flat_map(|c| c.properties().iter())
        .find(|(k, v)| k == "tag" && v.starts_with("@TID"))
        .map(|(_, v)| cut(v))
        .unwrap_or_default()
}

fn write_gherkin(out: &mut String, suite: &Suite, started_ms: u64, external_run_id: Option<usize>) {
    let name = required(&suite.name);
    let path = suite
        .cases
        .iter()
        .find_map(|c| c.location().map(|l| l.file.as_str()))
        .map_or_else(|| name.clone(), required);
    let duration: u64 = suite
        .cases
        .iter()
        .map(|c| c.duration.map_or(0, millis))
        .sum();
    let _ = write!(
        out,
        "    <gherkin_test_run name=\"{}\" duration=\"{duration}\" status=\"{}\"",
        esc(&name),
        status(feature_status(&suite.cases))
    );
    if let Some(n) = external_run_id {
        let _ = write!(out, " external_run_id=\"{n}\"");
    }
    let _ = writeln!(
        out,
        ">\n      <feature name=\"{}\" path=\"{}\" tag=\"{}\" started=\"{started_ms}\">",
        esc(&name),
        esc(&path),
        esc(&feature_tag(suite))
    );
    // The feature's source is not in the report.
    out.push_str("        <file/>\n        <scenarios>\n");
    for case in &suite.cases {
        let _ = writeln!(
            out,
            "          <scenario name=\"{}\" status=\"{}\">\n            <steps/>\n          </scenario>",
            esc(&case.name.chars().take(3800).collect::<String>()),
            status(case.status)
        );
    }
    out.push_str("        </scenarios>\n      </feature>\n    </gherkin_test_run>\n");
}

fn is_gherkin(format: Format) -> bool {
    matches!(format, Format::Cucumber | Format::Behave)
}

/// Every run of every readable file as `test_run`/`gherkin_test_run` fragments, in file order.
fn fragments(files: &[FileReport], context: &RunContext) -> Vec<(Kind, String)> {
    let report_url = context
        .external_report_url
        .as_deref()
        .filter(|u| is_report_url(u));
    let mut plain: Vec<(PlainRun<'_>, u64)> = Vec::new();
    let mut gherkin: Vec<(&Suite, u64)> = Vec::new();
    for file in files {
        let Ok((format, parsed)) = &file.result else {
            continue;
        };
        let mut started = context.started_ms;
        for run in &parsed.runs {
            for suite in &run.suites {
                if is_gherkin(*format) {
                    gherkin.push((suite, started));
                    started += suite
                        .cases
                        .iter()
                        .map(|c| c.duration.map_or(0, millis))
                        .sum::<u64>();
                    continue;
                }
                for case in &suite.cases {
                    let module = run.name.as_deref();
                    plain.push((
                        PlainRun {
                            module,
                            suite,
                            case,
                        },
                        started,
                    ));
                    started += case.duration.map_or(0, millis);
                }
            }
        }
    }
    let mut plain_ids = Occurrences::default();
    for (run, _) in &plain {
        *plain_ids.total.entry(run.key()).or_insert(0) += 1;
    }
    let mut gherkin_ids = Occurrences::default();
    for (suite, _) in &gherkin {
        *gherkin_ids.total.entry(required(&suite.name)).or_insert(0) += 1;
    }
    let mut out = Vec::with_capacity(plain.len() + gherkin.len());
    for (run, started) in &plain {
        let mut xml = String::new();
        write_plain(
            &mut xml,
            run,
            *started,
            plain_ids.next(&run.key()),
            report_url,
        );
        out.push((Kind::Plain, xml));
    }
    for (suite, started) in &gherkin {
        let mut xml = String::new();
        let id = gherkin_ids.next(&required(&suite.name));
        write_gherkin(&mut xml, suite, *started, id);
        out.push((Kind::Gherkin, xml));
    }
    out
}

/// The upload as documents of at most `max_bytes` (one run alone may exceed it: it cannot be
/// split). No runs, no documents: `test_runs` needs one at least.
pub fn documents(files: &[FileReport], context: &RunContext, max_bytes: usize) -> Vec<Document> {
    let head = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<test_result>\n{}  <test_runs>\n",
        globals(&context.links)
    );
    let tail = "  </test_runs>\n</test_result>\n";
    let mut docs = Vec::new();
    let mut current: Option<(Kind, String, usize)> = None;
    let close = |(_, body, runs): (Kind, String, usize)| Document {
        xml: format!("{head}{body}{tail}"),
        runs,
    };
    for (kind, fragment) in fragments(files, context) {
        let fits = |(k, body, _): &(Kind, String, usize)| {
            *k == kind && head.len() + body.len() + fragment.len() + tail.len() <= max_bytes
        };
        match current.take() {
            Some(mut open) if fits(&open) => {
                open.1.push_str(&fragment);
                open.2 += 1;
                current = Some(open);
            }
            other => {
                docs.extend(other.map(close));
                current = Some((kind, fragment, 1));
            }
        }
    }
    docs.extend(current.map(close));
    docs
}
