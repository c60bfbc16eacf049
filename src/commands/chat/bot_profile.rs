//! The bot's own profile, by Salebot's names: its description (shown in an empty chat with
//! the bot) and short description (on its profile and in shared links), set and read, and its
//! command list read and deleted (`tg_set_my_commands` sets it). Each may be per language.

use super::{ChatAction, Method, Params, Takes, put_opt_str};
use crate::commands::FieldSpec;
use crate::request::{CommandError, Fields};
use serde_json::Map;

/// The users' language a setting is for.
const LANGUAGE: FieldSpec = FieldSpec::optional(
    "language_code",
    "string",
    "a two-letter ISO 639-1 code: the users it is for (left out: everyone without one of their own)",
);

/// A command list's scope.
const SCOPE: FieldSpec =
    FieldSpec::optional("scope", "map", "a BotCommandScope (left out: every chat)");

/// Everyone / the users of one language.
macro_rules! by_language {
    ($returns:literal) => {
        &[&[$returns], &["language_code: String", $returns]]
    };
    ($arg:literal, $returns:literal) => {
        &[
            &[$arg, $returns],
            &[$arg, "language_code: String", $returns],
        ]
    };
}

pub(super) const TG_SET_MY_DESCRIPTION: ChatAction = ChatAction {
    name: "tg_set_my_description",
    doc: r#"
Set the bot's description, what users see in an empty chat with it (`setMyDescription`, up to
512 characters; `""` removes it). Optional `language_code` for the users of one language.

# Example
```rhai
tg_set_my_description("I keep the group tidy. Press Start to read the rules.");
```
"#,
    overloads: by_language!("description: String", "bool"),
    method: Method::Confirmed("setMyDescription"),
    takes: Takes::Only(&[
        FieldSpec::required(
            "description",
            "string",
            r#""I keep the group tidy""#,
            "the description, up to 512 characters (\"\" removes it)",
        ),
        LANGUAGE,
    ]),
    returns: "true",
    build: |f, _| described(f, "description", 512),
};

pub(super) const TG_GET_MY_DESCRIPTION: ChatAction = ChatAction {
    name: "tg_get_my_description",
    doc: r#"
The bot's description as `#{description}` (`getMyDescription`). Optional `language_code`.

# Example
```rhai
print(tg_get_my_description().description);
```
"#,
    overloads: by_language!("Map"),
    method: Method::Fixed("getMyDescription"),
    takes: Takes::Only(&[LANGUAGE]),
    returns: r#"{"description": "I keep the group tidy"}"#,
    build: |f, _| language(f),
};

pub(super) const TG_SET_MY_SHORT_DESCRIPTION: ChatAction = ChatAction {
    name: "tg_set_my_short_description",
    doc: r#"
Set the bot's short description, shown on its profile and with links to it
(`setMyShortDescription`, up to 120 characters; `""` removes it). Optional `language_code`.

# Example
```rhai
tg_set_my_short_description("The group's moderator", "en");
```
"#,
    overloads: by_language!("short_description: String", "bool"),
    method: Method::Confirmed("setMyShortDescription"),
    takes: Takes::Only(&[
        FieldSpec::required(
            "short_description",
            "string",
            r#""The group's moderator""#,
            "the short description, up to 120 characters (\"\" removes it)",
        ),
        LANGUAGE,
    ]),
    returns: "true",
    build: |f, _| described(f, "short_description", 120),
};

pub(super) const TG_GET_MY_SHORT_DESCRIPTION: ChatAction = ChatAction {
    name: "tg_get_my_short_description",
    doc: r#"
The bot's short description as `#{short_description}` (`getMyShortDescription`). Optional
`language_code`.

# Example
```rhai
print(tg_get_my_short_description().short_description);
```
"#,
    overloads: by_language!("Map"),
    method: Method::Fixed("getMyShortDescription"),
    takes: Takes::Only(&[LANGUAGE]),
    returns: r#"{"short_description": "The group's moderator"}"#,
    build: |f, _| language(f),
};

pub(super) const TG_GET_MY_COMMANDS: ChatAction = ChatAction {
    name: "tg_get_my_commands",
    doc: r#"
The bot's command list, an array of `#{command, description}` (`getMyCommands`). Options:
`#{scope, language_code}` as the Bot API takes them.

# Example
```rhai
for c in tg_get_my_commands() { print(`/${c.command}: ${c.description}`); }
```
"#,
    overloads: &[&["Array"], &["options: Map", "Array"]],
    method: Method::Fixed("getMyCommands"),
    takes: Takes::Only(&[SCOPE, LANGUAGE]),
    returns: r#"[{"command": "rules", "description": "Show the rules"}]"#,
    build: |f, _| scoped(f),
};

pub(super) const TG_DELETE_MY_COMMANDS: ChatAction = ChatAction {
    name: "tg_delete_my_commands",
    doc: r#"
Delete the bot's command list (`deleteMyCommands`); users then see the list of a wider scope,
if any. Options: `#{scope, language_code}`.

# Example
```rhai
tg_delete_my_commands();
```
"#,
    overloads: &[&["bool"], &["options: Map", "bool"]],
    method: Method::Confirmed("deleteMyCommands"),
    takes: Takes::Only(&[SCOPE, LANGUAGE]),
    returns: "true",
    build: |f, _| scoped(f),
};

/// A description `key` of at most `max` characters, and the language.
fn described(f: &Fields, key: &str, max: usize) -> Result<Params, CommandError> {
    let text = super::settings::text(f, key, 0, max)?;
    let mut params = language(f)?;
    params.insert(key.into(), text.into());
    Ok(params)
}

/// The language, checked: two lowercase letters.
fn language(f: &Fields) -> Result<Params, CommandError> {
    let mut params = Map::new();
    if let Some(code) = f.opt_str("language_code")?
        && !(code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase()))
    {
        return Err(f.error(format!(
            "language_code must be two lowercase letters (ISO 639-1), got {code:?}"
        )));
    }
    put_opt_str(f, &mut params, "language_code")?;
    Ok(params)
}

/// The scope, if any, and the language.
fn scoped(f: &Fields) -> Result<Params, CommandError> {
    let mut params = language(f)?;
    if let Some(scope) = f.opt_map("scope")? {
        if !scope.get("type").is_some_and(serde_json::Value::is_string) {
            return Err(f.error(
                "scope must be a BotCommandScope map with a type, e.g. #{type: \"all_group_chats\"}",
            ));
        }
        params.insert("scope".into(), serde_json::Value::Object(scope.clone()));
    }
    Ok(params)
}
