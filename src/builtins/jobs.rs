//! Timer builtins: `schedule`, `schedule_at`, `every`, `cancel`, `jobs`, `current_job` and
//! `expect_message`. A job is kept in the database when the builtin returns and runs a
//! function of the scenario that scheduled it, acting where it was scheduled from.

use super::state::to_plain_json;
use super::{CallContext, RhaiResult, builtin, context};
use crate::store::StateOp;
use crate::store::jobs::{JobOp, JobPlace, Repeat, When};
use rhai::{
    Dynamic, EvalAltResult, INT, ImmutableString, Map, Module, NativeCallContext, Position,
};
use serde_json::Value;

fn fail(message: String) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(message.into(), Position::NONE).into()
}

/// The calling scenario's namespace: jobs belong to a scenario.
fn owner(ctx: &CallContext, command: &str) -> Result<String, Box<EvalAltResult>> {
    ctx.scenario.as_deref().map(str::to_string).ok_or_else(|| {
        fail(format!(
            "{command}: a job runs a function of the scenario that schedules it; scripts run once (exec, the REPL, run_script) have none: call it from a scenario's handler or on_load"
        ))
    })
}

/// Where the call acts: its update's chat, user and message.
fn place(ctx: &CallContext) -> JobPlace {
    ctx.update
        .as_deref()
        .map_or_else(JobPlace::default, |u| JobPlace {
            chat_id: u.chat_id,
            user_id: u.user_id,
            message_id: u.message_id,
        })
}

/// Refuse a job whose function the scenario does not define with the one parameter `param`.
fn defined(
    ctx: &NativeCallContext,
    command: &str,
    function: &str,
    param: &str,
) -> Result<(), Box<EvalAltResult>> {
    let found = ctx.iter_namespaces().any(|module| {
        module
            .iter_script_fn_info()
            .any(|(_, _, name, n, _)| name == function && n == 1)
    });
    match found {
        true => Ok(()),
        false => Err(fail(format!(
            "{command}: this scenario has no fn {function}({param}) to run: define it (the name is a string)"
        ))),
    }
}

/// Seconds given as an integer, a float or a duration like `"5m"`, in milliseconds.
fn delay_ms(command: &str, value: &Dynamic) -> Result<i64, Box<EvalAltResult>> {
    let seconds = if let Ok(n) = value.as_int() {
        n as f64
    } else if let Ok(f) = value.as_float() {
        f
    } else if let Some(text) = value.read_lock::<ImmutableString>() {
        crate::clock::duration_seconds(&text).ok_or_else(|| {
            fail(format!(
                "{command}: expected seconds or a duration like 30s, 10m, 2h, 1d, not {:?}",
                text.as_str()
            ))
        })? as f64
    } else {
        return Err(fail(format!(
            "{command}: expected seconds (a number) or a duration like \"10m\", not a {}",
            value.type_name()
        )));
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(fail(format!(
            "{command}: a delay cannot be negative ({seconds})"
        )));
    }
    Ok((seconds * 1000.0).min(i64::MAX as f64) as i64)
}

/// Keep `op` through the call's effects (journaled in a handler: run again after a crash,
/// the handler gets the same job back instead of a second one).
fn keep(ctx: &CallContext, command: &str, op: JobOp) -> Result<Value, Box<EvalAltResult>> {
    ctx.effects
        .state(&StateOp::Job(op))
        .map_err(|e| fail(format!("{command}: {e}")))
}

fn schedule(
    native: &NativeCallContext,
    command: &str,
    when: When,
    function: &str,
    data: &Dynamic,
) -> RhaiResult {
    let ctx = context(native);
    let namespace = owner(&ctx, command)?;
    defined(native, command, function, "data")?;
    let data = to_plain_json(data, "data").map_err(|e| fail(format!("{command}: {e}")))?;
    let op = JobOp::Schedule {
        namespace,
        function: function.to_string(),
        data,
        when,
        place: place(&ctx),
    };
    Ok(keep(&ctx, command, op)?.as_i64().unwrap_or_default().into())
}

const SCHEDULE_DOC: &str = r#"
Run `function(data)` of this scenario once, `delay` from now: seconds (`90`, `0.5`) or a
duration (`"30s"`, `"10m"`, `"2h"`, `"1d"`). Returns the job's id (for `cancel`).

The job is kept in the database when `schedule` returns: it survives restarts and reloads
(one due while tgscript was down runs at the next start; `current_job().late_ms` says how
late), runs once even after a crash, and acts where it was scheduled from — `reply`,
`tg_chat_permission` and the state builtins use that chat and user. A failing job is retried,
then parked like an update (`tgscript inbox list`). `data` is any plain value (map, array,
string, number). `tgscript jobs list` shows what waits.

