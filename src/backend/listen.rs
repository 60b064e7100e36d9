//! Accepting connections within [`Connections`]: at most `per_port` open on
//! one port (the next waits in the kernel's queue until one closes), and
//! each closed once it moves no byte for `idle_timeout`, so clients that
//! stall can neither pile up until the file descriptors run out nor hold a
//! place forever.

use std::{
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore},
    time::{Instant, Sleep},
};

use tonic::transport::server::Connected;

use super::limits::Connections;

/// How long to wait before accepting again after the process ran out of
/// file descriptors (or another resource) for a new connection.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

pub(super) struct Listener {
    inner: TcpListener,
    places: Arc<Semaphore>,
    idle_timeout: Duration,
}

impl Listener {
    pub(super) fn new(inner: TcpListener, limits: &Connections) -> Self {
        Self {
            inner,
            places: Arc::new(Semaphore::new(limits.per_port)),
            idle_timeout: limits.idle_timeout,
        }
    }

    /// The next connection, once fewer than `per_port` are open. Never
    /// fails: a connection reset before it was accepted is skipped, and
    /// running out of file descriptors waits for some to be freed.
    pub(super) async fn accept(&self) -> Guarded {
        let place = self
            .places
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        loop {
            match self.inner.accept().await {
                Ok((stream, _)) => {
                    // Without it each response waits for the client's delayed ACK.
                    let _ = stream.set_nodelay(true);
                    return Guarded::new(stream, place, self.idle_timeout);
                }
                Err(error) if is_per_connection(&error) => continue,
                Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
            }
        }
    }
}

/// Errors about the one connection being accepted, not the listener.
fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// An accepted connection holding its place on the port, closed (its reads
/// and writes fail with `TimedOut`) after `idle_timeout` without progress.
pub(super) struct Guarded {
    stream: TcpStream,
    _place: OwnedSemaphorePermit,
    idle_timeout: Duration,
    last_progress: Instant,
    /// Armed for `last_progress + idle_timeout` or earlier; re-armed when it
    /// fires early, so progress costs no timer update.
    deadline: Pin<Box<Sleep>>,
}

impl Guarded {
    fn new(stream: TcpStream, place: OwnedSemaphorePermit, idle_timeout: Duration) -> Self {
        let now = Instant::now();
        Self {
            stream,
            _place: place,
            idle_timeout,
            last_progress: now,
            deadline: Box::pin(tokio::time::sleep_until(now + idle_timeout)),
        }
    }

    /// Called while the connection waits: `Ready(Err)` once it has waited
    /// `idle_timeout` since it last moved a byte.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        loop {
            ready!(self.deadline.as_mut().poll(cx));
            let due = self.last_progress + self.idle_timeout;
            if Instant::now() >= due {
                return Poll::Ready(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the connection was idle too long",
                ));
            }
            self.deadline.as_mut().reset(due);
        }
    }

    /// Passes on an I/O result, noting progress, or, while it is pending,
    /// whether the wait has gone on too long.
    fn after<T>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<T>>,
        moved: bool,
    ) -> Poll<io::Result<T>> {
        match result {
            Poll::Ready(result) => {
                if moved {
                    self.last_progress = Instant::now();
                }
                Poll::Ready(result)
            }
            Poll::Pending => self.poll_idle(cx).map(Err),
        }
    }
}

impl Connected for Guarded {
    type ConnectInfo = <TcpStream as Connected>::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.connect_info()
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.stream).poll_read(cx, buf);
        let moved = buf.filled().len() > before;
        this.after(cx, result, moved)
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write(cx, data);
        let moved = matches!(result, Poll::Ready(Ok(n)) if n > 0);
        this.after(cx, result, moved)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write_vectored(cx, data);
        let moved = matches!(result, Poll::Ready(Ok(n)) if n > 0);
        this.after(cx, result, moved)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
