//! Forum topics as the sandbox answers the bot about them: a forum supergroup's topics exist
//! from their creation (a service message, whose id is the topic's) until deleted with their
//! messages, are renamed, closed and reopened; the general topic is renamed, closed, hidden
//! and shown. Telegram's checks come first: a forum, the right to manage topics, a topic
//! that exists, a change that changes something.

use super::{BOT_ID, Refusal, World};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The colour a topic's icon gets when the request names none.
const DEFAULT_COLOR: i64 = 7322096;

/// One topic's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    /// Its name.
    pub name: String,
    /// Its icon's colour.
    pub icon_color: i64,
    /// Its icon's custom emoji, if any.
    pub icon_custom_emoji_id: Option<String>,
    /// Closed: readable, no new posts.
    pub closed: bool,
    /// Hidden (the general topic only).
    pub hidden: bool,
}

/// A forum supergroup's topics.
#[derive(Debug, Clone, PartialEq)]
pub struct Forum {
    /// The topics by `message_thread_id`.
    pub topics: BTreeMap<i64, Topic>,
    /// The general topic.
    pub general: Topic,
}

impl Default for Forum {
    fn default() -> Self {
        Self {
            topics: BTreeMap::new(),
            general: Topic {
                name: "General".into(),
                icon_color: DEFAULT_COLOR,
                icon_custom_emoji_id: None,
                closed: false,
                hidden: false,
            },
        }
    }
}

/// Telegram's answer to a change that changes nothing.
fn not_modified() -> Refusal {
    Refusal::bad_request("TOPIC_NOT_MODIFIED")
}

impl World {
    /// Make `chat` a forum supergroup (with only its general topic).
    pub fn make_forum(&mut self, chat: i64) {
        self.forums.entry(chat).or_default();
    }

    /// The forum `chat`'s topics, if it is a forum.
    pub fn forum(&self, chat: i64) -> Option<&Forum> {
        self.forums.get(&chat)
    }

