//! Every kind of update the Bot API sends (version 9.6), each declared once: the key its
//! payload sits under (what `allowed_updates` names), the scenario handler it goes to, that
//! handler's parameter, what it is in a sentence, and an example payload for the docs.
//! Polling and the webhook ask for [`UpdateKind::allowed_updates`]; dispatch, `check` and
//! `tgscript docs` read the same table.

use strum::VariantArray;

/// A kind of Bot API update, by the key its payload sits under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, VariantArray)]
pub enum UpdateKind {
    /// `message`
    Message,
    /// `edited_message`
    EditedMessage,
    /// `channel_post`
    ChannelPost,
    /// `edited_channel_post`
    EditedChannelPost,
    /// `business_connection`
    BusinessConnection,
    /// `business_message`
    BusinessMessage,
    /// `edited_business_message`
    EditedBusinessMessage,
    /// `deleted_business_messages`
    DeletedBusinessMessages,
    /// `message_reaction`
    MessageReaction,
    /// `message_reaction_count`
    MessageReactionCount,
    /// `inline_query`
    InlineQuery,
    /// `chosen_inline_result`
    ChosenInlineResult,
    /// `callback_query`: a button press.
    CallbackQuery,
    /// `shipping_query`
    ShippingQuery,
    /// `pre_checkout_query`
    PreCheckoutQuery,
    /// `purchased_paid_media`
    PurchasedPaidMedia,
    /// `poll`
    Poll,
    /// `poll_answer`
    PollAnswer,
    /// `chat_member`: joins, leaves, promotions.
    ChatMember,
    /// `my_chat_member`: the bot's own membership.
    MyChatMember,
    /// `chat_join_request`
    ChatJoinRequest,
    /// `chat_boost`
    ChatBoost,
    /// `removed_chat_boost`
    RemovedChatBoost,
    /// `managed_bot`
    ManagedBot,
}

/// What tgscript knows of one kind of update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// The key its payload sits under, as `allowed_updates` names it.
    pub key: &'static str,
    /// The scenario function it goes to, with the payload as its one argument.
    pub handler: &'static str,
    /// That argument's name in the docs.
    pub param: &'static str,
    /// What the update is, in a sentence.
    pub doc: &'static str,
    /// Whether a scenario without [`Spec::handler`] gets it in `on_update` (every kind but
    /// messages, button presses and member changes, which never went there).
    pub else_on_update: bool,
    /// A payload as Telegram sends it (JSON), for the docs; `None` where the sandbox makes
    /// a real one.
    pub example: Option<&'static str>,
}

impl UpdateKind {
    /// Every kind, in the Bot API's order (but `chat_member` before `my_chat_member`: their
    /// shared handler is documented first for members).
    pub const ALL: &'static [UpdateKind] = UpdateKind::VARIANTS;

