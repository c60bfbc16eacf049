//! How members are shown, as the sandbox answers it: an administrator's custom title, kept
//! with their rights (so `getChatMember` shows it) and only for an administrator.

use super::{Refusal, Status, World};
use serde_json::{Map, Value, json};

impl World {
    /// `setChatAdministratorCustomTitle`.
    pub(super) fn set_administrator_title(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let (chat, user) = self.chat_and_user(params)?;
        let title = params
            .get("custom_title")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if title.chars().count() > 16 {
            return Err(Refusal::bad_request("ADMIN_RANK_INVALID"));
        }
        let Status::Administrator(mut rights) = self.status(chat, user) else {
            return Err(Refusal::bad_request("user is not an administrator"));
        };
        match title.is_empty() {
            true => rights.remove("custom_title"),
            false => rights.insert("custom_title".into(), title.into()),
        };
        self.set_status(chat, user, Status::Administrator(rights));
        Ok(json!(true))
    }
}
