//! `tgscript jobs list` / `jobs cancel ID...`: the jobs and `expect_message` waits scenarios
//! keep in the state database.

use super::output::OutputArgs;
use super::{EXIT_USAGE, aligned};
use crate::app::open_existing_store;
use crate::config::Config;
use serde_json::Value;

/// `tgscript jobs ...`
#[derive(Debug, clap::Subcommand)]
pub enum JobsCommand {
    /// Every waiting job and wait, soonest first: id, bot, scenario, function, when it is
    /// due, its repeat, where it acts.
    List {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Cancel jobs (a running `tgscript run` does not run them); ids as `jobs list` shows.
    Cancel {
        /// The job ids.
        #[arg(required = true)]
        ids: Vec<i64>,
    },
}

pub(super) fn jobs(config: &Config, command: JobsCommand) -> anyhow::Result<u8> {
    let store = open_existing_store(config)?;
    match command {
        JobsCommand::List { output } => {
            let jobs = store.all_jobs().map_err(anyhow::Error::msg)?;
            if output.json() {
                outln!("{}", serde_json::to_string_pretty(&jobs)?)?;
            } else if jobs.is_empty() {
                outln!("no job is waiting")?;
            } else {
                out!("{}", table(&jobs))?;
            }
            Ok(0)
        }
        JobsCommand::Cancel { ids } => {
            let mut code = 0;
            for id in ids {
                match store.cancel_job(id) {
                    Ok(true) => outln!("job {id} cancelled")?,
                    Ok(false) => {
                        eprintln!(
                            "tgscript jobs cancel: no job {id} is waiting (see `tgscript jobs list`)"
                        );
                        code = EXIT_USAGE;
                    }
                    Err(e) => return Err(anyhow::Error::msg(e)),
                }
            }
            Ok(code)
        }
    }
}

/// The jobs as an aligned table, where each acts last.
fn table(jobs: &[Value]) -> String {
    let text = |v: &Value| match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let rows = jobs
        .iter()
        .map(|job| {
            let due = job["due_at"].as_i64().map_or_else(
                || "on the next message".to_string(),
                |at| {
                    chrono::DateTime::from_timestamp(at, 0).map_or_else(
                        || at.to_string(),
                        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                    )
                },
            );
            let scenario = text(&job["scenario"]);
            let (bot, scenario) = scenario.rsplit_once('/').map_or(
                (crate::store::DEFAULT_BOT.to_string(), scenario.clone()),
                |(b, s)| (b.to_string(), s.to_string()),
            );
            let function = match job["kind"].as_str() {
                Some("expect") => format!("{} (expect_message)", text(&job["function"])),
                _ => text(&job["function"]),
            };
            vec![
                text(&job["id"]),
                bot,
                scenario,
                function,
                due,
                text(&job["every"]),
                format!(
                    "chat {} user {}",
                    text(&job["chat_id"]),
                    text(&job["user_id"])
                ),
            ]
        })
        .collect();
    aligned(
        &["ID", "BOT", "SCENARIO", "FUNCTION", "DUE", "EVERY", "WHERE"],
        rows,
    )
}
