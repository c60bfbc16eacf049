//! Account builtins (TDLib): every command of [`crate::commands::account::COMMANDS`] on the
//! default account and as a method of `account(id)` handles, `command(#{action: ...})` taking
//! a seed request, and `tdlib(#{"@type": ...})` for any TDLib request.

use super::{Args, RhaiResult, answer, builtin, context, register_overloads, request, throw};
use crate::commands::{self, account};
use crate::request::CommandError;
use rhai::{Dynamic, Map, Module, NativeCallContext};

/// A handle on account `id` (`account(2).block_user(42)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountHandle {
    id: i64,
}

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
Send a TDLib request (`#{"@type": "getMe"}`, …) to the default account and return TDLib's
answer; `account(id).tdlib(...)` for another account. Errors throw `#{command: "tdlib", error,
code}` with TDLib's own code and message; a request TDLib does not answer within 30 s fails
with code 504. Allowed: the account's own sessions, blocks and privacy, and reading its own
profile (getMe, getUser, getUserFullInfo, getOption, getCountryCode, getAuthorizationState,
getPasswordState, getAccountTtl, getActiveSessions, terminateSession,
terminateAllOtherSessions, toggleSessionCanAcceptCalls, toggleSessionCanAcceptSecretChats,
confirmSession, setInactiveSessionTtl, getConnectedWebsites, disconnectWebsite,
disconnectAllWebsites, getBlockedMessageSenders, setMessageSenderBlockList,
getUserPrivacySettingRules, setUserPrivacySettingRules, getNewChatPrivacySettings,
setNewChatPrivacySettings, getReadDatePrivacySettings, setReadDatePrivacySettings,
getArchiveChatListSettings, setArchiveChatListSettings, getDefaultMessageAutoDeleteTime,
setDefaultMessageAutoDeleteTime); anything else is refused with its name. Only the scenarios
of the account's owner reach it.

# Example
```rhai
let version = tdlib(#{"@type": "getOption", name: "version"});
```
"#;

/// The receiver of a method call, when the first argument is an account handle.
fn take_handle(args: &mut Args) -> Option<i64> {
    let (name, value) = args.values.first()?;
    let id = (*name == "account").then(|| value.clone().try_cast::<AccountHandle>())??;
    let _receiver = args.values.remove(0);
    Some(id.id)
}

/// Map `request` (a Rhai map) to JSON, or the error `command` throws.
fn json_of(command: &str, request: Map) -> Result<serde_json::Value, CommandError> {
    serde_json::to_value(Dynamic::from_map(request))
        .map_err(|_| CommandError::invalid(command, "the request cannot be read as JSON"))
}

pub(super) fn register(module: &mut Module) {
    for command in account::COMMANDS {
        let name = command.name;
        let run = move |ctx: &super::CallContext, mut args: Args| -> RhaiResult {
            let id = take_handle(&mut args);
            let request = request(name, args.values, "TDLib")?;
            answer(|| command.run(&*ctx.effects, id, &request))
        };
        register_overloads(module, name, command.overloads, command.doc, run);
        let methods: Vec<Vec<&'static str>> = command
            .overloads
            .iter()
            .map(|params| {
                std::iter::once("account: AccountHandle")
                    .chain(params.iter().copied())
                    .collect()
            })
            .collect();
        let methods: Vec<&[&'static str]> = methods.iter().map(Vec::as_slice).collect();
        register_overloads(module, name, &methods, command.doc, run);
    }
    builtin("account", &["userbot_id: INT", "Account"], ACCOUNT_DOC)
        .set_into_module(module, |id: rhai::INT| AccountHandle { id });

    builtin("command", &["request: Map", "Dynamic"], COMMAND_DOC).set_into_module(
        module,
        |ctx: NativeCallContext, request: Map| -> RhaiResult {
            let context = context(&ctx);
            let request = json_of("command", request)
                .ok()
                .and_then(|v| v.as_object().cloned())
                .ok_or_else(|| {
                    throw(&CommandError::invalid(
                        "command",
                        "the request cannot be read as JSON",
                    ))
                })?;
            answer(|| {
                commands::execute_request(&*context.effects, &request, context.update.as_deref())
            })
        },
    );

    let raw = |ctx: &super::CallContext, mut args: Args| -> RhaiResult {
        let id = take_handle(&mut args);
        let request = args
            .values
            .pop()
            .and_then(|(_, value)| value.try_cast::<Map>())
            .unwrap_or_default();
        let request = json_of("tdlib", request).map_err(|e| throw(&e))?;
        answer(|| account::raw(&*ctx.effects, id, request))
    };
    register_overloads(
        module,
        "tdlib",
        &[
            &["request: Map", "Map"],
            &["account: AccountHandle", "request: Map", "Map"],
        ],
        TDLIB_DOC,
        raw,
    );
}
