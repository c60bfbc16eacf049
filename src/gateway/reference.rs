//! The protocol reference (`tgscript docs --gateway`), generated from the action tables:
//! every action the gateway accepts ([`actions::all`]) with its fields, its success and error
//! events and an example request and event.

use super::actions::{self, Access, Action, ENVELOPE, Kind};
use super::events::PROTOCOL_VERSION;
use super::subscribe::PUSHED;
use crate::accounts::AuthState;
use crate::commands::{FieldSpec, fields};
use serde_json::{Map, Value, json};

/// What the reference says of the protocol before the actions.
const PREAMBLE: &str = "\
Requests are JSON objects: WebSocket text frames on `/ws` (one event answers each) or the body
of `POST /command` (answered with its event). A success is `{\"type\": \"chat_update\",
\"event\": <action>, \"data\": ...}`; a failure is `<action>_error` with `error` (and `code`
for Telegram's and TDLib's errors); a request that names no known action gets an `error` event.
`request_id` and `userbot_id` are echoed. Fields an action does not know are ignored and
reported in the event's `warnings` (`unknown field 'x' ignored (known: ...)`); the request is
served. `POST /command` answers a success with 200 and an error event with 400 (validation, an
unknown action, bad JSON), 401 (an action the token does not allow), 413 (too large), the
error's code when it is 4xx/5xx (Telegram's, TDLib's; 504 when TDLib does not answer), 502 for
other codes, 500 for internal errors. The token goes in `Authorization: Bearer <token>` or, for
browsers, as the WebSocket subprotocols `tgscript, bearer.<token>`. Three kinds of token: the
admin's (`[gateway] admin_token`: everything), the operator's (`[gateway] token`: every action
that is not an admin's, on every bot and account), and a tenant's (`[[tenant]] token_env`, or
one `add_tenant_token` made: the tenant's own bots, accounts, scripts, inbox and activity only;
anything else is answered as if it did not exist or with 403).";

/// The reference as a JSON value: `{"envelope": [...], "actions": [...], "events": [...],
/// "authorization_states": [...]}`.
pub fn to_value() -> Value {
    json!({
        "envelope": ENVELOPE.iter().map(field).collect::<Vec<_>>(),
        "actions": actions::all().map(|a| entry(&a)).collect::<Vec<_>>(),
        "events": PUSHED.iter().map(|(name, data, example)| {
            json!({"name": name, "data": data, "example": parse(example)})
        }).collect::<Vec<_>>(),
        "authorization_states": AuthState::NAMES,
    })
}

/// One field: `{name, type, required, default, doc}`.
fn field(f: &FieldSpec) -> Value {
    json!({
        "name": f.name,
        "type": f.ty,
        "required": f.required,
        "default": f.default.map(parse),
        "doc": f.doc,
    })
}

/// JSON text from a table as a value (text that is not JSON as a string).
fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// What the kind of an action is called in the reference.
fn kind_words(action: &Action) -> &'static str {
    match (action.kind(), action.access()) {
        (Kind::Account, _) => "account command (TDLib, needs `userbot_id`)",
        (Kind::Login, _) => {
            "login step (TDLib, needs `userbot_id`; codes and passwords are never logged)"
        }
        (Kind::Chat, _) => "chat action (Bot API)",
        (Kind::Gateway, Access::Admin) => "gateway action, needs the admin token",
        (Kind::Gateway, Access::Tenant) => {
            "gateway action, needs the admin token or a tenant's (its own bots and accounts)"
        }
        (Kind::Gateway, Access::Anyone) => "gateway action",
    }
}

/// An example request of `action` and the event answering it.
fn example(action: &Action) -> (Value, Value) {
    let mut envelope = Map::new();
    envelope.insert("action".into(), action.name().into());
    envelope.insert("request_id".into(), 1.into());
    if matches!(action.kind(), Kind::Account | Kind::Login) {
        envelope.insert("userbot_id".into(), 1.into());
    }
    let mut request = envelope.clone();
    request.extend(fields::example_request(action.fields()));
    let mut event = json!({"v": PROTOCOL_VERSION, "type": "chat_update", "event": action.name(), "request_id": 1});
    if let Some(id) = envelope.get("userbot_id") {
        event["userbot_id"] = id.clone();
    }
    event["data"] = parse(action.returns());
    (Value::Object(request), event)
}

