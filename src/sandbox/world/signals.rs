//! What the bot shows without sending a message, as the sandbox answers it: a chat action
//! (one of Telegram's) and reactions on a message that exists, remembered per message until
//! changed (`[]` takes them away).

use super::{Refusal, World};
use serde_json::{Map, Value, json};

impl World {
    /// `sendChatAction`: confirmed for one of Telegram's actions in a known chat.
    pub(super) fn send_chat_action(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        self.chat(params)?;
        let action = params.get("action").and_then(Value::as_str);
        match action.is_some_and(|a| crate::commands::chat::CHAT_ACTIONS.contains(&a)) {
            true => Ok(json!(true)),
            false => Err(Refusal::bad_request("wrong parameter action in request")),
        }
    }

    /// `setMessageReaction`: the bot's reactions on the message, replaced.
    pub(super) fn set_message_reaction(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let chat = self.chat(params)?.id;
        let id = params
            .get("message_id")
            .and_then(Value::as_i64)
            .unwrap_or_default();
        if self.message(chat, id).is_none() {
            return Err(Refusal::bad_request("message to react not found"));
        }
        let reaction = params.get("reaction").cloned().unwrap_or(json!([]));
        let Some(list) = reaction.as_array() else {
            return Err(Refusal::bad_request(
                "can't parse reaction types JSON object",
            ));
        };
        match list.is_empty() {
            true => self.reactions.remove(&(chat, id)),
            false => self.reactions.insert((chat, id), reaction.clone()),
        };
        Ok(json!(true))
    }

    /// The bot's reactions on message `id` of `chat` (a list of `ReactionType`), if any.
    pub fn reactions(&self, chat: i64, id: i64) -> Option<&Value> {
        self.reactions.get(&(chat, id))
    }
}
