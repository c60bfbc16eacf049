//! `tgscript inbox list` / `inbox retry ID...`: look into the update inbox of the state
//! database, and queue parked updates for another round of tries.

use super::EXIT_USAGE;
use crate::app::open_store;
use crate::config::Config;
use crate::inbox::{Entry, Inbox, Status};
use std::sync::Arc;

/// `tgscript inbox ...`
#[derive(Debug, clap::Subcommand)]
pub enum InboxCommand {
    /// Updates not handled yet and parked ones (with `--all`, also those handled in the last
    /// day), oldest first.
    List {
        /// Also list the updates every handler finished.
        #[arg(long)]
        all: bool,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Queue parked updates for another round of `[inbox] max_attempts` tries: a running
    /// `tgscript run` takes them up within a second, otherwise the next start does. Handlers
    /// that finished on an earlier try are not run again.
    Retry {
        /// The `update_id`s, as `inbox list` shows them.
        #[arg(required = true)]
        ids: Vec<i64>,
    },
}

pub(super) fn inbox(config: &Config, command: InboxCommand) -> anyhow::Result<u8> {
    let store = Arc::new(open_store(config)?);
    let inbox = Inbox::new(store, config.inbox.max_attempts);
    match command {
        InboxCommand::List { all, json } => list(&inbox, all, json),
        InboxCommand::Retry { ids } => retry(&inbox, &ids),
    }
}

fn list(inbox: &Inbox, all: bool, json: bool) -> anyhow::Result<u8> {
    let mut statuses = vec![Status::Pending, Status::Retry, Status::Parked];
    if all {
        statuses.push(Status::Done);
    }
    let entries = inbox.list(&statuses).map_err(anyhow::Error::msg)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
    } else if entries.is_empty() {
        println!(
            "the inbox holds no {}update",
            if all { "" } else { "unfinished or parked " }
        );
    } else {
        print!("{}", table(&entries));
    }
    Ok(0)
}

/// The entries as an aligned table, the error last.
fn table(entries: &[Entry]) -> String {
    let rows: Vec<[String; 6]> = entries
        .iter()
        .map(|e| {
            [
                e.update_id.to_string(),
                e.chat.to_string(),
                e.kind.clone(),
                e.status.as_str().to_string(),
                e.attempts.to_string(),
                e.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let header = ["UPDATE", "CHAT", "KIND", "STATUS", "TRIES", "ERROR"].map(str::to_string);
    let mut widths = [0; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter().zip(row) {
            out.push_str(&format!("{cell:<width$}  "));
        }
        out.push_str(&row[5]);
        out.push('\n');
    }
    out
}

/// Queue each of `ids`; one that cannot be is reported and the others still are (exit 2 if any
/// could not).
fn retry(inbox: &Inbox, ids: &[i64]) -> anyhow::Result<u8> {
    let mut code = 0;
    for &id in ids {
        match inbox.retry(id) {
            Ok(Status::Retry) => println!("update {id} is queued for a retry already"),
            Ok(_) => println!(
                "update {id} queued for another round of tries: a running `tgscript run` takes it up within a second, otherwise the next start does"
            ),
            Err(e) => {
                eprintln!("tgscript inbox retry: {e}");
                code = EXIT_USAGE;
            }
        }
    }
    Ok(code)
}
