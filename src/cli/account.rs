//! `tgscript account login ID` / `account status`: the same login steps as the gateway's
//! actions, at a terminal, with progress and a time limit per step.

use super::{AccountCommand, usage};
use crate::accounts::auth::UPDATE_CONNECTION_STATE;
use crate::accounts::events::{Delivery, Filter};
use crate::accounts::open as accounts;
use crate::accounts::{Account, Accounts, AuthState, LoginStep};
use crate::app::{open_existing_store, open_store, runtime, store_path};
use crate::config::Config;
use crate::store::Store;
use std::io::{BufRead, Write};
use std::sync::Arc;

pub(super) fn account(config: &Config, command: AccountCommand) -> anyhow::Result<u8> {
    accounts::warn_outside_cluster(config);
    let runtime = runtime()?;
    // Looking never makes a database: without one, no account was added through the gateway.
    let store = match command {
        AccountCommand::Status(_)
            if config.store.url.is_none() && !store_path(config).is_file() =>
        {
            Store::in_memory()
        }
        AccountCommand::Status(_) => open_existing_store(config)?,
        AccountCommand::Login { .. } => open_store(config)?,
    };
    let accounts = match command {
        AccountCommand::Status(_) => accounts::from_config(config, runtime.handle(), false, &store),
        // Only the account being logged in starts.
        AccountCommand::Login { id } => one(config, &store, &runtime, id),
    }
    .map_err(usage)?;
    let done = match command {
        AccountCommand::Status(output) => status(&accounts, &runtime, output.json()),
        AccountCommand::Login { id } => login(config, &accounts, &runtime, id),
    };
    runtime.block_on(accounts.close_all());
    done
}

/// Account `id` alone, started (none if no account has that id).
fn one(
    config: &Config,
    store: &crate::store::Store,
    runtime: &tokio::runtime::Runtime,
    id: i64,
) -> Result<Accounts, accounts::AccountConfigError> {
    let found = Accounts::default();
    if let Some((spec, origin)) = accounts::spec(config, store, id)? {
        let started = accounts::start(config, &spec, origin, runtime.handle(), found.sink(id))?;
        found.insert(id, started, spec.owner.as_deref())?;
    }
    Ok(found)
}

/// Wait until `account` has started; its state then.
async fn settled(account: &Arc<dyn Account>) -> AuthState {
    crate::accounts::settled(&**account, accounts::SETTLE).await
}

fn status(
    accounts: &Accounts,
    runtime: &tokio::runtime::Runtime,
    json: bool,
) -> anyhow::Result<u8> {
    let default_id = accounts.default_id().ok();
    let mut listed = Vec::new();
    for id in accounts.ids() {
        let Ok(account) = accounts.get(id) else {
            continue;
        };
        let state = runtime.block_on(settled(&account));
        listed.push((id, account, state));
    }
    if json {
        let rows: Vec<serde_json::Value> = listed
            .iter()
            .map(|(id, account, state)| {
                serde_json::json!({
                    "id": id,
                    "default": default_id == Some(*id),
                    "backend": account.backend(),
                    "state": state.describe(),
                    "status": account.status(),
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(0);
    }
    if listed.is_empty() {
        outln!(
            "no accounts configured (scripts get a sandbox account with id 1 where one is needed)"
        )?;
    }
    for (id, account, _) in listed {
        let default = if default_id == Some(id) {
            " (default)"
        } else {
            ""
        };
        outln!("{id}{default}: {}", account.status())?;
    }
    Ok(0)
}

fn ask(what: &str) -> anyhow::Result<String> {
    eprint!("{what}: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    // Only the line's end: a password may begin or end with spaces.
    let line = line.trim_end_matches(['\r', '\n']).to_string();
    if line.is_empty() {
        anyhow::bail!("login: no {what} given");
    }
    Ok(line)
}

fn login(
    config: &Config,
    accounts: &Accounts,
    runtime: &tokio::runtime::Runtime,
    id: i64,
) -> anyhow::Result<u8> {
    let account = accounts.get(id).map_err(|_| {
        usage(format!(
            "login: unknown userbot_id {id} (add an [[account]] with id = {id}, or add_account it through the gateway)"
        ))
    })?;
    let configured_phone = config
        .accounts
        .iter()
        .find(|a| a.id == id)
        .and_then(|a| a.phone.clone());
    // Connection progress, printed as TDLib reports it.
    let progress = accounts.hub().subscribe(
        Filter {
            accounts: Some([id].into()),
            kinds: Some([UPDATE_CONNECTION_STATE.to_string()].into()),
        },
        64,
    );
    let printer = runtime.spawn(async move {
        loop {
            if let Delivery::Event(event) = progress.next().await {
                let state = event.update["state"]["@type"].as_str().unwrap_or_default();
                eprintln!("{}", connection_words(state));
            }
        }
    });
    let within = accounts::tdlib_timeout(config);
    eprintln!("account {id}: starting {}…", account.backend());
    let result = (|| -> anyhow::Result<()> {
        loop {
            let state = runtime.block_on(settled(&account));
            let step = match &state {
                AuthState::Ready => return Ok(()),
                AuthState::WaitPhoneNumber => match &configured_phone {
                    Some(_) => LoginStep::Phone(String::new()),
                    None => LoginStep::Phone(ask("phone number")?),
                },
                AuthState::WaitCode { via } => {
                    eprintln!("code sent via {via}");
                    LoginStep::Code(ask("code")?)
                }
                AuthState::WaitPassword { hint } => {
                    LoginStep::Password(ask(&format!("password (hint: {hint})"))?)
                }
                AuthState::WaitEmailAddress => LoginStep::EmailAddress(ask("email address")?),
                AuthState::WaitEmailCode => LoginStep::EmailCode(ask("email code")?),
                other => anyhow::bail!("login: account {id} is {}", other.describe()),
            };
            eprintln!(
                "{}: sending to Telegram (waiting up to {} s)…",
                step.function(),
                within.as_secs()
            );
            let next = runtime
                .block_on(account.login(step, within))
                .map_err(|e| anyhow::anyhow!("login: {} ({})", e.message, e.code))?;
            if next == state {
                anyhow::bail!("login: account {id} is still {}", next.describe());
            }
        }
    })();
    printer.abort();
    result?;
    outln!("account {id}: {}", account.status())?;
    Ok(0)
}

/// TDLib's `connectionState*` in words.
fn connection_words(state: &str) -> &'static str {
    match state {
        "connectionStateWaitingForNetwork" => "waiting for the network…",
        "connectionStateConnectingToProxy" => "connecting to the proxy…",
        "connectionStateConnecting" => "connecting to Telegram…",
        "connectionStateUpdating" => "connected, updating…",
        "connectionStateReady" => "connected",
        _ => "connection state changed",
    }
}
