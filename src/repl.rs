//! The REPL session: scope and functions kept between inputs, multi-line detection, the
//! `:commands`, pretty values, errors with a caret, and the names tab completion offers.
//! `tgscript repl` puts a line editor (or a pipe) in front of it.

use crate::docs;
use crate::engine::{Output, RunOptions, ScriptEngine, ScriptError};
use rhai::{AST, Dynamic, Expr, ParseErrorType, Scope, Stmt};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// What one input gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A value to show (already pretty-printed), or nothing for `()`.
    Value(Option<String>),
    /// Text to show for a `:command`.
    Text(String),
    /// `:quit`.
    Quit,
}

/// One interactive session over an engine.
pub struct Session {
    engine: Arc<ScriptEngine>,
    scope: Scope<'static>,
    functions: AST,
    /// The imports of earlier inputs, as source put before each input.
    imports: Vec<String>,
    interrupt: Arc<AtomicBool>,
    /// Builtins and the standard library: fixed for the engine, read once.
    known: Vec<String>,
    /// What else completes: the `:commands` and the stdlib modules' members under their usual
    /// alias (`perms::READ_ONLY`).
    extra_names: Vec<String>,
}

/// The `:commands` (without the colon).
const COMMANDS: [&str; 5] = ["help", "builtins", "load", "reset", "quit"];

