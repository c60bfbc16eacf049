//! State builtins: `chat_get/set/delete`, `user_…`, `member_…` and `global_…`, each acting on
//! the current update's chat / user unless ids are given, in the calling scenario's namespace.

use super::{CallContext, RhaiResult};
use crate::store::{StateOp, StateScope, shared_namespace};
use rhai::{Dynamic, EvalAltResult, Module, Position};
use serde_json::Value;

fn fail(message: String) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(message.into(), Position::NONE).into()
}

/// How deep maps and arrays may nest in a state value (JSON read back stops at 128).
const MAX_STATE_DEPTH: usize = 64;

/// A state value must be plain data: no functions, timestamps or other host types, nested at
/// most [`MAX_STATE_DEPTH`] deep.
pub(super) fn to_plain_json(value: &Dynamic, path: &str) -> Result<Value, String> {
    plain_json(value, path, 0)
}

fn plain_json(value: &Dynamic, path: &str, depth: usize) -> Result<Value, String> {
    let nested = value.is_array() || value.is_map();
    if nested && depth >= MAX_STATE_DEPTH {
        return Err(format!(
            "{path} is nested more than {MAX_STATE_DEPTH} maps or arrays deep: state holds flatter values"
        ));
    }
    if let Some(array) = value.read_lock::<rhai::Array>() {
        return array
            .iter()
            .enumerate()
            .map(|(i, v)| plain_json(v, &format!("{path}[{i}]"), depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if let Some(map) = value.read_lock::<rhai::Map>() {
        return map
            .iter()
            .map(|(k, v)| {
                plain_json(v, &format!("{path}.{k}"), depth + 1).map(|j| (k.to_string(), j))
            })
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
        .and_then(crate::request::as_int)
        .ok_or_else(|| fail(format!("{what} must be an integer")))
}

/// The namespace of scripts run once (`exec`, the REPL, the gateway's `run_script`).
pub const ONE_OFF_NAMESPACE: &str = "main";

/// The calling scenario's namespace ([`ONE_OFF_NAMESPACE`] for one-off scripts).
fn namespace(ctx: &CallContext) -> String {
    ctx.scenario
        .as_deref()
        .map_or_else(|| ONE_OFF_NAMESPACE.to_string(), str::to_string)
}

// State goes through the call's effects: journaled when a handler runs from the inbox (run
// again after a crash, a handler reads what it read and does not write twice).

fn get_in(ctx: &CallContext, namespace: String, scope: StateScope, key: &str) -> RhaiResult {
    let op = StateOp::Get {
        namespace,
        scope,
        key: key.to_string(),
    };
    match ctx.effects.state(&op).map_err(|e| fail(e.to_string()))? {
        Value::Null => Ok(Dynamic::UNIT),
        value => rhai::serde::to_dynamic(value),
    }
}

fn set_in(
    ctx: &CallContext,
    namespace: String,
    scope: StateScope,
    key: &str,
    value: &Dynamic,
) -> RhaiResult {
    let op = StateOp::Set {
        namespace,
        scope,
        key: key.to_string(),
        value: to_plain_json(value, key).map_err(fail)?,
    };
    ctx.effects.state(&op).map_err(|e| fail(e.to_string()))?;
    Ok(Dynamic::UNIT)
}

fn delete_in(ctx: &CallContext, namespace: String, scope: StateScope, key: &str) -> RhaiResult {
    let op = StateOp::Delete {
        namespace,
        scope,
        key: key.to_string(),
    };
    let was_set = ctx.effects.state(&op).map_err(|e| fail(e.to_string()))?;
    Ok(was_set.as_bool().unwrap_or(false).into())
}

fn current_chat(ctx: &CallContext) -> Result<i64, Box<EvalAltResult>> {
    current_id("chat", ctx.update.as_ref().and_then(|u| u.chat_id))
}

fn current_user(ctx: &CallContext) -> Result<i64, Box<EvalAltResult>> {
    current_id("user", ctx.update.as_ref().and_then(|u| u.user_id))
}

const CHAT_DOC: &str = r#"
Values kept for a chat (the current one unless `chat_id` is given), in this scenario's own
namespace. `chat_get` returns `()` for a key never set; `chat_set` stores any plain value (map,
array, string, number, bool; at most 64 KiB as JSON; `()` deletes); `chat_delete` returns
whether the key was set. State is kept in the state database (`[store] path`, or PostgreSQL with `[store] url`): it survives
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
    /// The namespace every scenario sees.
    Shared,
}

impl Target {
    /// The ids a call may give explicitly, as documented parameters.
    fn id_params(self) -> &'static [&'static str] {
        match self {
            Target::Chat => &["chat_id: INT"],
            Target::User => &["user_id: INT"],
            Target::Member => &["chat_id: INT", "user_id: INT"],
            Target::Global | Target::Shared => &[],
        }
    }

    /// The namespace the family reaches: the calling scenario's, or the shared one.
    fn namespace(self, ctx: &CallContext) -> String {
        match self {
            Target::Shared => shared_namespace(&namespace(ctx)),
            _ => namespace(ctx),
        }
    }

    /// The scope for the given ids, or the current update's when none are given.
    fn scope(self, ctx: &CallContext, ids: &[Dynamic]) -> Result<StateScope, Box<EvalAltResult>> {
        Ok(match (self, ids) {
            (Target::Chat, []) => StateScope::Chat(current_chat(ctx)?),
            (Target::Chat, [chat, ..]) => StateScope::Chat(as_id(chat, "chat_id")?),
            (Target::User, []) => StateScope::User(current_user(ctx)?),
            (Target::User, [user, ..]) => StateScope::User(as_id(user, "user_id")?),
            (Target::Member, [chat, user, ..]) => {
                StateScope::Member(as_id(chat, "chat_id")?, as_id(user, "user_id")?)
            }
            (Target::Member, _) => StateScope::Member(current_chat(ctx)?, current_user(ctx)?),
            (Target::Global | Target::Shared, _) => StateScope::Global,
        })
    }
}

/// Register `<family>_get/_set/_delete` for the current update's scope and, where the family
/// takes ids, for explicit ones: each call's leading arguments are the ids, then the key (and
/// the value).
fn register_family(module: &mut Module, family: &str, target: Target, doc: &str) {
    let ids = target.id_params();
    let with_ids = |extra: &[&'static str]| -> Vec<&'static str> {
        ids.iter().chain(extra).copied().collect()
    };
    let get_params = ["key: String", "Dynamic"];
    let set_params = ["key: String", "value: Dynamic", "()"];
    let delete_params = ["key: String", "bool"];
    let get = move |ctx: &CallContext, mut args: Vec<Dynamic>| {
        let key = pop_key(&mut args);
        get_in(ctx, target.namespace(ctx), target.scope(ctx, &args)?, &key)
    };
    let set = move |ctx: &CallContext, mut args: Vec<Dynamic>| {
        let value = args.pop().unwrap_or_default();
        let key = pop_key(&mut args);
        set_in(
            ctx,
            target.namespace(ctx),
            target.scope(ctx, &args)?,
            &key,
            &value,
        )
    };
    let delete = move |ctx: &CallContext, mut args: Vec<Dynamic>| {
        let key = pop_key(&mut args);
        delete_in(ctx, target.namespace(ctx), target.scope(ctx, &args)?, &key)
    };
    let overloads = |params: &[&'static str]| -> Vec<Vec<&'static str>> {
        let mut all = vec![params.to_vec()];
        if !ids.is_empty() {
            all.push(with_ids(params));
        }
        all
    };
    register_family_fn(
        module,
        &format!("{family}_get"),
        &overloads(&get_params),
        doc,
        get,
    );
    register_family_fn(
        module,
        &format!("{family}_set"),
        &overloads(&set_params),
        doc,
        set,
    );
    register_family_fn(
        module,
        &format!("{family}_delete"),
        &overloads(&delete_params),
        doc,
        delete,
    );
}

/// The key: the last argument left (the value, if any, taken before).
fn pop_key(args: &mut Vec<Dynamic>) -> String {
    args.pop()
        .and_then(|key| key.into_string().ok())
        .unwrap_or_default()
}

/// Register one state builtin per parameter list; the key parameter is a string.
fn register_family_fn(
    module: &mut Module,
    name: &str,
    overloads: &[Vec<&'static str>],
    doc: &str,
    run: impl Fn(&CallContext, Vec<Dynamic>) -> RhaiResult + Send + Sync + Clone + 'static,
) {
    let lists: Vec<&[&'static str]> = overloads.iter().map(Vec::as_slice).collect();
    let shown = name.to_string();
    super::register_overloads(module, name, &lists, doc, move |ctx, args| {
        if let Some((_, key)) = args.values.iter().find(|(n, _)| *n == "key")
            && !key.is_string()
        {
            return Err(fail(format!(
                "{shown}: the key must be a string, not a {}",
                key.type_name()
            )));
        }
        run(ctx, args.values.into_iter().map(|(_, v)| v).collect())
    });
}

pub(super) fn register(module: &mut Module) {
    register_family(module, "chat", Target::Chat, CHAT_DOC);
    register_family(module, "user", Target::User, USER_DOC);
    register_family(module, "member", Target::Member, MEMBER_DOC);
    register_family(module, "global", Target::Global, GLOBAL_DOC);
    register_family(module, "shared", Target::Shared, SHARED_DOC);
}
