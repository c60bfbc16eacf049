//! The sandboxed Rhai engine: limits, hooks, module resolution and the shipped stdlib. It knows
//! nothing of Telegram: the application registers its builtins into it as a Rhai package and
//! passes each call's context as the run's tag (Rhai's `NativeCallContext::tag`).

pub mod error;
pub mod folder;
pub mod limits;
pub mod memory;
pub mod resolver;
pub mod run;

pub use error::{ScriptError, wrong_count};
pub use folder::{FileError, Files, Folder, FolderFile};
pub use limits::{Limits, ScriptReadError};
pub use resolver::ScenarioResolver;
pub use run::{Attribution, Output, RunOptions, RunReport};

use rhai::packages::{Package, StandardPackage};
use rhai::{AST, Dynamic, Engine, Scope};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A Rhai engine set up for untrusted scripts: the standard package, every [`Limits`] value
/// applied, `eval` disabled, `print`/`debug` routed through [`run::Output`], and `import`
/// confined to the stdlib and one scenario folder. Builtins come as packages
/// ([`ScriptEngine::register`]).
pub struct ScriptEngine {
    engine: Engine,
    limits: Limits,
    /// The scenario folder imports resolve against, and builtins that read files of it
    /// (`asset`) read: moved from call to call by a worker serving several folders.
    folder: Folder,
    /// The functions scripts may call without defining them, once asked for.
    known: std::sync::OnceLock<Arc<KnownFunctions>>,
    /// Who a run's prints are from, read from its tag (see [`ScriptEngine::set_attribution`]).
    attribute: Option<fn(&Dynamic) -> Attribution>,
}

/// Functions scripts may call without defining them, by name, each with the numbers of
/// arguments its overloads take (empty: any number, for Rhai's keyword functions).
pub type KnownFunctions = std::collections::BTreeMap<String, BTreeSet<usize>>;

/// Rhai keywords that are called like functions but are not registered as functions.
const KEYWORD_FUNCTIONS: &[&str] = &[
    "print",
    "debug",
    "type_of",
    "Fn",
    "call",
    "curry",
    "is_shared",
    "is_def_fn",
    "is_def_var",
];

impl ScriptEngine {
    /// A sandbox with Rhai's standard package only, whose imports resolve against the scenario
    /// folder `root`.
    pub fn new(limits: Limits, root: impl Into<PathBuf>) -> Self {
        let folder = Folder::on_disk(root.into());
        let mut engine = Engine::new_raw();
        engine.register_global_module(StandardPackage::new().as_shared_module());
        limits.apply(&mut engine);
        engine
            .set_strict_variables(true)
            .on_progress(run::on_progress)
            .on_print(run::print)
            .on_debug(run::debug)
            .set_module_resolver(ScenarioResolver::new(folder.clone(), limits.clone()));
        engine.disable_symbol("eval");
        // `on_var` is marked volatile API in rhai 1.27 (not deprecated); it closes the
        // max_map_size hole, see `run::on_var`.
        #[allow(deprecated)]
        engine.on_var(run::on_var);
        Self {
            engine,
            limits,
            folder,
            known: std::sync::OnceLock::new(),
            attribute: None,
        }
    }

    /// Read who a run's prints are from out of its tag (or the default tag) with `attribute`,
    /// when its options do not say (the engine knows nothing of what a tag holds).
    pub fn set_attribution(&mut self, attribute: fn(&Dynamic) -> Attribution) {
        self.attribute = Some(attribute);
    }