# Example
```rhai
fn on_command(cmd, args, msg) {
    if cmd == "remind" {
        schedule(args[0], "remind", #{text: args[1]});   // /remind 10m "stretch"
        reply("I will remind you.");
    }
}
fn remind(data) {
    reply(`Reminder: ${data.text}`);
}
```
"#;

const EVERY_DOC: &str = r#"
Run `function(data)` of this scenario again and again: every `spec` seconds (an integer), or
at the times a cron expression gives (UTC; 5 fields `minute hour day month weekday`, or 6
with seconds first). Returns the job's id; `cancel(id)` stops it. Runs missed while tgscript
was down are not made up: the next one after the start runs, once.

Called in `on_load`, which runs on every (re)load, look at `jobs()` first so reloads do not
add copies.

# Example
```rhai
fn on_load() {
    if jobs().filter(|j| j.function == "rules").is_empty() {
        every("0 9 * * *", "rules", -1001234567890);     // 09:00 UTC each day
    }
}
fn rules(chat_id) {
    send_message(chat_id, "Be kind. No spam.");
}
```
"#;

const EXPECT_DOC: &str = r#"
Wait for the next message of the current user in the current chat: it goes to
`function(msg)` of this scenario instead of this scenario's usual handlers (other scenarios
still get it). Options: `timeout` — seconds or a duration like `"5m"`; when it passes first,
`function_timeout(data)` runs instead (define it) — and `data` for that call. The wait is
kept like a job: a restart between the question and the answer keeps the conversation where
it was. A new `expect_message` for the same user and chat replaces the last. Returns its id.

# Example
```rhai
fn on_command(cmd, args, msg) {
    if cmd == "report" {
        reply("What happened? (2 minutes)");
        expect_message("got_report", #{timeout: "2m", data: msg.from.id});
    }
}
fn got_report(msg) { reply(`Thanks, noted: ${msg.text}`); }
fn got_report_timeout(user_id) { reply("No report came; ask again with /report."); }
```
"#;

pub(super) fn register(module: &mut Module) {
    let params = [
        "delay: INT | FLOAT | String",
        "function: String",
        "data: ?",
        "INT",
    ];
    builtin("schedule", &params, SCHEDULE_DOC).set_into_module(
        module,
        |ctx: NativeCallContext, delay: Dynamic, function: ImmutableString, data: Dynamic| {
            let after = delay_ms("schedule", &delay)?;
            schedule(&ctx, "schedule", When::After(after), &function, &data)
        },
    );
    builtin("schedule", &[params[0], params[1], "INT"], SCHEDULE_DOC).set_into_module(
        module,
        |ctx: NativeCallContext, delay: Dynamic, function: ImmutableString| {
            let after = delay_ms("schedule", &delay)?;
            schedule(
                &ctx,
                "schedule",
                When::After(after),
                &function,
                &Dynamic::UNIT,
            )
        },
    );

    let at_doc = r#"
Run `function(data)` of this scenario once at `unix_time` (seconds, as `now()` gives; a time
already past runs at once). Otherwise like `schedule`. Returns the job's id.

# Example
```rhai
fn on_command(cmd, args, msg) {
    if cmd == "tomorrow" {
        schedule_at(now() + 86400, "remind", "Tomorrow is here");
    }
}
fn remind(text) { reply(text); }
```
"#;
    let at_params = ["unix_time: INT", "function: String", "data: ?", "INT"];
    builtin("schedule_at", &at_params, at_doc).set_into_module(
        module,
        |ctx: NativeCallContext, at: INT, function: ImmutableString, data: Dynamic| {
            let when = When::At(at.saturating_mul(1000));
            schedule(&ctx, "schedule_at", when, &function, &data)
        },
    );
    builtin("schedule_at", &[at_params[0], at_params[1], "INT"], at_doc).set_into_module(
        module,
        |ctx: NativeCallContext, at: INT, function: ImmutableString| {
            let when = When::At(at.saturating_mul(1000));
            schedule(&ctx, "schedule_at", when, &function, &Dynamic::UNIT)
        },
    );

    let every_params = ["spec: INT | String", "function: String", "data: ?", "INT"];
    let every = |ctx: &NativeCallContext, spec: &Dynamic, function: &str, data: &Dynamic| {
        let spec = match spec.as_int() {
            Ok(seconds) => seconds.to_string(),
            Err(_) => spec.to_string(),
        };
        Repeat::parse(&spec).map_err(fail)?;
        schedule(ctx, "every", When::Every(spec), function, data)
    };
    builtin("every", &every_params, EVERY_DOC).set_into_module(
        module,
        move |ctx: NativeCallContext, spec: Dynamic, function: ImmutableString, data: Dynamic| {
            every(&ctx, &spec, &function, &data)
        },
    );
    builtin(
        "every",
        &[every_params[0], every_params[1], "INT"],
        EVERY_DOC,
    )
    .set_into_module(
        module,
        move |ctx: NativeCallContext, spec: Dynamic, function: ImmutableString| {
            every(&ctx, &spec, &function, &Dynamic::UNIT)
        },
    );

    builtin(
        "cancel",
        &["id: INT", "bool"],
        r#"
Cancel this scenario's job (or `expect_message` wait) `id`: `true` if it was waiting,
`false` if it already ran, was cancelled, or is another scenario's.

# Example
```rhai
fn on_load() {
    let id = schedule("1h", "later", ());
    cancel(id);
}
fn later(data) { }
```
"#,
    )
    .set_into_module(module, |ctx: NativeCallContext, id: INT| -> RhaiResult {
        let ctx = context(&ctx);
        let namespace = owner(&ctx, "cancel")?;
        let gone = keep(&ctx, "cancel", JobOp::Cancel { namespace, id })?;
        Ok(gone.as_bool().unwrap_or(false).into())
    });

    builtin(
        "jobs",
        &["Array"],
        r#"
This scenario's waiting jobs and waits, soonest first: maps of `id`, `kind` (`"job"` or
`"expect"`), `function`, `data`, `chat_id`, `user_id`, `due_at` (Unix seconds; `()` for a
wait without timeout) and `every` (the repeat, or `()`).

# Example
```rhai
fn on_command(cmd, args, msg) {
    if cmd == "jobs" {
        reply(`${jobs().len()} job(s) waiting`);
    }
}
```
"#,
    )
    .set_into_module(module, |ctx: NativeCallContext| -> RhaiResult {
        let ctx = context(&ctx);
        let namespace = owner(&ctx, "jobs")?;
        rhai::serde::to_dynamic(keep(&ctx, "jobs", JobOp::List { namespace })?)
    });

    builtin(
        "current_job",
        &["Map | ()"],
        r#"
The job being run, in a job's function: `id`, `function`, `data`, `due_at`, `late_ms` (how
late it runs: a job due while tgscript was down runs at the start), `every`, `chat_id`,
`user_id`; `timed_out` is `true` in an `expect_message` timeout. `()` elsewhere.

