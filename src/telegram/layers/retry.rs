//! Retry on `429 Too Many Requests`: Telegram's `retry_after` waited out and the same request
//! sent again, a bounded number of times for a bounded wait.

use crate::telegram::call::{BotError, Caller};
use crate::telemetry;
use serde_json::Value;
use std::time::Duration;

/// How many times a `429` is retried.
pub const MAX_RETRIES: u32 = 3;
/// The longest `retry_after` that is waited out; longer ones are returned to the script.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Waits out a `429`'s `retry_after` (at most [`MAX_RETRY_AFTER`]) and calls its inner caller
/// again, up to [`MAX_RETRIES`] times, counting each in [`telemetry::RATE_LIMITED`]; any
/// other answer, or a `429` past those bounds, is returned as it came.
#[derive(Clone)]
pub struct RetryAfter<C> {
    pub(super) inner: C,
}

impl<C: Caller> Caller for RetryAfter<C> {
    async fn call(&self, method: &str, params: &Value) -> Result<Value, BotError> {
        let mut retries = 0;
        loop {
            match self.inner.call(method, params).await {
                Err(BotError::Api {
                    retry_after: Some(seconds),
                    ..
                }) if retries < MAX_RETRIES && Duration::from_secs(seconds) <= MAX_RETRY_AFTER => {
                    retries += 1;
                    metrics::counter!(telemetry::RATE_LIMITED, "method" => telemetry::method_label(method))
                        .increment(1);
                    tracing::warn!(
                        method,
                        seconds,
                        retries,
                        "rate limited by Telegram, waiting"
                    );
                    tokio::time::sleep(Duration::from_secs(seconds)).await;
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::layers::fake::{Fake, refusal, run};
    use serde_json::json;

    fn rate_limited(seconds: u64) -> Result<Value, BotError> {
        Err(refusal(429, Some(seconds), None))
    }

    #[test]
    fn a_429_is_waited_out_and_retried() {
        let fake = Fake::new([
            rate_limited(2),
            rate_limited(1),
            Ok(json!({"message_id": 5})),
        ]);
        let retry = RetryAfter { inner: &fake };
        let (result, metrics) = run(retry.call("sendMessage", &json!({"chat_id": 1})));
        assert_eq!(
            result.expect("the third try is answered"),
            json!({"message_id": 5})
        );
        let seen = fake.seen();
        assert_eq!(seen.len(), 3);
        assert!(
            seen[1].2 - seen[0].2 >= Duration::from_secs(2),
            "waited retry_after"
        );
        assert!(
            seen[2].2 - seen[1].2 >= Duration::from_secs(1),
            "waited retry_after"
        );
        let line = format!("{}{{method=\"sendMessage\"}} 2", telemetry::RATE_LIMITED);
        assert!(metrics.contains(&line), "{line} in {metrics}");
    }

    #[test]
    fn a_429_is_given_up_after_the_last_retry_or_a_long_wait() {
        let fake = Fake::new((0..=MAX_RETRIES).map(|_| rate_limited(1)));
        let retry = RetryAfter { inner: &fake };
        let (result, _) = run(retry.call("sendMessage", &json!({})));
        assert_eq!(result.expect_err("given up").code(), Some(429));
        assert_eq!(fake.seen().len(), 1 + MAX_RETRIES as usize);

        let long = MAX_RETRY_AFTER.as_secs() + 1;
        let fake = Fake::new([rate_limited(long)]);
        let retry = RetryAfter { inner: &fake };
        let (result, metrics) = run(retry.call("sendMessage", &json!({})));
        assert!(
            matches!(result, Err(BotError::Api { retry_after: Some(s), .. }) if s == long),
            "returned to the script with its retry_after"
        );
        assert_eq!(fake.seen().len(), 1, "not retried");
        assert!(!metrics.contains(telemetry::RATE_LIMITED), "{metrics}");
    }

    #[test]
    fn other_refusals_are_not_retried() {
        let fake = Fake::new([Err(refusal(400, None, None))]);
        let retry = RetryAfter { inner: &fake };
        let (result, _) = run(retry.call("sendMessage", &json!({})));
        assert_eq!(result.expect_err("refused").code(), Some(400));
        assert_eq!(fake.seen().len(), 1);
    }
}
