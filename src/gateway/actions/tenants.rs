//! The admin's actions over the tenants' gateway tokens: one added for a tenant (shown once,
//! kept as a hash), the tokens listed, one removed.

use super::{Access, ActionSpec, Run};
use crate::commands::FieldSpec;
use crate::config::valid_bot_id;
use crate::gateway::{Client, Gateway, tenants::NO_STORE};
use crate::request::{CommandError, Fields};
use crate::store::TOKEN_ID_DIGITS;
use serde_json::{Map, Value, json};

/// `add_tenant_token`.
pub(super) const ADD_TENANT_TOKEN: ActionSpec = ActionSpec {
    name: "add_tenant_token",
    access: Access::Admin,
    doc: "Make a gateway token for a tenant: a client sending it sees and acts on the tenant's \
          own bots, accounts, scripts, inbox and activity only (give it to the customer, e.g. \
          for the web console). The token is in this answer only: it is kept as a SHA-256 \
          hash, in the store (every instance of a cluster takes it).",
    fields: &[FieldSpec::required(
        "tenant",
        "string",
        r#""acme""#,
        "the tenant: a bot's `tenant` (else its id), an account's `owner`",
    )],
    success: "{tenant, token, id}: the token (shown once) and its id (to list or remove it)",
    returns: r#"{"tenant": "acme", "token": "tgs_4f1c…", "id": "9a0b1c2d3e4f"}"#,
    errors: &[
        "tenant is required / tenant: use 1–64 letters, digits, `_` or `-`",
        "set [gateway] token first: …",
        NO_STORE,
    ],
    run: Run::Here(add),
};

/// `list_tenant_tokens`.
pub(super) const LIST_TENANT_TOKENS: ActionSpec = ActionSpec {
    name: "list_tenant_tokens",
    access: Access::Admin,
    doc: "The tenants' tokens added over the gateway (by id: the first hex digits of the \
          token's hash; never the token), and the tenants with a token in the config.",
    fields: &[],
    success: "{tokens: [{id, tenant, created_at}], configured: [{tenant, tokens}]}",
    returns: r#"{"tokens": [{"id": "9a0b1c2d3e4f", "tenant": "acme", "created_at": 1796000000}], "configured": [{"tenant": "shop", "tokens": 1}]}"#,
    errors: &[NO_STORE],
    run: Run::Here(list),
};

/// `remove_tenant_token`.
pub(super) const REMOVE_TENANT_TOKEN: ActionSpec = ActionSpec {
    name: "remove_tenant_token",
    access: Access::Admin,
    doc: "Remove a tenant's token added over the gateway: its clients are refused from their \
          next request (a WebSocket already open keeps its requests until it closes).",
    fields: &[FieldSpec::required(
        "id",
        "string",
        r#""9a0b1c2d3e4f""#,
        "the token's id, as add_tenant_token and list_tenant_tokens give it",
    )],
    success: "{id, removed: true}",
    returns: r#"{"id": "9a0b1c2d3e4f", "removed": true}"#,
    errors: &["id is required / no token has id \"x\"", NO_STORE],
    run: Run::Here(remove),
};

/// The string field `name` of `request`, which is required.
fn text<'a>(
    action: &'a str,
    request: &'a Map<String, Value>,
    name: &str,
) -> Result<&'a str, CommandError> {
    let fields = Fields::new(action, request);
    fields
        .opt_str(name)?
        .ok_or_else(|| fields.error(format!("{name} is required")))
}

fn add(
    gw: &Gateway,
    _: &Client,
    action: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let tenant = text(action, request, "tenant")?;
    if !valid_bot_id(tenant) {
        return Err(CommandError::invalid(
            action,
            "tenant: use 1–64 letters, digits, `_` or `-`",
        ));
    }
    if !gw.requires_token() {
        return Err(CommandError::invalid(
            action,
            "set [gateway] token first: without it every client without a token is the operator, and a tenant's token would limit nothing",
        ));
    }
    let (token, id) = gw
        .tenants
        .add(tenant, crate::effects::system_now())
        .map_err(|e| CommandError::invalid(action, e))?;
    crate::logging::add_secret(&token);
    tracing::info!("gateway: a token for tenant {tenant:?} was added (id {id})");
    Ok(json!({"tenant": tenant, "token": token, "id": id}))
}

fn list(
    gw: &Gateway,
    _: &Client,
    action: &str,
    _: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let store = gw
        .tenants
        .store()
        .ok_or_else(|| CommandError::invalid(action, NO_STORE))?;
    let tokens = store
        .tenant_tokens()
        .map_err(|e| CommandError::invalid(action, e.to_string()))?;
    let configured: Vec<Value> = gw
        .tenants
        .configured_tenants()
        .into_iter()
        .map(|(tenant, tokens)| json!({"tenant": tenant, "tokens": tokens}))
        .collect();
    Ok(json!({
        "tokens": tokens
            .iter()
            .map(|t| json!({"id": t.id, "tenant": t.tenant, "created_at": t.created_at}))
            .collect::<Vec<_>>(),
        "configured": configured,
    }))
}

fn remove(
    gw: &Gateway,
    _: &Client,
    action: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let id = text(action, request, "id")?;
    let store = gw
        .tenants
        .store()
        .ok_or_else(|| CommandError::invalid(action, NO_STORE))?;
    let well_formed = id.len() == TOKEN_ID_DIGITS && id.bytes().all(|b| b.is_ascii_hexdigit());
    let removed = match well_formed {
        true => store
            .remove_tenant_token(&id.to_ascii_lowercase())
            .map_err(|e| CommandError::invalid(action, e.to_string()))?,
        false => 0,
    };
    if removed == 0 {
        return Err(CommandError {
            code: Some(404),
            ..CommandError::invalid(action, format!("no token has id {id:?}"))
        });
    }
    tracing::info!("gateway: tenant token {id} was removed");
    Ok(json!({"id": id, "removed": true}))
}
