//! `tgscript account login ID` / `account status`.

use super::{AccountCommand, usage};
use crate::accounts::{Account, tdlib::TdlibAccount};
use crate::app::{accounts, runtime};
use crate::config::{Backend, Config};
use std::io::{BufRead, Write};

pub(super) fn account(config: &Config, command: AccountCommand) -> anyhow::Result<u8> {
    let runtime = runtime()?;
    match command {
        AccountCommand::Status => status(config, &runtime),
        AccountCommand::Login { id } => login(config, &runtime, id),
    }
}

fn status(config: &Config, runtime: &tokio::runtime::Runtime) -> anyhow::Result<u8> {
    if config.accounts.is_empty() {
        println!(
            "no accounts configured (scripts get a sandbox account with id 1 where one is needed)"
        );
        return Ok(0);
    }
    let accounts = accounts::from_config(config, runtime.handle(), false).map_err(usage)?;
    for id in accounts.ids() {
        let Ok(account) = accounts.get(id) else {
            continue;
        };
        // Let each client settle before reading its state.
        let _ = runtime.block_on(account.call(crate::accounts::AccountOp::Raw(
            serde_json::json!({"@type": "getAuthorizationState"}),
        )));
        let default = if accounts.default_id().ok() == Some(id) {
            " (default)"
        } else {
            ""
        };
        println!("{id}{default}: {}", account.status());
    }
    runtime.block_on(accounts.close_all());
    Ok(0)
}

fn login(config: &Config, runtime: &tokio::runtime::Runtime, id: i64) -> anyhow::Result<u8> {
    let entry = config.accounts.iter().find(|a| a.id == id).ok_or_else(|| {
        usage(format!(
            "login: unknown userbot_id {id} (add an [[account]] with id = {id})"
        ))
    })?;
    if entry.backend != Backend::Tdlib {
        return Err(usage(format!(
            "login: account {id} is a sandbox account: it needs no login"
        )));
    }
    let started = accounts::load_tdjson(config)
        .map_err(accounts::AccountConfigError::from)
        .and_then(|_| accounts::tdlib_settings(entry, accounts::tdlib_timeout(config)))
        .and_then(|settings| Ok(TdlibAccount::start(settings, runtime.handle())?));
    let account = started.map_err(|e| usage(format!("login: {e}")))?;
    let ask = |what: &str| -> Option<String> {
        eprint!("{what}: ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).ok()?;
        let line = line.trim().to_string();
        (!line.is_empty()).then_some(line)
    };
    let result = runtime.block_on(account.login(ask));
    runtime.block_on(account.close());
    let () = result.map_err(|e| {
        anyhow::anyhow!(
            "login: {} ({}); account {id} is {}",
            e.message,
            e.code,
            account.status()
        )
    })?;
    println!("account {id}: {}", account.status());
    Ok(0)
}
