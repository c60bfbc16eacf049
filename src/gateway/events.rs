//! The events that answer request frames: one per frame, an action's `data` or its
//! `_error`, with `request_id` and `userbot_id` echoed.

use super::actions::{self, Action, ActionSpec, Run, WhichBot};
use super::request::{Asked, NotARequest};
use super::{Client, Gateway, MAX_FRAME, admin};
use crate::request::CommandError;
use crate::telemetry;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// The protocol's version, in every event (`"v": 1`), its paths (`/v1/command`, `/v1/ws`)
/// and its WebSocket subprotocol (`tgscript.v1`).
pub const PROTOCOL_VERSION: u64 = 1;

/// A new event named `name`: `{"v": 1, "type": "chat_update", "event": name}`.
pub(super) fn event(name: &str) -> Value {
    json!({"v": PROTOCOL_VERSION, "type": "chat_update", "event": name})
}

/// What a refused HTTP request (an origin, a token) is answered with: `{"v": 1, "error"}`.
pub(super) fn refusal(error: &str) -> Value {
    json!({"v": PROTOCOL_VERSION, "error": error})
}

/// A stand-in for a `request_id` too big for a JSON number here, replaced by its digits in
/// the event's text.
const EXACT_ID: &str = "\u{0}request_id\u{0}";

/// Answer one request frame with its event, as JSON text, for the operator's client (not
/// the admin). A numeric `request_id` comes back exactly as it was written, however many
/// digits it has.
pub fn handle(gw: &Gateway, text: &str) -> String {
    handle_as(gw, text, &Client::Operator)
}

/// [`handle`], for `client`.
pub fn handle_as(gw: &Gateway, text: &str, client: &Client) -> String {
    match Asked::parse(text) {
        Ok(asked) => respond(gw, &asked, client).0,
        Err(refused) => not_a_request(refused).0,
    }
}

/// The `error` event of a frame that is no request, with its HTTP status (400).
pub(super) fn not_a_request(refused: NotARequest) -> (String, StatusCode) {
    let event = error_event(refused.userbot_id, refused.request_id, &refused.error);
    count(&event);
    (event.to_string(), status(&event))
}

/// The event answering `asked`, as JSON text, with the HTTP status `POST /command` answers
/// it with ([`status`]). A numeric `request_id` comes back exactly as it was written.
pub(super) fn respond(gw: &Gateway, asked: &Asked, client: &Client) -> (String, StatusCode) {
    let mut event = answer(gw, asked, client);
    count(&event);
    let mut status = status(&event);
    let exact = asked.exact_id.as_deref();
    let mut text = render(&mut event, exact);
    if text.len() > gw.max_answer_size {
        event = too_big_answer(&event, text.len(), gw.max_answer_size);
        status = StatusCode::UNPROCESSABLE_ENTITY;
        text = render(&mut event, exact);
    }
    (text, status)
}

/// `event` as JSON text, its `request_id` written as `digits` when those are given (a
/// number too big for a JSON number here).
fn render(event: &mut Value, digits: Option<&str>) -> String {
    match digits {
        Some(digits) if event.get("request_id").is_some() => {
            event["request_id"] = json!(EXACT_ID);
            let placeholder = json!(EXACT_ID).to_string();
            event.to_string().replacen(&placeholder, digits, 1)
        }
        _ => event.to_string(),
    }
}

/// What a client gets instead of `event`, whose answer would be `size` bytes, over `limit`:
/// the same action's error event, saying how to get less.
fn too_big_answer(event: &Value, size: usize, limit: usize) -> Value {
    let action = event["event"].as_str().unwrap_or("error");
    let action = action.strip_suffix("_error").unwrap_or(action);
    let mut refused = error_event(
        event.get("userbot_id").cloned(),
        event.get("request_id").cloned(),
        &format!(
            "the answer would be {size} bytes, more than the gateway sends ([gateway] max_answer_size = {limit}): ask for less (fewer items, a smaller value), or have the operator raise the limit"
        ),
    );
    if action != "error" {
        refused["event"] = json!(format!("{action}_error"));
    }
    refused
}

/// The HTTP status of `event`: 200 for a success; for an error, its `code` when that is an
/// HTTP error status (Telegram's and TDLib's are: 400, 401, 403, 404, 429, 504 …), 502 for
/// any other code, and 400 without one (a validation error, an unknown action, bad JSON).
pub(super) fn status(event: &Value) -> StatusCode {
    if event.get("error").is_none() {
        return StatusCode::OK;
    }
    match event.get("code").and_then(Value::as_i64) {
        None => StatusCode::BAD_REQUEST,
        Some(code) => u16::try_from(code)
            .ok()
            .filter(|code| (400..=599).contains(code))
            .and_then(|code| StatusCode::from_u16(code).ok())
            .unwrap_or(StatusCode::BAD_GATEWAY),
    }
}

