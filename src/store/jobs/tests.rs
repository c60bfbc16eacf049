//! Due jobs, repeats and answered waits, on an in-memory store.

use super::*;
use crate::store::testing::{Backend, on_both_backends};
use crate::store::{StateOp, Store};

fn schedule(store: &Store, when: When, now_ms: i64) -> i64 {
    let op = JobOp::Schedule {
        namespace: "bot7/gate".into(),
        function: "f".into(),
        data: json!({"n": 1}),
        when,
        place: JobPlace::default(),
    };
    store
        .apply(&StateOp::Job(op), now_ms)
        .expect("scheduled")
        .as_i64()
        .expect("an id")
}

fn due_jobs_are_taken_once_and_repeats_move_on(backend: Backend) {
    let store = backend.store();
    let once = schedule(&store, When::After(1_000), 10_000);
    let every = schedule(&store, When::Every("60".into()), 10_000);
    assert_eq!(store.next_job_due("bot7").expect("next"), Some(11_000));
    assert_eq!(
        store.next_job_due("default").expect("next"),
        None,
        "another bot's"
    );
    let taken = |now| {
        store
            .transaction(|tx| take_due(tx, "bot7", now, 10))
            .expect("taken")
            .iter()
            .map(|j| {
                (
                    j["id"].as_i64().unwrap_or_default(),
                    j["late_ms"].as_i64().unwrap_or_default(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert!(taken(10_999).is_empty(), "not yet");
    assert_eq!(taken(11_500), [(once, 500)]);
    assert!(taken(11_500).is_empty(), "taken once");
    // Down for ten minutes: the repeat runs once, then from now on.
    assert_eq!(taken(670_000), [(every, 600_000)]);
    assert_eq!(store.next_job_due("bot7").expect("next"), Some(730_000));
    assert!(store.cancel_job(every).expect("cancelled"));
    assert!(!store.cancel_job(every).expect("gone"));
}

fn an_answered_wait_routes_its_answer_again_and_nothing_else(backend: Backend) {
    let store = backend.store();
    let place = JobPlace {
        chat_id: Some(-5),
        user_id: Some(7),
        message_id: None,
    };
    let expect = |function: &str| {
        let op = JobOp::Expect {
            namespace: "ask".into(),
            function: function.into(),
            data: Value::Null,
            timeout_ms: Some(60_000),
            place,
        };
        store
            .apply(&StateOp::Job(op), 0)
            .expect("kept")
            .as_i64()
            .expect("an id")
    };
    let functions = |update| {
        store
            .waits_on("default", -5, 7, update)
            .expect("waits")
            .iter()
            .map(|w| w["function"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    let name = expect("got_name");
    assert_eq!(functions(1), ["got_name"]);
    store.end_wait(name, 1).expect("answered");
    expect("got_age"); // the answer asks the next question
    assert_eq!(
        functions(1),
        ["got_name", "got_age"],
        "update 1 again: got_name first"
    );
    assert_eq!(functions(2), ["got_age"], "the next message");
    assert_eq!(
        store.next_job_due("default").expect("next"),
        Some(60_000),
        "got_age's timeout only"
    );
}

#[test]
fn repeats_are_periods_or_cron_expressions() {
    assert!(matches!(Repeat::parse("90"), Ok(Repeat::Period(90))));
    assert!(Repeat::parse("0").is_err());
    assert!(Repeat::parse("every day").is_err());
    let nine = Repeat::parse("0 9 * * *").expect("cron");
    // 2026-12-02 10:00 UTC → the next day 09:00 UTC.
    let now = 1_796_205_600_000;
    assert_eq!(nine.next_after(now), Ok(1_796_288_400_000));
}

on_both_backends!(
    due_jobs_are_taken_once_and_repeats_move_on,
    an_answered_wait_routes_its_answer_again_and_nothing_else
);
