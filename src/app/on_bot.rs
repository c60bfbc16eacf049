//! A gateway action carried out through a bot that runs in this process: an account command
//! or a chat action through its client, or a script action on its scenario folder
//! (`put_script` checked like `tgscript check` before it is written; hot reload then loads
//! it). The gateway's own requests and those relayed from a cluster's other instances both
//! end here.

use crate::authority::Checked;
use crate::commands;
use crate::config::valid_bot_id;
use crate::effects::Effects;
use crate::engine::{Limits, ScriptError};
use crate::host::Host;
use crate::inbox::{Inbox, Status};
use crate::request::CommandError;
use crate::scenario::runner::Runner;
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A bot that runs here, as a gateway action reaches it.
#[derive(Clone)]
pub(super) struct Target {
    /// Its id.
    pub(super) id: String,
    /// What it acts through: its Bot API client, the state, the accounts.
    pub(super) host: Arc<Host>,
    /// Its scenario folder.
    pub(super) dir: PathBuf,
    /// Its inbox, unless `[inbox] enabled = false`.
    pub(super) inbox: Option<Arc<Inbox>>,
    /// Where its scripts run (and drafts are checked).
    pub(super) runner: Arc<Runner>,
}

impl Target {
    /// Its tenant.
    pub(super) fn tenant(&self) -> Option<&str> {
        self.host.caller().map(crate::effects::Caller::tenant_name)
    }
}

/// Carry out `action` (an account command, a chat action or a script action) through `bot`,
/// which runs here; for a client of tenant `scope` only when `bot` is one of its bots, and
/// then checked as its scenarios' effects are (the tenant's accounts only). The asking
/// instance has chosen a bot of the tenant already: this holds even if it has not.
pub(super) fn on_bot(
    bot: &Target,
    limits: &Limits,
    action: &str,
    scope: Option<&str>,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    if let Some(tenant) = scope
        && bot.tenant() != Some(tenant)
    {
        return Err(CommandError::invalid(
            action,
            format!("no bot {:?} of tenant {tenant:?} runs here", bot.id),
        ));
    }
    match action {
        "put_script" => put_script(bot, limits, request),
        "check_script" => {
            let (name, source) = (
                script_name(action, request)?,
                source(action, limits, request)?,
            );
            let (_draft, problems) = checked(bot, action, &name, &source)?;
            let problems: Vec<Value> = problems
                .iter()
                .map(|p| json!({"line": p.line, "column": p.column, "message": p.message}))
                .collect();
            Ok(json!({"name": name, "problems": problems}))
        }
        "list_scripts" => {
            let mut names: Vec<String> = crate::scenario::scenario_files(&bot.dir)
                .map_err(|e| CommandError::invalid(action, format!("{}: {e}", bot.dir.display())))?
                .iter()
                .filter_map(|f| f.file_name()?.to_str().map(str::to_string))
                // Those the other script actions take.
                .filter(|name| name.strip_suffix(".rhai").is_some_and(valid_bot_id))
                .collect();
            names.sort();
            Ok(json!({"bot_id": bot.id, "names": names}))
        }
        "inbox_list" => {
            let inbox = inbox(bot, action)?;
            let mut statuses = vec![Status::Pending, Status::Retry, Status::Parked];
            match request.get("all") {
                None | Some(Value::Null | Value::Bool(false)) => {}
                Some(Value::Bool(true)) => statuses.push(Status::Done),
                Some(_) => return Err(CommandError::invalid(action, "all must be true or false")),
            }
            let entries = inbox
                .list(&statuses)
                .map_err(|e| CommandError::invalid(action, e.to_string()))?;
            Ok(json!({"bot_id": bot.id, "entries": entries}))
        }
        "inbox_retry" => {
            let inbox = inbox(bot, action)?;
            let id = match request.get("update_id").map(crate::request::as_int) {
                Some(Some(id)) => id,
                Some(None) => {
                    return Err(CommandError::invalid(
                        action,
                        "update_id must be an integer",
                    ));
                }
                None => return Err(CommandError::invalid(action, "update_id is required")),
            };
            let before = inbox
                .retry(id)
                .map_err(|e| CommandError::invalid(action, e.to_string()))?;
            tracing::info!(
                "bot {}: update {id} queued for another round of tries through the gateway",
                bot.id
            );
            Ok(json!({"bot_id": bot.id, "update_id": id, "status": Status::Retry, "was": before}))
        }
        "get_script" => {
            let file = script_file(bot, action, request)?;
            let source = std::fs::read_to_string(&file)
                .map_err(|e| CommandError::invalid(action, format!("{}: {e}", file.display())))?;
            Ok(json!({"name": file.file_name().map(|n| n.to_string_lossy()), "source": source}))
        }
        "delete_script" => {
            let file = script_file(bot, action, request)?;
            std::fs::remove_file(&file)
                .map_err(|e| CommandError::invalid(action, format!("{}: {e}", file.display())))?;
            Ok(json!({"name": file.file_name().map(|n| n.to_string_lossy()), "deleted": true}))
        }
        _ => {
            let effects: Arc<dyn Effects> = match scope {
                Some(tenant) => {
                    // A client reaches the accounts its tenant owns, not the unowned ones
                    // the tenant's scenarios may use while it is the only one served.
                    if let Some(id) = request.get("userbot_id").and_then(crate::request::as_int)
                        && bot.host.accounts().owner(id).as_deref() != Some(tenant)
                    {
                        return Err(CommandError {
                            code: Some(403),
                            ..CommandError::invalid(
                                action,
                                crate::accounts::AccountsError::NotOwned {
                                    id,
                                    tenant: tenant.to_string(),
                                }
                                .to_string(),
                            )
                        });
                    }
                    Checked::around(bot.host.clone())
                }
                None => bot.host.clone(),
            };
            commands::execute_request(&*effects, request, None)
        }
    }
}

