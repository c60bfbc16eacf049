//! Chat actions over the Bot API, one table entry each ([`ACTIONS`]): the name, the Bot API
//! method, the request fields, how scripts call it, its doc, and the pure function that turns
//! a request into the exact Bot API call ([`prepare`], tested without a server). [`execute`]
//! sends it through [`Effects`].

mod members;
mod messages;

use super::Overloads;
use crate::effects::Effects;
use crate::request::{CommandError, Fields, as_int};
use crate::telegram::UpdateContext;
use serde_json::{Map, Value};

pub use members::ADMIN_RIGHTS;

/// The parameters of one Bot API call.
pub type Params = Map<String, Value>;

/// Which Bot API method an action calls.
#[derive(Debug, Clone, Copy)]
pub enum Method {
    /// Always this one.
    Fixed(&'static str),
    /// The one the request names in this field (`bot_api`).
    Field(&'static str),
}

/// One chat action.
pub struct ChatAction {
    /// The builtin's and the gateway action's name.
    pub name: &'static str,
    /// The Bot API method it calls.
    pub method: Method,
    /// The request fields it takes.
    pub fields: &'static [&'static str],
    /// Whether other fields are passed through to the Bot API (message options) instead of
    /// refused.
    pub open: bool,
    /// Whether it answers `true` for whatever Telegram confirmed, instead of the result.
    pub confirms: bool,
    /// How scripts call it: each overload's parameters (`name: Type`, the return type last).
    /// A parameter named `options` is a map of more request fields.
    pub overloads: Overloads,
    /// Its reference text: what it does, a runnable example.
    pub doc: &'static str,
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
    messages::SEND_MESSAGE,
    messages::REPLY,
    messages::ANSWER_CALLBACK_QUERY,
    messages::BOT_API,
];

/// The action named `name`.
pub fn find(name: &str) -> Option<&'static ChatAction> {
    ACTIONS.iter().find(|a| a.name == name)
}

/// Whether `name` is a chat action.
pub fn is_action(name: &str) -> bool {
    find(name).is_some()
}

/// Every chat action name.
pub fn action_names() -> impl Iterator<Item = &'static str> {
    ACTIONS.iter().map(|a| a.name)
}

/// The Bot API method and JSON parameters `action` sends for `request`, validated.
/// `context` is the update being handled: its chat, user and message fill in what the
/// request leaves out.
pub fn prepare(
    action: &str,
    request: &Map<String, Value>,
    context: Option<&UpdateContext>,
) -> Result<(String, Value), CommandError> {
    let spec = find(action)
        .ok_or_else(|| CommandError::invalid(action, format!("unknown action '{action}'")))?;
    let f = Fields::new(spec.name, request);
    if !spec.open
        && let Some(unknown) = request.keys().find(|k| !spec.fields.contains(&k.as_str()))
    {
        return Err(f.error(format!(
            "unknown field '{unknown}' (known: {})",
            spec.fields.join(", ")
        )));
    }
    let params = (spec.build)(&f, context.unwrap_or(&UpdateContext::default()))?;
    let method = match spec.method {
        Method::Fixed(method) => method,
        Method::Field(field) => f.opt_str(field)?.unwrap_or_default(),
    };
    Ok((method.to_string(), Value::Object(params)))
}

/// Validate `request`, send it through `effects` and return Telegram's result (`true` for
/// the actions that confirm).
pub fn execute(
    effects: &dyn Effects,
    action: &str,
    request: &Map<String, Value>,
    context: Option<&UpdateContext>,
) -> Result<Value, CommandError> {
    let (method, params) = prepare(action, request, context)?;
    let value = effects.bot(action, &method, &params)?;
    match find(action) {
        Some(spec) if spec.confirms => Ok(Value::Bool(value != Value::Bool(false))),
        _ => Ok(value),
    }
}

/// The target chat: the request's `chat_id` (integer, digits or `@username`), else the
/// current update's chat.
fn chat_id(f: &Fields, ctx: &UpdateContext) -> Result<Value, CommandError> {
    match f.get("chat_id") {
        Some(value) => {
            if let Some(id) = as_int(value) {
                Ok(id.into())
            } else if let Some(name) = value.as_str().filter(|s| s.len() > 1 && s.starts_with('@'))
            {
                Ok(name.into())
            } else {
                Err(f.error("chat_id must be an integer or an \"@username\""))
            }
        }
        None => ctx
            .chat_id
            .map(Value::from)
            .ok_or_else(|| f.error("no current chat: pass chat_id as the first argument")),
    }
}

fn put_opt_int(f: &Fields, params: &mut Params, key: &str) -> Result<(), CommandError> {
    if let Some(value) = f.opt_int(key)? {
        params.insert(key.into(), value.into());
    }
    Ok(())
}
