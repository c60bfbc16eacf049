//! The command line: a thin shell over the library. Each subcommand lives in its own module
//! and returns an exit code: 0 ok, 1 script or command error, 2 usage or configuration error.

mod account;
mod check;
mod docs;
mod exec;
mod inbox;
mod repl;
mod run;
mod serve;
mod tdlib;

use crate::config::Config;
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
    /// Config file (default: ./tgscript.toml when present).
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
    /// Print the reference of every builtin, generated from the registered functions.
    Docs(docs::DocsArgs),
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
    Tdlib(TdlibCommand),
    /// Show the updates `run` has not finished or parked, or queue a parked one again.
    #[command(subcommand)]
    Inbox(inbox::InboxCommand),
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
    Status,
}

/// `tgscript tdlib ...`
#[derive(Debug, Subcommand)]
pub enum TdlibCommand {
    /// Obtain libtdjson 1.8.61 and install it into the data dir.
    Install,
    /// Show which libtdjson would be loaded, and its version.
    Path,
}

/// Parse the command line, run the subcommand and return the process exit code.
pub fn main() -> u8 {
    let cli = Cli::parse();
    crate::logging::init();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("tgscript: {e}");
            return EXIT_USAGE;
        }
    };
    match cli.command {
        Command::Exec(args) => exec::exec(&config, args),
        Command::Check(args) => check::check(&config, args),
        Command::Docs(args) => docs::docs(&config, args),
        Command::Run(args) => run::run(&config, args),
        Command::Repl => repl::repl(&config),
        Command::Serve { listen } => serve::serve(&config, listen),
        Command::Account(command) => account::account(&config, command),
        Command::Tdlib(command) => tdlib::tdlib(&config, command),
        Command::Inbox(command) => inbox::inbox(&config, command),
    }
}

/// Stack size of the threads scripts run on (deep Rhai recursion needs room).
const SCRIPT_STACK: usize = 8 * 1024 * 1024;

/// The async runtime a subcommand runs its bot, accounts and scripts on; on failure, the
/// message for `command` is printed and the exit code returned.
fn runtime(command: &str) -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(SCRIPT_STACK)
        .build()
        .map_err(|e| {
            eprintln!("tgscript {command}: cannot start the async runtime: {e}");
            EXIT_FAILURE
        })
}

/// The state database of `[store] path` (default `state.db` in the data dir); on failure, the
/// message for `command` is printed and the exit code returned.
fn open_store(config: &Config, command: &str) -> Result<crate::store::Store, u8> {
    let path = config
        .store
        .path
        .clone()
        .unwrap_or_else(|| crate::config::data_dir().join("state.db"));
    crate::store::Store::open(&path).map_err(|e| {
        eprintln!("tgscript {command}: {e}");
        EXIT_USAGE
    })
}
