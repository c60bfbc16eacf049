//! The places of a listener's connections: at most so many connections are served at once,
//! each holding a place from accept until it closes (a WebSocket until it ends). A place is
//! busy while a request holds it (from its headers until its answer is handed over and
//! written) and idle otherwise: before the first request and between keep-alive requests.
//! When every place is taken, the connection idle the longest is shed to make room for a
//! new one, as nginx sheds idle keep-alive connections; when every place is busy, new
//! connections wait (in the kernel's backlog) until one frees. So silent connections can
//! never keep a client that sends a request from being served.

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

/// What a connection is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No request since this instant (its accept, or the end of its last answer).
    Idle(Instant),
    /// This many requests (or one WebSocket) hold it.
    Busy(usize),
    /// Given up to make room for another connection: it closes.
    Shed,
}

/// One connection's state, shared by its place, its requests and its socket.
struct Slot {
    state: watch::Sender<State>,
    /// Output handed to the socket that it has not taken yet (a client not reading).
    unflushed: AtomicBool,
}

/// The places of one listener.
pub struct Places {
    capacity: usize,
    open: Mutex<BTreeMap<u64, Arc<Slot>>>,
    next: AtomicU64,
    freed: Notify,
}

impl Places {
    /// Room for `capacity` connections at once.
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            capacity: capacity.max(1),
            open: Mutex::new(BTreeMap::new()),
            next: AtomicU64::new(0),
            freed: Notify::new(),
        })
    }

    /// A place for a connection just accepted: a free one, else the place of the connection
    /// idle the longest (which is shed), else the first to be freed.
    pub async fn admit(self: &Arc<Self>) -> Place {
        loop {
            let freed = self.freed.notified();
            if let Some(place) = self.try_admit() {
                return place;
            }
            freed.await;
        }
    }

    fn try_admit(self: &Arc<Self>) -> Option<Place> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.len() >= self.capacity {
            let shed = shed_longest_idle(&open)?;
            open.remove(&shed);
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            state: watch::Sender::new(State::Idle(Instant::now())),
            unflushed: AtomicBool::new(false),
        });
        open.insert(id, slot.clone());
        Some(Place(Arc::new(Held {
            id,
            slot,
            places: self.clone(),
        })))
    }

    fn release(&self, id: u64) {
        let removed = self
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        if removed.is_some() {
            self.freed.notify_one();
        }
    }
}

/// Mark the connection of `open` idle the longest (with nothing left to write) as shed; its
/// id, if there is one.
fn shed_longest_idle(open: &BTreeMap<u64, Arc<Slot>>) -> Option<u64> {
    let mut idle: Vec<(Instant, u64)> = open
        .iter()
        .filter_map(|(id, slot)| match *slot.state.borrow() {
            State::Idle(since) => Some((since, *id)),
            _ => None,
        })
        .collect();
    idle.sort_unstable();
    idle.into_iter().map(|(_, id)| id).find(|id| {
        open.get(id).is_some_and(|slot| {
            !slot.unflushed.load(Ordering::Acquire)
                && slot.state.send_if_modified(|state| match state {
                    State::Idle(_) => {
                        *state = State::Shed;
                        true
                    }
                    _ => false,
                })
        })
    })
}

/// A connection's place, held (by the connection, and by a WebSocket it became) until the
/// last holder drops it.
#[derive(Clone)]
pub struct Place(Arc<Held>);

struct Held {
    id: u64,
    slot: Arc<Slot>,
    places: Arc<Places>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.places.release(self.id);
    }
}

impl Place {
    /// Hold the connection busy (never shed, never timed out as idle) until the guard drops.
    pub fn busy(&self) -> Busy {
        self.0.slot.state.send_modify(|state| {
            *state = match *state {
                State::Idle(_) => State::Busy(1),
                State::Busy(n) => State::Busy(n + 1),
                State::Shed => State::Shed,
            }
        });
        Busy(self.clone())
    }

    /// The connection's socket, reporting whether output waits in it to the place.
    pub fn watch<S>(&self, socket: S) -> Output<S> {
        Output {
            socket,
            slot: self.0.slot.clone(),
        }
    }

