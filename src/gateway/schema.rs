//! The protocol as machine-readable documents, generated from the same action tables as the
//! reference ([`super::reference`]): a JSON Schema (2020-12) of every action's request, its
//! result (`data`, typed from the table's example of it), its success and error events and
//! the pushed events; an OpenAPI 3.1 document of `POST /v1/command` (and the operations
//! endpoints); an AsyncAPI 3.0 document of the WebSocket `/v1/ws`. Clients can be generated
//! from them (`tgscript docs --gateway --format openapi|asyncapi|schema`).

use super::actions::{self, Action, ENVELOPE};
use super::events::PROTOCOL_VERSION;
use super::subscribe::PUSHED;
use crate::commands::FieldSpec;
use serde_json::{Map, Value, json};

/// The JSON Schema dialect of every schema here.
const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The schema of a field of type `ty` as the tables write it (`integer|string`, `map`,
/// `list`, `upload`, `any`, …).
fn field_type(ty: &str) -> Value {
    let one = |ty: &str| match ty {
        "integer" => json!({"type": "integer"}),
        "number" => json!({"type": "number"}),
        "string" => json!({"type": "string"}),
        "boolean" => json!({"type": "boolean"}),
        "list" => json!({"type": "array"}),
        "map" => json!({"type": "object"}),
        "upload" => json!({
            "type": "object",
            "properties": {"base64": {"type": "string"}, "filename": {"type": "string"}},
            "required": ["base64"],
        }),
        _ => json!({}),
    };
    let alternatives: Vec<Value> = ty.split('|').map(one).collect();
    match alternatives.as_slice() {
        [single] => single.clone(),
        _ if alternatives.iter().any(|a| a == &json!({})) => json!({}),
        _ => json!({"anyOf": alternatives}),
    }
}

/// The schema of one field: its type, its doc, its default and example.
fn field(f: &FieldSpec) -> Value {
    let mut schema = field_type(f.ty);
    schema["description"] = json!(f.doc);
    if let Some(default) = f
        .default
        .and_then(|d| serde_json::from_str::<Value>(d).ok())
    {
        schema["default"] = default;
    }
    if let Some(example) = f
        .example
        .and_then(|e| serde_json::from_str::<Value>(e).ok())
    {
        schema["examples"] = json!([example]);
    }
    schema
}

/// The schema a value like `example` has: its JSON types, objects with the example's keys
/// (none required: the example may hold optional ones), arrays of what their first item is.
pub fn shape_of(example: &Value) -> Value {
    match example {
        Value::Null => json!({}),
        Value::Bool(_) => json!({"type": "boolean"}),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({"type": "integer"}),
        Value::Number(_) => json!({"type": "number"}),
        Value::String(_) => json!({"type": "string"}),
        Value::Array(items) => match items.first() {
            Some(first) => json!({"type": "array", "items": shape_of(first)}),
            None => json!({"type": "array"}),
        },
        Value::Object(map) => {
            let properties: Map<String, Value> =
                map.iter().map(|(k, v)| (k.clone(), shape_of(v))).collect();
            json!({"type": "object", "properties": properties})
        }
    }
}

/// The schema of `action`'s request: the envelope fields it reads and its own.
fn request(action: &Action) -> Value {
    let mut properties = Map::new();
    let mut required = vec![json!("action")];
    for f in ENVELOPE
        .iter()
        .filter(|f| action.envelope().contains(&f.name))
    {
        properties.insert(f.name.into(), field(f));
    }
    properties.insert(
        "action".into(),
        json!({"const": action.name(), "description": "the action's name"}),
    );
    if matches!(action.kind(), actions::Kind::Account | actions::Kind::Login) {
        required.push(json!("userbot_id"));
    }
    for f in action.fields() {
        properties.insert(f.name.into(), field(f));
        if f.required {
            required.push(json!(f.name));
        }
    }
    json!({
        "title": format!("{} request", action.name()),
        "type": "object",
        "description": super::reference::prose(action.doc()),
        "properties": properties,
        "required": required,
        "additionalProperties": action.passes_more(),
    })
}

/// The envelope every event has: `v`, `type`, `event` named `name`, the ids echoed.
fn event_envelope(name: &str) -> Map<String, Value> {
    let mut properties = Map::new();
    properties.insert("v".into(), json!({"const": PROTOCOL_VERSION}));
    properties.insert("type".into(), json!({"const": "chat_update"}));
    properties.insert("event".into(), json!({"const": name}));
    properties.insert(
        "request_id".into(),
        json!({"description": "the request's, echoed"}),
    );
    properties.insert(
        "userbot_id".into(),
        json!({"type": "integer", "description": "the request's, echoed"}),
    );
    properties
}

/// The schema of `action`'s success event, `data` its result's.
fn success(action: &Action) -> Value {
    let mut properties = event_envelope(action.name());
    properties.insert(
        "data".into(),
        json!({"$ref": format!("#/$defs/{}", key(action.name(), "result"))}),
    );
    properties.insert(
        "warnings".into(),
        json!({"type": "array", "items": {"type": "string"}, "description": "the fields the action ignored"}),
    );
    json!({
        "title": format!("{} event", action.name()),
        "type": "object",
        "properties": properties,
        "required": ["v", "type", "event", "data"],
    })
}

/// The schema of an error event named `name`.
fn failure(name: &str, errors: &[String]) -> Value {
    let mut properties = event_envelope(name);
    properties.insert(
        "error".into(),
        json!({"type": "string", "description": "what went wrong and what to do"}),
    );
    properties.insert(
        "code".into(),
        json!({"type": "integer", "description": "Telegram's or TDLib's error code, or an HTTP status (401, 403, 422)"}),
    );
    let mut schema = json!({
        "title": format!("{name} event"),
        "type": "object",
        "properties": properties,
        "required": ["v", "type", "event", "error"],
    });
    if !errors.is_empty() {
        schema["description"] = json!(errors.join("\n"));
    }
    schema
}

/// The name of one definition: `<action>.<part>`.
fn key(action: &str, part: &str) -> String {
    format!("{action}.{part}")
}

/// Every schema of the protocol by name: per action `<name>.request`, `.result`, `.event`,
/// `.error`; `error` (a request naming no known action); per pushed event `<name>.pushed`.
fn definitions() -> Map<String, Value> {
    let mut defs = Map::new();
    for action in actions::all() {
        let name = action.name();
        defs.insert(key(name, "request"), request(&action));
        let example = serde_json::from_str::<Value>(action.returns()).unwrap_or(Value::Null);
        let mut result = shape_of(&example);
        result["description"] = json!(action.success());
        result["examples"] = json!([example]);
        defs.insert(key(name, "result"), result);
        defs.insert(key(name, "event"), success(&action));
        defs.insert(
            key(name, "error"),
            failure(&format!("{name}_error"), &action.errors()),
        );
    }
    defs.insert("error".into(), failure("error", &[]));
    for (name, data, example) in PUSHED {
        let example = serde_json::from_str::<Value>(example).unwrap_or(Value::Null);
        let mut properties = event_envelope(name);
        let mut shape = shape_of(&example["data"]);
        shape["description"] = json!(data);
        properties.insert("data".into(), shape);
        defs.insert(
            key(name, "pushed"),
            json!({
                "title": format!("{name} (pushed)"),
                "type": "object",
                "properties": properties,
                "required": ["v", "type", "event", "data"],
                "examples": [example],
            }),
        );
    }
    defs
}

/// `definitions`, their `$ref`s rewritten from `#/$defs/` to `prefix`.
fn rebased(prefix: &str) -> Value {
    let text = Value::Object(definitions()).to_string();
    serde_json::from_str(&text.replace("\"#/$defs/", &format!("\"{prefix}"))).unwrap_or(Value::Null)
}

/// The JSON Schema document: every definition under `$defs`, and the whole as "any request".
pub fn json_schema() -> Value {
    let requests: Vec<Value> = actions::all()
        .map(|a| json!({"$ref": format!("#/$defs/{}", key(a.name(), "request"))}))
        .collect();
    json!({
        "$schema": DIALECT,
        "$id": "https://tgscript.dev/schema/gateway.v1.json",
        "title": "tgscript gateway protocol v1: a request",
        "oneOf": requests,
        "$defs": definitions(),
    })
}

/// A `oneOf` of the components named `<action>.<part>` for every action.
fn one_of(prefix: &str, part: &str) -> Value {
    let refs: Vec<Value> = actions::all()
        .map(|a| json!({"$ref": format!("{prefix}{}", key(a.name(), part))}))
        .collect();
    json!({"oneOf": refs})
}

/// What the documents say of the protocol's version and the token.
const ABOUT: &str = "Every action of the tgscript gateway, generated from its action tables. \
    Answers and pushed events carry `\"v\": 1`. The token goes in `Authorization: Bearer \
    <token>` (the scheme in any case) or, for browsers, as the WebSocket subprotocols \
    `tgscript.v1, bearer.<token>`. The unversioned paths `/command` and `/ws` are aliases.";

/// The OpenAPI 3.1 document: `POST /v1/command` and the operations endpoints.
pub fn openapi() -> Value {
    const AT: &str = "#/components/schemas/";
    let mut errors = one_of(AT, "error");
    if let Some(all) = errors["oneOf"].as_array_mut() {
        all.push(json!({"$ref": format!("{AT}error")}));
    }
    let event = |description: &str, schema: Value| json!({"description": description, "content": {"application/json": {"schema": schema}}});
    let status = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"type": "object"}}}});
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": DIALECT,
        "info": {
            "title": "tgscript gateway",
            "version": format!("{PROTOCOL_VERSION}"),
            "description": ABOUT,
        },
        "security": [{"bearer": []}],
        "paths": {
            "/v1/command": {"post": {
                "operationId": "command",
                "summary": "Run one action; its event answers",
                "requestBody": {"required": true, "content": {"application/json": {"schema": one_of(AT, "request")}}},
                "responses": {
                    "200": event("the action's success event", one_of(AT, "event")),
                    "4XX": event("the action's error event (400 validation, 401 token, 403 origin or tenant, 404, 413 too large, 415 not JSON, 422 answer too large, 429, or Telegram's and TDLib's own codes)", errors.clone()),
                    "5XX": event("an error event (502 another code of Telegram's or TDLib's, 503 stopping, 504 TDLib did not answer)", errors),
                },
            }},
            "/livez": {"get": {"operationId": "livez", "security": [], "summary": "200 while the process's loops turn", "responses": {"200": status("alive"), "503": status("stuck")}}},
            "/readyz": {"get": {"operationId": "readyz", "security": [], "summary": "200 while the process takes work, else 503 with the reasons", "responses": {"200": status("ready"), "503": status("not ready: {ok: false, reasons: [...]}")}}},
            "/health": {"get": {"operationId": "health", "security": [], "summary": "the bots and accounts; 503 while a bot cannot reach the Bot API", "responses": {"200": status("healthy"), "503": status("unhealthy")}}},
            "/metrics": {"get": {"operationId": "metrics", "security": [], "summary": "Prometheus text", "responses": {"200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": rebased(AT),
        },
    })
}

