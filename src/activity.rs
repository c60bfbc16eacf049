//! What the process did lately, for the web console: script prints, warnings and errors,
//! scenario reloads (from the log, through [`crate::logging`]'s recorder), and on the sandbox every chat line
//! and Bot API call. Kept in memory, bounded ([`RECENT`] entries, [`RELOADS`] reloads apart so
//! a busy chat does not push the reload history out), numbered so a reader asks for what came
//! after the last entry it saw. Like the metrics recorder, there is one per process
//! ([`log`]): the tracing layer that feeds it has no other way to reach it.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock, PoisonError};

/// Entries kept of every kind.
pub const RECENT: usize = 1000;
/// Reload entries kept apart.
pub const RELOADS: usize = 100;
/// The longest text an entry keeps (longer ones are cut, saying so).
pub const MAX_TEXT: usize = 4096;
/// The largest call parameters or result an entry keeps, as JSON (larger ones are replaced
/// by a note of their size).
pub const MAX_JSON: usize = 16 * 1024;
/// The log target of the lines of scripts' `print` and `debug`.
pub const SCRIPT_TARGET: &str = "tgscript::script";
/// The log target of scenario loads, reloads and unloads.
pub const RELOAD_TARGET: &str = "tgscript::reload";

/// What an entry tells of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A line of the sandbox chat (a message, a join, a press, …).
    Chat,
    /// A Bot API call to the sandbox, with its parameters and result.
    Call,
    /// A line a script printed.
    Print,
    /// A warning of tgscript's.
    Warning,
    /// An error of tgscript's (a failed handler, with file:line:col).
    Error,
    /// A scenario loaded, reloaded, unloaded or failing to.
    Reload,
}

impl Kind {
    /// The kind named `name` (`chat`, `call`, …).
    pub fn parse(name: &str) -> Option<Kind> {
        [
            Kind::Chat,
            Kind::Call,
            Kind::Print,
            Kind::Warning,
            Kind::Error,
            Kind::Reload,
        ]
        .into_iter()
        .find(|k| {
            serde_json::to_value(k)
                .ok()
                .as_ref()
                .and_then(Value::as_str)
                == Some(name)
        })
    }
}

/// One thing that happened.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Its number: later entries have higher ones.
    pub seq: u64,
    /// When, in Unix milliseconds.
    pub at: i64,
    /// What it tells of.
    pub kind: Kind,
    /// In words (secrets removed).
    pub text: String,
    /// A reload: whether it worked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
    /// A call's method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// A call's parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
    /// A call's result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// A refused call: the refusal, `code description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A script's line, or an error of its: the bot whose scenario it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<String>,
    /// A script's line, or an error of its: the scenario (its state namespace within its bot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
}

/// `text` cut at [`MAX_TEXT`] bytes (on a character boundary), saying how much was cut.
fn cut(text: &mut String) {
    if text.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let dropped = text.len() - end;
        text.truncate(end);
        let _ = write!(text, "… ({dropped} more bytes)");
    }
}

/// `value`, or a note of its size when its JSON is over [`MAX_JSON`] bytes.
fn bounded(value: &mut Option<Value>) {
    let size = value.as_ref().map_or(0, |v| v.to_string().len());
    if size > MAX_JSON {
        *value = Some(Value::String(format!("({size} bytes of JSON, not kept)")));
    }
}

impl Entry {
    /// Its text, error and JSON kept within bounds.
    fn bound(&mut self) {
        cut(&mut self.text);
        if let Some(error) = &mut self.error {
            cut(error);
        }
        bounded(&mut self.params);
        bounded(&mut self.result);
    }

    /// An entry of `kind` saying `text` (numbered and dated when recorded).
    pub fn new(kind: Kind, text: impl Into<String>) -> Self {
        Self {
            seq: 0,
            at: 0,
            kind,
            text: text.into(),
            ok: None,
            method: None,
            params: None,
            result: None,
            error: None,
            bot: None,
            scenario: None,
        }
    }

    /// A Bot API call of `method` with `params`, answered with `answer` (a result, or a
    /// refusal in words).
    pub fn call(method: &str, params: Value, answer: Result<Value, String>) -> Self {
        let mut entry = Entry::new(Kind::Call, format!("→ {method} {params}"));
        entry.method = Some(method.to_string());
        entry.params = Some(params);
        match answer {
            Ok(result) => entry.result = Some(result),
            Err(refusal) => {
                let _ = write!(entry.text, " ✗ {refusal}");
                entry.error = Some(refusal);
            }
        }
        entry
    }
}

#[derive(Default)]
struct Entries {
    last: u64,
    recent: VecDeque<Entry>,
    reloads: VecDeque<Entry>,
}

/// The recent entries of a process.
#[derive(Default)]
pub struct Activity {
    entries: Mutex<Entries>,
}

/// Keep `entry` at the end of `list`, dropping the oldest past `max`.
fn keep(list: &mut VecDeque<Entry>, entry: Entry, max: usize) {
    if list.len() == max {
        list.pop_front();
    }
    list.push_back(entry);
}

