//! The gateway's admin actions over the bots of a `run`: `add_bot` and `remove_bot` go to
//! the fleet's loop (which starts or stops the bot and keeps or forgets it in the database),
//! `list_bots` and the scenario files (`put_script` checked like `tgscript check` before it
//! is written; hot reload then loads it) are answered here.

use super::App;
use super::bots::{self, BotSetup, BotSource};
use super::health::{RunningBots, describe};
use crate::builtins::{self, CallContext};
use crate::config::{BotMode, valid_bot_id};
use crate::effects::Effects;
use crate::engine::Limits;
use crate::gateway::admin::BotControl;
use crate::host::Host;
use crate::request::CommandError;
use crate::store::SavedBot;
use crate::telegram::FloodConfig;
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::sync::{Arc, PoisonError};
use tokio::sync::{mpsc, oneshot};

/// What the gateway asks the fleet's loop to do.
pub(super) enum Control {
    /// Start this bot and keep it.
    Add {
        setup: Box<BotSetup>,
        saved: SavedBot,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Stop this gateway-added bot and forget it.
    Remove {
        id: String,
        reply: oneshot::Sender<Result<(), String>>,
    },
}

/// The admin side of a `run` the gateway acts through.
pub(super) struct FleetControl {
    pub(super) control: mpsc::UnboundedSender<Control>,
    pub(super) running: RunningBots,
    pub(super) limits: Limits,
    /// The rates bots added here keep to.
    pub(super) flood: FloodConfig,
    pub(super) webhooks: bool,
    /// The connections bots added here share.
    pub(super) host: Arc<Host>,
}

impl FleetControl {
    /// The control of `app`'s fleet, whose loop takes `control`.
    pub(super) fn new(
        app: &App,
        control: mpsc::UnboundedSender<Control>,
        running: RunningBots,
    ) -> Self {
        Self {
            control,
            running,
            limits: app.config().limits.clone(),
            flood: app.config().flood,
            webhooks: app.config().webhook.listen.is_some(),
            host: app.host().clone(),
        }
    }

    fn bot(&self, command: &str, id: &str) -> Result<Arc<super::bot::Running>, CommandError> {
        let running = self.running.read().unwrap_or_else(PoisonError::into_inner);
        running.get(id).cloned().ok_or_else(|| {
            let known: Vec<&str> = running.keys().map(String::as_str).collect();
            CommandError::invalid(
                command,
                format!("no bot {id:?} runs here (running: {})", known.join(", ")),
            )
        })
    }

    fn ask(
        &self,
        command: &str,
        make: impl FnOnce(oneshot::Sender<Result<(), String>>) -> Control,
    ) -> Result<(), CommandError> {
        let (reply, answer) = oneshot::channel();
        self.control
            .send(make(reply))
            .map_err(|_| CommandError::invalid(command, "the bots are stopping"))?;
        answer
            .blocking_recv()
            .map_err(|_| CommandError::invalid(command, "the bots are stopping"))?
            .map_err(|e| CommandError::invalid(command, e))
    }

