//! Files sent with a Bot API call. In a call's JSON parameters an upload is the object
//! `{"base64": "…", "filename": "logo.png"}` (the gateway takes the same shape); the client
//! sends a call holding one as `multipart/form-data`, the way Telegram takes files, and the
//! journal keeps the upload's digest instead of its bytes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The key an upload's bytes sit under, base64-encoded.
pub const BYTES_KEY: &str = "base64";
/// The key of an upload's file name.
pub const NAME_KEY: &str = "filename";

/// A file to send: its name and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The file name Telegram shows (documents) or reads the type from.
    pub filename: String,
    /// The file's content.
    pub bytes: Vec<u8>,
}

impl Upload {
    /// The upload as a call parameter.
    pub fn to_json(&self) -> Value {
        json!({ BYTES_KEY: STANDARD.encode(&self.bytes), NAME_KEY: self.filename })
    }

    /// The upload a parameter holds: `Ok(None)` when it is not one (a URL, a `file_id`, any
    /// other value), an error when it has an upload's shape but not valid base64 or name.
    pub fn from_json(value: &Value) -> Result<Option<Self>, String> {
        let Some(map) = as_upload(value) else {
            return Ok(None);
        };
        let bytes = map
            .get(BYTES_KEY)
            .and_then(Value::as_str)
            .ok_or("an upload's base64 must be a string")?;
        let bytes = STANDARD
            .decode(bytes)
            .map_err(|e| format!("an upload's base64 is not valid base64 ({e})"))?;
        let filename = match map.get(NAME_KEY) {
            None => "file".to_string(),
            Some(Value::String(name)) if valid_name(name) => name.clone(),
            Some(_) => {
                return Err(
                    "an upload's filename must be a non-empty name without '/', '\\' or control characters"
                        .into(),
                );
            }
        };
        Ok(Some(Self { filename, bytes }))
    }
}

/// Whether `name` may be sent as a file name.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
}

/// The map of an upload-shaped value: `base64` and at most a `filename` besides.
fn as_upload(value: &Value) -> Option<&Map<String, Value>> {
    let map = value.as_object()?;
    let shaped = map.contains_key(BYTES_KEY) && map.keys().all(|k| k == BYTES_KEY || k == NAME_KEY);
    shaped.then_some(map)
}

/// Whether any top-level parameter of `params` is an upload.
pub fn has_uploads(params: &Value) -> bool {
    params
        .as_object()
        .is_some_and(|map| map.values().any(|v| as_upload(v).is_some()))
}

/// `params` with each upload's bytes replaced by their SHA-256 and length: what the journal
/// records of a call (the same file sent again matches, and a journal stays small).
pub fn digested(params: &Value) -> Value {
    let Some(map) = params.as_object() else {
        return params.clone();
    };
    Value::Object(map.iter().map(|(k, v)| (k.clone(), digest(v))).collect())
}

/// `value` with an upload's bytes replaced by their SHA-256 and length (any other value as
/// it is): how the journal keeps a file sent or downloaded.
pub fn digest(value: &Value) -> Value {
    match Upload::from_json(value) {
        Ok(Some(upload)) => {
            json!({"sha256": sha256_hex(&upload.bytes), "bytes": upload.bytes.len(), NAME_KEY: upload.filename})
        }
        _ => value.clone(),
    }
}

/// The SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The form a call holding uploads is sent as: each upload a file part, strings as they are,
/// every other value as its JSON text (how Telegram reads form fields).
pub fn multipart(params: &Value) -> Result<reqwest::multipart::Form, String> {
    use reqwest::multipart::{Form, Part};
    let mut form = Form::new();
    let Some(map) = params.as_object() else {
        return Ok(form);
    };
    for (key, value) in map {
        form = match (Upload::from_json(value)?, value) {
            (Some(upload), _) => form.part(
                key.clone(),
                Part::bytes(upload.bytes).file_name(upload.filename),
            ),
            (None, Value::String(text)) => form.text(key.clone(), text.clone()),
            (None, Value::Null) => form,
            (None, other) => form.text(key.clone(), other.to_string()),
        };
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_round_trips_and_other_values_are_not_uploads() {
        let upload = Upload {
            filename: "logo.png".into(),
            bytes: vec![0, 159, 146, 150, 255],
        };
        let json = upload.to_json();
        assert_eq!(Upload::from_json(&json), Ok(Some(upload)));
        for other in [
            json!("https://example.com/a.png"),
            json!({"inline_keyboard": []}),
            json!({"base64": "AA==", "caption": "not an upload: another key"}),
        ] {
            assert_eq!(Upload::from_json(&other), Ok(None), "{other}");
        }
        assert!(Upload::from_json(&json!({"base64": "%%%"})).is_err());
        assert!(Upload::from_json(&json!({"base64": "AA==", "filename": "../x"})).is_err());
        assert!(has_uploads(&json!({"chat_id": 1, "photo": json})));
        assert!(!has_uploads(&json!({"chat_id": 1, "photo": "AgAD"})));
    }

    #[test]
    fn the_journal_keeps_a_digest_not_the_bytes() {
        let params = json!({"chat_id": 1, "photo": {"base64": "aGVsbG8=", "filename": "a.txt"}});
        let digest = digested(&params);
        assert_eq!(digest["chat_id"], json!(1));
        assert_eq!(digest["photo"]["bytes"], json!(5));
        assert_eq!(
            digest["photo"]["sha256"],
            json!("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );
    }
}
