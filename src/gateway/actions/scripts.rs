//! The scenario files of a bot over the gateway: written (checked like `tgscript check`
//! first; hot reload then loads them), read, deleted, listed and checked, each run on the bot
//! where it runs (the scripts folder under `serve` for `check_script`).

use super::bots::{NOT_HERE, WHICH_BOT};
use super::{Access, ActionSpec, Run, WhichBot, text};
use crate::commands::FieldSpec;
use crate::config::valid_bot_id;
use crate::engine::{Limits, ScriptError};
use crate::gateway::admin::BotScope;
use crate::request::CommandError;
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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
    run: Run::OnBot(WhichBot::Named, put_script),
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
    run: Run::OnBot(WhichBot::Named, get_script),
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
    run: Run::OnBot(WhichBot::Named, delete_script),
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
    run: Run::OnBot(WhichBot::OnlyOrNamed, list_scripts),
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
    run: Run::OnBot(WhichBot::OnlyNamedOrFolder, check_script),
};

/// `check_script`: the problems `tgscript check` finds in the script as scenario `name`.
fn check_script(
    bot: &BotScope,
    command: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let (name, source) = (
        script_name(command, request)?,
        source(command, &bot.limits, request)?,
    );
    let (_draft, problems) = checked(bot, command, &name, &source)?;
    let problems: Vec<Value> = problems
        .iter()
        .map(|p| json!({"line": p.line, "column": p.column, "message": p.message}))
        .collect();
    Ok(json!({"name": name, "problems": problems}))
}

/// `list_scripts`: the scenario files the other script actions take.
fn list_scripts(
    bot: &BotScope,
    command: &str,
    _: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let mut names: Vec<String> = crate::scenario::scenario_files(&bot.dir)
        .map_err(|e| CommandError::invalid(command, format!("{}: {e}", bot.dir.display())))?
        .iter()
        .filter_map(|f| f.file_name()?.to_str().map(str::to_string))
        .filter(|name| name.strip_suffix(".rhai").is_some_and(valid_bot_id))
        .collect();
    names.sort();
    Ok(json!({"bot_id": bot.id, "names": names}))
}

/// `get_script`: a scenario file's text.
fn get_script(
    bot: &BotScope,
    command: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let file = script_file(bot, command, request)?;
    let source = std::fs::read_to_string(&file)
        .map_err(|e| CommandError::invalid(command, format!("{}: {e}", file.display())))?;
    Ok(json!({"name": file.file_name().map(|n| n.to_string_lossy()), "source": source}))
}

/// `delete_script`: a scenario file removed (hot reload unloads it).
fn delete_script(
    bot: &BotScope,
    command: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let file = script_file(bot, command, request)?;
    std::fs::remove_file(&file)
        .map_err(|e| CommandError::invalid(command, format!("{}: {e}", file.display())))?;
    Ok(json!({"name": file.file_name().map(|n| n.to_string_lossy()), "deleted": true}))
}

/// `put_script`: the script checked like `tgscript check`, then written in `bot`'s folder.
fn put_script(
    bot: &BotScope,
    command: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let name = script_name(command, request)?;
    let source = source(command, &bot.limits, request)?;
    let (draft, problems) = checked(bot, command, &name, &source)?;
    if !problems.is_empty() {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(CommandError::invalid(command, lines.join("; ")));
    }
    // What was checked is what is moved into place, whole: hot reload sees it at once.
    std::fs::rename(&draft.path, bot.dir.join(&name))
        .map_err(|e| CommandError::invalid(command, format!("{name}: {e}")))?;
    Ok(json!({"bot_id": bot.id, "name": name, "bytes": source.len()}))
}

/// The field `source` of a script action: the script, at most `max_script_size` bytes.
fn source(
    command: &str,
    limits: &Limits,
    request: &Map<String, Value>,
) -> Result<String, CommandError> {
    let source = text(command, request, "source")?;
    if source.len() > limits.max_script_size {
        return Err(CommandError::invalid(
            command,
            format!(
                "the script has {} bytes; [limits] max_script_size is {}",
                source.len(),
                limits.max_script_size
            ),
        ));
    }
    Ok(source)
}

/// A script written under a hidden name in a bot's folder (the watcher ignores it), unique
/// to one call, so checks and saves of the same file never meet; removed when dropped unless
/// moved into place.
struct Draft {
    path: PathBuf,
    /// Its file name.
    hidden: String,
}

impl Draft {
    /// `source` written as a draft of scenario `name` of `bot`.
    fn write(bot: &BotScope, name: &str, source: &str) -> std::io::Result<Draft> {
        static DRAFTS: AtomicU64 = AtomicU64::new(0);
        let n = DRAFTS.fetch_add(1, Ordering::Relaxed);
        let hidden = format!(".{name}.{}.{n}.draft", std::process::id());
        let path = bot.dir.join(&hidden);
        std::fs::write(&path, source)?;
        Ok(Draft { path, hidden })
    }

    /// What `tgscript check` (and the load after a save) finds in it as scenario `name`: it
    /// is compiled in the bot's folder, so its imports resolve as they will, where the bot's
    /// scripts run (a worker: the host runs no tenant code, not even a module's top level).
    fn problems(&self, bot: &BotScope, name: &str) -> Vec<ScriptError> {
        let caller: Arc<dyn crate::effects::Effects> = bot.host.clone();
        // Exactly what the load after the rename would refuse; a check that overran is one
        // problem.
        let mut problems = bot
            .runner
            .check(&self.path, &caller)
            .unwrap_or_else(|overran| vec![overran]);
        for problem in &mut problems {
            if let Some(file) = &mut problem.file {
                *file = file.replace(&self.hidden, name);
            }
            problem.message = problem.message.replace(&self.hidden, name);
        }
        problems
    }
}

impl Drop for Draft {
    fn drop(&mut self) {
        // Gone already when it was moved into place.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `source` checked as scenario `name` of `bot`: its draft and the problems found.
fn checked(
    bot: &BotScope,
    command: &str,
    name: &str,
    source: &str,
) -> Result<(Draft, Vec<ScriptError>), CommandError> {
    let draft = Draft::write(bot, name, source)
        .map_err(|e| CommandError::invalid(command, format!("{name}: {e}")))?;
    let problems = draft.problems(bot, name);
    Ok((draft, problems))
}

/// The scenario file of `bot` a script action names (`name`: a file name ending in
/// `.rhai`, no folders).
fn script_file(
    bot: &BotScope,
    command: &str,
    request: &Map<String, Value>,
) -> Result<PathBuf, CommandError> {
    Ok(bot.dir.join(script_name(command, request)?))
}

/// The scenario file name a script action names (`name`, `.rhai` added when missing): a
/// file name of letters, digits, `_` and `-`, no folders.
fn script_name(command: &str, request: &Map<String, Value>) -> Result<String, CommandError> {
    let name = text(command, request, "name")?;
    let stem = name.strip_suffix(".rhai").unwrap_or(&name);
    if !valid_bot_id(stem) {
        return Err(CommandError::invalid(
            command,
            format!("name {name:?}: a file name like anti_spam.rhai (letters, digits, `_`, `-`)"),
        ));
    }
    Ok(format!("{stem}.rhai"))
}
