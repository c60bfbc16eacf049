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
    let files = collect_scripts(&paths).map_err(|e| usage(e.to_string()))?;
    let mut problems = 0;
    // One engine (and one list of known functions) per folder: imports resolve against it.
    let mut engines: HashMap<&Path, (ScriptEngine, BTreeSet<String>)> = HashMap::new();
    for file in &files {
        let root = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let (engine, known) = engines.entry(root).or_insert_with(|| {
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
