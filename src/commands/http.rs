//! Outbound HTTP commands (`http_get`, `http_post`), one table entry each ([`COMMANDS`]):
//! the request's fields validated here, once, then sent through
//! [`crate::effects::Effects::http`] (journaled like every other effect). Scripts only: a
//! gateway client calls its own backend itself.

use super::{FieldSpec, Named, Overloads, find};
use crate::effects::Effects;
use crate::http::HttpRequest;
use crate::request::{CommandError, Fields};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One HTTP command.
pub struct HttpCommand {
    /// The builtin's name.
    pub name: &'static str,
    /// Its reference text.
    pub doc: &'static str,
    /// How scripts call it.
    pub overloads: Overloads,
    /// The HTTP method it sends.
    pub method: &'static str,
    /// The fields it takes.
    pub fields: &'static [FieldSpec],
}

impl Named for HttpCommand {
    fn name(&self) -> &'static str {
        self.name
    }
}

const URL: FieldSpec = FieldSpec::required(
    "url",
    "string",
    r#""https://api.example.com/v1/users/42""#,
    "the full URL; its host must be in [http] allow",
);
const HEADERS: FieldSpec =
    FieldSpec::optional("headers", "map", "headers to send, name → string value");
const TIMEOUT_MS: FieldSpec = FieldSpec::optional(
    "timeout_ms",
    "integer",
    "a shorter timeout than [http] timeout_ms",
);
const BODY: FieldSpec = FieldSpec::required(
    "body",
    "string|map|list|blob",
    r#"{"user": 42}"#,
    "a string is sent as it is; a blob or an asset as its bytes (application/octet-stream unless headers say otherwise); a map holding blobs or assets as multipart/form-data (each a file part named after its key); any other map or array as JSON (content-type application/json)",
);

/// Headers a script may not set: `host` would send the request to another site behind the
/// allowed name's front end; the others frame the connection.
const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-authorization",
    "proxy-connection",
];

/// Every HTTP command.
pub const COMMANDS: &[HttpCommand] = &[
    HttpCommand {
        name: "http_get",
        doc: r#"
GET a URL and answer `#{status, headers, body, json}`: the status code, the headers (names in
lower case), the body as a string, and the body parsed as JSON (`()` when it is not JSON). Off
unless the host is listed in `[http] allow`; HTTPS only unless the host is in `[http]
plain_http`; private, loopback and link-local addresses refused (after DNS resolution) unless
the host is in `[http] private`. Redirects are answered, not followed. Options: `headers`,
`timeout_ms`. A handler run again from the inbox gets the first answer, not a second request.

# Example
```rhai
let r = http_get("https://api.example.com/v1/users/42", #{headers: #{authorization: "Bearer …"}});
if r.status == 200 { print(r.json.name); }
```
"#,
        overloads: &[
            &["url: String", "Map"],
            &["url: String", "options: Map", "Map"],
        ],
        method: "GET",
        fields: &[URL, HEADERS, TIMEOUT_MS],
    },
    HttpCommand {
        name: "http_post",
        doc: r#"
POST `body` to a URL and answer `#{status, headers, body, json}` like `http_get`, under the
same `[http]` rules. A string is sent as it is; a blob (say from `download`) or an asset as its
bytes (`application/octet-stream` unless you set `content-type`); a map whose values include
blobs or assets as `multipart/form-data` (each file a part named after its key, the other
values as text fields); any other map or array as JSON. Options: `headers` (e.g. your own
`content-type` for a string body), `timeout_ms`.

# Example
```rhai
let r = http_post("https://api.example.com/v1/events", #{kind: "muted", user: 42});
r.status
```
"#,
        overloads: &[
            &["url: String", "body: String | Map | Array | Blob", "Map"],
            &[
                "url: String",
                "body: String | Map | Array | Blob",
                "options: Map",
                "Map",
            ],
        ],
        method: "POST",
        fields: &[URL, BODY, HEADERS, TIMEOUT_MS],
    },
];

/// Validate `request` for command `name` and send it through `effects`.
pub fn execute(
    effects: &dyn Effects,
    name: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let command = find(COMMANDS, name)
        .ok_or_else(|| CommandError::invalid(name, format!("unknown HTTP command {name}")))?;
    effects.http(name, &prepare(command, request)?)
}

