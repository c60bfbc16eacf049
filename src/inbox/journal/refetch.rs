//! The journal class of a read whose answer the journal cannot keep: a downloaded file. Its
//! bytes are not recorded (a journal holds calls, not files), only their digest (SHA-256,
//! length, name), so a run again after a crash downloads the file again: a download is a
//! read with no effect on the world, and Telegram's files do not change under their
//! `file_id`. The record keeps the call's place in the order, and the new bytes are checked
//! against it: the same digest goes on replaying the calls after it; a different one (or a
//! failure) ends the replay there, as a changed call does, since what follows was decided on
//! other bytes.

use super::{HandlerJournal, Step};
use crate::request::CommandError;
use serde_json::Value;

impl HandlerJournal {
    /// A read made on every run through `make`, recorded as `digest` of its answer (and
    /// written with the next write, like every read).
    pub fn refetch(
        &self,
        command: &str,
        call: String,
        make: impl FnOnce() -> Result<Value, CommandError>,
        digest: impl Fn(&Value) -> Value,
    ) -> Result<Value, CommandError> {
        let (seq, recorded) = match self.step(&call) {
            Step::Replay(recorded) => (self.cursor().next - 1, Some(recorded)),
            Step::Live(seq) => (seq, None),
        };
        if recorded.is_none()
            && let Some(refusal) = self.over_limit()
        {
            return Err(CommandError::invalid(command, refusal.to_string()));
        }
        let result = make();
        let kept = match &result {
            Ok(value) => Ok(digest(value)),
            Err(error) => Err(error.to_json()),
        };
        if recorded.is_some() && recorded.as_ref() == kept.as_ref().ok() {
            return result;
        }
        if recorded.is_some() {
            tracing::info!(
                "update {}, {}: call #{seq} ({call}) got other bytes than the recorded run; the handler goes on live from here",
                self.update_id,
                self.scenario,
            );
            let mut cursor = self.cursor();
            cursor.replay.clear();
            cursor.stale_from = Some(seq);
        }
        self.remember(seq, call, &kept);
        result
    }
}