/// One action's entry.
fn entry(action: &Action) -> Value {
    let (request, event) = example(action);
    json!({
        "name": action.name(),
        "kind": action.kind().name(),
        "access": action.access().name(),
        "fields": action.fields().iter().map(field).collect::<Vec<_>>(),
        "passes_more": action.passes_more(),
        "doc": prose(action.doc()),
        "success": action.success(),
        "error_event": format!("{}_error", action.name()),
        "errors": action.errors(),
        "example": {"request": request, "event": event},
    })
}

/// An action's doc without the script example the builtins' reference shows.
pub(super) fn prose(doc: &str) -> &str {
    doc.split("\n# Example").next().unwrap_or_default().trim()
}

/// A table of fields, in Markdown.
fn field_table(fields: &[FieldSpec]) -> String {
    let mut out = String::from(
        "| Field | Type | Required | Default | Description |\n|---|---|---|---|---|\n",
    );
    for f in fields {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            f.name,
            f.ty.replace('|', "\\|"),
            if f.required { "required" } else { "optional" },
            f.default.map_or("—".to_string(), |d| format!("`{d}`")),
            f.doc.replace('|', "\\|"),
        ));
    }
    out
}

/// The reference as Markdown: the envelope, then one section per action.
pub fn to_markdown() -> String {
    let mut out = format!(
        "# tgscript gateway protocol\n\nGenerated from the action tables \
         (`tgscript docs --gateway`).\n\n{PREAMBLE}\n\n## Envelope\n\nEvery request may carry \
         these, whatever its action.\n\n{}",
        field_table(ENVELOPE)
    );
    for action in actions::all() {
        let name = action.name();
        out.push_str(&format!("\n## `{name}`\n\n*{}*\n\n", kind_words(&action)));
        out.push_str(prose(action.doc()));
        out.push_str("\n\n");
        if action.fields().is_empty() {
            out.push_str("No fields besides the envelope.\n");
        } else {
            out.push_str(&field_table(action.fields()));
        }
        if action.passes_more() {
            out.push_str("\nOther fields are passed to the Bot API as they are.\n");
        }
        out.push_str(&format!(
            "\n**Success:** event `{name}`, `data`: {}\n\n**Errors** (event `{name}_error`):\n\n",
            action.success()
        ));
        for error in action.errors() {
            out.push_str(&format!("- {error}\n"));
        }
        let (request, event) = example(&action);
        out.push_str(&format!(
            "\n**Example**\n\n```json\n{request}\n{event}\n```\n"
        ));
    }
    out.push_str(&format!(
        "\n## Pushed events\n\nAfter `subscribe`, on the WebSocket, in order per account. The \
         authorization states: {}.\n",
        AuthState::NAMES
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    for (name, data, example) in PUSHED {
        out.push_str(&format!(
            "\n### `{name}`\n\n`data`: {data}\n\n```json\n{example}\n```\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_text_is_json_and_every_required_field_has_an_example() {
        for action in actions::all() {
            let returns: Result<Value, _> = serde_json::from_str(action.returns());
            assert!(returns.is_ok(), "{}: returns is not JSON", action.name());
            for f in action.fields().iter().chain(ENVELOPE) {
                for text in f.default.iter().chain(f.example.iter()) {
                    let parsed: Result<Value, _> = serde_json::from_str(text);
                    assert!(
                        parsed.is_ok(),
                        "{}.{}: {text} is not JSON",
                        action.name(),
                        f.name
                    );
                }
                assert!(
                    !f.required || f.example.is_some(),
                    "{}.{}",
                    action.name(),
                    f.name
                );
            }
        }
    }

    #[test]
    fn every_pushed_event_has_a_json_example_of_its_own_name() {
        for (name, _, example) in PUSHED {
            let event: Value = serde_json::from_str(example).expect("JSON");
            assert_eq!(event["event"], json!(name));
        }
        assert!(to_markdown().contains("`wait_other_device_confirmation`"));
    }

    #[test]
    fn the_example_event_answers_the_example_request() {
        let reference = to_value();
        let all = reference["actions"].as_array().expect("actions");
        assert_eq!(all.len(), actions::all().count());
        for entry in all {
            let example = &entry["example"];
            assert_eq!(example["request"]["action"], entry["name"]);
            assert_eq!(example["event"]["event"], entry["name"]);
        }
    }
}
