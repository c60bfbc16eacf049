//! What a scenario declares about itself in constants, read at load: the account updates it
//! takes (`ACCOUNT_UPDATES`), the button data it owns (`CALLBACKS`) and a state name that
//! survives a rename (`STATE`).

use crate::engine::ScriptError;
use rhai::{AST, Stmt};

/// The constant that lists more account update types.
pub const ACCOUNT_UPDATES: &str = "ACCOUNT_UPDATES";
/// The constant that lists the callback data prefixes a scenario owns.
pub const CALLBACKS: &str = "CALLBACKS";
/// The constant that names a scenario's state (and jobs) apart from its file name.
pub const STATE: &str = "STATE";

/// A scenario's declarations.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Declared {
    /// The account update types `on_account_update` takes besides the default ones.
    #[serde(default)]
    pub account_updates: Vec<String>,
    /// The callback data prefixes it owns: it gets only button presses whose data starts
    /// with one of them (empty: every press no other scenario owns).
    #[serde(default)]
    pub callbacks: Vec<String>,
    /// Its state name, when it declares one (else its file name without `.rhai`).
    #[serde(default)]
    pub state: Option<String>,
}

impl Declared {
    /// Read the declarations of `ast` (from `file`); every malformed one is a problem.
    pub fn read(ast: &AST, file: &str, problems: &mut Vec<ScriptError>) -> Declared {
        let mut declared = Declared::default();
        let list = |value: rhai::Dynamic| {
            value
                .into_typed_array::<rhai::ImmutableString>()
                .ok()
                .map(|items| items.into_iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        const UPDATES_HINT: &str = "a list of TDLib update type names, e.g. [\"updateNewMessage\"]";
        const CALLBACKS_HINT: &str = "a list of callback data prefixes, e.g. [\"gate:\"]";
        const STATE_HINT: &str =
            "a name for the scenario's state, e.g. \"anti_spam\" (letters, digits, _ and -)";
        for (name, hint) in [
            (ACCOUNT_UPDATES, UPDATES_HINT),
            (CALLBACKS, CALLBACKS_HINT),
            (STATE, STATE_HINT),
        ] {
            let Some((value, position)) = constant(ast, name) else {
                continue;
            };
            let read = value.and_then(|value| match name {
                ACCOUNT_UPDATES => list(value).map(|v| declared.account_updates = v),
                CALLBACKS => list(value)
                    .filter(|v| v.iter().all(|p| !p.is_empty()))
                    .map(|v| declared.callbacks = v),
                _ => value
                    .into_immutable_string()
                    .ok()
                    .filter(|s| valid_state_name(s))
                    .map(|s| declared.state = Some(s.to_string())),
            });
            if read.is_none() {
                problems.push(wrong(name, hint, file, position));
            }
        }
        declared
    }
}

/// Whether `name` can name a scenario's state: 1 to 64 letters, digits, `_` and `-`.
fn valid_state_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The value of top-level `const NAME = …;` (`None` inside: not a literal) and where it is.
fn constant(ast: &AST, name: &str) -> Option<(Option<rhai::Dynamic>, rhai::Position)> {
    ast.statements().iter().find_map(|stmt| match stmt {
        Stmt::Var(var, _, position) if var.0.name == name => {
            Some((var.1.get_literal_value(None), *position))
        }
        _ => None,
    })
}

fn wrong(name: &str, hint: &str, file: &str, position: rhai::Position) -> ScriptError {
    ScriptError::new(format!("{name} must be {hint}"))
        .in_file(file)
        .at(position)
}