# Example
```rhai
fn remind(data) {
    let job = current_job();
    if job.late_ms > 60000 { reply("(sorry, this reminder is late)"); }
}
```
"#,
    )
    .set_into_module(module, |ctx: NativeCallContext| -> RhaiResult {
        match context(&ctx).update.as_ref().and_then(|u| u.job.clone()) {
            Some(job) => rhai::serde::to_dynamic(job),
            None => Ok(Dynamic::UNIT),
        }
    });

    let expect = |native: &NativeCallContext, function: &str, options: Map| -> RhaiResult {
        let command = "expect_message";
        let ctx = context(native);
        let namespace = owner(&ctx, command)?;
        let place = place(&ctx);
        if place.chat_id.is_none() || place.user_id.is_none() {
            return Err(fail(format!(
                "{command}: there is no current user and chat to wait for: call it from a handler of a message, command or button press"
            )));
        }
        defined(native, command, function, "msg")?;
        let mut timeout_ms = None;
        let mut data = Value::Null;
        for (key, value) in options {
            match key.as_str() {
                "timeout" => timeout_ms = Some(delay_ms(command, &value)?),
                "data" => {
                    data = to_plain_json(&value, "data")
                        .map_err(|e| fail(format!("{command}: {e}")))?
                }
                other => {
                    return Err(fail(format!(
                        "{command}: unknown option '{other}' (options: timeout, data)"
                    )));
                }
            }
        }
        if timeout_ms.is_some() {
            defined(native, command, &format!("{function}_timeout"), "data")?;
        }
        let op = JobOp::Expect {
            namespace,
            function: function.to_string(),
            data,
            timeout_ms,
            place,
        };
        Ok(keep(&ctx, command, op)?.as_i64().unwrap_or_default().into())
    };
    builtin(
        "expect_message",
        &["function: String", "options: Map", "INT"],
        EXPECT_DOC,
    )
    .set_into_module(
        module,
        move |ctx: NativeCallContext, function: ImmutableString, options: Map| {
            expect(&ctx, &function, options)
        },
    );
    builtin("expect_message", &["function: String", "INT"], EXPECT_DOC).set_into_module(
        module,
        move |ctx: NativeCallContext, function: ImmutableString| {
            expect(&ctx, &function, Map::new())
        },
    );
}
