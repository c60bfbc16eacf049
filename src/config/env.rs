//! Settings from the environment: `TGSCRIPT_<SECTION>_<KEY>` named, typed like the default
//! they replace, and a warning for a variable that sets nothing.

use super::SECTIONS;

/// The warning for a `TGSCRIPT_*` variable that names no section, with the closest one.
pub(super) fn unknown_variable(name: &str) -> String {
    let section = name
        .trim_start_matches("TGSCRIPT_")
        .split('_')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let closest = SECTIONS
        .iter()
        .map(|s| (strsim::levenshtein(s, &section), s))
        .min()
        .filter(|(distance, _)| *distance <= 2)
        .map(|(_, s)| format!(" (did you mean TGSCRIPT_{}_…?)", s.to_ascii_uppercase()))
        .unwrap_or_default();
    format!(
        "{name} sets nothing: tgscript reads TGSCRIPT_<SECTION>_<KEY> for the sections {}, and TGSCRIPT_DEFAULT_ACCOUNT{closest}",
        SECTIONS.join(", ")
    )
}

/// `TGSCRIPT_LIMITS_TIMEOUT_MS` → `(Some("limits"), "timeout_ms")`;
/// `TGSCRIPT_DEFAULT_ACCOUNT` → `(None, "default_account")`; anything else → `None`.
pub(super) fn env_key(name: &str) -> Option<(Option<String>, String)> {
    let rest = name.strip_prefix("TGSCRIPT_")?.to_ascii_lowercase();
    if rest == "default_account" {
        return Some((None, rest));
    }
    let (section, key) = rest.split_once('_')?;
    SECTIONS
        .contains(&section)
        .then(|| (Some(section.to_string()), key.to_string()))
}

/// An environment value typed like the default it replaces (numbers and booleans parsed),
/// or as a plain string.
pub(super) fn typed_env_value(
    defaults: &toml::Table,
    section: Option<&str>,
    key: &str,
    raw: &str,
) -> toml::Value {
    let default = match section {
        Some(s) => defaults.get(s).and_then(|t| t.get(key)),
        None => defaults.get(key),
    };
    let parsed = || {
        toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
    };
    match default {
        Some(toml::Value::String(_)) => toml::Value::String(raw.to_string()),
        // A list: TOML's own `["a", "b"]`, or words separated by commas.
        Some(toml::Value::Array(_)) => match parsed() {
            Some(list @ toml::Value::Array(_)) => list,
            _ => toml::Value::Array(
                raw.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| toml::Value::String(item.to_string()))
                    .collect(),
            ),
        },
        _ => match parsed() {
            Some(
                v @ (toml::Value::Integer(_) | toml::Value::Boolean(_) | toml::Value::Float(_)),
            ) => v,
            _ => toml::Value::String(raw.to_string()),
        },
    }
}
