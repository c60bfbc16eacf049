//! Inline mode in the sandbox: a user types `@sandbox_bot query` (an `inline_query`), the bot
//! answers with results, the user picks one — it is posted as their message "via" the bot,
//! and the bot gets a `chosen_inline_result`.

use super::{Refusal, World};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// The inline queries asked, and their answers.
#[derive(Debug, Default)]
pub struct Inline {
    /// Queries asked and not answered yet: their text, who asked, in which chat.
    asked: HashMap<String, Asked>,
    /// The last answered query of each user: the query and its results.
    answered: HashMap<i64, (Asked, Vec<Value>)>,
    /// Numbers for query ids.
    made: u64,
}

/// One inline query.
#[derive(Debug, Clone)]
struct Asked {
    query: String,
    user: i64,
    chat: i64,
}

impl World {
    /// `user` types `@bot query` in `chat`: an `inline_query` is queued.
    pub fn ask_inline(&mut self, chat: i64, user: i64, query: &str) -> String {
        self.inline.made += 1;
        let id = format!("{}", 9_000_000 + self.inline.made);
        let chat_type = match self.chats.get(&chat).map(|c| self.chat_json(c)) {
            Some(chat) => chat["type"].as_str().unwrap_or("supergroup").to_string(),
            None => "sender".to_string(),
        };
        self.push_update(json!({"inline_query": {
            "id": id, "from": self.user_json(user), "query": query, "offset": "",
            "chat_type": chat_type,
        }}));
        let asked = Asked {
            query: query.to_string(),
            user,
            chat,
        };
        self.inline.asked.insert(id.clone(), asked);
        id
    }

    /// `answerInlineQuery`: the results are what the user sees.
    pub(super) fn answer_inline_query(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let id = params
            .get("inline_query_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let results = params
            .get("results")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let asked = self.inline.asked.remove(id).ok_or_else(|| {
            Refusal::bad_request(
                "query is too old and response timeout expired or query ID is invalid",
            )
        })?;
        self.inline.answered.insert(asked.user, (asked, results));
        Ok(true.into())
    }

    /// `user` picks result `n` (from 1) of the bot's last answer to them: it is posted as
    /// their message via the bot, and a `chosen_inline_result` is queued. Returns the result's
    /// title or id.
    pub fn choose_inline(&mut self, user: i64, n: usize) -> Result<String, String> {
        let (asked, results) = self
            .inline
            .answered
            .get(&user)
            .cloned()
            .ok_or("the bot has answered no inline query of yours: /inline TEXT first")?;
        let result = n
            .checked_sub(1)
            .and_then(|i| results.get(i))
            .ok_or_else(|| {
                format!(
                    "there are {} results: /choose 1 to {}",
                    results.len(),
                    results.len()
                )
            })?;
        let mut content = Map::new();
        match result["input_message_content"]["message_text"].as_str() {
            Some(text) => {
                content.insert("text".into(), text.into());
            }
            None => {
                let file = ["photo_url", "photo_file_id", "gif_url", "gif_file_id"]
                    .iter()
                    .find_map(|key| result[*key].as_str())
                    .unwrap_or_default();
                content.insert(
                    "photo".into(),
                    json!([{"file_id": file, "file_unique_id": format!("u{file}")}]),
                );
            }
        }
        content.insert("via_bot".into(), self.bot.clone());
        if let Some(markup) = result.get("reply_markup") {
            content.insert("reply_markup".into(), markup.clone());
        }
        let message = self.store_message(asked.chat, user, content, None);
        self.push_update(json!({ "message": message }));
        let id = result["id"].as_str().unwrap_or_default().to_string();
        self.push_update(json!({"chosen_inline_result": {
            "result_id": id, "from": self.user_json(user), "query": asked.query,
        }}));
        Ok(result["title"].as_str().map_or(id, str::to_string))
    }
}
