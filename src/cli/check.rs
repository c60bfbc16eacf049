//! `tgscript check [PATH]...`: the files a scenario folder's `run` would load are checked
//! exactly as a load checks them ([`Scenario::problems`]); modules (in sub-folders) and
//! one-off scripts are compiled and their calls and imports checked. `-o json` gives
//! editors and CI one JSON document.

use super::usage;
use crate::builtins::offline_engine;
use crate::check::{check_file, collect_scripts};
use crate::config::Config;
use crate::engine::{ScriptEngine, ScriptError};
use crate::scenario::Scenario;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Output format of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `file:line:col: message`, a line per problem.
    Text,
    /// One JSON document: `{"files": N, "problems": [{file, line, column, message,
    /// function, limit}]}` (absent values are `null`).
    Json,
}

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or folders to check (default: [scripts] dir). Folders are searched for `.rhai`.
    pub paths: Vec<PathBuf>,
    /// Output format (`--format` is the older spelling).
    #[arg(
        short = 'o',
        long = "output",
        alias = "format",
        value_enum,
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub format: Format,
}

/// A problem as `check --format json` lists it.
fn problem_json(problem: &ScriptError) -> serde_json::Value {
    serde_json::json!({
        "file": problem.file, "line": problem.line, "column": problem.column,
        "message": problem.message, "function": problem.function, "limit": problem.limit,
    })
}

/// Whether `file` defines a handler-like `fn on_…` (read within the script size limit: a
/// file may be endless).
fn has_handlers(engine: &ScriptEngine, file: &Path) -> bool {
    engine
        .limits()
        .read_script(file)
        .is_ok_and(|source| source.contains("fn on_"))
}

/// Whether `file` is one `run` loads as a scenario: directly in a scenario folder checked (one
/// where some file defines a handler), or a file named on its own that defines one.
fn is_scenario(
    engine: &ScriptEngine,
    from_folder: bool,
    scenario_folder: bool,
    root: &Path,
    file: &Path,
) -> bool {
    match from_folder {
        true => scenario_folder && file.parent() == Some(root),
        false => has_handlers(engine, file),
    }
}

pub(super) fn check(config: &Config, args: CheckArgs) -> anyhow::Result<u8> {
    let paths = if args.paths.is_empty() {
        vec![config.scripts.dir.clone()]
    } else {
        args.paths
    };
    // Imports resolve the way `run` resolves them: against the folder given (a scenario
    // folder, its modules in sub-folders), or a file's own folder when a file is given.
    let mut files: Vec<(PathBuf, PathBuf, bool)> = Vec::new();
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
        let from_folder = path.is_dir();
        files.extend(
            found
                .into_iter()
                .map(|file| (root.clone(), file, from_folder)),
        );
    }
    let mut problems = 0;
    let mut listed = Vec::new();
    // One engine per folder (imports resolve against it), and whether it is a scenario
    // folder: a folder of one-off scripts (`examples/`) is not.
    let mut engines: HashMap<PathBuf, (ScriptEngine, bool)> = HashMap::new();
    for (root, file, from_folder) in &files {
        let (engine, scenario_folder) = engines.entry(root.clone()).or_insert_with(|| {
            let engine = offline_engine(config.limits.clone(), root);
            let scenario_folder = files
                .iter()
                .any(|(r, f, _)| r == root && f.parent() == Some(root) && has_handlers(&engine, f));
            (engine, scenario_folder)
        });
        let problems_of = match is_scenario(engine, *from_folder, *scenario_folder, root, file) {
            true => Scenario::problems(engine, file),
            false => check_file(engine, file),
        };
        for problem in problems_of {
            match args.format {
                Format::Text => outln!("{problem}")?,
                Format::Json => listed.push(problem_json(&problem)),
            }
            problems += 1;
        }
    }
    if args.format == Format::Json {
        outln!(
            "{}",
            serde_json::json!({"files": files.len(), "problems": listed})
        )?;
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
