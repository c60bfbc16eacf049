//! Builtins every script has, whatever it is connected to: time and sleeping.

use super::builtin;
use crate::engine::run;
use crate::inbox::journal;
use rhai::{Engine, EvalAltResult, FLOAT, INT};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(super) fn register(engine: &mut Engine) {
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
    .register_into_engine(engine, now);

    let sleep_doc = r#"
Pause the script for `seconds` (an integer or a float).

Unlike Rhai's own `sleep`, this one honours the sandbox: a pause that would run past the call's
time limit (`[limits] timeout_ms`) is refused at once with an error naming that limit, and an
interrupted run (Ctrl-C in the REPL) stops sleeping.

# Example
```rhai
sleep(0.2);    // wait 200 ms
```
"#;
    builtin("sleep", &["seconds: INT", "()"], sleep_doc)
        .register_into_engine(engine, |seconds: INT| {
            pause(seconds as FLOAT, &seconds.to_string())
        });
    builtin("sleep", &["seconds: FLOAT", "()"], sleep_doc)
        .register_into_engine(engine, |seconds: FLOAT| {
            pause(seconds, &seconds.to_string())
        });
}

/// The clock, journaled: a handler resumed right after a crash sees the time it saw.
fn now() -> INT {
    journal::clock(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as INT)
            .unwrap_or(0),
    )
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
