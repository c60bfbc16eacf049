//! Where script calls run. Handlers, `on_load` and the gateway's `run_script` go through a
//! [`Runner`]: in this process ([`Runner::Inline`], for trusted single-author setups), or in
//! worker processes ([`Runner::Process`], the default): the same binary started as
//! `tgscript worker`, confined by OS limits ([`confine`]), whose builtins ask the host for
//! their effects over a pipe ([`protocol`]). A worker that dies or overruns fails that one
//! call; the pool ([`pool`]) starts another. The REPL and `exec` always run inline.

mod child;
pub mod confine;
pub mod pool;
pub mod protocol;
pub mod worker;

use super::{Handler, Scenario};
use crate::authority::Checked;
use crate::builtins::CallContext;
use crate::effects::{Effects, Nothing};
use crate::engine::{Output, RunOptions, ScriptEngine, ScriptError};
use crate::telegram::UpdateContext;
use pool::WorkerPool;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Runs the calls of one scenario folder.
pub enum Runner {
    /// On this process's threads, with this engine.
    Inline(Arc<ScriptEngine>),
    /// In the workers of `pool`, imports resolved against `root`.
    Process {
        /// The workers.
        pool: Arc<WorkerPool>,
        /// The scenario folder.
        root: PathBuf,
    },
}

/// A script's value and the lines it printed (`run_script`).
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluated {
    /// The value as JSON.
    pub value: Value,
    /// Lines printed with `print`/`debug`.
    pub printed: Vec<String>,
}

impl Evaluated {
    /// As the gateway answers it: `{"value", "printed"}`.
    pub fn to_json(&self) -> Value {
        json!({"value": self.value, "printed": self.printed})
    }
}

/// How a handler call ended, besides its effects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Called {
    /// The handler called `stop()`: later scenarios do not get the update.
    pub claimed: bool,
}

impl Runner {
    /// Compile the scenario at `path`, its state namespace under `prefix` (see
    /// [`super::namespace_prefix`]), and run its `on_load` acting through `effects`; either
    /// failing is a failed load.
    pub fn load(
        &self,
        path: &Path,
        prefix: &str,
        effects: &Arc<dyn Effects>,
    ) -> Result<Scenario, ScriptError> {
        let effects = &Checked::around(effects.clone());
        match self {
            Runner::Inline(engine) => load(engine, path, prefix, effects, &mut || {}),
            Runner::Process { pool, root } => pool.load(root, path, prefix, effects.as_ref()),
        }
    }

    /// Call `function` of `scenario` (a handler, or a job's function) with `args`, acting
    /// through `effects` on `update`.
    pub fn call(
        &self,
        scenario: &Scenario,
        function: &str,
        args: Vec<Value>,
        effects: Arc<dyn Effects>,
        update: Option<Arc<UpdateContext>>,
    ) -> Result<Called, ScriptError> {
        let effects = Checked::around(effects);
        match self {
            Runner::Inline(engine) => call(engine, scenario, function, &args, effects, update),
            Runner::Process { pool, root } => {
                pool.call(root, scenario, function, args, effects.as_ref(), update)
            }
        }
    }

    /// Every problem a load would refuse the scenario at `path` for (none: it loads). A
    /// check runs the top levels of the modules it imports, so it runs where the calls do —
    /// in a worker, tenant code never in the host — on `caller`'s behalf (the worker is one of
    /// its tenant's), its builtins acting on nothing.
    pub fn check(
        &self,
        path: &Path,
        caller: &Arc<dyn Effects>,
    ) -> Result<Vec<ScriptError>, ScriptError> {
        match self {
            Runner::Inline(engine) => {
                let root = path.parent().unwrap_or(Path::new("."));
                let engine = crate::builtins::offline_engine(engine.limits().clone(), root);
                Ok(Scenario::problems(&engine, path))
            }
            Runner::Process { pool, root } => {
                let nothing = Nothing::under(CHECKING, caller.clone());
                pool.check(root, path, &nothing)
            }
        }
    }

    /// Evaluate `script` with `vars` in scope, printed lines captured, acting through
    /// `effects`.
    pub fn eval(
        &self,
        script: &str,
        vars: &Map<String, Value>,
        effects: &Arc<dyn Effects>,
    ) -> Result<Evaluated, ScriptError> {
        let effects = &Checked::around(effects.clone());
        match self {
            Runner::Inline(engine) => eval(engine, script, vars, &mut || {}),
            Runner::Process { pool, root } => pool.eval(root, script, vars, effects.as_ref()),
        }
    }
}

/// Why builtins act on nothing while a script is checked.
const CHECKING: &str = "builtins do nothing while a script is checked";

/// Compile the scenario at `path` on `engine`, its namespace under `prefix`, and run its
/// `on_load` through `effects`; `compiled` is called in between.
pub(crate) fn load(
    engine: &ScriptEngine,
    path: &Path,
    prefix: &str,
    effects: &Arc<dyn Effects>,
    compiled: &mut dyn FnMut(),
) -> Result<Scenario, ScriptError> {
    let scenario = Scenario::load(engine, path)?.with_namespace_prefix(prefix);
    compiled();
    if scenario.has(Handler::OnLoad) {
        call(
            engine,
            &scenario,
            Handler::OnLoad.name(),
            &[],
            effects.clone(),
            None,
        )?;
    }
    Ok(scenario)
}

/// Call `function` of `scenario` (compiled in this process) on `engine`, in its state
/// namespace, acting through `effects` on `update`.
pub(crate) fn call(
    engine: &ScriptEngine,
    scenario: &Scenario,
    function: &str,
    args: &[Value],
    effects: Arc<dyn Effects>,
    update: Option<Arc<UpdateContext>>,
) -> Result<Called, ScriptError> {
    let ast = scenario.ast.as_ref().ok_or_else(|| {
        ScriptError::new("this scenario was compiled in a worker process").in_file(&scenario.name)
    })?;
    let context = CallContext {
        update,
        scenario: Some(scenario.namespace.clone()),
        ..CallContext::direct(effects)
    };
    let claimed = context.claimed.clone();
    let options = RunOptions {
        tag: Some(context.into_tag()),
        ..RunOptions::default()
    };
    let args = args
        .iter()
        .map(|v| rhai::serde::to_dynamic(v).unwrap_or(rhai::Dynamic::UNIT))
        .collect();
    let _value = engine.call_fn(ast, function, args, &options).0?;
    Ok(Called {
        claimed: claimed.load(std::sync::atomic::Ordering::SeqCst),
    })
}

/// Evaluate `script` with `vars` in scope on `engine`, under its default context; `compiled`
/// is called once it is compiled.
pub(crate) fn eval(
    engine: &ScriptEngine,
    script: &str,
    vars: &Map<String, Value>,
    compiled: &mut dyn FnMut(),
) -> Result<Evaluated, ScriptError> {
    let mut scope = rhai::Scope::new();
    for (name, value) in vars {
        let value = rhai::serde::to_dynamic(value)
            .map_err(|e| ScriptError::new(format!("vars.{name}: {e}")))?;
        scope.push_dynamic(name.clone(), value);
    }
    let ast = engine.compile_source(script, "script", &scope)?;
    compiled();
    let options = RunOptions {
        output: Output::Capture,
        ..RunOptions::default()
    };
    let (result, report) = engine.eval(&mut scope, &ast, &options);
    let value = result?;
    let value = serde_json::to_value(&value).unwrap_or_else(|_| json!(value.to_string()));
    Ok(Evaluated {
        value,
        printed: report.printed,
    })
}
