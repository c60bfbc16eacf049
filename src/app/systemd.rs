//! Telling systemd how the process is, when it runs as a `Type=notify` service
//! (`NOTIFY_SOCKET` set; nothing is sent otherwise): `READY=1` once it serves, `RELOADING=1`
//! and `READY=1` around a reload, `STOPPING=1` when it stops, and with `WatchdogSec=` a
//! `WATCHDOG=1` at half the interval, as long as the process's loops turn
//! ([`crate::telemetry::heartbeat`]): a process stuck in them is restarted.

use crate::telemetry;
use sd_notify::NotifyState;

/// Send `states` to systemd, if it listens; a failure is only logged.
fn notify(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!("cannot notify systemd: {e}");
    }
}

/// The process serves: `READY=1`, and the watchdog's pings from now on when
/// `WATCHDOG_USEC` asks for them. Call within the runtime, once.
pub fn ready() {
    notify(&[NotifyState::Ready, NotifyState::Status("serving")]);
    if let Some(interval) = sd_notify::watchdog_enabled() {
        tokio::spawn(watchdog(interval));
    }
}

/// A reload begins (`RELOADING=1` with the monotonic time systemd asks for).
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => notify(&[NotifyState::Reloading, now]),
        Err(e) => tracing::debug!("cannot read the monotonic clock for systemd: {e}"),
    }
}

/// A reload is done: serving again.
pub fn reloaded() {
    notify(&[NotifyState::Ready, NotifyState::Status("serving")]);
}

/// The process stops.
pub fn stopping() {
    notify(&[NotifyState::Stopping]);
}

/// `WATCHDOG=1` every half `interval` while a loop turned within `interval`; a process
/// whose loops stopped turning gets none, and systemd restarts it.
async fn watchdog(interval: std::time::Duration) {
    let mut ticks = tokio::time::interval(interval / 2);
    let mut warned = false;
    loop {
        ticks.tick().await;
        let silent = telemetry::heartbeat().silent_for();
        if silent < interval {
            notify(&[NotifyState::Watchdog]);
            warned = false;
        } else if !warned {
            warned = true;
            tracing::error!(
                "the main loop has not turned for {} s: systemd's watchdog is no longer told all is well, and will restart tgscript",
                silent.as_secs()
            );
        }
    }
}

/// Beat the heartbeat every second while the runtime turns (`serve`, whose only loop is
/// the gateway's).
pub async fn beat() {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        ticks.tick().await;
        telemetry::heartbeat().beat();
    }
}
