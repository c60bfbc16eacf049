"""python-telegram-bot as a client of the tgscript sandbox's Bot API server.

Usage: python ptb_sandbox.py URL TOKEN (the address and token the sandbox prints when it
starts). Calls every method the sandbox implements through PTB, which parses each answer
into its objects; prints `ok METHOD` per method, or `FAIL METHOD: why`, and exits 1 if any
failed (2 when python-telegram-bot is missing). Expects `/request dave` and `/request erin`
said in the sandbox first (join requests to approve and decline).
"""

import asyncio
import sys

try:
    from telegram import (
        Bot,
        BotCommand,
        ChatFullInfo,
        ChatInviteLink,
        ChatMemberAdministrator,
        ChatMemberBanned,
        ChatMemberLeft,
        ChatMemberMember,
        ChatMemberOwner,
        ChatMemberRestricted,
        ChatPermissions,
        InlineKeyboardButton,
        InlineKeyboardMarkup,
        Message,
        Update,
        User,
        WebhookInfo,
    )
    from telegram.error import BadRequest
except ImportError:
    print("python-telegram-bot is missing: run tests/run, which installs it", file=sys.stderr)
    sys.exit(2)

GROUP = -1001234567890
OWNER, ALICE, BOB, CAROL = 1000, 1001, 1002, 1003
BOT_ID = 7000000001
DAVE, ERIN = 1004, 1005
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)

failed = []


async def check(method, call, ok):
    """Await `call`; `ok(result)` says whether PTB's parsed result is what it should be."""
    try:
        result = await call
        if ok(result):
            print(f"ok {method}", flush=True)
            return result
        why = f"unexpected result {result!r}"
    except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
        why = f"{type(e).__name__}: {e}"
    failed.append(method)
    print(f"FAIL {method}: {why}", flush=True)
    return None


async def refused(method, call, words):
    """Await `call`, which Telegram refuses with `words`: PTB must parse the refusal."""
    try:
        await call
        why = "answered, but Telegram refuses it"
    except BadRequest as e:
        if words.lower() in e.message.lower():
            print(f"ok {method}", flush=True)
            return
        why = f"refused with {e.message!r}"
    except Exception as e:  # noqa: BLE001
        why = f"{type(e).__name__}: {e}"
    failed.append(method)
    print(f"FAIL {method}: {why}", flush=True)


