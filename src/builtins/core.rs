//! Builtins every script has, whatever it is connected to: time, sleeping, and claiming the
//! update being handled.

use super::{builtin, context};
use crate::engine::run;
use rhai::{EvalAltResult, FLOAT, INT, Module, NativeCallContext};
use std::time::Duration;

pub(super) fn register(module: &mut Module) {
    builtin(
        "now",
        &["INT"],
        r#"
The current Unix time in seconds: use it to compute `until_date` values.

# Example
```rhai
let in_ten_minutes = now() + 600;
```
"#,
    )
    .set_into_module(module, now);

    let sleep_doc = r#"
Pause the script for `seconds` (an integer or a float).

Unlike Rhai's own `sleep`, this one honours the sandbox: a pause that would run past the call's
time limit (`[limits] timeout_ms`, or `wall_timeout_ms` for the call's whole time) is refused
at once with an error naming that limit, and an interrupted run (Ctrl-C in the REPL) stops sleeping.

# Example
```rhai
sleep(0.2);    // wait 200 ms
```
"#;
    builtin("sleep", &["seconds: INT", "()"], sleep_doc).set_into_module(module, |seconds: INT| {
        pause(seconds as FLOAT, &seconds.to_string())
    });
    builtin(
        "stop",
        &["()"],
        r#"
Claim the update being handled: scenarios after this one (in file-name order) do not get it.
The handler itself goes on to its end; `return` after `stop()` to leave at once.

Use it in a filter that deletes a message, so a later scenario does not answer what is gone.

# Example
```rhai
fn on_message(msg) {
    if msg.text.contains("http://") {
        tg_delete_message(msg.message_id);
        stop();          // anti_spam.rhai and the others do not see this message
    }
}
```
"#,
    )
    .set_into_module(module, |ctx: NativeCallContext| {
        context(&ctx)
            .claimed
            .store(true, std::sync::atomic::Ordering::SeqCst);
    });
    builtin("sleep", &["seconds: FLOAT", "()"], sleep_doc)
        .set_into_module(module, |seconds: FLOAT| {
            pause(seconds, &seconds.to_string())
        });
}

/// The clock of the call's effects (journaled for a handler from the inbox: one resumed right
/// after a crash sees the time it saw).
fn now(ctx: NativeCallContext) -> INT {
    context(&ctx).effects.now()
}

/// How long `sleep` waits between looks at the interrupt flag.
const SLEEP_SLICE: Duration = Duration::from_millis(10);

fn pause(seconds: FLOAT, shown: &str) -> Result<(), Box<EvalAltResult>> {
    if !seconds.is_finite() || seconds <= 0.0 {
        return Ok(());
    }
    let wanted = Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX);
    if let Some(left) = run::time_left()
        && wanted > left
    {
        {
            return Err(run::timeout_error(&format!(
                "sleep({shown}) would outlast the time left in this call ({} ms)",
                left.as_millis()
            )));
        }
    }
    if let Some(left) = run::wall_left()
        && wanted > left
    {
        return Err(run::wall_error());
    }
    let until = std::time::Instant::now() + wanted;
    loop {
        if run::interrupted() {
            return Err(run::interrupt_error());
        }
        let left = until.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(SLEEP_SLICE));
    }
}
