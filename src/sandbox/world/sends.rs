//! What the bot sends that is neither text nor a file, as the sandbox answers it: contacts,
//! dice (each throw's value from the message's id, within the die's faces), locations and
//! venues, each a new message carrying what Telegram puts in it.

use super::{BOT_ID, Refusal, World};
use serde_json::{Map, Value, json};

impl World {
    /// `sendContact`.
    pub(super) fn send_contact(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let mut contact = json!({
            "phone_number": required(params, "phone_number")?,
            "first_name": required(params, "first_name")?,
        });
        for key in ["last_name", "vcard"] {
            if let Some(value) = params.get(key) {
                contact[key] = value.clone();
            }
        }
        self.send_content(params, "contact", contact)
    }

    /// `sendDice`: 🎲 unless another die is named; its value is within the die's faces.
    pub(super) fn send_dice(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let emoji = params.get("emoji").and_then(Value::as_str).unwrap_or("🎲");
        let faces = match emoji {
            "🎲" | "🎯" | "🎳" => 6,
            "🏀" | "⚽" => 5,
            "🎰" => 64,
            _ => return Err(Refusal::bad_request("invalid dice emoji specified")),
        };
        let chat = self.chat(params)?;
        let value = chat.next_message_id % faces + 1;
        self.send_content(params, "dice", json!({"emoji": emoji, "value": value}))
    }

    /// `sendLocation`.
    pub(super) fn send_location(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let location = location(params)?;
        self.send_content(params, "location", location)
    }

    /// `sendVenue`.
    pub(super) fn send_venue(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let venue = json!({
            "location": location(params)?,
            "title": required(params, "title")?,
            "address": required(params, "address")?,
        });
        self.send_content(params, "venue", venue)
    }

    /// A new message from the bot in the call's chat, carrying `value` under `key` (and the
    /// call's buttons).
    fn send_content(
        &mut self,
        params: &Map<String, Value>,
        key: &str,
        value: Value,
    ) -> Result<Value, Refusal> {
        let chat = self.chat(params)?.id;
        let reply_to = self.reply_target(chat, params)?;
        let mut content = Map::new();
        content.insert(key.into(), value);
        if let Some(markup) = params.get("reply_markup") {
            content.insert("reply_markup".into(), markup.clone());
        }
        Ok(self.store_message(chat, BOT_ID, content, reply_to))
    }
}

/// The non-empty string parameter `key`, or Telegram's refusal.
fn required(params: &Map<String, Value>, key: &str) -> Result<Value, Refusal> {
    params
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(Value::from)
        .ok_or_else(|| Refusal::bad_request(&format!("{key} is empty")))
}

/// `latitude` and `longitude` as a `Location`, each within its bounds.
fn location(params: &Map<String, Value>) -> Result<Value, Refusal> {
    let degrees = |key: &str, bound: f64| {
        params
            .get(key)
            .and_then(Value::as_f64)
            .filter(|d| (-bound..=bound).contains(d))
            .ok_or_else(|| Refusal::bad_request("wrong latitude or longitude specified"))
    };
    Ok(json!({
        "latitude": degrees("latitude", 90.0)?,
        "longitude": degrees("longitude", 180.0)?,
    }))
}