async def main(url, token):
    bot = Bot(token, base_url=f"{url}bot", base_file_url=f"{url}file/bot")
    await bot.initialize()
    await check("getMe", bot.get_me(), lambda u: isinstance(u, User) and u.id == BOT_ID and u.is_bot)
    await check("getWebhookInfo", bot.get_webhook_info(), lambda w: isinstance(w, WebhookInfo))
    await check("setWebhook", bot.set_webhook("https://example.org/hook"), lambda r: r is True)
    await check("deleteWebhook", bot.delete_webhook(), lambda r: r is True)
    await check(
        "getChat",
        bot.get_chat(GROUP),
        lambda c: isinstance(c, ChatFullInfo) and c.type == "supergroup" and c.permissions.can_send_messages,
    )
    await check("getChat", bot.get_chat(BOB), lambda c: c.type == "private" and c.first_name == "Bob")
    await check("getChatMember", bot.get_chat_member(GROUP, ALICE), lambda m: isinstance(m, ChatMemberMember))
    await check("getChatMember", bot.get_chat_member(GROUP, OWNER), lambda m: isinstance(m, ChatMemberOwner))
    await check(
        "getChatMember",
        bot.get_chat_member(GROUP, BOT_ID),
        lambda m: isinstance(m, ChatMemberAdministrator) and m.can_restrict_members,
    )
    await check(
        "getChatMemberCount", bot.get_chat_member_count(GROUP), lambda n: isinstance(n, int) and n >= 5
    )
    await check(
        "getChatAdministrators",
        bot.get_chat_administrators(GROUP),
        lambda admins: {type(a) for a in admins} == {ChatMemberOwner, ChatMemberAdministrator},
    )
    await check(
        "restrictChatMember",
        bot.restrict_chat_member(GROUP, BOB, ChatPermissions(can_send_messages=False), until_date=3600),
        lambda r: r is True,
    )
    await check(
        "getChatMember",
        bot.get_chat_member(GROUP, BOB),
        lambda m: isinstance(m, ChatMemberRestricted) and not m.can_send_messages and m.is_member,
    )
    await check("banChatMember", bot.ban_chat_member(GROUP, CAROL), lambda r: r is True)
    await check("getChatMember", bot.get_chat_member(GROUP, CAROL), lambda m: isinstance(m, ChatMemberBanned))
    await check("unbanChatMember", bot.unban_chat_member(GROUP, CAROL, only_if_banned=True), lambda r: r is True)
    await check("getChatMember", bot.get_chat_member(GROUP, CAROL), lambda m: isinstance(m, ChatMemberLeft))
    await check(
        "promoteChatMember",
        bot.promote_chat_member(GROUP, ALICE, can_pin_messages=True, can_delete_messages=True),
        lambda r: r is True,
    )
    await check(
        "getChatMember",
        bot.get_chat_member(GROUP, ALICE),
        lambda m: isinstance(m, ChatMemberAdministrator) and m.can_pin_messages and not m.can_promote_members,
    )
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
    sent = await check(
        "sendMessage",
        bot.send_message(GROUP, "hello from PTB", reply_markup=keyboard),
        lambda m: isinstance(m, Message) and m.text == "hello from PTB" and m.chat.id == GROUP,
    )
    await check(
        "sendMessage",
        bot.send_message(BOB, "hello Bob"),
        lambda m: m.chat.type == "private" and m.chat.id == BOB,
    )
    message_id = sent.message_id if sent else 1
    await check(
        "editMessageText",
        bot.edit_message_text("edited by PTB", chat_id=GROUP, message_id=message_id, reply_markup=keyboard),
        lambda m: isinstance(m, Message) and m.text == "edited by PTB" and m.edit_date is not None,
    )
    await check(
        "editMessageReplyMarkup",
        bot.edit_message_reply_markup(chat_id=GROUP, message_id=message_id, reply_markup=None),
        lambda m: isinstance(m, Message) and m.reply_markup is None,
    )
    await check("pinChatMessage", bot.pin_chat_message(GROUP, message_id), lambda r: r is True)
    await check("unpinChatMessage", bot.unpin_chat_message(GROUP, message_id), lambda r: r is True)
    await check("unpinAllChatMessages", bot.unpin_all_chat_messages(GROUP), lambda r: r is True)
    photo = await check(
        "sendPhoto",
        bot.send_photo(GROUP, PNG, caption="a pixel"),
        lambda m: isinstance(m, Message) and m.photo and m.caption == "a pixel",
    )
    await check(
        "sendDocument",
        bot.send_document(GROUP, b"hello", filename="hello.txt"),
        lambda m: isinstance(m, Message) and m.document.file_name == "hello.txt",
    )
    if photo:
        await check("deleteMessage", bot.delete_message(GROUP, photo.message_id), lambda r: r is True)
    await check("setChatTitle", bot.set_chat_title(GROUP, "PTB Group"), lambda r: r is True)
    await check("setChatDescription", bot.set_chat_description(GROUP, "set by PTB"), lambda r: r is True)
    await check("setChatPhoto", bot.set_chat_photo(GROUP, PNG), lambda r: r is True)
    await check("getChat", bot.get_chat(GROUP), lambda c: c.title == "PTB Group" and c.photo is not None)
    await check("deleteChatPhoto", bot.delete_chat_photo(GROUP), lambda r: r is True)
    await check("banChatSenderChat", bot.ban_chat_sender_chat(GROUP, -1009999), lambda r: r is True)
    await check("unbanChatSenderChat", bot.unban_chat_sender_chat(GROUP, -1009999), lambda r: r is True)
    link = await check(
        "createChatInviteLink",
        bot.create_chat_invite_link(GROUP, name="ptb", member_limit=5),
        lambda l: isinstance(l, ChatInviteLink) and l.name == "ptb" and l.member_limit == 5,
    )
    if link:
        await check(
            "revokeChatInviteLink",
            bot.revoke_chat_invite_link(GROUP, link.invite_link),
            lambda l: isinstance(l, ChatInviteLink) and l.is_revoked,
        )
    await check(
        "exportChatInviteLink", bot.export_chat_invite_link(GROUP), lambda l: isinstance(l, str) and l
    )
    await check("approveChatJoinRequest", bot.approve_chat_join_request(GROUP, DAVE), lambda r: r is True)
    await check("declineChatJoinRequest", bot.decline_chat_join_request(GROUP, ERIN), lambda r: r is True)
    await check(
        "setMyCommands",
        bot.set_my_commands([BotCommand("start", "say hello"), BotCommand("help", "what I do")]),
        lambda r: r is True,
    )
    await check(
        "getMyCommands",
        bot.get_my_commands(),
        lambda cs: [c.command for c in cs] == ["start", "help"] and isinstance(cs[0], BotCommand),
    )
    await refused(
        "answerCallbackQuery", bot.answer_callback_query("no-such-query"), "query is too old"
    )
    await check(
        "getUpdates",
        bot.get_updates(timeout=0),
        lambda us: isinstance(us, tuple) and all(isinstance(u, Update) for u in us),
    )
    await check("logOut", bot.log_out(), lambda r: r is True)
    await check("close", bot.close(), lambda r: r is True)
    await bot.shutdown()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
    sys.exit(1 if failed else 0)
