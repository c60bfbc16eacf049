//! What scripts are connected to: the Bot API client (real or sandbox) and the async runtime
//! the blocking script threads bridge into.

use crate::accounts::Accounts;
use crate::engine::run;
use crate::store::Store;
use crate::telegram::BotClient;
use std::future::Future;
use std::sync::Arc;
use tokio::runtime::Handle;

/// The connections builtins use. `check` and `docs` use [`Host::offline`].
#[derive(Debug, Default)]
pub struct Host {
    bot: Option<BotClient>,
    runtime: Option<Handle>,
    store: Arc<Store>,
    accounts: Accounts,
}

impl Host {
    /// No connections: builtins that need one fail with an error saying how to connect.
    pub fn offline() -> Self {
        Self::default()
    }

    /// Connected to a bot, bridging into the runtime `runtime`.
    pub fn with_bot(bot: BotClient, runtime: Handle) -> Self {
        Self {
            bot: Some(bot),
            runtime: Some(runtime),
            store: Arc::default(),
            accounts: Accounts::default(),
        }
    }

    /// Only accounts (no bot), bridging into `runtime`.
    pub fn with_accounts_only(accounts: Accounts, runtime: Handle) -> Self {
        Self {
            runtime: Some(runtime),
            accounts,
            ..Self::default()
        }
    }

    /// The same host with `accounts`.
    pub fn and_accounts(mut self, accounts: Accounts) -> Self {
        self.accounts = accounts;
        self
    }

    /// The same host keeping script state (and the journals of inbox runs) in `store`.
    pub fn and_store(mut self, store: Arc<Store>) -> Self {
        self.store = store;
        self
    }

    /// The user accounts.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// The bot, or why there is none.
    pub fn bot(&self) -> Result<&BotClient, String> {
        self.bot.as_ref().ok_or_else(|| {
            "no bot connected: set TELOXIDE_TOKEN (or use `tgscript run` without a token for the sandbox)"
                .to_string()
        })
    }

    /// The database: script state and the inbox.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Run `future` to completion from a script thread. The wait does not count against the
    /// script's `timeout_ms` (calls have their own bounded timeouts).
    pub fn block_on<F: Future>(&self, future: F) -> Result<F::Output, String> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| "no async runtime: this builtin needs a connected bot".to_string())?;
        Ok(run::paused(|| runtime.block_on(future)))
    }
}