    /// What the kind is and where it goes.
    pub fn spec(self) -> Spec {
        use UpdateKind::*;
        const fn spec(
            key: &'static str,
            handler: &'static str,
            param: &'static str,
            doc: &'static str,
            example: Option<&'static str>,
        ) -> Spec {
            Spec {
                key,
                handler,
                param,
                doc,
                else_on_update: true,
                example,
            }
        }
        const fn own(spec: Spec) -> Spec {
            Spec {
                else_on_update: false,
                ..spec
            }
        }
        match self {
            Message => own(spec(
                "message",
                "on_message",
                "msg",
                "a message (not a command when the file has on_command, nor a payment when it has on_successful_payment)",
                None,
            )),
            EditedMessage => spec(
                "edited_message",
                "on_edited_message",
                "msg",
                "a new version of a message the bot saw (edit_date says when)",
                None,
            ),
            ChannelPost => spec(
                "channel_post",
                "on_channel_post",
                "msg",
                "a post in a channel the bot administers",
                Some(CHANNEL_POST),
            ),
            EditedChannelPost => spec(
                "edited_channel_post",
                "on_edited_channel_post",
                "msg",
                "a new version of a channel post",
                Some(EDITED_CHANNEL_POST),
            ),
            BusinessConnection => spec(
                "business_connection",
                "on_business_connection",
                "connection",
                "a business account connected the bot, changed its rights or disconnected it (is_enabled); its id is the business_connection_id of that account's updates",
                Some(BUSINESS_CONNECTION),
            ),
            BusinessMessage => spec(
                "business_message",
                "on_business_message",
                "msg",
                "a message in a chat of a connected business account (msg.business_connection_id says which)",
                Some(BUSINESS_MESSAGE),
            ),
            EditedBusinessMessage => spec(
                "edited_business_message",
                "on_edited_business_message",
                "msg",
                "a new version of a message in a connected business account's chat",
                Some(EDITED_BUSINESS_MESSAGE),
            ),
            DeletedBusinessMessages => spec(
                "deleted_business_messages",
                "on_deleted_business_messages",
                "deleted",
                "messages were deleted in a connected business account's chat (message_ids)",
                Some(DELETED_BUSINESS_MESSAGES),
            ),
            MessageReaction => spec(
                "message_reaction",
                "on_message_reaction",
                "reaction",
                "a user changed their reaction to a message (the bot must be an administrator of the chat; old_reaction, new_reaction)",
                Some(MESSAGE_REACTION),
            ),
            MessageReactionCount => spec(
                "message_reaction_count",
                "on_message_reaction_count",
                "reactions",
                "the anonymous reactions to a message changed (reactions with their total_count)",
                Some(MESSAGE_REACTION_COUNT),
            ),
            InlineQuery => spec(
                "inline_query",
                "on_inline_query",
                "query",
                "an inline query: \"@this_bot words\" typed in any chat",
                Some(INLINE_QUERY),
            ),
            ChosenInlineResult => spec(
                "chosen_inline_result",
                "on_chosen_inline_result",
                "result",
                "a user chose one of the bot's inline results (with inline feedback on at @BotFather)",
                Some(CHOSEN_INLINE_RESULT),
            ),
            CallbackQuery => own(spec(
                "callback_query",
                "on_callback_query",
                "query",
                "a press of an inline button",
                None,
            )),
            ShippingQuery => spec(
                "shipping_query",
                "on_shipping_query",
                "query",
                "a shipping address for an invoice with a flexible price, to answer with the shipping options",
                Some(SHIPPING_QUERY),
            ),
            PreCheckoutQuery => spec(
                "pre_checkout_query",
                "on_pre_checkout_query",
                "query",
                "a user is about to pay: Telegram waits at most 10 seconds for the answer",
                Some(PRE_CHECKOUT_QUERY),
            ),
            PurchasedPaidMedia => spec(
                "purchased_paid_media",
                "on_purchased_paid_media",
                "purchase",
                "a user bought paid media the bot sent outside a chat (paid_media_payload)",
                Some(PURCHASED_PAID_MEDIA),
            ),
            Poll => spec(
                "poll",
                "on_poll",
                "poll",
                "a new state of a poll the bot sent (votes, closed)",
                Some(POLL),
            ),
            PollAnswer => spec(
                "poll_answer",
                "on_poll_answer",
                "answer",
                "a user voted, or took back their vote, in a non-anonymous poll the bot sent",
                Some(POLL_ANSWER),
            ),
            ChatMember => own(spec(
                "chat_member",
                "on_chat_member",
                "update",
                "a member's status changed: joins, leaves, promotions (chat_member)",
                None,
            )),
            MyChatMember => own(spec(
                "my_chat_member",
                "on_chat_member",
                "update",
                "the bot's own status in a chat changed (my_chat_member)",
                None,
            )),
            ChatJoinRequest => spec(
                "chat_join_request",
                "on_chat_join_request",
                "request",
                "a request to join a chat, to approve or decline",
                None,
            ),
            ChatBoost => spec(
                "chat_boost",
                "on_chat_boost",
                "boost",
                "a chat was boosted, or a boost changed (the bot must be an administrator of the chat)",
                Some(CHAT_BOOST),
            ),
            RemovedChatBoost => spec(
                "removed_chat_boost",
                "on_removed_chat_boost",
                "removed",
                "a boost was removed from a chat",
                Some(REMOVED_CHAT_BOOST),
            ),
            ManagedBot => spec(
                "managed_bot",
                "on_managed_bot",
                "update",
                "a bot this bot manages was created, or its token or owner changed",
                Some(MANAGED_BOT),
            ),
        }
    }

    /// The key the payload sits under.
    pub fn key(self) -> &'static str {
        self.spec().key
    }

    /// The kind whose payload sits under `key`, if it is one this build knows.
    pub fn of_key(key: &str) -> Option<UpdateKind> {
        Self::ALL.iter().copied().find(|kind| kind.key() == key)
    }

    /// The `allowed_updates` polling and the webhook ask for: every kind.
    pub fn allowed_updates() -> Vec<&'static str> {
        Self::ALL.iter().map(|kind| kind.key()).collect()
    }
}

// Example payloads, shaped as the Bot API documents its objects.

const CHANNEL_POST: &str = r#"{"message_id": 31, "date": 1, "sender_chat": {"id": -1002000000001, "type": "channel", "title": "News"},
 "chat": {"id": -1002000000001, "type": "channel", "title": "News"}, "text": "Opening hours changed"}"#;

const EDITED_CHANNEL_POST: &str = r#"{"message_id": 31, "date": 1, "edit_date": 1,
 "sender_chat": {"id": -1002000000001, "type": "channel", "title": "News"},
 "chat": {"id": -1002000000001, "type": "channel", "title": "News"}, "text": "Opening hours changed: 9 to 18"}"#;

const BUSINESS_CONNECTION: &str = r#"{"id": "AbCdEfGh12345", "user": {"id": 1001, "is_bot": false, "first_name": "Alice"},
 "user_chat_id": 1001, "date": 1, "is_enabled": true,
 "rights": {"can_reply": true, "can_read_messages": true, "can_delete_sent_messages": true}}"#;

