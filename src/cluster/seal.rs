//! Everything the instances of a cluster send each other over NATS is sealed here, and
//! opened here: XChaCha20-Poly1305 with a key derived (HKDF-SHA256) from the cluster key
//! (`[cluster] key_env`), a random 24-byte nonce, the NATS subject as associated data (a
//! message moved to another subject does not open) and the time it was sealed inside. A
//! message that does not open, one sealed outside [`WINDOW`] of now, and one whose nonce
//! was seen within it (a replay) are dropped, counted
//! ([`crate::telemetry::CLUSTER_MESSAGES_DROPPED`]) and logged at most once per
//! [`LOG_EVERY`], never with their content. So a NATS client without the key can neither
//! read what instances say nor make one act.
//!
//! A sealed message: the format version (1 byte), the nonce (24), then the ciphertext of
//! the sealing time (ms since the Unix epoch, 8 bytes big-endian) and the payload, with the
//! 16-byte tag.

use bytes::Bytes;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How far from now a message's sealing time may be (either way: clocks of the instances'
/// machines differ a little) for it to be opened; a nonce is remembered this long.
pub const WINDOW: Duration = Duration::from_secs(60);
/// How often at most a dropped message is logged (each is counted).
pub const LOG_EVERY: Duration = Duration::from_secs(10);
/// The format this module writes.
const VERSION: u8 = 1;
/// Bytes of a nonce.
const NONCE: usize = 24;
/// Bytes before the ciphertext.
const HEADER: usize = 1 + NONCE;
/// Bytes of the sealing time inside.
const TIME: usize = 8;
/// What the cluster key is stretched with (a new one changes every key derived).
const CONTEXT: &[u8] = b"tgscript cluster seal v1";

/// Why a message was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// It was not sealed with the cluster key for this subject (or was changed).
    Unsealed,
    /// It was sealed outside the window of now.
    Stale,
    /// Its nonce was seen within the window.
    Replayed,
}

impl Refusal {
    /// The metric's label.
    fn label(self) -> &'static str {
        match self {
            Refusal::Unsealed => "unsealed",
            Refusal::Stale => "stale",
            Refusal::Replayed => "replayed",
        }
    }

    /// What it means, for the log.
    fn describe(self) -> &'static str {
        match self {
            Refusal::Unsealed => {
                "it was not sealed with this cluster's key (a NATS client without it, or an instance with another key_env value)"
            }
            Refusal::Stale => {
                "it was sealed more than a minute from now (a replay, or a clock far off: keep the instances' clocks in sync)"
            }
            Refusal::Replayed => "it was received before (a replay)",
        }
    }
}

/// A message opened: its payload and when it was sealed.
pub struct Opened {
    /// What was sealed.
    pub payload: Bytes,
    /// When, in ms since the Unix epoch (by the sealer's clock).
    pub sealed_ms: u64,
}

/// Seals and opens the cluster's messages; one per process, shared.
pub struct Seal {
    cipher: XChaCha20Poly1305,
    /// The nonces opened within the window, with their sealing times.
    seen: Mutex<Seen>,
    /// What was dropped since the last log line.
    drops: Mutex<Drops>,
}

#[derive(Default)]
struct Seen {
    nonces: HashMap<[u8; NONCE], u64>,
    /// When the nonces older than the window were last forgotten.
    pruned_ms: u64,
}

#[derive(Default)]
struct Drops {
    /// When the last line was logged.
    logged: Option<Instant>,
    /// Dropped since, not logged.
    unlogged: u64,
}

