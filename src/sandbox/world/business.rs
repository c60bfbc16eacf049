//! Business accounts in the sandbox: a user connects the bot to their business account with
//! some rights (a `business_connection` update), customers write to that user (a
//! `business_message` each, edits and deletions too), and the bot answers through the
//! connection. Calls naming a connection are answered as Telegram does: an unknown connection,
//! a disabled one, or one without the right the call needs is refused, word for word.

use super::{BOT_ID, Refusal, World};
use crate::telegram::business::{Connection, FIELD, RIGHTS};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The sandbox's business connections and the chats of the accounts with their customers.
#[derive(Debug, Default)]
pub(super) struct Business {
    /// Connections by id.
    connections: BTreeMap<String, Connection>,
    /// Messages by connection, customer chat and message id.
    chats: BTreeMap<(String, i64), BTreeMap<i64, Value>>,
    /// The id the next message of any business chat gets.
    next_message: i64,
}

/// What a call through a connection does besides the business-only methods.
#[derive(Clone, Copy)]
enum Through {
    /// Sends a message; the content keys it keeps.
    Sends(&'static [&'static str]),
    /// Changes a message the bot sent: these keys.
    Edits(&'static [&'static str]),
    /// Confirmed, nothing kept (a chat action, a pin).
    Confirms,
}

/// The methods the sandbox answers through a connection (lower case), and how.
const THROUGH: &[(&str, Through)] = &[
    ("sendmessage", Through::Sends(&["text", "reply_markup"])),
    ("sendphoto", Through::Sends(&["photo", "caption"])),
    ("senddocument", Through::Sends(&["document", "caption"])),
    ("sendanimation", Through::Sends(&["animation", "caption"])),
    ("sendaudio", Through::Sends(&["audio", "caption"])),
    ("sendsticker", Through::Sends(&["sticker"])),
    ("sendvideo", Through::Sends(&["video", "caption"])),
    ("sendvideonote", Through::Sends(&["video_note"])),
    ("sendvoice", Through::Sends(&["voice", "caption"])),
    (
        "sendcontact",
        Through::Sends(&["phone_number", "first_name"]),
    ),
    ("senddice", Through::Sends(&["emoji"])),
    ("sendlocation", Through::Sends(&["latitude", "longitude"])),
    ("sendvenue", Through::Sends(&["title", "address"])),
    ("sendpoll", Through::Sends(&["question", "options"])),
    ("sendpaidmedia", Through::Sends(&["star_count", "caption"])),
    ("editmessagetext", Through::Edits(&["text", "reply_markup"])),
    ("editmessagecaption", Through::Edits(&["caption"])),
    ("editmessagemedia", Through::Edits(&["media"])),
    ("editmessagereplymarkup", Through::Edits(&["reply_markup"])),
    ("stoppoll", Through::Confirms),
    ("sendchataction", Through::Confirms),
    ("pinchatmessage", Through::Confirms),
    ("unpinchatmessage", Through::Confirms),
];

/// Telegram's refusal of a call through a connection that is unknown (or another bot's).
fn invalid() -> Refusal {
    Refusal::bad_request("BUSINESS_CONNECTION_INVALID")
}

