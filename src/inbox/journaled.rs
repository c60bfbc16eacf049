//! The journal as a layer around [`Effects`]: a handler run from the inbox gets its effects
//! through [`Journaled`], so every call it makes is recorded and, when it runs again, replayed.
//! Commands and builtins do not know whether they are journaled: the caller decided when it
//! built the handler's context.

use super::journal::HandlerJournal;
use crate::accounts::AccountOp;
use crate::effects::Effects;
use crate::request::CommandError;
use crate::store::{self, StateOp, StoreError};
use serde_json::Value;
use std::sync::Arc;

/// `inner`'s effects, recorded in (and replayed from) one handler's journal. State writes run
/// in the journal's own database transaction with their record: the journal and the state
/// live in one store.
pub struct Journaled {
    inner: Arc<dyn Effects>,
    journal: HandlerJournal,
}

impl Journaled {
    /// `inner`, journaled in `journal`.
    pub fn new(inner: Arc<dyn Effects>, journal: HandlerJournal) -> Self {
        Self { inner, journal }
    }
}

impl Effects for Journaled {
    fn bot(&self, command: &str, method: &str, params: &Value) -> Result<Value, CommandError> {
        let call = format!("bot {method} {params}");
        self.journal
            .external(command, call, || self.inner.bot(command, method, params))
    }

    fn account_id(&self, command: &str, userbot_id: Option<i64>) -> Result<i64, CommandError> {
        self.inner.account_id(command, userbot_id)
    }

    fn account(&self, command: &str, id: i64, op: &AccountOp) -> Result<Value, CommandError> {
        let call = format!("account {id} {}", op.describe());
        self.journal
            .external(command, call, || self.inner.account(command, id, op))
    }

    fn state(&self, op: &StateOp) -> Result<Value, StoreError> {
        if op.writes() {
            self.journal
                .write(op.describe(), |tx| store::apply_on(tx, op))
        } else {
            self.journal.read(op.describe(), || self.inner.state(op))
        }
    }

    fn now(&self) -> i64 {
        self.journal.clock(self.inner.now())
    }
}
