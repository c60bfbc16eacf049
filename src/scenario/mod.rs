//! Scenarios: the `.rhai` files `tgscript run` loads, each compiled with its imports embedded,
//! checked to hold only declarations at the top level, and called through its handlers.

mod albums;
mod declared;
pub mod dispatch;
pub mod registry;
pub mod route;
pub mod runner;
pub mod watch;

pub use declared::Declared;

use crate::engine::resolver::{Import, digest};
use crate::engine::{ScriptEngine, ScriptError};
use crate::telegram::UpdateKind;
use rhai::{AST, Stmt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The handler functions a scenario may define: one per kind of update (the table of
/// [`UpdateKind::spec`]: `on_message`, `on_edited_message`, `on_pre_checkout_query`, …; both
/// member kinds share `on_chat_member`), and those tgscript adds around them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum Handler {
    /// `fn on_load()`: once per (re)load, before the version goes live.
    OnLoad,
    /// `fn on_command(cmd, args, msg)`
    OnCommand,
    /// `fn on_successful_payment(msg)`: a message that carries `successful_payment`.
    OnSuccessfulPayment,
    /// `fn on_album(messages)`: every part of an album at once.
    OnAlbum,
    /// The named handler of a kind of update (its first kind, for handlers two kinds share).
    Of(UpdateKind),
    /// `fn on_update(update)`: any other update, raw.
    OnUpdate,
    /// `fn on_account_update(account_id, update)`: an event of a user account.
    OnAccountUpdate,
}

/// Every handler, in the order the docs list them.
static ALL: std::sync::LazyLock<Vec<Handler>> = std::sync::LazyLock::new(|| {
    let mut all = vec![Handler::OnLoad, Handler::Of(UpdateKind::Message)];
    all.extend([
        Handler::OnCommand,
        Handler::OnSuccessfulPayment,
        Handler::OnAlbum,
    ]);
    let kinds = UpdateKind::ALL.iter().map(|&kind| Handler::of(kind));
    for handler in kinds {
        if !all.contains(&handler) {
            all.push(handler);
        }
    }
    all.extend([Handler::OnUpdate, Handler::OnAccountUpdate]);
    all
});

impl Handler {
    /// Every handler: `on_load`, then one per kind of update with `on_command`,
    /// `on_successful_payment` and `on_album` after `on_message`, then `on_update` and `on_account_update`.
    pub fn all() -> &'static [Handler] {
        &ALL
    }

    /// The handler updates of `kind` go to.
    pub fn of(kind: UpdateKind) -> Handler {
        let name = kind.spec().handler;
        let first = UpdateKind::ALL
            .iter()
            .copied()
            .find(|k| k.spec().handler == name)
            .unwrap_or(kind);
        Handler::Of(first)
    }

    /// The handler named `name`, if one is.
    pub fn named(name: &str) -> Option<Handler> {
        Self::all().iter().copied().find(|h| h.name() == name)
    }

    /// The function's name in the script.
    pub fn name(self) -> &'static str {
        match self {
            Handler::OnLoad => "on_load",
            Handler::OnCommand => "on_command",
            Handler::OnSuccessfulPayment => "on_successful_payment",
            Handler::OnAlbum => "on_album",
            Handler::Of(kind) => kind.spec().handler,
            Handler::OnUpdate => "on_update",
            Handler::OnAccountUpdate => "on_account_update",
        }
    }

    /// What it is called for, in a sentence.
    pub fn doc(self) -> String {
        match self {
            Handler::OnLoad => "once when the scenario is loaded or reloaded".into(),
            Handler::OnCommand => {
                "a message that starts with /name (\"/warn@this_bot 3 \\\"for spam\\\"\" → \"warn\", [\"3\", \"for spam\"]; a command to another bot is an ordinary message)".into()
            }
            Handler::OnSuccessfulPayment => {
                "a message saying a payment went through (msg.successful_payment: currency, total_amount, invoice_payload, telegram_payment_charge_id); it goes here instead of on_message".into()
            }
            Handler::OnAlbum => {
                "an album (photos, videos, documents or audio sent together: messages sharing msg.media_group_id), once, with every part in order, once no part has come for [scripts] album_wait_ms; a scenario that has it gets album parts only here, and later updates of the chat wait for it".into()
            }
            Handler::Of(kind) => {
                let name = kind.spec().handler;
                let docs: Vec<&str> = UpdateKind::ALL
                    .iter()
                    .map(|k| k.spec())
                    .filter(|spec| spec.handler == name)
                    .map(|spec| spec.doc)
                    .collect();
                docs.join("; or ")
            }
            Handler::OnUpdate => {
                let named: Vec<&str> = UpdateKind::ALL
                    .iter()
                    .filter(|k| !k.spec().else_on_update)
                    .map(|k| k.spec().handler)
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                format!(
                    "an update the scenario has no named handler for, whole (an update of a kind newer than this build too); {} get only their own",
                    named.join(", ")
                )
            }
            Handler::OnAccountUpdate => {
                "an event of a user account: updateAuthorizationState, updateUnconfirmedSession, and the types in const ACCOUNT_UPDATES".into()
            }
        }
    }

    /// Its parameters.
    pub fn params(self) -> Vec<&'static str> {
        match self {
            Handler::OnLoad => vec![],
            Handler::OnCommand => vec!["cmd", "args", "msg"],
            Handler::OnSuccessfulPayment => vec!["msg"],
            Handler::OnAlbum => vec!["messages"],
            Handler::Of(kind) => vec![kind.spec().param],
            Handler::OnUpdate => vec!["update"],
            Handler::OnAccountUpdate => vec!["account_id", "update"],
        }
    }
}

