//! Business accounts: the `business_connection_id` every action that sends or edits a
//! message on an account's behalf takes ([`BUSINESS`]: listing it among an action's fields is
//! the whole opt-in — it is documented, validated, and filled in from the business update
//! being handled by [`ChatAction::prepare`](super::ChatAction::prepare)), and the
//! business-only methods: reading and deleting the account's messages, looking a connection
//! up. Whether the connection is the bot's, enabled, and grants the right is the host's check
//! (`crate::telegram::business`), made before Telegram is asked.

use super::{ChatAction, Method, Params, Takes, chat_id, message_id};
use crate::commands::FieldSpec;
use crate::request::{CommandError, Fields, as_int};
use crate::telegram::UpdateContext;
use crate::telegram::business::{FIELD, id_problem};
use serde_json::{Map, Value};

/// The connection an action sends or edits through, on a business account's behalf.
pub const BUSINESS: FieldSpec = FieldSpec::optional(
    FIELD,
    "string|boolean",
    "send or edit on a business account's behalf, through this connection (scripts: handling \
     a business message, its connection when the chat is its chat; false: as the bot); the \
     connection must be this bot's, enabled, and grant the right",
);

/// The connection a business-only method acts through.
const CONNECTION: FieldSpec = FieldSpec::required(
    FIELD,
    "string",
    r#""AbCdEfGh_123""#,
    "the business connection (scripts: the one of the business update being handled)",
);

/// Most messages `deleteBusinessMessages` takes at once.
const MAX_DELETED: usize = 100;

