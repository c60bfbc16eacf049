//! A chat's members as the sandbox answers the bot about them: who is in it and with which
//! rights, restricting, banning and promoting them, join requests, and channels banned from
//! posting, after the checks Telegram makes (its refusals word for word).

use super::{BOT_ID, ChatKind, Refusal, Status, World};
use serde_json::{Map, Value, json};

/// The right restricting and banning take, and how Telegram's refusal words its lack.
const RESTRICT: (&str, &str) = ("can_restrict_members", "restrict/unrestrict chat member");

impl World {
    /// `getChatMember`.
    pub(super) fn get_chat_member(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let (chat, user) = self.chat_and_user(params)?;
        Ok(self.member_json(chat, user))
    }

    /// `getChatAdministrators`: the owner and the administrators.
    pub(super) fn get_chat_administrators(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let chat = self.chat(params)?;
        let admins: Vec<i64> = chat
            .members
            .iter()
            .filter(|(_, s)| matches!(s, Status::Creator | Status::Administrator(_)))
            .map(|(id, _)| *id)
            .collect();
        let chat = chat.id;
        Ok(admins
            .into_iter()
            .map(|user| self.member_json(chat, user))
            .collect())
    }

    /// `getChatMemberCount`: the members in the chat now.
    pub(super) fn get_chat_member_count(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let chat = self.chat(params)?;
        let (id, users): (i64, Vec<i64>) = (chat.id, chat.members.keys().copied().collect());
        Ok(users
            .into_iter()
            .filter(|u| self.is_member(id, *u))
            .count()
            .into())
    }

    /// `restrictChatMember`: every permission granted makes an ordinary member again, as in
    /// Telegram.
    pub(super) fn restrict_chat_member(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let (chat, user) = self.moderate(params)?;
        let perms = params
            .get("permissions")
            .and_then(Value::as_object)
            .cloned()
            .ok_or_else(|| Refusal::bad_request("can't parse permissions JSON object"))?;
        let until = self.until(params);
        let status = match perms.values().all(|v| v == &json!(true)) {
            true => Status::Member,
            false => Status::Restricted(perms, until),
        };
        self.set_status(chat, user, status);
        Ok(json!(true))
    }

    /// `banChatMember`, until `until_date`.
    pub(super) fn ban_chat_member(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let (chat, user) = self.moderate(params)?;
        let until = self.until(params);
        self.set_status(chat, user, Status::Kicked(until));
        Ok(json!(true))
    }

    /// `unbanChatMember`: the member may come back (and is removed, unless `only_if_banned`
    /// and not banned).
    pub(super) fn unban_chat_member(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let (chat, user) = self.moderate(params)?;
        let only_if_banned = params
            .get("only_if_banned")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if matches!(self.status(chat, user), Status::Kicked(_)) || !only_if_banned {
            self.set_status(chat, user, Status::Left);
        }
        Ok(json!(true))
    }

    /// `promoteChatMember`: the `can_*` rights given; none makes an ordinary member again.
    pub(super) fn promote_chat_member(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let (chat, user) = self.chat_and_user(params)?;
        self.require_right(chat, "can_promote_members", "promote chat member")?;
        if matches!(self.status(chat, user), Status::Creator) {
            return Err(Refusal::bad_request("can't remove chat owner"));
        }
        let rights: Map<String, Value> = params
            .iter()
            .filter(|(k, _)| k.starts_with("can_") || k.as_str() == "is_anonymous")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let any = rights.values().any(|v| v == &json!(true));
        let status = match any {
            true => Status::Administrator(rights),
            false => Status::Member,
        };
        self.set_status(chat, user, status);
        Ok(json!(true))
    }

    /// `approveChatJoinRequest` (`approve`) or `declineChatJoinRequest`.
    pub(super) fn answer_join_request(
        &mut self,
        params: &Map<String, Value>,
        approve: bool,
    ) -> Result<Value, Refusal> {
        let (chat, user) = self.chat_and_user(params)?;
        self.require_right(chat, "can_invite_users", "invite users")?;
        if self.status(chat, user) != Status::Requested {
            return Err(Refusal::bad_request("HIDE_REQUESTER_MISSING"));
        }
        match approve {
            true => self.member_change(chat, user, Status::Member),
            false => self.set_status(chat, user, Status::Left),
        }
        Ok(json!(true))
    }

    /// `banChatSenderChat` (`ban`) or `unbanChatSenderChat`: a channel may (not) post.
    pub(super) fn ban_sender_chat(
        &mut self,
        params: &Map<String, Value>,
        ban: bool,
    ) -> Result<Value, Refusal> {
        let chat = self.chat(params)?;
        if chat.kind != ChatKind::Supergroup {
            return Err(Refusal::bad_request(
                "method is available only for supergroups",
            ));
        }
        let id = chat.id;
        self.require_right(id, RESTRICT.0, RESTRICT.1)?;
        let sender = params
            .get("sender_chat_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| Refusal::bad_request("sender_chat_id is empty"))?;
        if let Some(chat) = self.chats.get_mut(&id) {
            match ban {
                true => chat.banned_senders.insert(sender),
                false => chat.banned_senders.remove(&sender),
            };
        }
        Ok(json!(true))
    }

    /// A restriction's or ban's `until_date` as Telegram reads it: 0 (forever) when absent,
    /// or less than 30 seconds or more than 366 days from now.
    fn until(&self, params: &Map<String, Value>) -> i64 {
        let until = params
            .get("until_date")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let ahead = until.saturating_sub(self.now());
        match (30..=366 * 86_400).contains(&ahead) {
            true => until,
            false => 0,
        }
    }

    /// The checks Telegram makes before restricting or banning a member: a supergroup, not
    /// the bot itself, the bot's right to restrict, a member who is no administrator.
    fn moderate(&self, params: &Map<String, Value>) -> Result<(i64, i64), Refusal> {
        let chat = self.chat(params)?;
        if chat.kind != ChatKind::Supergroup {
            return Err(Refusal::bad_request(
                "method is available only for supergroups",
            ));
        }
        let (chat, user) = self.chat_and_user(params)?;
        if user == BOT_ID {
            return Err(Refusal::bad_request("can't restrict self"));
        }
        self.require_right(chat, RESTRICT.0, RESTRICT.1)?;
        match self.status(chat, user) {
            Status::Creator => Err(Refusal::bad_request("can't remove chat owner")),
            Status::Administrator(_) => {
                Err(Refusal::bad_request("user is an administrator of the chat"))
            }
            _ => Ok((chat, user)),
        }
    }
}
