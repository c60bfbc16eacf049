//! The journal as a layer around [`Effects`]: a handler run from the inbox gets its effects
//! through [`Journaled`], so every call it makes is recorded and, when it runs again, replayed.
//! Commands and builtins do not know whether they are journaled: the caller decided when it
//! built the handler's context.

use super::journal::HandlerJournal;
use crate::effects::{Effect, Effects, Refusal};
use crate::http::HttpRequest;
use crate::store;
use crate::telegram::upload;
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

impl Journaled {
    /// `effect` as an external call the journal records by `call` and replays on a rerun.
    fn external(&self, command: &str, call: String, effect: &Effect<'_>) -> Result<Value, Refusal> {
        Ok(self.journal.external(command, call, || {
            self.inner.apply(effect).map_err(|r| r.for_command(command))
        })?)
    }
}

impl Effects for Journaled {
    // Each effect's journal class: an external call recorded by its key, a state write in the
    // journal's own transaction, a state read or the clock recorded, a download made again
    // and checked by its digest, or passed through.
    fn apply(&self, effect: &Effect<'_>) -> Result<Value, Refusal> {
        match effect {
            Effect::Bot {
                command,
                method,
                params,
            } => {
                let call = match upload::has_uploads(params) {
                    true => format!("bot {method} {}", upload::digested(params)),
                    false => format!("bot {method} {params}"),
                };
                self.external(command, call, effect)
            }
            Effect::AccountId { .. } => self.inner.apply(effect),
            Effect::Http { command, request } => self.external(command, http_call(request), effect),
            // A read the journal records by digest, not bytes: made again on a rerun.
            Effect::Download { command, file_id } => self
                .journal
                .refetch(
                    command,
                    format!("download {file_id}"),
                    || self.inner.apply(effect).map_err(|r| r.for_command(command)),
                    upload::digest,
                )
                .map_err(Refusal::from),
            Effect::Account { command, id, op } => {
                self.external(command, format!("account {id} {}", op.describe()), effect)
            }
            Effect::State(op) if op.writes() => {
                let now_ms = self.inner.now_ms();
                let written = self.journal.write(op.describe(), |tx| {
                    store::apply_on(tx, op, self.journal.max_scopes(), now_ms)
                })?;
                self.journal.store().jobs_changed(op);
                Ok(written)
            }
            Effect::State(op) => Ok(self.journal.read(op.describe(), || {
                self.inner.apply(effect).map_err(Refusal::for_state)
            })?),
            Effect::Now => {
                let now = self.inner.apply(effect)?.as_i64().unwrap_or_default();
                Ok(Value::from(self.journal.clock(now)))
            }
        }
    }

    fn now_ms(&self) -> i64 {
        self.inner.now_ms()
    }

    fn caller(&self) -> Option<&crate::effects::Caller> {
        self.inner.caller()
    }
}

/// The journal's key for an HTTP request. The URL's query and user, the headers and the
/// body may hold the backend's credentials: the journal (and a log line about a call
/// without an answer) keeps the URL up to its path and a digest of the whole request, not
/// them.
fn http_call(request: &HttpRequest) -> String {
    let path = request.url.split(['?', '#']).next().unwrap_or_default();
    let path = match path.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.rsplit('@').next().unwrap_or(rest)),
        None => String::new(),
    };
    let whole = serde_json::to_vec(request).unwrap_or_default();
    format!(
        "http {} {path} {}",
        request.method,
        upload::sha256_hex(&whole)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::AccountOp;
    use crate::request::CommandError;
    use crate::store::StateOp;
    use crate::store::testing::{Backend, on_both_backends};
    use crate::store::{StateScope, Store};
    use serde_json::json;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Effects that count the calls that reach them; state in `store`.
    struct Counting {
        store: Arc<Store>,
        bot_calls: AtomicU32,
        account_calls: AtomicU32,
    }

    impl Effects for Counting {
        fn apply(&self, effect: &Effect<'_>) -> Result<Value, Refusal> {
            match effect {
                Effect::Bot { method, .. } => {
                    let n = self.bot_calls.fetch_add(1, Ordering::SeqCst);
                    Ok(json!({"method": method, "message_id": n}))
                }
                Effect::AccountId { userbot_id, .. } => Ok(json!(userbot_id.unwrap_or(1))),
                Effect::Account { .. } => {
                    self.account_calls.fetch_add(1, Ordering::SeqCst);
                    Ok(json!({"@type": "ok"}))
                }
                Effect::State(op) => Ok(self.store.apply(op, 1_000_000)?),
                Effect::Now => Ok(json!(1_000)),
                other => Err(CommandError::invalid(other.command(), "not here").into()),
            }
        }
    }

    /// One run of a handler that counts in state, blocks a user and replies.
    fn handler(effects: &dyn Effects) -> Value {
        let key = |namespace: &str| (namespace.to_string(), StateScope::Chat(5), "n".to_string());
        let (namespace, scope, key) = key("a");
        let get = StateOp::Get {
            namespace: namespace.clone(),
            scope,
            key: key.clone(),
        };
        let n = effects.state(&get).expect("read").as_i64().unwrap_or(0) + 1;
        let set = StateOp::Set {
            namespace,
            scope,
            key,
            value: n.into(),
        };
        effects.state(&set).expect("write");
        effects
            .account("block_user", 1, &AccountOp::SetUserBlockList(42, None))
            .expect("block");
        effects
            .bot("reply", "sendMessage", &json!({"text": n}))
            .expect("reply")
    }

    fn a_handler_run_again_through_the_journal_does_nothing_twice(backend: Backend) {
        let store = Arc::new(backend.store());
        let inner = Arc::new(Counting {
            store: store.clone(),
            bot_calls: AtomicU32::new(0),
            account_calls: AtomicU32::new(0),
        });
        let journaled = || {
            let journal = HandlerJournal::open(store.clone(), &"default".into(), 7, "a.rhai")
                .expect("journal");
            Journaled::new(inner.clone(), journal)
        };
        let first = handler(&journaled());
        let again = handler(&journaled());
        assert_eq!(first, again, "the reply's answer is replayed");
        assert_eq!(
            inner.bot_calls.load(Ordering::SeqCst),
            1,
            "one message sent"
        );
        assert_eq!(
            inner.account_calls.load(Ordering::SeqCst),
            1,
            "one TDLib call"
        );
        let n = store.get("a", StateScope::Chat(5), "n").ok().flatten();
        assert_eq!(n, Some(json!(1)), "counted once");
        handler(inner.as_ref());
        assert_eq!(
            inner.bot_calls.load(Ordering::SeqCst),
            2,
            "unjournaled calls are made"
        );
    }

    on_both_backends!(a_handler_run_again_through_the_journal_does_nothing_twice);
}
