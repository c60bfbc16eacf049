//! Albums: Telegram sends each photo or video of an album (a media group) as its own message,
//! all with one `media_group_id`. What makes a message a part of one, and the update an
//! album is handled as once its parts are in:
//! `{"update_id": <negative>, "album": {"media_group_id", "chat", "from", "message_id",
//! "messages": [...]}}` — the first part's chat, sender and id, so the album's context is
//! its first message's, and every part in the order Telegram sent them.

use super::update::{self, UpdateKind};
use serde_json::{Map, Value, json};

/// The key an album sits under in the update it is handled as.
pub const ALBUM: &str = "album";

/// The most parts Telegram puts in one album: an album that has them is complete.
pub const MAX_PARTS: usize = 10;

/// A part of an album: its chat (as [`update::chat_key`] orders it), the album's id and the
/// message.
#[derive(Debug, Clone, PartialEq)]
pub struct Part<'a> {
    /// The chat the album is in.
    pub chat: i64,
    /// Telegram's `media_group_id`.
    pub media_group_id: &'a str,
    /// The part.
    pub message: &'a Value,
}

/// The album part `update` is, if it is one: a new message, channel post or business message
/// with a `media_group_id` (an edit of a part is an edit like any other).
pub fn part(update: &Value) -> Option<Part<'_>> {
    let (kind, _, message) = update::kind(update);
    if !matches!(
        kind,
        Some(UpdateKind::Message | UpdateKind::ChannelPost | UpdateKind::BusinessMessage)
    ) {
        return None;
    }
    let media_group_id = message["media_group_id"].as_str()?;
    Some(Part {
        chat: update::chat_key(update),
        media_group_id,
        message,
    })
}

/// The update album `media_group_id` is handled as, with id `update_id`, from its `parts`
/// (ordered by message id, each once); `None` without parts.
pub fn update(update_id: i64, media_group_id: &str, mut parts: Vec<Value>) -> Option<Value> {
    parts.sort_by_key(|m| m["message_id"].as_i64());
    parts.dedup_by_key(|m| m["message_id"].as_i64());
    let first = parts.first()?;
    let mut album = Map::new();
    album.insert("media_group_id".into(), media_group_id.into());
    for key in ["chat", "from", "sender_chat", "business_connection_id"] {
        if let Some(value) = first.get(key) {
            album.insert(key.into(), value.clone());
        }
    }
    album.insert("message_id".into(), first["message_id"].clone());
    album.insert("messages".into(), Value::Array(parts));
    Some(json!({"update_id": update_id, ALBUM: album}))
}

/// The messages of an album update, if `update` is one.
pub fn messages(update: &Value) -> Option<&Value> {
    update.get(ALBUM).map(|album| &album["messages"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::UpdateContext;

    fn photo(id: i64, group: &str) -> Value {
        json!({"message_id": id, "date": 1, "media_group_id": group,
            "chat": {"id": -100, "type": "supergroup"}, "from": {"id": 7, "is_bot": false, "first_name": "A"},
            "photo": [{"file_id": format!("p{id}"), "file_unique_id": "u", "width": 1, "height": 1}]})
    }

    #[test]
    fn parts_are_new_messages_with_a_media_group_and_edits_are_not() {
        let message = json!({"update_id": 1, "message": photo(5, "g1")});
        let part = part(&message).expect("a part");
        assert_eq!((part.chat, part.media_group_id), (-100, "g1"));
        assert_eq!(part.message["message_id"], 5);
        let edited = json!({"update_id": 2, "edited_message": photo(5, "g1")});
        assert_eq!(super::part(&edited), None);
        let plain = json!({"update_id": 3, "message": {"message_id": 6, "chat": {"id": -100}}});
        assert_eq!(super::part(&plain), None);
    }

    #[test]
    fn an_album_has_its_first_parts_context_and_every_part_once_in_order() {
        let album = update(
            -9,
            "g1",
            vec![photo(12, "g1"), photo(11, "g1"), photo(12, "g1")],
        )
        .expect("an album");
        let ids: Vec<_> = messages(&album)
            .and_then(Value::as_array)
            .map(|m| m.iter().map(|m| m["message_id"].clone()).collect())
            .unwrap_or_default();
        assert_eq!(ids, [json!(11), json!(12)]);
        let ctx = UpdateContext::from_update(&album);
        assert_eq!(
            (ctx.update_id, ctx.chat_id, ctx.user_id, ctx.message_id),
            (-9, Some(-100), Some(7), Some(11))
        );
        assert_eq!(update::chat_key(&album), -100);
        assert_eq!(update(-9, "g1", Vec::new()), None);
    }
}
