//! Albums being gathered: the first part of an album opens it and queues it in its chat's
//! lane (so later updates of the chat wait behind it); further parts join it; it is complete
//! once no part has come for the album wait (or it has [`album::MAX_PARTS`]). The inbox
//! keeps its parts meanwhile ([`crate::inbox::OpenAlbum`]); without an inbox they are kept
//! here.

use crate::inbox::OpenAlbum;
use crate::telegram::album::{self, Part};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::time::{Duration, Instant};

/// One album being gathered.
#[derive(Debug)]
pub struct Gathering {
    /// Which album.
    pub album: OpenAlbum,
    /// The parts come so far (this process's), and when the last came.
    parts: Mutex<(Vec<Value>, Instant)>,
}

/// The albums of one bot being gathered, by chat and `media_group_id`.
#[derive(Debug, Default)]
pub struct Albums {
    open: Mutex<HashMap<(i64, String), Arc<Gathering>>>,
}

impl Albums {
    /// Add `part` to its album; the album when the part opens it (to be queued in its chat's
    /// lane, behind the part).
    pub fn add(&self, part: &Part) -> Option<Arc<Gathering>> {
        self.join(
            OpenAlbum {
                chat: part.chat,
                media_group_id: part.media_group_id.to_string(),
            },
            Some(part.message),
        )
    }

    /// Gather `album` again (its parts kept by the inbox before a restart); the album unless
    /// it is being gathered already.
    pub fn reopen(&self, album: OpenAlbum) -> Option<Arc<Gathering>> {
        self.join(album, None)
    }

    fn join(&self, album: OpenAlbum, message: Option<&Value>) -> Option<Arc<Gathering>> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (album.chat, album.media_group_id.clone());
        if let Some(gathering) = open.get(&key) {
            let mut parts = gathering
                .parts
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            parts.0.extend(message.cloned());
            parts.1 = Instant::now();
            return None;
        }
        let gathering = Arc::new(Gathering {
            album,
            parts: Mutex::new((message.into_iter().cloned().collect(), Instant::now())),
        });
        open.insert(key, gathering.clone());
        Some(gathering)
    }

    /// Wait until `gathering` is complete (no part for `wait`, or every part Telegram puts
    /// in an album), then close it to further parts (a later one opens a new album) and
    /// return the parts gathered here.
    pub async fn complete(&self, gathering: &Gathering, wait: Duration) -> Vec<Value> {
        loop {
            let (count, last) = {
                let parts = gathering
                    .parts
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                (parts.0.len(), parts.1)
            };
            if count >= album::MAX_PARTS || Instant::now() >= last + wait {
                break;
            }
            tokio::time::sleep_until(last + wait).await;
        }
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (gathering.album.chat, gathering.album.media_group_id.clone());
        if open
            .get(&key)
            .is_some_and(|open| std::ptr::eq(open.as_ref(), gathering))
        {
            open.remove(&key);
        }
        let mut parts = gathering
            .parts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut parts.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn part_of(update: &Value) -> Part<'_> {
        album::part(update).unwrap_or(Part {
            chat: 0,
            media_group_id: "",
            message: &Value::Null,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn an_album_completes_after_the_wait_since_its_last_part_and_a_late_part_opens_another() {
        let albums = Albums::default();
        let update = |id: i64| {
            json!({"update_id": id, "message": {"message_id": id, "media_group_id": "g",
                "chat": {"id": 5}, "photo": []}})
        };
        let (first, second, late) = (update(1), update(2), update(3));
        let gathering = albums
            .add(&part_of(&first))
            .expect("the first part opens it");
        tokio::time::advance(Duration::from_millis(600)).await;
        assert!(albums.add(&part_of(&second)).is_none(), "joins");
        let started = Instant::now();
        let parts = albums.complete(&gathering, Duration::from_secs(1)).await;
        assert_eq!(parts.len(), 2);
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(1),
            "a second after the last part"
        );
        assert!(albums.add(&part_of(&late)).is_some(), "a new album");
    }
}
