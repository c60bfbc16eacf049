//! The admin actions over the bots of a `run` and their scenario files, answered by the
//! process's [`crate::gateway::admin::BotControl`].

use super::{Access, ActionSpec};
use crate::commands::FieldSpec;
use crate::gateway::{Client, Gateway, admin};
use crate::request::CommandError;
use serde_json::{Map, Value};

/// Hand admin `action` to the bots of the process.
pub(super) fn act(
    gw: &Gateway,
    client: &Client,
    action: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    match &gw.bots {
        Some(bots) => bots.act(action, client.tenant(), request),
        None => Err(admin::no_bots(action)),
    }
}

/// `check_script`: on the bot's folder where bots run, else on the scripts folder.
fn check(
    gw: &Gateway,
    client: &Client,
    action: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    match (&gw.bots, &gw.checker) {
        (None, Some(checker)) => checker.check(action, client.tenant(), request),
        _ => act(gw, client, action, request),
    }
}

/// The error of an admin action where no bots run.
pub(super) const NOT_HERE: &str = admin::NO_BOTS;
/// The bot a script action is about.
const BOT_ID: FieldSpec = FieldSpec::required(
    "bot_id",
    "string",
    r#""shop""#,
    "the bot whose scenario folder it is",
);
/// The scenario file a script action is about.
const NAME: FieldSpec = FieldSpec::required(
    "name",
    "string",
    r#""anti_spam.rhai""#,
    "a file name like anti_spam.rhai (letters, digits, `_`, `-`; no folders)",
);
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
    run: act,
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
    run: act,
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
    run: act,
};

/// `put_script`.
pub(super) const PUT_SCRIPT: ActionSpec = ActionSpec {
    name: "put_script",
    access: Access::Tenant,
    doc: "Write a scenario file of a bot, checked like `tgscript check` first (nothing is \
          written when it has problems); hot reload then loads it.",
    fields: &[
        BOT_ID,
        NAME,
        FieldSpec::required(
            "source",
            "string",
            r#""fn on_message(msg) { reply(\"hi\"); }""#,
            "the script (at most [limits] max_script_size bytes)",
        ),
    ],
    success: "{bot_id, name, bytes}",
    returns: r#"{"bot_id": "shop", "name": "anti_spam.rhai", "bytes": 38}"#,
    errors: &[
        NOT_HERE,
        "bot_id is required / name is required / source is required / no bot \"x\" runs here",
        "name \"x\": a file name like anti_spam.rhai (letters, digits, `_`, `-`)",
        "the script has N bytes; [limits] max_script_size is M",
        "the problems `tgscript check` finds, separated by `; `",
    ],
    run: act,
};

/// `get_script`.
pub(super) const GET_SCRIPT: ActionSpec = ActionSpec {
    name: "get_script",
    access: Access::Tenant,
    doc: "Read a scenario file of a bot.",
    fields: &[BOT_ID, NAME],
    success: "{name, source}",
    returns: r#"{"name": "anti_spam.rhai", "source": "fn on_message(msg) { reply(\"hi\"); }"}"#,
    errors: &[
        NOT_HERE,
        "bot_id is required / name is required / no bot \"x\" runs here",
        "<file>: No such file or directory (os error 2)",
    ],
    run: act,
};

/// `delete_script`.
pub(super) const DELETE_SCRIPT: ActionSpec = ActionSpec {
    name: "delete_script",
    access: Access::Tenant,
    doc: "Delete a scenario file of a bot; hot reload then unloads it.",
    fields: &[BOT_ID, NAME],
    success: "{name, deleted: true}",
    returns: r#"{"name": "anti_spam.rhai", "deleted": true}"#,
    errors: &[
        NOT_HERE,
        "bot_id is required / name is required / no bot \"x\" runs here",
        "<file>: No such file or directory (os error 2)",
    ],
    run: act,
};

/// `list_scripts`.
pub(super) const LIST_SCRIPTS: ActionSpec = ActionSpec {
    name: "list_scripts",
    access: Access::Tenant,
    doc: "The scenario files of a bot (what hot reload loads from its folder).",
    fields: &[WHICH_BOT],
    success: "{bot_id, names}",
    returns: r#"{"bot_id": "shop", "names": ["anti_spam.rhai", "vote.rhai"]}"#,
    errors: &[
        NOT_HERE,
        "N bots run here: pass bot_id (…) / no bot \"x\" runs here",
        "<folder>: No such file or directory (os error 2)",
    ],
    run: act,
};

/// `check_script`.
pub(super) const CHECK_SCRIPT: ActionSpec = ActionSpec {
    name: "check_script",
    access: Access::Tenant,
    doc: "Check a script as scenario `name` of a bot, like `tgscript check` and the load after \
          `put_script` would, without putting it in place or running it (it is compiled from a \
          hidden draft in the bot's folder, removed after): each problem with its line and \
          column (the web console's editor shows them as you type). Under `tgscript serve`, \
          where no bots run, it is checked as a scenario of `[scripts] dir`.",
    fields: &[
        WHICH_BOT,
        NAME,
        FieldSpec::required(
            "source",
            "string",
            r#""fn on_message(msg) { reply(\"hi\") }""#,
            "the script (at most [limits] max_script_size bytes)",
        ),
    ],
    success: "{name, problems: [{line, column, message}]} (no problems: an empty list)",
    returns: r#"{"name": "anti_spam.rhai", "problems": [{"line": 1, "column": 37, "message": "syntax error: expecting ';' to terminate this statement"}]}"#,
    errors: &[
        "name is required / source is required",
        "N bots run here: pass bot_id (…) / no bot \"x\" runs here",
        "name \"x\": a file name like anti_spam.rhai (letters, digits, `_`, `-`)",
        "the script has N bytes; [limits] max_script_size is M",
        "<name>: <why the draft cannot be written> (the folder must be writable)",
    ],
    run: check,
};

/// `sandbox_chat`.
pub(super) const SANDBOX_CHAT: ActionSpec = ActionSpec {
    name: "sandbox_chat",
    access: Access::Admin,
    doc: "Say a line in the sandbox of `tgscript run` without a bot token, as on its \
          console: `text` (from alice, in the group), `/as NAME text`, `/dm [NAME] text` (in \
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
        "line is required / a console usage line, e.g. `usage: /press [#N] DATA (…)`",
        "\"<echo>\" was said, and the scenarios are still at it after 30 s (see the activity)",
    ],
    run: act,
};