    /// `options`, with its attribution read from `tag` when it has none.
    fn attributed<'a>(
        &self,
        options: &'a RunOptions,
        tag: &Dynamic,
    ) -> std::borrow::Cow<'a, RunOptions> {
        match self.attribute {
            Some(attribute) if options.attribution.is_empty() => {
                std::borrow::Cow::Owned(RunOptions {
                    attribution: attribute(tag),
                    ..options.clone()
                })
            }
            _ => std::borrow::Cow::Borrowed(options),
        }
    }

    /// Every function scripts can call without defining it — the registered builtins, the
    /// standard library and Rhai's keyword functions — with the numbers of arguments each
    /// takes (computed once per engine).
    pub fn known_functions(&self) -> Arc<KnownFunctions> {
        self.known
            .get_or_init(|| {
                #[derive(serde::Deserialize)]
                struct Metadata {
                    #[serde(default)]
                    functions: Vec<Named>,
                }
                #[derive(serde::Deserialize)]
                struct Named {
                    name: String,
                    #[serde(default)]
                    params: Vec<serde_json::Value>,
                }
                let json = self
                    .engine
                    .gen_fn_metadata_to_json(true)
                    .unwrap_or_else(|_| "{}".to_string());
                let metadata: Metadata = serde_json::from_str(&json).unwrap_or(Metadata {
                    functions: Vec::new(),
                });
                let mut known = KnownFunctions::new();
                for f in metadata.functions {
                    known.entry(f.name).or_default().insert(f.params.len());
                }
                for keyword in KEYWORD_FUNCTIONS {
                    known.insert(keyword.to_string(), BTreeSet::new());
                }
                Arc::new(known)
            })
            .clone()
    }

    /// Resolve imports against, and read assets from, the scenario folder `root` from now on.
    pub fn set_root(&self, root: &Path) {
        self.folder.set_root(root);
    }

    /// The engine's scenario folder, as path-taking builtins read it.
    pub fn folder(&self) -> &Folder {
        &self.folder
    }

    /// Add the functions of `package` (the caller's builtins).
    pub fn register(&mut self, package: &impl Package) {
        package.register_into_engine(&mut self.engine);
        self.known = std::sync::OnceLock::new();
    }

    /// Add the functions of `module` (builtins bound to this engine, e.g. to its folder).
    pub fn register_module(&mut self, module: rhai::Module) {
        self.engine.register_global_module(module.into());
        self.known = std::sync::OnceLock::new();
    }

    /// Add a custom type scripts see by `name` (its type name in errors and docs).
    pub fn register_type<T: rhai::Variant + Clone>(&mut self, name: &str) {
        self.engine.register_type_with_name::<T>(name);
    }

    /// The tag a run gets when its options carry none (see [`RunOptions::tag`]).
    pub fn set_default_tag(&mut self, tag: Dynamic) {
        self.engine.set_default_tag(tag);
    }

    /// The underlying Rhai engine (for metadata and advanced calls).
    pub fn rhai(&self) -> &Engine {
        &self.engine
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Compile the script at `path`, knowing the variables already in `scope`.
    /// Errors are located as `path:line:col`.
    pub fn compile_file(&self, path: &Path, scope: &Scope) -> Result<AST, ScriptError> {
        let shown = path.display().to_string();
        let source = self.read_scenario(path)?;
        self.compile_source(&source, &shown, scope)
    }

    /// The text of the scenario file at `path` (from the host, in a worker).
    pub fn read_scenario(&self, path: &Path) -> Result<String, ScriptError> {
        let fail = |why: String| {
            ScriptError::new(format!("cannot read the script: {why}"))
                .in_file(path.display().to_string())
        };
        let bytes = self
            .folder
            .scenario(path, self.limits.max_script_size)
            .map_err(|e| match e {
                FileError::TooLarge(most) => fail(ScriptReadError::TooLarge(most).to_string()),
                other => fail(other.to_string()),
            })?;
        String::from_utf8(bytes).map_err(|_| fail("it is not UTF-8 text".into()))
    }

    /// Compile `source`, reporting errors against the name `file`.
    pub fn compile_source(
        &self,
        source: &str,
        file: &str,
        scope: &Scope,
    ) -> Result<AST, ScriptError> {
        if self.limits.max_script_size > 0 && source.len() > self.limits.max_script_size {
            return Err(ScriptError::new(format!(
                "the script is larger than {} bytes (raise [limits] max_script_size if it needs more)",
                self.limits.max_script_size
            ))
            .in_file(file));
        }
        let mut ast = self
            .engine
            .compile_with_scope(scope, source)
            .map_err(|e| ScriptError::from_parse(&e, Some(file)).with_constant_hint(source))?;
        ast.set_source(file);
        Ok(ast)
    }

    /// Compile `source` (named `file` in errors) with its imports resolved and embedded, as
    /// one sandboxed run (modules are evaluated once, under the limits): the AST, and the
    /// module files of the scenario folder it imported.
    pub fn compile_self_contained(
        &self,
        source: &str,
        file: &str,
    ) -> Result<(AST, Vec<resolver::Import>), ScriptError> {
        if self.limits.max_script_size > 0 && source.len() > self.limits.max_script_size {
            return Err(ScriptError::new(format!(
                "the script is larger than {} bytes (raise [limits] max_script_size if it needs more)",
                self.limits.max_script_size
            ))
            .in_file(file));
        }
        let ((compiled, _), imports) = resolver::track_imports(|| {
            run::run(&self.limits, &RunOptions::default(), || {
                self.engine
                    .compile_into_self_contained(&Scope::new(), source)
            })
        });
        let mut ast = compiled.map_err(|e| self.error(e, Some(file)).with_constant_hint(source))?;
        ast.set_source(file);
        Ok((ast, imports))
    }

    /// Evaluate `ast` (its top level) in `scope` as one sandboxed run, under the engine's
    /// default tag.
    pub fn eval(
        &self,
        scope: &mut Scope,
        ast: &AST,
        options: &RunOptions,
    ) -> (Result<Dynamic, ScriptError>, RunReport) {
        let options = self.attributed(options, self.engine.default_tag());
        let (result, report) = run::run(&self.limits, &options, || {
            self.engine
                .eval_ast_with_scope::<Dynamic>(scope, ast)
                .and_then(|value| run::check_size(&self.engine, &value).map(|()| value))
        });
        let result = result.map_err(|e| self.error(e, ast.source()));
        (result, report)
    }

    /// Call the script function `name` of `ast` with `args` as one sandboxed run, tagged with
    /// `options.tag` (else the default tag). The AST's top level (declarations only, for
    /// scenarios) is evaluated first so its imports and constants are visible.
    pub fn call_fn(
        &self,
        ast: &AST,
        name: &str,
        args: Vec<Dynamic>,
        options: &RunOptions,
    ) -> (Result<Dynamic, ScriptError>, RunReport) {
        let tag = options.tag.as_ref().unwrap_or(self.engine.default_tag());
        let options = self.attributed(options, tag);
        let (result, report) = run::run(&self.limits, &options, || {
            let call = match &options.tag {
                Some(tag) => rhai::CallFnOptions::new().with_tag(tag.clone()),
                None => rhai::CallFnOptions::new(),
            };
            self.engine
                .call_fn_with_options::<Dynamic>(call, &mut Scope::new(), ast, name, args)
                .and_then(|value| run::check_size(&self.engine, &value).map(|()| value))
        });
        let result = result.map_err(|e| self.error(e, ast.source()));
        (result, report)
    }

    /// Explain a Rhai error against this engine's limits, located in `file` by default.
    pub fn error(&self, err: Box<rhai::EvalAltResult>, file: Option<&str>) -> ScriptError {
        let mut error = ScriptError::from_eval(err, &self.limits, file);
        if let Some(words) = error::arity_words(&error.message, &self.known_functions()) {
            error.message = words;
        }
        error
    }
}
