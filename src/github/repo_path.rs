//! Paths as tests report them → paths in the repository, the only ones an annotation can point at.
//!
//! Rules, in order:
//! 1. `\` becomes `/` (Windows runners); `.` and `..` segments are resolved as text.
//! 2. A `-PREFIX` rule (`path-prefix`) removes PREFIX where a path starts with it; the rest is
//!    relative to the repository root (tests that ran in a container with the checkout at `/app`).
//! 3. An absolute path inside `GITHUB_WORKSPACE` loses the workspace; any other absolute path is
//!    outside the repository (a toolchain, a system library) and is not used.
//! 4. A relative path is relative to where the tests ran: the `+PREFIX` of `path-prefix` when
//!    given, else the working directory.
//! 5. Paths through dependency directories (`node_modules`, `site-packages`, `vendor`, …) are not
//!    used: a failure is annotated on the project's code, not on a library's.
//! 6. With the checkout's file list, only listed files are used; a path that is not listed, and a
//!    frame naming only the end of a path (JVM, Go), becomes the one listed file that ends with it,
//!    and nothing when several do (unless the test's classname, a Go package path, ends with
//!    the directory of exactly one). Without the list, partial frames are not used.
//! 7. With the list, a dotted classname names a file too: `com.acme.CartTest` the one listed
//!    `…/com/acme/CartTest.*`, `tests.test_cart` `tests/test_cart.*`, and failing that its module
//!    (`tests.test_cart.TestTotals`); nested classes after `$` are ignored; names with spaces, `/`
//!    or `::` are not module paths.
//!
//! The list is the edge's answer to "what exists in the checkout" (`git ls-files` in the
//! workspace), passed in whole rather than as answers about candidate paths: suffix matching
//! needs the list itself, and one list keeps the core a single pure call.

use std::collections::{BTreeMap, BTreeSet};

use super::location::Frame;
use crate::config::PathPrefix;
use crate::pipeline::EnvMap;

/// Set by GitHub Actions: the absolute path of the checkout (docs: "Variables", default
/// environment variables).
pub const ENV_GITHUB_WORKSPACE: &str = "GITHUB_WORKSPACE";

/// Directory names whose files belong to dependencies, not to the project.
const DEPENDENCY_DIRS: &[&str] = &[
    "node_modules",
    "site-packages",
    "dist-packages",
    "vendor",
    ".venv",
    "venv",
    ".gradle",
    ".m2",
];

/// The checkout's files, repository-relative with `/`, indexed by file name for suffix matching.
#[derive(Debug, Default)]
pub struct Checkout<'a> {
    files: BTreeSet<&'a str>,
    by_name: BTreeMap<&'a str, Vec<&'a str>>,
    /// By file name without its extension, for classnames.
    by_stem: BTreeMap<&'a str, Vec<&'a str>>,
}

impl<'a> Checkout<'a> {
    pub fn new(files: &'a [String]) -> Checkout<'a> {
        let mut checkout = Checkout::default();
        for file in files {
            checkout.files.insert(file);
            let name = file_name(file);
            checkout.by_name.entry(name).or_default().push(file);
            if let Some((stem, _)) = name.rsplit_once('.') {
                checkout.by_stem.entry(stem).or_default().push(file);
            }
        }
        checkout
    }

    /// The one listed file whose path without its extension is `tail` or ends with `/tail`.
    fn named_by(&self, tail: &str) -> Option<&'a str> {
        let mut found = self.by_stem.get(file_name(tail))?.iter().filter(|f| {
            f.rsplit_once('.')
                .and_then(|(stem, _)| stem.strip_suffix(tail))
                .is_some_and(|head| head.is_empty() || head.ends_with('/'))
        });
        let first = found.next()?;
        found.next().is_none().then_some(*first)
    }

