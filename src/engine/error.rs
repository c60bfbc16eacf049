//! Script errors as values: where (`file:line:col`), what, and which limit was hit.

use super::limits::Limits;
use super::run::{
    CALLS_TOKEN, CLOSURES_TOKEN, INTERRUPT_TOKEN, MEMORY_TOKEN, OPERATIONS_TOKEN, TIMEOUT_TOKEN,
    WALL_TOKEN,
};
use rhai::{Dynamic, EvalAltResult, ParseError, Position};
use std::collections::BTreeSet;
use std::fmt;

/// An error from compiling or running a script, located as `file:line:col` when known.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ScriptError {
    /// The script or module file the error is in, as given to the engine.
    pub file: Option<String>,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
    /// What went wrong, in words a script author can act on.
    pub message: String,
    /// The `[limits]` key of the sandbox limit that stopped the script, if one did.
    pub limit: Option<&'static str>,
    /// The innermost script function the error happened in, if any.
    pub function: Option<String>,
    /// The value the script threw (`throw ...`, or a builtin's error map), if any.
    pub thrown: Option<Box<Dynamic>>,
    /// Whether the failure came from around the script (its worker process lost), not from
    /// what it does: see [`ScriptError::is_transient`].
    pub transient: bool,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line, self.column) {
            (Some(file), Some(line), Some(col)) => write!(f, "{file}:{line}:{col}: ")?,
            (Some(file), Some(line), None) => write!(f, "{file}:{line}: ")?,
            (Some(file), None, _) => write!(f, "{file}: ")?,
            (None, Some(line), Some(col)) => write!(f, "{line}:{col}: ")?,
            _ => {}
        }
        f.write_str(&self.message)?;
        if let Some(function) = &self.function {
            write!(f, " (in function '{function}')")?;
        }
        Ok(())
    }
}

impl ScriptError {
    /// An error with a message and no location.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            file: None,
            line: None,
            column: None,
            message: message.into(),
            limit: None,
            function: None,
            thrown: None,
            transient: false,
        }
    }

    /// The same error, marked as one that trying again may not meet.
    pub fn transient(mut self) -> Self {
        self.transient = true;
        self
    }

    /// Whether trying again may succeed: a failure from around the script (its worker lost),
    /// or a builtin's error that did not come from what the script asked — a network error,
    /// an unreadable answer, Telegram's or TDLib's 5xx, a 429 beyond its retries. A script
    /// error, a limit hit or a 4xx refusal fails the same way every time.
    pub fn is_transient(&self) -> bool {
        if self.transient {
            return true;
        }
        let Some(map) = self
            .thrown
            .as_deref()
            .and_then(|t| t.clone().try_cast::<rhai::Map>())
        else {
            return false;
        };
        let code = map.get("code").and_then(|c| c.as_int().ok());
        let error = map
            .get("error")
            .and_then(|e| e.clone().into_immutable_string().ok())
            .unwrap_or_default();
        match code {
            Some(code) => code >= 500 || code == 429,
            None => error.starts_with("network error") || error.starts_with("unexpected response"),
        }
    }

    /// Set the file the error is reported against, when it has none yet.
    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file.get_or_insert_with(|| file.into());
        self
    }

    /// Locate the error at `pos` (line and column; the file stays as it is).
    pub fn at(mut self, pos: Position) -> Self {
        self.line = pos.line().and_then(|l| u32::try_from(l).ok());
        self.column = pos.position().and_then(|c| u32::try_from(c).ok());
        self
    }

    /// A compile (syntax) error of `file`.
    pub fn from_parse(err: &ParseError, file: Option<&str>) -> Self {
        let message = match err.err_type() {
            other if other.to_string().contains("'eval'") => {
                "eval is disabled in tgscript: scripts cannot run code built from strings"
                    .to_string()
            }
            other => other.to_string(),
        };
        let mut e = Self::new(message).at(err.position());
        e.file = file.map(str::to_string);
        e
    }

    /// For `Undefined variable: MAX` where `source` declares `const MAX = …` at its top level
    /// (a function cannot see it by name): how to read it.
    pub fn with_constant_hint(mut self, source: &str) -> Self {
        let Some(name) = self.message.strip_prefix("Undefined variable: ") else {
            return self;
        };
        let name = name.trim().to_string();
        let declared = source.lines().any(|line| {
            line.strip_prefix("const ")
                .and_then(|rest| rest.trim_start().strip_prefix(name.as_str()))
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        });
        if declared {
            self.message = format!(
                "Undefined variable: {name} (a function does not see the script's top-level constants by name: write global::{name})"
            );
        }
        self
    }

    /// A runtime (or parse) error of a script whose main file is `file`, explained against
    /// `limits`.
    pub fn from_eval(err: Box<EvalAltResult>, limits: &Limits, file: Option<&str>) -> Self {
        let mut file = file.map(str::to_string);
        let mut function = None;
        let mut err = err;
        loop {
            match *err {
                EvalAltResult::ErrorInFunctionCall(name, source, inner, _) => {
                    if !source.is_empty() {
                        file = Some(source);
                    }
                    function = Some(name);
                    err = inner;
                }
                EvalAltResult::ErrorInModule(_, inner, _) => err = inner,
                EvalAltResult::ErrorParsing(kind, pos) => {
                    let mut e = Self::from_parse(&ParseError(Box::new(kind), pos), file.as_deref());
                    e.function = function;
                    return e;
                }
                other => {
                    *err = other;
                    break;
                }
            }
        }
        let pos = err.take_position();
        let (message, limit) = describe(&err, limits);
        let thrown = match *err {
            EvalAltResult::ErrorRuntime(value, _) => Some(Box::new(value)),
            _ => None,
        };
        let mut e = Self::new(message).at(pos);
        e.file = file;
        e.limit = limit;
        e.function = function;
        e.thrown = thrown;
        e
    }
}

