//! Passing a message on, as the sandbox answers it: `copyMessage` (the content alone, a new
//! caption if asked) and `forwardMessage` (the content with its `forward_origin`), into a
//! chat that exists, from a message that does.

use super::{BOT_ID, Refusal, World};
use serde_json::{Map, Value, json};

/// A message's own fields, not its content: what a copy or a forward does not keep.
const ENVELOPE: [&str; 9] = [
    "message_id",
    "date",
    "chat",
    "from",
    "reply_to_message",
    "edit_date",
    "forward_origin",
    "reply_markup",
    "message_thread_id",
];

impl World {
    /// `copyMessage`: answers the copy's `MessageId`.
    pub(super) fn copy_message(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let (chat, mut content) = self.relayed(params, "message to copy not found")?;
        if let Some(caption) = params.get("caption") {
            content.insert("caption".into(), caption.clone());
        }
        if let Some(markup) = params.get("reply_markup") {
            content.insert("reply_markup".into(), markup.clone());
        }
        let copy = self.store_message(chat, BOT_ID, content, None);
        Ok(json!({"message_id": copy["message_id"]}))
    }

    /// `forwardMessage`: answers the forwarded message.
    pub(super) fn forward_message(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let (chat, mut content) = self.relayed(params, "message to forward not found")?;
        let (from, id) = source(params);
        let original = self.message(from, id).cloned().unwrap_or_default();
        content.insert(
            "forward_origin".into(),
            json!({"type": "user", "date": original["date"], "sender_user": original["from"]}),
        );
        Ok(self.store_message(chat, BOT_ID, content, None))
    }

    /// The target chat of a relay and the content of the message it passes on (`missing`
    /// words the refusal when that message does not exist).
    fn relayed(
        &self,
        params: &Map<String, Value>,
        missing: &str,
    ) -> Result<(i64, Map<String, Value>), Refusal> {
        let chat = self.chat(params)?.id;
        let (from, id) = source(params);
        let original = self
            .message(from, id)
            .and_then(Value::as_object)
            .ok_or_else(|| Refusal::bad_request(missing))?;
        let content = original
            .iter()
            .filter(|(key, _)| !ENVELOPE.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        Ok((chat, content))
    }
}

/// The chat and id of the message a relay passes on.
fn source(params: &Map<String, Value>) -> (i64, i64) {
    let int = |key: &str| match params.get(key) {
        Some(Value::String(s)) => s.parse().unwrap_or_default(),
        Some(value) => value.as_i64().unwrap_or_default(),
        None => 0,
    };
    (int("from_chat_id"), int("message_id"))
}
