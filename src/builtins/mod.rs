//! The functions tgscript adds to Rhai, as one Rhai package ([`Builtins`]) that the application
//! registers into the engine. Each is registered once, with its parameter names and its
//! documentation (summary and a runnable `rhai` example) attached to the registration, so
//! `tgscript docs`, the REPL's `:help` and `tgscript check` all read the same source. The
//! command families (chat actions, account commands) are registered from their tables in
//! [`crate::commands`].
//!
//! Builtins hold nothing: what a call acts on — its [`CallContext`] (effects, update,
//! scenario) — arrives with the call as the run's tag.

mod account;
mod chat;
mod core;
mod files;
mod guarded;
mod http;
mod inline;
mod jobs;
mod keyboard;
mod state;

pub use account::AccountHandle;
pub use files::Asset;
pub use state::ONE_OFF_NAMESPACE;

use crate::effects::{Effects, Nothing};
use crate::engine::{Attribution, Limits, ScriptEngine};
use crate::request::CommandError;
use crate::telegram::UpdateContext;
use rhai::{Dynamic, EvalAltResult, FuncRegistration, Map, Module, NativeCallContext, Position};
use serde_json::Value;
use std::any::TypeId;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

type RhaiResult = Result<Dynamic, Box<EvalAltResult>>;

/// What one call acts on: the effects (journaled or not, as the caller decided), the update
/// being handled and the scenario running. Set as the run's tag by whoever starts the call.
#[derive(Clone)]
pub struct CallContext {
    /// Where Bot API calls, account operations, state and the clock go.
    pub effects: Arc<dyn Effects>,
    /// The update being handled: chat builtins act on its chat unless given a `chat_id`.
    pub update: Option<Arc<UpdateContext>>,
    /// The scenario's state namespace; `None` (namespace `main`) for one-off scripts.
    pub scenario: Option<Arc<str>>,
    /// Set by `stop()`: the update is claimed, later scenarios do not get it.
    pub claimed: Arc<std::sync::atomic::AtomicBool>,
}

impl CallContext {
    /// A call with no update and no scenario (exec, the REPL, the gateway): `effects` as they
    /// are, never journaled.
    pub fn direct(effects: Arc<dyn Effects>) -> Self {
        Self {
            effects,
            update: None,
            scenario: None,
            claimed: Arc::default(),
        }
    }

    /// A call with no update whose chat builtins act in `chat` unless given a `chat_id` (the
    /// REPL on the sandbox: the sandbox group).
    pub fn in_chat(effects: Arc<dyn Effects>, chat: i64) -> Self {
        let update = UpdateContext {
            update_id: 0,
            chat_id: Some(chat),
            ..UpdateContext::default()
        };
        Self {
            update: Some(Arc::new(update)),
            ..Self::direct(effects)
        }
    }

    /// The context as a run's tag.
    pub fn into_tag(self) -> Dynamic {
        Dynamic::from(Arc::new(self))
    }
}

/// The context of the call `ctx` belongs to; without a tag, an offline one (every effect
/// refused), as in `check` and `docs`.
fn context(ctx: &NativeCallContext) -> Arc<CallContext> {
    if let Some(context) = ctx
        .tag()
        .and_then(|tag| tag.read_lock::<Arc<CallContext>>().map(|c| c.clone()))
    {
        return context;
    }
    offline()
}

/// Why an engine without connections acts on nothing.
const OFFLINE_REASON: &str =
    "builtins do nothing here: this engine has no connections (check, docs, the reference)";

/// The context of a call with no connections: every effect refused.
fn offline() -> Arc<CallContext> {
    static OFFLINE: OnceLock<Arc<CallContext>> = OnceLock::new();
    OFFLINE
        .get_or_init(|| {
            Arc::new(CallContext::direct(Arc::new(Nothing::offline(
                OFFLINE_REASON,
            ))))
        })
        .clone()
}

