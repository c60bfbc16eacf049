//! The tenants' gateway tokens added by the admin (`add_tenant_token`), kept as SHA-256
//! hashes only: the token itself is shown once, to the admin who asked, and never stored.
//! Kept in the shared store, so every instance of a cluster takes them.

use super::sql::params;
use super::{Store, StoreError};

/// How many hex digits of a token's hash name it (in lists, and to remove it).
pub const TOKEN_ID_DIGITS: usize = 12;

/// A tenant's gateway token, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantToken {
    /// The first [`TOKEN_ID_DIGITS`] hex digits of its hash: enough to name it, nothing to
    /// use it with.
    pub id: String,
    /// The tenant it acts for.
    pub tenant: String,
    /// When it was added, in Unix seconds.
    pub created_at: i64,
}

impl Store {
    /// Keep the token whose SHA-256 hash is `hash` (hex) for `tenant`.
    pub fn add_tenant_token(&self, hash: &str, tenant: &str, now: i64) -> Result<(), StoreError> {
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO tenant_tokens (hash, tenant, created_at) VALUES (?1, ?2, ?3)",
                params![hash, tenant, now],
            )
            .map(drop)
            .map_err(StoreError::query("tenant_tokens"))
        })
    }

    /// The tenant of the token whose hash is `hash`, if one is kept.
    pub fn tenant_of_token(&self, hash: &str) -> Result<Option<String>, StoreError> {
        self.lock()
            .query_opt(
                "SELECT tenant FROM tenant_tokens WHERE hash = ?1",
                params![hash],
                |row| row.get(0),
            )
            .map_err(StoreError::query("tenant_tokens"))
    }

    /// Every token kept, oldest first.
    pub fn tenant_tokens(&self) -> Result<Vec<TenantToken>, StoreError> {
        self.lock()
            .query_map(
                "SELECT hash, tenant, created_at FROM tenant_tokens ORDER BY created_at, hash",
                params![],
                |row| {
                    let hash: String = row.get(0)?;
                    Ok(TenantToken {
                        id: hash.chars().take(TOKEN_ID_DIGITS).collect(),
                        tenant: row.get(1)?,
                        created_at: row.get(2)?,
                    })
                },
            )
            .map_err(StoreError::query("tenant_tokens"))
    }

    /// Forget the tokens whose id is `id` (see [`TenantToken::id`]); how many there were.
    pub fn remove_tenant_token(&self, id: &str) -> Result<usize, StoreError> {
        let sql =
            format!("DELETE FROM tenant_tokens WHERE substr(hash, 1, {TOKEN_ID_DIGITS}) = ?1");
        self.transaction(|tx| {
            tx.execute(&sql, params![id])
                .map_err(StoreError::query("tenant_tokens"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_found_by_its_hash_listed_by_its_id_and_removed() {
        let store = Store::default();
        let hash = "ab".repeat(32);
        store.add_tenant_token(&hash, "acme", 100).expect("add");
        assert_eq!(
            store.tenant_of_token(&hash).expect("find"),
            Some("acme".into())
        );
        assert_eq!(store.tenant_of_token(&"cd".repeat(32)).expect("find"), None);
        let listed = store.tenant_tokens().expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, hash[..TOKEN_ID_DIGITS]);
        assert_eq!(store.remove_tenant_token("nope").expect("remove"), 0);
        assert_eq!(store.remove_tenant_token(&listed[0].id).expect("remove"), 1);
        assert_eq!(store.tenant_of_token(&hash).expect("find"), None);
    }
}
