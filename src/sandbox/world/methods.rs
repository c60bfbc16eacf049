//! The Bot API methods the sandbox answers: one table from a method's name to the function
//! of the concept that answers it ([`METHODS`]: the bot's connection, profile and the chat's
//! settings, members, messages, polls, topics, invite links, inline mode, payments; business
//! accounts in a table of their own), and the chat actions' methods it knowingly leaves out
//! ([`NOT_SIMULATED`]). Any other method gets a 404 that says it is not implemented.

use super::forum::{close_general, hide_general};
use super::{Refusal, World};
use crate::telegram::business::FIELD;
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
    ("sendmediagroup", World::send_media_group),
    ("editmessagetext", World::edit_message_text),
    ("editmessagereplymarkup", World::edit_message_reply_markup),
    ("deletemessage", World::delete_message),
    ("pinchatmessage", World::pin),
    ("unpinchatmessage", World::pin),
    ("unpinallchatmessages", World::pin),
    ("answercallbackquery", World::answer_callback_query),
    // The bot's profile (bot_profile.rs).
    ("setmydescription", |w, p| {
        w.set_description(p, "description")
    }),
    ("getmydescription", |w, p| {
        w.get_description(p, "description")
    }),
    ("setmyshortdescription", |w, p| {
        w.set_description(p, "short_description")
    }),
    ("getmyshortdescription", |w, p| {
        w.get_description(p, "short_description")
    }),
    ("deletemycommands", World::delete_my_commands),
    // Administrators' titles (roster.rs).
    (
        "setchatadministratorcustomtitle",
        World::set_administrator_title,
    ),
    // Files, contacts, dice and places (messages.rs, sends.rs).
    ("sendanimation", |w, p| w.send_file(p, "animation")),
    ("sendaudio", |w, p| w.send_file(p, "audio")),
    ("sendsticker", |w, p| w.send_file(p, "sticker")),
    ("sendvideo", |w, p| w.send_file(p, "video")),
    ("sendvideonote", |w, p| w.send_file(p, "video_note")),
    ("sendvoice", |w, p| w.send_file(p, "voice")),
    ("sendcontact", World::send_contact),
    ("senddice", World::send_dice),
    ("sendlocation", World::send_location),
    ("sendvenue", World::send_venue),
    // Polls (polls.rs).
    ("sendpoll", World::send_poll),
    ("stoppoll", World::stop_poll),
    // Copies and forwards (relay.rs), captions and media (edits.rs).
    ("copymessage", World::copy_message),
    ("forwardmessage", World::forward_message),
    ("editmessagecaption", World::edit_message_caption),
    ("editmessagemedia", World::edit_message_media),
    // Files (files.rs).
    ("getfile", World::get_file),
    // Chat actions and reactions (signals.rs).
    ("sendchataction", World::send_chat_action),
    ("setmessagereaction", World::set_message_reaction),
    // Forum topics (forum.rs).
    ("createforumtopic", World::create_forum_topic),
    ("editforumtopic", World::edit_forum_topic),
    ("closeforumtopic", |w, p| w.close_forum_topic(p, true)),
    ("reopenforumtopic", |w, p| w.close_forum_topic(p, false)),
    ("deleteforumtopic", World::delete_forum_topic),
    ("unpinallforumtopicmessages", World::unpin_topic_messages),
    ("editgeneralforumtopic", World::edit_general_forum_topic),
    ("closegeneralforumtopic", |w, p| {
        w.change_general(p, |g| close_general(g, true))
    }),
    ("reopengeneralforumtopic", |w, p| {
        w.change_general(p, |g| close_general(g, false))
    }),
    ("hidegeneralforumtopic", |w, p| {
        w.change_general(p, |g| hide_general(g, true))
    }),
    ("unhidegeneralforumtopic", |w, p| {
        w.change_general(p, |g| hide_general(g, false))
    }),
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

/// The business-only methods (business.rs). Any other call naming a business connection is
/// answered as sent on the account's behalf ([`World::call_through`]).
const BUSINESS_METHODS: &[(&str, Answer)] = &[
    ("getbusinessconnection", World::get_business_connection),
    ("readbusinessmessage", World::read_business_message),
    (
        "deletebusinessmessages",
        World::delete_business_messages_call,
    ),
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
        if let Some((_, answer)) = BUSINESS_METHODS.iter().find(|(name, _)| *name == lower) {
            return answer(self, params);
        }
        if params.get(FIELD).is_some_and(|id| !id.is_null()) {
            return self.call_through(&lower, params);
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
