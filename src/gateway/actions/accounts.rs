//! The gateway's own account actions: accounts added, removed and listed (admin; a tenant's
//! client, its own), the
//! sandbox's stand-ins for Telegram (admin), and `subscribe` / `unsubscribe` (WebSocket only:
//! the connection answers them itself, see [`crate::gateway::subscribe`]).

use super::{Access, ActionSpec, Run, Subscription};
use crate::accounts::Drive;
use crate::commands::FieldSpec;
use crate::gateway::accounts::AccountAdmin;
use crate::gateway::{Client, Gateway};
use crate::request::{CommandError, Fields};
use serde_json::{Map, Value};

/// The accounts of the process, or the error of an action that needs them where none are.
fn accounts<'a>(gw: &'a Gateway, action: &str) -> Result<&'a AccountAdmin, CommandError> {
    gw.accounts
        .as_deref()
        .ok_or_else(|| CommandError::invalid(action, NOT_HERE))
}

/// `add_account`.
fn add_account(
    gw: &Gateway,
    client: &Client,
    action: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    accounts(gw, action)?.add(&Fields::new(action, request), client.tenant())
}

/// `remove_account`.
fn remove_account(
    gw: &Gateway,
    client: &Client,
    action: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    accounts(gw, action)?.remove(&Fields::new(action, request), client.tenant())
}

/// `list_accounts`.
fn list_accounts(
    gw: &Gateway,
    client: &Client,
    action: &str,
    _: &Map<String, Value>,
) -> Result<Value, CommandError> {
    Ok(accounts(gw, action)?.list(client.tenant()))
}

/// `sandbox_login_from`: someone logs in from a new device at `location`.
fn sandbox_login_from(
    gw: &Gateway,
    _: &Client,
    action: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let f = Fields::new(action, request);
    let location = f.opt_str("location")?.unwrap_or("Berlin, Germany");
    accounts(gw, action)?.drive(&f, Drive::LoginFrom(location.to_string()))
}

/// `sandbox_confirm_qr`: the QR link confirmed on another device.
fn sandbox_confirm_qr(
    gw: &Gateway,
    _: &Client,
    action: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    accounts(gw, action)?.drive(&Fields::new(action, request), Drive::ConfirmQr)
}

const NOT_HERE: &str = "this process does not manage accounts";
pub(in crate::gateway) const WEBSOCKET_ONLY: &str =
    "subscribe and unsubscribe need the WebSocket (/ws): POST /command answers one request";
const USERBOT_ID: FieldSpec = FieldSpec::required("userbot_id", "integer", "7", "the account");

