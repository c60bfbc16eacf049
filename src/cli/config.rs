//! `tgscript config check` and `config show`: the configuration tested against this machine
//! (as `nginx -t`), and printed merged with the environment, secrets redacted (as `nginx -T`).

use crate::accounts::tdjson;
use crate::app::store_path;
use crate::config::{Backend, Config, data_dir};
use crate::store::without_password;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// `tgscript config ...`
#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Test the configuration against this machine: token variables set, scenario folders
    /// present, the store and NATS reachable, libtdjson found. A line per point, `ok` or
    /// `problem` with what to do; exit 1 on a problem.
    Check,
    /// Print the configuration as tgscript uses it (the file merged with the environment,
    /// relative paths resolved), as TOML, with secrets redacted.
    Show,
}

pub(super) fn config(config: &Config, command: ConfigCommand) -> anyhow::Result<u8> {
    match command {
        ConfigCommand::Show => {
            let from = match &config.source {
                Some(file) => format!("# {} merged with the environment", file.display()),
                None => "# no config file: defaults merged with the environment".to_string(),
            };
            let mut shown = config.redacted();
            shown.store.url = shown.store.url.as_deref().map(without_password);
            let text = toml::to_string(&shown)?;
            outln!("{from}\n{text}")?;
            Ok(0)
        }
        ConfigCommand::Check => {
            let findings = check(config);
            for finding in &findings {
                let word = if finding.ok { "ok" } else { "problem" };
                outln!("{word:<8} {}", finding.text)?;
            }
            let problems = findings.iter().filter(|f| !f.ok).count();
            match problems {
                0 => Ok(0),
                n => {
                    eprintln!(
                        "tgscript config: {n} problem{}",
                        if n == 1 { "" } else { "s" }
                    );
                    Ok(super::EXIT_FAILURE)
                }
            }
        }
    }
}

/// One point `config check` looked at.
struct Finding {
    ok: bool,
    text: String,
}

fn ok(text: impl Into<String>) -> Finding {
    Finding {
        ok: true,
        text: text.into(),
    }
}

fn problem(text: impl Into<String>) -> Finding {
    Finding {
        ok: false,
        text: text.into(),
    }
}

/// Every point, in the order they matter at start-up.
fn check(config: &Config) -> Vec<Finding> {
    let mut found = vec![match &config.source {
        Some(file) => ok(format!("config file {}", file.display())),
        None => ok(
            "no config file found: defaults and the environment (see `tgscript --help` for where it is looked for)",
        ),
    }];
    found.extend(tokens(config));
    found.extend(folders(config));
    found.push(store(config));
    found.extend(nats(config));
    found.push(libtdjson(config));
    found
}

/// Whether the variable `name` holds something.
fn set(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.trim().is_empty())
}

/// The variables holding tokens and keys: each must be set.
fn tokens(config: &Config) -> Vec<Finding> {
    let mut wanted: Vec<(String, String)> = config
        .bots
        .iter()
        .map(|bot| (bot.token_env.clone(), format!("bot {:?}'s token", bot.id)))
        .collect();
    wanted.extend(config.tenants.iter().filter_map(|tenant| {
        let var = tenant.token_env.clone()?;
        Some((var, format!("tenant {:?}'s gateway token", tenant.name)))
    }));
    for account in config
        .accounts
        .iter()
        .filter(|a| a.backend == Backend::Tdlib)
    {
        if let Some(var) = account
            .api_hash_env
            .clone()
            .or_else(|| config.tdlib.api_hash_env.clone())
        {
            wanted.push((var, format!("account {}'s api_hash", account.id)));
        }
    }
    let mut found: Vec<Finding> = wanted
        .into_iter()
        .map(|(var, what)| match set(&var) {
            true => ok(format!("{var} is set ({what})")),
            false => problem(format!(
                "{var} is unset or empty: set it to {what} in the service's environment"
            )),
        })
        .collect();
    if config.bots.is_empty() {
        found.push(ok(match set("TELOXIDE_TOKEN") {
            true => "TELOXIDE_TOKEN is set: `run` serves its bot",
            false => "no [[bot]] and no TELOXIDE_TOKEN: `run` serves the sandbox",
        }));
    }
    found
}

/// The scenario folders `run` loads.
fn folders(config: &Config) -> Vec<Finding> {
    let mut folders = vec![];
    if config.bots.is_empty() {
        folders.push((config.scripts.dir.clone(), "[scripts] dir".to_string()));
    }
    for bot in &config.bots {
        folders.push((bot.scripts.clone(), format!("bot {:?}'s scripts", bot.id)));
    }
    folders
        .into_iter()
        .map(|(dir, what)| match dir.is_dir() {
            true => ok(format!("scenario folder {} ({what})", dir.display())),
            false => problem(format!(
                "scenario folder {} ({what}) does not exist: create it, or set {what} to where the scenarios are",
                dir.display()
            )),
        })
        .collect()
}

/// The state database: PostgreSQL connected to, SQLite's file or its folder present.
fn store(config: &Config) -> Finding {
    if let Some(url) = &config.store.url {
        let shown = without_password(url);
        return match crate::app::open_store(config) {
            Ok(_) => ok(format!("store {shown} reachable")),
            Err(e) => problem(format!(
                "store {shown} is not reachable ({e}): start PostgreSQL or correct [store] url"
            )),
        };
    }
    let path = store_path(config);
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| ".".into());
    if path.is_file() {
        ok(format!("store {} exists", path.display()))
    } else if folder.is_dir() || !folder.exists() {
        ok(format!(
            "store {} does not exist yet: `run` makes it",
            path.display()
        ))
    } else {
        problem(format!(
            "store {}: {} is not a folder; set [store] path",
            path.display(),
            folder.display()
        ))
    }
}

/// NATS, when the process is one instance of a cluster: each server address answers.
fn nats(config: &Config) -> Option<Finding> {
    let url = config.cluster.nats_url.as_ref()?;
    let first = url.split(',').next().unwrap_or_default().trim();
    let address = first.split_once("://").map_or(first, |(_, rest)| rest);
    let address = address.rsplit_once('@').map_or(address, |(_, host)| host);
    let address = match address.rsplit_once(':') {
        Some((_, port)) if port.parse::<u16>().is_ok() => address.to_string(),
        _ => format!("{address}:4222"),
    };
    let reached = address
        .to_socket_addrs()
        .ok()
        .into_iter()
        .flatten()
        .any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(5)).is_ok());
    Some(match reached {
        true => ok(format!("NATS {address} reachable")),
        false => problem(format!(
            "NATS {address} is not reachable: start nats-server (with JetStream) or correct [cluster] nats_url"
        )),
    })
}

/// libtdjson, when an account needs it.
fn libtdjson(config: &Config) -> Finding {
    let needed = config.accounts.iter().any(|a| a.backend == Backend::Tdlib);
    let candidates = tdjson::candidates(config.tdlib_path.as_deref(), &data_dir());
    match (tdjson::find(&candidates), needed) {
        (Ok(lib), _) => ok(format!(
            "libtdjson {} (TDLib {})",
            lib.path.display(),
            lib.version
        )),
        (Err(_), false) => ok("libtdjson not found, and no [[account]] uses tdlib"),
        (Err(e), true) => problem(format!("{e}")),
    }
}
