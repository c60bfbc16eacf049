//! State builtins: `chat_get/set/delete`, `user_…`, `member_…` and `global_…`, each acting on
//! the current update's chat / user unless ids are given, in the calling scenario's namespace.

use super::builtin;
use crate::engine::run;
use crate::host::Host;
use crate::inbox::journal;
use crate::store::{self, SHARED_NAMESPACE, StateScope};
use rhai::{Dynamic, Engine, EvalAltResult, Position};
use serde_json::Value;
use std::sync::Arc;

type RhaiResult = Result<Dynamic, Box<EvalAltResult>>;

fn fail(message: String) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(message.into(), Position::NONE).into()
}

/// A state value must be plain data: no functions, timestamps or other host types.
fn to_plain_json(value: &Dynamic, path: &str) -> Result<Value, String> {
    if let Some(array) = value.read_lock::<rhai::Array>() {
        return array
            .iter()
            .enumerate()
            .map(|(i, v)| to_plain_json(v, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if let Some(map) = value.read_lock::<rhai::Map>() {
        return map
            .iter()
            .map(|(k, v)| to_plain_json(v, &format!("{path}.{k}")).map(|j| (k.to_string(), j)))
            .collect::<Result<serde_json::Map<_, _>, _>>()
            .map(Value::Object);
    }
    let plain = value.is_unit()
        || value.is_bool()
        || value.is_int()
        || value.is_float()
        || value.is_string()
        || value.is_char();
    if !plain {
        return Err(format!(
            "{path} is a {}: state holds only maps, arrays, strings, numbers and booleans",
            value.type_name()
        ));
    }
    serde_json::to_value(value).map_err(|e| format!("{path} cannot be stored: {e}"))
}

fn current_id(kind: &str, id: Option<i64>) -> Result<i64, Box<EvalAltResult>> {
    id.ok_or_else(|| {
        fail(format!(
            "no current {kind}: pass the {kind} id as the first argument (outside a handler there is no current update)"
        ))
    })
}

/// An id given as an integer or a string of digits, read the way the command layer reads ids.
fn as_id(value: &Dynamic, what: &str) -> Result<i64, Box<EvalAltResult>> {
    serde_json::to_value(value)
        .ok()
        .as_ref()
        .and_then(crate::commands::as_int)
        .ok_or_else(|| fail(format!("{what} must be an integer")))
}

fn namespace() -> String {
    run::current_scenario().map_or_else(|| "main".to_string(), |s| s.to_string())
}

// State calls are journaled when a handler runs from the inbox (see `crate::inbox::journal`):
// run again after a crash, a handler reads what it read and does not write twice.

fn get_in(host: &Host, namespace: &str, scope: StateScope, key: &str) -> RhaiResult {
    let value = journal::read(
        || format!("state get {namespace} {scope:?} {key}"),
        || {
            Ok(host
                .store()
                .get(namespace, scope, key)?
                .unwrap_or(Value::Null))
        },
    )
    .map_err(fail)?;
    match value {
        Value::Null => Ok(Dynamic::UNIT),
        value => rhai::serde::to_dynamic(value),
    }
}

fn set_in(
    host: &Host,
    namespace: &str,
    scope: StateScope,
    key: &str,
    value: &Dynamic,
) -> RhaiResult {
    let json = to_plain_json(value, key).map_err(fail)?;
    journal::write(
        host.store(),
        || format!("state set {namespace} {scope:?} {key} {json}"),
        |tx| store::set_on(tx, namespace, scope, key, json.clone()).map(|()| Value::Null),
    )
    .map_err(fail)?;
    Ok(Dynamic::UNIT)
}

fn delete_in(host: &Host, namespace: &str, scope: StateScope, key: &str) -> RhaiResult {
    let was_set = journal::write(
        host.store(),
        || format!("state delete {namespace} {scope:?} {key}"),
        |tx| store::delete_on(tx, namespace, scope, key).map(Value::Bool),
    )
    .map_err(fail)?;
    Ok(was_set.as_bool().unwrap_or(false).into())
}

fn get(host: &Host, scope: StateScope, key: &str) -> RhaiResult {
    get_in(host, &namespace(), scope, key)
}

fn set(host: &Host, scope: StateScope, key: &str, value: &Dynamic) -> RhaiResult {
    set_in(host, &namespace(), scope, key, value)
}

fn delete(host: &Host, scope: StateScope, key: &str) -> RhaiResult {
    delete_in(host, &namespace(), scope, key)
}

fn current_chat() -> Result<i64, Box<EvalAltResult>> {
    current_id("chat", run::current_update().and_then(|u| u.chat_id))
}

fn current_user() -> Result<i64, Box<EvalAltResult>> {
    current_id("user", run::current_update().and_then(|u| u.user_id))
}

const CHAT_DOC: &str = r#"
Values kept for a chat (the current one unless `chat_id` is given), in this scenario's own
namespace. `chat_get` returns `()` for a key never set; `chat_set` stores any plain value (map,
array, string, number, bool; at most 64 KiB as JSON; `()` deletes); `chat_delete` returns
whether the key was set. State is kept in the state database (`[store] path`): it survives
restarts and reloads, and a write is durable when the call returns. A handler that `run`
starts again for the same update (after a crash or a failed try) gets its earlier reads back
and does not write twice.

# Example
```rhai
let rules = chat_get("rules") ?? "be nice";
chat_set("rules", "no spam");
```
"#;

const USER_DOC: &str = r#"
Values kept for a user across chats (the current update's user unless `user_id` is given), in
this scenario's own namespace. Same rules as `chat_get`/`chat_set`/`chat_delete`.

# Example
```rhai
let warnings = (user_get("warnings") ?? 0) + 1;
user_set("warnings", warnings);
```
"#;

const MEMBER_DOC: &str = r#"
Values kept for one user in one chat (the current update's unless `chat_id, user_id` are
given), in this scenario's own namespace. Same rules as `chat_get`/`chat_set`/`chat_delete`.

# Example
```rhai
member_set("verified", true);
if member_get("verified") == true { print("passed the gate"); }
```
"#;

const SHARED_DOC: &str = r#"
Values every scenario sees: the one namespace scenarios share on purpose (the others keep
their state apart). Same rules as `chat_get`/`chat_set`/`chat_delete`.

# Example
```rhai
shared_set("maintenance", true);
if shared_get("maintenance") == true { return; }
```
"#;

const GLOBAL_DOC: &str = r#"
Values kept for the whole scenario, whatever the chat. Same rules as
`chat_get`/`chat_set`/`chat_delete`.

# Example
```rhai
global_set("started_at", now());
```
"#;

/// Whose state a family of builtins reaches.
#[derive(Clone, Copy)]
enum Target {
    Chat,
    User,
    Member,
    Global,
}

impl Target {
    /// The ids a call may give explicitly, as documented parameters.
    fn id_params(self) -> &'static [&'static str] {
        match self {
            Target::Chat => &["chat_id: INT"],
            Target::User => &["user_id: INT"],
            Target::Member => &["chat_id: INT", "user_id: INT"],
            Target::Global => &[],
        }
    }

    /// The scope for the given ids, or the current update's when none are given.
    fn scope(self, ids: &[Dynamic]) -> Result<StateScope, Box<EvalAltResult>> {
        Ok(match (self, ids) {
            (Target::Chat, []) => StateScope::Chat(current_chat()?),
            (Target::Chat, [chat, ..]) => StateScope::Chat(as_id(chat, "chat_id")?),
            (Target::User, []) => StateScope::User(current_user()?),
            (Target::User, [user, ..]) => StateScope::User(as_id(user, "user_id")?),
            (Target::Member, [chat, user, ..]) => {
                StateScope::Member(as_id(chat, "chat_id")?, as_id(user, "user_id")?)
            }
            (Target::Member, _) => StateScope::Member(current_chat()?, current_user()?),
            (Target::Global, _) => StateScope::Global,
        })
    }
}

/// Register `<family>_get/_set/_delete` for the current update's scope and, where the family
/// takes ids, for explicit ones.
fn register_family(engine: &mut Engine, host: &Arc<Host>, family: &str, target: Target, doc: &str) {
    let params = |extra: &[&'static str]| -> Vec<&'static str> {
        target.id_params().iter().chain(extra).copied().collect()
    };
    let (get_name, set_name, delete_name) = (
        format!("{family}_get"),
        format!("{family}_set"),
        format!("{family}_delete"),
    );

    let h = host.clone();
    builtin(&get_name, &["key: String", "Dynamic"], doc)
        .register_into_engine(engine, move |key: &str| get(&h, target.scope(&[])?, key));
    let h = host.clone();
    builtin(&set_name, &["key: String", "value: Dynamic", "()"], doc)
        .register_into_engine(engine, move |key: &str, value: Dynamic| {
            set(&h, target.scope(&[])?, key, &value)
        });
    let h = host.clone();
    builtin(&delete_name, &["key: String", "bool"], doc)
        .register_into_engine(engine, move |key: &str| delete(&h, target.scope(&[])?, key));

    let get_params = params(&["key: String", "Dynamic"]);
    let set_params = params(&["key: String", "value: Dynamic", "()"]);
    let delete_params = params(&["key: String", "bool"]);
    match target.id_params().len() {
        1 => {
            let h = host.clone();
            builtin(&get_name, &get_params, doc)
                .register_into_engine(engine, move |id: Dynamic, key: &str| {
                    get(&h, target.scope(&[id])?, key)
                });
            let h = host.clone();
            builtin(&set_name, &set_params, doc).register_into_engine(
                engine,
                move |id: Dynamic, key: &str, value: Dynamic| {
                    set(&h, target.scope(&[id])?, key, &value)
                },
            );
            let h = host.clone();
            builtin(&delete_name, &delete_params, doc)
                .register_into_engine(engine, move |id: Dynamic, key: &str| {
                    delete(&h, target.scope(&[id])?, key)
                });
        }
        2 => {
            let h = host.clone();
            builtin(&get_name, &get_params, doc).register_into_engine(
                engine,
                move |chat: Dynamic, user: Dynamic, key: &str| {
                    get(&h, target.scope(&[chat, user])?, key)
                },
            );
            let h = host.clone();
            builtin(&set_name, &set_params, doc).register_into_engine(
                engine,
                move |chat: Dynamic, user: Dynamic, key: &str, value: Dynamic| {
                    set(&h, target.scope(&[chat, user])?, key, &value)
                },
            );
            let h = host.clone();
            builtin(&delete_name, &delete_params, doc).register_into_engine(
                engine,
                move |chat: Dynamic, user: Dynamic, key: &str| {
                    delete(&h, target.scope(&[chat, user])?, key)
                },
            );
        }
        _ => {}
    }
}

pub(super) fn register(engine: &mut Engine, host: &Arc<Host>) {
    register_family(engine, host, "chat", Target::Chat, CHAT_DOC);
    register_family(engine, host, "user", Target::User, USER_DOC);
    register_family(engine, host, "member", Target::Member, MEMBER_DOC);
    register_family(engine, host, "global", Target::Global, GLOBAL_DOC);

    let h = host.clone();
    builtin("shared_get", &["key: String", "Dynamic"], SHARED_DOC)
        .register_into_engine(engine, move |key: &str| {
            get_in(&h, SHARED_NAMESPACE, StateScope::Global, key)
        });
    let h = host.clone();
    builtin(
        "shared_set",
        &["key: String", "value: Dynamic", "()"],
        SHARED_DOC,
    )
    .register_into_engine(engine, move |key: &str, value: Dynamic| {
        set_in(&h, SHARED_NAMESPACE, StateScope::Global, key, &value)
    });
    let h = host.clone();
    builtin("shared_delete", &["key: String", "bool"], SHARED_DOC)
        .register_into_engine(engine, move |key: &str| {
            delete_in(&h, SHARED_NAMESPACE, StateScope::Global, key)
        });
}
