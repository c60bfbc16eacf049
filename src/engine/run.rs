//! Per-call run state: the deadlines (the script's own time, and its wall time waits
//! included), the interrupt flag, the print sink and the
//! map-size guard of the evaluation running on this thread.
//!
//! Rhai evaluates synchronously on the calling thread, and its hooks (`on_progress`, `on_var`,
//! `on_print`) receive no context of the call, so they find its state in a thread-local. That
//! is all the thread-local holds: what a call acts on (its update, scenario, effects) travels
//! with the call as its tag. Runs may nest (a module evaluated during an import); the inner
//! run restores the outer one on exit.
//!
//! Rhai counts operations in its global runtime state, but a native function calling a
//! script callback (`sort`'s comparer, `map`'s mapper, …) runs it on a *copy* of that state,
//! whose count is thrown away when the callback returns. A callback running callbacks (a
//! comparer that sorts) would thus never bring the count it is handed to the next check, nor
//! past `max_operations`. So the checks here go by a count of their own (`TICKS`), one per
//! `on_progress` call, which every operation makes whatever state it runs on; and builtins
//! that call script callbacks look at the run with [`check_run`] before each call too.

use super::limits::Limits;
use crate::activity::SCRIPT_TARGET;
use rhai::{Dynamic, EvalAltResult, EvalContext, Position};
use std::cell::{Cell, RefCell};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Where `print` and `debug` output of a run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    /// To the log only (bots, the gateway): never straight to the terminal.
    #[default]
    Log,
    /// To the log and to stdout (`tgscript exec`, the REPL).
    Stdout,
    /// To the log and to stderr (`tgscript exec --json`: stdout holds the JSON alone).
    Stderr,
    /// To the log and into [`RunReport::printed`] (the gateway's `run_script`).
    Capture,
}

/// How one evaluation runs.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Where printed lines go.
    pub output: Output,
    /// Set to `true` from another thread to stop the run at its next operation (REPL Ctrl-C).
    pub interrupt: Option<Arc<AtomicBool>>,
    /// The caller's context of this call, which builtins read back with
    /// `NativeCallContext::tag()`; `None` for the engine's default tag. Only function calls
    /// ([`super::ScriptEngine::call_fn`]) can carry one.
    pub tag: Option<Dynamic>,
    /// Who the run's prints are from, for the log; left empty, the engine reads it from the
    /// tag (see [`super::ScriptEngine::set_attribution`]).
    pub attribution: Attribution,
}

/// Who a run's `print` and `debug` lines come from: the log event of each carries them as its
/// `bot` and `scenario` fields. Empty for a one-off script (`exec`, the REPL, `run_script`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    /// The bot whose scenario runs.
    pub bot: Option<Arc<str>>,
    /// The scenario running, by its name within its bot's (its state namespace: its
    /// `const STATE`, else its file name without `.rhai`).
    pub scenario: Option<Arc<str>>,
    /// The tenant whose budget its lines are written under (as the host knows it: none in a
    /// worker, whose lines the host writes).
    pub tenant: Option<Arc<str>>,
}

impl Attribution {
    /// Whether it names no one.
    pub fn is_empty(&self) -> bool {
        self.bot.is_none() && self.scenario.is_none()
    }
}

/// What a run leaves behind besides its value.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// Lines printed with `print`/`debug`, when the output was [`Output::Capture`].
    pub printed: Vec<String>,
    /// Wall time the run took.
    pub elapsed: Duration,
}

/// Token carried by `ErrorTerminated` when the wall-clock budget ran out.
pub(crate) const TIMEOUT_TOKEN: &str = "timeout";
/// Token carried by `ErrorTerminated` when the call's wall time, waits on Telegram, TDLib and
/// HTTP included, passed `wall_timeout_ms`.
pub(crate) const WALL_TOKEN: &str = "wall time";
/// Token carried by `ErrorTerminated` when the run was interrupted.
pub(crate) const INTERRUPT_TOKEN: &str = "interrupted";
/// Token carried by `ErrorTerminated` when closures nest deeper than `max_closure_depth`.
pub(crate) const CLOSURES_TOKEN: &str = "closures nested too deep";
/// Token carried by `ErrorTerminated` when the run made more calls than `max_api_calls`.
pub(crate) const CALLS_TOKEN: &str = "too many calls";
/// Token carried by `ErrorTerminated` when the run grew past `max_memory_mb`.
pub(crate) const MEMORY_TOKEN: &str = "too much memory";
/// Token carried by `ErrorTerminated` when the run's operations, those of script callbacks
/// that Rhai's own count loses included, passed `max_operations`.
pub(crate) const OPERATIONS_TOKEN: &str = "too many operations";

