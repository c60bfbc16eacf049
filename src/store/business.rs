//! The business connections each bot was told of (`business_connection` updates) or looked
//! up (`getBusinessConnection`), by bot and connection id: what the host checks a call on a
//! business account's behalf against before Telegram is asked.

use super::sql::params;
use super::{Store, StoreError};
use crate::telegram::business::Connection;

impl Store {
    /// Record `connection` as bot `bot`'s, replacing what was recorded of it.
    pub fn record_business_connection(
        &self,
        bot: &str,
        connection: &Connection,
    ) -> Result<(), StoreError> {
        let text = serde_json::to_string(connection).unwrap_or_default();
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO business_connections (bot, id, connection) VALUES (?1, ?2, ?3)
                 ON CONFLICT (bot, id) DO UPDATE SET connection = excluded.connection",
                params![bot, connection.id.as_str(), text.as_str()],
            )
            .map(drop)
            .map_err(StoreError::query("business connections"))
        })
    }

    /// Bot `bot`'s connection `id`, if it was recorded (another bot's is not this one's).
    pub fn business_connection(
        &self,
        bot: &str,
        id: &str,
    ) -> Result<Option<Connection>, StoreError> {
        let text: Option<String> = self
            .lock()
            .query_opt(
                "SELECT connection FROM business_connections WHERE bot = ?1 AND id = ?2",
                params![bot, id],
                |row| row.get(0),
            )
            .map_err(StoreError::query("business connections"))?;
        // A row that no longer reads (edited by hand) counts as unknown: it is looked up
        // again and rewritten.
        Ok(text.and_then(|text| serde_json::from_str(&text).ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn connection(id: &str, enabled: bool) -> Connection {
        Connection {
            id: id.into(),
            user_id: 1001,
            user_chat_id: 1001,
            rights: BTreeSet::from(["can_reply".to_string()]),
            is_enabled: enabled,
            date: 1,
        }
    }

    #[test]
    fn a_connection_is_its_bots_and_the_latest_word_counts() {
        let store = Store::default();
        assert_eq!(store.business_connection("a", "c1").expect("read"), None);
        store
            .record_business_connection("a", &connection("c1", true))
            .expect("recorded");
        store
            .record_business_connection("a", &connection("c1", false))
            .expect("recorded again");
        let kept = store.business_connection("a", "c1").expect("read");
        assert_eq!(kept, Some(connection("c1", false)));
        assert_eq!(store.business_connection("b", "c1").expect("read"), None);
    }
}