    fn add_bot(&self, request: &Map<String, Value>) -> Result<Value, CommandError> {
        let command = "add_bot";
        let id = text(command, request, "id")?;
        if !valid_bot_id(&id) {
            return Err(CommandError::invalid(
                command,
                "id: use 1–64 letters, digits, `_` or `-`",
            ));
        }
        let token = text(command, request, "token")?;
        crate::logging::add_secret(&token);
        let mode = match request
            .get("mode")
            .and_then(Value::as_str)
            .unwrap_or("polling")
        {
            "polling" => BotMode::Polling,
            "webhook" if self.webhooks => BotMode::Webhook,
            "webhook" => {
                return Err(CommandError::invalid(
                    command,
                    "mode webhook needs [webhook] listen and public_url in the config",
                ));
            }
            other => {
                return Err(CommandError::invalid(
                    command,
                    format!("mode {other:?}: use \"polling\" or \"webhook\""),
                ));
            }
        };
        let scripts = match request.get("scripts").and_then(Value::as_str) {
            Some(dir) => PathBuf::from(dir),
            None => crate::config::data_dir().join("bots").join(&id),
        };
        std::fs::create_dir_all(&scripts).map_err(|e| {
            CommandError::invalid(command, format!("scripts {}: {e}", scripts.display()))
        })?;
        let saved = SavedBot {
            id: id.clone(),
            token,
            mode: mode.name().to_string(),
            scripts: scripts.display().to_string(),
            api_url: request
                .get("api_url")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        let setup = bots::from_saved(&self.host, &saved, &self.flood)
            .map_err(|e| CommandError::invalid(command, e.to_string()))?;
        self.ask(command, |reply| Control::Add {
            setup: Box::new(setup),
            saved,
            reply,
        })?;
        Ok(json!({"id": id, "mode": mode.name(), "scripts": scripts.display().to_string()}))
    }

    fn put_script(&self, request: &Map<String, Value>) -> Result<Value, CommandError> {
        let command = "put_script";
        let (bot, file) = self.script_file(command, request)?;
        let source = text(command, request, "source")?;
        if source.len() > self.limits.max_script_size {
            return Err(CommandError::invalid(
                command,
                format!(
                    "the script has {} bytes; [limits] max_script_size is {}",
                    source.len(),
                    self.limits.max_script_size
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
            self.limits.clone(),
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

    /// The bot and scenario file a script action names (`bot_id`, `name`: a file name
    /// ending in `.rhai`, no folders).
    fn script_file(
        &self,
        command: &str,
        request: &Map<String, Value>,
    ) -> Result<(Arc<super::bot::Running>, PathBuf), CommandError> {
        let bot = self.bot(command, &text(command, request, "bot_id")?)?;
        let name = text(command, request, "name")?;
        let stem = name.strip_suffix(".rhai").unwrap_or(&name);
        if !valid_bot_id(stem) {
            return Err(CommandError::invalid(
                command,
                format!(
                    "name {name:?}: a file name like anti_spam.rhai (letters, digits, `_`, `-`)"
                ),
            ));
        }
        let file = bot.dir.join(format!("{stem}.rhai"));
        Ok((bot, file))
    }
}

impl BotControl for FleetControl {
    fn act(&self, action: &str, request: &Map<String, Value>) -> Result<Value, CommandError> {
        match action {
            "add_bot" => self.add_bot(request),
            "remove_bot" => {
                let id = text(action, request, "id")?;
                self.ask(action, |reply| Control::Remove {
                    id: id.clone(),
                    reply,
                })?;
                Ok(json!({"id": id, "removed": true}))
            }
            "list_bots" => {
                let running = self.running.read().unwrap_or_else(PoisonError::into_inner);
                let bots: Vec<Value> = running
                    .values()
                    .map(|bot| {
                        let mut entry = describe(bot);
                        entry["scripts"] = json!(bot.dir.display().to_string());
                        entry
                    })
                    .collect();
                Ok(json!({"bots": bots}))
            }
            "put_script" => self.put_script(request),
            "get_script" => {
                let (_, file) = self.script_file(action, request)?;
                let source = std::fs::read_to_string(&file).map_err(|e| {
                    CommandError::invalid(action, format!("{}: {e}", file.display()))
                })?;
                Ok(json!({"name": file.file_name().map(|n| n.to_string_lossy()), "source": source}))
            }
            "delete_script" => {
                let (_, file) = self.script_file(action, request)?;
                std::fs::remove_file(&file).map_err(|e| {
                    CommandError::invalid(action, format!("{}: {e}", file.display()))
                })?;
                Ok(json!({"name": file.file_name().map(|n| n.to_string_lossy()), "deleted": true}))
            }
            other => Err(CommandError::invalid(other, "not an admin action")),
        }
    }

    fn effects(
        &self,
        command: &str,
        bot_id: Option<&str>,
    ) -> Result<Arc<dyn Effects>, CommandError> {
        if let Some(id) = bot_id {
            return Ok(self.bot(command, id)?.host.clone());
        }
        let running = self.running.read().unwrap_or_else(PoisonError::into_inner);
        match running.values().collect::<Vec<_>>().as_slice() {
            [only] => Ok(only.host.clone()),
            bots => Err(CommandError::invalid(
                command,
                format!(
                    "{} bots run here: pass bot_id ({})",
                    bots.len(),
                    running
                        .keys()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
}

/// The string field `key` of `request`, required and not empty.
fn text(command: &str, request: &Map<String, Value>, key: &str) -> Result<String, CommandError> {
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

/// Whether `source` may be removed over the gateway.
pub(super) fn removable(source: &BotSource) -> Result<(), String> {
    match source {
        BotSource::Gateway => Ok(()),
        BotSource::Config(_) => {
            Err("it comes from the config file: remove its [[bot]] entry there".into())
        }
        BotSource::Environment => Err("it comes from TELOXIDE_TOKEN".into()),
    }
}
