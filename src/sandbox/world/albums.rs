//! Albums the bot sends (`sendMediaGroup`): checked whole first, as Telegram does, then each
//! item a message of its own, all with one `media_group_id`; an uploaded file is the part an
//! item points at (`attach://name`).

use super::{Refusal, World};
use crate::telegram::album::MAX_PARTS;
use serde_json::{Map, Value};

/// The kinds of media an album holds.
const KINDS: [&str; 4] = ["photo", "video", "document", "audio"];

impl World {
    /// `sendMediaGroup`: the sent messages.
    pub(super) fn send_media_group(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let chat = self.chat(params)?.id;
        let items = params
            .get("media")
            .and_then(Value::as_array)
            .ok_or_else(|| Refusal::bad_request("can't parse media JSON array"))?;
        if !(2..=MAX_PARTS).contains(&items.len()) {
            return Err(Refusal::bad_request("media must include 2-10 items"));
        }
        let mut sends = Vec::with_capacity(items.len());
        for item in items {
            let kind = item["type"].as_str().unwrap_or_default();
            if !KINDS.contains(&kind) {
                return Err(Refusal::bad_request(
                    "can't parse InputMedia: media type invalid",
                ));
            }
            let file = match item["media"].as_str() {
                Some(attached) if attached.starts_with("attach://") => params
                    .get(&attached["attach://".len()..])
                    .cloned()
                    .ok_or_else(|| Refusal::bad_request("can't find attached file"))?,
                Some(id) if !id.is_empty() => Value::String(id.to_string()),
                _ => {
                    return Err(Refusal::bad_request(
                        "can't parse InputMedia: media is empty",
                    ));
                }
            };
            let mut send = Map::new();
            send.insert("chat_id".into(), chat.into());
            send.insert(kind.into(), file);
            for key in ["caption", "parse_mode"] {
                if let Some(value) = item.get(key) {
                    send.insert(key.into(), value.clone());
                }
            }
            if let Some(reply) = params.get("reply_parameters") {
                send.insert("reply_parameters".into(), reply.clone());
            }
            sends.push((kind, send));
        }
        let mut sent = Vec::with_capacity(sends.len());
        for (kind, send) in &sends {
            sent.push(self.send_file(send, kind)?);
        }
        let first = sent
            .first()
            .and_then(|m| m["message_id"].as_i64())
            .unwrap_or_default();
        let group = format!("sandbox-sent-album-{chat}-{first}");
        for message in &mut sent {
            message["media_group_id"] = group.clone().into();
            let id = message["message_id"].as_i64().unwrap_or_default();
            if let Some(kept) = self
                .chats
                .get_mut(&chat)
                .and_then(|c| c.messages.get_mut(&id))
            {
                kept["media_group_id"] = group.clone().into();
            }
        }
        Ok(Value::Array(sent))
    }
}
