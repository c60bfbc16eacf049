//! What the gateway's actions over the bots of a `run` need of it: a bot added or removed
//! goes to the fleet's loop (which starts or stops the bot and keeps or forgets it in the
//! database), the list is answered here, and an action on one bot runs on it where it runs:
//! here, or in a cluster perhaps on another instance ([`super::remote`]).

use super::App;
use super::bot::Running;
use super::bots::{self, BotSetup, BotSource};
use super::health::{RunningBots, describe};
use super::sandbox_chat::SandboxChat;
use crate::config::BotMode;
use crate::effects::Effects;
use crate::engine::Limits;
use crate::gateway::actions::Action;
use crate::gateway::actions::BotControl;
use crate::gateway::admin::NewBot;
use crate::gateway::elsewhere::Elsewhere;
use crate::host::Host;
use crate::request::CommandError;
use crate::store::SavedBot;
use crate::telegram::FloodConfig;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
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

/// Where a bot runs, for the gateway.
enum Place<'a> {
    /// In this process.
    Here(Arc<Running>),
    /// On another instance of the cluster (or nowhere, while it moves).
    Elsewhere(&'a Elsewhere, String),
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
    /// In a cluster: the bots running on the other instances.
    pub(super) elsewhere: Option<Elsewhere>,
    /// The sandbox group, when the bot is the sandbox's.
    pub(super) sandbox: Option<Arc<SandboxChat>>,
}

impl FleetControl {
    /// The control of `app`'s fleet, whose loop takes `control`, reaching the bots of the
    /// cluster's other instances through `elsewhere`.
    pub(super) fn new(
        app: &App,
        control: mpsc::UnboundedSender<Control>,
        running: RunningBots,
        elsewhere: Option<Elsewhere>,
    ) -> Self {
        Self {
            control,
            running,
            limits: app.config().limits.clone(),
            flood: app.config().flood,
            webhooks: app.config().webhook.listen.is_some(),
            host: app.host().clone(),
            elsewhere,
            sandbox: None,
        }
    }

    /// With the sandbox group `chat` (`run` without a token) for `sandbox_chat`.
    pub(super) fn with_sandbox(mut self, chat: Option<Arc<SandboxChat>>) -> Self {
        self.sandbox = chat;
        self
    }

    /// Where bot `bot_id` (`None`: the only bot) runs: here, or (in a cluster) on another
    /// instance; an unknown id, or none while several bots run, is an error naming the bots.
    /// Under tenant `scope`, the tenant's bots are the only ones there are.
    fn place(
        &self,
        command: &str,
        bot_id: Option<&str>,
        scope: Option<&str>,
    ) -> Result<Place<'_>, CommandError> {
        let running = self.running.read().unwrap_or_else(PoisonError::into_inner);
        let (all, where_): (BTreeMap<String, String>, _) = match &self.elsewhere {
            Some(elsewhere) => (
                elsewhere
                    .bots
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone(),
                "in the cluster",
            ),
            None => (
                running
                    .iter()
                    .map(|(id, bot)| (id.clone(), tenant(bot)))
                    .collect(),
                "here",
            ),
        };
        let known: Vec<&String> = all
            .iter()
            .filter(|(_, tenant)| scope.is_none_or(|scope| scope == tenant.as_str()))
            .map(|(id, _)| id)
            .collect();
        let listed = || {
            known
                .iter()
                .map(|id| id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let id = match (bot_id, known.len()) {
            (Some(id), _) => id.to_string(),
            (None, 1) => known[0].clone(),
            (None, n) => {
                return Err(CommandError::invalid(
                    command,
                    format!("{n} bots run {where_}: pass bot_id ({})", listed()),
                ));
            }
        };
        let reachable = known.iter().any(|k| **k == id);
        match (running.get(&id), &self.elsewhere) {
            (Some(bot), _) if reachable => Ok(Place::Here(bot.clone())),
            (None, Some(elsewhere)) if reachable => Ok(Place::Elsewhere(elsewhere, id)),
            (_, Some(_)) => Err(CommandError::invalid(
                command,
                format!("no bot {id:?} in the cluster (its bots: {})", listed()),
            )),
            (_, None) => Err(CommandError::invalid(
                command,
                format!("no bot {id:?} runs here (running: {})", listed()),
            )),
        }
    }

    /// `list_bots`: the bots running here, and in a cluster the others with their owners;
    /// under tenant `scope`, its bots only.
    fn list_bots(&self, scope: Option<&str>) -> Value {
        let running = self.running.read().unwrap_or_else(PoisonError::into_inner);
        let ours = |tenant: &str| scope.is_none_or(|scope| scope == tenant);
        let mut bots: Vec<Value> = running
            .values()
            .filter(|bot| ours(&tenant(bot)))
            .map(|bot| {
                let mut entry = describe(bot);
                entry["scripts"] = json!(bot.dir.display().to_string());
                entry["tenant"] = json!(tenant(bot));
                entry["figures"] = crate::figures::recent().of(&bot.id);
                if let Some(elsewhere) = &self.elsewhere {
                    entry["instance"] = json!(elsewhere.instance);
                }
                entry
            })
            .collect();
        if let Some(elsewhere) = &self.elsewhere {
            let view = elsewhere.view.borrow().clone();
            let known = elsewhere
                .bots
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            for (id, tenant) in known
                .iter()
                .filter(|(id, tenant)| !running.contains_key(*id) && ours(tenant))
            {
                bots.push(json!({"id": id, "tenant": tenant, "instance": view.owner(id)}));
            }
        }
        json!({"bots": bots})
    }

    /// Have the fleet's loop do what `make` asks, and wait for its answer.
    fn ask(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<(), String>>) -> Control,
    ) -> Result<(), String> {
        let (reply, answer) = oneshot::channel();
        self.control
            .send(make(reply))
            .map_err(|_| "the bots are stopping".to_string())?;
        answer
            .blocking_recv()
            .map_err(|_| "the bots are stopping".to_string())?
    }
}