/// Words for one (innermost) Rhai error, and the limit it stands for.
fn describe(err: &EvalAltResult, limits: &Limits) -> (String, Option<&'static str>) {
    use EvalAltResult as E;
    let limit = |key: &'static str, what: String| {
        (
            format!("{what} (raise [limits] {key} if the script needs more)"),
            Some(key),
        )
    };
    match err {
        E::ErrorTerminated(token, _) if token.to_string() == OPERATIONS_TOKEN => limit(
            "max_operations",
            format!(
                "operation limit exceeded: the script ran more than {} operations",
                limits.max_operations
            ),
        ),
        E::ErrorTooManyOperations(_) => limit(
            "max_operations",
            format!(
                "operation limit exceeded: the script ran more than {} operations",
                limits.max_operations
            ),
        ),
        E::ErrorTerminated(token, _) if token.to_string().starts_with(TIMEOUT_TOKEN) => {
            let token = token.to_string();
            let detail = match token.strip_prefix(TIMEOUT_TOKEN) {
                Some(rest) if !rest.is_empty() => rest.trim_start_matches(": ").to_string(),
                _ => format!("the call ran longer than {} ms", limits.timeout_ms),
            };
            limit("timeout_ms", format!("time limit exceeded: {detail}"))
        }
        E::ErrorTerminated(token, _) if token.to_string().starts_with(WALL_TOKEN) => {
            let token = token.to_string();
            let mut what = wall_exceeded(limits.wall_timeout_ms);
            if let Some(detail) = token
                .strip_prefix(WALL_TOKEN)
                .and_then(|rest| rest.strip_prefix(": "))
            {
                what.push_str(&format!(" ({detail})"));
            }
            limit("wall_timeout_ms", what)
        }
        E::ErrorTerminated(token, _) if token.to_string() == INTERRUPT_TOKEN => {
            ("interrupted".to_string(), None)
        }
        E::ErrorTerminated(token, _) if token.to_string() == CLOSURES_TOKEN => limit(
            "max_closure_depth",
            format!(
                "closure nesting limit exceeded: closures captured inside each other more than {} deep",
                limits.max_closure_depth
            ),
        ),
        E::ErrorTerminated(token, _) if token.to_string() == MEMORY_TOKEN => limit(
            "max_memory_mb",
            format!(
                "memory limit exceeded: the call held more than {} MiB",
                limits.max_memory_mb
            ),
        ),
        E::ErrorTerminated(token, _) if token.to_string() == CALLS_TOKEN => limit(
            "max_api_calls",
            format!(
                "call limit exceeded: the script made more than {} calls to Telegram or TDLib",
                limits.max_api_calls
            ),
        ),
        E::ErrorStackOverflow(_) => limit(
            "max_call_levels",
            format!(
                "call depth limit exceeded: more than {} nested function calls",
                limits.max_call_levels
            ),
        ),
        E::ErrorTooManyModules(_) => limit(
            "max_modules",
            format!(
                "module limit exceeded: more than {} imports",
                limits.max_modules
            ),
        ),
        E::ErrorDataTooLarge(what, _) if what.starts_with("Length of string") => limit(
            "max_string_size",
            format!(
                "string size limit exceeded: a string (or the strings and map keys of one value together) grew past {} bytes",
                limits.max_string_size
            ),
        ),
        E::ErrorDataTooLarge(what, _) if what.starts_with("Size of array") => limit(
            "max_array_size",
            format!(
                "array size limit exceeded: an array grew past {} items",
                limits.max_array_size
            ),
        ),
        E::ErrorDataTooLarge(what, _) if what.starts_with("Size of object map") => limit(
            "max_map_size",
            format!(
                "map size limit exceeded: a map grew past {} entries",
                limits.max_map_size
            ),
        ),
        E::ErrorRuntime(value, _) => (thrown_text(value), None),
        other => (other.to_string(), None),
    }
}

