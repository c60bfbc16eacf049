//! Group commit: a failing write undone alone, many writers, order.

use super::*;
use crate::store::testing::{Backend, on_both_backends};

fn store_with_table(backend: Backend) -> Arc<Store> {
    let store = Arc::new(backend.store());
    store
        .lock()
        .execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER);")
        .expect("table");
    store
}

fn insert(key: &'static str, fail: bool) -> impl Fn(&Connection) -> Result<(), StoreError> {
    move |tx| {
        tx.execute(
            "INSERT INTO t (k, n) VALUES (?1, 1)",
            crate::store::sql::params![key],
        )
        .map_err(StoreError::query("t"))?;
        if fail {
            return Err(StoreError::JournalFull(1));
        }
        Ok(())
    }
}

fn keys(store: &Store) -> Vec<String> {
    store
        .lock()
        .query_map(
            "SELECT k FROM t ORDER BY k",
            crate::store::sql::params![],
            |row| row.get(0),
        )
        .expect("keys")
}

fn a_write_that_fails_is_undone_alone_and_the_others_of_its_batch_commit(backend: Backend) {
    let store = store_with_table(backend);
    let a = store.submit(Durability::Process, insert("a", false));
    let b = store.submit(Durability::Process, insert("b", true));
    let c = store.submit(Durability::Disk, insert("c", false));
    assert!(c.wait().is_ok());
    assert!(matches!(b.wait(), Err(StoreError::JournalFull(1))));
    assert!(a.wait().is_ok());
    assert_eq!(keys(&store), ["a", "c"], "b's insert was rolled back");
}

fn writes_of_many_threads_commit_and_a_read_sees_those_nobody_waited_for(backend: Backend) {
    let store = store_with_table(backend);
    std::thread::scope(|scope| {
        for thread in 0..8 {
            let store = &store;
            scope.spawn(move || {
                for n in 0..50 {
                    let key = format!("{thread}-{n}");
                    let write = move |tx: &Connection| {
                        tx.execute(
                            "INSERT INTO t (k, n) VALUES (?1, 1)",
                            crate::store::sql::params![key],
                        )
                        .map(drop)
                        .map_err(StoreError::query("t"))
                    };
                    let pending = store.submit(Durability::Process, write);
                    if n % 2 == 0 {
                        pending.wait().expect("committed");
                    } else {
                        pending.detach("test write".into());
                    }
                }
            });
        }
    });
    assert_eq!(keys(&store).len(), 400, "every write, waited for or not");
    // A transaction begun later commits after the queue: it sees every earlier write.
    let late = store.submit(Durability::Process, insert("late", false));
    late.detach("late write".into());
    let seen: i64 = store
        .transaction(|tx| {
            tx.query_row(
                "SELECT COUNT(*) FROM t",
                crate::store::sql::params![],
                |row| row.get(0),
            )
            .map_err(StoreError::query("t"))
        })
        .expect("count");
    assert_eq!(seen, 401);
}

on_both_backends!(
    a_write_that_fails_is_undone_alone_and_the_others_of_its_batch_commit,
    writes_of_many_threads_commit_and_a_read_sees_those_nobody_waited_for
);
