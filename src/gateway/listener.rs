//! The gateway's listener: a bounded number of connections at once.

use std::sync::Arc;

/// A listener that serves at most [`super::MAX_CONNECTIONS`] connections at once: past them it stops
/// accepting until one closes.
pub(super) struct Bounded {
    listener: tokio::net::TcpListener,
    open: Arc<tokio::sync::Semaphore>,
}

/// A connection holding its place among the [`super::MAX_CONNECTIONS`].
pub(super) struct Counted {
    stream: tokio::net::TcpStream,
    _place: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Bounded {
    /// `listener`, serving at most `connections` at once.
    pub(super) fn new(listener: tokio::net::TcpListener, connections: usize) -> Self {
        Self {
            listener,
            open: Arc::new(tokio::sync::Semaphore::new(connections)),
        }
    }
}

impl axum::serve::Listener for Bounded {
    type Io = Counted;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Counted, std::net::SocketAddr) {
        // The semaphore is never closed, so a place always comes.
        let place = self.open.clone().acquire_owned().await.ok();
        let (stream, addr) = axum::serve::Listener::accept(&mut self.listener).await;
        (
            Counted {
                stream,
                _place: place,
            },
            addr,
        )
    }

    fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }
}

impl tokio::io::AsyncRead for Counted {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Counted {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