/// How often (in operations) the memory the run holds is looked at.
const MEMORY_CHECK_EVERY: u64 = 8;

/// How often (in operations) the deadline and interrupt flag are looked at.
const PROGRESS_CHECK_EVERY: u64 = 256;
/// How often (in variable accesses) the maps in scope are measured.
const MAP_CHECK_EVERY: u32 = 16;

struct RunState {
    started: Instant,
    /// When the script's own time (`timeout_ms`) runs out: pushed back by every wait.
    deadline: Instant,
    /// When the call's wall time (`wall_timeout_ms`) runs out: waits are not taken off.
    wall_deadline: Instant,
    interrupt: Option<Arc<AtomicBool>>,
    output: Output,
    /// Who the run's prints are from.
    attribution: Attribution,
    printed: Vec<String>,
    var_accesses: u32,
    /// Calls to Telegram or TDLib so far, and how many are allowed (0: no limit).
    api_calls: u32,
    max_api_calls: u32,
    /// Bytes printed so far, and how many may be (0: no limit).
    printed_bytes: usize,
    max_print_size: usize,
    /// How deep closures may capture closures.
    max_closure_depth: usize,
    /// What the thread held when the run began, and how much more it may hold (0: no
    /// limit).
    memory_baseline: isize,
    max_memory: isize,
    /// [`TICKS`] when the run began, and how many operations it may make (0: no limit).
    ticks_at_start: u64,
    max_operations: u64,
}

thread_local! {
    static CURRENT: RefCell<Option<RunState>> = const { RefCell::new(None) };
    /// Operations this thread has made, every run's together: one per `on_progress` call,
    /// counted whatever copy of Rhai's state the operation ran on.
    static TICKS: Cell<u64> = const { Cell::new(0) };
    /// The wall deadline of the call whose effect this thread serves, when it serves one for a
    /// call running elsewhere (a worker process): see [`within_wall`].
    static SERVING_UNTIL: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Run `f` as one evaluation under `limits` and `options`; returns its value and report.
pub fn run<R>(limits: &Limits, options: &RunOptions, f: impl FnOnce() -> R) -> (R, RunReport) {
    let started = Instant::now();
    // A nested run (a module evaluated during an import) is still part of its outer call.
    let outer_wall = CURRENT.with(|c| c.borrow().as_ref().map(|s| s.wall_deadline));
    let wall_deadline = outer_wall.map_or(started + limits.wall_timeout(), |outer| {
        outer.min(started + limits.wall_timeout())
    });
    let state = RunState {
        started,
        deadline: started + limits.timeout(),
        wall_deadline,
        interrupt: options.interrupt.clone(),
        output: options.output,
        attribution: options.attribution.clone(),
        printed: Vec::new(),
        var_accesses: 0,
        api_calls: 0,
        max_api_calls: limits.max_api_calls,
        printed_bytes: 0,
        max_print_size: limits.max_print_size,
        max_closure_depth: limits.max_closure_depth,
        memory_baseline: super::memory::held(),
        max_memory: isize::try_from(limits.max_memory_mb.saturating_mul(1024 * 1024))
            .unwrap_or(isize::MAX),
        ticks_at_start: TICKS.with(Cell::get),
        max_operations: limits.max_operations,
    };
    let outer = CURRENT.with(|c| c.replace(Some(state)));
    let value = f();
    let finished = CURRENT.with(|c| c.replace(outer));
    let report = finished
        .map(|s| RunReport {
            printed: s.printed,
            elapsed: s.started.elapsed(),
        })
        .unwrap_or_default();
    (value, report)
}

/// Time left before the current run's deadline (`None` outside a run).
pub fn time_left() -> Option<Duration> {
    CURRENT.with(|c| {
        c.borrow()
            .as_ref()
            .map(|s| s.deadline.saturating_duration_since(Instant::now()))
    })
}

/// Wall time left before the deadline of the call this thread runs or serves an effect for
/// (`wall_timeout_ms`, waits included); `None` when it does neither. Effects that wait
/// (Bot API, TDLib, HTTP) give up once it is gone.
pub fn wall_left() -> Option<Duration> {
    let running = CURRENT.with(|c| c.borrow().as_ref().map(|s| s.wall_deadline));
    let serving = SERVING_UNTIL.with(Cell::get);
    let until = match (running, serving) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }?;
    Some(until.saturating_duration_since(Instant::now()))
}

