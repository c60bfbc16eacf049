//! `tgscript account login ID` / `account status`.

use super::{AccountCommand, EXIT_FAILURE, EXIT_USAGE, runtime};
use crate::accounts::{self, Account, tdlib::TdlibAccount};
use crate::config::{Backend, Config};
use std::io::{BufRead, Write};

pub(super) fn account(config: &Config, command: AccountCommand) -> u8 {
    let runtime = match runtime("account") {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match command {
        AccountCommand::Status => status(config, &runtime),
        AccountCommand::Login { id } => login(config, &runtime, id),
    }
}

fn status(config: &Config, runtime: &tokio::runtime::Runtime) -> u8 {
    if config.accounts.is_empty() {
        println!(
            "no accounts configured (scripts get a sandbox account with id 1 where one is needed)"
        );
        return 0;
    }
    let accounts = match accounts::from_config(config, runtime.handle(), false) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tgscript account status: {e}");
            return EXIT_USAGE;
        }
    };
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
    0
}

fn login(config: &Config, runtime: &tokio::runtime::Runtime, id: i64) -> u8 {
    let Some(entry) = config.accounts.iter().find(|a| a.id == id) else {
        eprintln!(
            "tgscript account login: unknown userbot_id {id} (add an [[account]] with id = {id})"
        );
        return EXIT_USAGE;
    };
    if entry.backend != Backend::Tdlib {
        eprintln!("tgscript account login: account {id} is a sandbox account: it needs no login");
        return EXIT_USAGE;
    }
    let started = accounts::load_tdjson(config)
        .map_err(|e| e.to_string())
        .and_then(|_| accounts::tdlib_settings(entry))
        .and_then(|settings| TdlibAccount::start(settings, runtime.handle()));
    let account = match started {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tgscript account login: {e}");
            return EXIT_USAGE;
        }
    };
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
    match result {
        Ok(()) => {
            println!("account {id}: {}", account.status());
            0
        }
        Err(e) => {
            eprintln!(
                "tgscript account login: {} ({}); account {id} is {}",
                e.message,
                e.code,
                account.status()
            );
            EXIT_FAILURE
        }
    }
}
