//! Unauthenticated requests to the webhook listener: each peer may have so many refused
//! (a token bucket per address, [`PER_MINUTE`] a minute after a burst of as many), past which
//! it is answered 429 and its connection closed; and the log gets one line for the first
//! refusal of a quiet interval and one summary line per [`INTERVAL`] for the rest, however
//! many come.

use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// How often refused requests are summed up in the log.
pub const INTERVAL: Duration = Duration::from_secs(60);
/// Refused requests a peer may make a minute (and at once) before it is answered 429.
const PER_MINUTE: NonZeroU32 = match NonZeroU32::new(60) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};

/// What became of a refused request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Within its peer's allowance: answered 401.
    Unauthorized,
    /// Past it: answered 429.
    TooMany,
}

/// The refused requests of one listener.
pub struct Refusals {
    peers: DefaultKeyedRateLimiter<IpAddr>,
    counts: Mutex<Counts>,
}

/// The refusals of the current interval.
struct Counts {
    refused: u64,
    /// The interval before had none: the first of this one is logged as it comes.
    quiet: bool,
    /// The first of this one was logged as it came.
    told: bool,
}

impl Default for Refusals {
    fn default() -> Self {
        Self {
            peers: DefaultKeyedRateLimiter::keyed(Quota::per_minute(PER_MINUTE)),
            counts: Mutex::new(Counts {
                refused: 0,
                quiet: true,
                told: false,
            }),
        }
    }
}

impl Refusals {
    /// Count a request from `peer` (none: unknown) refused for lacking the secret of bot
    /// `id`: what it is answered.
    pub fn refuse(&self, peer: Option<IpAddr>, id: &str) -> Refusal {
        let first = {
            let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
            counts.refused += 1;
            counts.told |= counts.refused == 1 && counts.quiet;
            counts.refused == 1 && counts.quiet
        };
        if first {
            let peer = peer.map_or_else(|| "an unknown address".to_string(), |p| p.to_string());
            let id: String = id.chars().take(64).collect();
            tracing::warn!(
                "refused a webhook request for bot id {id:?} from {peer}: no such webhook bot, or a wrong or missing secret token; further ones are summed up every {} s",
                INTERVAL.as_secs()
            );
        }
        match peer.map(|peer| self.peers.check_key(&peer)) {
            Some(Err(_)) => Refusal::TooMany,
            _ => Refusal::Unauthorized,
        }
    }

    /// Log, every [`INTERVAL`], how many requests were refused in it (unless the only one
    /// was logged as it came); forget the peers that have their whole allowance again.
    pub async fn summarize(&self) {
        let mut every = tokio::time::interval(INTERVAL);
        every.tick().await;
        loop {
            every.tick().await;
            let (refused, told) = {
                let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
                let now = (counts.refused, counts.told);
                *counts = Counts {
                    refused: 0,
                    quiet: counts.refused == 0,
                    told: false,
                };
                now
            };
            if refused > u64::from(told) {
                tracing::warn!(
                    "{refused} unauthenticated webhook requests refused in the last {} s",
                    INTERVAL.as_secs()
                );
            }
            self.peers.retain_recent();
            self.peers.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_past_its_allowance_is_told_so_and_others_are_not() {
        let refusals = Refusals::default();
        let (flooder, other) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let answers: Vec<Refusal> = (0..=PER_MINUTE.get())
            .map(|_| refusals.refuse(Some(flooder), "x"))
            .collect();
        assert!(
            answers[..answers.len() - 1]
                .iter()
                .all(|a| *a == Refusal::Unauthorized)
        );
        assert_eq!(answers.last(), Some(&Refusal::TooMany));
        assert_eq!(refusals.refuse(Some(other), "x"), Refusal::Unauthorized);
        let counts = refusals.counts.lock().expect("counts");
        assert_eq!(counts.refused, u64::from(PER_MINUTE.get()) + 2);
        assert!(counts.told, "the first was logged as it came");
    }
}
