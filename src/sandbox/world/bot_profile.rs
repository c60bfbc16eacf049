//! The bot's own profile as the sandbox answers it: its description and short description,
//! each per language (`""`: the default), and deleting its command list.

use super::{Refusal, World};
use serde_json::{Map, Value, json};

impl World {
    /// `setMyDescription` (`key` "description") or `setMyShortDescription`
    /// ("short_description"): `""` removes it.
    pub(super) fn set_description(
        &mut self,
        params: &Map<String, Value>,
        key: &'static str,
    ) -> Result<Value, Refusal> {
        let text = params.get(key).and_then(Value::as_str).unwrap_or_default();
        let slot = (key, language(params));
        match text.is_empty() {
            true => self.descriptions.remove(&slot),
            false => self.descriptions.insert(slot, text.to_string()),
        };
        Ok(json!(true))
    }

    /// `getMyDescription` / `getMyShortDescription`: the language's, else the default.
    pub(super) fn get_description(
        &mut self,
        params: &Map<String, Value>,
        key: &'static str,
    ) -> Result<Value, Refusal> {
        let text = self
            .descriptions
            .get(&(key, language(params)))
            .or_else(|| self.descriptions.get(&(key, String::new())))
            .cloned()
            .unwrap_or_default();
        Ok(json!({ key: text }))
    }

    /// `deleteMyCommands`.
    pub(super) fn delete_my_commands(&mut self, _: &Map<String, Value>) -> Result<Value, Refusal> {
        self.commands = json!([]);
        Ok(json!(true))
    }
}

/// A call's `language_code` (`""`: none).
fn language(params: &Map<String, Value>) -> String {
    params
        .get("language_code")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}