impl BotControl for FleetControl {
    fn add(&self, bot: NewBot) -> Result<Value, String> {
        if bot.mode == BotMode::Webhook && !self.webhooks {
            return Err("mode webhook needs [webhook] listen and public_url in the config".into());
        }
        let scripts = bot
            .scripts
            .unwrap_or_else(|| crate::config::data_dir().join("bots").join(&bot.id));
        std::fs::create_dir_all(&scripts)
            .map_err(|e| format!("scripts {}: {e}", scripts.display()))?;
        let saved = SavedBot {
            id: bot.id.clone(),
            token: bot.token,
            mode: bot.mode.name().to_string(),
            scripts: scripts.display().to_string(),
            api_url: bot.api_url,
            tenant: bot.tenant,
        };
        let tenant = saved.tenant().to_string();
        let setup = bots::from_saved(&self.host, &saved, &self.flood).map_err(|e| e.to_string())?;
        self.ask(|reply| Control::Add {
            setup: Box::new(setup),
            saved,
            reply,
        })?;
        Ok(json!({
            "id": bot.id,
            "mode": bot.mode.name(),
            "scripts": scripts.display().to_string(),
            "tenant": tenant,
        }))
    }

    fn remove(&self, id: &str) -> Result<(), String> {
        self.ask(|reply| Control::Remove {
            id: id.to_string(),
            reply,
        })
    }

    fn list(&self, scope: Option<&str>) -> Value {
        self.list_bots(scope)
    }

    fn sandbox_chat(&self, line: &str) -> Result<String, String> {
        let Some(chat) = &self.sandbox else {
            return Err(
                "no sandbox runs here: sandbox_chat needs `tgscript run` without a bot token"
                    .into(),
            );
        };
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|e| format!("internal error: {e}"))?;
        runtime.block_on(chat.say(line, |_| {}))
    }

    fn on_bot(
        &self,
        action: Action,
        bot_id: Option<&str>,
        scope: Option<&str>,
        request: &Map<String, Value>,
    ) -> Result<Value, CommandError> {
        match self.place(action.name(), bot_id, scope)? {
            Place::Here(bot) => action.run_on_bot(&bot.scope(&self.limits), scope, request),
            Place::Elsewhere(elsewhere, id) => elsewhere.ask(action, &id, scope, request),
        }
    }

    fn tenant_of(&self, bot: &str) -> Option<String> {
        if let Some(running) = self
            .running
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(bot)
        {
            return Some(tenant(running));
        }
        let elsewhere = self.elsewhere.as_ref()?;
        let known = elsewhere
            .bots
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        known.get(bot).cloned()
    }
}

/// The tenant of `bot`, which runs here.
fn tenant(bot: &Running) -> String {
    bot.host
        .caller()
        .map_or(bot.id.as_str(), crate::effects::Caller::tenant_name)
        .to_string()
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
