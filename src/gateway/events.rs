//! The events that answer request frames: one per frame, an action's `data` or its
//! `_error`, with `request_id` and `userbot_id` echoed.

use super::actions::{self, Action};
use super::{Client, Gateway, MAX_FRAME, admin};
use crate::commands;
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
    respond(gw, text, client).0
}

/// [`handle_as`], with the HTTP status `POST /command` answers the event with
/// ([`status`]).
pub(super) fn respond(gw: &Gateway, text: &str, client: &Client) -> (String, StatusCode) {
    #[derive(serde::Deserialize)]
    struct Ids<'a> {
        #[serde(borrow)]
        request_id: Option<&'a serde_json::value::RawValue>,
    }
    let mut event = answer(gw, text, client);
    count(&event);
    let mut status = status(&event);
    let raw = serde_json::from_str::<Ids>(text)
        .ok()
        .and_then(|ids| ids.request_id)
        .map(|raw| raw.get().to_string())
        .filter(|raw| {
            let digits = raw.strip_prefix('-').unwrap_or(raw);
            !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && raw.parse::<i64>().is_err()
                && raw.parse::<u64>().is_err()
        });
    let mut text = render(&mut event, raw.as_deref());
    if text.len() > gw.max_answer_size {
        event = too_big_answer(&event, text.len(), gw.max_answer_size);
        status = StatusCode::UNPROCESSABLE_ENTITY;
        text = render(&mut event, raw.as_deref());
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

/// The error event for `text` when it is an action `client`'s token does not allow.
pub(super) fn refused_admin(text: &str, client: &Client) -> Option<String> {
    if *client == Client::Admin {
        return None;
    }
    let request = serde_json::from_str::<Value>(text).ok()?;
    let action = request.get("action")?.as_str()?;
    let access = actions::find(action)?.access();
    if access.allows(client) {
        return None;
    }
    let mut event = error_event(
        request.get("userbot_id").cloned(),
        request.get("request_id").cloned(),
        &admin::unauthorized(action, access).error,
    );
    event["event"] = json!(format!("{action}_error"));
    event["code"] = json!(401);
    count(&event);
    Some(event.to_string())
}

/// The event answering one request frame.
fn answer(gw: &Gateway, text: &str, client: &Client) -> Value {
    let mut request = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map,
        Ok(other) => {
            return error_event(
                None,
                None,
                &format!("a request must be a JSON object, got {}", kind(&other)),
            );
        }
        Err(e) => return error_event(None, None, &format!("invalid JSON: {e}")),
    };
    let request_id = request.get("request_id").cloned();
    let userbot_id = request.get("userbot_id").cloned();
    let action = match request.get("action") {
        Some(Value::String(a)) if !a.is_empty() => a.clone(),
        Some(_) => return error_event(userbot_id, request_id, "action must be a string"),
        None => return error_event(userbot_id, request_id, "action is required"),
    };
    let Some(spec) = actions::find(&action) else {
        return error_event(
            userbot_id,
            request_id,
            &format!("unknown action '{action}' (known: {})", actions::names()),
        );
    };
    let warnings = spec.warnings(&request);
    let result = match spec {
        _ if !spec.access().allows(client) => Err(admin::unauthorized(&action, spec.access())),
        Action::Gateway(own) => (own.run)(gw, client, &action, &request),
        Action::Login(_) => match gw.effects_for(client, &action) {
            Ok(effects) => commands::login::execute_request(&*effects, &request),
            Err(e) => Err(e),
        },
        Action::Account(_) | Action::Chat(_) => {
            let scope = client.tenant();
            match (request.remove("bot_id"), &gw.bots) {
                (None, None) if scope.is_some() && matches!(spec, Action::Chat(_)) => {
                    Err(CommandError::invalid(&action, admin::NO_BOTS))
                }
                (None, None) => gw
                    .effects_for(client, &action)
                    .and_then(|effects| commands::execute_request(&*effects, &request, None)),
                (None, Some(bots)) => bots.execute(&action, None, scope, &request),
                (Some(Value::String(id)), Some(bots)) => {
                    bots.execute(&action, Some(&id), scope, &request)
                }
                (Some(Value::String(_)), None) => Err(admin::no_bots(&action)),
                (Some(_), _) => Err(CommandError::invalid(&action, "bot_id must be a string")),
            }
        }
    };
    let mut event = event(&action);
    if let Some(id) = userbot_id {
        event["userbot_id"] = id;
    }
    if let Some(id) = request_id {
        event["request_id"] = id;
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

/// What kind of JSON value `value` is, in words.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Object(_) => "an object",
    }
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