    /// The one listed file that is `tail` or ends with `/tail`; among several, the one in the
    /// directory that ends `package` (a Go import path), if exactly one is.
    fn ending_with(&self, tail: &str, package: Option<&str>) -> Option<&'a str> {
        let found: Vec<(&'a str, &'a str)> = self
            .by_name
            .get(file_name(tail))?
            .iter()
            .filter_map(|f| {
                let head = f.strip_suffix(tail)?;
                (head.is_empty() || head.ends_with('/')).then(|| (*f, head.trim_end_matches('/')))
            })
            .collect();
        if let [(only, _)] = found.as_slice() {
            return Some(only);
        }
        let package = package?;
        let mut near = found.iter().filter(|(_, dir)| {
            !dir.is_empty()
                && package
                    .strip_suffix(dir)
                    .is_some_and(|rest| rest.is_empty() || rest.ends_with('/'))
        });
        let (first, _) = near.next()?;
        near.next().is_none().then_some(*first)
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Everything needed to map a reported path into the repository.
#[derive(Debug)]
pub struct RepoPaths<'a> {
    /// `GITHUB_WORKSPACE`, normalized, without a trailing `/`.
    workspace: Option<String>,
    /// Where relative paths start, repository-relative (`""` is the root).
    base: String,
    strip: Option<String>,
    checkout: Option<Checkout<'a>>,
}

impl<'a> RepoPaths<'a> {
    /// `working_directory` as configured (absolute, or relative to the workspace); `files` the
    /// checkout's file list when the edge could read it.
    pub fn new(
        env: &EnvMap,
        working_directory: Option<&str>,
        prefix: Option<&PathPrefix>,
        files: Option<&'a [String]>,
    ) -> RepoPaths<'a> {
        let workspace = env
            .get(ENV_GITHUB_WORKSPACE)
            .map(|w| normalize(w).trim_end_matches('/').to_owned())
            .filter(|w| !w.is_empty());
        let mut paths = RepoPaths {
            workspace,
            base: String::new(),
            strip: None,
            checkout: files.map(Checkout::new),
        };
        let working = working_directory
            .and_then(|dir| paths.inside_repository(&normalize(dir), ""))
            .unwrap_or_default();
        match prefix {
            Some(PathPrefix::Strip(p)) => {
                paths.strip = Some(normalize(p));
                paths.base = working;
            }
            Some(PathPrefix::Add(p)) => paths.base = lexical(&normalize(p)).unwrap_or_default(),
            None => paths.base = working,
        }
        paths
    }

    /// A report file's own path (relative to the working directory, or absolute) in the
    /// repository; it is not checked against the checkout, where reports are rarely tracked.
    pub fn report_file(&self, path: &str) -> Option<String> {
        self.inside_repository(&normalize(path), &self.base)
    }

    /// Whether a frame naming only the end of a path can resolve: with the checkout's file list.
    pub fn completes_partial_frames(&self) -> bool {
        self.checkout.is_some()
    }

    /// A file named by the report (`file` attribute) or a trace, when it is project code that exists.
    pub fn resolve(&self, frame: &Frame) -> Option<String> {
        self.resolve_near(frame, None)
    }

    /// As [`RepoPaths::resolve`]; when several listed files end with a partial frame's path, the
    /// one in the directory the test's classname ends with as a package path (Go's `t.Error`
    /// names `util_test.go`, the classname `github.com/acme/shop/cart` says which).
    pub fn resolve_near(&self, frame: &Frame, classname: Option<&str>) -> Option<String> {
        let path = normalize(&frame.path);
        let found = if frame.partial {
            self.checkout
                .as_ref()
                .and_then(|c| c.ending_with(path.trim_start_matches("./"), classname))
                .map(str::to_owned)
        } else {
            let mapped = self.inside_repository(&path, &self.base)?;
            match &self.checkout {
                None => Some(mapped),
                Some(c) if c.files.contains(mapped.as_str()) => Some(mapped),
                // Relative to somewhere else than we think (a cargo workspace member, pytest's
                // rootdir): the one file that ends with the reported path.
                Some(c) if !is_absolute(&path) => c.ending_with(&mapped, None).map(str::to_owned),
                Some(_) => None,
            }
        }?;
        let in_dependency = found.split('/').any(|dir| DEPENDENCY_DIRS.contains(&dir));
        (!in_dependency).then_some(found)
    }

    /// The file a dotted classname names (rule 7), when the checkout's file list is known.
    pub fn of_classname(&self, classname: &str) -> Option<String> {
        let class = classname.split('$').next().unwrap_or(classname).trim();
        if class.is_empty() || class.contains([' ', '/', '\\']) || class.contains("::") {
            return None;
        }
        let checkout = self.checkout.as_ref()?;
        let tail = class.replace('.', "/");
        // A class inside a module (pytest's `tests.test_cart.TestTotals`) names the module's file.
        let module = tail.rsplit_once('/').map(|(module, _)| module);
        let found = checkout
            .named_by(&tail)
            .or_else(|| checkout.named_by(module?))?;
        let in_dependency = found.split('/').any(|dir| DEPENDENCY_DIRS.contains(&dir));
        (!in_dependency).then(|| found.to_owned())
    }

    /// Rules 2–4 of the module documentation.
    fn inside_repository(&self, path: &str, base: &str) -> Option<String> {
        if let Some(rest) = self.strip.as_deref().and_then(|s| path.strip_prefix(s)) {
            return lexical(rest.trim_start_matches('/'));
        }
        if is_absolute(path) {
            let workspace = self.workspace.as_deref()?;
            let rest = path.strip_prefix(workspace)?.strip_prefix('/')?;
            return lexical(rest);
        }
        if base.is_empty() {
            lexical(path)
        } else {
            lexical(&format!("{base}/{path}"))
        }
    }
}