/// The request `fields` describe, validated.
pub fn prepare(
    command: &HttpCommand,
    request: &Map<String, Value>,
) -> Result<HttpRequest, CommandError> {
    let f = Fields::new(command.name, request);
    if let Some(unknown) = request
        .keys()
        .find(|k| !command.fields.iter().any(|s| s.name == k.as_str()))
    {
        let known: Vec<&str> = command.fields.iter().map(|s| s.name).collect();
        return Err(f.error(format!(
            "unknown option {unknown} ({} takes {})",
            command.name,
            known.join(", ")
        )));
    }
    let url = f
        .opt_str("url")?
        .filter(|u| !u.is_empty())
        .ok_or_else(|| f.error("url is required"))?;
    let mut headers = BTreeMap::new();
    for (name, value) in f.opt_map("headers")?.into_iter().flatten() {
        let value = value
            .as_str()
            .ok_or_else(|| f.error(format!("header {name} must be a string")))?;
        if FORBIDDEN_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(f.error(format!(
                "header {name} is set by tgscript itself (the host is the URL's)"
            )));
        }
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err()
            || reqwest::header::HeaderValue::from_str(value).is_err()
        {
            return Err(f.error(format!("header {name}: not a valid header name and value")));
        }
        headers.insert(name.to_ascii_lowercase(), value.to_string());
    }
    let timeout_ms = match f.opt_int("timeout_ms")? {
        Some(ms) if ms <= 0 => return Err(f.error("timeout_ms must be positive")),
        ms => ms.map(|ms| ms as u64),
    };
    let body = match (command.method, f.get("body")) {
        ("POST", None) => return Err(f.error("body is required")),
        (_, Some(body @ (Value::String(_) | Value::Object(_) | Value::Array(_)))) => {
            Some(body.clone())
        }
        (_, Some(_)) => return Err(f.error("body must be a string, a blob, a map or an array")),
        (_, None) => None,
    };
    Ok(HttpRequest {
        method: command.method.to_string(),
        url: url.to_string(),
        headers,
        body,
        timeout_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prepared(name: &str, request: Value) -> Result<HttpRequest, String> {
        let command = find(COMMANDS, name).expect("a command");
        let map = request.as_object().cloned().unwrap_or_default();
        prepare(command, &map).map_err(|e| e.error)
    }

    #[test]
    fn requests_are_checked_before_anything_is_sent() {
        let get = prepared(
            "http_get",
            json!({"url": "https://a.example/x", "headers": {"X-Key": "k"}, "timeout_ms": 500}),
        )
        .expect("valid");
        assert_eq!(get.method, "GET");
        assert_eq!(get.headers.get("x-key").map(String::as_str), Some("k"));
        assert_eq!((get.timeout_ms, get.body), (Some(500), None));
        let post = prepared(
            "http_post",
            json!({"url": "https://a.example", "body": {"a": 1}}),
        )
        .expect("valid");
        assert_eq!(post.body, Some(json!({"a": 1})));

        for (name, request, error) in [
            ("http_get", json!({}), "url is required"),
            (
                "http_get",
                json!({"url": "https://a", "bogus": 1}),
                "unknown option bogus",
            ),
            (
                "http_get",
                json!({"url": "https://a", "headers": {"a": 1}}),
                "must be a string",
            ),
            (
                "http_get",
                json!({"url": "https://a", "headers": {"a b": "c"}}),
                "not a valid",
            ),
            (
                "http_get",
                json!({"url": "https://a", "timeout_ms": 0}),
                "must be positive",
            ),
            (
                "http_get",
                json!({"url": "https://a", "headers": {"Host": "b"}}),
                "set by tgscript",
            ),
            ("http_post", json!({"url": "https://a"}), "body is required"),
            (
                "http_post",
                json!({"url": "https://a", "body": 5}),
                "string, a map or an array",
            ),
        ] {
            let got = prepared(name, request).expect_err("refused");
            assert!(got.contains(error), "{got}");
        }
    }
}
