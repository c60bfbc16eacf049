//! The sandbox chat: each line — typed on stdin, or sent by the web console through the
//! gateway's `sandbox_chat` — becomes sandbox updates (or an account event, or a move of the
//! sandbox's clock) and is handled by the scenarios before the next line is taken. On stdin,
//! the end of input stops the run, unless the web console is on.

use crate::accounts::Accounts;
use crate::activity::{self, Entry, Kind};
use crate::sandbox::BotApiServer;
use crate::sandbox::lines::{self, Input, Users};
use crate::scenario::dispatch::Progress;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// How long the sandbox chat gives an account event, or a job the clock's move made due, to
/// reach the dispatcher.
const ACCOUNT_EVENT_GRACE: Duration = Duration::from_millis(200);
/// How long a line waits for the scenarios to handle it before it is answered anyway.
const HANDLED_WITHIN: Duration = Duration::from_secs(30);

/// The sandbox group as lines of chat reach it, one line at a time.
pub(super) struct SandboxChat {
    server: Arc<BotApiServer>,
    /// The sandbox bot's progress: a line is answered once its updates are handled.
    progress: Arc<Progress>,
    accounts: Accounts,
    /// The sandbox users by name; held while a line is handled, so lines take turns.
    users: tokio::sync::Mutex<Users>,
}

impl SandboxChat {
    /// The chat of the sandbox `server`, whose bot reports to `progress`; account lines go to
    /// the default account of `accounts`.
    pub(super) fn new(
        server: Arc<BotApiServer>,
        progress: Arc<Progress>,
        accounts: Accounts,
    ) -> Self {
        Self {
            server,
            progress,
            accounts,
            users: tokio::sync::Mutex::new(Users::default()),
        }
    }

    /// What the sandbox says when it starts: its Bot API server's address and the sandbox chat's
    /// lines.
    pub(super) fn introduction(&self) -> String {
        lines::introduction(&self.server.url(), super::SANDBOX_TOKEN)
    }

    /// Apply `line` (see [`crate::sandbox::lines`] for what it may say), show its echo with
    /// `echo` at once (before what the scenarios do about it), and wait until they have
    /// handled the updates it made (at most [`HANDLED_WITHIN`]); the echo, or why the line was
    /// not understood (then nothing changed) or is still being handled.
    pub(super) async fn say(&self, line: &str, echo: impl FnOnce(&str)) -> Result<String, String> {
        let mut users = self.users.lock().await;
        let line = line.trim();
        if line.is_empty() {
            return Err("empty message".into());
        }
        if let Some(said) = lines::account_line(&self.accounts, line) {
            let said = said?;
            echo(&said);
            activity::log().record(Entry::new(Kind::Chat, said.clone()));
            // The event reaches the scenarios through the inbox: let them handle it first.
            self.within(&said, self.settle()).await?;
            return Ok(said);
        }
        let (input, mut last) = self.server.world(|w| {
            let last = w.pending() as i64;
            let input = lines::apply_line(w, &mut users, line);
            if let Input::Queued(said) = &input {
                // Shown before the bot can fetch what the line made.
                echo(said);
                activity::log().record(Entry::new(Kind::Chat, said.clone()));
            }
            (input, last)
        });
        let said = match input {
            Input::Queued(said) => said,
            Input::Invalid(why) => return Err(why),
        };
        // What the line made, then what handling it made (a payment after the bot's yes to
        // its pre-checkout query, …), until no more come.
        loop {
            let ids = self.server.world(|w| w.deliverable_after(last));
            let Some(&newest) = ids.last() else {
                break;
            };
            self.within(&said, self.progress.wait_updates(&ids)).await?;
            last = newest;
        }
        if lines::moves_the_clock(line) {
            // Jobs the clock's move made due run before the next line.
            self.within(&said, self.settle()).await?;
        }
        Ok(said)
    }

    /// Wait for `handled`, at most [`HANDLED_WITHIN`]; past it, say that `said` is still
    /// being handled.
    async fn within(&self, said: &str, handled: impl Future<Output = ()>) -> Result<(), String> {
        tokio::time::timeout(HANDLED_WITHIN, handled)
            .await
            .map_err(|_| {
                format!(
                    "\"{said}\" was said, and the scenarios are still at it after {} s (see the activity)",
                    HANDLED_WITHIN.as_secs()
                )
            })
    }

    /// Give an event or a due job time to reach the dispatcher, and wait until it is handled.
    async fn settle(&self) {
        tokio::time::sleep(ACCOUNT_EVENT_GRACE).await;
        self.progress.wait_backlog_below(1).await;
    }
}

/// Read stdin to the end, each line said in `chat` (its echo printed before what the
/// scenarios do about it, or why it was not understood) before the next is read.
pub(super) async fn feed_stdin(chat: &SandboxChat) {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        if let Err(why) = chat.say(&line, |echo| println!("{echo}")).await {
            eprintln!("sandbox: {why}");
        }
    }
}
