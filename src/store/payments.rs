//! The ledger of payments: for each bot, the update that first brought each payment (by its
//! `telegram_payment_charge_id`), so `on_successful_payment` runs for one update per payment —
//! the inbox makes sure that update is handled once, across crashes and retries; the ledger
//! that another update bringing the same payment again is not handled at all.

use super::sql::params;
use super::{Store, StoreError};

impl Store {
    /// Record that update `update_id` of `bot` brought payment `charge` (at `now`, Unix
    /// seconds), unless an earlier update did; the update the ledger holds for it.
    pub fn payment_update(
        &self,
        bot: &str,
        charge: &str,
        update_id: i64,
        now: i64,
    ) -> Result<i64, StoreError> {
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO payments (bot, charge_id, update_id, received_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (bot, charge_id) DO NOTHING",
                params![bot, charge, update_id, now],
            )
            .map_err(StoreError::query("payments"))?;
            let first = tx
                .query_opt(
                    "SELECT update_id FROM payments WHERE bot = ?1 AND charge_id = ?2",
                    params![bot, charge],
                    |row| row.get(0),
                )
                .map_err(StoreError::query("payments"))?;
            // The row is there: written just now, or before.
            Ok(first.unwrap_or(update_id))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payment_belongs_to_the_first_update_that_brought_it_per_bot() {
        let store = Store::default();
        assert_eq!(store.payment_update("a", "ch1", 10, 1).expect("first"), 10);
        assert_eq!(store.payment_update("a", "ch1", 10, 2).expect("retry"), 10);
        assert_eq!(store.payment_update("a", "ch1", 11, 3).expect("again"), 10);
        assert_eq!(
            store.payment_update("b", "ch1", 12, 4).expect("other bot"),
            12
        );
        assert_eq!(store.payment_update("a", "ch2", 11, 5).expect("other"), 11);
    }
}