/// The import statements of `ast` as source (`import "perms" as perms;`), to put before the
/// next inputs.
fn imports_of(ast: &AST) -> Vec<String> {
    ast.statements()
        .iter()
        .filter_map(|stmt| match stmt {
            Stmt::Import(import, _) => match (&import.0, import.1.name.as_str()) {
                (Expr::StringConstant(path, _), "") => Some(format!("import {path:?};")),
                (Expr::StringConstant(path, _), alias) => {
                    Some(format!("import {path:?} as {alias};"))
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Whether `input` is an unfinished expression or block that should continue on the next line.
pub fn is_incomplete(engine: &ScriptEngine, scope: &Scope, input: &str) -> bool {
    if input.trim().is_empty() || input.trim_start().starts_with(':') {
        return false;
    }
    match engine.rhai().compile_with_scope(scope, input) {
        Ok(_) => false,
        Err(err) => {
            matches!(err.err_type(), ParseErrorType::UnexpectedEOF)
                || (matches!(err.err_type(), ParseErrorType::MissingToken(..))
                    && at_end(input, err.position()))
        }
    }
}

fn at_end(input: &str, pos: rhai::Position) -> bool {
    let lines = input.lines().count().max(1);
    pos.is_none() || pos.line().is_some_and(|l| l >= lines)
}

impl Session {
    /// A session whose runs stop when `interrupt` becomes true (Ctrl-C).
    pub fn new(engine: Arc<ScriptEngine>, interrupt: Arc<AtomicBool>) -> Self {
        let known = crate::check::known_functions(&engine).into_iter().collect();
        let mut extra_names: Vec<String> = COMMANDS.iter().map(|c| format!(":{c}")).collect();
        for (module, source) in crate::stdlib::MODULES {
            let Ok(ast) = engine.rhai().compile(*source) else {
                continue;
            };
            let functions = ast
                .iter_functions()
                .filter(|f| f.access != rhai::FnAccess::Private)
                .map(|f| f.name.to_string());
            let constants = ast.statements().iter().filter_map(|stmt| match stmt {
                Stmt::Var(var, flags, _) if flags.intersects(rhai::ASTFlags::EXPORTED) => {
                    Some(var.0.name.to_string())
                }
                _ => None,
            });
            extra_names.extend(functions.chain(constants).map(|n| format!("{module}::{n}")));
        }
        Self {
            engine,
            scope: Scope::new(),
            functions: AST::empty(),
            imports: Vec::new(),
            interrupt,
            known,
            extra_names,
        }
    }

    /// The engine.
    pub fn engine(&self) -> &ScriptEngine {
        &self.engine
    }

    /// The variables defined so far.
    pub fn scope(&self) -> &Scope<'static> {
        &self.scope
    }

    /// Names tab completion offers: builtins and the standard library, the `:commands`, the
    /// stdlib modules' members, functions defined in the session, and its variables.
    pub fn names(&self) -> Vec<String> {
        let mut names = self.known.clone();
        names.extend(self.extra_names.iter().cloned());
        names.extend(self.functions.iter_functions().map(|f| f.name.to_string()));
        names.extend(self.scope.iter_raw().map(|(name, _, _)| name.to_string()));
        names.sort();
        names.dedup();
        names
    }

    /// Run one input: a `:command` or Rhai statements.
    pub fn input(&mut self, input: &str) -> Result<Outcome, ScriptError> {
        let trimmed = input.trim();
        if let Some(command) = trimmed.strip_prefix(':') {
            return self.command(command);
        }
        if trimmed.is_empty() {
            return Ok(Outcome::Value(None));
        }
        self.run(input, "input").map(|v| Outcome::Value(pretty(&v)))
    }

    fn run(&mut self, source: &str, name: &str) -> Result<Dynamic, ScriptError> {
        // Earlier imports go first, on a line of their own (errors are moved back by it).
        let (source, shift) = match self.imports.is_empty() {
            true => (source.to_string(), 0),
            false => (format!("{}\n{source}", self.imports.join(" ")), 1),
        };
        let unshift = |mut e: ScriptError| {
            if e.file.as_deref() == Some(name) {
                e.line = e.line.map(|l| l.saturating_sub(shift).max(1));
            }
            e
        };
        let ast = self
            .engine
            .compile_source(&source, name, &self.scope)
            .map_err(unshift)?;
        self.functions = self.functions.merge(&ast.clone_functions_only());
        let runnable = self.functions.merge(&ast);
        self.interrupt.store(false, Ordering::SeqCst);
        let options = RunOptions {
            output: Output::Stdout,
            interrupt: Some(self.interrupt.clone()),
            ..RunOptions::default()
        };
        // An input that fails leaves the variables as they were before it: a half-built value
        // (a closure chain stopped at its limit, say) must not break every later input.
        let before = self.scope.clone();
        let (result, _) = self.engine.eval(&mut self.scope, &runnable, &options);
        match result.is_err() {
            true => self.scope = before,
            false => {
                for import in imports_of(&ast) {
                    if !self.imports.contains(&import) {
                        self.imports.push(import);
                    }
                }
            }
        }
        result.map_err(|e| self.suggest(unshift(e)))
    }

    /// A "Function not found" error with the closest known name (builtins and the functions
    /// defined so far), as `check` would say it.
    fn suggest(&self, mut e: ScriptError) -> ScriptError {
        let Some(missing) = e.message.strip_prefix("Function not found: ") else {
            return e;
        };
        let name = missing.split([' ', '(']).next().unwrap_or_default();
        // A name of a letter or two is close to too many to guess.
        if name.chars().count() < 3 {
            return e;
        }
        let known = self.engine.known_functions();
        let defined: Vec<String> = self
            .functions
            .iter_functions()
            .map(|f| f.name.to_string())
            .collect();
        let candidates = known
            .keys()
            .map(String::as_str)
            .chain(defined.iter().map(String::as_str))
            // Names, not operators.
            .filter(|n| n.starts_with(|c: char| c.is_alphabetic() || c == '_'));
        if let Some(close) = crate::check::closest_name(name, candidates) {
            e.message = format!("{}: did you mean '{close}'?", e.message);
        }
        e
    }

    fn command(&mut self, command: &str) -> Result<Outcome, ScriptError> {
        let (name, arg) = command
            .split_once(char::is_whitespace)
            .unwrap_or((command, ""));
        let arg = arg.trim();
        match name {
            "quit" | "q" | "exit" => Ok(Outcome::Quit),
            "reset" => {
                self.scope = Scope::new();
                self.functions = AST::empty();
                self.imports.clear();
                Ok(Outcome::Text("scope, functions and imports cleared".into()))
            }
            "load" => {
                if arg.is_empty() {
                    return Err(ScriptError::new(
                        ":load needs a file: :load scripts/helpers.rhai",
                    ));
                }
                let source = std::fs::read_to_string(arg)
                    .map_err(|e| ScriptError::new(format!("cannot read {arg}: {e}")))?;
                self.run(&source, arg).map(|v| Outcome::Value(pretty(&v)))
            }
            "help" => Ok(Outcome::Text(self.help(arg))),
            "builtins" => Ok(Outcome::Text(
                docs::builtins(&self.engine)
                    .iter()
                    .map(|d| format!("{:<32} {}", d.signature, d.doc.lines().next().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )),
            _ => Err(ScriptError::new(format!(
                "unknown command :{name} (known: :help NAME, :builtins, :load FILE, :reset, :quit)"
            ))),
        }
    }

    fn help(&self, name: &str) -> String {
        if name.is_empty() {
            return ":help NAME  a builtin's signature, parameters, doc and example\n\
                    :help time::parse_duration  a stdlib module's function or constant\n\
                    :builtins   every builtin\n:load FILE  run a file into the session\n\
                    :reset      clear variables, functions and imports\n:quit       leave (or Ctrl-D)"
                .into();
        }
        if let Some((module, item)) = name.split_once("::") {
            return stdlib_help(&docs::stdlib_json(&self.engine), module, item);
        }
        let overloads = docs::lookup(&self.engine, name);
        if overloads.is_empty()
            && let Some(arities) = self.engine.known_functions().get(name)
        {
            let arities: Vec<String> = arities.iter().map(usize::to_string).collect();
            let takes = match arities.is_empty() {
                true => String::new(),
                false => format!(", taking {} argument(s)", arities.join(" or ")),
            };
            return format!(
                "{name} is one of Rhai's own functions{takes}, not a tgscript builtin: the Rhai \
                 book documents it (https://rhai.rs/book)"
            );
        }
        if overloads.is_empty() {
            let close = self
                .known
                .iter()
                .filter(|k| strsim::damerau_levenshtein(k, name) <= 2)
                .min_by_key(|k| strsim::damerau_levenshtein(k, name));
            return match close {
                Some(k) => format!("no builtin named {name}: did you mean {k}?"),
                None => format!("no builtin named {name} (:builtins lists them)"),
            };
        }
        let mut out = String::new();
        for d in &overloads {
            out.push_str(&d.signature);
            out.push('\n');
        }
        let params: Vec<String> = overloads
            .iter()
            .flat_map(|d| d.params.iter())
            .map(|p| match &p.ty {
                Some(ty) => format!("{}: {ty}", p.name),
                None => p.name.clone(),
            })
            .fold(Vec::new(), |mut acc, p| {
                if !acc.contains(&p) {
                    acc.push(p);
                }
                acc
            });
        if !params.is_empty() {
            out.push_str(&format!("parameters: {}\n", params.join(", ")));
        }
        out.push('\n');
        out.push_str(&overloads[0].doc);
        out
    }
}

/// A value for the terminal: maps and arrays as indented JSON (when they are plain data),
/// strings quoted, `()` as nothing.
pub fn pretty(value: &Dynamic) -> Option<String> {
    if value.is_unit() {
        return None;
    }
    if (value.is_map() || value.is_array() || value.is_string())
        && let Ok(json) = serde_json::to_string_pretty(value)
    {
        return Some(json);
    }
    Some(value.to_string())
}

/// An error under the input it came from: the line, a caret under the column, the message;
/// lines are counted from `first_line` (the line of a pipe the input started on).
pub fn show_error(input: &str, err: &ScriptError, first_line: usize) -> String {
    let mut out = String::new();
    if err.file.as_deref() == Some("input")
        && let (Some(line), Some(col)) = (err.line, err.column)
        && let Some(text) = input.lines().nth(line as usize - 1)
    {
        out.push_str(text);
        out.push('\n');
        out.push_str(&" ".repeat(col.saturating_sub(1) as usize));
        out.push_str("^\n");
        let mut plain = err.clone();
        plain.file = None;
        plain.line = None;
        plain.column = None;
        let line = first_line + line as usize - 1;
        out.push_str(&format!("error at line {line}, column {col}: {plain}"));
        return out;
    }
    format!("error: {err}")
}

/// `:help module::item` for a stdlib module's function or constant, from `modules` (the
/// JSON of [`docs::stdlib_json`]).
fn stdlib_help(modules: &serde_json::Value, module: &str, item: &str) -> String {
    let all = modules.as_array().map(Vec::as_slice).unwrap_or_default();
    let Some(found) = all.iter().find(|m| m["module"] == module) else {
        let names: Vec<&str> = all.iter().filter_map(|m| m["module"].as_str()).collect();
        return format!(
            "no stdlib module {module} (there are: {})",
            names.join(", ")
        );
    };
    let import = found["import"].as_str().unwrap_or_default();
    if let Some(value) = found["constants"].get(item) {
        return format!("{module}::{item} = {value}\n\n{import}");
    }
    let functions = found["functions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if let Some(f) = functions.iter().find(|f| f["name"] == item) {
        let params: Vec<&str> = f["params"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str)
            .collect();
        let doc = f["doc"].as_str().unwrap_or_default();
        return format!(
            "{module}::{item}({})\n\n{doc}\n\n{import}",
            params.join(", ")
        );
    }
    let mut known: Vec<&str> = found["constants"]
        .as_object()
        .into_iter()
        .flat_map(|c| c.keys().map(String::as_str))
        .collect();
    known.extend(functions.iter().filter_map(|f| f["name"].as_str()));
    format!("{module} has no {item} (it has: {})", known.join(", "))
}