impl Activity {
    /// Number and keep `entry` (its text cut at [`MAX_TEXT`], its JSON at [`MAX_JSON`]),
    /// dated now unless it is already (one a worker passed on).
    pub fn record(&self, mut entry: Entry) {
        entry.bound();
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.last += 1;
        entry.seq = entries.last;
        if entry.at == 0 {
            entry.at = chrono::Utc::now().timestamp_millis();
        }
        if entry.kind == Kind::Reload {
            keep(&mut entries.reloads, entry.clone(), RELOADS);
        }
        keep(&mut entries.recent, entry, RECENT);
    }

    /// Take every entry kept so far, oldest first (a script worker passes its own on to its
    /// host, which keeps them).
    pub fn take(&self) -> Vec<Entry> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.reloads.clear();
        entries.recent.drain(..).collect()
    }

    /// The newest `most` entries numbered after `after` (of `kind` only, when given; reloads
    /// come from their own, longer list), oldest first.
    pub fn since(&self, after: u64, kind: Option<Kind>, most: usize) -> Found {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let list = match kind {
            Some(Kind::Reload) => &entries.reloads,
            _ => &entries.recent,
        };
        let mut found: Vec<Entry> = list
            .iter()
            .filter(|e| e.seq > after && kind.is_none_or(|k| e.kind == k))
            .cloned()
            .collect();
        let skipped = found.len().saturating_sub(most);
        found.drain(..skipped);
        Found {
            entries: found,
            skipped,
            last: entries.last,
        }
    }
}

/// What [`Activity::since`] found.
#[derive(Debug)]
pub struct Found {
    /// The entries, oldest first.
    pub entries: Vec<Entry>,
    /// Older ones that matched but were left out (past `most`).
    pub skipped: usize,
    /// The number of the last entry recorded (of any kind): ask after it next time.
    pub last: u64,
}

/// The process's activity.
pub fn log() -> &'static Activity {
    static ACTIVITY: OnceLock<Activity> = OnceLock::new();
    ACTIVITY.get_or_init(Activity::default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_numbered_after_the_last_seen_and_reloads_outlive_the_rest() {
        let activity = Activity::default();
        activity.record(Entry::new(Kind::Reload, "loaded a.rhai"));
        for n in 0..RECENT {
            activity.record(Entry::new(Kind::Print, format!("line {n}")));
        }
        let found = activity.since(0, None, usize::MAX);
        let (all, last) = (found.entries, found.last);
        assert_eq!(all.len(), RECENT);
        assert_eq!(last, RECENT as u64 + 1);
        assert_eq!(all[0].text, "line 0", "the oldest went first");
        let reloads = activity.since(0, Some(Kind::Reload), usize::MAX).entries;
        assert_eq!(reloads.len(), 1);
        assert_eq!(reloads[0].text, "loaded a.rhai");
        let newer = activity.since(last - 2, None, usize::MAX).entries;
        let texts: Vec<&str> = newer.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                format!("line {}", RECENT - 2),
                format!("line {}", RECENT - 1)
            ]
        );
        assert!(activity.since(last, None, usize::MAX).entries.is_empty());
        let newest = activity.since(0, None, 3);
        assert_eq!(newest.skipped, RECENT - 3);
        assert_eq!(
            newest.entries[2].text,
            format!("line {}", RECENT - 1),
            "the newest kept"
        );
        let taken = activity.take();
        assert_eq!(taken.len(), RECENT);
        assert!(
            activity.since(0, None, usize::MAX).entries.is_empty(),
            "taken means gone"
        );
        activity.record(taken[0].clone());
        let again = activity.since(last, None, usize::MAX).entries;
        assert_eq!(
            again[0].at, taken[0].at,
            "an entry passed on keeps its time"
        );
        assert_eq!(again[0].seq, last + 1, "and gets the next number");
    }

    #[test]
    fn long_texts_and_large_json_are_kept_within_bounds() {
        let activity = Activity::default();
        let params = serde_json::json!({"photo": "x".repeat(MAX_JSON)});
        let mut call = Entry::call("sendPhoto", params, Ok(serde_json::json!({"ok": true})));
        call.text = "é".repeat(MAX_TEXT);
        activity.record(call);
        let kept = activity.since(0, None, usize::MAX).entries;
        let text = &kept[0].text;
        assert!(text.len() < MAX_TEXT + 40, "{}", text.len());
        assert!(
            text.ends_with(&format!("… ({MAX_TEXT} more bytes)")),
            "{text:.40}"
        );
        let note = kept[0]
            .params
            .as_ref()
            .and_then(Value::as_str)
            .unwrap_or_default();
        assert!(note.ends_with("bytes of JSON, not kept)"), "{note}");
        assert_eq!(
            kept[0].result,
            Some(serde_json::json!({"ok": true})),
            "small JSON stays"
        );
    }

    #[test]
    fn a_refused_call_says_why_and_kinds_parse_by_name() {
        let call = Entry::call(
            "restrictChatMember",
            serde_json::json!({"user_id": 1001}),
            Err("400 not enough rights".into()),
        );
        assert_eq!(call.error.as_deref(), Some("400 not enough rights"));
        assert!(
            call.text.ends_with("✗ 400 not enough rights"),
            "{}",
            call.text
        );
        assert!(call.result.is_none());
        assert_eq!(Kind::parse("reload"), Some(Kind::Reload));
        assert_eq!(Kind::parse("call"), Some(Kind::Call));
        assert_eq!(Kind::parse("calls"), None);
    }
}
