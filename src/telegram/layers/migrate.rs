//! Following a group's upgrade: when Telegram answers that the group became a supergroup
//! (`migrate_to_chat_id`), the request is sent once more to the supergroup.

use crate::telegram::call::{BotError, Caller};
use serde_json::{Value, json};

/// Calls its inner caller again, once, with `chat_id` set to the supergroup when Telegram
/// answers a request that named a `chat_id` with `migrate_to_chat_id`. The parameters are
/// copied only then; a second migration answer is returned as it came.
#[derive(Clone)]
pub struct FollowMigration<C> {
    pub(super) inner: C,
}

impl<C: Caller> Caller for FollowMigration<C> {
    async fn call(&self, method: &str, params: &Value) -> Result<Value, BotError> {
        match self.inner.call(method, params).await {
            Err(BotError::Api {
                migrate_to_chat_id: Some(new_chat),
                ..
            }) if params.get("chat_id").is_some() => {
                tracing::info!(
                    method,
                    new_chat,
                    "group was upgraded to a supergroup, following"
                );
                let mut moved = params.clone();
                moved["chat_id"] = json!(new_chat);
                self.inner.call(method, &moved).await
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::layers::fake::{Fake, refusal, run};

    fn migrated(to: i64) -> Result<Value, BotError> {
        Err(refusal(400, None, Some(to)))
    }

    #[test]
    fn a_migration_is_followed_once_and_not_twice() {
        let fake = Fake::new([migrated(-1002), migrated(-1003)]);
        let follow = FollowMigration { inner: &fake };
        let params = json!({"chat_id": -1, "text": "hi"});
        let (result, _) = run(follow.call("sendMessage", &params));
        assert!(
            matches!(
                result,
                Err(BotError::Api {
                    migrate_to_chat_id: Some(-1003),
                    ..
                })
            ),
            "the second migration is the script's to see: {result:?}"
        );
        let chats: Vec<Value> = fake.seen().into_iter().map(|(_, p, _)| p).collect();
        assert_eq!(
            chats,
            [params.clone(), json!({"chat_id": -1002, "text": "hi"})]
        );

        let fake = Fake::new([migrated(-1002), Ok(json!({"message_id": 1}))]);
        let follow = FollowMigration { inner: &fake };
        let (result, _) = run(follow.call("sendMessage", &params));
        assert_eq!(result.expect("followed"), json!({"message_id": 1}));
        assert_eq!(fake.seen()[1].1["chat_id"], json!(-1002));
    }

    #[test]
    fn a_request_without_a_chat_is_not_followed() {
        let fake = Fake::new([migrated(-1002)]);
        let follow = FollowMigration { inner: &fake };
        let (result, _) = run(follow.call("getMe", &json!({})));
        assert!(result.is_err());
        assert_eq!(fake.seen().len(), 1);
    }
}