/// Run `f` (serving one effect of a call that runs elsewhere, in a worker process) with
/// `until` as the wall deadline [`wall_left`] reports on this thread.
pub fn within_wall<R>(until: Instant, f: impl FnOnce() -> R) -> R {
    /// Puts the thread's previous deadline back, even if `f` panics.
    struct Restore(Option<Instant>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SERVING_UNTIL.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SERVING_UNTIL.with(|s| s.replace(Some(until))));
    f()
}

/// Whether the current run's wall time (`wall_timeout_ms`) is spent.
fn past_wall() -> bool {
    CURRENT.with(|c| {
        c.borrow()
            .as_ref()
            .is_some_and(|s| Instant::now() >= s.wall_deadline)
    })
}

/// Stop the current run if its wall time (`wall_timeout_ms`, waits included) is spent:
/// called before and after every wait on Telegram, TDLib or HTTP, so a call that waited its
/// budget away makes no further call and goes no further.
pub fn check_wall() -> Result<(), Box<EvalAltResult>> {
    match past_wall() {
        true => Err(wall_error()),
        false => Ok(()),
    }
}

/// The error that stops a run whose wall time (`wall_timeout_ms`) is spent.
pub fn wall_error() -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(WALL_TOKEN.into(), Position::NONE).into()
}

/// How an effect given up at the call's wall deadline begins its error (code 504).
pub const WALL_CUT: &str = "no answer before the call's wall time ran out";

/// The error that stops a run whose wall time ran out while `command` waited for its answer
/// (the wait was given up).
pub fn wall_cut_error(command: &str) -> Box<EvalAltResult> {
    let token = format!("{WALL_TOKEN}: {command} was given up waiting for its answer");
    EvalAltResult::ErrorTerminated(token.into(), Position::NONE).into()
}

/// The error that stops a run for running out of time; `detail` says what ran out.
pub fn timeout_error(detail: &str) -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(format!("{TIMEOUT_TOKEN}: {detail}").into(), Position::NONE)
        .into()
}

/// The error that stops an interrupted run.
pub fn interrupt_error() -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(INTERRUPT_TOKEN.into(), Position::NONE).into()
}

/// Run `f` (a wait on Telegram or TDLib) without charging its time to the run's deadline
/// (`timeout_ms`); it still counts against the wall deadline (`wall_timeout_ms`).
pub fn paused<R>(f: impl FnOnce() -> R) -> R {
    let started = Instant::now();
    let value = f();
    let waited = started.elapsed();
    CURRENT.with(|c| {
        if let Some(state) = c.borrow_mut().as_mut() {
            state.deadline += waited;
        }
    });
    value
}

/// Count one call to Telegram or TDLib against the current run's `max_api_calls`; the error
/// stops the run when it has made as many as it may.
pub fn charge_api_call() -> Result<(), Box<EvalAltResult>> {
    let over = CURRENT.with(|c| {
        c.borrow_mut().as_mut().is_some_and(|s| {
            s.api_calls = s.api_calls.saturating_add(1);
            s.max_api_calls > 0 && s.api_calls > s.max_api_calls
        })
    });
    if over {
        return Err(EvalAltResult::ErrorTerminated(CALLS_TOKEN.into(), Position::NONE).into());
    }
    Ok(())
}

/// Whether the current run has been asked to stop.
pub fn interrupted() -> bool {
    CURRENT.with(|c| {
        c.borrow()
            .as_ref()
            .and_then(|s| s.interrupt.as_ref())
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
    })
}

/// `on_progress` hook: stop the run when it ran out of memory, time or operations, or was
/// interrupted. Rhai calls it once per operation with its own count, which callbacks run from
/// native functions lose (see the module's documentation): the checks go by [`TICKS`].
pub(crate) fn on_progress(_operations: u64) -> Option<Dynamic> {
    let tick = TICKS.with(|t| {
        let tick = t.get().wrapping_add(1);
        t.set(tick);
        tick
    });
    if tick.is_multiple_of(MEMORY_CHECK_EVERY) && over_memory() {
        return Some(MEMORY_TOKEN.into());
    }
    if !tick.is_multiple_of(PROGRESS_CHECK_EVERY) {
        return None;
    }
    if over_operations(tick) {
        return Some(OPERATIONS_TOKEN.into());
    }
    stopped().map(Into::into)
}

