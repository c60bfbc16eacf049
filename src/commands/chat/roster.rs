//! Who is in the chat and how they are shown, by Salebot's names: the member count
//! (`tg_get_chat_member_count`) and an administrator's custom title
//! (`tg_set_administrator_title`).

use super::members::member;
use super::{CHAT_ID, ChatAction, Method, Takes, USER_ID};
use crate::commands::FieldSpec;

/// Telegram's limit on a custom title.
const MAX_TITLE: usize = 16;

pub(super) const TG_GET_CHAT_MEMBER_COUNT: ChatAction = ChatAction {
    name: "tg_get_chat_member_count",
    doc: r#"
How many members the chat has (`getChatMemberCount`). Optional `chat_id`.

# Example
```rhai
reply(`We are ${tg_get_chat_member_count()} now`);
```
"#,
    overloads: &[&["INT"], &["chat_id: INT | String", "INT"]],
    method: Method::Fixed("getChatMemberCount"),
    takes: Takes::Only(&[CHAT_ID]),
    returns: "42",
    build: super::settings::just_chat,
};

pub(super) const TG_SET_ADMINISTRATOR_TITLE: ChatAction = ChatAction {
    name: "tg_set_administrator_title",
    doc: r#"
Give an administrator the bot promoted a custom title (`setChatAdministratorCustomTitle`, 0–16
characters, no emoji), shown beside their name instead of "admin". Optional leading `chat_id`.

# Example
```rhai
tg_promote_chat_member(42, #{can_delete_messages: true});
tg_set_administrator_title(42, "Keeper of rules");
```
"#,
    overloads: &[
        &["user_id: INT | String", "custom_title: String", "bool"],
        &[
            "chat_id: INT | String",
            "user_id: INT | String",
            "custom_title: String",
            "bool",
        ],
    ],
    method: Method::Confirmed("setChatAdministratorCustomTitle"),
    takes: Takes::Only(&[
        CHAT_ID,
        USER_ID,
        FieldSpec::required(
            "custom_title",
            "string",
            r#""Keeper of rules""#,
            "the title, 0–16 characters, no emoji",
        ),
    ]),
    returns: "true",
    build: |f, ctx| {
        let mut params = member(f, ctx)?;
        let title = super::settings::text(f, "custom_title", 0, MAX_TITLE)?;
        if let Some(emoji) = title.chars().find(|c| is_emoji(*c)) {
            return Err(f.error(format!(
                "custom_title may not hold emoji (Telegram refuses them), found {emoji:?}"
            )));
        }
        params.insert("custom_title".into(), title.into());
        Ok(params)
    },
};

/// Whether `c` is in one of Unicode's emoji blocks (pictographs, symbols, dingbats,
/// variation selectors).
fn is_emoji(c: char) -> bool {
    matches!(u32::from(c),
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0xFE00..=0xFE0F | 0x200D)
}