rhai::def_package! {
    /// Every tgscript builtin: time, guarded standard functions, chat actions, keyboards,
    /// account commands, state and jobs (`asset`, which reads the scenario folder, is added
    /// per engine).
    pub Builtins(module) {
        core::register(module);
        guarded::register(module);
        chat::register(module);
        keyboard::register(module);
        inline::register(module);
        http::register(module);
        account::register(module);
        state::register(module);
        jobs::register(module);
    }
}

/// A sandboxed engine with the builtins, whose imports resolve against `root` and whose calls
/// act through `context` unless a call says otherwise.
pub fn engine(limits: Limits, root: impl Into<PathBuf>, context: CallContext) -> ScriptEngine {
    let max_asset_size = limits.max_asset_size;
    let mut engine = ScriptEngine::new(limits, root.into());
    let assets = files::module(engine.folder().clone(), max_asset_size);
    engine.register_type::<AccountHandle>("Account");
    engine.register_type::<Asset>("Asset");
    engine.register(&Builtins::new());
    engine.register_module(assets);
    engine.set_default_tag(context.into_tag());
    engine.set_attribution(attribution);
    engine
}

/// Who a call tagged `tag` prints as: the bot and scenario of its state namespace; no one for a
/// one-off script.
fn attribution(tag: &Dynamic) -> Attribution {
    let Some(context) = tag.read_lock::<Arc<CallContext>>() else {
        return Attribution::default();
    };
    let tenant = context.effects.caller().map(|c| c.tenant_name().into());
    let Some(namespace) = context.scenario.clone() else {
        return Attribution {
            tenant,
            ..Attribution::default()
        };
    };
    let (bot, scenario) = crate::store::namespace_owner(&namespace);
    Attribution {
        bot: Some(bot.into()),
        scenario: Some(scenario.into()),
        tenant,
    }
}

/// A sandboxed engine with the builtins and no connections (for `check`, `docs` and tests).
pub fn offline_engine(limits: Limits, root: impl Into<PathBuf>) -> ScriptEngine {
    engine(
        limits,
        root,
        CallContext::direct(Arc::new(Nothing::offline(OFFLINE_REASON))),
    )
}

