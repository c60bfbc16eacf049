//! Account builtins (TDLib): the seed's ten commands on the default account, `account(id)`
//! handles with the same methods, `command(#{action: ...})` taking a seed request, and
//! `tdlib(#{"@type": ...})` for any TDLib request. Thin adapters over
//! [`crate::commands::account`].

use super::{builtin, request, throw, to_dynamic};
use crate::commands::{self, CommandError, account};
use crate::engine::run;
use crate::host::Host;
use rhai::{Dynamic, Engine, EvalAltResult, Map};
use std::sync::Arc;

type RhaiResult = Result<Dynamic, Box<EvalAltResult>>;

/// A handle on account `id` (`account(2).block_user(42)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountHandle {
    id: i64,
}

/// Run seed command `action` on account `id` (the default when `None`).
fn act(
    host: &Host,
    id: Option<i64>,
    action: &str,
    fields: &[(&str, Dynamic)],
    options: Option<Map>,
) -> RhaiResult {
    let request = request(action, fields, options, "TDLib")?;
    account::execute(host, id, action, &request)
        .map_err(|e| throw(&e))
        .and_then(to_dynamic)
}

fn raw(host: &Host, id: Option<i64>, request: Map) -> RhaiResult {
    let request = serde_json::to_value(Dynamic::from_map(request))
        .map_err(|e| throw(&CommandError::invalid("tdlib", e.to_string())))?;
    account::raw(host, id, request)
        .map_err(|e| throw(&e))
        .and_then(to_dynamic)
}

/// One seed command as a builtin: its name, parameters and doc.
struct Spec {
    name: &'static str,
    params: &'static [&'static str],
    doc: &'static str,
}

const SPECS: &[Spec] = &[
    Spec {
        name: "get_active_sessions",
        params: &[],
        doc: r#"
The account's active sessions: `#{sessions: [#{id, is_current, is_password_pending,
is_unconfirmed, can_accept_calls, can_accept_secret_chats, type, api_id, application_name,
application_version, is_official_application, device_model, platform, system_version,
ip_address, location, log_in_date, last_active_date}], inactive_session_ttl_days}` (ids are
integers; `type` is e.g. "android"). TDLib: getActiveSessions.

# Example
```rhai
for s in get_active_sessions().sessions { print(`${s.id} ${s.device_model} ${s.location}`); }
```
"#,
    },
    Spec {
        name: "terminate_session",
        params: &["session_id"],
        doc: r#"
End another session. Errors: `session_id is required`, `current session can't be terminated via
terminate_session`. Returns `#{session_id, terminated: true}`. TDLib: terminateSession.