const BUSINESS_MESSAGE: &str = r#"{"message_id": 52, "date": 1, "business_connection_id": "AbCdEfGh12345",
 "from": {"id": 1002, "is_bot": false, "first_name": "Bob"},
 "chat": {"id": 1002, "type": "private", "first_name": "Bob"}, "text": "Are you open on Sunday?"}"#;

const EDITED_BUSINESS_MESSAGE: &str = r#"{"message_id": 52, "date": 1, "edit_date": 1, "business_connection_id": "AbCdEfGh12345",
 "from": {"id": 1002, "is_bot": false, "first_name": "Bob"},
 "chat": {"id": 1002, "type": "private", "first_name": "Bob"}, "text": "Are you open on Saturday?"}"#;

const DELETED_BUSINESS_MESSAGES: &str = r#"{"business_connection_id": "AbCdEfGh12345",
 "chat": {"id": 1002, "type": "private", "first_name": "Bob"}, "message_ids": [52, 53]}"#;

const MESSAGE_REACTION: &str = r#"{"chat": {"id": -1001234567890, "type": "supergroup", "title": "Sandbox group"},
 "message_id": 7, "user": {"id": 1001, "is_bot": false, "first_name": "Alice"}, "date": 1,
 "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}]}"#;

const MESSAGE_REACTION_COUNT: &str = r#"{"chat": {"id": -1002000000001, "type": "channel", "title": "News"},
 "message_id": 31, "date": 1, "reactions": [{"type": {"type": "emoji", "emoji": "🔥"}, "total_count": 12}]}"#;

const INLINE_QUERY: &str = r#"{"id": "4413622291234567", "from": {"id": 1001, "is_bot": false, "first_name": "Alice"},
 "query": "pizza", "offset": "", "chat_type": "private"}"#;

const CHOSEN_INLINE_RESULT: &str = r#"{"result_id": "margherita", "from": {"id": 1001, "is_bot": false, "first_name": "Alice"},
 "inline_message_id": "AAAAAgQXAAB7", "query": "pizza"}"#;

const SHIPPING_QUERY: &str = r#"{"id": "shq-7781", "from": {"id": 1001, "is_bot": false, "first_name": "Alice"},
 "invoice_payload": "order-42", "shipping_address": {"country_code": "DE", "state": "", "city": "Berlin",
 "street_line1": "Unter den Linden 1", "street_line2": "", "post_code": "10117"}}"#;

const PRE_CHECKOUT_QUERY: &str = r#"{"id": "pcq-5512", "from": {"id": 1001, "is_bot": false, "first_name": "Alice"},
 "currency": "XTR", "total_amount": 50, "invoice_payload": "order-42"}"#;

const PURCHASED_PAID_MEDIA: &str = r#"{"from": {"id": 1001, "is_bot": false, "first_name": "Alice"},
 "paid_media_payload": "album-7"}"#;

const POLL: &str = r#"{"id": "5233701", "question": "Lunch?", "options": [{"text": "Pizza", "voter_count": 3},
 {"text": "Soup", "voter_count": 1}], "total_voter_count": 4, "is_closed": false, "is_anonymous": true,
 "type": "regular", "allows_multiple_answers": false}"#;

const POLL_ANSWER: &str = r#"{"poll_id": "5233701", "user": {"id": 1001, "is_bot": false, "first_name": "Alice"},
 "option_ids": [0]}"#;

const CHAT_BOOST: &str = r#"{"chat": {"id": -1002000000001, "type": "channel", "title": "News"},
 "boost": {"boost_id": "b-91", "add_date": 1, "expiration_date": 1,
 "source": {"source": "premium", "user": {"id": 1001, "is_bot": false, "first_name": "Alice"}}}}"#;

const REMOVED_CHAT_BOOST: &str = r#"{"chat": {"id": -1002000000001, "type": "channel", "title": "News"},
 "boost_id": "b-91", "remove_date": 1,
 "source": {"source": "premium", "user": {"id": 1001, "is_bot": false, "first_name": "Alice"}}}"#;

const MANAGED_BOT: &str = r#"{"user": {"id": 1001, "is_bot": false, "first_name": "Alice"},
 "bot": {"id": 7000000001, "is_bot": true, "first_name": "Alice's shop", "username": "alice_shop_bot"}}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_own_key_and_its_example_parses() {
        let keys: std::collections::BTreeSet<&str> =
            UpdateKind::ALL.iter().map(|k| k.key()).collect();
        assert_eq!(keys.len(), UpdateKind::ALL.len());
        for kind in UpdateKind::ALL {
            assert_eq!(UpdateKind::of_key(kind.key()), Some(*kind));
            if let Some(example) = kind.spec().example {
                let parsed: serde_json::Value =
                    serde_json::from_str(example).unwrap_or_else(|e| panic!("{}: {e}", kind.key()));
                assert!(parsed.is_object(), "{}", kind.key());
            }
        }
    }
}
