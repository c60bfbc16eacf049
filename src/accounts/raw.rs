//! Raw TDLib requests from scripts (`tdlib(#{"@type": ...})`): the allow-list, checked by the
//! builtin, again by the host whatever a worker says, and again by an account's owner in a
//! cluster.

/// The request types `tdlib()` may send, by name: the account's own sessions, blocks and
/// privacy, and reading its own profile. Everything else — its messages, chats, contacts,
/// payments and gifts, login URLs, its self-destruct timer, TDLib's log, parameters,
/// database, proxies, the client's life and files on the host — is refused: messages and
/// chats get named builtins, one tenant's scripts never read another's, and what an account
/// owner would regret (sending, paying, deleting) is never one raw request away.
pub const RAW_ALLOWED: &[&str] = &[
    "getMe",
    "getUser",
    "getUserFullInfo",
    "getOption",
    "getCountryCode",
    "getAuthorizationState",
    "getPasswordState",
    "getAccountTtl",
    "getActiveSessions",
    "terminateSession",
    "terminateAllOtherSessions",
    "toggleSessionCanAcceptCalls",
    "toggleSessionCanAcceptSecretChats",
    "confirmSession",
    "setInactiveSessionTtl",
    "getConnectedWebsites",
    "disconnectWebsite",
    "disconnectAllWebsites",
    "getBlockedMessageSenders",
    "setMessageSenderBlockList",
    "getUserPrivacySettingRules",
    "setUserPrivacySettingRules",
    "getNewChatPrivacySettings",
    "setNewChatPrivacySettings",
    "getReadDatePrivacySettings",
    "setReadDatePrivacySettings",
    "getArchiveChatListSettings",
    "setArchiveChatListSettings",
    "getDefaultMessageAutoDeleteTime",
    "setDefaultMessageAutoDeleteTime",
];

/// Whether a raw TDLib request of type `kind` may be sent: it is one of [`RAW_ALLOWED`]
/// (checked by the script's builtin and again by the host, whatever a worker says).
pub fn raw_allowed(kind: &str) -> Result<(), String> {
    match RAW_ALLOWED.contains(&kind) {
        true => Ok(()),
        false => Err(format!(
            "{kind} is not allowed from scripts: tdlib() sends only the account's own session, block and privacy requests ({})",
            RAW_ALLOWED.join(", ")
        )),
    }
}
