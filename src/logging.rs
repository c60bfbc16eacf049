//! Logging to stderr with secrets removed: every formatted line passes through a writer that
//! replaces registered secrets (the bot token, …) with `***`, whichever library logged it.
//! Scripts' lines, reloads, warnings and errors also go, redacted, to the process's
//! [`crate::activity`] (the web console's live pane).
//!
//! One event is one line: in the plain text format, control characters in its message and
//! fields (a script's `print("a\nINFO forged")`, a thrown text in a handler's error) are
//! written escaped ([`one_line`]), so no text a script controls can start a line of its own.
//! The JSON format escapes them by itself.

use crate::activity::{self, Entry, Kind, RELOAD_TARGET, SCRIPT_TARGET};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{PoisonError, RwLock};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::{DefaultFields, Writer};
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

/// Install the logger: stderr, `TGSCRIPT_LOG` (else `RUST_LOG`) as the filter (default `info`), colours only on
/// a terminal, secrets redacted; `TGSCRIPT_LOG_FORMAT=json` gives one JSON object per line.
/// Libraries that use `log` (teloxide) are included. Scripts' lines, reloads, warnings and
/// errors are also kept in [`crate::activity::log`] for the web console, whatever the filter.
/// A `worker` writes no script lines to stderr: its host writes them, under each tenant's
/// budget (see [`crate::budget`]).
pub fn init(worker: bool) {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // `RUST_LOG` as the conventional fallback when `TGSCRIPT_LOG` is not set.
    let variable = match std::env::var_os("TGSCRIPT_LOG") {
        Some(_) => "TGSCRIPT_LOG",
        None => "RUST_LOG",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env(variable)
        // notify reports a watch it could not remove (its folder was deleted) at info.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,notify=warn"));
    let filter = match worker {
        true => filter.add_directive(
            format!("{SCRIPT_TARGET}=warn")
                .parse()
                .unwrap_or_else(|_| tracing::Level::WARN.into()),
        ),
        false => filter,
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(RedactingStderr::default)
        .with_target(false);
    let stderr = match std::env::var("TGSCRIPT_LOG_FORMAT").as_deref() {
        Ok("json") => stderr.json().boxed(),
        _ => stderr
            .fmt_fields(OneLineFields)
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

/// `text` with its control characters escaped, tab aside: `\n` and `\r` as such, the other
/// C0 ones and DEL as `\xNN`, C1 ones as `\u{NN}` (as `tracing_subscriber` escapes ESC, BEL,
/// BS, FF and DEL in a message), so it cannot end or rewrite the line it is written on.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\t') {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        let _ = match c {
            '\t' => escaped.write_char(c),
            '\n' => escaped.write_str("\\n"),
            '\r' => escaped.write_str("\\r"),
            c if c.is_ascii_control() => write!(escaped, "\\x{:02x}", u32::from(c)),
            c if c.is_control() => write!(escaped, "\\u{{{:x}}}", u32::from(c)),
            c => escaped.write_char(c),
        };
    }
    Cow::Owned(escaped)
}

/// The fields of an event or span as the plain text format writes them (the message, then
/// `name=value`), on one line: see [`one_line`].
struct OneLineFields;

impl<'writer> FormatFields<'writer> for OneLineFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> std::fmt::Result {
        let mut text = String::new();
        DefaultFields::new().format_fields(Writer::new(&mut text), fields)?;
        writer.write_str(&one_line(&text))
    }
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

/// Collects an event's message, and the bot and scenario a script's line or error is from.
#[derive(Default)]
struct Message {
    text: String,
    bot: Option<String>,
    scenario: Option<String>,
}

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.text.push_str(value),
            "bot" => self.bot = Some(value.to_string()),
            "scenario" => self.scenario = Some(value.to_string()),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.text, "{value:?}");
            }
            "bot" => self.bot = Some(format!("{value:?}")),
            "scenario" => self.scenario = Some(format!("{value:?}")),
            _ => {}
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
        let mut entry = Entry::new(kind, redact(&message.text));
        if kind == Kind::Reload {
            entry.ok = Some(level > Level::WARN);
        }
        entry.bot = message.bot;
        entry.scenario = message.scenario;
        activity::log().record(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    /// A log writer into a buffer the test reads.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn control_characters_are_escaped_and_tabs_kept() {
        assert!(matches!(
            one_line("plain\ttext"),
            Cow::Borrowed("plain\ttext")
        ));
        assert_eq!(
            one_line("a\nb\r\u{1}c\u{7f}d\u{9b}é"),
            r"a\nb\r\x01c\x7fd\u{9b}é"
        );
    }

    #[test]
    fn a_scripts_line_is_one_log_line_and_its_activity_names_its_bot_and_scenario() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let text = tracing_subscriber::fmt::layer()
            .fmt_fields(OneLineFields)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time();
        let subscriber = tracing_subscriber::registry().with(text).with(Recorder);
        tracing::subscriber::with_default(subscriber, || {
            let (bot, scenario) = (Some("b1"), Some("s1"));
            tracing::info!(target: SCRIPT_TARGET, bot, scenario, "said\nINFO forged {}", 7);
        });
        let logged =
            String::from_utf8_lossy(&buffer.0.lock().unwrap_or_else(PoisonError::into_inner))
                .into_owned();
        assert_eq!(logged.lines().count(), 1, "{logged}");
        assert!(
            logged.contains(r#"said\nINFO forged 7 bot="b1" scenario="s1""#),
            "{logged}"
        );
        let kept = activity::log()
            .since(0, Some(Kind::Print), usize::MAX)
            .entries
            .into_iter()
            .find(|e| e.text == "said\nINFO forged 7")
            .expect("the line in the activity, as printed");
        assert_eq!(kept.bot.as_deref(), Some("b1"));
        assert_eq!(kept.scenario.as_deref(), Some("s1"));
    }
}