/// The AsyncAPI 3.0 document: the WebSocket `/v1/ws`, one send operation per action (its
/// reply: the action's event or error event) and the events a subscription pushes.
pub fn asyncapi() -> Value {
    const AT: &str = "#/components/schemas/";
    let mut messages = Map::new();
    let mut channel_messages = Map::new();
    let mut operations = Map::new();
    let mut message = |name: String, schema: String| {
        messages.insert(
            name.clone(),
            json!({"name": name, "contentType": "application/json", "payload": {"$ref": format!("{AT}{schema}")}}),
        );
        channel_messages.insert(
            name.clone(),
            json!({"$ref": format!("#/components/messages/{name}")}),
        );
        json!({"$ref": format!("#/channels/gateway/messages/{name}")})
    };
    for action in actions::all() {
        let name = action.name();
        let request = message(key(name, "request"), key(name, "request"));
        let event = message(key(name, "event"), key(name, "event"));
        let error = message(key(name, "error"), key(name, "error"));
        operations.insert(
            name.to_string(),
            json!({
                "action": "send",
                "channel": {"$ref": "#/channels/gateway"},
                "summary": super::reference::prose(action.doc()).lines().next().unwrap_or_default(),
                "messages": [request],
                "reply": {"channel": {"$ref": "#/channels/gateway"}, "messages": [event, error]},
            }),
        );
    }
    let unknown = message("error".into(), "error".into());
    let mut pushed = vec![unknown];
    for (name, _, _) in PUSHED {
        pushed.push(message(key(name, "pushed"), key(name, "pushed")));
    }
    operations.insert(
        "events".into(),
        json!({
            "action": "receive",
            "channel": {"$ref": "#/channels/gateway"},
            "summary": "Events pushed after subscribe, and the error event of a request naming no known action",
            "messages": pushed,
        }),
    );
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "tgscript gateway",
            "version": format!("{PROTOCOL_VERSION}"),
            "description": ABOUT,
        },
        "defaultContentType": "application/json",
        "channels": {"gateway": {
            "address": "/v1/ws",
            "title": "One WebSocket per client: a text frame per request, an event answers each",
            "bindings": {"ws": {"bindingVersion": "0.1.0"}},
            "messages": channel_messages,
        }},
        "operations": operations,
        "components": {
            "schemas": rebased(AT),
            "messages": messages,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_union_type_is_any_of_its_parts_and_any_is_unconstrained() {
        assert_eq!(field_type("integer"), json!({"type": "integer"}));
        assert_eq!(
            field_type("integer|string"),
            json!({"anyOf": [{"type": "integer"}, {"type": "string"}]})
        );
        assert_eq!(field_type("any"), json!({}));
    }

    #[test]
    fn every_reference_lands_on_a_definition() {
        for (document, prefix) in [
            (json_schema(), "#/$defs/"),
            (openapi(), "#/components/schemas/"),
            (asyncapi(), "#/"),
        ] {
            let text = document.to_string();
            for target in text.split("\"$ref\":\"").skip(1) {
                let path = target.split('"').next().unwrap_or_default();
                assert!(path.starts_with(prefix) || path.starts_with("#/"), "{path}");
                let pointer = path.trim_start_matches('#').replace("~", "~0");
                assert!(
                    document.pointer(&pointer).is_some(),
                    "{path} points at nothing"
                );
            }
        }
    }
}
