//! `test-report.toml`: defaults for any option of any subcommand, below flags and environment
//! variables (flag > env > file > built-in default).
//!
//! Keys are the long option names (`fail-on = "failures"`) or the action's input names where
//! they differ (`token`, `name`, `path`), so one file documents both. Values are strings,
//! numbers, booleans or arrays (repeated values). The file is applied by turning its values into
//! clap defaults, which clap already ranks below flags and `env`. A key that no subcommand knows
//! is an error naming the file and key: a typo must not be silently ignored.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Command;

/// Looked up in the current directory when no `--config` is given.
pub const FILE_NAME: &str = "test-report.toml";
/// A config file path for every invocation, below `--config`.
pub const ENV_CONFIG: &str = "TEST_REPORT_CONFIG";
/// The flag naming a config file, declared on the CLI so `--help` shows it.
pub const FLAG: &str = "config";

/// Action input names that differ from the CLI's long option names.
const INPUT_ALIASES: &[(&str, &str)] = &[
    ("token", "github-token"),
    ("name", "check-name"),
    ("path", "paths"),
];

/// The config file this invocation uses: `--config PATH`, else `$TEST_REPORT_CONFIG`, else
/// `./test-report.toml` when it exists. A named file that does not exist is an error later.
pub fn locate(args: &[OsString], env_value: Option<OsString>) -> Option<PathBuf> {
    let flag = format!("--{FLAG}");
    let prefixed = format!("--{FLAG}=");
    let mut iter = args.iter().skip(1);
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        if text == "--" {
            break;
        }
        if text == flag {
            return iter.next().map(PathBuf::from);
        }
        if let Some(path) = text.strip_prefix(&prefixed) {
            return Some(PathBuf::from(path));
        }
    }
    if let Some(path) = env_value.filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let default = PathBuf::from(FILE_NAME);
    default.is_file().then_some(default)
}

/// Reads `path` and applies its values to every subcommand of `cmd` that has the option.
pub fn apply_file(cmd: Command, path: &Path) -> Result<Command, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the config file: {e}", path.display()))?;
    apply(cmd, &text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Applies the TOML `text` to `cmd`.
pub fn apply(mut cmd: Command, text: &str) -> Result<Command, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let message = e.message().to_owned();
        match e.span() {
            Some(span) => {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}: {message}")
            }
            None => message,
        }
    })?;
    for (key, value) in table {
        let values = strings(&key, &value)?;
        let long = INPUT_ALIASES
            .iter()
            .find(|(input, _)| *input == key)
            .map_or(key.as_str(), |(_, option)| option);
        let mut known = false;
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect();
        for name in names {
            cmd = cmd.mut_subcommand(name, |sub| {
                let id = sub
                    .get_arguments()
                    .find(|a| {
                        a.get_long() == Some(long) || (a.is_positional() && a.get_id() == long)
                    })
                    .map(|a| a.get_id().clone());
                match id {
                    Some(id) => {
                        known = true;
                        sub.mut_arg(id, |a| {
                            a.required(false).default_values(
                                values.iter().map(|v| clap::builder::OsStr::from(v.clone())),
                            )
                        })
                    }
                    None => sub,
                }
            });
        }
        if !known {
            return Err(format!(
                "unknown key '{key}': use an option's long name without the dashes (see test-report help)"
            ));
        }
    }
    Ok(cmd)
}

fn strings(key: &str, value: &toml::Value) -> Result<Vec<String>, String> {
    Ok(match value {
        toml::Value::String(s) => vec![s.clone()],
        toml::Value::Integer(i) => vec![i.to_string()],
        toml::Value::Float(f) => vec![f.to_string()],
        toml::Value::Boolean(b) => vec![b.to_string()],
        toml::Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                match item {
                    toml::Value::Array(_) | toml::Value::Table(_) => {
                        return Err(format!("key '{key}': arrays hold plain values only"))
                    }
                    other => out.extend(strings(key, other)?),
                }
            }
            out
        }
        toml::Value::Datetime(d) => vec![d.to_string()],
        toml::Value::Table(_) => {
            return Err(format!(
                "key '{key}' is a table: use flat keys, as the action's inputs are"
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, ArgAction};

    fn cli() -> Command {
        Command::new("t")
            .subcommand(
                Command::new("report")
                    .arg(Arg::new("paths").required(true).num_args(1..))
                    .arg(Arg::new("fail_on").long("fail-on").default_value("errors"))
                    .arg(
                        Arg::new("github_token")
                            .long("github-token")
                            .env("TEST_REPORT_UNIT_TOKEN"),
                    )
                    .arg(
                        Arg::new("dry_run")
                            .long("dry-run")
                            .action(ArgAction::SetTrue),
                    ),
            )
            .subcommand(Command::new("convert").arg(Arg::new("to").long("to")))
    }

    fn get(cmd: Command, args: &[&str], id: &str) -> Option<String> {
        let m = cmd.try_get_matches_from(args).unwrap();
        let (_, sub) = m.subcommand().unwrap();
        sub.get_raw(id).map(|v| {
            v.map(|s| s.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(",")
        })
    }

    #[test]
    fn file_values_replace_defaults_but_not_flags() {
        let text = "fail-on = \"failures\"\npath = [\"a.xml\", \"b.xml\"]\ntoken = \"t\"\n";
        let cmd = apply(cli(), text).unwrap();
        assert_eq!(
            get(cmd.clone(), &["t", "report"], "fail_on").as_deref(),
            Some("failures")
        );
        assert_eq!(
            get(cmd.clone(), &["t", "report"], "paths").as_deref(),
            Some("a.xml,b.xml")
        );
        assert_eq!(
            get(
                cmd.clone(),
                &["t", "report", "--fail-on", "nothing"],
                "fail_on"
            )
            .as_deref(),
            Some("nothing")
        );
        assert_eq!(
            get(cmd, &["t", "report", "c.xml"], "paths").as_deref(),
            Some("c.xml")
        );
    }

    #[test]
    fn booleans_and_numbers_become_option_values() {
        let cmd = apply(cli(), "dry-run = true\nto = 5\n").unwrap();
        let m = cmd.try_get_matches_from(["t", "report", "x"]).unwrap();
        assert!(m.subcommand_matches("report").unwrap().get_flag("dry_run"));
    }

    #[test]
    fn unknown_keys_and_tables_are_errors_with_the_line() {
        let err = apply(cli(), "fail-om = \"x\"").unwrap_err();
        assert!(err.contains("unknown key 'fail-om'"), "{err}");
        let err = apply(cli(), "[testnod]\ntoken = \"x\"").unwrap_err();
        assert!(err.contains("is a table"), "{err}");
        let err = apply(cli(), "fail-on = \n").unwrap_err();
        assert!(err.starts_with("line 1:"), "{err}");
    }

    #[test]
    fn an_explicit_config_flag_wins_over_the_environment() {
        let args: Vec<OsString> = ["t", "report", "--config", "ci.toml", "x"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(
            locate(&args, Some("env.toml".into())),
            Some(PathBuf::from("ci.toml"))
        );
        let args: Vec<OsString> = ["t", "report", "--config=c2.toml"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(locate(&args, None), Some(PathBuf::from("c2.toml")));
        let plain: Vec<OsString> = ["t", "report"].iter().map(OsString::from).collect();
        assert_eq!(
            locate(&plain, Some("env.toml".into())),
            Some(PathBuf::from("env.toml"))
        );
    }
}
