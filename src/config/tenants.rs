//! `[[tenant]]`: what the operator grants one tenant (a customer whose bots say `tenant =
//! "<name>"`, or a bot of its own): a gateway token of its own, and the hosts its scripts'
//! outbound HTTP may reach.

use super::bots::valid_bot_id;
use serde::{Deserialize, Serialize};

/// `[[tenant]]`: one tenant's grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// The tenant: a `[[bot]]`'s `tenant` (else its id), an account's `owner`.
    pub name: String,
    /// The environment variable holding the tenant's gateway token (never the token itself):
    /// a client sending it sees and acts on the tenant's bots, accounts, scripts, inbox and
    /// activity only.
    pub token_env: Option<String>,
    /// The hosts its scripts' outbound HTTP may reach (`api.example.com`, `*.example.com`),
    /// each also allowed by `[http] allow`; unset: `[http] allow` as it is. Empty: none.
    pub http_allow: Option<Vec<String>>,
}

/// The first thing wrong with `tenants` (given whether `[gateway] token` is set), as
/// `(key, message)`.
pub(super) fn refusal(tenants: &[TenantConfig], gateway_token: bool) -> Option<(String, String)> {
    tenants.iter().enumerate().find_map(|(n, tenant)| {
        let key = |field: &str| format!("tenant[{n}].{field}");
        if !valid_bot_id(&tenant.name) {
            return Some((
                key("name"),
                format!(
                    "{:?} is not a tenant name: use 1–64 letters, digits, `_` or `-`",
                    tenant.name
                ),
            ));
        }
        if let Some(first) = tenants[..n].iter().position(|t| t.name == tenant.name) {
            return Some((
                key("name"),
                format!(
                    "tenant {:?} is configured twice (also tenant[{first}])",
                    tenant.name
                ),
            ));
        }
        if tenant
            .token_env
            .as_ref()
            .is_some_and(|v| v.trim().is_empty())
        {
            return Some((
                key("token_env"),
                "is empty: name the environment variable that holds the tenant's gateway token, or leave it out".into(),
            ));
        }
        if tenant.token_env.is_some() && !gateway_token {
            return Some((
                key("token_env"),
                "needs [gateway] token: without it every client without a token is the operator, and a tenant's token would limit nothing".into(),
            ));
        }
        None
    })
}

impl TenantConfig {
    /// The tenant's gateway token, read from `token_env`: `None` without one; an error
    /// naming the variable when it is unset or empty.
    pub fn token(&self) -> Result<Option<String>, String> {
        let Some(var) = &self.token_env else {
            return Ok(None);
        };
        match std::env::var(var) {
            Ok(token) if !token.trim().is_empty() => Ok(Some(token)),
            _ => Err(format!(
                "tenant {:?}: its token variable {var} is unset or empty; set it to the tenant's gateway token, or remove token_env",
                self.name
            )),
        }
    }
}