/// The registration of builtin `name` with its parameter list (`"name: Type"`, the return
/// type last) and doc text (plain lines; each becomes a `///` doc comment).
fn described(name: &str, params: &[&str], doc: &str) -> FuncRegistration {
    let comment = doc
        .trim_matches('\n')
        .lines()
        .map(|line| {
            if line.is_empty() {
                "///".to_string()
            } else {
                format!("/// {line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    FuncRegistration::new(name)
        .in_global_namespace()
        .with_params_info(params)
        .with_comments([comment])
}

/// Start registering builtin `name` (see [`described`]).
///
/// Builtins are volatile by default: most do I/O or read the current update, so the optimizer
/// must never run them at compile time. Pure helpers opt out with `.with_volatility(false)`.
fn builtin(name: &str, params: &[&str], doc: &str) -> FuncRegistration {
    described(name, params, doc).with_volatility(true)
}

/// The arguments of one call of a table-registered builtin, by parameter name; a map of
/// more request fields is named [`MORE_FIELDS`].
struct Args {
    values: Vec<(&'static str, Dynamic)>,
}

/// The name an argument gets when it is a map of more request fields: a `Map` parameter named
/// `options` (or, for account commands, `settings`). No request field has an empty name.
const MORE_FIELDS: &str = "";

/// The field name of a documented parameter (`"user_id: INT | String"` → `user_id`).
fn field_name(param: &str) -> &str {
    param.split(':').next().unwrap_or(param).trim()
}

/// The Rust type a documented parameter is registered with: maps and account handles are
/// typed (they tell overloads apart), anything else is taken as it comes.
fn param_type(param: &str) -> TypeId {
    match param.split(':').nth(1).map(str::trim) {
        Some("Map") => TypeId::of::<Map>(),
        Some("AccountHandle") => TypeId::of::<AccountHandle>(),
        _ => TypeId::of::<Dynamic>(),
    }
}

/// Register every overload of table command `name` into `module`: each call's arguments are
/// named after the overload's parameters and handed to `run` with the call's context.
fn register_overloads(
    module: &mut Module,
    name: &str,
    overloads: &[&[&'static str]],
    doc: &str,
    run: impl Fn(&CallContext, Args) -> RhaiResult + Send + Sync + Clone + 'static,
) {
    for params in overloads {
        let (args, _returns) = params.split_at(params.len().saturating_sub(1));
        let names: Vec<&'static str> = args
            .iter()
            .map(
                |p| match (field_name(p), param_type(p) == TypeId::of::<Map>()) {
                    ("options" | "settings", true) => MORE_FIELDS,
                    (name, _) => name,
                },
            )
            .collect();
        let types: Vec<TypeId> = args.iter().map(|p| param_type(p)).collect();
        let run = run.clone();
        let func = move |ctx: Option<NativeCallContext>, values: &mut [&mut Dynamic]| {
            let context = ctx.as_ref().map(context).unwrap_or_else(offline);
            // The first argument is the receiver of a method call (`handle.block_user(..)`):
            // read, never taken; the others are passed by value.
            let values = names
                .iter()
                .zip(values.iter_mut())
                .enumerate()
                .map(|(i, (name, value))| {
                    let value = if i == 0 {
                        value.clone()
                    } else {
                        std::mem::take(*value)
                    };
                    (*name, value)
                })
                .collect();
            run(&context, Args { values })
        };
        described(name, params, doc).set_into_module_raw(
            module,
            types,
            rhai::RhaiFunc::Method {
                func: rhai::Shared::new(func),
                has_context: true,
                is_pure: true,
                is_volatile: true,
            },
        );
    }
}

/// A command's request from named arguments: unit values left out, maps of
/// [`MORE_FIELDS`] merged in. `receiver` names what the values are sent to, for the error.
fn request(
    command: &str,
    args: Vec<(&str, Dynamic)>,
    receiver: &str,
) -> Result<serde_json::Map<String, Value>, Box<EvalAltResult>> {
    let mut request = serde_json::Map::new();
    let mut fields = Vec::with_capacity(args.len());
    for (key, value) in args {
        match value.try_cast_result::<Map>() {
            Ok(map) if key == MORE_FIELDS => {
                fields.extend(map.into_iter().map(|(k, v)| (k.to_string(), v)));
            }
            Ok(map) => fields.push((key.to_string(), Dynamic::from_map(map))),
            Err(value) => fields.push((key.to_string(), value)),
        }
    }
    for (key, value) in fields {
        if value.is_unit() {
            continue;
        }
        let json = files::to_json(&key, &value).ok_or_else(|| {
            throw(&CommandError::invalid(
                command,
                format!(
                    "{key} cannot be sent to {receiver} (a {})",
                    value.type_name()
                ),
            ))
        })?;
        request.insert(key, json);
    }
    Ok(request)
}

/// Turn a command error into the catchable map scripts see.
fn throw(err: &CommandError) -> Box<EvalAltResult> {
    let value = rhai::serde::to_dynamic(err.to_json()).unwrap_or_else(|_| err.to_string().into());
    EvalAltResult::ErrorRuntime(value, Position::NONE).into()
}

/// A command's JSON result as a Rhai value.
fn to_dynamic(value: Value) -> RhaiResult {
    rhai::serde::to_dynamic(value)
}

/// Run `command` (which waits on Telegram, TDLib or an HTTP server) as one of the call's
/// `max_api_calls`, without charging the wait to the script's time limit (`timeout_ms`), and
/// hand its result back. The wait does count against the call's wall time
/// (`wall_timeout_ms`): none is made once that is spent, and a call that spent it waiting
/// stops there.
fn answer(command: impl FnOnce() -> Result<Value, CommandError>) -> RhaiResult {
    crate::engine::run::check_wall()?;
    crate::engine::run::charge_api_call()?;
    let result = crate::engine::run::paused(command);
    if let Err(e) = &result
        && e.error.starts_with(crate::engine::run::WALL_CUT)
    {
        return Err(crate::engine::run::wall_cut_error(&e.command));
    }
    crate::engine::run::check_wall()?;
    result.map_err(|e| throw(&e)).and_then(to_dynamic)
}