/// Why the current run must stop now, as the token `on_progress` gives: interrupted, past
/// its deadline, or past its wall deadline.
fn stopped() -> Option<&'static str> {
    if interrupted() {
        return Some(INTERRUPT_TOKEN);
    }
    match time_left() {
        Some(left) if left.is_zero() => Some(TIMEOUT_TOKEN),
        _ if past_wall() => Some(WALL_TOKEN),
        _ => None,
    }
}

/// Look at the current run before a builtin calls a script callback: the same error
/// `on_progress` stops it with when it was interrupted, is past its deadline
/// (`[limits] timeout_ms` or `wall_timeout_ms`) or holds more than `max_memory_mb`. Builtins that call callbacks
/// many times (`sort`, `dedup`, …) call this before each call, so nested callbacks stop in
/// time however few operations each one makes.
pub fn check_run() -> Result<(), Box<EvalAltResult>> {
    let token = if over_memory() {
        Some(MEMORY_TOKEN)
    } else {
        stopped()
    };
    match token {
        Some(token) => Err(EvalAltResult::ErrorTerminated(token.into(), Position::NONE).into()),
        None => Ok(()),
    }
}

/// Whether the current run, at thread tick `tick`, made more operations than its
/// `max_operations`.
fn over_operations(tick: u64) -> bool {
    CURRENT.with(|c| {
        c.borrow().as_ref().is_some_and(|s| {
            s.max_operations > 0 && tick.wrapping_sub(s.ticks_at_start) > s.max_operations
        })
    })
}

/// Whether the current run holds more than `max_memory_mb` over what its thread held when
/// it began.
fn over_memory() -> bool {
    let held = super::memory::held();
    CURRENT.with(|c| {
        c.borrow().as_ref().is_some_and(|s| {
            s.max_memory > 0 && held.saturating_sub(s.memory_baseline) > s.max_memory
        })
    })
}

/// `on_var` hook: measure the object maps and arrays in scope now and then.
///
/// Rhai 1.27 does not apply `max_map_size` when `m[key] = v` adds a key, so a script could grow
/// a map without bound, and its data-size checks leave map keys out, so a map of a few long
/// keys could hold any number of bytes. Every few variable accesses the maps and arrays in the
/// current scope (nested ones included) are checked with [`check_size`].
pub(crate) fn on_var(
    _name: &str,
    _index: usize,
    context: EvalContext,
) -> Result<Option<Dynamic>, Box<EvalAltResult>> {
    let due = CURRENT.with(|c| {
        c.borrow_mut().as_mut().and_then(|s| {
            s.var_accesses = s.var_accesses.wrapping_add(1);
            (s.var_accesses % MAP_CHECK_EVERY == 0).then_some(s.max_closure_depth)
        })
    });
    if let Some(max_closure_depth) = due {
        let engine = context.engine();
        for (_, _, value) in context.scope().iter_raw() {
            if value.is_map() || value.is_array() {
                check_size(engine, value)?;
            }
            if max_closure_depth > 0
                && value.is_fnptr()
                && closure_depth(value, max_closure_depth + 1) > max_closure_depth
            {
                return Err(
                    EvalAltResult::ErrorTerminated(CLOSURES_TOKEN.into(), Position::NONE).into(),
                );
            }
        }
    }
    Ok(None)
}

/// Check `value` against the engine's data-size limits, its map keys counted with its
/// strings: Rhai's own check (items, entries, and the bytes of its strings together against
/// `max_string_size`) leaves keys out.
pub(crate) fn check_size(engine: &rhai::Engine, value: &Dynamic) -> Result<(), Box<EvalAltResult>> {
    engine.ensure_data_size_within_limits(value)?;
    let limit = engine.max_string_size();
    if limit > 0 && text_bytes(value, limit) > limit {
        return Err(
            EvalAltResult::ErrorDataTooLarge("Length of string".into(), Position::NONE).into(),
        );
    }
    Ok(())
}

