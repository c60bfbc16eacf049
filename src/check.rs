//! `tgscript check`: compile scripts without running them and flag calls to functions that
//! are neither builtins, Rhai's standard library, nor defined in the script.

use crate::engine::{ScriptEngine, ScriptError};
use rhai::{AST, ASTNode, Expr, Scope, Stmt};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

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

/// Every function name scripts can call without defining it: builtins, the standard library
/// and Rhai's keyword functions.
pub fn known_functions(engine: &ScriptEngine) -> BTreeSet<String> {
    #[derive(serde::Deserialize)]
    struct Metadata {
        #[serde(default)]
        functions: Vec<Named>,
    }
    #[derive(serde::Deserialize)]
    struct Named {
        name: String,
    }
    let json = engine
        .rhai()
        .gen_fn_metadata_to_json(true)
        .unwrap_or_else(|_| "{}".to_string());
    let metadata: Metadata = serde_json::from_str(&json).unwrap_or(Metadata {
        functions: Vec::new(),
    });
    metadata
        .functions
        .into_iter()
        .map(|f| f.name)
        .chain(KEYWORD_FUNCTIONS.iter().map(|s| s.to_string()))
        .collect()
}

/// Every `.rhai` file under `paths` (files are taken as given; folders are searched
/// recursively), sorted.
pub fn collect_scripts(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.extension().is_some_and(|e| e == "rhai") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut out)?;
        } else if path.exists() {
            out.push(path.clone());
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{}: no such file or folder", path.display()),
            ));
        }
    }
    out.sort();
    Ok(out)
}

/// Compile `file` and return every problem found, syntax errors first.
pub fn check_file(
    engine: &ScriptEngine,
    known: &BTreeSet<String>,
    file: &Path,
) -> Vec<ScriptError> {
    let shown = file.display().to_string();
    let ast = match engine.compile_file(file, &Scope::new()) {
        Err(e) => return vec![e],
        Ok(ast) => ast,
    };
    let mut problems: Vec<ScriptError> = unknown_calls(&ast, known)
        .into_iter()
        .map(|e| e.in_file(shown.clone()))
        .collect();
    // Imports are resolved the way `run` resolves them: a missing module or an import cycle
    // is found here, not at start-up.
    let mut imports = false;
    ast.walk(&mut |path| {
        imports |= matches!(path.last(), Some(ASTNode::Stmt(Stmt::Import(..))));
        !imports
    });
    if imports
        && let Ok(source) = engine.limits().read_script(file)
        && let Err(e) = engine.compile_self_contained(&source, &shown)
    {
        problems.push(e);
    }
    problems
}

/// Calls in `ast` to functions that nothing defines, each with a "did you mean" when a known
/// name is close.
pub fn unknown_calls(ast: &AST, known: &BTreeSet<String>) -> Vec<ScriptError> {
    let mut defined: BTreeSet<String> = BTreeSet::new();
    for f in ast.iter_functions() {
        defined.insert(f.name.to_string());
        // A parameter holding a function pointer may be called like a function.
        defined.extend(f.params.iter().map(|p| p.to_string()));
    }
    let mut calls = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Stmt(Stmt::Var(var, ..))) => {
                defined.insert(var.0.name.to_string());
            }
            Some(ASTNode::Stmt(Stmt::FnCall(call, pos)))
            | Some(ASTNode::Expr(Expr::FnCall(call, pos)))
            | Some(ASTNode::Expr(Expr::MethodCall(call, pos)))
                if !call.is_qualified() && call.op_token.is_none() && is_identifier(&call.name) =>
            {
                calls.push((call.name.to_string(), *pos));
            }
            _ => {}
        }
        true
    });
    calls
        .into_iter()
        .filter(|(name, _)| !known.contains(name) && !defined.contains(name))
        .map(|(name, pos)| {
            let mut message = format!("unknown function '{name}'");
            if let Some(suggestion) = closest(&name, known.iter().chain(defined.iter())) {
                message.push_str(&format!(": did you mean '{suggestion}'?"));
            }
            ScriptError::new(message).at(pos)
        })
        .collect()
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// The known name nearest to `name`, if it is close enough to be a likely typo.
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a String>) -> Option<&'a str> {
    let budget = (name.chars().count() / 4).clamp(1, 3);
    candidates
        .filter(|c| c.as_str() != name)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(distance, _)| *distance <= budget)
        .min_by_key(|(distance, c)| (*distance, c.len()))
        .map(|(_, c)| c.as_str())
}
