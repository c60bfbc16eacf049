//! Account events pushed to WebSocket clients: `subscribe` (accounts and event kinds) and
//! `unsubscribe`. Each connection has at most one subscription (a new `subscribe` replaces
//! it) with a bounded queue ([`BUFFER`]): a client that does not read loses the newest events
//! past it and then gets `events_dropped` with the count; other clients are not affected.

use super::Client;
use super::actions::Subscription;
use super::request::Asked;
use crate::accounts::auth::{
    UPDATE_AUTHORIZATION_STATE, UPDATE_CONNECTION_STATE, UPDATE_UNCONFIRMED_SESSION,
};
use crate::accounts::events::{Delivery, EventHub, Filter};
use crate::effects::Caller;
use crate::host::Host;
use crate::request::as_int;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Events one subscription keeps for a client that is not reading.
pub const BUFFER: usize = 256;
/// The event kinds of a `subscribe` that names none.
pub const DEFAULT_EVENTS: &[&str] = &[
    "authorization_state",
    "unconfirmed_session",
    "connection_state",
];

/// The named event kinds and the TDLib update each stands for; any other TDLib update type
/// (`updateNewMessage`, …) may be named as is and comes as `tdlib_update`.
const NAMED: &[(&str, &str)] = &[
    ("authorization_state", UPDATE_AUTHORIZATION_STATE),
    ("unconfirmed_session", UPDATE_UNCONFIRMED_SESSION),
    ("connection_state", UPDATE_CONNECTION_STATE),
];

/// The events a subscription pushes: name, what `data` holds, an example event (JSON text).
pub const PUSHED: &[(&str, &str, &str)] = &[
    (
        "authorization_state",
        "the account's new authorization state: {state, @type, next?, code_sent_via?, password_hint?, link?, error?}",
        r#"{"v": 1, "type": "chat_update", "event": "authorization_state", "userbot_id": 7, "data": {"state": "wait_code", "@type": "authorizationStateWaitCode", "next": "login_code", "code_sent_via": "sms"}}"#,
    ),
    (
        "unconfirmed_session",
        "a login from a new device waits for confirmation (TDLib's updateUnconfirmedSession): {session: {id, log_in_date, device_model, location}}, or {session: null} once none does",
        r#"{"v": 1, "type": "chat_update", "event": "unconfirmed_session", "userbot_id": 7, "data": {"session": {"@type": "unconfirmedSession", "id": 2001, "log_in_date": 1796000000, "device_model": "iPhone 15", "location": "Lagos, Nigeria"}}}"#,
    ),
    (
        "connection_state",
        "TDLib's connection to Telegram: {@type: connectionStateWaitingForNetwork | …Connecting | …Updating | …Ready}",
        r#"{"v": 1, "type": "chat_update", "event": "connection_state", "userbot_id": 7, "data": {"@type": "connectionStateConnecting"}}"#,
    ),
    (
        "tdlib_update",
        "a TDLib update of a type named in `events`, as TDLib sends it (without @extra / @client_id)",
        r#"{"v": 1, "type": "chat_update", "event": "tdlib_update", "userbot_id": 7, "data": {"@type": "updateOption", "name": "version", "value": {"@type": "optionValueString", "value": "1.8.61"}}}"#,
    ),
    (
        "events_dropped",
        "this client did not read: {count} newer events were dropped (at most 256 are kept for it)",
        r#"{"v": 1, "type": "chat_update", "event": "events_dropped", "data": {"count": 12, "why": "this client did not read its events; at most 256 are kept"}}"#,
    ),
];

/// The TDLib update type an event kind stands for.
fn update_type(kind: &str) -> Result<String, String> {
    if let Some((_, update)) = NAMED.iter().find(|(name, _)| *name == kind) {
        return Ok(update.to_string());
    }
    let tdlib = kind
        .strip_prefix("update")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
        && kind.chars().all(|c| c.is_ascii_alphanumeric());
    if tdlib {
        Ok(kind.to_string())
    } else {
        let named: Vec<&str> = NAMED.iter().map(|(name, _)| *name).collect();
        Err(format!(
            "unknown event kind '{kind}' (known: {}, or a TDLib update type such as updateNewMessage)",
            named.join(", ")
        ))
    }
}

/// The event name a TDLib update comes as.
fn event_name(update_type: &str) -> &'static str {
    NAMED
        .iter()
        .find(|(_, update)| *update == update_type)
        .map_or("tdlib_update", |(name, _)| name)
}

/// The event a delivery is sent as.
fn event(delivery: Delivery) -> String {
    match delivery {
        Delivery::Event(event) => {
            let kind = event.kind().to_string();
            let mut data = event.update;
            let data = match event_name(&kind) {
                "authorization_state" => data["authorization_state"].take(),
                "unconfirmed_session" => json!({"session": data["session"].take()}),
                "connection_state" => data["state"].take(),
                _ => {
                    if let Some(map) = data.as_object_mut() {
                        map.remove("@extra");
                        map.remove("@client_id");
                    }
                    data
                }
            };
            let mut pushed = super::events::event(event_name(&kind));
            pushed["userbot_id"] = json!(event.userbot_id);
            pushed["data"] = data;
            pushed
        }
        Delivery::Dropped(count) => {
            let mut pushed = super::events::event("events_dropped");
            pushed["data"] = json!({"count": count, "why": format!("this client did not read its events; at most {BUFFER} are kept")});
            pushed
        }
    }
    .to_string()
}

