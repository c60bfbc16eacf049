//! The chat's own settings (Salebot's chat family): title, description, photo, channels
//! posting in the group, invite links, and the bot's command list.

use super::{CHAT_ID, ChatAction, Method, Params, Takes, chat_id, media, put_opt_str};
use crate::commands::FieldSpec;
use crate::request::{CommandError, Fields};
use crate::telegram::UpdateContext;
use serde_json::{Map, Value};

/// The current chat / another chat, with one more argument.
macro_rules! with_chat {
    ($arg:literal, $returns:literal) => {
        &[
            &[$arg, $returns],
            &["chat_id: INT | String", $arg, $returns],
        ]
    };
}

pub(super) const TG_SET_CHAT_TITLE: ChatAction = ChatAction {
    name: "tg_set_chat_title",
    doc: r#"
Change the chat's title (`setChatTitle`, 1–128 characters). Optional leading `chat_id`. The bot
needs the right to change the chat's info.

# Example
```rhai
tg_set_chat_title("Rust moderators — weekly");
```
"#,
    overloads: with_chat!("title: String", "bool"),
    method: Method::Confirmed("setChatTitle"),
    takes: Takes::Only(&[
        CHAT_ID,
        FieldSpec::required(
            "title",
            "string",
            r#""Rules""#,
            "the new title, 1–128 characters",
        ),
    ]),
    returns: "true",
    build: |f, ctx| {
        let title = text(f, "title", 1, 128)?;
        params_with(f, ctx, "title", title.into())
    },
};

pub(super) const TG_SET_CHAT_DESCRIPTION: ChatAction = ChatAction {
    name: "tg_set_chat_description",
    doc: r#"
Change the chat's description (`setChatDescription`, up to 255 characters; `""` clears it).
Optional leading `chat_id`. The bot needs the right to change the chat's info.

# Example
```rhai
tg_set_chat_description("Be kind. No links for the first day.");
```
"#,
    overloads: with_chat!("description: String", "bool"),
    method: Method::Confirmed("setChatDescription"),
    takes: Takes::Only(&[
        CHAT_ID,
        FieldSpec::required(
            "description",
            "string",
            r#""Be kind""#,
            "the new description, up to 255 characters (\"\" clears it)",
        ),
    ]),
    returns: "true",
    build: |f, ctx| {
        let description = text(f, "description", 0, 255)?;
        params_with(f, ctx, "description", description.into())
    },
};

pub(super) const TG_SET_CHAT_PHOTO: ChatAction = ChatAction {
    name: "tg_set_chat_photo",
    doc: r#"
Change the chat's photo (`setChatPhoto`). Telegram takes the photo only as an upload: pass a
file of the scenario folder (`asset("logo.png")`) or a blob; a URL or `file_id` is refused
(fetch it yourself). Optional leading `chat_id`. The bot needs the right to change the info.

# Example
```rhai
tg_set_chat_photo(asset("logo.png"));
```
"#,
    overloads: with_chat!("photo: Asset | Blob", "bool"),
    method: Method::Confirmed("setChatPhoto"),
    takes: Takes::Only(&[
        CHAT_ID,
        FieldSpec::required(
            "photo",
            "upload",
            r#"{"base64": "iVBORw0KGgo=", "filename": "logo.png"}"#,
            "the photo as an upload: {\"base64\": …, \"filename\": …} (scripts: asset(\"logo.png\") or a blob)",
        ),
    ]),
    returns: "true",
    build: |f, ctx| {
        let photo = media::upload_only(f, "photo")?;
        params_with(f, ctx, "photo", photo)
    },
};

pub(super) const TG_DELETE_CHAT_PHOTO: ChatAction = ChatAction {
    name: "tg_delete_chat_photo",
    doc: r#"
Remove the chat's photo (`deleteChatPhoto`). Optional `chat_id`.

# Example
```rhai
tg_delete_chat_photo();
```
"#,
    overloads: &[&["bool"], &["chat_id: INT | String", "bool"]],
    method: Method::Confirmed("deleteChatPhoto"),
    takes: Takes::Only(&[CHAT_ID]),
    returns: "true",
    build: just_chat,
};

