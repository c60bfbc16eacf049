//! Serving the gateway's connections: at most [`super::MAX_CONNECTIONS`] at once (more wait
//! in the kernel's backlog until one closes), request headers read within [`HEADER_TIMEOUT`]
//! (a client that sends them slowly is cut off), WebSocket upgrades, and a graceful stop that
//! lets open connections finish.

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long a client may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stop waits for open requests to finish before it goes on regardless.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// The kernel's send buffer of each connection, in bytes.
const SEND_BUFFER: usize = 64 * 1024;
/// The pause after `accept` failed (out of file descriptors, say) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serve `router` on `listener`, at most `connections` at once, until `shutdown` resolves;
/// then give the open connections [`STOP_GRACE`] to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    connections: usize,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(tokio::sync::Semaphore::new(connections));
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let place = tokio::select! {
            place = open.clone().acquire_owned() => place.ok(),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // What the kernel holds for a client that does not read stays small:
                    // past it, the client's own queues (and their limits) take over.
                    let _ = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER);
                    stream
                }
                Err(e) => {
                    tracing::debug!("accept failed: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let (builder, watcher) = (builder.clone(), graceful.watcher());
        tokio::spawn(async move {
            // The place is held while the connection lives.
            let _place = place;
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!("gateway: connection ended: {e}");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(STOP_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "gateway: connections still open after {} s; stopping anyway",
            STOP_GRACE.as_secs()
        );
    }
}
