//! The command line: a thin shell over the library. Each subcommand lives in its own module
//! and returns an exit code: 0 ok, 1 script or command error, 2 usage or configuration error.

/// `print!` for commands: stdout, its error returned (see [`output`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::write_stdout(format_args!($($arg)*))
    };
}

/// `println!` for commands: stdout, its error returned (see [`output`]).
macro_rules! outln {
    () => {
        out!("\n")
    };
    ($($arg:tt)*) => {
        $crate::cli::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod account;
mod backup;
mod cage;
mod check;
mod completions;
mod config;
mod definitions;
mod docs;
mod exec;
mod inbox;
mod jobs;
pub mod output;
mod reference;
mod repl;
mod run;
mod serve;
mod tdlib;

use crate::app::AppError;
use crate::config::Config;
use crate::engine::ScriptError;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Exit code of a script or command error.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of a usage or configuration error.
pub const EXIT_USAGE: u8 = 2;

/// Run Rhai scripts as Telegram bot scenarios.
#[derive(Debug, Parser)]
#[command(name = "tgscript", version, about, long_about = None)]
pub struct Cli {
    /// Config file (default: $TGSCRIPT_CONFIG, else the first of ./tgscript.toml,
    /// $XDG_CONFIG_HOME/tgscript/tgscript.toml (~/.config) and /etc/tgscript/tgscript.toml).
    /// Relative paths in it are taken from its folder.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a script's top level once and print its value.
    Exec(exec::ExecArgs),
    /// Compile scripts without running them; print `file:line:col: message` per problem.
    Check(check::CheckArgs),
    /// Print the reference of every builtin (or with `--gateway`, of every gateway action),
    /// generated from the registered functions and the action tables.
    Docs(docs::DocsArgs),
    /// Write Rhai definition files (`*.d.rhai`) of every builtin into DIR, for editors.
    Definitions(definitions::DefinitionsArgs),
    /// Run the scenarios in DIR against the Bot API (or the sandbox), hot reload on.
    Run(run::RunArgs),
    /// Interactive REPL against the sandbox or the configured bot and accounts.
    Repl,
    /// Serve the JSON command gateway (WebSocket `/ws`, `POST /command`).
    Serve {
        /// Address to listen on (default: [gateway] listen, loopback).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Log in to a TDLib account or show the state of every account.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Obtain libtdjson 1.8.61 or show which one would be loaded.
    #[command(subcommand)]
    Tdlib(tdlib::TdlibCommand),
    /// Test the configuration against this machine, or print it merged.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Print a completion script for SHELL (e.g. `tgscript completions bash >
    /// /etc/bash_completion.d/tgscript`).
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff), e.g. `tgscript man > /usr/local/share/man/man1/tgscript.1`.
    Man,
    /// Show the updates `run` has not finished or parked, or queue a parked one again.
    #[command(subcommand)]
    Inbox(inbox::InboxCommand),
    /// List the jobs scenarios scheduled (`schedule`, `every`, `expect_message`), or cancel one.
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
    /// Copy the state database (state, inbox, journals) to FILE, consistently, while `run`
    /// keeps going.
    Backup(backup::BackupArgs),
    /// Start one script worker and print each layer of its cage: what this kernel enforces
    /// and what it cannot (exit code 1 when a layer is not in force).
    Cage,
    /// A script worker process: started by `run` and `serve` themselves, never by hand.
    #[command(hide = true)]
    Worker,
}

/// `tgscript account ...`
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Interactive TDLib login for account ID.
    Login {
        /// The account's `userbot_id`.
        id: i64,
    },
    /// Authorization state of every configured account.
    Status(output::OutputArgs),
}

impl Command {
    /// The subcommand's name, as errors are prefixed with it.
    fn name(&self) -> &'static str {
        match self {
            Command::Exec(_) => "exec",
            Command::Check(_) => "check",
            Command::Docs(_) => "docs",
            Command::Definitions(_) => "definitions",
            Command::Run(_) => "run",
            Command::Repl => "repl",
            Command::Serve { .. } => "serve",
            Command::Account(_) => "account",
            Command::Tdlib(_) => "tdlib",
            Command::Config(_) => "config",
            Command::Completions(_) => "completions",
            Command::Man => "man",
            Command::Inbox(_) => "inbox",
            Command::Jobs(_) => "jobs",
            Command::Backup(_) => "backup",
            Command::Cage => "cage",
            Command::Worker => "worker",
        }
    }
}

/// Parse the command line, run the subcommand and return the process exit code; a failure is
/// printed once, here.
pub fn main() -> u8 {
    let cli = Cli::parse();
    crate::logging::init(matches!(cli.command, Command::Worker));
    if let Command::Worker = cli.command {
        // No configuration: everything a worker needs comes from its host over the pipe.
        return crate::scenario::runner::worker::main();
    }
    let name = cli.command.name();
    match try_main(cli) {
        Ok(code) => code,
        // The reader has what it wanted (`| head`): not a failure.
        Err(e) if output::closed_pipe(&e) => 0,
        Err(e) => {
            match e.downcast_ref::<ScriptError>() {
                // A script's error is located in the script: shown as it is.
                Some(script) => eprintln!("{script}"),
                None => eprintln!("tgscript {name}: {e:#}"),
            }
            exit_code(&e)
        }
    }
}

/// Load the configuration and run the subcommand: its exit code, or what failed.
fn try_main(cli: Cli) -> anyhow::Result<u8> {
    // What needs no configuration, not even a readable one.
    match &cli.command {
        Command::Completions(args) => return completions::completions(args),
        Command::Man => return completions::man(),
        _ => {}
    }
    let config =
        Config::load(cli.config.as_deref()).map_err(|e| AppError::Config(e.to_string()))?;
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    match cli.command {
        Command::Exec(args) => exec::exec(&config, args),
        Command::Check(args) => check::check(&config, args),
        Command::Docs(args) => docs::docs(&config, args),
        Command::Definitions(args) => definitions::definitions(&config, args),
        Command::Run(args) => run::run(&config, args),
        Command::Repl => repl::repl(&config),
        Command::Serve { listen } => serve::serve(&config, listen),
        Command::Account(command) => account::account(&config, command),
        Command::Tdlib(command) => tdlib::tdlib(&config, command),
        Command::Config(command) => config::config(&config, command),
        Command::Completions(args) => completions::completions(&args),
        Command::Man => completions::man(),
        Command::Inbox(command) => inbox::inbox(&config, command),
        Command::Jobs(command) => jobs::jobs(&config, command),
        Command::Backup(args) => backup::backup(&config, args),
        Command::Cage => cage::cage(&config),
        Command::Worker => Ok(crate::scenario::runner::worker::main()),
    }
}

/// The exit code for a failure: 2 for configuration and usage errors, else 1.
fn exit_code(error: &anyhow::Error) -> u8 {
    match error.downcast_ref::<AppError>() {
        Some(AppError::Config(_)) => EXIT_USAGE,
        _ => EXIT_FAILURE,
    }
}

/// `header` and `rows` as a table with aligned columns (the last one not padded).
fn aligned(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let mut widths = vec![0; header.len().saturating_sub(1)];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter().zip(row) {
            out.push_str(&format!("{cell:<width$}  "));
        }
        out.push_str(row.last().map(String::as_str).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// A usage or configuration error (exit 2).
fn usage(message: impl std::fmt::Display) -> anyhow::Error {
    AppError::Config(message.to_string()).into()
}
