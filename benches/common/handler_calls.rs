//! What the isolation and tenants benchmarks share: the scenario they call (`on_message`
//! reads and writes chat state: two effect round trips), the timed loop of handler calls,
//! and the median of rounds.

use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use tgscript::effects::Effects;
use tgscript::scenario::runner::Runner;
use tgscript::scenario::{Handler, Scenario};
use tgscript::telegram::{UpdateContext, UpdateKind};

/// The scenario both benchmarks call.
pub const SCENARIO: &str =
    "fn on_message(msg) {\n    let n = (chat_get(\"n\") ?? 0) + 1;\n    chat_set(\"n\", n);\n}\n";

/// Microseconds per call of `calls` `on_message` calls through `runner`, call `n` made to
/// the scenario and through the effects `caller(n)` gives.
pub fn micros_per_call<'a>(
    runner: &Runner,
    calls: usize,
    caller: impl Fn(usize) -> (&'a Scenario, &'a Arc<dyn Effects>),
) -> f64 {
    let update = Arc::new(UpdateContext {
        update_id: 1,
        chat_id: Some(-100),
        user_id: Some(1001),
        message_id: Some(1),
        ..UpdateContext::default()
    });
    let message =
        json!({"message_id": 1, "chat": {"id": -100}, "from": {"id": 1001}, "text": "hi"});
    let started = Instant::now();
    for n in 0..calls {
        let (scenario, effects) = caller(n);
        runner
            .call(
                scenario,
                Handler::of(UpdateKind::Message).name(),
                vec![message.clone()],
                effects.clone(),
                Some(update.clone()),
            )
            .expect("the handler runs");
    }
    started.elapsed().as_secs_f64() * 1e6 / calls as f64
}

/// The median of `values`.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
