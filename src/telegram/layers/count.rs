//! Counting: every request the inner caller makes, in `tgscript_bot_api_calls_total` by
//! method and outcome.

use crate::telegram::call::{BotError, Caller};
use crate::telemetry;
use serde_json::Value;

/// Counts each call of its inner caller in [`telemetry::BOT_API_CALLS`]: `ok`; `refused`
/// (Telegram said no, or the request could not be made: a code under 500); `failed` (no
/// answer, one that is not the Bot API's, or Telegram's own failure).
#[derive(Clone)]
pub struct Counted<C> {
    pub(super) inner: C,
}

impl<C: Caller> Caller for Counted<C> {
    async fn call(&self, method: &str, params: &Value) -> Result<Value, BotError> {
        let result = self.inner.call(method, params).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) if e.code().is_some_and(|code| code < 500) => "refused",
            Err(_) => "failed",
        };
        metrics::counter!(telemetry::BOT_API_CALLS, "method" => telemetry::method_label(method), "outcome" => outcome)
            .increment(1);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::layers::fake::{Fake, refusal, run};
    use serde_json::json;

    #[test]
    fn each_call_is_counted_by_its_outcome() {
        let fake = Fake::new([
            Ok(json!(true)),
            Err(refusal(403, None, None)),
            Err(BotError::BadRequest("not base64".into())),
            Err(BotError::Network("connection refused".into())),
            Err(refusal(502, None, None)),
        ]);
        let counted = Counted { inner: &fake };
        let params = json!({"chat_id": 1});
        let (results, metrics) = run(async {
            let mut results = Vec::new();
            for _ in 0..5 {
                results.push(counted.call("sendMessage", &params).await.is_ok());
            }
            results
        });
        assert_eq!(results, [true, false, false, false, false]);
        assert_eq!(fake.seen().len(), 5, "each call went through once");
        let line = |outcome: &str, n: u32| {
            format!(
                "{}{{method=\"sendMessage\",outcome=\"{outcome}\"}} {n}",
                telemetry::BOT_API_CALLS
            )
        };
        for expected in [line("ok", 1), line("refused", 2), line("failed", 2)] {
            assert!(metrics.contains(&expected), "{expected} in {metrics}");
        }
    }
}
