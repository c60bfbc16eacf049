//! `tgscript check [PATH]...`

use super::usage;
use crate::builtins::offline_engine;
use crate::check::{check_file, collect_scripts, known_functions};
use crate::config::Config;
use crate::engine::ScriptEngine;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or folders to check (default: [scripts] dir). Folders are searched for `.rhai`.
    pub paths: Vec<PathBuf>,
}

pub(super) fn check(config: &Config, args: CheckArgs) -> anyhow::Result<u8> {
    let paths = if args.paths.is_empty() {
        vec![config.scripts.dir.clone()]
    } else {
        args.paths
    };
    // Imports resolve the way `run` resolves them: against the folder given (a scenario
    // folder, its modules in sub-folders), or a file's own folder when a file is given.
    let mut files: Vec<(PathBuf, PathBuf)> = Vec::new();
    for path in &paths {
        let root = if path.is_dir() {
            path.clone()
        } else {
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf()
        };
        let found =
            collect_scripts(std::slice::from_ref(path)).map_err(|e| usage(e.to_string()))?;
        files.extend(found.into_iter().map(|file| (root.clone(), file)));
    }
    let mut problems = 0;
    // One engine (and one list of known functions) per folder: imports resolve against it.
    let mut engines: HashMap<PathBuf, (ScriptEngine, BTreeSet<String>)> = HashMap::new();
    for (root, file) in &files {
        let (engine, known) = engines.entry(root.clone()).or_insert_with(|| {
            let engine = offline_engine(config.limits.clone(), root);
            let known = known_functions(&engine);
            (engine, known)
        });
        for problem in check_file(engine, known, file) {
            println!("{problem}");
            problems += 1;
        }
    }
    if problems > 0 {
        anyhow::bail!(
            "{problems} problem{} in {} file{}",
            if problems == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        );
    }
    Ok(0)
}
