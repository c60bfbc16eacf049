//! `tgscript inbox list` / `inbox retry ID...`: look into the update inbox of the state
//! database, and queue parked updates for another round of tries.

use super::output::OutputArgs;
use super::{EXIT_USAGE, usage};
use crate::app::open_existing_store;
use crate::config::{Config, valid_bot_id};
use crate::inbox::{DEFAULT_BOT, Entry, Inbox, Status};
use std::sync::Arc;

/// `tgscript inbox ...`
#[derive(Debug, clap::Subcommand)]
pub enum InboxCommand {
    /// Updates not handled yet and parked ones (with `--all`, also those handled in the last
    /// day) of every bot, oldest first.
    List {
        /// Also list the updates every handler finished.
        #[arg(long)]
        all: bool,
        /// Only this bot's inbox (a `[[bot]]` id; default: every bot's).
        #[arg(long)]
        bot: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Queue parked updates for another round of `[inbox] max_attempts` tries: a running
    /// `tgscript run` takes them up within a second, otherwise the next start does. Handlers
    /// that finished on an earlier try are not run again.
    Retry {
        /// The `update_id`s, as `inbox list` shows them.
        #[arg(required = true)]
        ids: Vec<i64>,
        /// Whose inbox (a `[[bot]]` id; default: the only bot).
        #[arg(long)]
        bot: Option<String>,
    },
}

pub(super) fn inbox(config: &Config, command: InboxCommand) -> anyhow::Result<u8> {
    let store = Arc::new(open_existing_store(config)?);
    let inbox = |bot: &str| Inbox::new(store.clone(), config.inbox.max_attempts).for_bot(bot);
    match command {
        InboxCommand::List { all, bot, output } => {
            let bots = match bot {
                Some(id) => vec![valid(&id)?],
                None => inbox(DEFAULT_BOT).bots().map_err(anyhow::Error::msg)?,
            };
            let inboxes: Vec<Inbox> = bots.iter().map(|bot| inbox(bot)).collect();
            list(&inboxes, all, output.json())
        }
        InboxCommand::Retry { ids, bot } => retry(&inbox(&whose(config, bot.as_deref())?), &ids),
    }
}

/// `id` if it can name a bot.
fn valid(id: &str) -> anyhow::Result<String> {
    match valid_bot_id(id) {
        true => Ok(id.to_string()),
        false => Err(usage(format!(
            "--bot {id:?}: a bot id is 1–64 letters, digits, `_` or `-`"
        ))),
    }
}

/// The bot whose inbox to open: `given` (any bot id: a bot removed from the config keeps its
/// inbox), else the only bot of the config.
fn whose(config: &Config, given: Option<&str>) -> anyhow::Result<String> {
    if let Some(id) = given {
        return valid(id);
    }
    match config.bots.as_slice() {
        [] => Ok(DEFAULT_BOT.to_string()),
        [only] => Ok(only.id.clone()),
        bots => Err(usage(format!(
            "the config has {} bots: pass --bot ID ({})",
            bots.len(),
            bots.iter()
                .map(|b| b.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// One listed update and its bot.
#[derive(serde::Serialize)]
struct Listed {
    bot: String,
    #[serde(flatten)]
    entry: Entry,
}

fn list(inboxes: &[Inbox], all: bool, json: bool) -> anyhow::Result<u8> {
    let mut statuses = vec![Status::Pending, Status::Retry, Status::Parked];
    if all {
        statuses.push(Status::Done);
    }
    let mut entries = Vec::new();
    for inbox in inboxes {
        let listed = inbox.list(&statuses).map_err(anyhow::Error::msg)?;
        entries.extend(listed.into_iter().map(|entry| Listed {
            bot: inbox.bot().to_string(),
            entry,
        }));
    }
    if json {
        outln!("{}", serde_json::to_string_pretty(&entries)?)?;
    } else if entries.is_empty() {
        outln!(
            "the inbox holds no {}update",
            if all { "" } else { "unfinished or parked " }
        )?;
    } else {
        out!("{}", table(&entries))?;
    }
    Ok(0)
}

/// The entries as an aligned table, the error last.
fn table(entries: &[Listed]) -> String {
    let rows = entries
        .iter()
        .map(|Listed { bot, entry: e }| {
            vec![
                bot.clone(),
                e.update_id.to_string(),
                e.chat.to_string(),
                e.kind.clone(),
                e.status.as_str().to_string(),
                e.attempts.to_string(),
                e.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    super::aligned(
        &["BOT", "UPDATE", "CHAT", "KIND", "STATUS", "TRIES", "ERROR"],
        rows,
    )
}

/// Queue each of `ids`; one that cannot be is reported and the others still are (exit 2 if any
/// could not).
fn retry(inbox: &Inbox, ids: &[i64]) -> anyhow::Result<u8> {
    let mut code = 0;
    for &id in ids {
        match inbox.retry(id) {
            Ok(Status::Retry) => outln!("update {id} is queued for a retry already")?,
            Ok(_) => outln!(
                "update {id} queued for another round of tries: a running `tgscript run` takes it up within a second, otherwise the next start does"
            )?,
            Err(e) => {
                eprintln!("tgscript inbox retry: {e}");
                code = EXIT_USAGE;
            }
        }
    }
    Ok(code)
}