# Example
```rhai
terminate_session(1002);
```
"#,
    },
    Spec {
        name: "set_session_settings",
        params: &["session_id", "settings"],
        doc: r#"
Change whether a session accepts calls and secret chats: `settings` holds at least one of
`can_accept_calls`, `can_accept_secret_chats` (else `at least one of can_accept_calls or
can_accept_secret_chats is required`). Returns what was set. TDLib:
toggleSessionCanAcceptCalls / toggleSessionCanAcceptSecretChats.

# Example
```rhai
set_session_settings(1002, #{can_accept_calls: false});
```
"#,
    },
    Spec {
        name: "terminate_all_other_sessions",
        params: &[],
        doc: r#"
End every session but the current one. Returns `#{terminated: true}`. TDLib:
terminateAllOtherSessions.

# Example
```rhai
terminate_all_other_sessions();
```
"#,
    },
    Spec {
        name: "block_user",
        params: &["user_id"],
        doc: r#"
Block a user. Options: `#{is_blocked: true, block_list: "blockListMain"}` (`is_blocked: false`
unblocks; `block_list` is "blockListMain", "blockListStories" or `#{"@type": ...}`). Returns
`#{user_id, is_blocked, block_list}`. TDLib: setMessageSenderBlockList.

# Example
```rhai
block_user(42);
block_user(43, #{block_list: "blockListStories"});
```
"#,
    },
    Spec {
        name: "unblock_user",
        params: &["user_id"],
        doc: r#"
Unblock a user (from either list). Returns `#{user_id, is_blocked: false}`. TDLib:
setMessageSenderBlockList with no list.

# Example
```rhai
unblock_user(42);
```
"#,
    },
    Spec {
        name: "get_blocked_users",
        params: &[],
        doc: r#"
A page of blocked senders: `#{total_count, offset, limit, block_list, senders: [#{kind, id}]}`.
Options: `#{block_list, offset: 0, limit: 50}` (limit 1–100). TDLib: getBlockedMessageSenders.

# Example
```rhai
let page = get_blocked_users(#{offset: 0, limit: 20});
print(`${page.total_count} blocked`);
```
"#,
    },
    Spec {
        name: "get_privacy_setting",
        params: &["setting"],
        doc: r#"
One privacy setting, in the fields `set_privacy_setting` takes, so it can be set back unchanged:
`#{setting, mode, allow_user_ids, allow_chat_ids, restrict_user_ids, restrict_chat_ids,
allow_premium_users, rules}` (`mode` is "all", "contacts", "nobody", or `()` for rules no mode
makes). `setting` is a `userPrivacySetting*` type name (or `#{"@type": ...}`), or
"newChatPrivacySettings" (then `#{setting, allow_new_chats_from_unknown_users,
incoming_paid_message_star_count}`). TDLib: getUserPrivacySettingRules /
getNewChatPrivacySettings.

# Example
```rhai
let s = get_privacy_setting("userPrivacySettingShowStatus");
print(s.mode);
```
"#,
    },
    Spec {
        name: "get_privacy_settings",
        params: &[],
        doc: r#"
Several privacy settings at once: `#{settings: [...]}`, each as `get_privacy_setting` returns
it. Give a list of settings, one setting, or nothing (= all of them). Errors: `settings must be
a list or string`, `failed to get privacy settings: ...`.

# Example
```rhai
let all = get_privacy_settings();
let two = get_privacy_settings(["userPrivacySettingShowStatus", "newChatPrivacySettings"]);
```
"#,
    },
    Spec {
        name: "set_privacy_setting",
        params: &["setting", "options"],
        doc: r#"
Set a privacy setting. Options: `#{mode: "all" | "contacts" | "nobody", allow_user_ids,
allow_chat_ids, restrict_user_ids, restrict_chat_ids, allow_premium_users}`, or raw `#{rules}`
(a userPrivacySettingRules object or a list of rule objects); for "newChatPrivacySettings":
`#{allow_new_chats_from_unknown_users, incoming_paid_message_star_count}`. Returns the setting
as `get_privacy_setting` reads it back. Rules are built in TDLib's order (first match wins):
all = restrict users, restrict chats, allow all; contacts = allow users, allow chats, allow
premium, restrict users, restrict chats, allow contacts, restrict all; nobody = allow users,
allow chats, allow premium, restrict all.

# Example
```rhai
set_privacy_setting("userPrivacySettingShowStatus", #{mode: "contacts", restrict_user_ids: [42]});
```
"#,
    },
];

const ACCOUNT_DOC: &str = r#"
A handle on another configured account (its `userbot_id`), with the same methods as the
default-account builtins: `account(2).get_active_sessions()`, `account(2).block_user(42)`, …
Unknown ids fail with `unknown userbot_id 7` when used.

# Example
```rhai
account(2).block_user(42);
let sessions = account(2).get_active_sessions();
```
"#;

const COMMAND_DOC: &str = r#"
Run a request exactly as the seed protocol (and the JSON gateway) shapes it:
`#{action, userbot_id, ...fields}`. Account commands need `userbot_id` (`userbot_id is
required`); chat actions (`tg_chat_permission`, …) act through the bot. Returns the command's
result; failures throw `#{command, error, code?}` with the seed's words.

# Example
```rhai
command(#{action: "terminate_session", userbot_id: 1, session_id: 1002});
```
"#;

const TDLIB_DOC: &str = r#"
Send any TDLib request (`#{"@type": "getMe"}`, …) to the default account and return TDLib's
answer; `account(id).tdlib(...)` for another account. Errors throw `#{command: "tdlib", error,
code}` with TDLib's own code and message.

# Example
```rhai
let version = tdlib(#{"@type": "getOption", name: "version"});
```
"#;

