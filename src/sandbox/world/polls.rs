//! Polls as the sandbox answers the bot about them: a poll (or quiz) is a message carrying
//! its `Poll`, open until the bot stops it; a stopped poll cannot be stopped again.

use super::{BOT_ID, Refusal, World};
use serde_json::{Map, Value, json};

impl World {
    /// `sendPoll`: a new message with the poll, no votes yet.
    pub(super) fn send_poll(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let chat = self.chat(params)?.id;
        let question = params
            .get("question")
            .and_then(Value::as_str)
            .filter(|q| !q.is_empty())
            .ok_or_else(|| Refusal::bad_request("poll question must be non-empty"))?;
        let options: Vec<Value> = params
            .get("options")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|o| json!({"text": o["text"].as_str().or(o.as_str()), "voter_count": 0}))
            .collect();
        if !(2..=12).contains(&options.len()) {
            return Err(Refusal::bad_request("poll must have at least 2 option"));
        }
        let kind = params
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("regular");
        let flag =
            |key: &str, default: bool| params.get(key).and_then(Value::as_bool).unwrap_or(default);
        let mut poll = json!({
            "question": question, "options": options, "total_voter_count": 0,
            "is_closed": false, "is_anonymous": flag("is_anonymous", true), "type": kind,
            "allows_multiple_answers": flag("allows_multiple_answers", false),
        });
        if kind == "quiz" {
            let correct = params.get("correct_option_id").and_then(Value::as_u64);
            match correct.and_then(|c| usize::try_from(c).ok()) {
                Some(c) if c < options.len() => poll["correct_option_id"] = c.into(),
                _ => return Err(Refusal::bad_request("wrong poll correct option id")),
            }
            if let Some(explanation) = params.get("explanation") {
                poll["explanation"] = explanation.clone();
            }
        }
        let reply_to = self.reply_target(chat, params)?;
        let mut content = Map::new();
        content.insert("poll".into(), poll);
        let mut message = self.store_message(chat, BOT_ID, content, reply_to);
        let id = message["message_id"].as_i64().unwrap_or_default();
        let poll_id = format!("{}{id:06}", chat.unsigned_abs());
        message["poll"]["id"] = poll_id.clone().into();
        if let Some(stored) = self
            .chats
            .get_mut(&chat)
            .and_then(|c| c.messages.get_mut(&id))
        {
            stored["poll"]["id"] = poll_id.into();
        }
        Ok(message)
    }

    /// `stopPoll`: the poll of a message the bot sent, closed; answers the final `Poll`.
    pub(super) fn stop_poll(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let chat = self.chat(params)?.id;
        let id = params
            .get("message_id")
            .and_then(Value::as_i64)
            .unwrap_or_default();
        let message = self
            .chats
            .get_mut(&chat)
            .and_then(|c| c.messages.get_mut(&id))
            .ok_or_else(|| Refusal::bad_request("message with poll to stop not found"))?;
        if message["from"]["id"] != json!(BOT_ID) {
            return Err(Refusal::bad_request("message can't be edited"));
        }
        let poll = message
            .get_mut("poll")
            .ok_or_else(|| Refusal::bad_request("message with poll to stop not found"))?;
        if poll["is_closed"] == json!(true) {
            return Err(Refusal::bad_request("poll has already been closed"));
        }
        poll["is_closed"] = true.into();
        Ok(poll.clone())
    }
}