/// Now, in ms since the Unix epoch.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `d` in ms.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Seal {
    /// Sealing with `key` (the cluster key, as configured).
    pub fn new(key: &[u8]) -> Seal {
        let mut derived = [0u8; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(Some(CONTEXT), key)
            .expand(b"xchacha20poly1305", &mut derived)
            .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 output length"));
        Seal {
            cipher: XChaCha20Poly1305::new(&derived.into()),
            seen: Mutex::default(),
            drops: Mutex::default(),
        }
    }

    /// `payload` sealed for `subject`, now.
    pub fn seal(&self, subject: &str, payload: &[u8]) -> Bytes {
        self.seal_at(subject, payload, now_ms())
    }

    fn seal_at(&self, subject: &str, payload: &[u8], sealed_ms: u64) -> Bytes {
        let mut nonce = [0u8; NONCE];
        // Without randomness no message may be sent: a repeated nonce would give the key away.
        if let Err(e) = getrandom::fill(&mut nonce) {
            panic!("cluster: the system gives no random bytes for a nonce: {e}");
        }
        let mut plain = Vec::with_capacity(TIME + payload.len());
        plain.extend_from_slice(&sealed_ms.to_be_bytes());
        plain.extend_from_slice(payload);
        let aad = subject.as_bytes();
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: &plain, aad })
            .unwrap_or_else(|_| unreachable!("XChaCha20-Poly1305 seals any message under 256 GiB"));
        let mut out = Vec::with_capacity(HEADER + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out.into()
    }

    /// A message received on `subject`, opened if it was sealed for it with the cluster key
    /// within the window of now and never opened before; else dropped (counted and logged).
    pub fn open(&self, subject: &str, message: &[u8]) -> Option<Bytes> {
        self.opened(subject, message, None)
            .map(|opened| opened.payload)
    }

    /// A message kept a while before it is read (a JetStream stream's, a lease value),
    /// opened if it was sealed for `subject` with the cluster key at most `kept` (and the
    /// window) ago, however often it was read; else dropped.
    pub fn open_kept(&self, subject: &str, message: &[u8], kept: Duration) -> Option<Opened> {
        self.opened(subject, message, Some(kept))
    }

    fn opened(&self, subject: &str, message: &[u8], kept: Option<Duration>) -> Option<Opened> {
        match self.try_open(subject, message, kept) {
            Ok(opened) => Some(opened),
            Err(refusal) => {
                self.dropped(subject, refusal);
                None
            }
        }
    }

    fn try_open(
        &self,
        subject: &str,
        message: &[u8],
        kept: Option<Duration>,
    ) -> Result<Opened, Refusal> {
        let (header, sealed) = message.split_at_checked(HEADER).ok_or(Refusal::Unsealed)?;
        let (version, nonce) = header.split_at(1);
        if version != [VERSION] {
            return Err(Refusal::Unsealed);
        }
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: subject.as_bytes(),
                },
            )
            .map_err(|_| Refusal::Unsealed)?;
        let (time, payload) = plain.split_at_checked(TIME).ok_or(Refusal::Unsealed)?;
        let mut sealed_ms = [0u8; TIME];
        sealed_ms.copy_from_slice(time);
        let sealed_ms = u64::from_be_bytes(sealed_ms);
        let now = now_ms();
        match kept {
            None => {
                let mut key = [0u8; NONCE];
                key.copy_from_slice(nonce);
                self.first_within_window(key, sealed_ms, now)?;
            }
            Some(kept) => {
                let kept = u64::try_from((kept + WINDOW).as_millis()).unwrap_or(u64::MAX);
                if now.saturating_sub(sealed_ms) > kept
                    || sealed_ms.saturating_sub(now) > millis(WINDOW)
                {
                    return Err(Refusal::Stale);
                }
            }
        }
        Ok(Opened {
            payload: Bytes::copy_from_slice(payload),
            sealed_ms,
        })
    }

    /// Whether a message sealed at `sealed_ms` with `nonce` is fresh at `now` and new (it
    /// is remembered from then on).
    fn first_within_window(
        &self,
        nonce: [u8; NONCE],
        sealed_ms: u64,
        now: u64,
    ) -> Result<(), Refusal> {
        let window = millis(WINDOW);
        if sealed_ms.abs_diff(now) > window {
            return Err(Refusal::Stale);
        }
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        // Forgotten once a second at most: what they would stop is stale by then.
        if now.saturating_sub(seen.pruned_ms) > 1000 {
            let oldest = now.saturating_sub(window);
            seen.nonces.retain(|_, at| *at >= oldest);
            seen.pruned_ms = now;
        }
        match seen.nonces.insert(nonce, sealed_ms) {
            None => Ok(()),
            Some(_) => Err(Refusal::Replayed),
        }
    }

    /// Count a dropped message, and log it unless a line was logged within [`LOG_EVERY`].
    fn dropped(&self, subject: &str, refusal: Refusal) {
        metrics::counter!(crate::telemetry::CLUSTER_MESSAGES_DROPPED, "reason" => refusal.label())
            .increment(1);
        let mut drops = self.drops.lock().unwrap_or_else(PoisonError::into_inner);
        if drops.logged.is_some_and(|at| at.elapsed() < LOG_EVERY) {
            drops.unlogged += 1;
            return;
        }
        let earlier = std::mem::take(&mut drops.unlogged);
        drops.logged = Some(Instant::now());
        let also = match earlier {
            0 => String::new(),
            n => format!(" ({n} more dropped since the last such line)"),
        };
        tracing::warn!(
            "cluster: dropped a NATS message on {subject}: {}{also}",
            refusal.describe()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_sealed_message_opens_once_on_its_subject_with_its_key() {
        let seal = Seal::new(KEY);
        let sealed = seal.seal("tgscript.gw.bot.a", b"get_script");
        assert!(
            !sealed
                .windows(b"get_script".len())
                .any(|w| w == b"get_script"),
            "the payload is not in the clear"
        );
        assert_eq!(
            Seal::new(KEY).open("tgscript.gw.bot.b", &sealed),
            None,
            "moved to another subject"
        );
        let other = Seal::new(b"another key of thirty-two bytes!");
        assert_eq!(
            other.open("tgscript.gw.bot.a", &sealed),
            None,
            "another key"
        );
        assert_eq!(
            seal.open("tgscript.gw.bot.a", &sealed).as_deref(),
            Some(&b"get_script"[..])
        );
        assert_eq!(seal.open("tgscript.gw.bot.a", &sealed), None, "replayed");
        assert!(
            seal.open_kept("tgscript.gw.bot.a", &sealed, WINDOW)
                .is_some(),
            "a kept message opens again"
        );
    }

    #[test]
    fn a_changed_or_short_message_does_not_open() {
        let seal = Seal::new(KEY);
        let sealed = seal.seal("s", b"payload");
        for at in 0..sealed.len() {
            let mut changed = sealed.to_vec();
            changed[at] ^= 1;
            assert_eq!(seal.open("s", &changed), None, "byte {at} changed");
        }
        for len in 0..sealed.len() {
            assert_eq!(seal.open("s", &sealed[..len]), None, "cut to {len}");
        }
    }

    #[test]
    fn a_message_sealed_outside_the_window_is_stale() {
        let seal = Seal::new(KEY);
        let window = millis(WINDOW);
        let now = now_ms();
        for at in [now - window - 1000, now + window + 1000] {
            let sealed = seal.seal_at("s", b"old", at);
            assert_eq!(seal.open("s", &sealed), None);
        }
        let hour = Duration::from_secs(3600);
        let old = seal.seal_at("s", b"old", now - window - 1000);
        let kept = seal.open_kept("s", &old, hour).expect("kept for an hour");
        assert_eq!(kept.sealed_ms, now - window - 1000);
        let older = seal.seal_at("s", b"older", now - millis(hour + WINDOW) - 1000);
        assert!(seal.open_kept("s", &older, hour).is_none(), "kept too long");
        let recent = seal.seal_at("s", b"recent", now - window + 1000);
        assert!(seal.open("s", &recent).is_some());
    }

    #[test]
    fn nonces_older_than_the_window_are_forgotten() {
        let seal = Seal::new(KEY);
        let window = millis(WINDOW);
        let start = 10 * window;
        for n in 0..100u8 {
            let nonce = [n; NONCE];
            assert_eq!(seal.first_within_window(nonce, start, start), Ok(()));
        }
        let later = start + window + 2000;
        assert_eq!(seal.first_within_window([200; NONCE], later, later), Ok(()));
        let seen = seal.seen.lock().expect("not poisoned");
        assert_eq!(seen.nonces.len(), 1, "the old ones are forgotten");
    }
}
