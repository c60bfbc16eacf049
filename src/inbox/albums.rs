//! Albums in the inbox: each part of an album is recorded in the transaction that keeps it
//! ([`Inbox::accept`]), so an album half-received when the process stops is gathered on after
//! the restart; closing an album turns its recorded parts into one update of the inbox's own
//! making ([`album::update`]), kept like any other in the same transaction, so it is handled
//! exactly once whatever stops when.

use super::{Inbox, InboxError, db};
use crate::store::StoreError;
use crate::store::sql::{Connection, params};
use crate::telegram::album::{self, Part};
use serde_json::Value;

/// An album with parts recorded and not yet closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAlbum {
    /// Its chat.
    pub chat: i64,
    /// Telegram's `media_group_id`.
    pub media_group_id: String,
}

impl Inbox {
    /// Record `part` of update `update_id` (inside the transaction `tx` that keeps it).
    pub(super) fn record_part(
        &self,
        tx: &Connection,
        update_id: i64,
        part: &Part,
    ) -> Result<(), StoreError> {
        tx.execute(
            "INSERT INTO inbox_album_parts (bot, update_id, chat_key, media_group_id, message)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            params![
                self.bot,
                update_id,
                part.chat,
                part.media_group_id,
                part.message.to_string()
            ],
        )
        .map(drop)
        .map_err(StoreError::query("inbox"))
    }

    /// The albums with parts recorded and not closed, oldest part first.
    pub fn open_albums(&self) -> Result<Vec<OpenAlbum>, InboxError> {
        let rows: Vec<(i64, String)> = self
            .store
            .lock()
            .query_map(
                "SELECT chat_key, media_group_id FROM inbox_album_parts WHERE bot = ?1
                 GROUP BY chat_key, media_group_id ORDER BY MIN(update_id)",
                params![self.bot],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|(chat, media_group_id)| OpenAlbum {
                chat,
                media_group_id,
            })
            .collect())
    }

    /// Close `album`: its recorded parts become one album update, kept (pending) in the same
    /// transaction that forgets them. `None` when it has no parts recorded (closed before).
    pub fn close_album(&self, album: &OpenAlbum) -> Result<Option<Value>, InboxError> {
        let kept = self.accept_made(|tx| {
            let rows: Vec<(i64, String)> = tx
                .query_map(
                    "DELETE FROM inbox_album_parts
                     WHERE bot = ?1 AND chat_key = ?2 AND media_group_id = ?3
                     RETURNING update_id, message",
                    params![self.bot, album.chat, album.media_group_id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .map_err(StoreError::query("inbox"))?;
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            // Written by `record_part` from a parsed update: a part that no longer reads
            // back is left out (with its reason) rather than holding the album up.
            let parts = rows
                .into_iter()
                .filter_map(|(id, text)| {
                    serde_json::from_str(&text)
                        .inspect_err(|e| {
                            tracing::error!("inbox: album part {id} cannot be read back ({e})")
                        })
                        .ok()
                })
                .collect();
            let id = self.local_update_id(tx)?;
            Ok(album::update(id, &album.media_group_id, parts)
                .into_iter()
                .collect())
        })?;
        Ok(kept.into_iter().next())
    }
}
