//! Bots added through the gateway (`add_bot`), kept so they survive a restart. The token is
//! stored as given (the database file is readable by its owner only; see the README on
//! keeping it at rest).

use super::sql::params;
use super::{Store, StoreError};

/// A bot added at run time.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedBot {
    /// Its id.
    pub id: String,
    /// Its token (a secret: never log it).
    pub token: String,
    /// `polling` or `webhook`.
    pub mode: String,
    /// Its scenario folder.
    pub scripts: String,
    /// Its Bot API server, if not Telegram's.
    pub api_url: Option<String>,
    /// Its tenant (`None`: its own id).
    pub tenant: Option<String>,
}

impl SavedBot {
    /// Its tenant: `tenant`, else its id.
    pub fn tenant(&self) -> &str {
        self.tenant.as_deref().unwrap_or(&self.id)
    }
}

impl Store {
    /// Keep `bot` (replacing one with its id).
    pub fn save_bot(&self, bot: &SavedBot) -> Result<(), StoreError> {
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO bots (id, token, mode, scripts, api_url, tenant)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (id) DO UPDATE SET token = excluded.token, mode = excluded.mode,
                     scripts = excluded.scripts, api_url = excluded.api_url,
                     tenant = excluded.tenant",
                params![
                    bot.id,
                    bot.token,
                    bot.mode,
                    bot.scripts,
                    bot.api_url,
                    bot.tenant
                ],
            )
            .map(drop)
            .map_err(StoreError::query("bots"))
        })
    }

    /// Forget bot `id`; whether it was kept.
    pub fn forget_bot(&self, id: &str) -> Result<bool, StoreError> {
        self.transaction(|tx| {
            tx.execute("DELETE FROM bots WHERE id = ?1", params![id])
                .map(|n| n > 0)
                .map_err(StoreError::query("bots"))
        })
    }

    /// Every bot kept, by id.
    pub fn saved_bots(&self) -> Result<Vec<SavedBot>, StoreError> {
        self.lock()
            .query_map(
                "SELECT id, token, mode, scripts, api_url, tenant FROM bots ORDER BY id",
                params![],
                |row| {
                    Ok(SavedBot {
                        id: row.get(0)?,
                        token: row.get(1)?,
                        mode: row.get(2)?,
                        scripts: row.get(3)?,
                        api_url: row.get(4)?,
                        tenant: row.get(5)?,
                    })
                },
            )
            .map_err(StoreError::query("bots"))
    }
}