/// `check_script` where no bots run (`serve`): scripts checked as scenarios of one folder,
/// where the process's scripts run.
pub(super) struct FolderCheck {
    /// The folder, as a bot of its own.
    pub(super) folder: Target,
    /// The limits a script is held to.
    pub(super) limits: Limits,
}

impl crate::gateway::admin::ScriptCheck for FolderCheck {
    fn check(
        &self,
        action: &str,
        scope: Option<&str>,
        request: &Map<String, Value>,
    ) -> Result<Value, CommandError> {
        on_bot(&self.folder, &self.limits, action, scope, request)
    }
}

/// `put_script`: the script checked like `tgscript check`, then written in `bot`'s folder.
fn put_script(
    bot: &Target,
    limits: &Limits,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let command = "put_script";
    let name = script_name(command, request)?;
    let source = source(command, limits, request)?;
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
    fn write(bot: &Target, name: &str, source: &str) -> std::io::Result<Draft> {
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
    fn problems(&self, bot: &Target, name: &str) -> Vec<ScriptError> {
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
    bot: &Target,
    command: &str,
    name: &str,
    source: &str,
) -> Result<(Draft, Vec<ScriptError>), CommandError> {
    let draft = Draft::write(bot, name, source)
        .map_err(|e| CommandError::invalid(command, format!("{name}: {e}")))?;
    let problems = draft.problems(bot, name);
    Ok((draft, problems))
}

/// Bot `bot`'s inbox, or why it has none.
fn inbox<'a>(bot: &'a Target, command: &str) -> Result<&'a Inbox, CommandError> {
    bot.inbox.as_deref().ok_or_else(|| {
        CommandError::invalid(
            command,
            format!("bot {} keeps no inbox: [inbox] enabled = false", bot.id),
        )
    })
}

/// The scenario file of `bot` a script action names (`name`: a file name ending in
/// `.rhai`, no folders).
fn script_file(
    bot: &Target,
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

/// The string field `key` of `request`, required and not empty.
pub(super) fn text(
    command: &str,
    request: &Map<String, Value>,
    key: &str,
) -> Result<String, CommandError> {
    match request.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) | None => {
            Err(CommandError::invalid(command, format!("{key} is required")))
        }
        Some(_) => Err(CommandError::invalid(
            command,
            format!("{key} must be a string"),
        )),
    }
}