    /// `createForumTopic`: a service message opens the topic; answers the `ForumTopic`.
    pub(super) fn create_forum_topic(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let chat = self.managed_forum(params, "create a topic")?;
        let name = topic_name(params.get("name"))?;
        let icon_color = params
            .get("icon_color")
            .and_then(Value::as_i64)
            .unwrap_or(DEFAULT_COLOR);
        let emoji = params
            .get("icon_custom_emoji_id")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty())
            .map(str::to_string);
        let mut content = Map::new();
        content.insert(
            "forum_topic_created".into(),
            json!({"name": name, "icon_color": icon_color}),
        );
        content.insert("is_topic_message".into(), true.into());
        let message = self.store_message(chat, BOT_ID, content, None);
        let id = message["message_id"].as_i64().unwrap_or_default();
        if let Some(m) = self
            .chats
            .get_mut(&chat)
            .and_then(|c| c.messages.get_mut(&id))
        {
            m["message_thread_id"] = id.into();
        }
        let topic = Topic {
            name: name.to_string(),
            icon_color,
            icon_custom_emoji_id: emoji,
            closed: false,
            hidden: false,
        };
        let answer = topic_json(id, &topic);
        if let Some(forum) = self.forums.get_mut(&chat) {
            forum.topics.insert(id, topic);
        }
        Ok(answer)
    }

    /// `editForumTopic`: a new name and/or icon.
    pub(super) fn edit_forum_topic(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        self.change_topic(params, |topic| {
            let before = topic.clone();
            if let Some(name) = params.get("name") {
                topic.name = topic_name(Some(name))?.to_string();
            }
            if let Some(emoji) = params.get("icon_custom_emoji_id").and_then(Value::as_str) {
                topic.icon_custom_emoji_id = Some(emoji.to_string()).filter(|e| !e.is_empty());
            }
            match *topic == before {
                true => Err(not_modified()),
                false => Ok(()),
            }
        })
    }

    /// `closeForumTopic` (`closed`) or `reopenForumTopic`.
    pub(super) fn close_forum_topic(
        &mut self,
        params: &Map<String, Value>,
        closed: bool,
    ) -> Result<Value, Refusal> {
        self.change_topic(params, |topic| set_closed(topic, closed))
    }

    /// `deleteForumTopic`: the topic and every message in it.
    pub(super) fn delete_forum_topic(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let (chat, id) = self.topic_of(params)?;
        if let Some(forum) = self.forums.get_mut(&chat) {
            forum.topics.remove(&id);
        }
        if let Some(c) = self.chats.get_mut(&chat) {
            c.messages
                .retain(|_, m| m["message_thread_id"].as_i64() != Some(id));
        }
        Ok(json!(true))
    }

    /// `unpinAllForumTopicMessages`: confirmed for a topic that exists.
    pub(super) fn unpin_topic_messages(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        self.topic_of(params).map(|_| json!(true))
    }

    /// `editGeneralForumTopic`: a new name.
    pub(super) fn edit_general_forum_topic(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let name = topic_name(params.get("name"))?;
        self.change_general(params, |general| match general.name == name {
            true => Err(not_modified()),
            false => {
                general.name = name.to_string();
                Ok(())
            }
        })
    }

    /// The forum a call's `chat_id` names, after Telegram's checks: a forum, and the bot's
    /// right to manage its topics (`what` words the refusal).
    fn managed_forum(&self, params: &Map<String, Value>, what: &str) -> Result<i64, Refusal> {
        let chat = self.chat(params)?.id;
        if !self.forums.contains_key(&chat) {
            return Err(Refusal::bad_request("the chat is not a forum"));
        }
        self.require_right(chat, "can_manage_topics", what)?;
        Ok(chat)
    }

    /// The forum and the existing topic a call names (`message_thread_id`).
    fn topic_of(&self, params: &Map<String, Value>) -> Result<(i64, i64), Refusal> {
        let chat = self.managed_forum(params, "manage topics")?;
        let id = params
            .get("message_thread_id")
            .and_then(Value::as_i64)
            .unwrap_or_default();
        match self
            .forums
            .get(&chat)
            .is_some_and(|f| f.topics.contains_key(&id))
        {
            true => Ok((chat, id)),
            false => Err(Refusal::bad_request("message thread not found")),
        }
    }

    /// Change the topic a call names with `change`.
    fn change_topic(
        &mut self,
        params: &Map<String, Value>,
        change: impl FnOnce(&mut Topic) -> Result<(), Refusal>,
    ) -> Result<Value, Refusal> {
        let (chat, id) = self.topic_of(params)?;
        self.change_in(chat, |forum| forum.topics.get_mut(&id), change)
    }

    /// Change the general topic of the forum a call names with `change`
    /// ([`close_general`], [`hide_general`]).
    pub(super) fn change_general(
        &mut self,
        params: &Map<String, Value>,
        change: impl FnOnce(&mut Topic) -> Result<(), Refusal>,
    ) -> Result<Value, Refusal> {
        let chat = self.managed_forum(params, "manage topics")?;
        self.change_in(chat, |forum| Some(&mut forum.general), change)
    }

    /// Change the topic `pick` finds in the forum `chat` with `change`.
    fn change_in(
        &mut self,
        chat: i64,
        pick: impl FnOnce(&mut Forum) -> Option<&mut Topic>,
        change: impl FnOnce(&mut Topic) -> Result<(), Refusal>,
    ) -> Result<Value, Refusal> {
        let topic = self
            .forums
            .get_mut(&chat)
            .and_then(pick)
            .ok_or_else(|| Refusal::bad_request("message thread not found"))?;
        change(topic)?;
        Ok(json!(true))
    }
}

/// `closeGeneralForumTopic` (`closed`) or `reopenGeneralForumTopic` (which shows a hidden
/// one too).
pub(super) fn close_general(general: &mut Topic, closed: bool) -> Result<(), Refusal> {
    set_closed(general, closed)?;
    if !closed {
        general.hidden = false;
    }
    Ok(())
}

/// `hideGeneralForumTopic` (`hidden`: it is closed too) or `unhideGeneralForumTopic`.
pub(super) fn hide_general(general: &mut Topic, hidden: bool) -> Result<(), Refusal> {
    if general.hidden == hidden {
        return Err(not_modified());
    }
    general.hidden = hidden;
    general.closed |= hidden;
    Ok(())
}

/// A topic's new name: 1–128 characters, or Telegram's refusal.
fn topic_name(name: Option<&Value>) -> Result<&str, Refusal> {
    name.and_then(Value::as_str)
        .filter(|n| (1..=128).contains(&n.chars().count()))
        .ok_or_else(|| Refusal::bad_request("TOPIC_TITLE_EMPTY"))
}

/// Close or reopen `topic`; refused when it already is.
fn set_closed(topic: &mut Topic, closed: bool) -> Result<(), Refusal> {
    if topic.closed == closed {
        return Err(not_modified());
    }
    topic.closed = closed;
    Ok(())
}

/// A topic as the Bot API's `ForumTopic`.
fn topic_json(id: i64, topic: &Topic) -> Value {
    let mut json = json!({
        "message_thread_id": id, "name": topic.name, "icon_color": topic.icon_color,
    });
    if let Some(emoji) = &topic.icon_custom_emoji_id {
        json["icon_custom_emoji_id"] = emoji.clone().into();
    }
    json
}