impl From<Handler> for &'static str {
    fn from(handler: Handler) -> Self {
        handler.name()
    }
}

impl TryFrom<String> for Handler {
    type Error = String;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        Handler::named(&name).ok_or_else(|| format!("no handler is named {name}"))
    }
}

impl std::fmt::Display for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One loaded scenario file.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// File name, e.g. `anti_spam.rhai` (scenarios run in file-name order).
    pub name: String,
    /// Path of the file.
    pub path: PathBuf,
    /// The compiled script, imports embedded; `None` when it was compiled in a worker process
    /// (see [`runner`]), which keeps its own.
    pub ast: Option<Arc<AST>>,
    /// The handlers it defines.
    pub handlers: Vec<Handler>,
    /// Its state namespace: its bot's prefix and its `const STATE`, else the file name
    /// without `.rhai`. Its jobs belong to it too.
    pub namespace: Arc<str>,
    /// Module files it imported from the scenario folder (its own file aside).
    pub imports: Vec<PathBuf>,
    /// Hash of its source and its imports' sources when it was compiled.
    pub fingerprint: u64,
    /// What it declares in constants (`ACCOUNT_UPDATES`, `CALLBACKS`, `STATE`).
    pub declared: Declared,
}

/// The account update types every `on_account_update` gets.
pub const DEFAULT_ACCOUNT_UPDATES: &[&str] = &[
    crate::accounts::auth::UPDATE_AUTHORIZATION_STATE,
    crate::accounts::auth::UPDATE_UNCONFIRMED_SESSION,
];

impl Scenario {
    /// The same scenario with its state namespace under `prefix` (see [`crate::store::namespace_prefix`]).
    pub fn with_namespace_prefix(mut self, prefix: &str) -> Self {
        if !prefix.is_empty() {
            self.namespace = format!("{prefix}{}", self.namespace).into();
        }
        self
    }

    /// Compile and check the scenario at `path`; the first problem refuses it (see
    /// [`Scenario::problems`] for all of them).
    pub fn load(engine: &ScriptEngine, path: &Path) -> Result<Scenario, ScriptError> {
        Self::examine(engine, path).map_err(|mut problems| problems.remove(0))
    }

    /// Every problem a load refuses the scenario at `path` for, in order (none: it loads).
    /// `tgscript check` reports these, so nothing passes it that a load refuses.
    pub fn problems(engine: &ScriptEngine, path: &Path) -> Vec<ScriptError> {
        Self::examine(engine, path).err().unwrap_or_default()
    }

