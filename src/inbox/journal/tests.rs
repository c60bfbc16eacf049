//! The journal's replay rules, call by call.
use super::*;
use crate::store::testing::{Backend, on_both_backends};
use crate::store::{StateScope, set_on};
use serde_json::json;

/// The journal of update 7 of `a.rhai`, with what earlier runs recorded.
fn journal(store: &Arc<Store>) -> HandlerJournal {
    HandlerJournal::open(store.clone(), &"default".into(), 7, "a.rhai").expect("journal")
}

/// Telegram's 400 for `command`.
fn refusal(command: &str) -> Result<Value, CommandError> {
    Err(CommandError {
        command: command.into(),
        error: "Bad Request: not enough rights".into(),
        code: Some(400),
        hint: None,
    })
}

/// A journaled `send_message` call that, when it is made, counts in `made` and answers
/// `answer`.
fn send(
    store: &Arc<Store>,
    made: &std::cell::Cell<u32>,
    answer: Result<Value, CommandError>,
) -> Result<Value, CommandError> {
    journal(store).external("send_message", "bot a".into(), || {
        made.set(made.get() + 1);
        answer
    })
}

/// Count up in state; journaled when `journal` is given.
fn count_up(store: &Arc<Store>, journal: Option<&HandlerJournal>) -> Result<Value, StoreError> {
    let get = || Ok(store.get("a", StateScope::Global, "n")?.unwrap_or(0.into()));
    let n = match journal {
        Some(j) => j.read("state get n".into(), get)?,
        None => get()?,
    };
    let next = n.as_i64().unwrap_or_default() + 1;
    let set = |tx: &Connection| {
        set_on(tx, "a", StateScope::Global, "n", next.into()).map(|()| Value::Null)
    };
    match journal {
        Some(j) => j.write(format!("state set n {next}"), set)?,
        None => store.transaction(set)?,
    };
    Ok(next.into())
}

fn a_handler_run_again_replays_its_reads_and_writes_once(backend: Backend) {
    let store = Arc::new(backend.store());
    assert_eq!(
        count_up(&store, Some(&journal(&store))).ok(),
        Some(1.into())
    );
    // Run again (the completion was never recorded): replayed, not counted twice.
    assert_eq!(
        count_up(&store, Some(&journal(&store))).ok(),
        Some(1.into())
    );
    assert_eq!(
        store.get("a", StateScope::Global, "n").ok(),
        Some(Some(1.into()))
    );
    // Outside a journaled run, every call is live.
    assert_eq!(count_up(&store, None).ok(), Some(2.into()));
}

fn the_clock_is_replayed_while_fresh_or_while_what_succeeded_depends_on_it(backend: Backend) {
    let store = Arc::new(backend.store());
    let first = {
        let j = journal(&store);
        let t = j.clock(1_000);
        let _ = count_up(&store, Some(&j)); // succeeded after reading the clock
        t
    };
    assert_eq!(first, 1_000);
    assert_eq!(journal(&store).clock(1_030), 1_000, "seconds later");
    assert_eq!(
        journal(&store).clock(5_000),
        1_000,
        "an hour later, with a write that succeeded still to replay"
    );

    let store = Arc::new(backend.store());
    let refused = {
        let j = journal(&store);
        let t = j.clock(1_000);
        let _ = j.external("restrict", format!("bot restrict {}", t + 600), || {
            refusal("restrict")
        });
        t
    };
    assert_eq!(refused, 1_000);
    assert_eq!(
        journal(&store).clock(5_000),
        5_000,
        "an hour later, only a refused call ahead: dates come from the current time"
    );
}

fn a_refused_call_is_made_again_and_an_answered_one_is_not(backend: Backend) {
    let store = Arc::new(backend.store());
    let made = std::cell::Cell::new(0);
    let first = send(&store, &made, refusal("send_message"));
    assert_eq!(first.map_err(|e| e.code), Err(Some(400)));
    let again = send(&store, &made, Ok(json!({"message_id": 5})));
    assert_eq!(again, Ok(json!({"message_id": 5})));
    assert_eq!(made.get(), 2, "the refused call was made again");
    let replayed = send(&store, &made, Ok(json!({"message_id": 6})));
    assert_eq!(
        replayed,
        Ok(json!({"message_id": 5})),
        "the answer is replayed"
    );
    assert_eq!(made.get(), 2, "and the call not made");
}

fn a_call_without_an_answer_is_made_again(backend: Backend) {
    let store = Arc::new(backend.store());
    let made = std::cell::Cell::new(0);
    let timeout = CommandError::invalid("send_message", "network error: timed out");
    assert!(send(&store, &made, Err(timeout)).is_err());
    let again = send(&store, &made, Ok(json!(true)));
    assert_eq!((again, made.get()), (Ok(json!(true)), 2));
}

fn a_run_over_its_journal_limit_has_its_next_calls_refused(backend: Backend) {
    let store = Arc::new(backend.store());
    let journal = journal(&store).limited(200);
    let big = Value::from("x".repeat(150));
    let mut made = 0;
    for _ in 0..2 {
        let answer = journal.external("send_message", "bot a".into(), || {
            made += 1;
            Ok(big.clone())
        });
        assert!(answer.is_ok(), "under the limit: {answer:?}");
    }
    let refused = journal.external("send_message", "bot a".into(), || {
        made += 1;
        Ok(big.clone())
    });
    let error = refused.expect_err("over the limit").error;
    assert!(error.contains("[limits] max_journal_bytes"), "{error}");
    assert_eq!(made, 2, "the refused call was not made");
    let read = journal.read("state get n".into(), || Ok(Value::Null));
    assert!(
        matches!(read, Err(StoreError::JournalFull(200))),
        "{read:?}"
    );
    assert!(journal.clock(5) == 5, "the clock is still read");
}

on_both_backends!(
    a_handler_run_again_replays_its_reads_and_writes_once,
    the_clock_is_replayed_while_fresh_or_while_what_succeeded_depends_on_it,
    a_refused_call_is_made_again_and_an_answered_one_is_not,
    a_call_without_an_answer_is_made_again,
    a_run_over_its_journal_limit_has_its_next_calls_refused
);
