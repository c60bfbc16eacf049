//! Flood control as a layer: each request waits for its turn under the bot's [`Throttle`]
//! before its inner caller sends it.

use crate::telegram::call::{BotError, Caller};
use crate::telegram::throttle::Throttle;
use crate::telemetry;
use serde_json::Value;
use std::sync::Arc;

/// Holds each request back until the bot's flood control lets it go (a post into a chat:
/// see [`crate::telegram::throttle`]), counting each wait in [`telemetry::FLOOD_WAITS`] and
/// its length in [`telemetry::flood_waited`]. Without a throttle (flood control off) it
/// passes every request straight on. The throttle is shared by the client's clones.
#[derive(Clone)]
pub struct Throttled<C> {
    pub(super) inner: C,
    pub(super) throttle: Option<Arc<Throttle>>,
}

impl<C: Caller> Caller for Throttled<C> {
    async fn call(&self, method: &str, params: &Value) -> Result<Value, BotError> {
        if let Some(throttle) = &self.throttle {
            let waited = throttle.wait(method, params.get("chat_id")).await;
            if !waited.is_zero() {
                metrics::counter!(telemetry::FLOOD_WAITS, "method" => telemetry::method_label(method))
                    .increment(1);
                telemetry::flood_waited(waited);
            }
        }
        self.inner.call(method, params).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::layers::fake::{Fake, run, throttle};
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn a_post_waits_for_its_turn_before_the_inner_call() {
        let fake = Fake::new([]);
        let throttled = Throttled {
            inner: &fake,
            // One message a second into a chat, nothing else.
            throttle: throttle(1, 0),
        };
        let chat = json!({"chat_id": 7});
        let (_, metrics) = run(async {
            for _ in 0..2 {
                throttled.call("sendMessage", &chat).await.expect("sent");
            }
            throttled
                .call("restrictChatMember", &chat)
                .await
                .expect("sent");
        });
        let seen = fake.seen();
        assert_eq!(seen.len(), 3);
        assert!(
            seen[1].2 - seen[0].2 >= Duration::from_secs(1),
            "the second post into the chat went a second after the first"
        );
        assert_eq!(seen[2].2, seen[1].2, "a restriction is not held back");
        let line = format!("{}{{method=\"sendMessage\"}} 1", telemetry::FLOOD_WAITS);
        assert!(metrics.contains(&line), "{line} in {metrics}");
    }

    #[test]
    fn without_a_throttle_nothing_waits() {
        let fake = Fake::new([]);
        let throttled = Throttled {
            inner: &fake,
            throttle: None,
        };
        let chat = json!({"chat_id": 7});
        let (_, metrics) = run(async {
            for _ in 0..2 {
                throttled.call("sendMessage", &chat).await.expect("sent");
            }
        });
        let seen = fake.seen();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1].2, seen[0].2);
        assert!(!metrics.contains(telemetry::FLOOD_WAITS), "{metrics}");
    }
}