/// Put the connection into `params` of an action that takes [`BUSINESS`]: the request's
/// (checked; `false` sends as the bot), else — handling a business message and sending to its
/// chat — the update's, so a reply goes out through the connection it came through, not as
/// the bot.
pub(super) fn fill(
    f: &Fields,
    ctx: &UpdateContext,
    params: &mut Params,
) -> Result<(), CommandError> {
    match f.get(FIELD) {
        Some(Value::Bool(false)) => {
            params.remove(FIELD);
        }
        Some(named) => {
            if let Some(problem) = id_problem(named) {
                return Err(f.error(format!("{problem}, or false to send as the bot")));
            }
            params.insert(FIELD.into(), named.clone());
        }
        None => {
            let chat = params.get("chat_id").and_then(as_int);
            match (&ctx.business_connection_id, ctx.in_business_chat) {
                (Some(id), true) if chat.is_some() && chat == ctx.chat_id => {
                    params.insert(FIELD.into(), id.clone().into());
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The connection a business-only method acts through: the request's, else the business
/// update's.
fn connection(f: &Fields, ctx: &UpdateContext) -> Result<String, CommandError> {
    match f.get(FIELD) {
        Some(named) => match id_problem(named) {
            Some(problem) => Err(f.error(problem)),
            None => Ok(named.as_str().unwrap_or_default().to_string()),
        },
        None => ctx.business_connection_id.clone().ok_or_else(|| {
            f.error(format!(
                "{FIELD} is required (no business update is being handled)"
            ))
        }),
    }
}

pub(super) const TG_GET_BUSINESS_CONNECTION: ChatAction = ChatAction {
    name: "tg_get_business_connection",
    doc: r#"
The business connection (`getBusinessConnection`): the account's `user`, `user_chat_id`,
`rights` (`can_reply`, `can_read_messages`, …) and `is_enabled`. Without an id, the one of the
business update being handled.

# Example
```rhai
fn on_business_message(msg) {
    let c = tg_get_business_connection();
    if !c.rights.can_read_messages { print("cannot mark messages read"); }
}
```
"#,
    overloads: &[&["Map"], &["business_connection_id: String", "Map"]],
    method: Method::Fixed("getBusinessConnection"),
    takes: Takes::Only(&[CONNECTION]),
    returns: r#"{"id": "AbCdEfGh_123", "user": {"id": 1001, "is_bot": false, "first_name": "Alice"}, "user_chat_id": 1001, "date": 1767225600, "rights": {"can_reply": true, "can_read_messages": true}, "is_enabled": true}"#,
    build: |f, ctx| {
        let mut params = Map::new();
        params.insert(FIELD.into(), connection(f, ctx)?.into());
        Ok(params)
    },
};

pub(super) const TG_READ_BUSINESS_MESSAGE: ChatAction = ChatAction {
    name: "tg_read_business_message",
    doc: r#"
Mark a message of a business account's chat as read (`readBusinessMessage`); without
arguments, the business message being handled. Needs the connection's `can_read_messages`.

# Example
```rhai
fn on_business_message(msg) { tg_read_business_message(); }
```
"#,
    overloads: &[
        &["bool"],
        &["message_id: INT", "bool"],
        &["chat_id: INT", "message_id: INT", "bool"],
    ],
    method: Method::Confirmed("readBusinessMessage"),
    takes: Takes::Only(&[
        CONNECTION,
        FieldSpec::required(
            "chat_id",
            "integer",
            "1002",
            "the chat (scripts: the business message's when left out)",
        ),
        FieldSpec::required(
            "message_id",
            "integer",
            "7",
            "the message (scripts: the one being handled when left out)",
        ),
    ]),
    returns: "true",
    build: |f, ctx| {
        let mut params = Map::new();
        params.insert(FIELD.into(), connection(f, ctx)?.into());
        let chat = chat_id(f, ctx)?;
        if !chat.is_i64() {
            return Err(f.error("chat_id must be the integer id of a business chat"));
        }
        params.insert("chat_id".into(), chat);
        params.insert("message_id".into(), message_id(f, ctx)?.into());
        Ok(params)
    },
};

pub(super) const TG_DELETE_BUSINESS_MESSAGES: ChatAction = ChatAction {
    name: "tg_delete_business_messages",
    doc: r#"
Delete messages of a business account's chats (`deleteBusinessMessages`), all of one chat, up
to 100; without arguments, the business message being handled. Needs the connection's
`can_delete_sent_messages` (the bot's own) or `can_delete_all_messages`.

# Example
```rhai
fn on_business_message(msg) {
    if msg.text.contains("spam") { tg_delete_business_messages([msg.message_id]); }
}
```
"#,
    overloads: &[&["bool"], &["message_ids: Array", "bool"]],
    method: Method::Confirmed("deleteBusinessMessages"),
    takes: Takes::Only(&[
        CONNECTION,
        FieldSpec::required(
            "message_ids",
            "list",
            "[7, 8]",
            "1–100 message ids of one chat (scripts: the message being handled when left out)",
        ),
    ]),
    returns: "true",
    build: |f, ctx| {
        let mut params = Map::new();
        params.insert(FIELD.into(), connection(f, ctx)?.into());
        let ids: Vec<i64> = match f.get("message_ids") {
            None => vec![message_id(f, ctx).map_err(|_| {
                f.error("message_ids is required (no business message is being handled)")
            })?],
            Some(Value::Array(ids)) => ids
                .iter()
                .map(|id| as_int(id).ok_or_else(|| f.error("message_ids must be integers")))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(f.error("message_ids must be a list of integers")),
        };
        if ids.is_empty() || ids.len() > MAX_DELETED {
            return Err(f.error(format!(
                "message_ids must hold 1 to {MAX_DELETED} ids, got {}",
                ids.len()
            )));
        }
        params.insert("message_ids".into(), ids.into());
        Ok(params)
    },
};

#[cfg(test)]
mod tests {
    use super::super::{ACTIONS, Takes};
    use super::*;
    use serde_json::json;

    /// The context of a business message from a customer (chat 1002) through `AbC`.
    fn business_message() -> UpdateContext {
        UpdateContext::from_update(&json!({"update_id": 3, "business_message": {
            "message_id": 7, "date": 1, "business_connection_id": "AbC",
            "chat": {"id": 1002, "type": "private"}, "from": {"id": 1002, "is_bot": false, "first_name": "Bob"},
            "text": "hi"}}))
    }

    fn prepare(name: &str, request: Value, ctx: &UpdateContext) -> Result<Value, CommandError> {
        let action = crate::commands::find(ACTIONS, name).expect("an action");
        action
            .prepare(request.as_object().expect("a map"), Some(ctx))
            .map(|(_, params)| params)
    }

    #[test]
    fn a_reply_to_a_business_message_goes_through_its_connection() {
        let ctx = business_message();
        assert!(ctx.in_business_chat);
        let params = prepare("reply", json!({"text": "hello"}), &ctx).expect("built");
        assert_eq!(
            params,
            json!({"chat_id": 1002, "text": "hello", "business_connection_id": "AbC",
                   "reply_parameters": {"message_id": 7}})
        );
        // Elsewhere (the team's group), as the bot.
        let elsewhere = prepare(
            "send_message",
            json!({"chat_id": -100, "text": "lead"}),
            &ctx,
        )
        .expect("built");
        assert_eq!(elsewhere, json!({"chat_id": -100, "text": "lead"}));
        // `false`: as the bot, even in the business chat.
        let as_bot = prepare(
            "tg_send_dice",
            json!({"business_connection_id": false}),
            &ctx,
        )
        .expect("built");
        assert_eq!(as_bot.get(FIELD), None);
    }

    #[test]
    fn the_connection_update_itself_is_no_business_chat() {
        let ctx = UpdateContext::from_update(&json!({"update_id": 4, "business_connection": {
            "id": "AbC", "user": {"id": 1001, "is_bot": false, "first_name": "Alice"},
            "user_chat_id": 1001, "date": 1, "is_enabled": true}}));
        let params = prepare(
            "send_message",
            json!({"chat_id": 1001, "text": "thanks"}),
            &ctx,
        )
        .expect("built");
        assert_eq!(params.get(FIELD), None, "the owner is thanked as the bot");
        let read = prepare("tg_get_business_connection", json!({}), &ctx).expect("built");
        assert_eq!(read, json!({"business_connection_id": "AbC"}));
    }

    #[test]
    fn a_named_connection_is_checked() {
        let ctx = UpdateContext::default();
        for bad in [json!(""), json!(5), json!("a b"), json!(true)] {
            let refused = prepare(
                "send_message",
                json!({"chat_id": 1, "text": "x", "business_connection_id": bad}),
                &ctx,
            );
            assert!(
                refused.is_err_and(|e| e.error.contains("business_connection_id must")),
                "{bad} accepted"
            );
        }
        let named = prepare(
            "edit_message_text",
            json!({"chat_id": 1, "message_id": 2, "text": "x", "business_connection_id": "Z"}),
            &ctx,
        )
        .expect("built");
        assert_eq!(named[FIELD], json!("Z"));
    }

    #[test]
    fn the_business_only_methods_default_to_the_message_being_handled() {
        let ctx = business_message();
        let read = prepare("tg_read_business_message", json!({}), &ctx).expect("built");
        assert_eq!(
            read,
            json!({"business_connection_id": "AbC", "chat_id": 1002, "message_id": 7})
        );
        let deleted = prepare("tg_delete_business_messages", json!({}), &ctx).expect("built");
        assert_eq!(
            deleted,
            json!({"business_connection_id": "AbC", "message_ids": [7]})
        );
        let none = prepare(
            "tg_delete_business_messages",
            json!({"message_ids": []}),
            &ctx,
        );
        assert!(none.is_err_and(|e| e.error.contains("1 to 100")));
        let outside = prepare(
            "tg_read_business_message",
            json!({}),
            &UpdateContext::default(),
        );
        assert!(outside.is_err_and(|e| e.error.contains("no business update")));
    }

    #[test]
    fn every_action_sending_on_a_users_behalf_takes_the_connection() {
        let takes: Vec<&str> = ACTIONS
            .iter()
            .filter(|a| a.takes.fields().contains(&BUSINESS))
            .map(|a| a.name)
            .collect();
        for name in [
            "send_message",
            "reply",
            "send_photo",
            "send_document",
            "edit_message_text",
            "edit_message_reply_markup",
            "tg_edit_message_caption",
            "tg_edit_message_media",
            "tg_send_poll",
            "tg_send_quiz_poll",
            "tg_stop_poll",
            "tg_send_dice",
            "tg_send_chat_action",
            "tg_pin_chat_message",
            "tg_unpin_chat_message",
            "tg_send_voice",
            "tg_send_venue",
            "send_paid_media",
            "send_media_group",
        ] {
            assert!(takes.contains(&name), "{name} does not take {FIELD}");
        }
        for name in [
            "tg_copy_message",
            "tg_forward_message",
            "send_invoice",
            "tg_delete_message",
        ] {
            assert!(
                !takes.contains(&name),
                "{name}: the Bot API takes no {FIELD}"
            );
        }
        assert!(ACTIONS.iter().all(|a| !matches!(a.takes, Takes::Only(f) if f.contains(&BUSINESS) && f.contains(&CONNECTION))));
    }
}
