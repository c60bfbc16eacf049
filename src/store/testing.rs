//! The store's tests run on both backends: [`on_both_backends!`] makes a `sqlite` and a
//! `postgres` test of a function taking the [`Backend`], the second against a throwaway
//! PostgreSQL server (`tests/support/postgres.rs`).

use super::Store;

#[path = "../../tests/support/postgres.rs"]
mod server;

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Backend {
    /// SQLite in memory.
    Sqlite,
    /// A new database on the test server.
    Postgres,
}

impl Backend {
    /// A new, empty store.
    pub fn store(self) -> Store {
        match self {
            Backend::Sqlite => Store::in_memory(),
            Backend::Postgres => {
                Store::connect(&server::database_url()).expect("the test database opens")
            }
        }
    }
}

/// A `sqlite` and a `postgres` test of each function named, in a module of its name.
macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            use $crate::store::testing::Backend;
            #[test]
            fn sqlite() {
                super::$test(Backend::Sqlite)
            }
            #[test]
            fn postgres() {
                super::$test(Backend::Postgres)
            }
        }
    )+};
}
pub(crate) use on_both_backends;
