//! What scripts ask of jobs, as it crosses the effects boundary: the operations, when a job
//! runs, where it acts, and the repeats `every` takes.

use crate::store::DEFAULT_BOT;
use serde_json::Value;
use std::str::FromStr;

/// Where a job was scheduled from: its run acts there (`reply`, `tg_chat_permission`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JobPlace {
    /// The chat.
    pub chat_id: Option<i64>,
    /// The user.
    pub user_id: Option<i64>,
    /// The message.
    pub message_id: Option<i64>,
}

/// When a job runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum When {
    /// Once, at this Unix time in milliseconds.
    At(i64),
    /// Once, this many milliseconds after it is scheduled.
    After(i64),
    /// Repeatedly, by a period in seconds or a cron expression (see [`Repeat`]), first when
    /// it next comes round.
    Every(String),
}

/// One operation on jobs, as builtins ask for it (it crosses the effects boundary inside a
/// [`super::StateOp`], so a handler's scheduling is journaled like its state writes).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum JobOp {
    /// Schedule `function(data)` in scenario `namespace`: answered with the job's id.
    Schedule {
        /// The scenario's namespace.
        namespace: String,
        /// The function to call.
        function: String,
        /// Its argument.
        data: Value,
        /// When.
        when: When,
        /// Where it was scheduled from.
        place: JobPlace,
    },
    /// Wait for the next message of the place's user in its chat: it goes to `function(msg)`;
    /// after `timeout_ms`, `function_timeout(data)` runs instead. Replaces the scenario's
    /// earlier wait there. Answered with the wait's id.
    Expect {
        /// The scenario's namespace.
        namespace: String,
        /// The function the message goes to.
        function: String,
        /// The argument of the timeout function.
        data: Value,
        /// How long the wait lasts (ms), if it ends.
        timeout_ms: Option<i64>,
        /// The chat and user waited for.
        place: JobPlace,
    },
    /// Cancel the scenario's job `id`: answered with whether it was waiting.
    Cancel {
        /// The scenario's namespace.
        namespace: String,
        /// The job.
        id: i64,
    },
    /// The scenario's jobs, soonest first.
    List {
        /// The scenario's namespace.
        namespace: String,
    },
}

impl JobOp {
    /// Whether the operation changes the jobs.
    pub fn writes(&self) -> bool {
        !matches!(self, JobOp::List { .. })
    }

    /// The scenario it is about.
    pub fn namespace(&self) -> &str {
        match self {
            JobOp::Schedule { namespace, .. }
            | JobOp::Expect { namespace, .. }
            | JobOp::Cancel { namespace, .. }
            | JobOp::List { namespace } => namespace,
        }
    }

    /// The operation as one line (what the journal matches a replay on): its fields, all
    /// of them.
    pub fn describe(&self) -> String {
        format!("job {self:?}")
    }
}

/// The bot whose scenario `namespace` is (see [`crate::store::namespace_prefix`]).
pub fn bot_of(namespace: &str) -> &str {
    namespace
        .rsplit_once('/')
        .map_or(DEFAULT_BOT, |(bot, _)| bot)
}

/// A repeat: a period in seconds, or a cron expression (UTC).
#[derive(Debug, Clone)]
pub enum Repeat {
    /// Every this many seconds.
    Period(i64),
    /// At the times the expression matches.
    Cron(Box<croner::Cron>),
}

impl Repeat {
    /// Read `spec`: a whole number of seconds (at least 1) or a cron expression of 5 fields
    /// (minute hour day month weekday) or 6 (seconds first).
    pub fn parse(spec: &str) -> Result<Repeat, String> {
        let spec = spec.trim();
        if let Ok(seconds) = spec.parse::<i64>() {
            return match seconds {
                1.. => Ok(Repeat::Period(seconds)),
                _ => Err(format!(
                    "every: a period must be at least 1 second, not {seconds}"
                )),
            };
        }
        croner::Cron::from_str(spec)
            .map(|cron| Repeat::Cron(Box::new(cron)))
            .map_err(|e| {
                format!("every: {spec:?} is neither a period in seconds nor a cron expression like \"0 9 * * *\" (minute hour day month weekday, UTC): {e}")
            })
    }

    /// The first time after `after_ms` (ms) it comes round.
    pub fn next_after(&self, after_ms: i64) -> Result<i64, String> {
        match self {
            Repeat::Period(seconds) => Ok(after_ms.saturating_add(seconds.saturating_mul(1000))),
            Repeat::Cron(cron) => {
                let after = chrono::DateTime::from_timestamp_millis(after_ms)
                    .ok_or_else(|| format!("every: the time {after_ms} ms is out of range"))?;
                cron.find_next_occurrence(&after, false)
                    .map(|next| next.timestamp_millis())
                    .map_err(|e| format!("every: the expression never comes round again: {e}"))
            }
        }
    }
}