    /// Resolves once the connection is to close: shed for another, or idle for `timeout`
    /// (counted from its accept, or from its last answer once written).
    pub async fn ended(&self, timeout: std::time::Duration) {
        let slot = &self.0.slot;
        let mut state = slot.state.subscribe();
        loop {
            let now = *state.borrow_and_update();
            match now {
                State::Shed => return,
                State::Busy(_) => {
                    if state.changed().await.is_err() {
                        return;
                    }
                }
                State::Idle(since) => {
                    let mut deadline = since + timeout;
                    loop {
                        tokio::select! {
                            () = tokio::time::sleep_until(deadline) => {
                                // An answer still being written is not idle time: the write
                                // timeout bounds it.
                                if !slot.unflushed.load(Ordering::Acquire) {
                                    return;
                                }
                                deadline = Instant::now() + timeout;
                            }
                            changed = state.changed() => {
                                if changed.is_err() {
                                    return;
                                }
                                break;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A request (or a WebSocket) holding its connection busy.
pub struct Busy(Place);

impl Drop for Busy {
    fn drop(&mut self) {
        let held = &self.0.0;
        let idle = held.slot.state.send_if_modified(|state| {
            *state = match *state {
                State::Busy(1) => State::Idle(Instant::now()),
                State::Busy(n) => State::Busy(n.saturating_sub(1)),
                State::Idle(_) | State::Shed => return false,
            };
            matches!(state, State::Idle(_))
        });
        // A connection waiting for a place may take this one's now.
        if idle {
            held.places.freed.notify_one();
        }
    }
}

/// A connection's socket that tells its place whether output waits in it: written but not
/// yet taken by the client.
pub struct Output<S> {
    socket: S,
    slot: Arc<Slot>,
}

impl<S> Output<S> {
    fn note(&self, waiting: bool) {
        self.slot.unflushed.store(waiting, Ordering::Release);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Output<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.socket).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Output<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // Written or not, output waits until a flush completes.
        self.note(true);
        Pin::new(&mut self.socket).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.note(true);
        Pin::new(&mut self.socket).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.socket.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = Pin::new(&mut self.socket).poll_flush(cx);
        if matches!(flushed, Poll::Ready(Ok(()))) {
            self.note(false);
        }
        flushed
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.socket).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_listener_sheds_the_connection_idle_the_longest_and_never_a_busy_one() {
        let places = Places::new(2);
        let (first, second) = (places.admit().await, places.admit().await);
        let first_busy = first.busy();
        // Full: the idle one (the second) makes room, the busy one stays.
        let third = places.admit().await;
        tokio::time::timeout(SECOND, second.ended(HOUR))
            .await
            .expect("the idle connection is shed");
        // Every place busy: a new connection waits until one is idle, which it then takes.
        let third_busy = third.busy();
        let waiting = tokio::spawn({
            let places = places.clone();
            async move { places.admit().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "no place while all are busy");
        drop(third_busy);
        let fourth = tokio::time::timeout(SECOND, waiting)
            .await
            .expect("an idle place is taken")
            .expect("admitted");
        tokio::time::timeout(SECOND, third.ended(HOUR))
            .await
            .expect("the idle one was shed for it");
        let open = places.open.lock().map(|o| o.len()).unwrap_or(0);
        assert_eq!(open, 2);
        drop((first_busy, first, second, third, fourth));
        assert!(places.open.lock().map(|o| o.is_empty()).unwrap_or(false));
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_ends_at_the_timeout_counted_from_its_accept_or_last_answer() {
        let places = Places::new(4);
        let place = places.admit().await;
        let started = Instant::now();
        place.ended(SECOND).await;
        assert_eq!(started.elapsed(), SECOND, "from its accept");
        let busy = place.busy();
        let ended = tokio::spawn({
            let place = place.clone();
            async move { place.ended(SECOND).await }
        });
        tokio::time::sleep(HOUR).await;
        assert!(!ended.is_finished(), "a busy connection is not idle");
        drop(busy);
        let idle_from = Instant::now();
        ended.await.expect("ended");
        assert_eq!(idle_from.elapsed(), SECOND, "from its last answer");
    }

    const SECOND: std::time::Duration = std::time::Duration::from_secs(1);
    const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);
}
