//! A file downloaded over the gateway (`download`): what the `download(file_id)` builtin does,
//! for a backend holding no bot token, answered by the bot where it runs, as base64.

use super::bots::{NOT_HERE, WHICH_BOT};
use super::{Access, ActionSpec, Run, WhichBot};
use crate::authority::Checked;
use crate::commands::FieldSpec;
use crate::gateway::admin::BotScope;
use crate::request::CommandError;
use serde_json::{Map, Value, json};

/// `download`.
pub(super) const DOWNLOAD: ActionSpec = ActionSpec {
    name: "download",
    access: Access::Tenant,
    doc: "Download a file the bot can see (a photo's, a document's `file_id` from a message it \
          received or sent), as the `download` builtin does: `getFile`, then the bytes, at most \
          the smaller of `[files] max_download_size` and `[limits] max_array_size`, and an \
          answer no larger than `[gateway] max_answer_size`. A local Bot API server's files \
          are read only inside the bot's folder of `[files] local_dir`.",
    fields: &[
        WHICH_BOT,
        FieldSpec::required(
            "file_id",
            "string",
            r#""BQACAgIAAxkBAAIBZ2Z""#,
            "the file, as a message carries it",
        ),
    ],
    success: "{bot_id, file_id, filename, size, base64}: the file's name (the last part of its \
              path), its size in bytes and its bytes in base64",
    returns: r#"{"bot_id": "default", "file_id": "BQACAgIAAxkBAAIBZ2Z", "filename": "file_3.pdf", "size": 5, "base64": "aGVsbG8="}"#,
    errors: &[
        NOT_HERE,
        "N bots run here: pass bot_id (…) / no bot \"x\" runs here",
        "file_id is required",
        "Bad Request: invalid file_id (Telegram's words)",
        "the file is N bytes, over [files] max_download_size (…): …",
        "the Bot API answered a file on its disk outside this bot's folder of [files] local_dir …",
    ],
    run: Run::OnBot(WhichBot::OnlyNamedOrFolder, download),
};

/// `download`: the file through the bot's own effects, checked as its scripts' are.
fn download(
    bot: &BotScope,
    command: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let file_id = request
        .get("file_id")
        .and_then(Value::as_str)
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| CommandError::invalid(command, "file_id is required"))?;
    let file = Checked::around(bot.host.clone()).download(command, file_id)?;
    let mut answer = file.to_json();
    answer["bot_id"] = json!(bot.id);
    answer["file_id"] = json!(file_id);
    answer["size"] = json!(file.bytes.len());
    Ok(answer)
}
