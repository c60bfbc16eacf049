//! A gateway action carried out through a bot that runs in this process: an account command
//! or a chat action through its client, or a script action on its scenario folder
//! (`put_script` checked like `tgscript check` before it is written; hot reload then loads
//! it). The gateway's own requests and those relayed from a cluster's other instances both
//! end here.

use crate::builtins::{self, CallContext};
use crate::commands;
use crate::config::valid_bot_id;
use crate::engine::Limits;
use crate::host::Host;
use crate::request::CommandError;
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::sync::Arc;

/// A bot that runs here, as a gateway action reaches it.
#[derive(Clone)]
pub(super) struct Target {
    /// Its id.
    pub(super) id: String,
    /// What it acts through: its Bot API client, the state, the accounts.
    pub(super) host: Arc<Host>,
    /// Its scenario folder.
    pub(super) dir: PathBuf,
}

/// Carry out `action` (an account command, a chat action or a script action) through `bot`,
/// which runs here.
pub(super) fn on_bot(
    bot: &Target,
    limits: &Limits,
    action: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    match action {
        "put_script" => put_script(bot, limits, request),
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
        _ => commands::execute_request(&*bot.host, request, None),
    }
}

/// `put_script`: the script checked like `tgscript check`, then written in `bot`'s folder.
fn put_script(
    bot: &Target,
    limits: &Limits,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let command = "put_script";
    let file = script_file(bot, command, request)?;
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
    // Checked under a hidden name (the watcher ignores it), then moved into place.
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let draft = bot.dir.join(format!(".{name}.draft"));
    let write = |e: std::io::Error| CommandError::invalid(command, format!("{name}: {e}"));
    std::fs::write(&draft, &source).map_err(write)?;
    let engine = builtins::engine(
        limits.clone(),
        &bot.dir,
        CallContext::direct(bot.host.clone()),
    );
    // Exactly what the load after the rename would refuse.
    let problems = crate::scenario::Scenario::problems(&engine, &draft);
    if !problems.is_empty() {
        let _ = std::fs::remove_file(&draft);
        let lines: Vec<String> = problems
            .iter()
            .map(|p| p.to_string().replace(&format!(".{name}.draft"), &name))
            .collect();
        return Err(CommandError::invalid(command, lines.join("; ")));
    }
    std::fs::rename(&draft, &file).map_err(write)?;
    Ok(json!({"bot_id": bot.id, "name": name, "bytes": source.len()}))
}

/// The scenario file of `bot` a script action names (`name`: a file name ending in
/// `.rhai`, no folders).
fn script_file(
    bot: &Target,
    command: &str,
    request: &Map<String, Value>,
) -> Result<PathBuf, CommandError> {
    let name = text(command, request, "name")?;
    let stem = name.strip_suffix(".rhai").unwrap_or(&name);
    if !valid_bot_id(stem) {
        return Err(CommandError::invalid(
            command,
            format!("name {name:?}: a file name like anti_spam.rhai (letters, digits, `_`, `-`)"),
        ));
    }
    Ok(bot.dir.join(format!("{stem}.rhai")))
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