fn normalize(path: &str) -> String {
    path.trim().replace('\\', "/")
}

fn is_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    b.first() == Some(&b'/')
        || (b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/')
}

/// `a/./b/../c` → `a/c`; `None` when `..` leaves the root or nothing is left.
fn lexical(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORKSPACE: &str = "/home/runner/work/shop/shop";

    fn env() -> EnvMap {
        EnvMap::from([(ENV_GITHUB_WORKSPACE.to_owned(), format!("{WORKSPACE}/"))])
    }

    fn frame(path: &str) -> Frame {
        Frame {
            path: path.to_owned(),
            line: Some(1),
            partial: false,
        }
    }

    fn partial(path: &str) -> Frame {
        Frame {
            partial: true,
            ..frame(path)
        }
    }

    #[test]
    fn absolute_paths_lose_the_workspace_and_others_are_outside() {
        let paths = RepoPaths::new(&env(), None, None, None);
        let resolve = |p: &str| paths.resolve(&frame(p));
        assert_eq!(
            resolve("/home/runner/work/shop/shop/tests/test_cart.py").as_deref(),
            Some("tests/test_cart.py")
        );
        assert_eq!(resolve("/usr/lib/python3.12/unittest/case.py"), None);
        assert_eq!(resolve("/home/runner/work/shop/shop-other/a.py"), None);
        assert_eq!(
            resolve("./spec/../spec/cart_spec.rb").as_deref(),
            Some("spec/cart_spec.rb")
        );
        assert_eq!(resolve("../outside.rb"), None);
        assert_eq!(resolve("node_modules/jest/build/index.js"), None);
        assert_eq!(
            resolve(".venv/lib/python3.12/site-packages/_pytest/python.py"),
            None
        );
        // Without the checkout's file list a partial frame cannot be completed.
        assert_eq!(paths.resolve(&partial("com/acme/CartTest.java")), None);
    }

    #[test]
    fn windows_runner_paths() {
        let env = EnvMap::from([(
            ENV_GITHUB_WORKSPACE.to_owned(),
            "D:\\a\\shop\\shop".to_owned(),
        )]);
        let paths = RepoPaths::new(&env, None, None, None);
        assert_eq!(
            paths
                .resolve(&frame("D:\\a\\shop\\shop\\Shop.Tests\\CartTests.cs"))
                .as_deref(),
            Some("Shop.Tests/CartTests.cs")
        );
        assert_eq!(paths.resolve(&frame("C:\\Users\\dev\\shop\\Cart.cs")), None);
    }

    #[test]
    fn relative_paths_start_at_the_working_directory_or_the_added_prefix() {
        let absolute = format!("{WORKSPACE}/services/api");
        for working in ["services/api", "./services/api/", absolute.as_str()] {
            let paths = RepoPaths::new(&env(), Some(working), None, None);
            assert_eq!(
                paths.resolve(&frame("tests/test_api.py")).as_deref(),
                Some("services/api/tests/test_api.py"),
                "working directory {working}"
            );
            assert_eq!(
                paths.report_file("reports/junit.xml").as_deref(),
                Some("services/api/reports/junit.xml")
            );
        }
        let add = PathPrefix::Add("backend/".into());
        let paths = RepoPaths::new(&env(), Some("services/api"), Some(&add), None);
        assert_eq!(
            paths.resolve(&frame("tests/test_api.py")).as_deref(),
            Some("backend/tests/test_api.py")
        );
    }

    #[test]
    fn a_strip_rule_maps_container_paths() {
        let strip = PathPrefix::Strip("/app/".into());
        let paths = RepoPaths::new(&env(), None, Some(&strip), None);
        assert_eq!(
            paths.resolve(&frame("/app/src/cart.py")).as_deref(),
            Some("src/cart.py")
        );
        assert_eq!(paths.resolve(&frame("/usr/lib/x.py")), None);
    }

    #[test]
    fn the_checkout_list_decides_and_completes_paths() {
        let files: Vec<String> = [
            "shop/src/test/java/com/acme/CartTest.java",
            "crates/cart/tests/basic.rs",
            "a/util_test.go",
            "b/util_test.go",
            "tests/test_cart.py",
        ]
        .map(String::from)
        .to_vec();
        let paths = RepoPaths::new(&env(), None, None, Some(&files));
        let resolve = |f: Frame| paths.resolve(&f);
        assert_eq!(
            resolve(partial("com/acme/CartTest.java")).as_deref(),
            Some("shop/src/test/java/com/acme/CartTest.java")
        );
        assert_eq!(
            resolve(partial("acme/CartTest.java")).as_deref(),
            Some("shop/src/test/java/com/acme/CartTest.java")
        );
        assert_eq!(
            resolve(partial("cme/CartTest.java")),
            None,
            "whole directory names only"
        );
        assert_eq!(resolve(partial("util_test.go")), None, "ambiguous");
        let near = |package: &str| paths.resolve_near(&partial("util_test.go"), Some(package));
        assert_eq!(
            near("github.com/acme/shop/b").as_deref(),
            Some("b/util_test.go")
        );
        assert_eq!(
            near("github.com/acme/shop/ab"),
            None,
            "whole directory names only"
        );
        assert_eq!(near("github.com/acme/shop"), None);
        assert_eq!(
            resolve(frame("tests/basic.rs")).as_deref(),
            Some("crates/cart/tests/basic.rs")
        );
        assert_eq!(
            resolve(frame("/home/runner/work/shop/shop/tests/test_cart.py")).as_deref(),
            Some("tests/test_cart.py")
        );
        assert_eq!(
            resolve(frame("/home/runner/work/shop/shop/tests/gone.py")),
            None
        );
        assert_eq!(resolve(frame("tests/missing.py")), None);
    }

    #[test]
    fn with_the_checkout_list_a_classname_names_its_file() {
        let files: Vec<String> = [
            "shop/src/test/java/com/acme/CartTest.java",
            "tests/test_cart.py",
            "tests/test_cart_extra.py",
            "a/Util.java",
            "b/Util.kt",
            "node_modules/lib/index.js",
        ]
        .map(String::from)
        .to_vec();
        let paths = RepoPaths::new(&env(), None, None, Some(&files));
        let file = |classname: &str| paths.of_classname(classname);
        assert_eq!(
            file("com.acme.CartTest$Nested").as_deref(),
            Some("shop/src/test/java/com/acme/CartTest.java")
        );
        assert_eq!(
            file("tests.test_cart").as_deref(),
            Some("tests/test_cart.py")
        );
        assert_eq!(file("Util"), None, "two files: ambiguous");
        assert_eq!(file("cart"), None);
        assert_eq!(file("lib.index"), None);
        assert_eq!(file("node_modules.lib.index"), None, "a dependency");
        assert_eq!(file("Test 1 › Test 1.1"), None);
        assert_eq!(file("github.com/acme/cart"), None);
        let without_list = RepoPaths::new(&env(), None, None, None);
        assert_eq!(without_list.of_classname("tests.test_cart"), None);
    }
}
