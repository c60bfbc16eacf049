//! The sandboxed Rhai engine: limits, hooks, module resolution and builtins in one place.

pub mod error;
pub mod limits;
pub mod resolver;
pub mod run;

pub use error::ScriptError;
pub use limits::Limits;
pub use resolver::ScenarioResolver;
pub use run::{Output, RunOptions, RunReport};

use crate::host::Host;
use rhai::packages::{Package, StandardPackage};
use rhai::{AST, Dynamic, Engine, Scope};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A Rhai engine set up for untrusted scripts: the standard package plus tgscript's builtins,
/// every [`Limits`] value applied, `eval` disabled, `print`/`debug` routed through
/// [`run::Output`], and `import` confined to the stdlib and one scenario folder.
pub struct ScriptEngine {
    engine: Engine,
    limits: Limits,
    host: Arc<Host>,
}

impl ScriptEngine {
    /// An offline engine (no bot) whose imports resolve against the scenario folder `root`.
    pub fn new(limits: Limits, root: impl Into<PathBuf>) -> Self {
        Self::with_host(limits, root, Arc::new(Host::offline()))
    }

    /// An engine whose builtins act through `host`.
    pub fn with_host(limits: Limits, root: impl Into<PathBuf>, host: Arc<Host>) -> Self {
        let root = root.into();
        let mut engine = Engine::new_raw();
        engine.register_global_module(StandardPackage::new().as_shared_module());
        limits.apply(&mut engine);
        engine
            .set_strict_variables(true)
            .on_progress(run::on_progress)
            .on_print(run::print)
            .on_debug(run::debug)
            .set_module_resolver(ScenarioResolver::new(root));
        engine.disable_symbol("eval");
        // `on_var` is marked volatile API in rhai 1.27 (not deprecated); it closes the
        // max_map_size hole, see `run::on_var`.
        #[allow(deprecated)]
        engine.on_var(run::on_var);
        crate::builtins::register_all(&mut engine, &host);
        Self {
            engine,
            limits,
            host,
        }
    }

    /// The underlying Rhai engine (for metadata and advanced calls).
    pub fn rhai(&self) -> &Engine {
        &self.engine
    }

    /// What the builtins act through.
    pub fn host(&self) -> &Arc<Host> {
        &self.host
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Compile the script at `path`, knowing the variables already in `scope`.
    /// Errors are located as `path:line:col`.
    pub fn compile_file(&self, path: &Path, scope: &Scope) -> Result<AST, ScriptError> {
        let shown = path.display().to_string();
        let source = std::fs::read_to_string(path).map_err(|e| {
            ScriptError::new(format!("cannot read the script: {e}")).in_file(&shown)
        })?;
        self.compile_source(&source, &shown, scope)
    }

    /// Compile `source`, reporting errors against the name `file`.
    pub fn compile_source(
        &self,
        source: &str,
        file: &str,
        scope: &Scope,
    ) -> Result<AST, ScriptError> {
        let mut ast = self
            .engine
            .compile_with_scope(scope, source)
            .map_err(|e| ScriptError::from_parse(&e, Some(file)))?;
        ast.set_source(file);
        Ok(ast)
    }

    /// Evaluate `ast` (its top level) in `scope` as one sandboxed run.
    pub fn eval(
        &self,
        scope: &mut Scope,
        ast: &AST,
        options: &RunOptions,
    ) -> (Result<Dynamic, ScriptError>, RunReport) {
        let (result, report) = run::run(&self.limits, options, || {
            self.engine.eval_ast_with_scope::<Dynamic>(scope, ast)
        });
        let result = result.map_err(|e| self.error(e, ast.source()));
        (result, report)
    }

    /// Call the script function `name` of `ast` with `args` as one sandboxed run. The AST's
    /// top level (declarations only, for scenarios) is evaluated first so its imports and
    /// constants are visible.
    pub fn call_fn(
        &self,
        ast: &AST,
        name: &str,
        args: Vec<Dynamic>,
        options: &RunOptions,
    ) -> (Result<Dynamic, ScriptError>, RunReport) {
        let (result, report) = run::run(&self.limits, options, || {
            self.engine.call_fn_with_options::<Dynamic>(
                rhai::CallFnOptions::new(),
                &mut Scope::new(),
                ast,
                name,
                args,
            )
        });
        let result = result.map_err(|e| self.error(e, ast.source()));
        (result, report)
    }

    /// Explain a Rhai error against this engine's limits, located in `file` by default.
    pub fn error(&self, err: Box<rhai::EvalAltResult>, file: Option<&str>) -> ScriptError {
        ScriptError::from_eval(err, &self.limits, file)
    }
}
