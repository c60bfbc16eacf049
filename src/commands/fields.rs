//! What a request of an action may hold, as data: one [`FieldSpec`] per field, kept in the
//! command tables beside the validation that reads them. The gateway's reference
//! (`tgscript docs --gateway`) is generated from them, and fields a request holds beyond them
//! are reported back as warnings ([`unknown_fields`]), never refused.

use serde_json::{Map, Value};

/// One request field of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The field's name in the request.
    pub name: &'static str,
    /// Its JSON type: `integer`, `string`, `boolean`, `map`, `list`, `integer|string`, …
    pub ty: &'static str,
    /// Whether a request without it is refused.
    pub required: bool,
    /// What a request without it gets (JSON text), if anything.
    pub default: Option<&'static str>,
    /// A value the reference's example request uses (JSON text); always set when required.
    pub example: Option<&'static str>,
    /// One line on what it is.
    pub doc: &'static str,
}

impl FieldSpec {
    /// A required field; `example` (JSON text) goes into the example request.
    pub const fn required(
        name: &'static str,
        ty: &'static str,
        example: &'static str,
        doc: &'static str,
    ) -> Self {
        Self {
            name,
            ty,
            required: true,
            default: None,
            example: Some(example),
            doc,
        }
    }

    /// An optional field.
    pub const fn optional(name: &'static str, ty: &'static str, doc: &'static str) -> Self {
        Self {
            name,
            ty,
            required: false,
            default: None,
            example: None,
            doc,
        }
    }

    /// The same field with `default` (JSON text) as what its absence means.
    pub const fn or(self, default: &'static str) -> Self {
        Self {
            default: Some(default),
            ..self
        }
    }

    /// The same field shown with `example` (JSON text) in the example request.
    pub const fn eg(self, example: &'static str) -> Self {
        Self {
            example: Some(example),
            ..self
        }
    }
}

/// A warning for each field of `request` that is neither one of `fields` nor one of
/// `envelope`: `unknown field 'x' ignored (known: a, b, c)`. The request is served anyway.
pub fn unknown_fields(
    fields: &[FieldSpec],
    envelope: &[&str],
    request: &Map<String, Value>,
) -> Vec<String> {
    let is_known = |key: &str| fields.iter().any(|f| f.name == key) || envelope.contains(&key);
    let unknown: Vec<&String> = request.keys().filter(|k| !is_known(k)).collect();
    if unknown.is_empty() {
        return Vec::new();
    }
    let known: Vec<&str> = fields
        .iter()
        .map(|f| f.name)
        .chain(envelope.iter().copied())
        .collect();
    let known = known.join(", ");
    unknown
        .into_iter()
        .map(|key| format!("unknown field '{key}' ignored (known: {known})"))
        .collect()
}

/// The request made of each of `fields` that has an example value (every required one).
pub fn example_request(fields: &[FieldSpec]) -> Map<String, Value> {
    fields
        .iter()
        .filter_map(|f| {
            let value = serde_json::from_str(f.example?).ok()?;
            Some((f.name.to_string(), value))
        })
        .collect()
}

/// The request made of every one of `fields` that has an example or a default, and the
/// names of the keys a command read from it that `fields` does not list (for tests keeping a
/// table and its validation in agreement).
#[cfg(test)]
pub(crate) fn undocumented_reads(
    fields: &[FieldSpec],
    read: impl FnOnce(&crate::request::Fields),
    command: &str,
) -> Vec<String> {
    let request: Map<String, Value> = fields
        .iter()
        .filter_map(|f| {
            let value = serde_json::from_str(f.example.or(f.default)?).ok()?;
            Some((f.name.to_string(), value))
        })
        .collect();
    let f = crate::request::Fields::new(command, &request);
    read(&f);
    let mut unknown: Vec<String> = f
        .read
        .take()
        .into_iter()
        .filter(|key| !fields.iter().any(|spec| spec.name == key))
        .collect();
    unknown.dedup();
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIELDS: &[FieldSpec] = &[
        FieldSpec::required("user_id", "integer", "42", "the user"),
        FieldSpec::optional("limit", "integer", "page size")
            .or("50")
            .eg("10"),
    ];

    #[test]
    fn only_fields_outside_the_spec_and_the_envelope_warn() {
        let request = json!({"user_id": 1, "action": "x", "options": {}});
        let warnings = unknown_fields(FIELDS, &["action"], request.as_object().expect("map"));
        assert_eq!(
            warnings,
            ["unknown field 'options' ignored (known: user_id, limit, action)"]
        );
        let clean = json!({"user_id": 1, "limit": 3});
        assert!(unknown_fields(FIELDS, &[], clean.as_object().expect("map")).is_empty());
    }

    #[test]
    fn the_example_request_holds_every_example() {
        assert_eq!(
            Value::Object(example_request(FIELDS)),
            json!({"user_id": 42, "limit": 10})
        );
    }
}