/// The subscription of one connection.
#[derive(Default)]
pub struct Subscriber {
    forwarding: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Subscriber {
    fn stop(&mut self) {
        if let Some(task) = self.forwarding.take() {
            task.abort();
        }
    }

    /// Answer a `subscribe` or `unsubscribe` request: the event to send, and (subscribe)
    /// start sending the events on `out` after it.
    /// TDLib update types named in `events` need the admin token: they can carry the
    /// account's private messages, login codes among them. A tenant's `client` gets its own
    /// accounts' events only (those of `host`'s accounts the tenant reaches, asked as each
    /// comes); naming another's is an error.
    pub(super) async fn handle(
        &mut self,
        what: Subscription,
        hub: Option<&Arc<EventHub>>,
        asked: &Asked,
        out: &super::outbox::Outbox,
        client: &Client,
        host: Option<&Host>,
    ) {
        let (action, request) = (asked.action.name(), &asked.fields);
        let mut answer = super::events::event(action);
        if let Some(id) = asked.request_id() {
            answer["request_id"] = id.clone();
        }
        let warnings = asked.action.warnings(request);
        if !warnings.is_empty() {
            answer["warnings"] = json!(warnings);
        }
        let result = match (what, hub) {
            (Subscription::Unsubscribe, _) => {
                let was = self.forwarding.is_some();
                self.stop();
                Ok((json!({"unsubscribed": was}), None))
            }
            (_, None) => Err("this process has no accounts to subscribe to".to_string()),
            (_, Some(hub)) => filter(request, client, host).map(|(filter, data, tenant)| {
                self.stop();
                let subscription = match tenant {
                    None => hub.subscribe(filter, BUFFER),
                    Some(caller) => hub.subscribe_where(
                        move |event| filter.takes(event) && caller.reaches(event.userbot_id),
                        BUFFER,
                    ),
                };
                (data, Some(subscription))
            }),
        };
        match result {
            Ok((data, subscription)) => {
                answer["data"] = data;
                if !out.send(answer.to_string()) {
                    return;
                }
                if let Some(subscription) = subscription {
                    let out = out.clone();
                    self.forwarding = Some(tokio::spawn(async move {
                        loop {
                            let delivery = subscription.next().await;
                            if !out.send_when_room(event(delivery)).await {
                                return;
                            }
                        }
                    }));
                }
            }
            Err(error) => {
                answer["event"] = json!(format!("{action}_error"));
                answer["error"] = json!(error);
                out.send(answer.to_string());
            }
        }
    }
}

/// The filter of a `subscribe` request (`userbot_ids`: a list, absent = all accounts;
/// `events`: a list of kinds, absent = [`DEFAULT_EVENTS`]), the answer's data, and for a
/// tenant's `client` who it is (its accounts' events only).
fn filter(
    request: &Map<String, Value>,
    client: &Client,
    host: Option<&Host>,
) -> Result<(Filter, Value, Option<Caller>), String> {
    let tenant = match (client.tenant(), host) {
        (None, _) => None,
        (Some(tenant), Some(host)) => Some(host.client_of(tenant)),
        (Some(_), None) => return Err("this gateway takes no tenant's client".into()),
    };
    let accounts = match request.get("userbot_ids") {
        None | Some(Value::Null) => None,
        Some(Value::String(all)) if all == "all" => None,
        Some(Value::Array(ids)) => Some(
            ids.iter()
                .map(|id| as_int(id).ok_or("userbot_ids must be a list of integers (or \"all\")"))
                .collect::<Result<_, _>>()?,
        ),
        Some(_) => return Err("userbot_ids must be a list of integers (or \"all\")".into()),
    };
    let kinds: Vec<String> = match request.get("events") {
        None | Some(Value::Null) => DEFAULT_EVENTS.iter().map(|k| k.to_string()).collect(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .map(|k| {
                k.as_str()
                    .map(str::to_string)
                    .ok_or("events must be a list of strings")
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("events must be a list of strings".into()),
    };
    let types: std::collections::BTreeSet<String> = kinds
        .iter()
        .map(|k| update_type(k))
        .collect::<Result<_, _>>()?;
    let raw = types.iter().find(|t| event_name(t) == "tdlib_update");
    if let (Some(raw), false) = (raw, *client == Client::Admin) {
        return Err(format!(
            "subscribing to {raw} needs the admin token: TDLib's own updates can carry the account's private messages, login codes among them"
        ));
    }
    let data = json!({
        "userbot_ids": accounts.as_ref().map_or(json!("all"), |ids: &std::collections::BTreeSet<i64>| json!(ids)),
        "events": kinds,
        "buffer": BUFFER,
    });
    if let (Some(caller), Some(ids)) = (&tenant, &accounts)
        && let Some(id) = ids.iter().find(|id| !caller.reaches(**id))
    {
        return Err(crate::accounts::AccountsError::NotOwned {
            id: *id,
            tenant: caller.tenant_name().to_string(),
        }
        .to_string());
    }
    Ok((
        Filter {
            accounts,
            kinds: Some(types),
        },
        data,
        tenant,
    ))
}