    /// Compile the scenario at `path` and run every check on it: a file that cannot be read
    /// or compiled (imports included) stops there; otherwise the top level, the handlers'
    /// names and parameters, `ACCOUNT_UPDATES` and the functions it calls are all checked.
    fn examine(engine: &ScriptEngine, path: &Path) -> Result<Scenario, Vec<ScriptError>> {
        let shown = path.display().to_string();
        let source = engine.read_scenario(path).map_err(|e| vec![e])?;
        let (ast, imports) = engine
            .compile_self_contained(&source, &shown)
            .map_err(|e| vec![e])?;
        let mut problems = declarations_only(&ast, &shown);
        let handlers = handlers(&ast, &shown, &mut problems);
        let declared = Declared::read(&ast, &shown, &mut problems);
        problems.extend(
            crate::check::call_problems(&ast, &engine.known_functions())
                .into_iter()
                .map(|e| e.in_file(&shown)),
        );
        if !problems.is_empty() {
            return Err(problems);
        }
        let fingerprint = fingerprint_of(source.as_bytes(), &imports);
        let imports = imports.into_iter().map(|import| import.path).collect();
        let mut scenario =
            Scenario::compiled_elsewhere(path, handlers, imports, fingerprint, declared);
        scenario.ast = Some(Arc::new(ast));
        Ok(scenario)
    }

    /// The scenario at `path` as a worker process compiled it: what it has, not its code.
    pub fn compiled_elsewhere(
        path: &Path,
        handlers: Vec<Handler>,
        imports: Vec<PathBuf>,
        fingerprint: u64,
        declared: Declared,
    ) -> Scenario {
        let shown = path.display().to_string();
        Scenario {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| shown.clone()),
            namespace: match &declared.state {
                Some(state) => state.as_str().into(),
                None => path
                    .file_stem()
                    .map(|n| n.to_string_lossy().into())
                    .unwrap_or_else(|| shown.as_str().into()),
            },
            path: path.to_path_buf(),
            ast: None,
            handlers,
            fingerprint,
            imports,
            declared,
        }
    }

    /// Whether the scenario defines `handler`.
    pub fn has(&self, handler: Handler) -> bool {
        self.handlers.contains(&handler)
    }

    /// Whether its `on_account_update` takes account updates of type `kind`.
    pub fn takes_account_update(&self, kind: &str) -> bool {
        self.has(Handler::OnAccountUpdate)
            && (DEFAULT_ACCOUNT_UPDATES.contains(&kind)
                || self.declared.account_updates.iter().any(|k| k == kind))
    }

    /// Whether it owns a press of a button with `data` (it declared a prefix of it in
    /// `CALLBACKS`).
    pub fn owns_callback(&self, data: &str) -> bool {
        self.declared
            .callbacks
            .iter()
            .any(|prefix| data.starts_with(prefix.as_str()))
    }
}

/// A hash of the file at `path` and of the module files it imports (`None` if `path` cannot
/// be read: deleted, or being replaced): what [`Scenario::load`] made of them, read again here
/// on the host.
pub fn fingerprint(path: &Path, imports: &[PathBuf]) -> Option<u64> {
    let imports: Vec<Import> = imports
        .iter()
        .map(|path| Import {
            path: path.clone(),
            digest: digest(&std::fs::read(path).unwrap_or_default()),
        })
        .collect();
    Some(fingerprint_of(&std::fs::read(path).ok()?, &imports))
}

/// A hash of `source` and of the module files it imported.
fn fingerprint_of(source: &[u8], imports: &[Import]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    source.hash(&mut hasher);
    for import in imports {
        import.path.hash(&mut hasher);
        import.digest.hash(&mut hasher);
    }
    hasher.finish()
}

/// The scenario files of `dir`: `*.rhai` directly inside it, in file-name order (modules go in
/// sub-folders and are imported, not run). A file that links out of the folder is skipped,
/// with a warning: what runs is what the folder holds.
pub fn scenario_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let real_dir = dir.canonicalize()?;
    let inside = |path: &Path| {
        let inside = path
            .canonicalize()
            .is_ok_and(|real| real.starts_with(&real_dir));
        if !inside {
            tracing::warn!(
                "{} links outside {}: not loaded",
                path.display(),
                dir.display()
            );
        }
        inside
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && crate::engine::folder::is_script(p))
        .filter(|p| inside(p))
        .collect();
    files.sort();
    Ok(files)
}

