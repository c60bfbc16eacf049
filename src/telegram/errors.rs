//! Telegram's refusals in Telegram's own words, plus the hint a script author needs.

/// A hint for a Bot API error description, for the refusals scripts commonly meet.
pub fn hint(description: &str) -> Option<&'static str> {
    let d = description.to_ascii_lowercase();
    let hints: &[(&str, &str)] = &[
        (
            "not enough rights",
            "the bot must be an administrator of the chat with the right needed for this (for restrictions: \"Ban users\" / can_restrict_members)",
        ),
        (
            "can't restrict self",
            "the bot cannot restrict itself: check the user_id",
        ),
        (
            "user is an administrator",
            "administrators cannot be restricted or banned: demote them first",
        ),
        (
            "can't remove chat owner",
            "the chat owner cannot be restricted, banned or demoted",
        ),
        (
            "chat owner",
            "the chat owner cannot be restricted, banned or demoted",
        ),
        (
            "only for supergroups",
            "this works only in supergroups: convert the group (any public link or a change of history visibility does it)",
        ),
        (
            "chat not found",
            "check the chat id (supergroup ids start with -100) and that the bot is a member of the chat",
        ),
        (
            "user not found",
            "check the user id: the user must have talked to the bot or be a member of the chat",
        ),
        (
            "participant_id_invalid",
            "the user is not a member of the chat",
        ),
        (
            "message to delete not found",
            "the message was already deleted, or is older than 48 hours",
        ),
        (
            "message can't be deleted",
            "the bot needs the right to delete messages, and messages older than 48 hours cannot be deleted",
        ),
        (
            "invalid file_id",
            "check the file_id: take it from a message this bot received or sent (file ids are per bot)",
        ),
        (
            "wrong file_id",
            "check the file_id: take it from a message this bot received or sent (file ids are per bot)",
        ),
        (
            "file is too big",
            "Telegram's Bot API serves files up to 20 MB; a local Bot API server (--local) serves larger ones",
        ),
        (
            "unauthorized",
            "the bot token is wrong or was revoked: check TELOXIDE_TOKEN",
        ),
    ];
    hints
        .iter()
        .find(|(needle, _)| d.contains(needle))
        .map(|(_, hint)| *hint)
}