/// Count a request by action (as the event names it: known actions only) and outcome.
fn count(event: &Value) {
    let name = event["event"].as_str().unwrap_or("error");
    let (action, outcome) = match name.strip_suffix("_error") {
        _ if name == "error" => ("unknown", "error"),
        Some(action) => (action, "error"),
        None => (name, "ok"),
    };
    metrics::counter!(
        telemetry::GATEWAY_REQUESTS,
        "action" => action.to_string(),
        "outcome" => outcome
    )
    .increment(1);
}

/// The event answering `asked` for `client`: its action's `data`, or its `_error`.
fn answer(gw: &Gateway, asked: &Asked, client: &Client) -> Value {
    let action = asked.action.name();
    let warnings = asked.action.warnings(&asked.fields);
    let result = asked.admit(client).and_then(|()| run(gw, asked, client));
    let mut event = event(action);
    if let Some(id) = asked.userbot_id() {
        event["userbot_id"] = id.clone();
    }
    if let Some(id) = asked.request_id() {
        event["request_id"] = id.clone();
    }
    match result {
        Ok(data) => event["data"] = data,
        Err(e) => {
            event["event"] = json!(format!("{action}_error"));
            event["error"] = json!(e.error);
            if let Some(code) = e.code {
                event["code"] = json!(code);
            }
        }
    }
    if !warnings.is_empty() {
        event["warnings"] = json!(warnings);
    }
    event
}

/// Run `asked` for `client` where its action says: in this process, on a login of an
/// account, or on a bot.
fn run(gw: &Gateway, asked: &Asked, client: &Client) -> Result<Value, CommandError> {
    let name = asked.action.name();
    match asked.action {
        Action::Gateway(ActionSpec {
            run: Run::Here(run),
            ..
        }) => run(gw, client, name, &asked.fields),
        Action::Gateway(ActionSpec {
            run: Run::Connection(_),
            ..
        }) => Err(CommandError::invalid(name, actions::WEBSOCKET_ONLY)),
        Action::Login(_) => gw
            .effects_for(client, name)
            .and_then(|effects| asked.action.run_through(&*effects, &asked.fields)),
        Action::Account(_) | Action::Chat(_) | Action::Gateway(_) => on_a_bot(gw, asked, client),
    }
}

/// Run `asked`, an action on a bot, on the bot it names (or the only one), wherever it runs;
/// where no bots run, an account command or a chat action runs through the gateway's own
/// effects, and `check_script` on the scripts folder.
fn on_a_bot(gw: &Gateway, asked: &Asked, client: &Client) -> Result<Value, CommandError> {
    let (action, name, scope) = (asked.action, asked.action.name(), client.tenant());
    if let Some(bots) = &gw.bots {
        return bots.on_bot(action, asked.bot_id()?, scope, &asked.fields);
    }
    match (action, &gw.folder) {
        (Action::Gateway(_), Some(folder)) if action.which_bot() == WhichBot::OnlyNamedOrFolder => {
            action.run_on_bot(folder, scope, &asked.fields)
        }
        (Action::Gateway(_), _) => Err(admin::no_bots(name)),
        _ if asked.bot_id()?.is_some() => Err(admin::no_bots(name)),
        (Action::Chat(_), _) if scope.is_some() => Err(CommandError::invalid(name, admin::NO_BOTS)),
        _ => gw
            .effects_for(client, name)
            .and_then(|effects| action.run_through(&*effects, &asked.fields)),
    }
}

/// An `error` event for a request that could not be run.
pub(super) fn error_event(
    userbot_id: Option<Value>,
    request_id: Option<Value>,
    error: &str,
) -> Value {
    let mut event = event("error");
    event["error"] = json!(error);
    if let Some(id) = userbot_id {
        event["userbot_id"] = id;
    }
    if let Some(id) = request_id {
        event["request_id"] = id;
    }
    event
}

/// The `error` event for a frame over [`MAX_FRAME`].
pub(super) fn too_large(size: usize) -> Value {
    error_event(
        None,
        None,
        &format!("request too large: {size} bytes (the limit is {MAX_FRAME})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_event_gets_its_code_as_the_status_when_it_is_one() {
        let status_of = |code: Option<i64>| {
            let mut event = error_event(None, None, "x");
            if let Some(code) = code {
                event["code"] = json!(code);
            }
            status(&event).as_u16()
        };
        assert_eq!(status(&json!({"event": "x", "data": 1})), StatusCode::OK);
        assert_eq!(status_of(None), 400, "validation");
        assert_eq!(status_of(Some(429)), 429, "Telegram's flood limit");
        assert_eq!(status_of(Some(504)), 504, "TDLib did not answer");
        assert_eq!(status_of(Some(0)), 502, "not an HTTP error code");
        assert_eq!(status_of(Some(200)), 502, "not an error code");
    }
}
