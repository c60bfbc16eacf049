//! The inbox's bookkeeping: redelivery, reused ids, tries and parking.

use super::*;
use crate::store::testing::{Backend, on_both_backends};
use serde_json::json;

fn message(id: i64, chat: i64) -> Value {
    json!({"update_id": id, "message": {"message_id": id, "chat": {"id": chat}, "text": "hi"}})
}

fn a_redelivered_batch_is_skipped_and_a_reused_id_replaces_the_old_update(backend: Backend) {
    let inbox = Inbox::new(Arc::new(backend.store()), 3);
    let batch = [message(1, -5), message(2, -5)];
    assert_eq!(inbox.accept(&batch).map(|f| f.len()).ok(), Some(2));
    assert_eq!(
        inbox.accept(&batch).map(|f| f.len()).ok(),
        Some(0),
        "sent again after a crash"
    );
    let reused = message(1, -6);
    assert_eq!(
        inbox.accept(std::slice::from_ref(&reused)).ok(),
        Some(vec![reused])
    );
}

fn an_update_the_process_keeps_dying_on_is_parked_and_the_others_run_one_at_a_time(
    backend: Backend,
) {
    let inbox = Inbox::new(Arc::new(backend.store()), 2);
    let batch = [message(1, -5), message(2, -6), message(3, -5)];
    inbox.accept(&batch).expect("kept");
    // Update 1 started twice and the process died each time; 2 started once.
    for id in [1, 1, 2] {
        inbox.begin_try(id, Origin::Fetched).expect("counted");
    }
    let left = inbox.unfinished().expect("unfinished");
    assert_eq!(left.interrupted, [message(2, -6)]);
    assert_eq!(left.waiting, [message(3, -5)]);
    let parked = inbox.list(&[Status::Parked]).expect("list");
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].update_id, 1);
    assert_eq!(
        parked[0].error.as_deref(),
        Some(
            "the process stopped during its last try (2 tries in all: a handler crashed it, or it was killed)"
        )
    );
    assert_eq!(inbox.retry(1).ok(), Some(Status::Parked));
    assert_eq!(inbox.requeued().map(|u| u.len()).ok(), Some(1));
}

on_both_backends!(
    a_redelivered_batch_is_skipped_and_a_reused_id_replaces_the_old_update,
    an_update_the_process_keeps_dying_on_is_parked_and_the_others_run_one_at_a_time
);