/// The bytes of the strings and map keys in `value` (nested ones included), counted no
/// further than just past `limit`.
fn text_bytes(value: &Dynamic, limit: usize) -> usize {
    let mut total = 0;
    add_text_bytes(value, limit, &mut total);
    total
}

/// Add the bytes of the strings and map keys in `value` to `total`, until it passes `limit`.
/// Recursive as Rhai's own size check, which has walked the same value first.
fn add_text_bytes(value: &Dynamic, limit: usize, total: &mut usize) {
    if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        *total = total.saturating_add(s.len());
    } else if let Some(map) = value.read_lock::<rhai::Map>() {
        for (key, item) in map.iter() {
            *total = total.saturating_add(key.len());
            if holds_text(item) {
                add_text_bytes(item, limit, total);
            }
            if *total > limit {
                return;
            }
        }
    } else if let Some(items) = value.read_lock::<rhai::Array>() {
        for item in items.iter().filter(|item| holds_text(item)) {
            add_text_bytes(item, limit, total);
            if *total > limit {
                return;
            }
        }
    }
}

/// Whether `value` may hold strings or map keys.
fn holds_text(value: &Dynamic) -> bool {
    value.is_map() || value.is_array() || value.is_string() || value.is_shared()
}

/// How many levels deep `value` goes through what closures captured (and the arrays and maps
/// they captured hold), counted no further than `limit`. A closure that captures itself (a
/// recursive closure) is not deeper for it.
fn closure_depth(value: &Dynamic, limit: usize) -> usize {
    let mut depth = 0;
    let mut seen = std::collections::HashSet::new();
    // Every value looked at stays alive until the walk ends, so no address is reused.
    let mut visited: Vec<Vec<Dynamic>> = Vec::new();
    let mut level: Vec<Dynamic> = vec![value.clone()];
    while !level.is_empty() && depth < limit {
        let mut next = Vec::new();
        for value in &level {
            if let Some(f) = value.read_lock::<rhai::FnPtr>() {
                if seen.insert(std::ptr::from_ref::<rhai::FnPtr>(&f) as usize) {
                    next.extend(f.iter_curry().cloned());
                }
            } else if let Some(items) = value.read_lock::<rhai::Array>() {
                next.extend(items.iter().cloned());
            } else if let Some(map) = value.read_lock::<rhai::Map>() {
                next.extend(map.values().cloned());
            }
        }
        next.retain(|v| v.is_fnptr() || v.is_array() || v.is_map());
        depth += 1;
        visited.push(std::mem::replace(&mut level, next));
    }
    depth
}

/// `on_print` hook.
pub(crate) fn print(text: &str) {
    emit(text);
}

/// `on_debug` hook.
pub(crate) fn debug(text: &str, source: Option<&str>, pos: Position) {
    let line = match (source, pos.line()) {
        (Some(src), Some(line)) => format!("[{src}:{line}] {text}"),
        (None, Some(line)) => format!("[line {line}] {text}"),
        _ => text.to_string(),
    };
    emit(&line);
}

/// Send `line`, printed by the script, where the run's output goes: always to the log (as
/// an event with the run's [`Attribution`]; the log's plain text format escapes its control
/// characters, see [`crate::logging`]), and to stdout, stderr or the report as the run says;
/// nowhere once the run printed `max_print_size` bytes.
fn emit(line: &str) {
    let mut note = None;
    let mut dropped = false;
    let (output, attribution) = CURRENT
        .with(|c| {
            let mut current = c.borrow_mut();
            let state = current.as_mut()?;
            let before = state.printed_bytes;
            state.printed_bytes = before.saturating_add(line.len() + 1);
            if state.max_print_size > 0 && state.printed_bytes > state.max_print_size {
                dropped = true;
                // Said once, when the limit is first passed; the rest of the output is dropped.
                if before <= state.max_print_size {
                    let said = format!(
                        "(more than {} bytes printed in this call: the rest is dropped; raise [limits] max_print_size if the script needs more)",
                        state.max_print_size
                    );
                    if state.output == Output::Capture {
                        state.printed.push(said.clone());
                    }
                    note = Some(said);
                }
                return Some((None, state.attribution.clone()));
            }
            if state.output == Output::Capture {
                state.printed.push(line.to_string());
            }
            Some((Some(state.output), state.attribution.clone()))
        })
        .unwrap_or_default();
    let (bot, scenario) = (attribution.bot.as_deref(), attribution.scenario.as_deref());
    if let Some(note) = note {
        tracing::warn!(target: SCRIPT_TARGET, bot, scenario, "{note}");
    }
    if dropped {
        return;
    }
    if output == Some(Output::Stdout) {
        // Shown on stdout already: keep the log for `TGSCRIPT_LOG=debug`.
        tracing::debug!(target: SCRIPT_TARGET, bot, scenario, "{line}");
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    } else if output == Some(Output::Stderr) {
        tracing::debug!(target: SCRIPT_TARGET, bot, scenario, "{line}");
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    } else {
        log_line(attribution.tenant.as_deref(), bot, scenario, line);
    }
}

