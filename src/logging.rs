//! Logging to stderr with secrets removed: every formatted line passes through a writer that
//! replaces registered secrets (the bot token, …) with `***`, whichever library logged it.
//! Scripts' lines, reloads, warnings and errors also go, redacted, to the process's
//! [`crate::activity`] (the web console's live pane).

use crate::activity::{self, Entry, Kind, RELOAD_TARGET, SCRIPT_TARGET};
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{PoisonError, RwLock};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::Context;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Never let `secret` reach the log.
pub fn add_secret(secret: &str) {
    if secret.len() >= 4 {
        SECRETS
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(secret.to_string());
    }
}

/// `text` with every registered secret replaced by `***`.
pub fn redact(text: &str) -> String {
    let secrets = SECRETS.read().unwrap_or_else(PoisonError::into_inner);
    secrets.iter().fold(text.to_string(), |acc, secret| {
        acc.replace(secret.as_str(), "***")
    })
}

/// Buffers one log event and writes it, redacted, to stderr when dropped.
#[derive(Default)]
struct RedactingStderr {
    buffer: Vec<u8>,
}

impl Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactingStderr {
    fn drop(&mut self) {
        let line = redact(&String::from_utf8_lossy(&self.buffer));
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// Install the logger: stderr, `TGSCRIPT_LOG` as the filter (default `info`), colours only on
/// a terminal, secrets redacted; `TGSCRIPT_LOG_FORMAT=json` gives one JSON object per line.
/// Libraries that use `log` (teloxide) are included. Scripts' lines, reloads, warnings and
/// errors are also kept in [`crate::activity::log`] for the web console, whatever the filter.
pub fn init() {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_env("TGSCRIPT_LOG")
        // notify reports a watch it could not remove (its folder was deleted) at info.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,notify=warn"));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(RedactingStderr::default)
        .with_target(false);
    let stderr = match std::env::var("TGSCRIPT_LOG_FORMAT").as_deref() {
        Ok("json") => stderr.json().boxed(),
        _ => stderr
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(stderr.with_filter(filter))
        .with(Recorder.with_filter(recorded()))
        .try_init();
    // A panic (a bug, caught where handlers run) is one redacted log line, not a backtrace
    // printed past the logger.
    std::panic::set_hook(Box::new(|info| tracing::error!("internal error: {info}")));
}

/// The log events [`Recorder`] keeps: scripts' lines and reloads at info, tgscript's own
/// warnings and errors.
fn recorded() -> Targets {
    Targets::new()
        .with_target(SCRIPT_TARGET, Level::INFO)
        .with_target(RELOAD_TARGET, Level::INFO)
        .with_target("tgscript", Level::WARN)
}

/// A tracing layer that keeps log events, redacted, in [`crate::activity::log`].
struct Recorder;

/// Collects an event's message.
#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        }
    }
}

impl<S: Subscriber> tracing_subscriber::Layer<S> for Recorder {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let mut message = Message::default();
        event.record(&mut message);
        let level = *meta.level();
        let kind = match meta.target() {
            RELOAD_TARGET => Kind::Reload,
            SCRIPT_TARGET if level > Level::WARN => Kind::Print,
            _ if level == Level::ERROR => Kind::Error,
            _ => Kind::Warning,
        };
        let mut entry = Entry::new(kind, redact(&message.0));
        if kind == Kind::Reload {
            entry.ok = Some(level > Level::WARN);
        }
        activity::log().record(entry);
    }
}
