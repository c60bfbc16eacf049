//! Chat builtins (Bot API): every action of [`crate::commands::chat::ACTIONS`], one Rhai
//! function per overload the table lists, plus the pure `chat_permissions`.
//!
//! Every chat builtin acts on the current update's chat unless a leading `chat_id` (an
//! integer or `"@username"`) is given; outside a handler the `chat_id` is required.

use super::{RhaiResult, answer, builtin, register_overloads, request, throw, to_dynamic};
use crate::commands::chat::ACTIONS;
use crate::request::CommandError;
use rhai::{Array, Module};
use serde_json::Value;

const CHAT_PERMISSIONS: &str = r#"
The `ChatPermissions` map `tg_chat_permission` would send for these flags, without sending
anything: for the REPL and for debugging.

# Example
```rhai
let p = chat_permissions([1, 0, 1, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]);
p.can_send_photos     // false: media needs send_media_messages
```
"#;

pub(super) fn register(module: &mut Module) {
    for action in ACTIONS {
        let name = action.name;
        register_overloads(
            module,
            name,
            action.overloads,
            action.doc,
            move |ctx, args| {
                let request = request(name, args.values, "Telegram")?;
                answer(|| action.run(&*ctx.effects, &request, ctx.update.as_deref()))
            },
        );
    }

    builtin(
        "chat_permissions",
        &["permission: Array", "media_permissions: Array", "Map"],
        CHAT_PERMISSIONS,
    )
    .with_volatility(false)
    .set_into_module(module, |p: Array, m: Array| -> RhaiResult {
        let to_json = |a: Array| serde_json::to_value(a).unwrap_or(Value::Null);
        crate::telegram::permissions::from_flag_lists(&to_json(p), &to_json(m))
            .map_err(|e| throw(&CommandError::invalid("chat_permissions", e)))
            .and_then(|map| to_dynamic(Value::Object(map)))
    });
}
