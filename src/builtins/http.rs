//! Outbound HTTP builtins: every command of [`crate::commands::http::COMMANDS`], one Rhai
//! function per overload the table lists.

use super::{answer, register_overloads, request};
use crate::commands::http::{self, COMMANDS};
use rhai::Module;

pub(super) fn register(module: &mut Module) {
    for command in COMMANDS {
        let name = command.name;
        register_overloads(
            module,
            name,
            command.overloads,
            command.doc,
            move |ctx, args| {
                let request = request(name, args.values, "an HTTP server")?;
                answer(|| http::execute(&*ctx.effects, name, &request))
            },
        );
    }
}