/// The channel a sender-chat action is about.
const SENDER_CHAT_ID: FieldSpec = FieldSpec::required(
    "sender_chat_id",
    "integer",
    "-1009876543210",
    "the channel posting in the group (a message's `sender_chat.id`)",
);

pub(super) const TG_BAN_CHAT_SENDER_CHAT: ChatAction = ChatAction {
    name: "tg_ban_chat_sender_chat",
    doc: r#"
Ban a channel from posting in the group on its own behalf (`banChatSenderChat`), until it is
unbanned. Optional leading `chat_id`. The bot needs the right to restrict members.

# Example
```rhai
fn on_message(msg) {
    if "sender_chat" in msg && msg.sender_chat.type == "channel" {
        tg_ban_chat_sender_chat(msg.sender_chat.id);
        tg_delete_message();
    }
}
```
"#,
    overloads: with_chat!("sender_chat_id: INT", "bool"),
    method: Method::Confirmed("banChatSenderChat"),
    takes: Takes::Only(&[CHAT_ID, SENDER_CHAT_ID]),
    returns: "true",
    build: sender_chat,
};

pub(super) const TG_UNBAN_CHAT_SENDER_CHAT: ChatAction = ChatAction {
    name: "tg_unban_chat_sender_chat",
    doc: r#"
Let a banned channel post in the group again (`unbanChatSenderChat`). Optional leading
`chat_id`.

# Example
```rhai
tg_unban_chat_sender_chat(-1009876543210);
```
"#,
    overloads: with_chat!("sender_chat_id: INT", "bool"),
    method: Method::Confirmed("unbanChatSenderChat"),
    takes: Takes::Only(&[CHAT_ID, SENDER_CHAT_ID]),
    returns: "true",
    build: sender_chat,
};

pub(super) const TG_REVOKE_CHAT_INVITE_LINK: ChatAction = ChatAction {
    name: "tg_revoke_chat_invite_link",
    doc: r#"
Revoke an invite link the bot created (`revokeChatInviteLink`) and return the revoked
`ChatInviteLink` map. Optional leading `chat_id`.

# Example
```rhai
let link = tg_create_chat_invite_link(#{member_limit: 1});
tg_revoke_chat_invite_link(link.invite_link);
```
"#,
    overloads: with_chat!("invite_link: String", "Map"),
    method: Method::Fixed("revokeChatInviteLink"),
    takes: Takes::Only(&[
        CHAT_ID,
        FieldSpec::required(
            "invite_link",
            "string",
            r#""https://t.me/+AbCdEfGhIjKl""#,
            "the link to revoke",
        ),
    ]),
    returns: r#"{"invite_link": "https://t.me/+AbCdEfGhIjKl", "creates_join_request": false, "is_primary": false, "is_revoked": true}"#,
    build: |f, ctx| {
        let link = text(f, "invite_link", 1, 2048)?;
        params_with(f, ctx, "invite_link", link.into())
    },
};

pub(super) const TG_EXPORT_CHAT_INVITE_LINK: ChatAction = ChatAction {
    name: "tg_export_chat_invite_link",
    doc: r#"
Make a new primary invite link for the chat (`exportChatInviteLink`; the old primary link stops
working) and return it. Optional `chat_id`.

# Example
```rhai
reply("Invite your friends: " + tg_export_chat_invite_link());
```
"#,
    overloads: &[&["String"], &["chat_id: INT | String", "String"]],
    method: Method::Fixed("exportChatInviteLink"),
    takes: Takes::Only(&[CHAT_ID]),
    returns: r#""https://t.me/+AbCdEfGhIjKl""#,
    build: just_chat,
};