/// Write script line `line` of `bot`'s `scenario` to the log, within `tenant`'s budget
/// ([`crate::budget::log_budget`]): past it the line is dropped (the first one dropped says
/// so), and the tenant's next line after the minute is preceded by one saying how much was.
pub fn log_line(tenant: Option<&str>, bot: Option<&str>, scenario: Option<&str>, line: &str) {
    if let Some(tenant) = tenant {
        let budget = crate::budget::log_budget();
        match budget.admit(tenant, line.len() + 1) {
            crate::budget::Admit::No { first } => {
                if first {
                    let note = crate::budget::spent_note(tenant, budget.per_minute());
                    tracing::warn!(target: SCRIPT_TARGET, bot, scenario, "{note}");
                }
                return;
            }
            crate::budget::Admit::Yes { dropped: 0 } => {}
            crate::budget::Admit::Yes { dropped } => {
                let note = crate::budget::dropped_note(tenant, dropped, budget.per_minute());
                tracing::warn!(target: SCRIPT_TARGET, bot, scenario, "{note}");
            }
        }
    }
    tracing::info!(target: SCRIPT_TARGET, bot, scenario, "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(timeout_ms: u64, wall_timeout_ms: u64) -> Limits {
        Limits {
            timeout_ms,
            wall_timeout_ms,
            ..Limits::default()
        }
    }

    fn token(error: &EvalAltResult) -> String {
        match error {
            EvalAltResult::ErrorTerminated(token, _) => token.to_string(),
            other => panic!("not a termination: {other}"),
        }
    }

    #[test]
    fn a_wait_is_not_the_scripts_time_but_spends_its_wall_time() {
        let (outcome, _) = run(&limits(60_000, 40), &RunOptions::default(), || {
            assert!(check_wall().is_ok(), "nothing spent yet");
            paused(|| std::thread::sleep(Duration::from_millis(60)));
            let own = time_left().is_some_and(|left| left > Duration::from_secs(1));
            (own, check_wall(), check_run(), wall_left())
        });
        let (own, wall, run, left) = outcome;
        assert!(own, "the wait was not charged to timeout_ms");
        assert_eq!(token(&wall.expect_err("wall spent")), WALL_TOKEN);
        assert_eq!(token(&run.expect_err("the run stops too")), WALL_TOKEN);
        assert_eq!(left, Some(Duration::ZERO));
        assert_eq!(wall_left(), None, "outside a run there is no wall deadline");
    }

    #[test]
    fn no_wall_limit_with_zero_and_a_nested_run_keeps_its_outer_deadline() {
        let (left, _) = run(&limits(0, 0), &RunOptions::default(), || {
            paused(|| std::thread::sleep(Duration::from_millis(5)));
            (check_wall().is_ok(), wall_left())
        });
        assert!(left.0, "wall_timeout_ms = 0 is no limit");
        assert!(left.1.is_some_and(|l| l > Duration::from_secs(86_400)));
        let (inner, _) = run(&limits(0, 200), &RunOptions::default(), || {
            run(&limits(0, 60_000), &RunOptions::default(), wall_left).0
        });
        assert!(
            inner.is_some_and(|l| l <= Duration::from_millis(200)),
            "an import's run is part of its call: {inner:?}"
        );
    }

    #[test]
    fn an_effect_served_for_a_worker_sees_the_calls_wall_deadline() {
        assert_eq!(wall_left(), None);
        let until = Instant::now() + Duration::from_secs(5);
        let seen = within_wall(until, wall_left);
        assert!(seen.is_some_and(|l| l <= Duration::from_secs(5) && !l.is_zero()));
        assert_eq!(wall_left(), None, "the deadline is the effect's alone");
    }
}
