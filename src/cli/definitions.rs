//! `tgscript definitions DIR`: Rhai definition files (`*.d.rhai`) for every builtin, each
//! stdlib module and Rhai's own functions, for editors: the Rhai language server reads them
//! for completion, signatures and hover docs.

use crate::builtins::offline_engine;
use crate::config::Config;
use crate::stdlib;
use anyhow::Context;
use rhai::{Engine, Module, Scope};
use std::path::{Path, PathBuf};

/// Arguments of `definitions`.
#[derive(Debug, clap::Args)]
pub struct DefinitionsArgs {
    /// The folder to write them into (made if missing; files of the same names replaced).
    pub dir: PathBuf,
}

pub(super) fn definitions(config: &Config, args: DefinitionsArgs) -> anyhow::Result<u8> {
    let engine = offline_engine(config.limits.clone(), ".");
    let mut files: Vec<(String, String)> = engine.rhai().definitions().iter_files().collect();
    files.extend(stdlib_modules(engine.rhai())?);
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot make {}", args.dir.display()))?;
    for (name, text) in files {
        let path: &Path = &args.dir.join(name);
        // Rhai leaves an unknown return type empty (`-> ;`); the format's word for it is `?`.
        let text = text.replace(") -> ;", ") -> ?;");
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
        outln!("{}", path.display())?;
    }
    Ok(0)
}

/// One definition file per stdlib module (`time.d.rhai`: `module time;`), from its source.
fn stdlib_modules(engine: &Engine) -> anyhow::Result<Vec<(String, String)>> {
    let mut holder = Engine::new_raw();
    for (name, source) in stdlib::MODULES {
        let ast = engine
            .compile(source)
            .with_context(|| format!("stdlib module {name} does not compile"))?;
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(|e| anyhow::anyhow!("stdlib module {name}: {e}"))?;
        holder.register_static_module(*name, module.into());
    }
    Ok(holder
        .definitions()
        .with_headers(true)
        .modules()
        .map(|(name, text)| (format!("{name}.d.rhai"), text))
        .collect())
}
