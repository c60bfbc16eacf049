//! A WebSocket's outgoing frames: a bounded queue (so many frames, so many bytes) in front of
//! one writer. A client that leaves its answers unread until the queue is full is too slow:
//! it is closed with a reason (close code 1008) instead of making the host hold more for it
//! (a subscription's events wait for room instead: their own buffer drops what is left). A
//! client's own Close is answered and ends the writer; otherwise the writer sends what is
//! queued and then closes normally.

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::SinkExt;
use futures::stream::SplitSink;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Frames that may wait for the client to read them.
const FRAMES: usize = 64;
/// Bytes that may wait for the client to read them (one frame is always taken when none
/// waits, whatever its size).
const BYTES: usize = 16 * 1024 * 1024;
/// How long a frame may wait for the client to take it before the connection is dropped.
const WRITE_TIMEOUT: Duration = super::listener::WRITE_TIMEOUT;
/// How long the closing handshake may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// The close code of a client too slow (RFC 6455 policy violation).
const TOO_SLOW: u16 = 1008;

/// The sending end, cloned by whatever answers the client.
#[derive(Clone)]
pub struct Outbox {
    frames: mpsc::Sender<String>,
    shared: Arc<Shared>,
}

struct Shared {
    /// Bytes of the frames queued.
    queued: AtomicUsize,
    /// Cancelled when the writer is to close now, with `reason` (none: the client's Close).
    closing: CancellationToken,
    reason: Mutex<Option<String>>,
}

/// The writing end: sends the queued frames to the client.
pub struct Writer {
    frames: mpsc::Receiver<String>,
    shared: Arc<Shared>,
}

/// A queue and its writer.
pub fn new() -> (Outbox, Writer) {
    let (tx, rx) = mpsc::channel(FRAMES);
    let shared = Arc::new(Shared {
        queued: AtomicUsize::new(0),
        closing: CancellationToken::new(),
        reason: Mutex::new(None),
    });
    let outbox = Outbox {
        frames: tx,
        shared: shared.clone(),
    };
    (outbox, Writer { frames: rx, shared })
}

impl Outbox {
    /// Queue `frame` for the client; `false` when the connection is closing (the client went,
    /// closed, or is too slow: then it is closed with the reason).
    pub fn send(&self, frame: String) -> bool {
        if self.shared.closing.is_cancelled() {
            return false;
        }
        let size = frame.len();
        let before = self.shared.queued.fetch_add(size, Ordering::AcqRel);
        let fits = before == 0 || before + size <= BYTES;
        match fits.then(|| self.frames.try_send(frame)) {
            Some(Ok(())) => true,
            Some(Err(mpsc::error::TrySendError::Closed(_))) => {
                self.shared.queued.fetch_sub(size, Ordering::AcqRel);
                false
            }
            Some(Err(mpsc::error::TrySendError::Full(_))) | None => {
                self.shared.queued.fetch_sub(size, Ordering::AcqRel);
                let waiting = self.frames.max_capacity() - self.frames.capacity();
                self.close(Some(format!(
                    "too slow: {waiting} answers ({before} bytes) left unread"
                )));
                false
            }
        }
    }

    /// Queue `frame` for the client once there is room for it (a subscription's events,
    /// whose own bounded buffer drops and counts what a client does not read); `false` when
    /// the connection is closing.
    pub async fn send_when_room(&self, frame: String) -> bool {
        if self.shared.closing.is_cancelled() {
            return false;
        }
        let size = frame.len();
        self.shared.queued.fetch_add(size, Ordering::AcqRel);
        let sent = self.frames.send(frame).await.is_ok();
        if !sent {
            self.shared.queued.fetch_sub(size, Ordering::AcqRel);
        }
        sent
    }

    /// Close the connection now: answering the client's Close (`reason` none), or with
    /// `reason` (close code 1008).
    pub fn close(&self, reason: Option<String>) {
        if let Some(reason) = &reason {
            tracing::warn!("gateway: closing a WebSocket: {reason}");
        }
        *self
            .shared
            .reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = reason;
        self.shared.closing.cancel();
    }

    /// Resolves once the writer is gone (the client cannot be written to any more).
    pub async fn closed(&self) {
        self.frames.closed().await;
    }
}

impl Writer {
    /// Send the queued frames to `sink` until every [`Outbox`] is dropped (then close
    /// normally) or the connection is to close now (then answer the client's Close, or send
    /// the reason); a frame the client leaves untaken for [`WRITE_TIMEOUT`] drops it.
    pub async fn run(mut self, mut sink: SplitSink<WebSocket, Message>) {
        let closing = self.shared.closing.clone();
        loop {
            let frame = tokio::select! {
                biased;
                () = closing.cancelled() => break,
                frame = self.frames.recv() => match frame {
                    Some(frame) => frame,
                    None => break,
                },
            };
            self.shared.queued.fetch_sub(frame.len(), Ordering::AcqRel);
            let sent = tokio::select! {
                sent = tokio::time::timeout(WRITE_TIMEOUT, sink.send(Message::Text(frame.into()))) => sent,
                () = closing.cancelled() => break,
            };
            if !matches!(sent, Ok(Ok(()))) {
                tracing::warn!(
                    "gateway: a client left its answers unread for {} s (or went away); disconnecting it",
                    WRITE_TIMEOUT.as_secs()
                );
                return;
            }
        }
        let reason = self
            .shared
            .reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
            match reason {
                Some(reason) => {
                    let frame = CloseFrame {
                        code: TOO_SLOW,
                        reason: reason.into(),
                    };
                    sink.send(Message::Close(Some(frame))).await
                }
                // A Close the client sent is answered by flushing the reply the WebSocket
                // layer queued; otherwise this sends ours.
                None => sink.close().await,
            }
        })
        .await;
    }
}
