//! `tgscript exec FILE [--var k=v]... [--json]`

use super::usage;
use crate::app::{App, SandboxAccount, Wiring};
use crate::config::Config;
use crate::engine::{Output, RunOptions};
use rhai::{Dynamic, Scope};
use std::path::{Path, PathBuf};

/// Arguments of `exec`.
#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// The script to run.
    pub file: PathBuf,
    /// A variable for the script, `name=value`; the value is read as JSON when it parses
    /// (`n=3`, `ok=true`, `ids=[1,2]`), else as a string. Repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Print the result as JSON (alone on stdout: the script's prints go to stderr).
    #[arg(long)]
    pub json: bool,
}

pub(super) fn exec(config: &Config, args: ExecArgs) -> anyhow::Result<u8> {
    let mut scope = Scope::new();
    for var in &args.vars {
        let (name, value) = parse_var(var).map_err(usage)?;
        scope.push_dynamic(name, value);
    }
    let root = args
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // With a bot token, chat builtins reach the bot; configured accounts are started.
    let app = App::build(
        config,
        Wiring {
            sandbox_bot: false,
            // The same sandbox account as the REPL when no [[account]] is configured.
            sandbox_account: SandboxAccount::Always,
            verify_token: false,
            claim_store: false,
        },
    )?;
    let engine = app.engine(root);
    let ast = engine.compile_file(&args.file, &scope)?;
    if let Some(handlers) = crate::scenario::scenario_handlers(&ast) {
        app.close();
        return Err(usage(format!(
            "{} is a scenario ({}): its top level only declares, so exec would do nothing. \
             Run it with `tgscript run {}`, or exec a script that imports it and calls its functions",
            args.file.display(),
            handlers.join(", "),
            root.display()
        )));
    }
    // With --json, stdout holds the result alone (prints go to stderr), so it parses.
    let options = RunOptions {
        output: match args.json {
            true => Output::Stderr,
            false => Output::Stdout,
        },
        ..RunOptions::default()
    };
    let (result, report) = engine.eval(&mut scope, &ast, &options);
    app.close();
    tracing::debug!(
        elapsed_ms = report.elapsed.as_millis() as u64,
        "script finished"
    );
    let value = result?;
    if args.json {
        let json = serde_json::to_string_pretty(&value)
            .map_err(|e| anyhow::anyhow!("the result cannot be shown as JSON: {e}"))?;
        outln!("{json}")?;
    } else if !value.is_unit() {
        outln!("{value}")?;
    }
    Ok(0)
}

/// `name=value` → the name and the value (JSON when it parses, else the raw string).
fn parse_var(var: &str) -> Result<(String, Dynamic), String> {
    let (name, raw) = var
        .split_once('=')
        .ok_or_else(|| format!("--var {var}: expected NAME=VALUE"))?;
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "--var {var}: '{name}' is not a valid variable name (letters, digits and _)"
        ));
    }
    let value = serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|json| rhai::serde::to_dynamic(json).ok())
        .unwrap_or_else(|| raw.into());
    Ok((name.to_string(), value))
}