/// A scenario's top level may hold only `import`, `const` and `fn`: start-up work belongs in
/// `fn on_load()`, which runs once per (re)load. One error per other statement.
/// The handlers `ast` defines when it is a scenario and nothing else: a top level of
/// declarations only, so running it once (`exec`) would do nothing. `None` otherwise.
pub fn scenario_handlers(ast: &AST) -> Option<Vec<&'static str>> {
    let handlers: Vec<&'static str> = Handler::all()
        .iter()
        .map(|h| h.name())
        .filter(|name| ast.iter_functions().any(|f| f.name == *name))
        .collect();
    (!handlers.is_empty() && declarations_only(ast, "").is_empty()).then_some(handlers)
}

fn declarations_only(ast: &AST, file: &str) -> Vec<ScriptError> {
    ast.statements()
        .iter()
        .filter(|stmt| match stmt {
            Stmt::Import(..) | Stmt::Noop(..) => false,
            Stmt::Var(_, flags, _) => !flags.intersects(rhai::ASTFlags::CONSTANT),
            _ => true,
        })
        .map(|stmt| {
            ScriptError::new(
                "a scenario's top level may only hold import, const and fn declarations: move this into fn on_load()",
            )
            .in_file(file)
            .at(stmt.position())
        })
        .collect()
}

/// The handlers `ast` defines; a handler with the wrong parameters, and an `on_*` function
/// that is no handler and that nothing calls (a misspelled handler, most likely), are
/// problems.
fn handlers(ast: &AST, file: &str, problems: &mut Vec<ScriptError>) -> Vec<Handler> {
    let mut found = Vec::new();
    let called = called_names(ast);
    for f in ast.iter_functions() {
        let name = f.name;
        let at = |message: String| ScriptError::new(message).in_file(file);
        match Handler::named(name) {
            Some(handler) if f.params.len() == handler.params().len() => found.push(handler),
            Some(handler) => {
                let params = handler.params();
                problems.push(at(format!(
                    "{name} takes {} parameter{} ({}), this one takes {}",
                    params.len(),
                    if params.len() == 1 { "" } else { "s" },
                    params.join(", "),
                    f.params.len()
                )));
            }
            None if name.starts_with("on_") && !called.contains(name) => {
                let names: Vec<&str> = Handler::all().iter().map(|h| h.name()).collect();
                let hint = crate::check::closest_name(name, names.iter().copied())
                    .map(|close| format!("did you mean '{close}'? "))
                    .unwrap_or_default();
                problems.push(at(format!(
                    "fn {name} is not a handler and nothing calls it: {hint}(handlers: {})",
                    names.join(", ")
                )));
            }
            None => {}
        }
    }
    found.sort_by_key(|h| Handler::all().iter().position(|x| x == h));
    found
}

/// The names of the functions `ast` calls.
fn called_names(ast: &AST) -> std::collections::BTreeSet<String> {
    let mut called = std::collections::BTreeSet::new();
    ast.walk(&mut |path: &[rhai::ASTNode]| {
        match path.last() {
            Some(rhai::ASTNode::Stmt(Stmt::FnCall(call, _)))
            | Some(rhai::ASTNode::Expr(rhai::Expr::FnCall(call, _))) => {
                called.insert(call.name.to_string());
            }
            Some(rhai::ASTNode::Expr(rhai::Expr::StringConstant(s, _))) => {
                // Fn("name") and call("name") name a function by its string.
                called.insert(s.to_string());
            }
            _ => {}
        }
        true
    });
    called
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_listed_handler_and_each_name_is_one_handler() {
        let all = Handler::all();
        for kind in UpdateKind::ALL {
            assert!(all.contains(&Handler::of(*kind)), "{}", kind.key());
            assert_eq!(Handler::of(*kind).name(), kind.spec().handler);
        }
        let names: std::collections::BTreeSet<&str> = all.iter().map(|h| h.name()).collect();
        assert_eq!(names.len(), all.len());
        for handler in all {
            let sent = serde_json::to_value(handler).unwrap_or_default();
            assert_eq!(sent, handler.name());
            assert_eq!(serde_json::from_value::<Handler>(sent).ok(), Some(*handler));
        }
        assert_eq!(
            Handler::of(UpdateKind::MyChatMember),
            Handler::of(UpdateKind::ChatMember)
        );
        assert!(serde_json::from_value::<Handler>("on_nothing".into()).is_err());
    }
}
