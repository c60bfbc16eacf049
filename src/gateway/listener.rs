//! Serving the connections of the gateway and of the webhook listener, bounded so no client
//! can exhaust them: at most so many connections at once ([`super::places`]: when all are
//! taken, the one idle the longest is shed for a new one; when all are busy, new ones wait in
//! the kernel's backlog), a connection that sends no request within [`HEADER_TIMEOUT`] of its
//! accept (or of its last answer) is closed, output a client leaves unread for
//! [`WRITE_TIMEOUT`] closes its connection, WebSocket upgrades keep their connection's place
//! for their whole life, and a stop lets open connections finish.

use super::places::{Place, Places};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a client may take to send a request's headers, counted from its connection's
/// accept (or from its previous answer, on a kept-alive connection).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long output may wait for a client to take any of it before the connection is closed.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stop waits for open requests to finish before it goes on regardless.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// The kernel's send buffer of each connection, in bytes.
const SEND_BUFFER: usize = 64 * 1024;
/// The pause after `accept` failed (out of file descriptors, say) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serve `router` on `listener`, at most `connections` at once, until `shutdown` resolves;
/// then give the open connections [`STOP_GRACE`] to finish. Requests carry their
/// connection's [`Place`] (a WebSocket handler keeps it) and its peer's address as
/// [`ConnectInfo`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    connections: usize,
    shutdown: impl Future<Output = ()>,
) {
    raise_open_files_limit();
    let places = Places::new(connections);
    let (stopping, tasks) = (CancellationToken::new(), TaskTracker::new());
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let builder = Arc::new(builder);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::debug!("accept failed: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let place = tokio::select! {
            place = places.admit() => place,
            () = &mut shutdown => break,
        };
        // What the kernel holds for a client that does not read stays small: past it, the
        // write timeout takes over.
        let _ = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER);
        let connection = Connection {
            place,
            peer,
            router: router.clone(),
            builder: builder.clone(),
            stopping: stopping.clone(),
        };
        tasks.spawn(connection.serve(stream));
    }
    drop(listener);
    stopping.cancel();
    tasks.close();
    if tokio::time::timeout(STOP_GRACE, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            "connections still open after {} s; stopping anyway",
            STOP_GRACE.as_secs()
        );
    }
}

/// One accepted connection and what serving it takes.
struct Connection {
    place: Place,
    peer: SocketAddr,
    router: Router,
    builder: Arc<http1::Builder>,
    stopping: CancellationToken,
}

impl Connection {
    /// Serve requests on `stream` until the client closes it, it is shed or idle too long,
    /// or a stop finished its current request.
    async fn serve(self, stream: tokio::net::TcpStream) {
        let mut socket = tokio_io_timeout::TimeoutWriter::new(self.place.watch(stream));
        socket.set_timeout(Some(WRITE_TIMEOUT));
        let (place, peer) = (self.place.clone(), self.peer);
        let router = TowerToHyperService::new(self.router);
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            let busy = place.busy();
            request.extensions_mut().insert(place.clone());
            request.extensions_mut().insert(ConnectInfo(peer));
            let answer = hyper::service::Service::call(&router, request);
            async move {
                let response = answer.await?;
                // The connection stays busy until the answer is handed over.
                Ok::<_, std::convert::Infallible>(response.map(|body| {
                    Body::new(body.map_frame(move |frame| {
                        let _held = &busy;
                        frame
                    }))
                }))
            }
        });
        let connection = self
            .builder
            .serve_connection(TokioIo::new(Box::pin(socket)), service)
            .with_upgrades();
        let mut connection = std::pin::pin!(connection);
        let mut stopping = std::pin::pin!(self.stopping.cancelled_owned());
        let mut stop_asked = false;
        let ended = self.place.ended(HEADER_TIMEOUT);
        let mut ended = std::pin::pin!(ended);
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!("connection ended: {e}");
                    }
                    break;
                }
                () = &mut ended => break,
                () = &mut stopping, if !stop_asked => {
                    stop_asked = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Raise this process's soft limit of open files to its hard limit, so the connections a
/// listener holds are bounded by its places, not by a low default.
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a live, writable rlimit for the call to fill in.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0
        || limit.rlim_cur >= limit.rlim_max
    {
        return;
    }
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: `limit` is a valid rlimit read from the kernel, the soft limit not above the
    // hard one.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        tracing::debug!(
            "cannot raise the open files limit: {}",
            std::io::Error::last_os_error()
        );
    }
}
