//! `import` resolution: the embedded stdlib, then `.rhai` files inside the scenario folder.
//! Nothing else on disk is reachable.

use super::folder::{FileError, Folder, Outside};
use super::limits::Limits;
use crate::stdlib;
use rhai::{AST, Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};
use std::cell::RefCell;
use std::path::{Path, PathBuf};

thread_local! {
    /// Module files resolved on this thread while [`track_imports`] runs.
    static TRACKED: RefCell<Option<Vec<Import>>> = const { RefCell::new(None) };
    /// The modules being evaluated on this thread, outermost first: an import of one of them
    /// again is a cycle (evaluated, it would recurse until the stack overflows).
    static RESOLVING: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
}

/// How deep imports may nest (a module importing a module importing …).
pub const MAX_IMPORT_DEPTH: usize = 16;

/// A module file a compile read from the scenario folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// Its real path on the host.
    pub path: PathBuf,
    /// A digest of what it held ([`digest`]).
    pub digest: u64,
}

/// A digest of a file's bytes: the same on the host, which reads the file from disk, and in
/// a worker, which had it from the host.
pub fn digest(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// Run `f` (a compile) and return, with its value, every module file it resolved from the
/// scenario folder: what a scenario depends on, for hot reload.
pub fn track_imports<R>(f: impl FnOnce() -> R) -> (R, Vec<Import>) {
    let outer = TRACKED.with(|t| t.replace(Some(Vec::new())));
    let value = f();
    let files = TRACKED.with(|t| t.replace(outer)).unwrap_or_default();
    (value, files)
}

/// Resolves `import "name"` to a stdlib module or to `<root>/name.rhai`.
///
/// Absolute paths, `..` components and symlinks that lead outside the root are refused.
/// Nested imports inside a module resolve against the same root.
#[derive(Debug, Clone)]
pub struct ScenarioResolver {
    folder: Folder,
    limits: Limits,
}

impl ScenarioResolver {
    /// A resolver for the scenario folder `folder` (which moves with it), reading module files
    /// within `limits`.
    pub fn new(folder: Folder, limits: Limits) -> Self {
        Self { folder, limits }
    }

    /// Find and compile the module `path`; the AST's source names where it came from, and the
    /// key says which module it is however the import spelled it (`a`, `./a`).
    fn compile(
        &self,
        engine: &Engine,
        path: &str,
        pos: Position,
    ) -> Result<(AST, String), Box<EvalAltResult>> {
        let refuse = |why: &str| -> Box<EvalAltResult> {
            EvalAltResult::ErrorRuntime(
                format!(
                    "import \"{path}\" refused: {why}; import a stdlib module by name (e.g. \"perms\") or a .rhai file inside the scenario folder"
                )
                .into(),
                pos,
            )
            .into()
        };
        let name = path.strip_suffix(".rhai").unwrap_or(path);
        if name.is_empty() {
            return Err(refuse("the module name is empty"));
        }
        if let Some(src) = stdlib::source(name) {
            let mut ast = engine
                .compile(src)
                .map_err(|e| EvalAltResult::ErrorInModule(path.to_string(), e.into(), pos))?;
            ast.set_source(format!("stdlib/{name}.rhai"));
            return Ok((ast, format!("stdlib/{name}")));
        }
        let file = self.folder.root().join(name).with_extension("rhai");
        let not_found = || -> Box<EvalAltResult> {
            EvalAltResult::ErrorRuntime(
                format!(
                    "module \"{path}\" not found: no stdlib module of that name and no file {}",
                    file.display()
                )
                .into(),
                pos,
            )
            .into()
        };
        let relative = Path::new(name).with_extension("rhai");
        let read = match self.folder.inside(&relative, self.limits.max_script_size) {
            Ok(read) => read,
            Err(FileError::Outside(Outside::NotFound) | FileError::NotAFile) => {
                return Err(not_found());
            }
            Err(FileError::Outside(outside)) => return Err(refuse(&outside.to_string())),
            Err(FileError::TooLarge(_)) => {
                return Err(refuse(&format!(
                    "the module is larger than {} bytes ([limits] max_script_size)",
                    self.limits.max_script_size
                )));
            }
            Err(FileError::Io(_)) => return Err(not_found()),
            Err(over @ FileError::OverBudget { .. }) => return Err(refuse(&over.to_string())),
        };
        let Ok(source) = String::from_utf8(read.bytes) else {
            return Err(refuse("the module is not UTF-8 text"));
        };
        let real_file = read.path;
        TRACKED.with(|t| {
            if let Some(files) = t.borrow_mut().as_mut() {
                files.push(Import {
                    path: real_file.clone(),
                    digest: digest(source.as_bytes()),
                });
            }
        });
        let display = file.display().to_string();
        let mut ast = engine
            .compile(source)
            .map_err(|e| EvalAltResult::ErrorInModule(display.clone(), e.into(), pos))?;
        ast.set_source(display);
        Ok((ast, real_file.display().to_string()))
    }
}

impl ModuleResolver for ScenarioResolver {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let (ast, key) = self.compile(engine, path, pos)?;
        let name = path.strip_suffix(".rhai").unwrap_or(path).to_string();
        let refused = RESOLVING.with(|stack| {
            let stack = stack.borrow();
            if let Some(start) = stack.iter().position(|(k, _)| *k == key) {
                let chain: Vec<&str> = stack[start..].iter().map(|(_, n)| n.as_str()).collect();
                Some(format!(
                    "import cycle: {} → {name}; a module may not import itself, directly or through others",
                    chain.join(" → ")
                ))
            } else if stack.len() >= MAX_IMPORT_DEPTH {
                let chain: Vec<&str> = stack.iter().map(|(_, n)| n.as_str()).collect();
                Some(format!(
                    "imports nested deeper than {MAX_IMPORT_DEPTH} modules ({} → {name})",
                    chain.join(" → ")
                ))
            } else {
                None
            }
        });
        if let Some(why) = refused {
            return Err(EvalAltResult::ErrorRuntime(why.into(), pos).into());
        }
        /// Takes the module off the stack however its evaluation ends (a panic included).
        struct Resolving;
        impl Drop for Resolving {
            fn drop(&mut self) {
                RESOLVING.with(|stack| stack.borrow_mut().pop());
            }
        }
        RESOLVING.with(|stack| stack.borrow_mut().push((key, name)));
        let resolving = Resolving;
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine);
        drop(resolving);
        let module = module.map_err(|e| EvalAltResult::ErrorInModule(path.to_string(), e, pos))?;
        Ok(module.into())
    }

    fn resolve_ast(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Option<Result<AST, Box<EvalAltResult>>> {
        Some(self.compile(engine, path, pos).map(|(ast, _)| ast))
    }
}