/// Register `spec` as a global builtin (default account) and as an `AccountHandle` method,
/// with and without a trailing options map where it takes one.
fn register_spec(engine: &mut Engine, host: &Arc<Host>, spec: &'static Spec) {
    let name = spec.name;
    let typed = |params: &[&str], extra: &[&str]| -> Vec<String> {
        params
            .iter()
            .map(|p| {
                format!(
                    "{p}: {}",
                    if *p == "settings" || *p == "options" {
                        "Map"
                    } else {
                        "Dynamic"
                    }
                )
            })
            .chain(extra.iter().map(|s| s.to_string()))
            .collect()
    };
    let method = |params: Vec<String>| -> Vec<String> {
        std::iter::once("account: AccountHandle".to_string())
            .chain(params)
            .collect()
    };
    let p = spec.params;
    macro_rules! both {
        ($params:expr, [$($arg:ident : $ty:ty),*], $fields:expr, $opts:expr) => {{
            let params: Vec<String> = $params;
            let h = host.clone();
            builtin(name, &params.iter().map(String::as_str).collect::<Vec<_>>(), spec.doc)
                .register_into_engine(engine, move |$($arg: $ty),*| act(&h, None, name, &$fields, $opts));
            let h = host.clone();
            let params = method(params);
            builtin(name, &params.iter().map(String::as_str).collect::<Vec<_>>(), spec.doc)
                .register_into_engine(engine, move |handle: &mut AccountHandle, $($arg: $ty),*| {
                    act(&h, Some(handle.id), name, &$fields, $opts)
                });
        }};
    }
    match p {
        [] => {
            both!(typed(p, &["Map"]), [], [], None);
            if matches!(name, "get_blocked_users" | "get_privacy_settings") {
                let (key, ty) = if name == "get_blocked_users" {
                    ("options", "options: Map")
                } else {
                    ("settings", "settings: Dynamic")
                };
                let params = vec![ty.to_string(), "Map".to_string()];
                if key == "options" {
                    both!(params, [o: Map], [], Some(o));
                } else {
                    both!(params, [s: Dynamic], [("settings", s)], None);
                }
            }
        }
        [a] => {
            both!(typed(p, &["Map"]), [x: Dynamic], [(*a, x)], None);
            if name == "block_user" {
                both!(
                    typed(&[a, "options"], &["Map"]),
                    [x: Dynamic, o: Map],
                    [(*a, x)],
                    Some(o)
                );
            }
        }
        [a, _] => {
            both!(typed(p, &["Map"]), [x: Dynamic, o: Map], [(*a, x)], Some(o));
        }
        _ => {}
    }
}

pub(super) fn register(engine: &mut Engine, host: &Arc<Host>) {
    engine.register_type_with_name::<AccountHandle>("Account");
    for spec in SPECS {
        register_spec(engine, host, spec);
    }
    builtin("account", &["userbot_id: INT", "Account"], ACCOUNT_DOC)
        .register_into_engine(engine, |id: rhai::INT| AccountHandle { id });

    let h = host.clone();
    builtin("command", &["request: Map", "Dynamic"], COMMAND_DOC).register_into_engine(
        engine,
        move |request: Map| -> RhaiResult {
            let request = serde_json::to_value(Dynamic::from_map(request))
                .ok()
                .and_then(|v| v.as_object().cloned())
                .ok_or_else(|| {
                    throw(&CommandError::invalid(
                        "command",
                        "the request cannot be read as JSON",
                    ))
                })?;
            let context = run::current_update();
            commands::execute_request(&h, &request, context.as_deref())
                .map_err(|e| throw(&e))
                .and_then(to_dynamic)
        },
    );

    let h = host.clone();
    builtin("tdlib", &["request: Map", "Map"], TDLIB_DOC)
        .register_into_engine(engine, move |request: Map| raw(&h, None, request));
    let h = host.clone();
    builtin(
        "tdlib",
        &["account: AccountHandle", "request: Map", "Map"],
        TDLIB_DOC,
    )
    .register_into_engine(engine, move |handle: &mut AccountHandle, request: Map| {
        raw(&h, Some(handle.id), request)
    });
}
