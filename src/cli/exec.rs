//! `tgscript exec FILE [--var k=v]... [--json]`

use super::{EXIT_FAILURE, EXIT_USAGE};
use crate::config::Config;
use crate::engine::{Output, RunOptions, ScriptEngine};
use crate::host::Host;
use crate::telegram::BotClient;
use rhai::{Dynamic, Scope};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Arguments of `exec`.
#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// The script to run.
    pub file: PathBuf,
    /// A variable for the script, `name=value`; the value is read as JSON when it parses
    /// (`n=3`, `ok=true`, `ids=[1,2]`), else as a string. Repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn exec(config: &Config, args: ExecArgs) -> u8 {
    let mut scope = Scope::new();
    for var in &args.vars {
        match parse_var(var) {
            Ok((name, value)) => {
                scope.push_dynamic(name, value);
            }
            Err(e) => {
                eprintln!("tgscript exec: {e}");
                return EXIT_USAGE;
            }
        }
    }
    let root = args
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // With a bot token, chat builtins reach the bot; a small runtime carries the requests.
    let (host, runtime) = match connect(config) {
        Ok(connected) => connected,
        Err(e) => {
            eprintln!("tgscript exec: {e}");
            return EXIT_USAGE;
        }
    };
    let host = match super::open_store(config, "exec") {
        Ok(state) => Arc::new(host.and_store(Arc::new(state))),
        Err(code) => return code,
    };
    let engine = ScriptEngine::with_host(config.limits.clone(), root, host);
    let ast = match engine.compile_file(&args.file, &scope) {
        Ok(ast) => ast,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_FAILURE;
        }
    };
    let options = RunOptions {
        output: Output::Stdout,
        ..RunOptions::default()
    };
    let (result, report) = engine.eval(&mut scope, &ast, &options);
    if let Some(runtime) = &runtime {
        runtime.block_on(engine_host_accounts(&engine).close_all());
    }
    tracing::debug!(
        elapsed_ms = report.elapsed.as_millis() as u64,
        "script finished"
    );
    match result {
        Ok(value) => {
            if args.json {
                match serde_json::to_string_pretty(&value) {
                    Ok(json) => println!("{json}"),
                    Err(e) => {
                        eprintln!("tgscript exec: the result cannot be shown as JSON: {e}");
                        return EXIT_FAILURE;
                    }
                }
            } else if !value.is_unit() {
                println!("{value}");
            }
            0
        }
        Err(e) => {
            eprintln!("{e}");
            EXIT_FAILURE
        }
    }
}

/// The accounts of the engine's host.
fn engine_host_accounts(engine: &ScriptEngine) -> crate::accounts::Accounts {
    engine.host().accounts().clone()
}

/// A host connected to the bot when `TELOXIDE_TOKEN` is set, and to the configured accounts
/// (TDLib clients started), with the runtime serving them; else an offline one.
fn connect(config: &Config) -> Result<(Host, Option<tokio::runtime::Runtime>), String> {
    let token = std::env::var("TELOXIDE_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    if token.is_none() && config.accounts.is_empty() {
        return Ok((Host::offline(), None));
    }
    let runtime = super::runtime("exec").map_err(|_| "no async runtime".to_string())?;
    let accounts = crate::accounts::from_config(config, runtime.handle(), false)?;
    let host = match token {
        Some(token) => {
            crate::logging::add_secret(&token);
            let bot = BotClient::new(&token, std::env::var("TELOXIDE_API_URL").ok().as_deref())?;
            Host::with_bot(bot, runtime.handle().clone()).and_accounts(accounts)
        }
        None => Host::with_accounts_only(accounts, runtime.handle().clone()),
    };
    Ok((host, Some(runtime)))
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