/// A thrown value as text: strings as they are, a builtin's `#{command, error, code, hint}`
/// as a sentence, other maps and arrays as JSON.
fn thrown_text(value: &Dynamic) -> String {
    if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        return s.to_string();
    }
    if let Some(map) = value.read_lock::<rhai::Map>()
        && let (Some(command), Some(error)) = (map.get("command"), map.get("error"))
    {
        let mut text = format!("{command}: {error}");
        if let Some(code) = map.get("code") {
            text.push_str(&format!(" (code {code})"));
        }
        if let Some(hint) = map.get("hint") {
            text.push_str(&format!(" — {hint}"));
        }
        return text;
    }
    if (value.is_map() || value.is_array())
        && let Ok(json) = serde_json::to_string(value)
    {
        return json;
    }
    value.to_string()
}

/// What a call stopped for running past `[limits] wall_timeout_ms` (`wall_ms`) is told.
pub(crate) fn wall_exceeded(wall_ms: u64) -> String {
    format!(
        "wall time limit exceeded: the call ran longer than {wall_ms} ms, waits on Telegram, TDLib and HTTP included"
    )
}

/// `reply takes 1 or 2 arguments, this call gives 5`: a call no overload of `name` (taking
/// `arities` arguments) takes, in `check`'s words and a running script's alike.
pub fn wrong_count(name: &str, arities: &BTreeSet<usize>, given: usize) -> String {
    let counts: Vec<String> = arities.iter().map(usize::to_string).collect();
    let takes = match counts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => "no".to_string(),
    };
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "{name} takes {takes} argument{}, this call gives {given}",
        plural(arities.iter().next_back().copied().unwrap_or(0))
    )
}

/// Rhai's `Function not found: send_message (&str | …, i64)` for a function `known` has, called
/// with a number of arguments none of its overloads takes: [`wrong_count`]'s words instead.
pub(crate) fn arity_words(message: &str, known: &super::KnownFunctions) -> Option<String> {
    let signature = message.strip_prefix("Function not found: ")?;
    let (name, args) = signature.split_once(" (")?;
    let args = args.strip_suffix(')')?;
    let given = match args.trim() {
        "" => 0,
        args => args.split(", ").count(),
    };
    let arities = known.get(name).filter(|a| !a.is_empty())?;
    (!arities.contains(&given)).then(|| wrong_count(name, arities, given))
}
