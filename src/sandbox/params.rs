//! A request's parameters as Telegram reads them, whatever the body: JSON, a form
//! (`application/x-www-form-urlencoded`) or `multipart/form-data`, where every value is
//! text. Each parameter of a known kind ([`KINDS`]) is read as that kind when it is given as
//! text — `"-100123"` as an integer, `"true"` as a boolean, `"{…}"` as a JSON object — as the
//! Bot API does; what cannot be read so stays as it was, and the method refuses it as
//! Telegram would.

use serde_json::{Map, Value};

/// What a parameter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An integer (`chat_id` may also be an `@username`: then it stays text).
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A JSON object or array, sent as JSON text in a form.
    Json,
}

/// The parameters the sandbox's methods read, by kind; every `can_*` right or permission
/// is a boolean too.
const KINDS: &[(&str, Kind)] = &[
    ("chat_id", Kind::Integer),
    ("user_id", Kind::Integer),
    ("message_id", Kind::Integer),
    ("sender_chat_id", Kind::Integer),
    ("reply_to_message_id", Kind::Integer),
    ("message_thread_id", Kind::Integer),
    ("until_date", Kind::Integer),
    ("expire_date", Kind::Integer),
    ("member_limit", Kind::Integer),
    ("offset", Kind::Integer),
    ("limit", Kind::Integer),
    ("timeout", Kind::Integer),
    ("cache_time", Kind::Integer),
    ("max_connections", Kind::Integer),
    ("from_chat_id", Kind::Integer),
    ("icon_color", Kind::Integer),
    ("correct_option_id", Kind::Integer),
    ("only_if_banned", Kind::Boolean),
    ("revoke_messages", Kind::Boolean),
    ("is_anonymous", Kind::Boolean),
    ("creates_join_request", Kind::Boolean),
    ("allow_sending_without_reply", Kind::Boolean),
    ("disable_notification", Kind::Boolean),
    ("protect_content", Kind::Boolean),
    ("show_alert", Kind::Boolean),
    ("drop_pending_updates", Kind::Boolean),
    ("has_spoiler", Kind::Boolean),
    ("use_independent_chat_permissions", Kind::Boolean),
    ("allows_multiple_answers", Kind::Boolean),
    ("is_big", Kind::Boolean),
    ("reply_markup", Kind::Json),
    ("reply_parameters", Kind::Json),
    ("permissions", Kind::Json),
    ("commands", Kind::Json),
    ("scope", Kind::Json),
    ("allowed_updates", Kind::Json),
    ("entities", Kind::Json),
    ("caption_entities", Kind::Json),
    ("link_preview_options", Kind::Json),
    ("media", Kind::Json),
    ("options", Kind::Json),
    ("reaction", Kind::Json),
];

/// The kind of parameter `name`, if the sandbox reads it as other than text.
fn kind(name: &str) -> Option<Kind> {
    if name.starts_with("can_") {
        return Some(Kind::Boolean);
    }
    KINDS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, kind)| *kind)
}

/// `value` read as `kind` when it is text that reads so; else unchanged.
fn read(value: Value, kind: Kind) -> Value {
    let Value::String(text) = &value else {
        return value;
    };
    let text = text.trim();
    let read = match kind {
        Kind::Integer => text.parse::<i64>().ok().map(Value::from),
        Kind::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(Value::Bool(true)),
            "false" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        Kind::Json => serde_json::from_str::<Value>(text)
            .ok()
            .filter(|v| v.is_object() || v.is_array()),
    };
    read.unwrap_or(value)
}

/// `params` with each known parameter read as its kind (see the module's doc).
pub fn as_telegram_reads(params: Map<String, Value>) -> Map<String, Value> {
    params
        .into_iter()
        .map(|(name, value)| {
            let value = match kind(&name) {
                Some(kind) => read(value, kind),
                None => value,
            };
            (name, value)
        })
        .collect()
}

/// The fields of a form body (`a=1&b=two`), each as text.
pub fn form(body: &[u8]) -> Result<Map<String, Value>, serde_urlencoded::de::Error> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)?;
    Ok(pairs
        .into_iter()
        .map(|(name, value)| (name, Value::String(value)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_read_as_the_parameters_kind_and_what_does_not_read_stays() {
        let params = form(
            b"chat_id=-1001&user_id=7&can_send_messages=false&only_if_banned=True\
              &text=123&reply_markup=%7B%22inline_keyboard%22%3A%5B%5D%7D&chat_id2=5",
        )
        .expect("a form");
        let read = Value::Object(as_telegram_reads(params));
        assert_eq!(
            read,
            json!({"chat_id": -1001, "user_id": 7, "can_send_messages": false,
                "only_if_banned": true, "text": "123",
                "reply_markup": {"inline_keyboard": []}, "chat_id2": "5"})
        );
        let odd = Map::from_iter([
            ("chat_id".to_string(), json!("@channel")),
            ("until_date".to_string(), json!("soon")),
            ("permissions".to_string(), json!("not json")),
        ]);
        assert_eq!(
            Value::Object(as_telegram_reads(odd)),
            json!({"chat_id": "@channel", "until_date": "soon", "permissions": "not json"})
        );
    }
}