pub(super) const TG_SET_MY_COMMANDS: ChatAction = ChatAction {
    name: "tg_set_my_commands",
    doc: r#"
Set the bot's command list, the menu users see after `/` (`setMyCommands`). `commands` is a map
of command to description or an array of `#{command, description}`; a command is 1–32 lowercase
letters, digits and underscores (a leading `/` is dropped), a description 1–256 characters.
Options: `#{scope, language_code}` as the Bot API takes them.

# Example
```rhai
tg_set_my_commands(#{rules: "Show the rules", report: "Report a message to the admins"});
```
"#,
    overloads: &[
        &["commands: Map | Array", "bool"],
        &["commands: Map | Array", "options: Map", "bool"],
    ],
    method: Method::Confirmed("setMyCommands"),
    takes: Takes::Only(&[
        FieldSpec::required(
            "commands",
            "list|map",
            r#"[{"command": "rules", "description": "Show the rules"}]"#,
            "the commands: [{command, description}] or {command: description}",
        ),
        FieldSpec::optional("scope", "map", "a BotCommandScope (left out: every chat)"),
        FieldSpec::optional("language_code", "string", "the users' language it is for"),
    ]),
    returns: "true",
    build: |f, _| {
        let mut params = Map::new();
        params.insert("commands".into(), bot_commands(f)?);
        if let Some(scope) = f.opt_map("scope")? {
            params.insert("scope".into(), Value::Object(scope.clone()));
        }
        put_opt_str(f, &mut params, "language_code")?;
        Ok(params)
    },
};

/// Telegram's limit on the commands of one list.
const MAX_COMMANDS: usize = 100;

/// The `commands` field as the Bot API's `BotCommand` list, each checked.
fn bot_commands(f: &Fields) -> Result<Value, CommandError> {
    let pairs: Vec<(Value, Value)> = match f.get("commands") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| (item["command"].clone(), item["description"].clone()))
            .collect(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| (Value::String(k.clone()), v.clone()))
            .collect(),
        _ => {
            return Err(f.error(
                "commands must be a map of command to description or an array of #{command, description}",
            ));
        }
    };
    if pairs.len() > MAX_COMMANDS {
        return Err(f.error(format!(
            "at most {MAX_COMMANDS} commands, got {}",
            pairs.len()
        )));
    }
    let mut list = Vec::with_capacity(pairs.len());
    for (command, description) in pairs {
        let (Value::String(command), Value::String(description)) = (&command, &description) else {
            return Err(f.error(format!(
                "each command needs a string command and description, got {command} and {description}"
            )));
        };
        let command = command.strip_prefix('/').unwrap_or(command);
        let valid = (1..=32).contains(&command.len())
            && command
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(f.error(format!(
                "command {command:?} must be 1–32 lowercase letters, digits or underscores"
            )));
        }
        if !(1..=256).contains(&description.chars().count()) {
            return Err(f.error(format!(
                "the description of /{command} must be 1–256 characters"
            )));
        }
        list.push(serde_json::json!({"command": command, "description": description}));
    }
    Ok(Value::Array(list))
}

/// The string field `key`, required, of `min..=max` characters.
pub(super) fn text<'a>(
    f: &Fields<'a>,
    key: &str,
    min: usize,
    max: usize,
) -> Result<&'a str, CommandError> {
    let value = f
        .opt_str(key)?
        .ok_or_else(|| f.error(format!("{key} is required")))?;
    let length = value.chars().count();
    if length < min || length > max {
        return Err(f.error(format!(
            "{key} must be {min}–{max} characters, got {length}"
        )));
    }
    Ok(value)
}

/// Only the target chat.
pub(super) fn just_chat(f: &Fields, ctx: &UpdateContext) -> Result<Params, CommandError> {
    let mut params = Map::new();
    params.insert("chat_id".into(), chat_id(f, ctx)?);
    Ok(params)
}

/// The target chat and `key`.
pub(super) fn params_with(
    f: &Fields,
    ctx: &UpdateContext,
    key: &str,
    value: Value,
) -> Result<Params, CommandError> {
    let mut params = just_chat(f, ctx)?;
    params.insert(key.into(), value);
    Ok(params)
}

/// The target chat and the channel `sender_chat_id`.
fn sender_chat(f: &Fields, ctx: &UpdateContext) -> Result<Params, CommandError> {
    let id = f.int("sender_chat_id")?;
    params_with(f, ctx, "sender_chat_id", id.into())
}
