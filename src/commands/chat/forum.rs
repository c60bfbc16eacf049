//! Forum topics, by Salebot's names: create, edit, close, reopen and delete a topic, unpin
//! all of a topic's messages, and the general topic's edit, close, reopen, hide and unhide.
//! The chat must be a forum supergroup; the bot needs the right to manage topics.

use super::settings::{just_chat, params_with, text};
use super::{CHAT_ID, ChatAction, Method, Params, Takes, put_opt_str};
use crate::commands::FieldSpec;
use crate::request::{CommandError, Fields};
use crate::telegram::UpdateContext;

/// The colours Telegram takes for a new topic's icon (RGB).
pub const ICON_COLORS: [i64; 6] = [7322096, 16766590, 13338331, 9367192, 16749490, 16478047];

/// The topic an action is about.
const THREAD: FieldSpec = FieldSpec::required(
    "message_thread_id",
    "integer",
    "254",
    "the topic (a ForumTopic's message_thread_id)",
);

/// A topic's name.
const NAME: FieldSpec = FieldSpec::required(
    "name",
    "string",
    r#""Support""#,
    "the topic's name, 1–128 characters",
);

/// A topic's icon: a custom emoji id (Salebot's `icon`).
const ICON: FieldSpec = FieldSpec::optional(
    "icon_custom_emoji_id",
    "string",
    "a custom emoji id from getForumTopicIconStickers, as the icon",
);

/// The current chat's topic / another chat's.
const ONE_TOPIC: &[&[&str]] = &[
    &["message_thread_id: INT", "bool"],
    &["chat_id: INT | String", "message_thread_id: INT", "bool"],
];

/// The current chat's general topic / another chat's.
const GENERAL: &[&[&str]] = &[&["bool"], &["chat_id: INT | String", "bool"]];

/// A chat action on one topic (`method`), confirmed: `tg_<what>_forum_topic`.
macro_rules! topic_action {
    ($name:literal, $method:literal, $doc:literal) => {
        ChatAction {
            name: $name,
            doc: $doc,
            overloads: ONE_TOPIC,
            method: Method::Confirmed($method),
            takes: Takes::Only(&[CHAT_ID, THREAD]),
            returns: "true",
            build: topic,
        }
    };
}

/// A chat action on the general topic (`method`), confirmed.
macro_rules! general_action {
    ($name:literal, $method:literal, $doc:literal) => {
        ChatAction {
            name: $name,
            doc: $doc,
            overloads: GENERAL,
            method: Method::Confirmed($method),
            takes: Takes::Only(&[CHAT_ID]),
            returns: "true",
            build: just_chat,
        }
    };
}

