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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::testing::{Backend, on_both_backends};
    use crate::telegram::upload::{Upload, digest};
    use std::cell::Cell;
    use std::sync::Arc;

    /// One run of a handler that downloads a file answering `bytes` and then sends a message;
    /// counts the downloads and the sends made.
    fn run(store: &Arc<Store>, bytes: &[u8], downloads: &Cell<u32>, sends: &Cell<u32>) {
        let journal =
            HandlerJournal::open(store.clone(), &"default".into(), 7, "a.rhai").expect("journal");
        let file = Upload {
            filename: "file_1.txt".into(),
            bytes: bytes.to_vec(),
        };
        let got = journal.refetch(
            "download",
            "download AgAD".into(),
            || {
                downloads.set(downloads.get() + 1);
                Ok(file.to_json())
            },
            digest,
        );
        assert_eq!(got.ok(), Some(file.to_json()), "the bytes themselves");
        let sent = journal.external("send_message", "bot sendMessage".into(), || {
            sends.set(sends.get() + 1);
            Ok(Value::from(sends.get()))
        });
        assert!(sent.is_ok());
    }

    fn a_download_is_made_again_and_checked_by_its_digest(backend: Backend) {
        let store = Arc::new(backend.store());
        let (downloads, sends) = (Cell::new(0), Cell::new(0));
        run(&store, b"hello", &downloads, &sends);
        run(&store, b"hello", &downloads, &sends);
        assert_eq!(downloads.get(), 2, "downloaded again");
        assert_eq!(
            sends.get(),
            1,
            "the same bytes: the send after it is replayed"
        );
        let rows: Vec<(String, Option<String>)> = store
            .lock()
            .query_map(
                "SELECT call, result FROM journal ORDER BY seq",
                &[],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("the journal");
        let (call, result) = &rows[0];
        assert_eq!(call, "download AgAD");
        let result = result.as_deref().unwrap_or_default();
        let hello_sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        assert!(result.contains(hello_sha), "{result}");
        assert!(result.contains("\"bytes\":5"), "{result}");
        assert!(
            !result.contains("aGVsbG8="),
            "no bytes in the journal: {result}"
        );
        run(&store, b"other", &downloads, &sends);
        assert_eq!(
            (downloads.get(), sends.get()),
            (3, 2),
            "other bytes: the replay ends and the send is made live"
        );
    }

    on_both_backends!(a_download_is_made_again_and_checked_by_its_digest);
}
