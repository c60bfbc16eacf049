//! The Bot API client scripts use: a teloxide [`teloxide::Bot`] (token, API URL, HTTP client)
//! under the layers that apply Telegram's rules, composed here and only here (`layered`):
//! flood control is kept before each request, `429 retry_after` is waited out and retried
//! (bounded), `migrate_to_chat_id` is followed once, each request is counted, and every error
//! keeps Telegram's own description. The token never appears in errors.

use super::call::Caller;
use super::http::Http;
use super::layers::{CallerExt, Counted, FollowMigration, RetryAfter, Throttled};
use super::throttle::{FloodConfig, Throttle};
use serde_json::Value;
use std::sync::Arc;

pub use super::call::BotError;
pub use super::http::{REQUEST_TIMEOUT, parse_response};
pub use super::layers::{MAX_RETRIES, MAX_RETRY_AFTER};

/// The client's stack of layers around the transport `C`, outermost first.
type Layered<C> = FollowMigration<RetryAfter<Throttled<Counted<C>>>>;

/// `transport` in the client's layers, innermost first:
/// - counting, right around the transport: every request that goes out is counted once with
///   its own outcome, a retried one too;
/// - flood control inside the retries: a request sent again after a `429` takes a new turn
///   under the rates (it is a new message to Telegram), and one sent to the supergroup after
///   a migration takes the supergroup's turn, not the old group's;
/// - retries inside following a migration: the request is followed to the supergroup once,
///   and its `429`s are waited out there, with the supergroup's `chat_id`.
fn layered<C: Caller>(transport: C, throttle: Option<Arc<Throttle>>) -> Layered<C> {
    transport
        .counted()
        .throttled(throttle)
        .retrying()
        .following_migration()
}

/// A Bot API client: the bot's transport in its layers, flood control shared by its clones.
#[derive(Clone)]
pub struct BotClient {
    bot: teloxide::Bot,
    calls: Layered<Http>,
}

impl std::fmt::Debug for BotClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotClient")
            .field("api_url", &self.bot.api_url().as_str())
            .finish_non_exhaustive()
    }
}

impl BotClient {
    /// A client for `token` at `api_url` (Telegram's when `None`), using teloxide's HTTP
    /// client settings from the environment (`TELOXIDE_PROXY`).
    pub fn new(token: &str, api_url: Option<&str>) -> Result<Self, String> {
        // teloxide panics on a proxy it cannot use: refused here, as a configuration error.
        if let Some(proxy) = std::env::var("TELOXIDE_PROXY")
            .ok()
            .filter(|p| !p.is_empty())
        {
            reqwest::Proxy::all(&proxy).map_err(|e| {
                format!("TELOXIDE_PROXY is not a proxy address ({e}): set it to e.g. socks5://host:1080 or http://host:3128, or unset it")
            })?;
        }
        let mut bot = teloxide::Bot::with_client(token, teloxide::net::client_from_env());
        if let Some(url) = api_url {
            let url = reqwest::Url::parse(url)
                .map_err(|e| format!("TELOXIDE_API_URL is not a valid URL ({e})"))?;
            bot = bot.set_api_url(url);
        }
        let calls = layered(Http::new(bot.clone()), None);
        Ok(Self { bot, calls })
    }

    /// The same client, keeping to the rates of `flood` before each request.
    pub fn with_flood(mut self, flood: &FloodConfig) -> Self {
        let throttle = Throttle::new(flood, 1).map(Arc::new);
        self.calls = layered(Http::new(self.bot.clone()), throttle);
        self
    }

    /// A secret for `purpose` that only holders of this bot's token can compute (48 hex
    /// digits of SHA-256 over both): the same on every process that serves the bot.
    pub fn derived_secret(&self, purpose: &str) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(purpose.as_bytes())
            .chain_update([0])
            .chain_update(self.bot.token().as_bytes())
            .finalize();
        digest[..24].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The teloxide bot under the layers: its token, API URL and HTTP client (downloads
    /// fetch files with them).
    pub(super) fn teloxide(&self) -> &teloxide::Bot {
        &self.bot
    }

    /// Call Bot API `method` with JSON `params`, through the layers.
    pub async fn call(&self, method: &str, params: &Value) -> Result<Value, BotError> {
        self.calls.call(method, params).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::layers::fake::{Fake, refusal, run, throttle};
    use crate::telemetry;
    use serde_json::json;
    use std::time::Duration;

    /// 20 posts a minute into a group (one every 3 s), nothing else.
    fn per_group() -> Option<Arc<Throttle>> {
        throttle(0, 20)
    }

    #[test]
    fn a_retry_takes_a_new_turn_under_flood_control_and_is_counted_again() {
        // A 429 asking for 1 s: the retry waits that second, then the group's turn (3 s after
        // the first post), since flood control sits inside the retries.
        let fake = Fake::new([Err(refusal(429, Some(1), None))]);
        let client = layered(&fake, per_group());
        let (result, metrics) = run(client.call("sendMessage", &json!({"chat_id": -5})));
        result.expect("sent on the retry");
        let seen = fake.seen();
        assert_eq!(seen.len(), 2);
        assert!(
            seen[1].2 - seen[0].2 >= Duration::from_secs(3),
            "the retry waited for the group's next turn, not only retry_after"
        );
        for line in [
            format!(
                "{}{{method=\"sendMessage\",outcome=\"refused\"}} 1",
                telemetry::BOT_API_CALLS
            ),
            format!(
                "{}{{method=\"sendMessage\",outcome=\"ok\"}} 1",
                telemetry::BOT_API_CALLS
            ),
            format!("{}{{method=\"sendMessage\"}} 1", telemetry::RATE_LIMITED),
            format!("{}{{method=\"sendMessage\"}} 1", telemetry::FLOOD_WAITS),
        ] {
            assert!(metrics.contains(&line), "{line} in {metrics}");
        }
    }

    #[test]
    fn a_followed_migration_posts_under_the_supergroups_turn_and_retries_there() {
        // The old group's turn is taken by the first post; the supergroup's is free, so the
        // followed request goes at once; its 429 is retried with the supergroup's chat_id.
        let fake = Fake::new([
            Err(refusal(400, None, Some(-1009))),
            Err(refusal(429, Some(1), None)),
        ]);
        let client = layered(&fake, per_group());
        let (result, _) = run(client.call("sendMessage", &json!({"chat_id": -5})));
        result.expect("sent to the supergroup");
        let seen = fake.seen();
        let chats: Vec<&Value> = seen.iter().map(|(_, p, _)| &p["chat_id"]).collect();
        assert_eq!(chats, [&json!(-5), &json!(-1009), &json!(-1009)]);
        assert_eq!(seen[1].2, seen[0].2, "the supergroup's turn was free");
        assert!(seen[2].2 - seen[1].2 >= Duration::from_secs(3));
    }
}
