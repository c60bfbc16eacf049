//! The Bot API methods the sandbox answers, as Telegram does (its refusals word for word);
//! any other method gets a 404 that says it is not implemented in the sandbox.

use super::{BOT_ID, Chat, ChatKind, Refusal, Status, World};
use serde_json::{Map, Value, json};

impl World {
    /// Answer Bot API `method` (case-insensitive) with `params`, as Telegram would.
    pub fn call(&mut self, method: &str, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let lower = method.to_ascii_lowercase();
        if let Some(i) = self.failures.iter().position(|(m, _)| *m == lower) {
            return Err(self.failures.remove(i).1);
        }
        match lower.as_str() {
            "getme" => Ok(self.bot.clone()),
            "setwebhook" => match params.get("url").and_then(Value::as_str) {
                Some(url) if !url.is_empty() => {
                    self.webhook = Some(params.clone());
                    Ok(json!(true))
                }
                _ => Err(Refusal::bad_request("bad webhook: url is empty")),
            },
            "deletewebhook" => {
                self.webhook = None;
                Ok(json!(true))
            }
            "close" | "logout" => Ok(json!(true)),
            "getwebhookinfo" => Ok(json!({
                "url": self.webhook.as_ref().and_then(|w| w.get("url")).cloned().unwrap_or(json!("")),
                "has_custom_certificate": false, "pending_update_count": self.updates.len(),
            })),
            "getchat" => {
                let chat = self.chat(params)?;
                let mut full = self.chat_json(chat);
                if !chat.description.is_empty() {
                    full["description"] = chat.description.clone().into();
                }
                if let Some(photo) = &chat.photo {
                    full["photo"] = photo.clone();
                }
                // A ChatFullInfo, with every field Telegram always sends.
                if chat.kind != ChatKind::Private {
                    full["permissions"] = Self::default_permissions();
                }
                full["accent_color_id"] = 0.into();
                full["max_reaction_count"] = 11.into();
                full["accepted_gift_types"] = json!({
                    "unlimited_gifts": false, "limited_gifts": false, "unique_gifts": false,
                    "premium_subscription": false, "gifts_from_channels": false,
                });
                Ok(full)
            }
            "getchatmember" => {
                let (chat, user) = self.chat_and_user(params)?;
                Ok(self.member_json(chat, user))
            }
            "restrictchatmember" => {
                let (chat, user) = self.moderate(
                    params,
                    "can_restrict_members",
                    "restrict/unrestrict chat member",
                )?;
                let perms = params
                    .get("permissions")
                    .and_then(Value::as_object)
                    .cloned()
                    .ok_or_else(|| Refusal::bad_request("can't parse permissions JSON object"))?;
                let until = self.until(params);
                // Every permission granted: an ordinary member again, as in Telegram.
                let status = match perms.values().all(|v| v == &json!(true)) {
                    true => Status::Member,
                    false => Status::Restricted(perms, until),
                };
                self.set_status(chat, user, status);
                Ok(json!(true))
            }
            "banchatmember" => {
                let (chat, user) = self.moderate(
                    params,
                    "can_restrict_members",
                    "restrict/unrestrict chat member",
                )?;
                let until = self.until(params);
                self.set_status(chat, user, Status::Kicked(until));
                Ok(json!(true))
            }
            "unbanchatmember" => {
                let (chat, user) = self.moderate(
                    params,
                    "can_restrict_members",
                    "restrict/unrestrict chat member",
                )?;
                let only_if_banned = params
                    .get("only_if_banned")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if matches!(self.status(chat, user), Status::Kicked(_)) || !only_if_banned {
                    self.set_status(chat, user, Status::Left);
                }
                Ok(json!(true))
            }
            "promotechatmember" => {
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
                self.set_status(
                    chat,
                    user,
                    if any {
                        Status::Administrator(rights)
                    } else {
                        Status::Member
                    },
                );
                Ok(json!(true))
            }
            "deletemessage" => {
                let chat = self.chat(params)?.id;
                let id = params
                    .get("message_id")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let removed = self
                    .chats
                    .get_mut(&chat)
                    .and_then(|c| c.messages.remove(&id));
                removed
                    .map(|_| json!(true))
                    .ok_or_else(|| Refusal::bad_request("message to delete not found"))
            }
            "pinchatmessage" | "unpinchatmessage" | "unpinallchatmessages" => {
                let chat = self.chat(params)?.id;
                self.require_right(
                    chat,
                    "can_pin_messages",
                    "manage pinned messages in the chat",
                )?;
                Ok(json!(true))
            }
            "approvechatjoinrequest" | "declinechatjoinrequest" => {
                let (chat, user) = self.chat_and_user(params)?;
                self.require_right(chat, "can_invite_users", "invite users")?;
                if self.status(chat, user) != Status::Requested {
                    return Err(Refusal::bad_request("HIDE_REQUESTER_MISSING"));
                }
                match lower == "approvechatjoinrequest" {
                    true => self.member_change(chat, user, Status::Member),
                    false => self.set_status(chat, user, Status::Left),
                }
                Ok(json!(true))
            }
            "createchatinvitelink" => {
                let chat = self.chat(params)?.id;
                self.require_right(chat, "can_invite_users", "invite users")?;
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
            "sendmessage" => {
                let chat = self.chat(params)?.id;
                let text = params
                    .get("text")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| Refusal::bad_request("message text is empty"))?;
                let reply_to = self.reply_target(chat, params)?;
                let mut content = Map::new();
                content.insert("text".into(), text.into());
                if let Some(markup) = params.get("reply_markup") {
                    content.insert("reply_markup".into(), markup.clone());
                }
                Ok(self.store_message(chat, BOT_ID, content, reply_to))
            }
            "answercallbackquery" => {
                let id = params.get("callback_query_id").and_then(Value::as_str);
                // Telegram takes one answer per query.
                match id.and_then(|id| self.queries.get_mut(id)) {
                    Some(answered) if !*answered => {
                        *answered = true;
                        Ok(json!(true))
                    }
                    _ => Err(Refusal::bad_request(
                        "query is too old and response timeout expired or query ID is invalid",
                    )),
                }
            }
            "getchatadministrators" => {
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
            "getchatmembercount" => {
                let chat = self.chat(params)?;
                let (id, users): (i64, Vec<i64>) =
                    (chat.id, chat.members.keys().copied().collect());
                Ok(users
                    .into_iter()
                    .filter(|u| self.is_member(id, *u))
                    .count()
                    .into())
            }
            _ => self.call_more(&lower, params).unwrap_or_else(|| {
                Err(Refusal {
                    code: 404,
                    description: format!(
                        "Not Found: method not implemented in the sandbox: {method}"
                    ),
                    parameters: None,
                })
            }),
        }
    }

    /// What a new supergroup lets its members do (`ChatFullInfo.permissions`).
    fn default_permissions() -> Value {
        json!({
            "can_send_messages": true, "can_send_audios": true, "can_send_documents": true,
            "can_send_photos": true, "can_send_videos": true, "can_send_video_notes": true,
            "can_send_voice_notes": true, "can_send_polls": true,
            "can_send_other_messages": true, "can_add_web_page_previews": true,
            "can_change_info": false, "can_invite_users": true, "can_pin_messages": false,
            "can_manage_topics": false,
        })
    }

    /// Answer the methods of `settings` and `media`; `None` for any other.
    fn call_more(
        &mut self,
        lower: &str,
        params: &Map<String, Value>,
    ) -> Option<Result<Value, Refusal>> {
        self.call_settings(lower, params)
            .or_else(|| self.call_media(lower, params))
    }

    /// The message a `sendMessage` replies to: it must exist, unless
    /// `allow_sending_without_reply` (then the message is sent without the reply).
    pub(super) fn reply_target(
        &self,
        chat: i64,
        params: &Map<String, Value>,
    ) -> Result<Option<i64>, Refusal> {
        let reply = params.get("reply_parameters");
        let Some(id) = reply
            .and_then(|r| r["message_id"].as_i64())
            .or_else(|| params.get("reply_to_message_id").and_then(Value::as_i64))
        else {
            return Ok(None);
        };
        if self.message(chat, id).is_some() {
            return Ok(Some(id));
        }
        let without = reply
            .and_then(|r| r.get("allow_sending_without_reply"))
            .or_else(|| params.get("allow_sending_without_reply"));
        match without == Some(&json!(true)) {
            true => Ok(None),
            false => Err(Refusal::bad_request("message to be replied not found")),
        }
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

    pub(super) fn chat(&self, params: &Map<String, Value>) -> Result<&Chat, Refusal> {
        let id = match params.get("chat_id") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => return Err(Refusal::bad_request("chat_id is empty")),
        };
        id.and_then(|id| self.chats.get(&id))
            .ok_or_else(|| Refusal::bad_request("chat not found"))
    }

    fn chat_and_user(&self, params: &Map<String, Value>) -> Result<(i64, i64), Refusal> {
        let chat = self.chat(params)?.id;
        let user = params
            .get("user_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| Refusal::bad_request("user_id is empty"))?;
        if user != BOT_ID && !self.users.contains_key(&user) {
            return Err(Refusal::bad_request("user not found"));
        }
        Ok((chat, user))
    }

    pub(super) fn require_right(&self, chat: i64, right: &str, what: &str) -> Result<(), Refusal> {
        match self.status(chat, BOT_ID) {
            Status::Administrator(rights) if rights.get(right) == Some(&json!(true)) => Ok(()),
            _ => Err(Refusal::bad_request(&format!(
                "not enough rights to {what}"
            ))),
        }
    }

    /// The checks Telegram makes before restricting or banning a member.
    fn moderate(
        &self,
        params: &Map<String, Value>,
        right: &str,
        what: &str,
    ) -> Result<(i64, i64), Refusal> {
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
        self.require_right(chat, right, what)?;
        match self.status(chat, user) {
            Status::Creator => Err(Refusal::bad_request("can't remove chat owner")),
            Status::Administrator(_) => {
                Err(Refusal::bad_request("user is an administrator of the chat"))
            }
            _ => Ok((chat, user)),
        }
    }
}