impl World {
    /// `owner` connects the bot to their business account with `rights` (names of
    /// [`RIGHTS`]), or changes the rights of their connection: queues a
    /// `business_connection`; returns the connection's id.
    pub fn connect_business(&mut self, owner: i64, rights: &[&str]) -> Result<String, String> {
        if let Some(unknown) = rights.iter().find(|r| !RIGHTS.iter().any(|(n, _)| n == *r)) {
            let known: Vec<&str> = RIGHTS.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "{unknown:?} is no business right (known: {})",
                known.join(", ")
            ));
        }
        let id = format!("sandbox-business-{owner}");
        let connection = Connection {
            id: id.clone(),
            user_id: owner,
            user_chat_id: owner,
            rights: rights.iter().map(|r| r.to_string()).collect(),
            is_enabled: true,
            date: self.now(),
        };
        self.announce(connection);
        Ok(id)
    }

    /// `owner` turns the bot off for their business account: queues a `business_connection`
    /// with `is_enabled: false`.
    pub fn disconnect_business(&mut self, owner: i64) -> Result<String, String> {
        let mut connection = self
            .owned(owner)
            .cloned()
            .ok_or("no business account of this user is connected to the bot")?;
        connection.is_enabled = false;
        connection.date = self.now();
        let id = connection.id.clone();
        self.announce(connection);
        Ok(id)
    }

    /// The connection `owner` made, if any.
    fn owned(&self, owner: i64) -> Option<&Connection> {
        self.business
            .connections
            .values()
            .find(|c| c.user_id == owner)
    }

    /// The owner of the connection made last and still enabled.
    pub fn business_owner(&self) -> Option<i64> {
        self.business
            .connections
            .values()
            .filter(|c| c.is_enabled)
            .max_by_key(|c| c.date)
            .map(|c| c.user_id)
    }

    fn announce(&mut self, connection: Connection) {
        let mut update = connection.to_api();
        update["user"] = self.user_json(connection.user_id);
        self.business
            .connections
            .insert(connection.id.clone(), connection);
        self.push_update(json!({"business_connection": update}));
    }

    /// The enabled connection of `owner`.
    fn enabled(&self, owner: i64) -> Result<String, String> {
        match self.owned(owner) {
            Some(c) if c.is_enabled => Ok(c.id.clone()),
            Some(_) => Err(
                "the business account's connection to the bot is off: /business connect first"
                    .into(),
            ),
            None => {
                Err("no business account is connected to the bot: /business connect first".into())
            }
        }
    }

    /// `customer` writes `text` to `owner`'s business account: queues a `business_message`;
    /// returns the message.
    pub fn business_message(
        &mut self,
        owner: i64,
        customer: i64,
        text: &str,
    ) -> Result<Value, String> {
        if owner == customer {
            return Err("the business account's owner writes to customers, not to themselves: say it /as another user".into());
        }
        let connection = self.enabled(owner)?;
        let mut content = Map::new();
        content.insert("text".into(), text.into());
        let message = self.store_business(&connection, customer, customer, content);
        self.push_update(json!({"business_message": message.clone()}));
        Ok(message)
    }

    /// `customer` edits their message `id` to `owner`'s business account: queues an
    /// `edited_business_message`.
    pub fn edit_business_message(
        &mut self,
        owner: i64,
        customer: i64,
        id: i64,
        text: &str,
    ) -> Result<Value, String> {
        let connection = self.enabled(owner)?;
        let now = self.now();
        let message = self
            .business
            .chats
            .get_mut(&(connection, customer))
            .and_then(|chat| chat.get_mut(&id))
            .filter(|m| m["from"]["id"].as_i64() == Some(customer))
            .ok_or_else(|| format!("business message #{id} is not one this user sent"))?;
        message["text"] = text.into();
        message["edit_date"] = now.into();
        let edited = message.clone();
        self.push_update(json!({"edited_business_message": edited.clone()}));
        Ok(edited)
    }

    /// `customer` deletes their messages `ids` to `owner`'s business account: queues a
    /// `deleted_business_messages`.
    pub fn delete_business_messages(
        &mut self,
        owner: i64,
        customer: i64,
        ids: &[i64],
    ) -> Result<(), String> {
        let connection = self.enabled(owner)?;
        let chat_json = self.private_chat(customer);
        let chat = self
            .business
            .chats
            .get_mut(&(connection.clone(), customer))
            .ok_or("no business message of this user to delete")?;
        for id in ids {
            if chat
                .get(id)
                .is_none_or(|m| m["from"]["id"].as_i64() != Some(customer))
            {
                return Err(format!("business message #{id} is not one this user sent"));
            }
        }
        for id in ids {
            chat.remove(id);
        }
        self.push_update(json!({"deleted_business_messages": {
            FIELD: connection, "chat": chat_json, "message_ids": ids,
        }}));
        Ok(())
    }

    /// The private chat with `user`, as a business chat shows it.
    fn private_chat(&self, user: i64) -> Value {
        let user = self.user_json(user);
        json!({"id": user["id"], "type": "private", "first_name": user["first_name"]})
    }

    /// Store a message of the chat of `connection` with `customer`, from `from`.
    fn store_business(
        &mut self,
        connection: &str,
        customer: i64,
        from: i64,
        content: Map<String, Value>,
    ) -> Value {
        self.business.next_message += 1;
        let id = self.business.next_message;
        let mut message = json!({
            "message_id": id, "date": self.now(), "chat": self.private_chat(customer),
            "from": self.user_json(from), FIELD: connection,
        });
        if let Some(fields) = message.as_object_mut() {
            fields.extend(content);
        }
        self.business
            .chats
            .entry((connection.to_string(), customer))
            .or_default()
            .insert(id, message.clone());
        message
    }

    /// The connection `params` names, if it is one Telegram would act through for a call
    /// needing one of `rights`: known, enabled, granting one of them.
    fn through(&self, params: &Map<String, Value>, rights: &[&str]) -> Result<Connection, Refusal> {
        let id = params
            .get(FIELD)
            .and_then(Value::as_str)
            .unwrap_or_default();
        let connection = self.business.connections.get(id).ok_or_else(invalid)?;
        if !connection.is_enabled {
            return Err(Refusal::bad_request("BUSINESS_CONNECTION_NOT_ALLOWED"));
        }
        if !rights.iter().any(|r| connection.rights.contains(*r)) {
            return Err(Refusal::bad_request("BUSINESS_PEER_USAGE_MISSING"));
        }
        Ok(connection.clone())
    }

    /// The customer chat of `connection` a call names.
    fn customer_chat(&self, connection: &str, params: &Map<String, Value>) -> Result<i64, Refusal> {
        params
            .get("chat_id")
            .and_then(Value::as_i64)
            .filter(|chat| {
                self.business
                    .chats
                    .contains_key(&(connection.to_string(), *chat))
            })
            .ok_or_else(|| Refusal::bad_request("chat not found"))
    }

    /// A call naming a connection (`business_connection_id`), other than the business-only
    /// methods: sends and edits on the account's behalf, which need `can_reply`.
    pub(super) fn call_through(
        &mut self,
        method: &str,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let Some((_, through)) = THROUGH.iter().find(|(name, _)| *name == method) else {
            return Err(Refusal {
                code: 404,
                description: format!(
                    "Not Found: method not implemented in the sandbox through a business connection: {method}"
                ),
                parameters: None,
            });
        };
        let connection = self.through(params, &["can_reply"])?;
        let chat = self.customer_chat(&connection.id, params)?;
        match *through {
            Through::Confirms => Ok(json!(true)),
            Through::Sends(keys) => {
                let mut content: Map<String, Value> = keys
                    .iter()
                    .filter_map(|k| Some((k.to_string(), params.get(*k)?.clone())))
                    .collect();
                content.insert("sender_business_bot".into(), self.user_json(BOT_ID));
                Ok(self.store_business(&connection.id, chat, connection.user_id, content))
            }
            Through::Edits(keys) => {
                let id = params
                    .get("message_id")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let now = self.now();
                let message = self
                    .business
                    .chats
                    .get_mut(&(connection.id, chat))
                    .and_then(|c| c.get_mut(&id))
                    .filter(|m| m.get("sender_business_bot").is_some())
                    .ok_or_else(|| Refusal::bad_request("message to edit not found"))?;
                for key in keys {
                    if let Some(value) = params.get(*key) {
                        message[*key] = value.clone();
                    }
                }
                message["edit_date"] = now.into();
                Ok(message.clone())
            }
        }
    }

    /// `getBusinessConnection`: a connection of this bot, enabled or not.
    pub(super) fn get_business_connection(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let id = params
            .get(FIELD)
            .and_then(Value::as_str)
            .unwrap_or_default();
        let connection = self.business.connections.get(id).ok_or_else(invalid)?;
        let mut answer = connection.to_api();
        answer["user"] = self.user_json(connection.user_id);
        Ok(answer)
    }

    /// `readBusinessMessage`: needs `can_read_messages`, and a message of the chat.
    pub(super) fn read_business_message(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let connection = self.through(params, &["can_read_messages"])?;
        let chat = self.customer_chat(&connection.id, params)?;
        let id = params
            .get("message_id")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        match self
            .business
            .chats
            .get(&(connection.id, chat))
            .and_then(|c| c.get(&id))
        {
            Some(_) => Ok(json!(true)),
            None => Err(Refusal::bad_request("message not found")),
        }
    }

    /// `deleteBusinessMessages`: with `can_delete_all_messages` any message of one chat, with
    /// `can_delete_sent_messages` only those the bot sent.
    pub(super) fn delete_business_messages_call(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let connection = self.through(
            params,
            &["can_delete_sent_messages", "can_delete_all_messages"],
        )?;
        let all = connection.rights.contains("can_delete_all_messages");
        let ids: Vec<i64> = params
            .get("message_ids")
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        let chat = self
            .business
            .chats
            .iter_mut()
            .find(|((c, _), messages)| {
                *c == connection.id && ids.iter().all(|id| messages.contains_key(id))
            })
            .map(|(_, messages)| messages)
            .filter(|_| !ids.is_empty())
            .ok_or_else(|| Refusal::bad_request("message to delete not found"))?;
        if !all
            && ids
                .iter()
                .any(|id| chat[id].get("sender_business_bot").is_none())
        {
            return Err(Refusal::bad_request("BUSINESS_PEER_USAGE_MISSING"));
        }
        for id in &ids {
            chat.remove(id);
        }
        Ok(json!(true))
    }
}
