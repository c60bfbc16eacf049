//! The Bot API client's layers, each a [`Caller`] around another, after teloxide's adaptors
//! around its `Requester` (composed by `RequesterExt`): [`Counted`] counts each request,
//! [`Throttled`] keeps flood control, [`RetryAfter`] waits out a `429`, [`FollowMigration`]
//! follows a group's upgrade. [`CallerExt`] wraps a caller in one; which order they go in is
//! decided in one place, [`super::bot`].

mod count;
#[cfg(test)]
pub(super) mod fake;
mod flood;
mod migrate;
mod retry;

pub use count::Counted;
pub use flood::Throttled;
pub use migrate::FollowMigration;
pub use retry::{MAX_RETRIES, MAX_RETRY_AFTER, RetryAfter};

use super::call::Caller;
use super::throttle::Throttle;
use std::sync::Arc;

/// Wrapping a caller in a layer: `Http::new(bot).counted().throttled(t)` counts, inside flood
/// control.
pub trait CallerExt: Caller + Sized {
    /// Count each call (see [`Counted`]).
    fn counted(self) -> Counted<Self> {
        Counted { inner: self }
    }

    /// Keep `throttle`'s rates before each call; none keeps none (see [`Throttled`]).
    fn throttled(self, throttle: Option<Arc<Throttle>>) -> Throttled<Self> {
        Throttled {
            inner: self,
            throttle,
        }
    }

    /// Wait out a `429` and call again (see [`RetryAfter`]).
    fn retrying(self) -> RetryAfter<Self> {
        RetryAfter { inner: self }
    }

    /// Follow a group's migration to a supergroup once (see [`FollowMigration`]).
    fn following_migration(self) -> FollowMigration<Self> {
        FollowMigration { inner: self }
    }
}

impl<C: Caller> CallerExt for C {}
