//! The Bot API methods the sandbox answers: one table from a method's name to the function
//! of the concept that answers it ([`METHODS`]: the bot's connection and the chat's settings,
//! members, messages, invite links, inline mode, payments), and the chat actions' methods it knowingly
//! leaves out ([`NOT_SIMULATED`]). Any other method gets a 404 that says it is not
//! implemented.

use super::{Refusal, World};
use serde_json::{Map, Value};

/// What answers one method: the world, the call's parameters, Telegram's result or refusal.
type Answer = fn(&mut World, &Map<String, Value>) -> Result<Value, Refusal>;

/// Every method the sandbox answers (its name in lower case) and what answers it.
const METHODS: &[(&str, Answer)] = &[
    // The bot and its connection (settings.rs).
    ("getme", World::get_me),
    ("setwebhook", World::set_webhook),
    ("deletewebhook", World::delete_webhook),
    ("getwebhookinfo", World::get_webhook_info),
    ("close", World::confirm),
    ("logout", World::confirm),
    ("setmycommands", World::set_my_commands),
    ("getmycommands", World::get_my_commands),
    // The chat and its settings (settings.rs).
    ("getchat", World::get_chat),
    ("setchattitle", World::set_chat_title),
    ("setchatdescription", World::set_chat_description),
    ("setchatphoto", World::set_chat_photo),
    ("deletechatphoto", World::delete_chat_photo),
    // Members (members.rs).
    ("getchatmember", World::get_chat_member),
    ("getchatadministrators", World::get_chat_administrators),
    ("getchatmembercount", World::get_chat_member_count),
    ("restrictchatmember", World::restrict_chat_member),
    ("banchatmember", World::ban_chat_member),
    ("unbanchatmember", World::unban_chat_member),
    ("promotechatmember", World::promote_chat_member),
    ("approvechatjoinrequest", |w, p| {
        w.answer_join_request(p, true)
    }),
    ("declinechatjoinrequest", |w, p| {
        w.answer_join_request(p, false)
    }),
    ("banchatsenderchat", |w, p| w.ban_sender_chat(p, true)),
    ("unbanchatsenderchat", |w, p| w.ban_sender_chat(p, false)),
    // Messages (messages.rs).
    ("sendmessage", World::send_message),
    ("sendphoto", |w, p| w.send_file(p, "photo")),
    ("senddocument", |w, p| w.send_file(p, "document")),
    ("editmessagetext", World::edit_message_text),
    ("editmessagereplymarkup", World::edit_message_reply_markup),
    ("deletemessage", World::delete_message),
    ("pinchatmessage", World::pin),
    ("unpinchatmessage", World::pin),
    ("unpinallchatmessages", World::pin),
    ("answercallbackquery", World::answer_callback_query),
    // Invite links (invite_links.rs).
    ("createchatinvitelink", World::create_chat_invite_link),
    ("exportchatinvitelink", World::export_chat_invite_link),
    ("revokechatinvitelink", World::revoke_chat_invite_link),
    // Inline mode (inline.rs).
    ("answerinlinequery", World::answer_inline_query),
    // Payments (payments.rs).
    ("sendinvoice", World::send_invoice),
    ("createinvoicelink", World::create_invoice_link),
    ("answerprecheckoutquery", World::answer_pre_checkout_query),
    ("answershippingquery", World::answer_shipping_query),
    ("refundstarpayment", World::refund_star_payment),
    (
        "edituserstarsubscription",
        World::edit_user_star_subscription,
    ),
    ("getstartransactions", World::get_star_transactions),
    ("sendpaidmedia", World::send_paid_media),
];

/// The Bot API methods of chat actions (`crate::commands::chat::ACTIONS`) the sandbox does
/// not answer, each with the reason: in the sandbox such an action gets the 404 below. A
/// test asks the running server for every action's method and fails on one neither
/// answered nor listed here, and on one listed here that is answered after all.
pub const NOT_SIMULATED: &[(&str, &str)] = &[];

impl World {
    /// Answer Bot API `method` (case-insensitive) with `params`, as Telegram would; a
    /// failure queued by [`World::fail_next`] comes first.
    pub fn call(&mut self, method: &str, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let lower = method.to_ascii_lowercase();
        if let Some(i) = self.failures.iter().position(|(m, _)| *m == lower) {
            return Err(self.failures.remove(i).1);
        }
        match METHODS.iter().find(|(name, _)| *name == lower) {
            Some((_, answer)) => answer(self, params),
            None => Err(Refusal {
                code: 404,
                description: format!("Not Found: method not implemented in the sandbox: {method}"),
                parameters: None,
            }),
        }
    }
}
