//! The admin actions over the bots of a `run`: added, removed and listed, and a line said in
//! the sandbox's group; each request's fields checked here, the work done by the process's
//! [`BotControl`].

use super::Action;
use super::{Access, ActionSpec, Run, text};
use crate::commands::FieldSpec;
use crate::config::{BotMode, valid_bot_id};
use crate::gateway::admin::{self, NewBot};
use crate::gateway::{Client, Gateway};
use crate::request::CommandError;
use serde_json::{Map, Value, json};
use std::path::PathBuf;

/// What the gateway asks of the process that runs the bots: the admin actions over the set,
/// each a typed call, and any action that runs on one bot, wherever that bot runs.
pub trait BotControl: Send + Sync {
    /// Start `bot` and keep it in the database (`add_bot`): the bot as started, `{id, mode,
    /// scripts, tenant}`, or why not.
    fn add(&self, bot: NewBot) -> Result<Value, String>;

    /// Stop gateway-added bot `id` and forget it (`remove_bot`).
    fn remove(&self, id: &str) -> Result<(), String>;

    /// The bots running (in a cluster, also the others'), of tenant `scope`'s only when
    /// given (`list_bots`).
    fn list(&self, scope: Option<&str>) -> Value;

    /// Say `line` in the sandbox group of a `run` without a token, answered once the
    /// scenarios handled it: the line as the chat shows it (`sandbox_chat`).
    fn sandbox_chat(&self, line: &str) -> Result<String, String>;

    /// Run `action` (the fields of `request`) on bot `bot_id` (`None`: the only bot; of
    /// tenant `scope`'s, when given), wherever it runs: here, or in a cluster on its owner,
    /// which runs the same [`super::Action::run_on_bot`]. An unknown id, one of another tenant, or
    /// none while several bots run, is an error that names the bots. Called on a blocking
    /// thread.
    fn on_bot(
        &self,
        action: Action,
        bot_id: Option<&str>,
        scope: Option<&str>,
        request: &Map<String, Value>,
    ) -> Result<Value, CommandError>;

    /// The tenant of bot `bot`, if the process (or its cluster) runs it.
    fn tenant_of(&self, bot: &str) -> Option<String>;
}

/// The bots of the process, or the error of an action that needs them where none run.
fn bots<'a>(gw: &'a Gateway, action: &str) -> Result<&'a dyn BotControl, CommandError> {
    gw.bots.as_deref().ok_or_else(|| admin::no_bots(action))
}

/// `add_bot`: the bot's fields checked, then started and kept.
fn add_bot(
    gw: &Gateway,
    _: &Client,
    action: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let fail = |e: &str| CommandError::invalid(action, e);
    let id = text(action, request, "id")?;
    if !valid_bot_id(&id) {
        return Err(fail("id: use 1–64 letters, digits, `_` or `-`"));
    }
    let tenant = match request.get("tenant") {
        None | Some(Value::Null) => None,
        Some(_) => Some(text(action, request, "tenant")?),
    };
    if tenant.as_deref().is_some_and(|t| !valid_bot_id(t)) {
        return Err(fail("tenant: use 1–64 letters, digits, `_` or `-`"));
    }
    let token = text(action, request, "token")?;
    crate::logging::add_secret(&token);
    let mode = match request.get("mode").and_then(Value::as_str) {
        None | Some("polling") => BotMode::Polling,
        Some("webhook") => BotMode::Webhook,
        Some(other) => {
            return Err(CommandError::invalid(
                action,
                format!("mode {other:?}: use \"polling\" or \"webhook\""),
            ));
        }
    };
    let bot = NewBot {
        id: id.clone(),
        token,
        mode,
        scripts: request
            .get("scripts")
            .and_then(Value::as_str)
            .map(PathBuf::from),
        api_url: request
            .get("api_url")
            .and_then(Value::as_str)
            .map(str::to_string),
        tenant,
    };
    bots(gw, action)?
        .add(bot)
        .map_err(|e| CommandError::invalid(action, e))
}

/// `remove_bot`.
fn remove_bot(
    gw: &Gateway,
    _: &Client,
    action: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let id = text(action, request, "id")?;
    bots(gw, action)?
        .remove(&id)
        .map_err(|e| CommandError::invalid(action, e))?;
    Ok(json!({"id": id, "removed": true}))
}

/// `list_bots`: the caller's tenant's bots only, for a tenant's client.
fn list_bots(
    gw: &Gateway,
    client: &Client,
    action: &str,
    _: &Map<String, Value>,
) -> Result<Value, CommandError> {
    Ok(bots(gw, action)?.list(client.tenant()))
}

/// `sandbox_chat`.
fn sandbox_chat(
    gw: &Gateway,
    _: &Client,
    action: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let line = text(action, request, "line")?;
    bots(gw, action)?
        .sandbox_chat(&line)
        .map(|echo| json!({"echo": echo}))
        .map_err(|e| CommandError::invalid(action, e))
}

