//! `tgscript check`: compile scripts without running them and flag calls to functions that
//! are neither builtins, Rhai's standard library, nor defined in the script.

use crate::engine::folder::is_script;
use crate::engine::{KnownFunctions, ScriptEngine, ScriptError, wrong_count};
use rhai::{AST, ASTNode, Expr, Scope, Stmt};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Every function name scripts can call without defining it: builtins, the standard library
/// and Rhai's keyword functions.
pub fn known_functions(engine: &ScriptEngine) -> BTreeSet<String> {
    engine.known_functions().keys().cloned().collect()
}

/// Every `.rhai` file under `paths` (files are taken as given; folders are searched
/// recursively, hidden ones and definition files `*.d.rhai` left out), sorted.
pub fn collect_scripts(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if path.is_dir() && !hidden {
                walk(&path, out)?;
            } else if path.is_file() && is_script(&path) {
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
pub fn check_file(engine: &ScriptEngine, file: &Path) -> Vec<ScriptError> {
    let shown = file.display().to_string();
    let ast = match engine.compile_file(file, &Scope::new()) {
        Err(e) => return vec![e],
        Ok(ast) => ast,
    };
    let mut problems: Vec<ScriptError> = call_problems(&ast, &engine.known_functions())
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
        && let Ok(source) = engine.read_scenario(file)
        && let Err(e) = engine.compile_self_contained(&source, &shown)
    {
        problems.push(e);
    }
    problems
}

/// Calls in `ast` to functions that nothing defines (with a "did you mean" when a known name
/// is close), and calls with a number of arguments no overload of the function takes.
pub fn call_problems(ast: &AST, known: &KnownFunctions) -> Vec<ScriptError> {
    // Script functions by name, with the numbers of parameters of their definitions.
    let mut defined: KnownFunctions = KnownFunctions::new();
    for f in ast.iter_functions() {
        defined
            .entry(f.name.to_string())
            .or_default()
            .insert(f.params.len());
        // A parameter holding a function pointer may be called like a function.
        for p in f.params {
            defined.insert(p.to_string(), BTreeSet::new());
        }
    }
    // (name, arguments, called as a method, where)
    let mut calls = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Stmt(Stmt::Var(var, ..))) => {
                defined.insert(var.0.name.to_string(), BTreeSet::new());
            }
            Some(ASTNode::Stmt(Stmt::FnCall(call, pos)))
            | Some(ASTNode::Expr(Expr::FnCall(call, pos)))
                if plain(call) =>
            {
                calls.push((call.name.to_string(), call.args.len(), false, *pos));
            }
            Some(ASTNode::Expr(Expr::MethodCall(call, pos))) if plain(call) => {
                calls.push((call.name.to_string(), call.args.len() + 1, true, *pos));
            }
            _ => {}
        }
        true
    });
    let names = || known.keys().chain(defined.keys());
    calls
        .into_iter()
        .filter_map(|(name, args, method, pos)| {
            let message = match (defined.get(&name), known.get(&name)) {
                (None, None) => {
                    let mut message = format!("unknown function '{name}'");
                    if let Some(suggestion) = closest(&name, names()) {
                        message.push_str(&format!(": did you mean '{suggestion}'?"));
                    }
                    message
                }
                // A script function called as a method gets `this` besides its parameters.
                (Some(arities), _) if method || arities.is_empty() || arities.contains(&args) => {
                    return None;
                }
                (Some(arities), _) => wrong_count(&name, arities, args),
                (None, Some(arities)) if arities.is_empty() || arities.contains(&args) => {
                    return None;
                }
                (None, Some(arities)) => wrong_count(&name, arities, args),
            };
            Some(ScriptError::new(message).at(pos))
        })
        .collect()
}

/// A call by name, not an operator or a module's function.
fn plain(call: &rhai::FnCallExpr) -> bool {
    !call.is_qualified() && call.op_token.is_none() && is_identifier(&call.name)
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// The known name nearest to `name`, if it is close enough to be a likely typo.
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a String>) -> Option<&'a str> {
    closest_name(name, candidates.map(String::as_str))
}

/// The name of `candidates` nearest to `name`, if it is close enough to be a likely typo.
pub fn closest_name<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let budget = (name.chars().count() / 4).clamp(1, 3);
    candidates
        .filter(|c| *c != name)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(distance, _)| *distance <= budget)
        .min_by_key(|(distance, c)| (*distance, c.len()))
        .map(|(_, c)| c)
}
