//! A chat's invite links as the sandbox answers the bot about them: creating one, exporting
//! a new primary link (the old one stops working), revoking one. Each link is remembered
//! with its chat, so only that chat's administrators can revoke it.

use super::{Refusal, World};
use serde_json::{Map, Value, json};

impl World {
    /// `createChatInviteLink`: a new link carrying the request's `name`, `expire_date`,
    /// `member_limit` and `creates_join_request`.
    pub(super) fn create_chat_invite_link(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let chat = self.inviting_chat(params)?;
        let mut link = self.new_invite_link(false);
        for key in [
            "name",
            "expire_date",
            "member_limit",
            "creates_join_request",
        ] {
            if let Some(v) = params.get(key) {
                link[key] = v.clone();
            }
        }
        self.keep_invite_link(chat, &link);
        Ok(link)
    }

    /// `exportChatInviteLink`: a new primary link; the old primary link stops working.
    pub(super) fn export_chat_invite_link(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let chat = self.inviting_chat(params)?;
        for (of, link) in self.invite_links.values_mut() {
            if *of == chat && link["is_primary"] == json!(true) {
                link["is_revoked"] = true.into();
            }
        }
        let link = self.new_invite_link(true);
        self.keep_invite_link(chat, &link);
        Ok(link["invite_link"].clone())
    }

    /// `revokeChatInviteLink`: a link of this chat, revoked.
    pub(super) fn revoke_chat_invite_link(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let chat = self.inviting_chat(params)?;
        let url = params
            .get("invite_link")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match self.invite_links.get_mut(url) {
            Some((of, link)) if *of == chat => {
                link["is_revoked"] = true.into();
                Ok(link.clone())
            }
            _ => Err(Refusal::bad_request("INVITE_HASH_EXPIRED")),
        }
    }

    /// The chat a call names, if the bot may invite users to it.
    fn inviting_chat(&self, params: &Map<String, Value>) -> Result<i64, Refusal> {
        let chat = self.chat(params)?.id;
        self.require_right(chat, "can_invite_users", "invite users")?;
        Ok(chat)
    }

    /// A new invite link, primary or not.
    fn new_invite_link(&mut self, primary: bool) -> Value {
        self.links += 1;
        json!({
            "invite_link": format!("https://t.me/+sandbox{}", self.links),
            "creator": self.bot.clone(), "creates_join_request": false,
            "is_primary": primary, "is_revoked": false,
        })
    }

    /// Remember `link` of `chat`, so it can be revoked.
    fn keep_invite_link(&mut self, chat: i64, link: &Value) {
        if let Some(url) = link["invite_link"].as_str() {
            self.invite_links
                .insert(url.to_string(), (chat, link.clone()));
        }
    }
}
