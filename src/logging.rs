//! Logging to stderr with secrets removed: every formatted line passes through a writer that
//! replaces registered secrets (the bot token, …) with `***`, whichever library logged it.

use std::io::Write;
use std::sync::{PoisonError, RwLock};

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
/// Libraries that use `log` (teloxide) are included.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TGSCRIPT_LOG")
        // notify reports a watch it could not remove (its folder was deleted) at info.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,notify=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(RedactingStderr::default)
        .with_target(false);
    let _ = match std::env::var("TGSCRIPT_LOG_FORMAT").as_deref() {
        Ok("json") => builder.json().try_init(),
        _ => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
    // A panic (a bug, caught where handlers run) is one redacted log line, not a backtrace
    // printed past the logger.
    std::panic::set_hook(Box::new(|info| tracing::error!("internal error: {info}")));
}
