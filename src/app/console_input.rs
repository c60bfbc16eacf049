//! The sandbox console's input: each line of stdin becomes sandbox updates (or an account
//! event, or a move of the sandbox's clock), handled before the next line is read; the end of
//! stdin stops the run.

use crate::accounts::Accounts;
use crate::sandbox::BotApiServer;
use crate::sandbox::console::{self, Input, Users};
use crate::scenario::dispatch::Progress;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// How long the sandbox console gives an account event, or a job the clock's move made due,
/// to reach the dispatcher.
const ACCOUNT_EVENT_GRACE: Duration = Duration::from_millis(200);
/// Read stdin to the end, turning each line into sandbox updates and waiting until the
/// scenarios have handled them before reading the next line.
pub(super) async fn feed_stdin(server: &BotApiServer, progress: &Progress, accounts: &Accounts) {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut users = Users::default();
    let mut queued = 0;
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(said) = console::account_line(accounts, &line) {
            match said {
                Ok(echo) => {
                    println!("{echo}");
                    // The event reaches the scenarios through the inbox: let them handle it
                    // before the next line, as for a chat line.
                    tokio::time::sleep(ACCOUNT_EVENT_GRACE).await;
                    progress.wait_backlog_below(1).await;
                    queued = progress.handled();
                }
                Err(why) => eprintln!("sandbox: {why}"),
            }
            continue;
        }
        let (input, added) = server.world(|w| {
            let before = w.pending();
            let input = console::apply_line(w, &mut users, &line);
            (input, w.pending() - before)
        });
        match input {
            Input::Queued(echo) => {
                println!("{echo}");
                queued += added as u64;
                progress.wait_handled(queued).await;
                if line.trim_start().starts_with("/wait") {
                    // Jobs the clock's move made due run before the next line.
                    tokio::time::sleep(ACCOUNT_EVENT_GRACE).await;
                    progress.wait_backlog_below(1).await;
                    queued = progress.handled();
                }
            }
            Input::Invalid(why) => eprintln!("sandbox: {why}"),
        }
    }
}