pub(super) const TG_CREATE_FORUM_TOPIC: ChatAction = ChatAction {
    name: "tg_create_forum_topic",
    doc: r#"
Create a topic in a forum supergroup (`createForumTopic`) and return the `ForumTopic` map: keep
its `message_thread_id` to post in the topic or manage it. As Salebot's: `name`, then optional
`icon_custom_emoji_id` (Salebot's `icon`, `()` for none) and `icon_color`, one of 7322096,
16766590, 13338331, 9367192, 16749490, 16478047 (it cannot be changed later). Optional
leading `chat_id`.

# Example
```rhai
let topic = tg_create_forum_topic("Support");
send_message(-1001234567890, "Ask here", #{message_thread_id: topic.message_thread_id});
tg_create_forum_topic(-1001234567890, "News", (), 7322096);
```
"#,
    overloads: &[
        &["name: String", "Map"],
        &["chat_id: INT | String", "name: String", "Map"],
        &[
            "chat_id: INT | String",
            "name: String",
            "icon_custom_emoji_id: String",
            "Map",
        ],
        &[
            "chat_id: INT | String",
            "name: String",
            "icon_custom_emoji_id: String",
            "icon_color: INT",
            "Map",
        ],
    ],
    method: Method::Fixed("createForumTopic"),
    takes: Takes::Only(&[
        CHAT_ID,
        NAME,
        ICON,
        FieldSpec::optional(
            "icon_color",
            "integer",
            "the icon's colour: 7322096, 16766590, 13338331, 9367192, 16749490 or 16478047",
        )
        .eg("7322096"),
    ]),
    returns: r#"{"message_thread_id": 254, "name": "Support", "icon_color": 7322096}"#,
    build: |f, ctx| {
        let name = text(f, "name", 1, 128)?;
        let mut params = params_with(f, ctx, "name", name.into())?;
        if let Some(color) = f.opt_int("icon_color")? {
            if !ICON_COLORS.contains(&color) {
                return Err(f.error(format!(
                    "icon_color must be one of {ICON_COLORS:?}, got {color}"
                )));
            }
            params.insert("icon_color".into(), color.into());
        }
        put_opt_str(f, &mut params, "icon_custom_emoji_id")?;
        Ok(params)
    },
};

pub(super) const TG_EDIT_FORUM_TOPIC: ChatAction = ChatAction {
    name: "tg_edit_forum_topic",
    doc: r#"
Rename a topic and/or change its icon (`editForumTopic`): a new `name` (1–128 characters) and
an optional `icon_custom_emoji_id` (`""` removes the icon). Optional leading `chat_id`.

# Example
```rhai
tg_edit_forum_topic(254, "Support (closed on Sundays)");
```
"#,
    overloads: &[
        &["message_thread_id: INT", "name: String", "bool"],
        &[
            "chat_id: INT | String",
            "message_thread_id: INT",
            "name: String",
            "bool",
        ],
        &[
            "chat_id: INT | String",
            "message_thread_id: INT",
            "name: String",
            "icon_custom_emoji_id: String",
            "bool",
        ],
    ],
    method: Method::Confirmed("editForumTopic"),
    takes: Takes::Only(&[
        CHAT_ID,
        THREAD,
        FieldSpec::optional("name", "string", "the new name, 1–128 characters").eg(r#""Support""#),
        ICON,
    ]),
    returns: "true",
    build: |f, ctx| {
        let mut params = topic(f, ctx)?;
        if f.get("name").is_some() {
            params.insert("name".into(), text(f, "name", 1, 128)?.into());
        }
        put_opt_str(f, &mut params, "icon_custom_emoji_id")?;
        if params.len() == 2 {
            return Err(f.error("give a new name or icon_custom_emoji_id"));
        }
        Ok(params)
    },
};

pub(super) const TG_CLOSE_FORUM_TOPIC: ChatAction = topic_action!(
    "tg_close_forum_topic",
    "closeForumTopic",
    r#"
Close a topic (`closeForumTopic`): members can read it but no longer post. Optional leading
`chat_id`.

# Example
```rhai
tg_close_forum_topic(254);
```
"#
);

pub(super) const TG_REOPEN_FORUM_TOPIC: ChatAction = topic_action!(
    "tg_reopen_forum_topic",
    "reopenForumTopic",
    r#"
Reopen a closed topic (`reopenForumTopic`). Optional leading `chat_id`.

# Example
```rhai
tg_reopen_forum_topic(254);
```
"#
);

pub(super) const TG_DELETE_FORUM_TOPIC: ChatAction = topic_action!(
    "tg_delete_forum_topic",
    "deleteForumTopic",
    r#"
Delete a topic with all its messages (`deleteForumTopic`). Optional leading `chat_id`.

# Example
```rhai
tg_delete_forum_topic(-1001234567890, 254);
```
"#
);

pub(super) const TG_UNPIN_TOPIC_MESSAGES: ChatAction = topic_action!(
    "tg_unpin_topic_messages",
    "unpinAllForumTopicMessages",
    r#"
Unpin every pinned message of a topic (`unpinAllForumTopicMessages`). Optional leading
`chat_id`.

# Example
```rhai
tg_unpin_topic_messages(254);
```
"#
);

pub(super) const TG_EDIT_GENERAL_FORUM_TOPIC: ChatAction = ChatAction {
    name: "tg_edit_general_forum_topic",
    doc: r#"
Rename the forum's general topic (`editGeneralForumTopic`, 1–128 characters). Optional
leading `chat_id`.

# Example
```rhai
tg_edit_general_forum_topic("Lobby");
```
"#,
    overloads: &[
        &["name: String", "bool"],
        &["chat_id: INT | String", "name: String", "bool"],
    ],
    method: Method::Confirmed("editGeneralForumTopic"),
    takes: Takes::Only(&[CHAT_ID, NAME]),
    returns: "true",
    build: |f, ctx| {
        let name = text(f, "name", 1, 128)?;
        params_with(f, ctx, "name", name.into())
    },
};

pub(super) const TG_CLOSE_GENERAL_FORUM_TOPIC: ChatAction = general_action!(
    "tg_close_general_forum_topic",
    "closeGeneralForumTopic",
    r#"
Close the forum's general topic (`closeGeneralForumTopic`): readable, no new posts. Optional
`chat_id`.

# Example
```rhai
tg_close_general_forum_topic();
```
"#
);

pub(super) const TG_REOPEN_GENERAL_FORUM_TOPIC: ChatAction = general_action!(
    "tg_reopen_general_forum_topic",
    "reopenGeneralForumTopic",
    r#"
Reopen the forum's general topic (`reopenGeneralForumTopic`; a hidden one is shown again).
Optional `chat_id`.

# Example
```rhai
tg_reopen_general_forum_topic();
```
"#
);

pub(super) const TG_HIDE_GENERAL_FORUM_TOPIC: ChatAction = general_action!(
    "tg_hide_general_forum_topic",
    "hideGeneralForumTopic",
    r#"
Hide the forum's general topic (`hideGeneralForumTopic`; it is closed too). Optional
`chat_id`.

# Example
```rhai
tg_hide_general_forum_topic(-1001234567890);
```
"#
);

pub(super) const TG_UNHIDE_GENERAL_FORUM_TOPIC: ChatAction = general_action!(
    "tg_unhide_general_forum_topic",
    "unhideGeneralForumTopic",
    r#"
Show the hidden general topic again (`unhideGeneralForumTopic`; it stays closed until
reopened). Optional `chat_id`.

# Example
```rhai
tg_unhide_general_forum_topic();
```
"#
);

/// The target chat and the topic `message_thread_id`.
fn topic(f: &Fields, ctx: &UpdateContext) -> Result<Params, CommandError> {
    let thread = f.int("message_thread_id")?;
    if thread <= 0 {
        return Err(f.error("message_thread_id must be a topic's id, above 0"));
    }
    params_with(f, ctx, "message_thread_id", thread.into())
}
