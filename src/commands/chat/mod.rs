//! Chat actions over the Bot API, one table entry each ([`ACTIONS`]): the name, the Bot API
//! method, the request fields, how scripts call it, its doc, and the pure function that turns
//! a request into the exact Bot API call ([`prepare`], tested without a server). [`execute`]
//! sends it through [`Effects`].

mod albums;
mod inline;
#[macro_use]
mod media;
mod bot_profile;
mod business;
mod durations;
mod edits;
mod forum;
mod members;
mod messages;
mod payments;
mod polls;
#[cfg(test)]
mod refusals;
mod relay;
mod roster;
mod send;
mod settings;
mod signals;

use super::{FieldSpec, Overloads};
use crate::effects::Effects;
use crate::request::{CommandError, Fields, as_int};
use crate::telegram::UpdateContext;
use serde_json::{Map, Value};

pub use business::BUSINESS;
pub use inline::result_problem;
pub use media::{MAX_CALLBACK_DATA, check_markup};
pub use members::ADMIN_RIGHTS;
pub use messages::SEND_MESSAGE;
pub use payments::STARS;
pub use signals::{CHAT_ACTIONS, REACTIONS};

/// The parameters of one Bot API call.
pub type Params = Map<String, Value>;

/// Which Bot API method an action calls, and what it answers.
#[derive(Debug, Clone, Copy)]
pub enum Method {
    /// Always this one; the action answers Telegram's result.
    Fixed(&'static str),
    /// Always this one; the action answers `true` for whatever Telegram confirmed.
    Confirmed(&'static str),
    /// The one the request names in this field (`bot_api`).
    Field(&'static str),
}

/// The request fields an action takes.
#[derive(Debug, Clone, Copy)]
pub enum Takes {
    /// These; any other is ignored (the gateway answers it with a warning).
    Only(&'static [FieldSpec]),
    /// These, and any other, passed through to the Bot API (message options).
    AndMore(&'static [FieldSpec]),
}

impl Takes {
    /// The fields listed.
    pub fn fields(&self) -> &'static [FieldSpec] {
        match self {
            Takes::Only(fields) | Takes::AndMore(fields) => fields,
        }
    }

    /// Whether fields beyond the listed ones go to the Bot API (and so are not unknown).
    pub fn passes_more(&self) -> bool {
        matches!(self, Takes::AndMore(_))
    }
}

/// The target chat, as the gateway must give it.
const CHAT_ID: FieldSpec = FieldSpec::required(
    "chat_id",
    "integer|string",
    "-1001234567890",
    "the chat: an integer id or \"@username\" (scripts: the current chat when left out)",
);

/// The member an action is about.
const USER_ID: FieldSpec = FieldSpec::required(
    "user_id",
    "integer|string",
    "42",
    "the user: an integer id or a string of digits (scripts: the current user when left out)",
);

/// When a restriction or ban ends.
const UNTIL_DATE: FieldSpec = FieldSpec::optional(
    "until_date",
    "integer",
    "Unix seconds it ends at (left out or 0: forever)",
);

/// One chat action.
pub struct ChatAction {
    /// The builtin's and the gateway action's name.
    pub name: &'static str,
    /// Its reference text: what it does, a runnable example.
    pub doc: &'static str,
    /// How scripts call it: each overload's parameters (`name: Type`, the return type last).
    /// A parameter named `options` is a map of more request fields.
    pub overloads: Overloads,
    /// The Bot API method it calls.
    pub method: Method,
    /// The request fields it takes.
    pub takes: Takes,
    /// What a success's `data` looks like: an example, as JSON text.
    pub returns: &'static str,
    /// The call's parameters for a request; `ctx` (the update being handled) fills in the
    /// chat, user and message the request leaves out.
    pub build: fn(&Fields, &UpdateContext) -> Result<Params, CommandError>,
}

/// Every chat action.
pub const ACTIONS: &[ChatAction] = &[
    members::TG_CHAT_PERMISSION,
    members::TG_RESTRICT_CHAT_MEMBER,
    members::TG_BAN_CHAT_MEMBER,
    members::TG_UNBAN_CHAT_MEMBER,
    members::TG_PROMOTE_CHAT_MEMBER,
    members::TG_GET_CHAT_MEMBER,
    messages::TG_DELETE_MESSAGE,
    messages::TG_PIN_CHAT_MESSAGE,
    messages::TG_UNPIN_CHAT_MESSAGE,
    members::TG_APPROVE_CHAT_JOIN_REQUEST,
    members::TG_DECLINE_CHAT_JOIN_REQUEST,
    messages::TG_CREATE_CHAT_INVITE_LINK,
    settings::TG_REVOKE_CHAT_INVITE_LINK,
    settings::TG_EXPORT_CHAT_INVITE_LINK,
    settings::TG_SET_CHAT_TITLE,
    settings::TG_SET_CHAT_DESCRIPTION,
    settings::TG_SET_CHAT_PHOTO,
    settings::TG_DELETE_CHAT_PHOTO,
    settings::TG_BAN_CHAT_SENDER_CHAT,
    settings::TG_UNBAN_CHAT_SENDER_CHAT,
    settings::TG_SET_MY_COMMANDS,
    messages::SEND_MESSAGE,
    messages::REPLY,
    media::EDIT_MESSAGE_TEXT,
    media::EDIT_MESSAGE_REPLY_MARKUP,
    media::SEND_PHOTO,
    media::SEND_DOCUMENT,
    albums::SEND_MEDIA_GROUP,
    messages::ANSWER_CALLBACK_QUERY,
    messages::TG_UNPIN_ALL,
    forum::TG_CREATE_FORUM_TOPIC,
    forum::TG_EDIT_FORUM_TOPIC,
    forum::TG_CLOSE_FORUM_TOPIC,
    forum::TG_REOPEN_FORUM_TOPIC,
    forum::TG_DELETE_FORUM_TOPIC,
    forum::TG_UNPIN_TOPIC_MESSAGES,
    forum::TG_EDIT_GENERAL_FORUM_TOPIC,
    forum::TG_CLOSE_GENERAL_FORUM_TOPIC,
    forum::TG_REOPEN_GENERAL_FORUM_TOPIC,
    forum::TG_HIDE_GENERAL_FORUM_TOPIC,
    forum::TG_UNHIDE_GENERAL_FORUM_TOPIC,
    relay::TG_COPY_MESSAGE,
    relay::TG_FORWARD_MESSAGE,
    edits::TG_EDIT_MESSAGE_CAPTION,
    edits::TG_EDIT_MESSAGE_MEDIA,
    bot_profile::TG_SET_MY_DESCRIPTION,
    bot_profile::TG_GET_MY_DESCRIPTION,
    bot_profile::TG_SET_MY_SHORT_DESCRIPTION,
    bot_profile::TG_GET_MY_SHORT_DESCRIPTION,
    bot_profile::TG_GET_MY_COMMANDS,
    bot_profile::TG_DELETE_MY_COMMANDS,
    roster::TG_GET_CHAT_MEMBER_COUNT,
    roster::TG_SET_ADMINISTRATOR_TITLE,
    signals::TG_SEND_CHAT_ACTION,
    signals::TG_SET_MESSAGE_REACTION,
    signals::TG_CALLBACK_URL_OPEN,
    send::TG_SEND_ANIMATION,
    send::TG_SEND_AUDIO,
    send::TG_SEND_STICKER,
    send::TG_SEND_VIDEO,
    send::TG_SEND_VIDEO_NOTE,
    send::TG_SEND_VOICE,
    send::TG_SEND_CONTACT,
    send::TG_SEND_DICE,
    send::TG_SEND_LOCATION,
    send::TG_SEND_VENUE,
    polls::TG_SEND_POLL,
    polls::TG_SEND_QUIZ_POLL,
    polls::TG_STOP_POLL,
    inline::ANSWER_INLINE_QUERY,
    payments::SEND_INVOICE,
    payments::CREATE_INVOICE_LINK,
    payments::ANSWER_PRE_CHECKOUT_QUERY,
    payments::ANSWER_SHIPPING_QUERY,
    payments::REFUND_STAR_PAYMENT,
    payments::EDIT_USER_STAR_SUBSCRIPTION,
    payments::GET_STAR_TRANSACTIONS,
    payments::SEND_PAID_MEDIA,
    business::TG_GET_BUSINESS_CONNECTION,
    business::TG_READ_BUSINESS_MESSAGE,
    business::TG_DELETE_BUSINESS_MESSAGES,
    messages::BOT_API,
];

impl super::Named for ChatAction {
    fn name(&self) -> &'static str {
        self.name
    }
}

impl ChatAction {
    /// The Bot API method and JSON parameters this action sends for `request`, validated.
    /// `context` is the update being handled: its chat, user and message fill in what the
    /// request leaves out.
    pub fn prepare(
        &self,
        request: &Map<String, Value>,
        context: Option<&UpdateContext>,
    ) -> Result<(String, Value), CommandError> {
        // A field an action does not take is ignored: its build never sees it.
        let only: Map<String, Value>;
        let request = match self.takes {
            Takes::Only(fields) => {
                only = request
                    .iter()
                    .filter(|(key, _)| fields.iter().any(|f| f.name == key.as_str()))
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect();
                &only
            }
            Takes::AndMore(_) => request,
        };
        let f = Fields::new(self.name, request);
        let none = UpdateContext::default();
        let ctx = context.unwrap_or(&none);
        let mut params = (self.build)(&f, ctx)?;
        if self.takes.fields().contains(&BUSINESS) {
            business::fill(&f, ctx, &mut params)?;
        }
        let method = match self.method {
            Method::Fixed(method) | Method::Confirmed(method) => method,
            Method::Field(field) => f.opt_str(field)?.unwrap_or_default(),
        };
        Ok((method.to_string(), Value::Object(params)))
    }

    /// Validate `request`, send it through `effects` and return Telegram's result (`true`
    /// for the actions that confirm).
    pub fn run(
        &self,
        effects: &dyn Effects,
        request: &Map<String, Value>,
        context: Option<&UpdateContext>,
    ) -> Result<Value, CommandError> {
        // A length (`hours`, `minutes`) becomes `until_date` by the effects' clock.
        let resolved;
        let request = match durations::wanted(self.takes.fields(), request) {
            true => {
                let now = effects.now();
                resolved = durations::resolve(self.name, self.takes.fields(), request, now)?;
                &resolved
            }
            false => request,
        };
        let (method, params) = self.prepare(request, context)?;
        let value = effects.bot(self.name, &method, &params)?;
        match self.method {
            Method::Confirmed(_) => Ok(Value::Bool(value != Value::Bool(false))),
            _ => Ok(value),
        }
    }
}

/// The target chat: the request's `chat_id` (integer, digits or `@username`), else the
/// current update's chat.
fn chat_id(f: &Fields, ctx: &UpdateContext) -> Result<Value, CommandError> {
    match f.get("chat_id") {
        Some(value) => {
            chat_ref(value).ok_or_else(|| f.error("chat_id must be an integer or an \"@username\""))
        }
        None => ctx
            .chat_id
            .map(Value::from)
            .ok_or_else(|| f.error("no current chat: pass chat_id as the first argument")),
    }
}

/// The request's `message_id`, else the message being handled.
fn message_id(f: &Fields, ctx: &UpdateContext) -> Result<i64, CommandError> {
    match f.opt_int("message_id")? {
        Some(id) => Ok(id),
        None => ctx
            .message_id
            .ok_or_else(|| f.error("message_id is required (no current message)")),
    }
}

/// A chat as a request names it: an integer id (or a string of digits), or `"@username"`.
fn chat_ref(value: &Value) -> Option<Value> {
    if let Some(id) = as_int(value) {
        return Some(id.into());
    }
    value
        .as_str()
        .filter(|s| s.len() > 1 && s.starts_with('@'))
        .map(Value::from)
}

/// Copy the optional integer `key` of the request into `params`.
fn put_opt_int(f: &Fields, params: &mut Params, key: &str) -> Result<(), CommandError> {
    put(params, key, f.opt_int(key)?)
}

/// Copy the optional boolean `key` of the request into `params`.
fn put_opt_bool(f: &Fields, params: &mut Params, key: &str) -> Result<(), CommandError> {
    put(params, key, f.opt_bool(key)?)
}

/// Copy the optional string `key` of the request into `params`.
fn put_opt_str(f: &Fields, params: &mut Params, key: &str) -> Result<(), CommandError> {
    put(params, key, f.opt_str(key)?)
}

fn put(
    params: &mut Params,
    key: &str,
    value: Option<impl Into<Value>>,
) -> Result<(), CommandError> {
    if let Some(value) = value {
        params.insert(key.into(), value.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chat action named `name`.
    fn by_name(name: &str) -> &'static ChatAction {
        crate::commands::find(ACTIONS, name).expect("a chat action")
    }

    #[test]
    fn a_request_of_only_the_documented_fields_validates() {
        // As the gateway asks: no update is being handled.
        for action in ACTIONS {
            let request = crate::commands::fields::example_request(action.takes.fields());
            if let Err(e) = action.prepare(&request, None) {
                panic!(
                    "{}: the documented example {request:?} is refused: {e}",
                    action.name
                );
            }
            let returns: Result<Value, _> = serde_json::from_str(action.returns);
            assert!(returns.is_ok(), "{}: returns is not JSON", action.name);
        }
    }

    #[test]
    fn validation_reads_only_documented_fields() {
        let ctx = UpdateContext::default();
        for action in ACTIONS {
            let read = |f: &Fields| {
                let _ = (action.build)(f, &ctx);
                if let Method::Field(field) = action.method {
                    let _ = f.opt_str(field);
                }
            };
            let fields = action.takes.fields();
            let unknown = crate::commands::fields::undocumented_reads(fields, read, action.name);
            assert!(
                unknown.is_empty(),
                "{} reads undocumented {unknown:?}",
                action.name
            );
        }
    }

    #[test]
    fn reply_takes_the_message_named_else_the_one_being_handled() {
        let named = serde_json::json!({"chat_id": 5, "text": "hi", "message_id": 3});
        let (method, params) = by_name("reply")
            .prepare(named.as_object().expect("map"), None)
            .expect("served");
        assert_eq!(method, "sendMessage");
        assert_eq!(
            params,
            serde_json::json!({"chat_id": 5, "text": "hi", "reply_parameters": {"message_id": 3}})
        );
        let ctx = UpdateContext {
            chat_id: Some(5),
            message_id: Some(7),
            ..UpdateContext::default()
        };
        let current = serde_json::json!({"text": "hi"});
        let (_, params) = by_name("reply")
            .prepare(current.as_object().expect("map"), Some(&ctx))
            .expect("served");
        assert_eq!(
            params["reply_parameters"],
            serde_json::json!({"message_id": 7})
        );
        let none = serde_json::json!({"chat_id": 5, "text": "hi"});
        let refused = by_name("reply").prepare(none.as_object().expect("map"), None);
        assert!(
            refused.is_err_and(|e| e.error.contains("pass message_id")),
            "no message to reply to"
        );
    }

    #[test]
    fn unknown_fields_are_ignored_not_refused() {
        let request = serde_json::json!({"chat_id": 1, "user_id": 2, "options": {}});
        let (method, params) = by_name("tg_get_chat_member")
            .prepare(request.as_object().expect("map"), None)
            .expect("served");
        assert_eq!(method, "getChatMember");
        assert_eq!(params, serde_json::json!({"chat_id": 1, "user_id": 2}));
        // Not even a field another action takes reaches the Bot API.
        let request =
            serde_json::json!({"chat_id": 1, "message_id": 2, "disable_notification": true});
        let (_, params) = by_name("tg_delete_message")
            .prepare(request.as_object().expect("map"), None)
            .expect("served");
        assert_eq!(params, serde_json::json!({"chat_id": 1, "message_id": 2}));
    }
}
