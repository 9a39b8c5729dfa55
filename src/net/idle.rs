//! Idle timeouts for any byte stream: a wrapper that notes when bytes last moved,
//! and a watchdog future that completes once none have moved for too long.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64
}

/// Shared "last activity" clock for one connection (both directions), and the
/// bytes that moved through the stream it was given to (read, written).
#[derive(Clone, Debug)]
pub struct Activity(Arc<(AtomicU64, AtomicU64, AtomicU64)>);

impl Default for Activity {
    fn default() -> Self {
        Activity(Arc::new((
            AtomicU64::new(now_ms()),
            AtomicU64::new(0),
            AtomicU64::new(0),
        )))
    }
}

impl Activity {
    pub fn touch(&self) {
        self.0 .0.store(now_ms(), Ordering::Relaxed);
    }

    /// Bytes read from and written to the tracked stream so far.
    pub fn bytes(&self) -> (u64, u64) {
        (
            self.0 .1.load(Ordering::Relaxed),
            self.0 .2.load(Ordering::Relaxed),
        )
    }

    /// Completes once nothing has moved for `timeout`.
    pub async fn idle(&self, timeout: Duration) {
        let limit = timeout.as_millis() as u64;
        loop {
            let since = now_ms().saturating_sub(self.0 .0.load(Ordering::Relaxed));
            if since >= limit {
                return;
            }
            tokio::time::sleep(Duration::from_millis(limit - since)).await;
        }
    }
}

/// A stream that touches its `Activity` whenever bytes move.
#[derive(Debug)]
pub struct Tracked<T> {
    inner: T,
    activity: Activity,
}

impl<T> Tracked<T> {
    pub fn new(inner: T, activity: Activity) -> Self {
        Tracked { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Tracked<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        if matches!(r, Poll::Ready(Ok(()))) && n > 0 {
            self.activity.touch();
            self.activity.0 .1.fetch_add(n as u64, Ordering::Relaxed);
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tracked<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            if n > 0 {
                self.activity.touch();
                self.activity.0 .2.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = r {
            if n > 0 {
                self.activity.touch();
                self.activity.0 .2.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn idle_fires_only_after_quiet() {
        let a = Activity::default();
        let idle = a.idle(Duration::from_secs(5));
        tokio::pin!(idle);
        // Not idle yet at 3s.
        assert!(tokio::time::timeout(Duration::from_secs(3), &mut idle)
            .await
            .is_err());
        // It has fired by 5s of quiet (paused time advances instantly).
        tokio::time::timeout(Duration::from_secs(3), &mut idle)
            .await
            .expect("idle after 5s of quiet");
    }
}
