//! Transparent mode's view of a connection: where a redirected connection was
//! going, and a stream that gives back the bytes read to find out what it is.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The destination a NAT redirect (`iptables … -j REDIRECT`, nftables
/// `redirect`) took this connection from, as the kernel's connection tracking
/// remembers it (`SO_ORIGINAL_DST`). `None` when it was not redirected: then
/// the address it reached is where it was going (TPROXY, or a client that
/// connected here directly).
#[cfg(target_os = "linux")]
pub fn original_dst<S: std::os::fd::AsFd>(sock: &S, local: SocketAddr) -> Option<SocketAddr> {
    let sock = socket2::SockRef::from(sock);
    let found = match local {
        SocketAddr::V4(_) => sock.original_dst_v4(),
        SocketAddr::V6(_) => sock.original_dst_v6(),
    };
    // Conntrack answers for a connection that was not redirected too, with
    // the address it reached: the same as having no answer.
    found
        .ok()
        .and_then(|a| a.as_socket())
        .filter(|&a| a != local)
}

#[cfg(not(target_os = "linux"))]
pub fn original_dst<S>(_sock: &S, _local: SocketAddr) -> Option<SocketAddr> {
    None
}

/// A stream whose first bytes were already read (to see what it carries):
/// they are read again first, then the stream itself.
pub struct Prefixed<IO> {
    prefix: Vec<u8>,
    at: usize,
    io: IO,
}

impl<IO> Prefixed<IO> {
    pub fn new(prefix: Vec<u8>, io: IO) -> Self {
        Prefixed { prefix, at: 0, io }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Prefixed<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(rest) = this.prefix.get(this.at..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(buf.remaining());
            buf.put_slice(rest.get(..n).unwrap_or(&[]));
            this.at += n;
            if this.at == this.prefix.len() {
                this.prefix = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Prefixed<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn prefixed_reads_its_prefix_then_the_stream() {
        let (mut a, b) = tokio::io::duplex(64);
        a.write_all(b" world").await.unwrap();
        drop(a);
        let mut p = Prefixed::new(b"hello".to_vec(), b);
        let mut out = String::new();
        p.read_to_string(&mut out).await.unwrap();
        assert_eq!(out, "hello world");
    }

    /// A connection that was not redirected has no other destination.
    #[tokio::test]
    async fn a_direct_connection_has_no_original_destination() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let _c = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        assert_eq!(original_dst(&s, s.local_addr().unwrap()), None);
    }

    /// The real thing: in a network namespace of its own (made by this
    /// test's thread, so nothing outside it changes), iptables redirects a
    /// connection for 192.0.2.10:443 to a listener on loopback, which finds
    /// where it was going. Needs root and iptables (`.ci/run` installs it).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_redirected_connection_knows_where_it_was_going() {
        let found = std::thread::spawn(|| {
            // SAFETY: unshare(2) with CLONE_NEWNET moves only this thread.
            let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "unshare: {}", io::Error::last_os_error());
            let run = |line: &str| {
                let args: Vec<&str> = line.split_whitespace().collect();
                let out = std::process::Command::new(args[0])
                    .args(&args[1..])
                    .output()
                    .unwrap_or_else(|e| panic!("{}: {e}", args[0]));
                assert!(
                    out.status.success(),
                    "{line}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            };
            run("ip link set lo up");
            run("ip addr add 192.0.2.1/24 dev lo");
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = l.local_addr().unwrap().port();
            run(&format!(
                "iptables -t nat -A OUTPUT -p tcp -d 192.0.2.10 --dport 443 \
                 -j REDIRECT --to-ports {port}"
            ));
            let _c = std::net::TcpStream::connect("192.0.2.10:443").unwrap();
            let (s, _) = l.accept().unwrap();
            original_dst(&s, s.local_addr().unwrap())
        })
        .join()
        .unwrap();
        assert_eq!(found, Some("192.0.2.10:443".parse().unwrap()));
    }
}