/// The error of an admin action where no bots run.
pub(super) const NOT_HERE: &str = admin::NO_BOTS;
/// The bot an action is about, when the process runs several.
pub(super) const WHICH_BOT: FieldSpec = FieldSpec::optional(
    "bot_id",
    "string",
    "the bot (default: the only one; required when several run)",
);
/// The bot an add or remove is about.
const ID: FieldSpec = FieldSpec::required(
    "id",
    "string",
    r#""shop""#,
    "the bot's id: 1–64 letters, digits, `_` or `-`",
);

/// `add_bot`.
pub(super) const ADD_BOT: ActionSpec = ActionSpec {
    name: "add_bot",
    access: Access::Admin,
    doc: "Start a bot in the running process and keep it in the database (it starts again \
          with the next `run`).",
    fields: &[
        ID,
        FieldSpec::required(
            "token",
            "string",
            r#""123456789:AAH...""#,
            "the bot's token (never logged)",
        ),
        FieldSpec::optional(
            "mode",
            "string",
            "polling, or webhook (needs [webhook] listen)",
        )
        .or(r#""polling""#),
        FieldSpec::optional("scripts", "string", "its scenario folder")
            .or(r#""<data dir>/bots/<id>""#),
        FieldSpec::optional(
            "api_url",
            "string",
            "a Bot API server (default: Telegram's)",
        ),
        FieldSpec::optional(
            "tenant",
            "string",
            "the tenant (customer) it belongs to, 1–64 letters, digits, `_` or `-` (default: its id)",
        ),
    ],
    success: "the bot as started: {id, mode, scripts, tenant}",
    returns: r#"{"id": "shop", "mode": "polling", "scripts": "/var/lib/tgscript/bots/shop", "tenant": "acme"}"#,
    errors: &[
        NOT_HERE,
        "id is required / id: use 1–64 letters, digits, `_` or `-` / token is required",
        "mode webhook needs [webhook] listen and public_url in the config",
        "the Bot API refused the bot: ...",
    ],
    run: Run::Here(add_bot),
};

/// `remove_bot`.
pub(super) const REMOVE_BOT: ActionSpec = ActionSpec {
    name: "remove_bot",
    access: Access::Admin,
    doc: "Stop a bot added over the gateway and forget it (bots of the config file stay).",
    fields: &[ID],
    success: "{id, removed: true}",
    returns: r#"{"id": "shop", "removed": true}"#,
    errors: &[
        NOT_HERE,
        "id is required / no bot \"x\" runs here",
        "bot \"x\" cannot be removed here: it comes from the config file: remove its [[bot]] entry there",
    ],
    run: Run::Here(remove_bot),
};

/// `list_bots`.
pub(super) const LIST_BOTS: ActionSpec = ActionSpec {
    name: "list_bots",
    access: Access::Tenant,
    doc: "The bots running now, as `/health` describes them, with their scenario folders and \
          their `figures` over the last five minutes (a value per 2 s step, oldest first: \
          `updates_per_second`, `latency_ms` (null: no update), `failures`, `parked`); in a \
          cluster, also the bots the other instances run, each with the `instance` running it.",
    fields: &[],
    success: "{bots: [{id, mode, source, handled, inbox, scripts, figures, ...}]}",
    returns: r#"{"bots": [{"id": "shop", "mode": "polling", "source": "gateway", "handled": 12, "inbox": {"pending": 0, "parked": 0}, "scripts": "/var/lib/tgscript/bots/shop"}]}"#,
    errors: &[NOT_HERE],
    run: Run::Here(list_bots),
};

/// `sandbox_chat`.
pub(super) const SANDBOX_CHAT: ActionSpec = ActionSpec {
    name: "sandbox_chat",
    access: Access::Admin,
    doc: "Say a line in the sandbox of `tgscript run` without a bot token, as on its \
          standard input: `text` (from alice, in the group), `/as NAME text`, `/dm [NAME] text` (in \
          NAME's private chat with the bot), `/reply N text`, `/photo [caption]`, \
          `/join [NAME]`, `/press [#N] DATA`, `/wait DURATION`, … (`/help` answers the whole \
          list). Answered once the scenarios have handled it (at most 30 s); what they did \
          comes through `activity`.",
    fields: &[FieldSpec::required(
        "line",
        "string",
        r#""/as bob free crypto here!""#,
        "the line",
    )],
    success: "{echo}: the line as the chat shows it",
    returns: r##"{"echo": "#3 bob: free crypto here!"}"##,
    errors: &[
        NOT_HERE,
        "no sandbox runs here: sandbox_chat needs `tgscript run` without a bot token",
        "line is required / a sandbox command's usage line, e.g. `usage: /press [#N] DATA (…)`",
        "\"<echo>\" was said, and the scenarios are still at it after 30 s (see the activity)",
    ],
    run: Run::Here(sandbox_chat),
};