/// `add_account`.
pub(super) const ADD_ACCOUNT: ActionSpec = ActionSpec {
    name: "add_account",
    access: Access::Tenant,
    doc: "Start an account in the running process and keep it in the database (it starts \
          again with the next `run` or `serve`); log it in with the login actions. A tdlib \
          account's database is `accounts/<id>` in the data dir.",
    fields: &[
        USERBOT_ID,
        FieldSpec::optional("backend", "string", "tdlib (a real account) or sandbox")
            .or(r#""tdlib""#),
        FieldSpec::optional("api_id", "integer", "Telegram API id").or(r#""[tdlib] api_id""#),
        FieldSpec::optional(
            "api_hash_env",
            "string",
            "the name of the environment variable holding the api_hash (never the hash)",
        )
        .or(r#""[tdlib] api_hash_env""#),
        FieldSpec::optional(
            "phone",
            "string",
            "the phone number login_start uses by default",
        ),
        FieldSpec::optional(
            "owner",
            "string",
            "the tenant whose scenarios may use it (a bot's tenant, else its id); without one it is every scenario's only while the process serves one tenant. A tenant's client adds its own (this field: its tenant or nothing; api_hash_env is refused)",
        )
        .eg(r#""acme""#),
    ],
    success: "{userbot_id, backend, authorization_state}",
    returns: r#"{"userbot_id": 7, "backend": "tdlib", "authorization_state": {"state": "starting", "@type": "authorizationStateWaitTdlibParameters"}}"#,
    errors: &[
        NOT_HERE,
        "userbot_id is required / account N exists already (remove_account it first)",
        "backend must be \"tdlib\" or \"sandbox\"",
        "account N: api_id is required for a tdlib account (or set [tdlib] api_id)",
        "account N: the environment variable X (api_hash_env) is not set",
        "libtdjson 1.8.61 not found …: run `tgscript tdlib install`",
    ],
    run: Run::Here(add_account),
};

/// `remove_account`.
pub(super) const REMOVE_ACCOUNT: ActionSpec = ActionSpec {
    name: "remove_account",
    access: Access::Tenant,
    doc: "Stop an account added through the gateway and forget it (accounts of the config \
          file stay).",
    fields: &[
        USERBOT_ID,
        FieldSpec::optional("log_out", "boolean", "log the account out first").or("false"),
        FieldSpec::optional("delete_data", "boolean", "delete its TDLib database").or("false"),
    ],
    success: "{userbot_id, removed, logged_out, data_deleted}",
    returns: r#"{"userbot_id": 7, "removed": true, "logged_out": false, "data_deleted": false}"#,
    errors: &[
        NOT_HERE,
        "unknown userbot_id N",
        "account N is in the config file: remove its [[account]] there",
    ],
    run: Run::Here(remove_account),
};

/// `list_accounts`.
pub(super) const LIST_ACCOUNTS: ActionSpec = ActionSpec {
    name: "list_accounts",
    access: Access::Tenant,
    doc: "Every account of the process with its authorization state.",
    fields: &[],
    success: "{accounts: [{userbot_id, backend, authorization_state, default, added_through}]}",
    returns: r#"{"accounts": [{"userbot_id": 7, "backend": "tdlib", "authorization_state": {"state": "ready", "@type": "authorizationStateReady"}, "default": true, "added_through": "gateway"}]}"#,
    errors: &[NOT_HERE],
    run: Run::Here(list_accounts),
};

/// `sandbox_login_from`.
pub(super) const SANDBOX_LOGIN_FROM: ActionSpec = ActionSpec {
    name: "sandbox_login_from",
    access: Access::Admin,
    doc: "Sandbox accounts only: someone logs in from a new device at `location`; the account \
          sends unconfirmed_session, as TDLib's updateUnconfirmedSession.",
    fields: &[
        USERBOT_ID,
        FieldSpec::optional("location", "string", "\"City, Country\" of the login")
            .or(r#""Berlin, Germany""#),
    ],
    success: "{userbot_id, session_id, location}",
    returns: r#"{"userbot_id": 1, "session_id": 2001, "location": "Lagos, Nigeria"}"#,
    errors: &[NOT_HERE, "account N is not a sandbox account"],
    run: Run::Here(sandbox_login_from),
};

/// `sandbox_confirm_qr`.
pub(super) const SANDBOX_CONFIRM_QR: ActionSpec = ActionSpec {
    name: "sandbox_confirm_qr",
    access: Access::Admin,
    doc: "Sandbox accounts only: the QR link of login_qr is confirmed on another device.",
    fields: &[USERBOT_ID],
    success: "{userbot_id, authorization_state}",
    returns: r#"{"userbot_id": 8, "authorization_state": {"state": "ready", "@type": "authorizationStateReady"}}"#,
    errors: &[
        NOT_HERE,
        "account N is not a sandbox account",
        "no QR link to confirm: the account is <state> (send login_qr first)",
    ],
    run: Run::Here(sandbox_confirm_qr),
};

/// `subscribe`.
pub(super) const SUBSCRIBE: ActionSpec = ActionSpec {
    name: "subscribe",
    access: Access::Anyone,
    doc: "WebSocket only: push account events to this connection (replacing its last \
          subscription): chat_update events authorization_state, unconfirmed_session, \
          connection_state, tdlib_update (TDLib update types named in `events`: admin token \
          only, they can carry private messages), and \
          events_dropped {count} after this client did not read for a while (at most 256 \
          events are kept for it).",
    fields: &[
        FieldSpec::optional(
            "userbot_ids",
            "list|string",
            "the accounts, or \"all\" (those added later too)",
        )
        .or(r#""all""#),
        FieldSpec::optional(
            "events",
            "list",
            "event kinds, or TDLib update types such as updateNewMessage",
        )
        .or(r#"["authorization_state", "unconfirmed_session", "connection_state"]"#),
    ],
    success: "{userbot_ids, events, buffer}",
    returns: r#"{"userbot_ids": "all", "events": ["authorization_state", "unconfirmed_session", "connection_state"], "buffer": 256}"#,
    errors: &[
        WEBSOCKET_ONLY,
        "userbot_ids must be a list of integers (or \"all\")",
        "unknown event kind 'x' (known: …)",
        "subscribing to updateX needs the admin token: TDLib's own updates can carry the account's private messages, …",
    ],
    run: Run::Connection(Subscription::Subscribe),
};

/// `unsubscribe`.
pub(super) const UNSUBSCRIBE: ActionSpec = ActionSpec {
    name: "unsubscribe",
    access: Access::Anyone,
    doc: "WebSocket only: stop this connection's account events.",
    fields: &[],
    success: "{unsubscribed}: whether there was a subscription",
    returns: r#"{"unsubscribed": true}"#,
    errors: &[WEBSOCKET_ONLY],
    run: Run::Connection(Subscription::Unsubscribe),
};
