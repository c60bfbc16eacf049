//! Who asks the gateway ([`Client`]), as the token a request presents says: the admin, the
//! operator (the plain `[gateway] token`, or anyone where none is required), or one tenant —
//! by a token of `[[tenant]] token_env`, or one the admin added (`add_tenant_token`), kept
//! as a SHA-256 hash in the store so every instance of a cluster takes it. A tenant's client
//! sees and acts on its own bots, accounts, scripts, inbox and activity only.

use crate::store::{Store, StoreError};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Who a request comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Client {
    /// A client of the admin token: every action, on everything.
    Admin,
    /// A client of the plain token (or, where none is required, any client): the actions
    /// that are not admin actions, on every bot and account; `run_script` reaches no files.
    Operator,
    /// A client of one tenant's token: its own bots, accounts, scripts, inbox and activity.
    Tenant(Arc<str>),
}

impl Client {
    /// The tenant the client is confined to, if it is one's.
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Client::Tenant(tenant) => Some(tenant),
            Client::Admin | Client::Operator => None,
        }
    }
}

/// The token a tenant's client presented, when it is one kept in the store (the admin may
/// remove it while a WebSocket of it is open).
#[derive(Debug, Clone)]
pub struct Revocable(pub Vec<u8>);

/// The hex SHA-256 of `token`: how tokens are kept and looked up.
pub fn token_hash(token: &[u8]) -> String {
    Sha256::digest(token)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The tenants' tokens: the config's (hashed once read) and the store's.
#[derive(Default)]
pub struct TenantTokens {
    /// The config's, by hash.
    configured: BTreeMap<String, Arc<str>>,
    /// Where tokens the admin added are kept.
    store: Option<Arc<Store>>,
}

/// Bytes of randomness in a token the admin adds.
const TOKEN_BYTES: usize = 32;
/// What a token the admin adds starts with, so a leaked one is recognised.
const TOKEN_PREFIX: &str = "tgs_";

impl TenantTokens {
    /// The tokens of `configured` (`(tenant, token)`), and those kept in `store`.
    pub fn new(configured: Vec<(String, String)>, store: Option<Arc<Store>>) -> Self {
        Self {
            configured: configured
                .into_iter()
                .map(|(tenant, token)| (token_hash(token.as_bytes()), tenant.into()))
                .collect(),
            store,
        }
    }

    /// The tenant `token` is one of, if any (the store asked when the config's are not it;
    /// blocking).
    pub fn tenant_of(&self, token: &[u8]) -> Result<Option<Arc<str>>, StoreError> {
        if token.is_empty() {
            return Ok(None);
        }
        let hash = token_hash(token);
        if let Some(tenant) = self.configured.get(&hash) {
            return Ok(Some(tenant.clone()));
        }
        match &self.store {
            Some(store) => Ok(store.tenant_of_token(&hash)?.map(Arc::from)),
            None => Ok(None),
        }
    }

    /// Whether `token` is one of the config's (which no action removes).
    pub fn configured(&self, token: &[u8]) -> bool {
        self.configured.contains_key(&token_hash(token))
    }

    /// Whether tokens can be added (there is a store to keep them).
    pub fn store(&self) -> Option<&Arc<Store>> {
        self.store.as_ref()
    }

    /// A new token for `tenant`, kept hashed; the token itself is returned once, with its id.
    pub fn add(&self, tenant: &str, now: i64) -> Result<(String, String), String> {
        let store = self.store.as_ref().ok_or(NO_STORE)?;
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a token: {e}"))?;
        let token: String = std::iter::once(TOKEN_PREFIX.to_string())
            .chain(bytes.iter().map(|b| format!("{b:02x}")))
            .collect();
        let hash = token_hash(token.as_bytes());
        store
            .add_tenant_token(&hash, tenant, now)
            .map_err(|e| e.to_string())?;
        let id = hash[..crate::store::TOKEN_ID_DIGITS].to_string();
        Ok((token, id))
    }

    /// The tenants with a token in the config, and how many each has.
    pub fn configured_tenants(&self) -> BTreeMap<&str, usize> {
        let mut counts = BTreeMap::new();
        for tenant in self.configured.values() {
            *counts.entry(&**tenant).or_default() += 1;
        }
        counts
    }
}

/// Why a token cannot be added.
pub const NO_STORE: &str = "tenant tokens are kept in the store, and this process has none";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_token_names_its_tenant_and_nothing_else_does() {
        let tokens = TenantTokens::new(vec![("acme".into(), "s3cret".into())], None);
        assert_eq!(
            tokens.tenant_of(b"s3cret").expect("ok").as_deref(),
            Some("acme")
        );
        assert_eq!(tokens.tenant_of(b"s3cre").expect("ok"), None);
        assert_eq!(tokens.tenant_of(b"").expect("ok"), None);
    }

    #[test]
    fn an_added_token_is_found_by_the_store_and_is_not_kept_in_clear() {
        let store = Arc::new(Store::default());
        let tokens = TenantTokens::new(Vec::new(), Some(store.clone()));
        let (token, id) = tokens.add("acme", 5).expect("added");
        assert!(
            token.starts_with(TOKEN_PREFIX) && token.len() == 4 + 64,
            "{token}"
        );
        assert_eq!(
            tokens.tenant_of(token.as_bytes()).expect("ok").as_deref(),
            Some("acme")
        );
        let kept = store.tenant_tokens().expect("list");
        assert_eq!(kept[0].id, id);
        assert!(!token.contains(&id), "the id is of the hash, not the token");
    }
}
